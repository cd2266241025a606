"""Resumable uploads: cut and resumed, one envelope stored whole or nothing at all."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.instance import InstancePaths
from app.models import Item, Upload
from app.operations.retention import purge
from app.services import resumable
from app.store import EnvelopeStore
from crypto import HybridPrivateKey, HybridPublicKey, Metadata, PrivateKey, open_bytes, seal_bytes
from tests.app.api.test_api import assert_error
from tests.app.api_support import API, ApiClient, item_hash
from tests.app.source.test_account_pacing import _a_late_read, _report_page
from tests.app.source.test_source_flow import MESSAGE
from tests.app.support import (
    Visitor,
    db_session,
    envelope_files,
    reviewer_openers,
    staging_files,
)

CHUNK = 256 * 1024


def counts(app: Flask) -> tuple[int, int]:
    """How many items and unfinished uploads the database holds."""
    with db_session(app) as session:
        items = session.scalar(select(func.count()).select_from(Item)) or 0
        uploads = session.scalar(select(func.count()).select_from(Upload)) or 0
        return items, uploads


def start(device: ApiClient, envelope: bytes, **overrides: Any) -> str:
    response = device.start_upload(envelope, **overrides)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["offset"] == 0
    upload: str = response.get_json()["upload"]
    assert response.headers["Location"].endswith(f"/uploads/{upload}")
    return upload


def cut_patch(device: ApiClient, upload: str, offset: int, chunk: bytes, arrived: int) -> Any:
    """A PATCH whose connection drops after `arrived` bytes of its chunk."""
    path = f"{API}/uploads/{upload}"
    headers = device.headers("PATCH", path, chunk, offset=offset)
    response = device.client.open(
        path,
        method="PATCH",
        input_stream=io.BytesIO(chunk[:arrived]),
        content_type=resumable.OFFSET_CONTENT_TYPE,
        headers=headers,
        # What the server was promised, not what reached it.
        environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
    )
    device.challenge = response.headers.get("Raazdar-Next-Challenge")
    return response


def assert_one_envelope(app: Flask, instance: Path, envelope: bytes, item: str) -> None:
    """Exactly one envelope is stored, whole, under the item's id, and nothing is left over."""
    assert [p.stem for p in envelope_files(instance)] == [item]
    assert envelope_files(instance)[0].read_bytes() == envelope
    assert counts(app) == (1, 0)
    assert staging_files(instance) == []
    content, opened = open_bytes(envelope, reviewer_openers(instance))
    assert opened.metadata.filename == "video.mp4"
    assert len(content) == 900_000


def test_an_upload_cut_midway_and_resumed_stores_one_complete_envelope(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    offset = 0
    for _ in range(2):
        response = device.patch(upload, offset, envelope[offset : offset + CHUNK])
        assert response.status_code == 200
        assert response.get_json()["complete"] is False
        offset = response.get_json()["offset"]
    # The circuit drops in the middle of the third chunk: none of it counts.
    dropped = cut_patch(device, upload, offset, envelope[offset : offset + CHUNK], CHUNK // 2)
    assert_error(dropped, 400)
    head = device.offset(upload)
    assert head.status_code == 200
    assert int(head.headers["Upload-Offset"]) == offset == 2 * CHUNK
    assert int(head.headers["Upload-Length"]) == len(envelope)
    assert counts(app) == (0, 1)
    assert envelope_files(instance) == []
    # Resume from where the server says, with the rest in one chunk.
    rest = device.patch(upload, offset, envelope[offset:])
    assert rest.status_code == 200, rest.get_data(as_text=True)
    progress = rest.get_json()
    assert progress == {
        "offset": len(envelope),
        "size": len(envelope),
        "complete": True,
        "item": upload,
    }
    assert_one_envelope(app, instance, envelope, upload)


def test_the_last_chunk_sent_again_after_a_lost_answer_stores_nothing_more(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    item = device.upload(envelope, kind="file", chunk=CHUNK)
    last = (len(envelope) - 1) // CHUNK * CHUNK
    again = device.patch(item, last, envelope[last:])
    assert_error(again, 409, "offset-mismatch")
    assert again.headers["Upload-Offset"] == str(len(envelope))
    head = device.offset(item)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(envelope))
    assert_one_envelope(app, instance, envelope, item)


def test_a_chunk_at_the_wrong_offset_is_a_conflict_and_changes_nothing(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    for wrong in (0, CHUNK + 1, 2 * CHUNK):
        response = device.patch(upload, wrong, envelope[wrong : wrong + CHUNK])
        assert_error(response, 409, "offset-mismatch")
        assert response.headers["Upload-Offset"] == str(CHUNK)
        assert response.headers["Raazdar-Next-Challenge"]
    staged = InstancePaths(instance).staging / f"{upload}.upload"
    assert staged.read_bytes() == envelope[:CHUNK]


def test_a_wrong_hash_is_refused_and_nothing_is_stored(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    tampered = bytearray(envelope)
    tampered[-100] ^= 1
    started = device.send_json(
        "POST",
        f"{API}/uploads",
        {
            "size": len(envelope),
            "hash": item_hash(envelope),
            "kind": "file",
            "submission": secrets.token_hex(16),
        },
    )
    upload = started.get_json()["upload"]
    response = device.patch(upload, 0, bytes(tampered))
    assert_error(response, 422, "hash-mismatch")
    assert counts(app) == (0, 0)
    assert envelope_files(instance) == []
    assert staging_files(instance) == []
    assert device.offset(upload).status_code == 404


def test_an_envelope_to_other_recipients_is_refused(
    device: ApiClient, app: Flask, instance: Path
) -> None:
    # The same number and kind of recipients (this week's subkeys under the demo's
    # format 3), so its size passes: only its header tells.
    (ours,) = device.sealing_keys()
    stranger = (
        HybridPrivateKey.generate() if isinstance(ours, HybridPublicKey) else PrivateKey.generate()
    ).public_key
    envelope = seal_bytes(b"to the wrong people", [stranger], Metadata("report"))
    upload = start(device, envelope)
    assert_error(device.patch(upload, 0, envelope), 422, "wrong-recipients")
    assert counts(app) == (0, 0)
    assert envelope_files(instance) == []
    assert staging_files(instance) == []


def test_something_not_an_envelope_is_refused(device: ApiClient, app: Flask) -> None:
    real = device.seal(b"x", Metadata("report"))
    junk = secrets.token_bytes(len(real))
    upload = start(device, junk)
    assert_error(device.patch(upload, 0, junk), 422, "not-an-envelope")
    assert counts(app) == (0, 0)


def test_an_oversized_envelope_is_refused_before_a_byte_arrives(
    device: ApiClient, app: Flask
) -> None:
    with app.app_context(), db_session(app) as session:
        from app.settings import set_setting

        set_setting(session, "upload_limit_mib", 1)
        session.commit()
    envelope = device.seal(secrets.token_bytes(1024 * 1024), Metadata("file"))
    assert_error(device.start_upload(envelope), 413, "too-large")
    assert counts(app) == (0, 0)


def test_a_chunk_over_the_limit_or_past_the_size_is_refused(
    device: ApiClient, envelope: bytes, instance: Path
) -> None:
    upload = start(device, envelope)
    too_big = bytes(resumable.CHUNK_LIMIT + 1)
    assert_error(device.patch(upload, 0, too_big), 413)
    assert_error(device.patch(upload, 0, envelope + b"extra"), 413, "too-large")
    staged = InstancePaths(instance).staging / f"{upload}.upload"
    assert staged.stat().st_size == 0


@pytest.mark.parametrize(
    "change",
    [
        {"size": 5000},
        {"size": 0},
        {"size": "4335"},
        {"size": True},
        {"hash": "AAAA"},
        {"kind": "reply"},
        {"kind": {}},  # unhashable: found by schemathesis as a 500
        {"kind": ["file"]},
        {"submission": "XYZ"},
        {"submission": None},
        {"extra": 1},
    ],
)
def test_a_malformed_declaration_is_a_bad_request(
    device: ApiClient, envelope: bytes, change: dict[str, Any], app: Flask
) -> None:
    body = {
        "size": len(envelope),
        "hash": item_hash(envelope),
        "kind": "file",
        "submission": secrets.token_hex(16),
        **change,
    }
    assert_error(device.send_json("POST", f"{API}/uploads", body), 400, "bad-request")
    assert counts(app) == (0, 0)


def test_another_source_cannot_touch_an_upload(
    device: ApiClient, envelope: bytes, client: FlaskClient, instance: Path
) -> None:
    upload = start(device, envelope)
    other = ApiClient(client, device.pinned)
    assert other.register().status_code == 201
    assert_error(other.patch(upload, 0, envelope[:CHUNK]), 404, "not-found")
    assert other.offset(upload).status_code == 404
    staged = InstancePaths(instance).staging / f"{upload}.upload"
    assert staged.stat().st_size == 0


def test_a_chunk_needs_its_content_type_and_offset(device: ApiClient, envelope: bytes) -> None:
    upload = start(device, envelope)
    path = f"{API}/uploads/{upload}"
    wrong_type = device.send(
        "PATCH", path, envelope[:10], content_type="application/json", offset=0
    )
    assert_error(wrong_type, 415)
    no_offset = device.send(
        "PATCH", path, envelope[:10], content_type=resumable.OFFSET_CONTENT_TYPE
    )
    assert_error(no_offset, 400)


def test_staged_uploads_carry_no_times(device: ApiClient, envelope: bytes, instance: Path) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    staged = InstancePaths(instance).staging / f"{upload}.upload"
    assert staged.stat().st_mtime == 0
    assert staged.stat().st_atime == 0
    assert InstancePaths(instance).staging.stat().st_mtime == 0


def test_idle_uploads_expire_after_a_day(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    old = start(device, envelope)
    with db_session(app) as session:
        session.execute(
            update(Upload).values(active_day=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2))
        )
        session.commit()
    fresh = start(device, envelope)  # starting an upload sweeps the stale ones
    assert counts(app) == (0, 1)
    assert [p.name for p in staging_files(instance)] == [f"{fresh}.upload"]
    assert device.offset(old).status_code == 404


def test_an_upload_whose_staged_file_vanished_starts_again(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    os.unlink(InstancePaths(instance).staging / f"{upload}.upload")
    assert_error(device.patch(upload, 0, envelope[:CHUNK]), 404, "not-found")
    assert counts(app) == (0, 0)


def test_no_keyring_means_no_upload(
    device: ApiClient, envelope: bytes, instance: Path, app: Flask
) -> None:
    from tests.app.support import remove_keyring

    remove_keyring(instance)
    assert_error(device.start_upload(envelope), 503)
    assert counts(app) == (0, 0)


def test_items_of_one_submission_share_its_id(device: ApiClient, app: Flask) -> None:
    items = device.submit("a report", [("one.txt", b"1"), ("two.txt", b"2")])
    with db_session(app) as session:
        rows = session.execute(select(Item).where(Item.id.in_(items))).scalars().all()
        assert len({r.submission_id for r in rows}) == 1
        assert sorted(r.kind for r in rows) == ["file", "file", "report"]


def test_a_chunk_of_several_mebibytes_is_taken_whole(
    device: ApiClient, app: Flask, instance: Path
) -> None:
    # Above the 1 MiB every other body is held to, below the API's 8 MiB per chunk.
    envelope = device.seal(secrets.token_bytes(3 * 1024 * 1024), Metadata("file"))
    item = device.upload(envelope, kind="file", chunk=len(envelope))
    assert [p.stem for p in envelope_files(instance)] == [item]
    assert counts(app) == (1, 0)


def test_a_chunk_for_an_id_no_upload_can_have_is_not_found(
    device: ApiClient, envelope: bytes
) -> None:
    for bad in ("0", "ZZ" * 16, "a" * 33):
        assert_error(device.patch(bad, 0, envelope[:10]), 404)


class _Counted(io.BytesIO):
    """A request body that counts what the server reads of it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self.taken += count
        return count


@pytest.mark.parametrize("who", ["no account", "another account", "no such upload"])
def test_a_chunk_its_signer_could_not_append_is_refused_before_a_byte_is_read(
    device: ApiClient, envelope: bytes, client: FlaskClient, instance: Path, who: str
) -> None:
    """The signature covers the body, so the body is read before it is checked: only for
    an account that can sign and an upload of its own, or anyone could have the server
    take in and write 8 MiB per request, a challenge being all they need."""
    upload = start(device, envelope)
    other = ApiClient(client, device.pinned)
    if who != "no account":
        assert other.register().status_code == 201
    target = upload if who != "no such upload" else secrets.token_hex(16)
    if who == "no such upload":
        other = device
    path, chunk = f"{API}/uploads/{target}", envelope[:CHUNK]
    tag = secrets.token_bytes(32) if who == "no account" else None
    body = _Counted(chunk)
    response = client.open(
        path,
        method="PATCH",
        input_stream=body,
        content_type=resumable.OFFSET_CONTENT_TYPE,
        headers=other.headers("PATCH", path, chunk, offset=0, tag=tag),
        environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
    )
    assert response.status_code == 404
    assert body.taken == 0
    assert staging_files(instance) == [InstancePaths(instance).staging / f"{upload}.upload"]


def test_an_account_holds_a_bounded_number_of_unfinished_uploads(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    """Each unfinished upload keeps a row and a staged file for days: an account (free to
    make) may not open them without end. A device sends one envelope at a time."""
    for _ in range(resumable.MAX_UNFINISHED):
        start(device, envelope)
    assert_error(device.start_upload(envelope), 409, "too-many-uploads")
    assert counts(app) == (0, resumable.MAX_UNFINISHED)
    assert len(staging_files(instance)) == resumable.MAX_UNFINISHED


def test_a_chunk_before_its_proof_says_nothing_of_whether_its_tag_has_an_account(
    device: ApiClient, envelope: bytes, client: FlaskClient
) -> None:
    """Anyone holding a lookup tag (from an old copy of the database, or derived from a
    guessed codename on their own machine) sends a chunk signed with a key of their own:
    the answer before the body must be the same whether the tag names an account or not,
    or the server tells them for free, with no derivation and no pacing, that it does."""
    assert device.register().status_code == 200  # the device's account is made
    stranger = ApiClient(client, device.pinned)
    path, chunk = f"{API}/uploads/{secrets.token_hex(16)}", b"x" * 64
    answers = []
    for tag in (device.keys.lookup_tag, secrets.token_bytes(32)):
        body = _Counted(chunk)
        headers = stranger.headers("PATCH", path, chunk, offset=0, tag=tag)
        response = client.open(
            path,
            method="PATCH",
            input_stream=body,
            content_type=resumable.OFFSET_CONTENT_TYPE,
            headers=headers,
            environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
        )
        answers.append((response.status_code, response.get_json(), body.taken))
    assert answers[0] == answers[1], "the answer tells whether the tag has an account"


def test_uploads_started_at_once_hold_no_more_than_the_bound(
    device: ApiClient, envelope: bytes, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is counted, then an upload added: two starts of one account at once must
    not both count one place left and both take it (SQLite reads take no lock)."""
    for _ in range(resumable.MAX_UNFINISHED - 1):
        start(device, envelope)
    at_once = 3
    body = json.dumps(
        {
            "size": len(envelope),
            "hash": item_hash(envelope),
            "kind": "report",
            "submission": secrets.token_hex(16),
        }
    ).encode()
    path = f"{API}/uploads"
    signed = [
        device.headers("POST", path, body, challenge=device.new_challenge()) for _ in range(at_once)
    ]
    # Each waits here, between its count and its insert, for the others (or 3 s:
    # a start that waits on another's lock never comes, and that is the fix).
    counted = threading.Barrier(at_once)
    staged_path = resumable.staged_path

    def after_the_count(upload_id: str, store: Any = None) -> Path:
        with contextlib.suppress(threading.BrokenBarrierError):
            counted.wait(timeout=3)
        return staged_path(upload_id, store)

    monkeypatch.setattr(resumable, "staged_path", after_the_count)

    def send(headers: dict[str, str]) -> int:
        client = app.test_client()
        response = client.post(path, data=body, content_type="application/json", headers=headers)
        return response.status_code

    with ThreadPoolExecutor(at_once) as pool:
        answers = sorted(pool.map(send, signed))
    assert counts(app) == (0, resumable.MAX_UNFINISHED), f"answers {answers}: past the bound"
    assert answers == [201] + [409] * (at_once - 1)


def test_a_flood_of_unfinished_uploads_cannot_use_up_the_inodes_kept_for_arrivals(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Accounts are free (one a minute per circuit), and each may start 32 uploads that keep
    a staged file, an inode, for a day or two with not a byte sent: a few circuits held
    hundreds of thousands, and with none free no report could arrive. A filesystem of
    2,000 inodes with 105 free: the last twentieth are kept for arrivals, so 5 may start."""
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        free = 105 - len(staging_files(instance))
        fields[5], fields[6], fields[7] = 2000, free, free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    flooders = [ApiClient(app.test_client(), device.pinned) for _ in range(3)]
    answers = []
    for flooder in flooders:
        assert flooder.register().status_code == 201
        answers += [flooder.start_upload(envelope) for _ in range(resumable.MAX_UNFINISHED)]
    staged = len(staging_files(instance))
    assert staged <= 5, f"the flood's unfinished uploads hold {staged} inodes, {105 - staged} free"
    refused = assert_error(answers[-1], 503, "storage-full")
    assert answers[-1].headers["Retry-After"] == "60"
    assert "try again" in refused["message"]
    # The inodes kept are for arrivals: a source's report in Tor Browser still gets one.
    page = visitor.start()
    visitor.filed(visitor.send(page, "The SHO took money."))
    assert counts(app) == (1, staged)


def test_a_flood_of_unfinished_uploads_cannot_fill_the_space_kept_for_arrivals(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Accounts are free, and each may hold 32 unfinished uploads for a day or two: their
    chunks filled the disk at the flood's bandwidth, and on a full disk no report could
    arrive. A filesystem of 10 MiB with 3 MiB free: the last tenth is kept from them (for a
    report in Tor Browser, the sweep), so no chunk of an unfinished upload goes into it."""
    block, total, free_at_first = 4096, 2560, 768

    def held() -> int:
        return sum(p.stat().st_size for p in staging_files(instance))

    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        free = free_at_first - -(-held() // block)
        fields[0], fields[1], fields[2], fields[3], fields[4] = block, block, total, free, free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    flooder = ApiClient(app.test_client(), device.pinned)
    assert flooder.register().status_code == 201
    half = len(envelope) // 2
    answers = []
    for _ in range(8):
        started = flooder.start_upload(envelope)
        if started.status_code != 201:
            answers.append(started)
            break
        answers.append(flooder.patch(started.get_json()["upload"], 0, envelope[:half]))
    free = (free_at_first * block - held()) // 1024
    kept = total * block // 10 // 1024
    assert free > kept, f"the flood's unfinished uploads hold {held()} bytes, {free} KiB free"
    refused = assert_error(answers[-1], 503, "storage-full")
    assert answers[-1].headers["Retry-After"] == "60"
    assert "try again" in refused["message"]
    # The space kept is for arrivals: a source's report in Tor Browser still gets it.
    page = visitor.start()
    photo = ("files", "photo.jpg", secrets.token_bytes(100_000), "image/jpeg")
    visitor.filed(visitor.send(page, "The SHO took money.", [photo]))
    assert counts(app)[0] == 2


def _flood_unfinished(flooder: ApiClient, envelopes: list[bytes]) -> None:
    """Hold unfinished uploads, each short of its last byte, until the server takes no more:
    the largest envelopes first, then smaller, in smaller chunks, as close to its limit as
    chunks and envelopes of the attacker's choosing come."""
    for envelope in envelopes:
        while (started := flooder.start_upload(envelope)).status_code == 201:
            upload, offset = started.get_json()["upload"], 0
            for size in (256 * 1024, 16 * 1024):
                while offset + size < len(envelope):
                    if (
                        flooder.patch(upload, offset, envelope[offset : offset + size]).status_code
                        != 200
                    ):
                        break
                    offset += size


def test_a_flood_of_unfinished_uploads_leaves_returning_sources_room_to_report(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unfinished uploads stopped where a signed-in source's later reports stop, at the last
    twentieth: a flood of them from free accounts, kept for days by a chunk a day and never
    reaching staff, took the disk down to it, and every returning source's report was
    refused for as long. Now they stop short of the last tenth: a later report still fits."""
    returning, page = _report_page(app, first=False)
    block, total, free_at_first = 4096, 2560, 512  # 10 MiB, 2 MiB free
    store = InstancePaths(instance).store

    def used() -> int:
        return sum(p.stat().st_size for p in store.rglob("*") if p.is_file())

    before = used()
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        free = free_at_first - -(-(used() - before) // block)
        fields[0], fields[1], fields[2], fields[3], fields[4] = block, block, total, free, free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    flooder = ApiClient(app.test_client(), device.pinned)
    assert flooder.register().status_code == 201
    small = device.seal(secrets.token_bytes(40_000), Metadata("file", "application/octet-stream"))
    _flood_unfinished(flooder, [envelope, small])
    assert counts(app)[1] > 1, "the flood held no upload"
    photo = ("files", "photo.jpg", secrets.token_bytes(100_000), "image/jpeg")
    sent = returning.send(page, MESSAGE, [photo])
    assert sent.status_code == 200, "the flood's unfinished uploads left a returning source no room"
    returning.filed(sent)
    free = free_at_first * block - (used() - before)
    assert free > total * block // 20, f"{free} bytes free: the report took the share kept"


def test_an_upload_start_discards_a_bounded_number_of_idle_uploads(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    """A flood's unfinished uploads expire together two days later, and the first upload a
    source started then discarded every one in its request, each file overwritten: a
    million of them held that source's upload, and on SQLite every writer, for minutes.
    A start now takes a share; the daily purge (`expire`) takes the rest."""
    batch = resumable.EXPIRE_AT_START
    stale = 2 * batch + 5
    old = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
    flooder = ApiClient(app.test_client(), device.pinned)
    assert flooder.register().status_code == 201
    first, paths = start(flooder, envelope), InstancePaths(instance)
    with db_session(app) as session:
        owner = session.get(Upload, first)
        assert owner is not None
        for _ in range(stale):
            upload_id = secrets.token_hex(16)
            session.add(
                Upload(
                    id=upload_id,
                    source_id=owner.source_id,
                    submission_id=owner.submission_id,
                    kind=owner.kind,
                    size=owner.size,
                    hash=owner.hash,
                    active_day=old,
                )
            )
            (paths.staging / f"{upload_id}.upload").write_bytes(b"x")
        session.commit()
    start(device, envelope)
    with db_session(app) as session:
        left = session.scalar(select(func.count()).where(Upload.active_day == old)) or 0
    assert stale - left <= batch, f"one upload's start discarded {stale - left} idle uploads"
    with db_session(app) as session:
        assert resumable.expire(session, EnvelopeStore(paths.store, paths.staging)) == left
    assert counts(app) == (0, 2)
    assert len(staging_files(instance)) == 2


def test_an_upload_start_discards_every_idle_upload_of_its_own_account(
    device: ApiClient, envelope: bytes, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its bound counts them: however many other accounts' wait, its own go first."""
    monkeypatch.setattr(resumable, "EXPIRE_AT_START", 0)
    for _ in range(resumable.MAX_UNFINISHED):
        start(device, envelope)
    with db_session(app) as session:
        session.execute(
            update(Upload).values(active_day=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2))
        )
        session.commit()
    start(device, envelope)
    assert counts(app) == (0, 1)


class _Arriving(io.BytesIO):
    """A chunk's body that starts to come only once every other chunk is coming or answered."""

    def __init__(self, data: bytes, together: threading.Condition, tally: list[int]) -> None:
        super().__init__(data)
        self._together, self._tally, self._began = together, tally, False

    def read(self, size: int | None = -1) -> bytes:
        if not self._began:
            self._began = True
            with self._together:
                self._tally[0] += 1
                self._together.notify_all()
                self._together.wait_for(
                    lambda: self._tally[0] + self._tally[1] >= self._tally[2], timeout=10
                )
        return super().read(size)


def test_chunks_coming_at_once_cannot_together_fill_the_space_kept_for_arrivals(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each chunk's space was checked before its body came, and a body over Tor takes
    minutes: chunks sent at once each found the space free, and together wrote past the
    share kept for arrivals, by up to the threads' count times 8 MiB. A filesystem of 10
    MiB with 1.6 MiB free above the tenth kept from uploads, and three chunks of 600 KiB at
    once."""
    block, total, kept = 4096, 2560, 2560 // 10
    free_at_first = kept + 400
    chunk_size = 150 * block

    def allocated() -> int:
        staging = InstancePaths(instance).staging
        return sum(p.stat().st_blocks * 512 for p in staging.iterdir() if p.is_file())

    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        free = free_at_first - -(-allocated() // block)
        fields[0], fields[1], fields[2], fields[3], fields[4] = block, block, total, free, free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    at_once = 3
    uploads = [start(device, envelope) for _ in range(at_once)]
    chunk = envelope[:chunk_size]
    together = threading.Condition()
    tally = [0, 0, at_once]  # bodies coming, requests answered, requests

    def send(upload: str, headers: dict[str, str]) -> Any:
        path = f"{API}/uploads/{upload}"
        response = app.test_client().open(
            path,
            method="PATCH",
            input_stream=_Arriving(chunk, together, tally),
            content_type=resumable.OFFSET_CONTENT_TYPE,
            headers=headers,
            environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
        )
        with together:
            tally[1] += 1
            together.notify_all()
        return response.status_code, (response.get_json() or {}).get("error")

    signed = [device.headers("PATCH", f"{API}/uploads/{u}", chunk, offset=0) for u in uploads]
    with ThreadPoolExecutor(at_once) as pool:
        answers = list(pool.map(send, uploads, signed))
    free = free_at_first - -(-allocated() // block)
    assert free > kept, (
        f"chunks sent at once left {free} blocks free of the {kept} kept for arrivals"
        f" (answers {answers})"
    )
    # One chunk still goes in; the others are told to come back (the client resumes).
    assert (200, None) in answers
    assert (503, "storage-full") in answers


def test_an_upload_start_on_a_clock_set_forward_discards_no_upload_under_way(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever holds the clock sets it three days on: the purge refuses a jump, but each
    upload start reckoned idle uploads from the clock's day, and discarded every source's
    upload under way (64 others at each start), its bytes sent over Tor for nothing.
    A start now reckons no further than the day after the last purge."""
    paths = InstancePaths(instance)
    with db_session(app) as session:
        purge(session, EnvelopeStore(paths.store, paths.staging), dt.datetime.now(dt.UTC).date())
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    ahead = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)
    monkeypatch.setattr(resumable, "today", lambda: ahead)
    other = ApiClient(app.test_client(), device.pinned)
    assert other.register().status_code == 201
    start(other, envelope)
    assert counts(app)[1] == 2, "an upload under way was discarded by a start, the clock ahead"


class _FallsBehind(io.BytesIO):
    """A chunk's body that stops coming after `arrived` bytes, as the worker's socket tells
    the app's read once it falls behind the least rate (`tests.app.source`'s late read)."""

    def __init__(self, body: bytes, arrived: int) -> None:
        super().__init__(body[:arrived])
        self.arrived = arrived

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.arrived:
            raise _a_late_read()
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        if self.tell() >= self.arrived:
            raise _a_late_read()
        return super().readinto(buffer)


def test_a_chunk_that_falls_behind_is_a_408_to_resume_and_logs_nothing(
    device: ApiClient, envelope: bytes, instance: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A chunk slower than 500 bytes a second (a phone's signal lost midway) was answered
    400, "the request is malformed" (Werkzeug takes an error of a body's read for a client
    gone), which tells the client its request was wrong, not slow. It is a 408 in the API's
    shape now, saying to send it again, nothing is logged, and the upload resumes."""
    response = device.start_upload(envelope)
    assert response.status_code == 201
    upload = response.get_json()["upload"]
    before = staging_files(instance)
    path = f"{API}/uploads/{upload}"
    chunk = envelope[:CHUNK]
    cut = device.client.open(
        path,
        method="PATCH",
        input_stream=_FallsBehind(chunk, CHUNK // 2),
        content_type=resumable.OFFSET_CONTENT_TYPE,
        headers=device.headers("PATCH", path, chunk, offset=0),
        environ_overrides={"CONTENT_LENGTH": str(len(chunk))},
    )
    device.challenge = cut.headers.get("Raazdar-Next-Challenge") or device.challenge
    assert "unexpected" not in caplog.text, "a slow chunk was logged as the server's failure"
    assert cut.status_code == 408, cut.get_data(as_text=True)
    assert cut.get_json()["error"] == "too-slow"
    assert staging_files(instance) == before
    assert int(device.offset(upload).headers["Upload-Offset"]) == 0
    rest = device.patch(upload, 0, envelope[:CHUNK])
    assert rest.status_code == 200, rest.get_data(as_text=True)
