"""A commit the database carried out whose answer never came back keeps what it stored.

A connection cut, a backend killed or a timeout can lose the answer to a COMMIT
the database made durable. Whatever the request wrote to the store for that
transaction is then named by committed rows: destroying it as for a failed
commit leaves a report (or a reply) filed, and confirmed to its source when they
send again, with no envelope. The fault: the DB-API commit runs, then raises as a
lost connection does, for the transaction that inserted into the table named.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from sqlalchemy.engine.default import DefaultDialect

from app.instance import InstancePaths
from app.models import Item, Reply, Source, today
from app.operations.retention import purge
from app.store import EnvelopeStore
from crypto import Metadata
from tests.app.api_support import ApiClient
from tests.app.operations.test_exchange import Review, cli, submit
from tests.app.support import (
    Visitor,
    assert_nothing_stored,
    db_session,
    envelope_files,
    opened_envelopes,
    retired_files,
    reviewer_keys,
    row_counts,
)


@contextlib.contextmanager
def answer_lost(table: str, *, landed: bool = True, then_down: bool = False) -> Iterator[list[str]]:
    """Lose the answer to the next commit of a transaction that inserts into `table`.

    The commit is carried out first (rolled back instead unless `landed`); then
    the driver's own OperationalError is raised, as when the connection drops
    before the database's answer arrives. With `then_down`, every statement
    after it fails so too (the database gone). Yields the lost commits' list.
    """
    armed: set[int] = set()
    lost: list[str] = []
    prefix = f"INSERT INTO {table} "
    # This thread's statements only: the listener and the patch are every engine's, and
    # the worker's own thread makes the next tests' PostgreSQL databases meanwhile
    # (tests/postgres.py), whose CREATE DATABASE the database "gone" refused.
    here = threading.get_ident()

    def note(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() != here:
            return
        if then_down and lost:
            refused: type[Exception] = connection.dialect.loaded_dbapi.OperationalError
            raise refused("connection refused")
        if statement.startswith(prefix):
            armed.add(id(connection.connection.dbapi_connection))

    real: Callable[[DefaultDialect, Any], None] = DefaultDialect.do_commit

    def do_commit(dialect: DefaultDialect, dbapi_connection: Any) -> None:
        if threading.get_ident() != here:
            real(dialect, dbapi_connection)
            return
        key = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
        if key in armed and not lost and not landed:
            dbapi_connection.rollback()
        else:
            real(dialect, dbapi_connection)
        if key in armed and not lost:
            armed.discard(key)
            lost.append(table)
            cut: type[Exception] = dialect.loaded_dbapi.OperationalError
            raise cut("server closed the connection unexpectedly")

    event.listen(Engine, "before_cursor_execute", note)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DefaultDialect, "do_commit", do_commit)
            yield lost
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def _store(instance: Path) -> EnvelopeStore:
    paths = InstancePaths(instance)
    return EnvelopeStore(paths.store, paths.staging)


def _without_file(app: Flask, instance: Path, model: type[Item] | type[Reply]) -> list[str]:
    """The rows of `model` whose envelope file is gone."""
    with db_session(app) as session:
        ids = list(session.execute(select(model.id)).scalars())
    return [i for i in ids if not _store(instance).exists(i)]


def test_a_report_whose_commit_answer_was_lost_keeps_its_envelopes(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    photo = ("files", "photo.jpg", b"\xff\xd8 the SHO's car", "image/jpeg")
    with answer_lost("items") as lost:
        first = visitor.send(page, "The SHO took money.", [photo])
    assert lost == ["items"]
    assert first.status_code == 200, "a report that landed was answered as a failure"
    visitor.filed(first)
    # The source sends the same form again, and is told it was filed.
    again = visitor.send(page, "The SHO took money.", [photo])
    assert again.status_code == 200
    assert 'class="filed"' in again.get_data(as_text=True)  # confirmed in place
    assert _without_file(app, instance, Item) == [], (
        "the report was filed and confirmed, but its envelopes were destroyed"
    )
    texts = [plain for _, plain in opened_envelopes(instance).values()]
    assert any(b"The SHO took money." in t for t in texts)
    assert b"\xff\xd8 the SHO's car" in texts


def test_an_upload_whose_last_commit_answer_was_lost_keeps_its_envelope(
    app: Flask, device: ApiClient, instance: Path
) -> None:
    envelope = device.seal(secrets.token_bytes(5000), Metadata("file", "video/mp4", "v.mp4"))
    started = device.start_upload(envelope, kind="file")
    assert started.status_code == 201
    upload = started.get_json()["upload"]
    with answer_lost("items") as lost:
        finished = device.patch(upload, 0, envelope)
    assert lost == ["items"]
    assert finished.status_code == 200, finished.get_data(as_text=True)
    assert finished.get_json()["complete"] is True
    # The client asks how far the upload got, and is told it is complete.
    status = device.offset(upload)
    assert status.status_code == 200
    assert _without_file(app, instance, Item) == [], (
        "the upload was stored as an item and said complete, but its envelope was destroyed"
    )


def _reply_bundle(app: Flask, instance: Path, tmp_path: Path) -> Path:
    """A report with a photo, exported, and the reviewer's reply bundle to it."""
    review = Review(instance, reviewer_keys(instance))
    submit(app.test_client(), "report", b"\xff\xd8 a photo")
    assert cli(instance, "export", "--out", str(tmp_path / "e.rzb"))[0] == 0
    manifest, _ = review.read(tmp_path / "e.rzb", tmp_path / "items")
    return review.replies(tmp_path / "r.rzr", manifest, "Which police station?")


def test_a_reply_bundle_whose_commit_answer_was_lost_keeps_its_replies(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    bundle = _reply_bundle(app, instance, tmp_path)
    with answer_lost("replies") as lost:
        status, output = cli(instance, "import-replies", str(bundle))
    assert lost == ["replies"]
    assert status == 0, output
    assert "1 reply(ies) posted, 2 acknowledged item(s) deleted" in output
    # Applied again, it is refused as applied before: the receipt says it arrived.
    status, output = cli(instance, "import-replies", str(bundle))
    assert status == 1
    assert "applied before" in output
    assert _without_file(app, instance, Reply) == [], (
        "the bundle was recorded applied, but its replies' envelopes were destroyed"
    )


def test_a_report_whose_lost_commit_did_not_land_leaves_nothing(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    page = visitor.start()
    with answer_lost("items", landed=False) as lost:
        response = visitor.send(page, "The SHO took money.")
    assert lost == ["items"]
    assert response.status_code == 503
    assert_nothing_stored(app, instance)


def test_a_report_whose_commit_failed_retires_its_files_for_the_sweep(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    """A commit refused outright (not carried out, and the database says so): its report's
    envelopes, already published, wait blank for the sweep. Unlinked at once, their freed
    inodes kept the failure's time to the second."""
    page = visitor.start()
    photo = ("files", "photo.jpg", b"\xff\xd8 the SHO's car", "image/jpeg")
    with answer_lost("items", landed=False) as lost:
        response = visitor.send(page, "The SHO took money.", [photo])
    assert lost == ["items"]
    assert response.status_code == 503
    assert_nothing_stored(app, instance)
    waiting = retired_files(instance)
    assert len(waiting) == 2, "a failed commit's envelopes were freed at once, dated"
    assert all(p.stat().st_size == 0 for p in waiting)


def test_an_upload_whose_last_commit_failed_retires_its_envelope_for_the_sweep(
    app: Flask, device: ApiClient, instance: Path
) -> None:
    envelope = device.seal(secrets.token_bytes(5000), Metadata("file", "video/mp4", "v.mp4"))
    started = device.start_upload(envelope, kind="file")
    assert started.status_code == 201
    upload = started.get_json()["upload"]
    before = len(retired_files(instance))
    with answer_lost("items", landed=False) as lost:
        finished = device.patch(upload, 0, envelope)
    assert lost == ["items"]
    assert finished.status_code == 503
    assert row_counts(app, Item)["items"] == 0
    assert envelope_files(instance) == []
    # The chunk as it came in (retired as every chunk is), and the envelope it completed.
    assert len(retired_files(instance)) - before == 2, (
        "a failed commit's upload was freed at once, dated"
    )


def test_a_reply_bundle_whose_commit_failed_retires_its_replies_for_the_sweep(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    bundle = _reply_bundle(app, instance, tmp_path)
    stored = len(envelope_files(instance))
    before = {p.name for p in retired_files(instance)}
    with answer_lost("replies", landed=False) as lost:
        status, output = cli(instance, "import-replies", str(bundle))
    assert lost == ["replies"]
    assert status == 1, output
    assert row_counts(app, Reply)["replies"] == 0
    assert len(envelope_files(instance)) == stored
    # The unpacked bundle's work directory is retired too (one), and the reply's envelope.
    new = [p for p in retired_files(instance) if p.name not in before]
    assert len(new) == 2, "a failed commit's reply envelope was freed at once, dated"


def test_a_report_whose_lost_commit_cannot_be_checked_keeps_its_files_for_the_purge(
    app: Flask, visitor: Visitor, instance: Path
) -> None:
    """The database gone after the lost answer: files kept; once no row names them, purged."""
    page = visitor.start()
    with answer_lost("items", landed=False, then_down=True) as lost:
        response = visitor.send(page, "The SHO took money.")
    assert lost == ["items"]
    assert response.status_code == 503
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}
    assert len(envelope_files(instance)) == 1
    with app.app_context(), db_session(app) as session:
        purged = purge(session, _store(instance), today(), grace=dt.timedelta(0))
    assert purged.orphans == 1
    assert envelope_files(instance) == []


@pytest.mark.parametrize("marker", ["published", "commit-sent", "committed"])
def test_a_server_killed_during_a_submission_leaves_it_whole_or_gone(
    app: Flask, client: FlaskClient, instance: Path, marker: str
) -> None:
    """SIGKILL at each step of a browser report: its envelopes forced to disk and renamed,
    the COMMIT sent but not run, the COMMIT run but not answered. After the restart
    every row has its file, and a file no row names is held only for the purge."""
    page = Visitor(client).start()

    def run() -> None:
        database = app.extensions["raazdar.db"]
        database.engine.dispose(close=False)  # the parent's connections stay the parent's
        real_publish = EnvelopeStore.publish_staged
        real_commit: Callable[[DefaultDialect, Any], None] = DefaultDialect.do_commit

        def publish(store: EnvelopeStore, staged: Any) -> list[Path]:
            published = real_publish(store, staged)
            if marker == "published":
                os.kill(os.getpid(), signal.SIGKILL)
            armed.append(True)
            return published

        def do_commit(dialect: DefaultDialect, dbapi_connection: Any) -> None:
            if armed and marker == "commit-sent":
                os.kill(os.getpid(), signal.SIGKILL)
            real_commit(dialect, dbapi_connection)
            if armed and marker == "committed":
                os.kill(os.getpid(), signal.SIGKILL)

        armed: list[bool] = []
        EnvelopeStore.publish_staged = publish  # type: ignore[method-assign,assignment]
        DefaultDialect.do_commit = do_commit  # type: ignore[method-assign]
        photo = ("files", "photo.jpg", b"\xff\xd8 the SHO's car", "image/jpeg")
        Visitor(client).send(page, "The SHO took money.", [photo])

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    landed = row_counts(app, Item)["items"]
    assert landed == (2 if marker == "committed" else 0)
    assert _without_file(app, instance, Item) == [], "a report's row outlived its file"
    with app.app_context(), db_session(app) as session:
        purged = purge(session, _store(instance), today(), grace=dt.timedelta(0))
    assert purged.orphans == 2 - landed
    assert len(envelope_files(instance)) == landed
