"""Uploads cut for real (a TCP proxy before gunicorn) and resumed: one complete envelope each.

Not two, and not a partial one: neither a chunk cut mid-way, nor the lost answer
to the last chunk, nor a run that gives up and is resumed later, leaves the
server with anything but exactly the envelope the device sealed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import config_for
from app.demo import DEMO_PASSPHRASE, make_demo_keyring
from app.models import Item, Upload
from crypto import (
    Fingerprint,
    KdfParams,
    KeyFile,
    Metadata,
    SignedManifest,
    SourceKeys,
    derive_source_keys,
    generate_codename,
    open_bytes,
)
from crypto.vault import Vault
from submit import transport, uploads
from submit.errors import ServerError
from submit.protocol import Api
from submit.state import State
from submit.trust import KeyringDocument, establish
from submit.uploads import disk_size, seal_submission, upload_pending
from tests.app.live import demo_instance, live_server
from tests.app.support import db_session, demo_authorities, envelope_files, staging_files
from tests.submit.support import CuttingProxy, Device, pending_envelope

CHUNK = 256 * 1024


@dataclass
class Live:
    """gunicorn serving a demo instance, behind a proxy that can cut connections."""

    instance: Path
    proxy: CuttingProxy

    @property
    def pins(self) -> frozenset[Fingerprint]:
        return frozenset(k.verify_key.fingerprint for k in demo_authorities(self.instance))

    def counts(self) -> tuple[int, int]:
        """Items stored and uploads unfinished, as the server's database says."""
        app = create_app(config_for(self.instance))
        with db_session(app) as session:
            items = session.scalar(select(func.count()).select_from(Item)) or 0
            uploads = session.scalar(select(func.count()).select_from(Upload)) or 0
        return items, uploads


@pytest.fixture
def live(tmp_path: Path, _close_engines: None) -> Iterator[Live]:
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=1) as url:
        proxy = CuttingProxy(url)
        try:
            yield Live(instance, proxy)
        finally:
            proxy.close()


@dataclass
class Trip:
    """A progress sink that trips the proxy once the upload passes a byte count."""

    at: int
    trip: Callable[[], None]
    seen: list[int] = field(default_factory=list)
    tripped: bool = False

    def start(self, total: int, done: int) -> None:
        self.seen.append(done)

    def update(self, done: int) -> None:
        self.seen.append(done)
        if not self.tripped and done > self.at:
            self.tripped = True
            self.trip()

    def waiting(self, seconds: int) -> None:
        pass


def sealed_device(live: Live, tmp_path: Path, size: int) -> tuple[Api, State, bytes, SourceKeys]:
    """A device that verified the keyring, has an account, and sealed one file: ready to upload."""
    state = State(tmp_path / "state", vault=Vault.derive("c", bytes(16), KdfParams.TESTING))
    api = Api(transport.session(None), live.proxy.url, timeout=(5.0, 30.0))
    doc = KeyringDocument.parse(api.keyring())
    verified = establish(
        state, doc, live.pins, dt.date.today(), lambda _fps: None, host=None, allow_test_kdf=True
    )
    keys = derive_source_keys(generate_codename(), verified.salt, verified.kdf)
    assert api.ensure_account(keys) is True
    evidence = tmp_path / "video.mp4"
    evidence.write_bytes(secrets.token_bytes(size))
    recipients = verified.recipients(dt.date.today())  # the demo's format 3: this week's subkeys
    pending = seal_submission(
        state,
        verified.manifest,
        None,
        [evidence],
        keys=keys,
        recipients=recipients,
        keep_metadata=True,  # random bytes: no file this client could clean
    )
    (item,) = pending.items
    envelope = pending_envelope(state, item)
    assert len(envelope) > 3 * CHUNK
    return api, state, envelope, keys


def assert_one_envelope(live: Live, envelope: bytes, item: str) -> None:
    stored = envelope_files(live.instance)
    assert [p.stem for p in stored] == [item]
    assert stored[0].read_bytes() == envelope
    assert live.counts() == (1, 0)
    assert staging_files(live.instance) == []


def test_a_chunk_cut_midway_is_resumed_from_the_servers_offset_and_stored_once(
    live: Live, tmp_path: Path
) -> None:
    api, state, envelope, keys = sealed_device(live, tmp_path, 900_000)
    # Early in the third chunk, the circuit drops after another quarter chunk.
    sink = Trip(2 * CHUNK, lambda: live.proxy.cut_after(CHUNK // 4))
    (item,) = upload_pending(api, keys, state, progress=sink, chunk_bytes=CHUNK, retries=3)
    assert live.proxy.cuts == 1
    # Progress went back to where the server said the upload stood: two whole chunks.
    tripped = sink.seen.index(next(d for d in sink.seen if d > 2 * CHUNK))
    assert 2 * CHUNK in sink.seen[tripped + 1 :]
    assert sink.seen[-1] == len(envelope)
    assert_one_envelope(live, envelope, item)
    assert state.pending is None
    assert not state.pending_dir.exists()


def test_a_lost_answer_to_the_last_chunk_stores_one_envelope_not_two(
    live: Live, tmp_path: Path
) -> None:
    api, state, envelope, keys = sealed_device(live, tmp_path, 900_000)
    last = (len(envelope) - 1) // CHUNK * CHUNK
    sink = Trip(last, live.proxy.drop_next_answer)
    (item,) = upload_pending(api, keys, state, progress=sink, chunk_bytes=CHUNK, retries=3)
    assert live.proxy.cuts == 1
    assert_one_envelope(live, envelope, item)


def test_a_run_that_gives_up_is_resumed_by_the_next_and_stores_one_envelope(
    live: Live, tmp_path: Path
) -> None:
    pins = [str(fp) for fp in live.pins]
    device = Device(tmp_path / "state", live.proxy.url, pins)
    codename = device.new_codename(tmp_path)
    evidence = tmp_path / "ledger.pdf"
    evidence.write_bytes(secrets.token_bytes(900_000))
    # The network goes away 300 kB into the upload, and stays away past every retry.
    live.proxy.cut_after(300_000, stay_down=True)
    cut = device.run(
        "send", "--keep-metadata", "--retries", "2", "--codename-file", str(codename), str(evidence)
    )
    assert cut.exit_code == 1, cut.output
    assert "raazdar-submit: error: the upload was interrupted" in cut.stderr
    assert "raazdar-submit: hint: run `raazdar-submit send --resume`" in cut.stderr
    assert envelope_files(live.instance) == []
    assert live.counts() == (0, 1)
    state = device.state_of(codename)
    assert state.pending is not None
    (pending,) = state.pending.items
    assert pending.upload is not None
    envelope = pending_envelope(state, pending)

    # Sending something new now would leave the first one behind: refused.
    again = device.run("send", "-m", "more", "--codename-file", str(codename))
    assert again.exit_code == 1
    assert "an earlier upload is unfinished" in again.stderr

    live.proxy.down = False
    # Another codename sees no unfinished upload here: it cannot resume this one.
    (tmp_path / "other").mkdir()
    other = device.new_codename(tmp_path / "other")
    wrong = device.run("send", "--resume", "--codename-file", str(other))
    assert wrong.exit_code == 1
    assert "no unfinished upload to resume" in wrong.stderr
    assert device.state_of(codename).pending is not None

    resumed = device.run("send", "--resume", "--codename-file", str(codename))
    assert resumed.exit_code == 0, resumed.output
    assert "Sent 1 file(s)" in resumed.stdout
    assert_one_envelope(live, envelope, pending.upload)
    assert device.state_of(codename).pending is None
    assert [p.suffix for p in device.state.iterdir() if p.suffix == ".pending"] == []


def _sealed_and_opened(tmp_path: Path) -> tuple[SignedManifest, SourceKeys, list[Metadata]]:
    """Seal a report and one file to the demo keyring as the client does, and open each
    envelope with the demo reviewer's key: the keyring, the source's keys, the metadata."""
    signed = make_demo_keyring(tmp_path / "demo", dt.date.today(), kdf=KdfParams.TESTING)
    pair = KeyFile.from_bytes((tmp_path / "demo" / "reviewer.key").read_bytes()).unlock(
        DEMO_PASSPHRASE
    )
    assert pair.encryption is not None
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    evidence = tmp_path / "ledger.txt"
    evidence.write_bytes(b"names and sums")
    state = State(tmp_path / "state")
    pending = seal_submission(state, signed.manifest, b"{}", [evidence], keys=keys)
    assert [i.kind for i in pending.items] == ["report", "file"]
    envelopes = [pending_envelope(state, item) for item in pending.items]
    return signed, keys, [open_bytes(e, [pair.encryption])[1].metadata for e in envelopes]


def test_every_sealed_envelope_binds_the_sources_reply_key(tmp_path: Path) -> None:
    # What the review workstation checks an export's key for this source against.
    _, keys, opened = _sealed_and_opened(tmp_path)
    for metadata in opened:
        assert metadata.source is not None
        assert metadata.source.reply_key == keys.public_key
        assert metadata.source.signer == keys.verify_key
        metadata.source.verify()


def test_every_sealed_envelope_names_the_keyring_it_was_sealed_to(tmp_path: Path) -> None:
    # What the review workstation compares with the keyring of that version it installed,
    # so that a server showing this device a fork of the keyring is seen (PROTOCOL §5.6.2).
    signed, _, opened = _sealed_and_opened(tmp_path)
    for metadata in opened:
        assert metadata.keyring is not None
        assert (metadata.keyring.version, metadata.keyring.digest) == (
            signed.manifest.version,
            signed.manifest.digest(),
        )


def test_a_chunk_the_server_cut_off_as_too_slow_is_sent_on_from_its_offset(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker answers 408 to a chunk that fell behind 500 B/s (a phone losing its
    signal midway) and keeps what came: the run stopped there with an error, where a
    dropped circuit is retried. It asks where the upload stands and goes on."""
    api, state, envelope, keys = sealed_device(live, tmp_path, 900_000)
    monkeypatch.setattr("submit.uploads.RETRY_WAIT", 0.0)
    real, cut = Api.append, list[int]()

    def append(self: Api, *args: Any) -> Any:
        offset = args[2]
        if offset >= 2 * CHUNK and not cut:
            cut.append(offset)
            raise ServerError(408, "too-slow", "the chunk came too slowly")
        return real(self, *args)

    monkeypatch.setattr(Api, "append", append)
    (item,) = upload_pending(api, keys, state, chunk_bytes=CHUNK, retries=3)
    assert cut == [2 * CHUNK]
    assert_one_envelope(live, envelope, item)


def test_a_chunk_the_server_pre_empted_for_another_circuit_is_sent_again_after_its_wait(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood's bodies holding every thread get a source's chunk pre-empted for another
    circuit (503 with Retry-After: 5, app.worker), and a signed request past its circuit's
    pace is told "busy" the same way (app.circuits): the run stopped there with an error, and
    a flood doing it once a send ended every source's. It waits as told and goes on."""
    api, state, envelope, keys = sealed_device(live, tmp_path, 900_000)
    real, cut = Api.append, list[int]()

    def append(self: Api, *args: Any) -> Any:
        offset = args[2]
        if offset >= CHUNK and len(cut) < 2:
            cut.append(offset)
            raise ServerError(503, "unavailable", "the server answered 503", retry_after=0)
        return real(self, *args)

    monkeypatch.setattr(Api, "append", append)
    (item,) = upload_pending(api, keys, state, chunk_bytes=CHUNK, retries=3)
    assert cut == [CHUNK, CHUNK]
    assert_one_envelope(live, envelope, item)


def test_an_envelope_on_the_disk_weighs_its_class_and_no_more_than_64_mib_over() -> None:
    mib = 1024 * 1024
    sizes = [disk_size(n) for n in (1, 5000, mib, mib + 1, 3 * mib)]
    assert sizes == [mib, mib, mib, 2 * mib, 4 * mib]
    assert disk_size(64 * mib) == 64 * mib
    assert disk_size(300 * mib) == 320 * mib


class _Clock:
    """The time module as `submit.uploads` sees it, its waits recorded, not waited."""

    def __init__(self, sleep: Callable[[float], object]) -> None:
        self.sleep = sleep

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_a_start_the_server_paced_waits_for_its_turn_and_goes_on(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server paces an account's uploads by their bytes (two upload limits at once, then
    one a minute: 503 "busy" with a Retry-After of up to a minute or so). A report of three
    large files ended at its third with the --resume hint, as any wait over 10 s did; it
    now waits the time the server said, saying so, and goes on."""
    api, state, envelope, keys = sealed_device(live, tmp_path, 900_000)
    real, told, slept = Api.start_upload, list[int](), list[float]()

    def start_upload(self: Api, *args: Any, **kwargs: Any) -> Any:
        if not told:
            told.append(60)
            raise ServerError(503, "busy", "start this one later", retry_after=60)
        return real(self, *args, **kwargs)

    class Sink:
        def __init__(self) -> None:
            self.waits: list[int] = []

        def start(self, total: int, done: int) -> None:
            pass

        def update(self, done: int) -> None:
            pass

        def waiting(self, seconds: int) -> None:
            self.waits.append(seconds)

    monkeypatch.setattr(Api, "start_upload", start_upload)
    monkeypatch.setattr(uploads, "time", _Clock(slept.append))
    sink = Sink()
    (item,) = upload_pending(api, keys, state, chunk_bytes=CHUNK, progress=sink)
    assert (told, sink.waits, slept) == ([60], [60], [60])
    assert_one_envelope(live, envelope, item)


def test_a_busy_longer_than_a_turn_still_ends_the_send_with_the_resume_hint(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full store's "come back in an hour" is no turn to wait for on the spot."""
    api, state, _envelope, keys = sealed_device(live, tmp_path, 900_000)

    def start_upload(self: Api, *args: Any, **kwargs: Any) -> Any:
        raise ServerError(503, "busy", "later", retry_after=3600)

    monkeypatch.setattr(Api, "start_upload", start_upload)
    monkeypatch.setattr(uploads, "time", _Clock(lambda _s: pytest.fail("waited an hour")))
    with pytest.raises(ServerError) as refused:
        upload_pending(api, keys, state, chunk_bytes=CHUNK)
    assert refused.value.hint == uploads.RESUME_HINT
