"""Faults told as faults: the database taken away, a full disk, a malformed body.

Each fault answers 503 with Retry-After (the calm "busy, try again" page, or
JSON with its reason under the API), or 400 for a body that cannot be parsed;
and nothing any logger writes while it happens quotes the request, a
statement's parameters or a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from app import db as app_db
from app.cli import main
from app.instance import InstancePaths
from app.operations.doctor import Status, diagnose
from app.operations.serve import recover_uploads
from app.services.sources import derive
from app.store import UNHELD_AFTER, EnvelopeStore
from crypto import Metadata
from tests.app.api_support import ApiClient
from tests.app.live import demo_instance, live_server
from tests.app.support import (
    RETIRED_PREFIX,
    Visitor,
    assert_form_given_back,
    form,
    reviewer_keys,
    shown_codename,
)

CANARY = "canary-" + secrets.token_hex(8)
_TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "', "[parameters:", "[SQL:")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def take_database_away(app: Flask, tmp_path: Path, how: str) -> None:
    """Point the app at a database it can no longer use, as after an outage.

    "gone": SQLite's file unreachable (under a directory that is not there), or
    PostgreSQL on a port nothing listens on. "read-only": SQLite's file opened
    read-only, as when it was made unwritable (chmod has no effect on root).
    """
    database: app_db.Database = app.extensions["raazdar.db"]
    assert database.engine is not None
    url = database.engine.url
    database.engine.dispose()
    if how == "read-only":
        assert url.get_backend_name() == "sqlite"
        new = f"sqlite:///file:{url.database}?mode=ro&uri=true"
    elif url.get_backend_name() == "sqlite":
        new = f"sqlite:///{tmp_path / 'no-such-directory' / 'raazdar.db'}"
    else:
        new = url.set(host="127.0.0.1", port=_closed_port()).render_as_string(hide_password=False)
    database.engine = app_db.make_engine(new)
    database._factory = sessionmaker(database.engine, expire_on_commit=False)


def _all_logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    records = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_info!r} {r.exc_text!r}" for r in caplog.records
    )
    captured = capfd.readouterr()
    return records + captured.out + captured.err


def _assert_busy_page(response: object) -> None:
    status = getattr(response, "status_code", None)
    assert status == 503, status
    headers = getattr(response, "headers", {})
    assert headers.get("Retry-After") == "60"
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "The server is busy" in text
    assert "Nothing you sent was stored" in text


@pytest.mark.parametrize(
    ("database_url", "how"),
    [
        ("sqlite", "gone"),
        pytest.param("postgresql", "gone", marks=pytest.mark.postgres),
        ("sqlite", "read-only"),  # a read-only file is SQLite's own fault
    ],
    indirect=["database_url"],
)
def test_a_lost_database_answers_busy_and_logs_no_request_data(
    app: Flask,
    visitor: Visitor,
    tmp_path: Path,
    how: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    html = visitor.get("/submit")
    page, codename = form(html, "/submit"), shown_codename(html)
    assert codename is not None
    take_database_away(app, tmp_path, how)

    # The account's row (its lookup tag) and the report's are written, and fail.
    response = visitor.send(page, message=CANARY)
    if how == "read-only":
        # Refused as the report is filed: the form goes back, what the source wrote in it.
        assert_form_given_back(response, CANARY)
    else:
        # Gone before the form can be read again (its choices come from the database).
        _assert_busy_page(response)
    # The session is read, then the lookup tag is looked up. (A login found or not is a 303
    # to the account page either way: its size on the wire says nothing.)
    answer = visitor.client.post("/login", data={**page.fields, "codename": codename})
    assert answer.status_code in ({503} if how == "gone" else {303, 503})

    logs = _all_logs(caplog, capfd)
    with app.app_context():
        tag = derive(codename).lookup_tag
    assert CANARY not in logs
    assert codename not in logs
    for shape in (tag.hex(), repr(tag)[2:-1][:12]):
        assert shape not in logs
    for mark in _TRACEBACK_MARKS:
        assert mark not in logs, mark


@pytest.mark.parametrize(
    ("database_url", "how"),
    [
        ("sqlite", "gone"),
        pytest.param("postgresql", "gone", marks=pytest.mark.postgres),
        ("sqlite", "read-only"),  # a read-only file is SQLite's own fault
    ],
    indirect=["database_url"],
)
def test_the_api_answers_a_lost_database_with_json_and_a_reason(
    app: Flask, device: ApiClient, envelope: bytes, tmp_path: Path, how: str
) -> None:
    take_database_away(app, tmp_path, how)
    response = device.start_upload(envelope)
    assert response.status_code == 503
    assert response.headers.get("Retry-After") == "60"
    assert response.is_json
    assert response.get_json()["error"] == "database-unavailable"


@pytest.fixture
def full_disk(instance: Path) -> Iterator[None]:
    """Staging on a small filesystem of its own, filled to the last byte."""
    staging = InstancePaths(instance).staging
    mounted = subprocess.run(  # noqa: S603 - a fixed argument list
        ["/usr/bin/mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(staging)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small filesystem needs root")
    try:
        with contextlib.suppress(OSError), (staging / "filler").open("wb") as filler:
            while True:
                filler.write(bytes(4096))
                filler.flush()
        yield
    finally:
        subprocess.run(["/usr/bin/umount", str(staging)], check=True)  # noqa: S603


@pytest.mark.usefixtures("full_disk")
def test_a_full_disk_answers_busy_and_leaves_nothing_staged(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    page = visitor.start()
    # Refused as the report is filed: the form goes back, what the source wrote in it.
    assert_form_given_back(visitor.send(page, message=CANARY), CANARY)
    logs = _all_logs(caplog, capfd)
    assert "storage-full" in logs
    staging = InstancePaths(instance).staging
    # Besides the filler, only what waits for the sweep, overwritten and cut to nothing.
    left = [p for p in staging.iterdir() if not p.name.startswith(RETIRED_PREFIX)]
    assert [p.name for p in left] == ["filler"]
    assert all(p.stat().st_size == 0 for p in staging.iterdir() if p not in left)
    assert CANARY not in logs
    assert "Traceback" not in logs


def test_database_errors_never_quote_parameters(tmp_path: Path) -> None:
    engine = app_db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    secret = secrets.token_hex(16)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE t (v TEXT)")
            connection.commit()
        readonly = app_db.make_engine(f"sqlite:///file:{tmp_path / 'x.db'}?mode=ro&uri=true")
        with pytest.raises(OperationalError) as caught, readonly.connect() as connection:
            connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": secret})
        readonly.dispose()
    finally:
        engine.dispose()
    assert secret not in str(caught.value)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """gunicorn with one worker, as deployed, and where its whole output goes."""
    root = tmp_path_factory.mktemp("faults")
    log = root / "gunicorn.log"
    with live_server(demo_instance(root / "instance"), workers=1, log=log) as url:
        yield url, log


def _raw(base: str, request: bytes) -> bytes:
    """Send `request` and return the whole answer (the server closes after it)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=20) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


_BAD_CHUNKS = {
    "size-not-hex": b"zz\r\n" + CANARY.encode() + b"\r\n0\r\n\r\n",
    "no-terminator": b"5\r\n" + CANARY.encode() + b"\r\n0\r\n\r\n",
    "extension-junk": b"5;\x00\r\nabcde\r\n0\r\n\r\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("body", list(_BAD_CHUNKS), ids=list(_BAD_CHUNKS))
def test_a_malformed_chunked_body_is_a_400_and_no_trace(live: tuple[str, Path], body: str) -> None:
    url, log = live
    head = (
        b"POST /submit HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = _raw(url, head + _BAD_CHUNKS[body])
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    time.sleep(0.3)  # anything logged is logged after the answer
    logged = log.read_text(errors="replace")
    assert CANARY not in logged
    assert "Traceback" not in logged
    assert "[parameters:" not in logged


def test_start_up_clears_dead_web_uploads_and_keeps_resumable_ones(
    app: Flask, instance: Path, device: ApiClient, envelope: bytes
) -> None:
    paths = InstancePaths(instance)
    # An API upload half done: resumable, so kept.
    started = device.start_upload(envelope)
    upload = started.get_json()["upload"]
    assert device.patch(upload, 0, envelope[: 64 * 1024]).status_code == 200
    # A web upload a killed worker was sealing: nothing will ever come back for it.
    dead = paths.staging / f"{secrets.token_hex(16)}.rze"
    dead.write_bytes(b"partial ciphertext")
    # A web upload another host is sealing right now (held open): kept.
    store = EnvelopeStore(paths.store, paths.staging)
    reviewer = reviewer_keys(instance).encryption
    assert reviewer is not None
    live = store.stage([reviewer.public_key], Metadata("file", "application/octet-stream", None))
    time.sleep(UNHELD_AFTER + 0.2)
    try:
        live.write(b"x" * 10)  # a started upload, then quiet for a while
        time.sleep(UNHELD_AFTER + 0.2)
        recover_uploads(instance, lambda _line: None)
        left = sorted(p.name for p in paths.staging.iterdir())
    finally:
        live.discard()
    assert dead.name not in left
    assert live.path.name in left
    assert any(name.startswith(upload) for name in left)
    assert device.offset(upload).headers.get("Upload-Offset") == str(64 * 1024)


def test_publish_syncs_the_directory_it_renames_into(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    reviewer = reviewer_keys(instance).encryption
    assert reviewer is not None
    staged = store.stage_bytes(b"report", [reviewer.public_key], Metadata("report", "text/plain"))
    synced: list[str] = []
    fsync = os.fsync

    def noting_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    target = store.publish(staged.id, staged.path)
    assert target.parent == store.holding
    assert str(store.holding) in synced


def test_export_leaves_out_an_item_whose_file_is_lost_and_doctor_lists_it(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        visitor = Visitor(app.test_client())
        visitor.filed(visitor.send(visitor.start(), message="a report"))
    paths = InstancePaths(instance)
    held = sorted(paths.store.rglob("*.rze"))
    assert len(held) == 2
    lost = held[0].name.removesuffix(".rze")
    held[0].unlink()  # a power cut took the rename, not the committed row

    bundle = tmp_path / "export.rzb"
    result = CliRunner().invoke(main, ["--instance", str(instance), "export", "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "exported 1 item(s)" in result.output
    assert lost in result.output
    assert bundle.exists()

    checks = {c.name: c for c in diagnose(instance, dt.date.today())}
    assert checks["item-files"].status == Status.FAIL
    assert lost in checks["item-files"].message


@pytest.mark.usefixtures("full_disk")
def test_a_disk_full_as_a_file_streams_in_gives_the_form_back(
    instance: Path, visitor: Visitor, caplog: pytest.LogCaptureFixture
) -> None:
    """A flood can fill the disk while a source's file streams in: the file's sealing met
    ENOSPC inside the form's parsing, before any view, and the page that answered (the
    app's busy page, or gunicorn's 500 when closing the staged file failed again in the
    request's teardown) held nothing of what the source wrote."""
    caplog.set_level(logging.DEBUG)
    page = visitor.start()
    evidence = [("files", "evidence.bin", bytes(200_000), "application/octet-stream")]
    response = visitor.send(page, message=CANARY, files=evidence)
    assert_form_given_back(response, CANARY, "evidence.bin")
    assert page.fields["codename"] in response.get_data(as_text=True)
    assert "storage-full" in caplog.text
    staging = InstancePaths(instance).staging
    # Besides the filler, only what waits for the sweep, overwritten and cut to nothing.
    left = [p for p in staging.iterdir() if not p.name.startswith(RETIRED_PREFIX)]
    assert [p.name for p in left] == ["filler"]
    assert all(p.stat().st_size == 0 for p in staging.iterdir() if p not in left)
