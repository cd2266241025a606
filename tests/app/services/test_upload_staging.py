"""Resumable uploads across restarts, under retention, and under two appenders at once."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.cli import main
from app.instance import InstancePaths
from app.models import Upload, today
from app.operations import serve as serve_module
from app.operations.retention import purge
from app.services import resumable
from app.store import EnvelopeStore
from crypto import Metadata
from tests.app.api.test_api import assert_error
from tests.app.api.test_api_uploads import CHUNK, assert_one_envelope, counts, start
from tests.app.api_support import API, ApiClient
from tests.app.support import db_session, envelope_files, staging_files

NOW = dt.timedelta(0)


@pytest.fixture
def store(instance: Path) -> EnvelopeStore:
    paths = InstancePaths(instance)
    return EnvelopeStore(paths.store, paths.staging)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db_session(app) as session:
        yield session


def staged(instance: Path, upload: str) -> Path:
    return InstancePaths(instance).staging / f"{upload}.upload"


def restart(instance: Path) -> resumable.Recovered:
    """What `raazdar serve` does to staging before gunicorn starts."""
    said: list[str] = []
    found = serve_module.recover_uploads(instance, said.append)
    # Counts only: never an upload's id.
    assert not any(len(word) == 32 for line in said for word in line.split())
    return found


def idle_since(app: Flask, days: int, *uploads: str) -> None:
    with db_session(app) as session:
        session.execute(
            update(Upload)
            .where(Upload.id.in_(uploads))
            .values(active_day=today() - dt.timedelta(days=days))
        )
        session.commit()


def received(app: Flask, upload: str) -> int:
    with db_session(app) as session:
        row = session.get(Upload, upload)
        assert row is not None
        return row.received


# -- restarts ---------------------------------------------------------------


def test_an_upload_cut_off_by_a_restart_resumes_where_it_was(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    for offset in (0, CHUNK):
        assert device.patch(upload, offset, envelope[offset : offset + CHUNK]).status_code == 200
    found = restart(instance)
    assert (found.kept, found.cut_back, found.lost, found.removed) == (1, 0, 0, 0)
    assert staged(instance, upload).read_bytes() == envelope[: 2 * CHUNK]
    head = device.offset(upload)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == str(2 * CHUNK)
    rest = device.patch(upload, 2 * CHUNK, envelope[2 * CHUNK :])
    assert rest.status_code == 200, rest.get_data(as_text=True)
    assert rest.get_json()["item"] == upload
    assert_one_envelope(app, instance, envelope, upload)


def test_a_chunk_half_appended_when_the_server_died_is_cut_back_at_restart(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    # The process died mid-append: half a chunk on disk, garbage after it, no commit.
    with staged(instance, upload).open("ab") as out:
        out.write(envelope[CHUNK : CHUNK + CHUNK // 2] + bytes(4096))
    found = restart(instance)
    assert (found.kept, found.cut_back) == (1, 1)
    assert staged(instance, upload).read_bytes() == envelope[:CHUNK]
    assert staged(instance, upload).stat().st_mtime == 0
    assert device.offset(upload).headers["Upload-Offset"] == str(CHUNK)
    assert device.patch(upload, CHUNK, envelope[CHUNK:]).status_code == 200
    assert_one_envelope(app, instance, envelope, upload)


def test_an_append_never_trusts_bytes_past_the_recorded_offset(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    # An append that never committed, and no restart since; longer than the rest, so
    # that an append trusting any of it could not come out as the declared envelope.
    with staged(instance, upload).open("ab") as out:
        out.write(b"\xff" * (len(envelope) - CHUNK + 4096))
    beyond = device.patch(upload, CHUNK + 1000, envelope[CHUNK + 1000 :])
    assert_error(beyond, 409, "offset-mismatch")
    assert beyond.headers["Upload-Offset"] == str(CHUNK)
    assert device.offset(upload).headers["Upload-Offset"] == str(CHUNK)
    assert device.patch(upload, CHUNK, envelope[CHUNK:]).status_code == 200
    assert_one_envelope(app, instance, envelope, upload)


@pytest.mark.parametrize("damage", ["deleted", "shortened"])
def test_an_upload_whose_file_a_restart_lost_tells_its_source_to_start_again(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path, damage: str
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    if damage == "deleted":
        staged(instance, upload).unlink()
    else:
        os.truncate(staged(instance, upload), CHUNK - 1)
    found = restart(instance)
    assert (found.kept, found.lost) == (0, 1)
    assert not staged(instance, upload).exists()
    assert counts(app) == (0, 1)  # the row stays to answer the source
    body = assert_error(device.patch(upload, CHUNK, envelope[CHUNK:]), 404, "not-found")
    assert "start it again" in body["message"]
    assert counts(app) == (0, 0)
    assert device.offset(upload).status_code == 404


def test_a_file_lost_without_a_restart_is_answered_the_same_way(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    os.truncate(staged(instance, upload), 10)
    head = device.offset(upload)
    assert head.status_code == 404
    assert counts(app) == (0, 0)
    assert staging_files(instance) == []


def test_a_restart_removes_what_no_upload_claims_once_it_is_not_in_flight(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    session: Session,
    store: EnvelopeStore,
) -> None:
    upload = start(device, envelope)
    staging = InstancePaths(instance).staging
    strays = [
        staging / f"{secrets.token_hex(16)}.upload",  # its row never committed
        staging / f"{secrets.token_hex(16)}.chunk",
        staging / f"{secrets.token_hex(16)}.rze",
    ]
    for path in strays:
        path.write_bytes(b"ciphertext")
    (staging / "unpacked").mkdir()
    # Fresh: on a shared store they may be another host's requests in flight.
    assert restart(instance).removed == 0
    assert all(path.exists() for path in strays)
    found = resumable.recover(session, store, grace=NOW)
    assert (found.kept, found.removed) == (1, 4)
    assert staging_files(instance) == [staged(instance, upload)]


def test_a_restart_discards_uploads_idle_since_before_yesterday(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path
) -> None:
    old, recent = start(device, envelope), start(device, envelope)
    idle_since(app, 2, old)
    idle_since(app, 1, recent)
    found = restart(instance)
    assert (found.expired, found.kept) == (1, 1)
    assert staging_files(instance) == [staged(instance, recent)]
    assert device.offset(old).status_code == 404


def test_serve_recovers_staging_before_it_starts_gunicorn(
    device: ApiClient, envelope: bytes, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    with staged(instance, upload).open("ab") as out:
        out.write(b"half a chunk")

    class Started(Exception):
        """gunicorn would start here."""

    def popen(*_args: Any, **_kwargs: Any) -> Any:
        raise Started

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", popen)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    said: list[str] = []
    try:
        with pytest.raises(Started):
            serve_module.serve(instance, port=1, tor_mode="off", say=said.append)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert staged(instance, upload).read_bytes() == envelope[:CHUNK]
    assert any("1 in progress kept to resume (1 cut back" in line for line in said)


# -- retention --------------------------------------------------------------


def test_purge_expires_abandoned_uploads_retiring_their_files(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path, store: EnvelopeStore
) -> None:
    abandoned, live = start(device, envelope), start(device, envelope)
    for upload in (abandoned, live):
        assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    idle_since(app, 2, abandoned)
    idle_since(app, 1, live)
    with db_session(app) as session:
        dry = purge(session, store, today(), dry_run=True, grace=NOW)
    assert (dry.uploads, dry.leftovers) == (1, 0)
    assert counts(app) == (0, 2)
    assert staged(instance, abandoned).exists()
    # Held open to see what the purge leaves: the file overwritten and cut to nothing, set
    # aside for the sweep to free (freed now, its inode would date the purge); no byte of
    # it is left on the disk (tests/app/operations/test_journal.py).
    fd = os.open(staged(instance, abandoned), os.O_RDONLY)
    try:
        with db_session(app) as session:
            done = purge(session, store, today(), grace=NOW)
        left, links = os.pread(fd, CHUNK, 0), os.fstat(fd).st_nlink
    finally:
        os.close(fd)
    assert (left, links) == (b"", 1)
    # The live upload's file is its own, however old: not a leftover.
    assert (done.uploads, done.leftovers) == (1, 0)
    assert staging_files(instance) == [staged(instance, live)]
    assert counts(app) == (0, 1)
    assert device.offset(live).headers["Upload-Offset"] == str(CHUNK)


def test_purge_command_counts_abandoned_uploads(
    device: ApiClient, envelope: bytes, app: Flask, instance: Path, runner: CliRunner
) -> None:
    upload = start(device, envelope)
    idle_since(app, 3, upload)
    base = ["--instance", str(instance), "purge"]
    dry = runner.invoke(main, [*base, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 abandoned upload(s)" in dry.output
    assert counts(app) == (0, 1)
    done = runner.invoke(main, base)
    assert done.exit_code == 0, done.output
    assert "deleted 0 item(s)" in done.output
    assert "1 abandoned upload(s)" in done.output
    assert counts(app) == (0, 0)
    assert staging_files(instance) == []


# -- one appender at a time -------------------------------------------------


def test_the_upload_lock_makes_a_second_holder_wait(app: Flask, device: ApiClient) -> None:
    upload = start(device, device.seal(b"x", Metadata("report")))
    first, second = db_session(app), db_session(app)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        assert resumable._lock(first, upload) is not None
        waiting = pool.submit(resumable._lock, second, upload)
        time.sleep(0.5)
        assert not waiting.done()  # held back by the database, not by this process
        first.rollback()
        assert waiting.result(timeout=30) is not None
    finally:
        second.rollback()
        pool.shutdown(wait=True)
        first.close()
        second.close()


@pytest.mark.parametrize("at", ["a middle chunk", "the last chunk"])
def test_two_appends_racing_at_one_offset_store_one_envelope(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
    at: str,
) -> None:
    upload = start(device, envelope)
    assert device.patch(upload, 0, envelope[:CHUNK]).status_code == 200
    end = 2 * CHUNK if at == "a middle chunk" else len(envelope)
    chunk = envelope[CHUNK:end]
    path = f"{API}/uploads/{upload}"
    # Both proofs first: the race is between the appends, not their challenges.
    proofs = [device.headers("PATCH", path, chunk, offset=CHUNK) for _ in range(2)]

    guard = threading.Lock()
    both_asked = threading.Event()
    asked: list[int] = []
    inside: list[int] = [0, 0]  # appending now, most at once
    real_lock, real_copy = resumable._lock, resumable._copy_at

    def lock(session: Session, upload_id: str) -> Upload | None:
        with guard:
            asked.append(1)
            if len(asked) == 2:
                both_asked.set()
        return real_lock(session, upload_id)

    def copy(source: Path, fd: int, offset: int) -> None:
        with guard:
            inside[0] += 1
            inside[1] = max(inside)
        # Hold on until the other append has asked for the lock, and a little longer.
        both_asked.wait(timeout=10)
        time.sleep(0.3)
        try:
            real_copy(source, fd, offset)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(resumable, "_lock", lock)
    monkeypatch.setattr(resumable, "_copy_at", copy)

    def send(headers: dict[str, str]) -> Any:
        return app.test_client().patch(
            path, data=chunk, content_type=resumable.OFFSET_CONTENT_TYPE, headers=headers
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [f.result(timeout=120) for f in [pool.submit(send, h) for h in proofs]]

    assert both_asked.is_set()
    assert inside[1] == 1  # never two appends at once
    won = [a for a in answers if a.status_code == 200]
    lost = [a for a in answers if a.status_code != 200]
    assert len(won) == len(lost) == 1
    assert_error(lost[0], 409, "offset-mismatch")
    assert lost[0].headers["Upload-Offset"] == str(end)
    assert won[0].get_json()["offset"] == end
    if end < len(envelope):
        assert received(app, upload) == end
        assert staged(instance, upload).read_bytes() == envelope[:end]
        device.challenge = None
        assert device.patch(upload, end, envelope[end:]).status_code == 200
    assert_one_envelope(app, instance, envelope, upload)
    assert [p.stem for p in envelope_files(instance)] == [upload]
