"""The database layer: transactions mean on SQLite what they mean on PostgreSQL."""

from __future__ import annotations

import io
import itertools
import os
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.wsgi import FileWrapper

from app import db as app_db
from app.db import db_session
from app.models import Item, Throttle
from tests.app.support import Visitor, flushes_seen, form, multipart


def test_work_in_a_savepoint_is_undone_with_its_transaction(app: Flask) -> None:
    """A savepoint opened after reads alone nests in the request's transaction.

    SQLite's Python driver begins a transaction only before a write, so a
    SAVEPOINT issued first began one of its own and its RELEASE committed it:
    a new source's row was on disk before its submission's items (and stayed
    if they failed), at the cost of one more commit's flushes.
    """
    database = app.extensions["raazdar.db"]
    with database.new_session() as session:
        session.execute(select(Throttle)).all()  # a read first, as a request does
        with session.begin_nested():
            session.add(Throttle(bucket="savepoint", window=1, failures=1))
        session.rollback()

    with database.new_session() as session:
        assert session.get(Throttle, "savepoint") is None


def _wsgi_call(app: Flask, view: Callable[[], None]) -> Iterable[bytes]:
    """Run `view` as a request's work under the app's WSGI stack's WAL middleware."""
    database = app.extensions["raazdar.db"]

    def inner(_environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with app.test_request_context():
            view()
        start_response("200 OK", [])
        return [b"ok"]

    middleware = app_db.EmptiedAfterResponse(inner, database)
    return middleware({}, lambda *_: None)  # type: ignore[no-any-return]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_commits_twice_empties_the_wal_once_as_it_ends(app: Flask) -> None:
    """Each emptying flushes the disk three times; the WAL is empty after each request."""
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    held: list[int] = []

    def view() -> None:
        session = db_session()
        session.add(Throttle(bucket="first", window=1, failures=1))
        session.commit()
        held.append(wal.stat().st_size)  # the request goes on: its writes wait in the WAL
        session.add(Throttle(bucket="second", window=1, failures=1))
        session.commit()
        held.append(wal.stat().st_size)

    body = _wsgi_call(app, view)
    assert list(body) == [b"ok"]
    assert held[0] > 0
    assert held[1] > held[0]
    assert wal.stat().st_size == held[1]  # the response is out: not emptied yet
    body.close()  # type: ignore[attr-defined]
    assert wal.stat().st_size == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_connection_the_pool_closes_in_a_request_leaves_the_emptying_to_its_end(
    app: Flask,
) -> None:
    """Past the pool's size, a connection handed back is closed: the request's writes
    must still wait for its response to be sent, not be emptied (five flushes) first."""
    engine = app.extensions["raazdar.db"].engine
    wal = Path(str(engine.url.database) + "-wal")
    held: list[int] = []

    def view() -> None:
        session = db_session()
        session.add(Throttle(bucket="crowded", window=1, failures=1))
        session.commit()
        crowd = [engine.connect() for _ in range(engine.pool.size() + 1)]
        for connection in crowd:
            connection.close()  # the last one is past the pool's size: closed
        held.append(wal.stat().st_size)

    body = _wsgi_call(app, view)
    assert list(body) == [b"ok"]
    assert held[0] > 0, "the WAL was emptied in the request, before its response was sent"
    body.close()  # type: ignore[attr-defined]
    assert wal.stat().st_size == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_wrote_and_failed_empties_the_wal_before_its_error_goes_on(
    app: Flask,
) -> None:
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")

    def view() -> None:
        session = db_session()
        session.add(Throttle(bucket="failed", window=1, failures=1))
        session.commit()
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        _wsgi_call(app, view)
    assert wal.stat().st_size == 0
    assert app.extensions["raazdar.db"].engine.pool.checkedout() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_wrote_nothing_keeps_its_response_and_a_thread_s_writes_are_its_own(
    app: Flask,
) -> None:
    """Requests on other threads (gthread) neither take nor hand over each other's emptying."""
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    inside = threading.Event()
    written = threading.Event()
    results: dict[str, Iterable[bytes]] = {}

    def writer() -> None:
        def view() -> None:
            session = db_session()
            session.add(Throttle(bucket="threaded", window=1, failures=1))
            session.commit()
            written.set()

        results["writer"] = _wsgi_call(app, view)

    def reader() -> None:
        def view() -> None:
            inside.set()
            assert written.wait(10)
            db_session().get(Throttle, "threaded")

        results["reader"] = _wsgi_call(app, view)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert isinstance(results["reader"], list)  # untouched: nothing to empty
    assert not isinstance(results["writer"], list)
    assert wal.stat().st_size > 0
    results["writer"].close()  # type: ignore[attr-defined]
    assert wal.stat().st_size == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_outside_a_request_the_wal_is_emptied_at_each_commit(app: Flask) -> None:
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    with app.app_context(), app.extensions["raazdar.db"].new_session() as session:
        session.add(Throttle(bucket="cli", window=1, failures=1))
        session.commit()

        assert wal.stat().st_size == 0


class _Watched(io.BytesIO):
    """A request body that notes, at each read, how many database connections are out."""

    def __init__(self, data: bytes, app: Flask) -> None:
        super().__init__(data)
        self._pool = app.extensions["raazdar.db"].engine.pool
        self.held: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.held.append(self._pool.checkedout())
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        self.held.append(self._pool.checkedout())
        return super().readinto(buffer)


@pytest.mark.parametrize("signed_in", [False, True], ids=["first-report", "signed-in"])
def test_a_report_still_streaming_in_holds_no_database_connection(
    app: Flask, signed_in: bool
) -> None:
    """A browser report's body comes over Tor for minutes, and its request had read the
    settings (and the login) in a transaction it kept open all the while: on PostgreSQL a
    connection idle in a transaction per slow body. A flood of slow bodies held one per
    thread, 15 per worker, 120 on a host of four cores, past PostgreSQL's 100: every
    request of every host then met "too many clients", and no report could be filed."""
    visitor = Visitor(app.test_client())
    page = visitor.start()
    if signed_in:
        visitor.filed(visitor.send(page, "an earlier report"))
        page = form(visitor.get("/account"), "/account")
    body, content_type = multipart(
        [*page.fields.items(), ("message", "The SHO took money.")],
        [("files", "photo.jpg", b"\xff" * 200_000, "image/jpeg")],
    )
    stream = _Watched(body, app)
    response = visitor.client.post(
        page.action,
        input_stream=stream,
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    )
    visitor.filed(response)
    assert max(stream.held) == 0, (
        f"the request held {max(stream.held)} database connection(s) while its body came"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_emptying_the_wal_flushes_its_truncation(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite cuts the WAL with ftruncate and never flushes the cut.

    Until the filesystem's next journal commit (ext4: up to 5 s) a power cut,
    which is how a server is seized, brings back the frames the WAL held:
    the last writes, deleted rows included, in the order they came.
    """
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    flushed = flushes_seen(monkeypatch)
    with app.app_context(), app.extensions["raazdar.db"].new_session() as session:
        session.add(Throttle(bucket="cut", window=1, failures=1))
        session.commit()

    assert wal.stat().st_size == 0
    assert (str(wal.resolve()), 0) in flushed, "the WAL's truncation was never flushed"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_wal_is_emptied_after_the_response_is_handed_to_the_server(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emptying the WAL costs four or five flushes: the source must not wait for them.

    The server writes the response's body, then closes it (gunicorn: in the
    request's thread, before it takes the connection's next request); the WAL
    is emptied then, once, and no connection is left out of the pool.
    """
    database = app.extensions["raazdar.db"]
    wal = Path(str(database.engine.url.database) + "-wal")
    visitor = Visitor(FlaskClient(app, app.response_class))  # closes nothing by itself
    page = visitor.start()
    emptied: list[int] = []
    real_empty_wal = app_db.empty_wal

    def spy(dbapi_connection: Any) -> None:
        emptied.append(wal.stat().st_size)
        real_empty_wal(dbapi_connection)

    monkeypatch.setattr(app_db, "empty_wal", spy)
    response = visitor.send(page, message="a report")
    assert response.status_code < 400

    assert emptied == [], "the WAL was emptied before the response was handed to the server"
    assert wal.stat().st_size > 0  # the report is committed: its frames are in the WAL
    response.close()
    assert len(emptied) == 1
    assert wal.stat().st_size == 0
    assert database.engine.pool.checkedout() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_sent_after_a_write_goes_with_the_wal_emptied_and_its_sendfile_kept(
    app: Flask,
) -> None:
    """A request writes, then sends a file for minutes (a slow download): its frames must not
    wait. (The staff pages' export, which did so, is now streamed: `BundleStream`.)"""
    database = app.extensions["raazdar.db"]
    wal = Path(str(database.engine.url.database) + "-wal")
    sent = FileWrapper(io.BytesIO(b"bundle"))

    def inner(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with app.test_request_context():
            session = db_session()
            session.add(Throttle(bucket="exported", window=1, failures=1))
            session.commit()
        start_response("200 OK", [])
        return sent

    middleware = app_db.EmptiedAfterResponse(inner, database)
    response = middleware({"wsgi.file_wrapper": FileWrapper}, lambda *_: None)
    assert response is sent
    assert wal.stat().st_size == 0
    assert database.engine.pool.checkedout() == 0


class _Overheard:
    """A connection whose statements a test sees, and acts on, before SQLite runs them."""

    def __init__(self, raw: sqlite3.Connection, before: Callable[[str], None]) -> None:
        self._raw, self._before = raw, before

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._before(sql)
        return self._raw.execute(sql, *args)


def _wal_database(tmp_path: Path) -> tuple[Path, Callable[[], sqlite3.Connection]]:
    """A WAL database of one table that nothing checkpoints but the test."""
    path = tmp_path / "wal.db"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, timeout=5)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        return connection

    connect().execute("CREATE TABLE items (id TEXT PRIMARY KEY) WITHOUT ROWID")
    return path, connect


def test_the_wal_is_overwritten_before_it_is_cut(tmp_path: Path) -> None:
    """Cut with its frames in it, the WAL's freed blocks kept each commit's pages.

    The items' page, once per arrival, naming the items come so far: a copy of the
    disk ordered the day's reports (tests/app/operations/test_freed_blocks.py reads
    them from an ext4 disk). At the cut the WAL must hold nothing but zeros past its
    header.
    """
    path, connect = _wal_database(tmp_path)
    writer = connect()
    for n in range(3):
        writer.execute("INSERT INTO items VALUES (?)", (f"CANARY-{n}",))
    wal = Path(f"{path}-wal")
    at_the_cut: list[bytes] = []

    def before(sql: str) -> None:
        if "TRUNCATE" in sql:
            at_the_cut.append(wal.read_bytes())

    assert app_db.checkpoint(_Overheard(writer, before))
    assert at_the_cut, "the WAL was never cut"
    frames = at_the_cut[0][32:]
    assert b"CANARY" not in frames, "the WAL was cut with its frames in it"
    assert frames.count(0) == len(frames)
    assert wal.stat().st_size == 0
    assert {r[0] for r in connect().execute("SELECT id FROM items")} == {
        f"CANARY-{n}" for n in range(3)
    }


def test_a_write_between_the_copy_and_the_zeros_is_kept(tmp_path: Path) -> None:
    """A writer that commits after the WAL was copied starts it anew: its frames are not zeroed."""
    _path, connect = _wal_database(tmp_path)
    first, second = connect(), connect()
    first.execute("INSERT INTO items VALUES ('before')")
    came: list[str] = []

    def before(sql: str) -> None:
        if sql.startswith("BEGIN IMMEDIATE") and not came:
            came.append("late")
            second.execute("INSERT INTO items VALUES ('late')")  # in the WAL, not yet copied

    app_db.checkpoint(_Overheard(first, before))
    assert came, "the checkpoint never took the write lock"
    second.close()
    first.close()
    again = connect()
    assert again.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert {r[0] for r in again.execute("SELECT id FROM items")} == {"before", "late"}


def test_the_wal_sqlite_deletes_at_the_last_close_holds_no_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader made the emptying at the hand-back give up (busy); the WAL kept its frames.

    When the last connection closes (the engine disposed: a worker's exit, a reload,
    a CLI command's end), SQLite copies the WAL into the database and deletes it,
    unwritten: its freed blocks keep every frame, the pages of the latest writes in
    the order they came. The file is held open here to read what was deleted.
    """
    monkeypatch.setattr(app_db, "_CHECKPOINT_WAIT_MS", 50)
    path = tmp_path / "raazdar.db"
    engine = app_db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE items (id TEXT PRIMARY KEY)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM items").fetchone()  # holds the WAL as it is
    for n in range(3):
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO items VALUES (?)", (f"CANARY-{n}",))
    wal = Path(f"{path}-wal")
    held = os.open(wal, os.O_RDONLY)
    try:
        reader.execute("COMMIT")
        reader.close()
        engine.dispose()
        deleted = os.pread(held, os.fstat(held).st_size, 0)
    finally:
        os.close(held)
    assert b"CANARY" not in deleted, (
        f"the last connection's close deleted a WAL of {len(deleted)} bytes with its frames in it"
    )
    check = sqlite3.connect(path)
    kept = {r[0] for r in check.execute("SELECT id FROM items")}
    assert kept == {f"CANARY-{n}" for n in range(3)}
    check.close()


def test_an_emptying_a_reader_made_give_up_is_tried_again_without_another_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given up (busy), the emptying waited for the next write: on a quiet night, hours.

    The WAL meanwhile held the last submissions' pages, in order, for a seizer.
    """
    monkeypatch.setattr(app_db, "_CHECKPOINT_WAIT_MS", 50)
    path = tmp_path / "raazdar.db"
    engine = app_db.make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE items (id TEXT PRIMARY KEY)")
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM items").fetchone()
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO items VALUES ('CANARY')")
        wal = Path(f"{path}-wal")
        assert b"CANARY" in wal.read_bytes()  # the reader made the emptying give up
        reader.execute("COMMIT")
        reader.close()
        deadline = time.monotonic() + 5
        while wal.stat().st_size and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"CANARY" not in wal.read_bytes(), (
            "the WAL kept the write's frames after its reader left, waiting for another write"
        )
        assert wal.stat().st_size == 0
    finally:
        engine.dispose()


_LEFT_AT_EXIT = """
import sqlite3, sys
from app import db
db._CHECKPOINT_WAIT_MS = 50
db._Retry.FIRST = 600.0  # the exit comes first
engine = db.make_engine(f"sqlite:///{sys.argv[1]}")
with engine.begin() as connection:
    connection.exec_driver_sql("CREATE TABLE items (id TEXT PRIMARY KEY)")
reader = sqlite3.connect(sys.argv[1], isolation_level=None)
reader.execute("BEGIN")
reader.execute("SELECT count(*) FROM items").fetchone()
with engine.begin() as connection:
    connection.exec_driver_sql("INSERT INTO items VALUES ('CANARY')")
print("written", flush=True)
sys.stdin.readline()
reader.execute("COMMIT")
reader.close()
"""


def test_a_process_ending_without_disposing_its_engine_leaves_no_frame_in_the_wal(
    tmp_path: Path,
) -> None:
    """A command or a worker that ends without disposing: the interpreter closed the
    connections, and SQLite deleted the WAL, frames and all, at the last close."""
    path = tmp_path / "raazdar.db"
    with subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _LEFT_AT_EXIT, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        try:
            assert child.stdout.readline() == "written\n"
            held = os.open(f"{path}-wal", os.O_RDONLY)
            try:
                child.stdin.write("go\n")
                child.stdin.close()
                assert child.wait(timeout=30) == 0
                deleted = os.pread(held, os.fstat(held).st_size, 0)
            finally:
                os.close(held)
        finally:
            if child.poll() is None:
                child.kill()
    assert b"CANARY" not in deleted, f"the process's end left {len(deleted)} bytes of frames"


def index_pages(shm: bytes) -> set[int]:
    """The page numbers SQLite's WAL index (`-shm`) lists after its header.

    Each 32 KiB region lists, frame by frame, the page each frame held (4096
    numbers, the first region's first 34 taken by the header), then a hash of them.
    """
    numbers: set[int] = set()
    for region in range(0, len(shm), 32768):
        start = region + (136 if region == 0 else 0)
        listed = shm[start : region + 16384]
        numbers.update(n for n in struct.unpack(f"<{len(listed) // 4}I", listed) if n)
    return numbers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_wal_index_names_no_page_the_last_write_changed(app: Flask) -> None:
    """The `-shm` lists the page of each frame of the WAL emptied last, in order.

    SQLite clears that list only when the next write starts the WAL again: until
    then a seizer read which pages the last submission wrote (its source's row,
    its items' page) and so which report came last.
    """
    database = Path(str(app.extensions["raazdar.db"].engine.url.database))
    arrivals: list[set[str]] = []
    for n in range(3):
        visitor = Visitor(app.test_client())
        visitor.filed(visitor.send(visitor.start(), f"report {n}"))
        with app.extensions["raazdar.db"].new_session() as session:
            arrivals.append(set(session.scalars(select(Item.id))) - set().union(*arrivals))
    wal = Path(f"{database}-wal")
    assert wal.stat().st_size == 0
    listed = index_pages(Path(f"{database}-shm").read_bytes())
    content = database.read_bytes()
    size = int.from_bytes(content[16:18], "big")
    named = sorted(
        n
        for n, ids in enumerate(arrivals)
        for p in listed
        if any(i.encode() in content[(p - 1) * size : p * size] for i in ids)
    )
    assert not listed, (
        f"the -shm names the pages the last write changed: {sorted(listed)}, "
        f"holding the items of report(s) {sorted(set(named))} of 0 to 2"
    )


_KILLED_WRITER = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode = WAL")
connection.execute("PRAGMA wal_autocheckpoint = 0")
connection.execute("CREATE TABLE items (id TEXT PRIMARY KEY)")
for n in range(3):
    connection.execute("INSERT INTO items VALUES (?)", (f"CANARY-{n}",))
os._exit(0)  # killed: never closed, the WAL keeps its frames
"""


def crashed_writer(path: Path) -> None:
    """Leave at `path` what a server killed after three writes leaves: a WAL of their frames."""
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path)], check=True)  # noqa: S603
    assert b"CANARY-2" in Path(f"{path}-wal").read_bytes()


def test_a_wal_a_killed_server_left_is_emptied_when_the_next_one_starts(tmp_path: Path) -> None:
    """A server killed (out of memory, a power cut) leaves its last writes in the WAL, in order.

    The next start opened the database and left them there until its first write.
    """
    path = tmp_path / "raazdar.db"
    crashed_writer(path)
    flask_app = Flask(__name__)
    flask_app.config["DATABASE_URL"] = f"sqlite:///{path}"
    database = app_db.Database()
    database.init_app(flask_app)
    try:
        wal = Path(f"{path}-wal")
        assert b"CANARY" not in wal.read_bytes(), (
            f"the server started with {wal.stat().st_size} bytes of the last run's frames"
        )
        assert wal.stat().st_size == 0
        assert not index_pages(Path(f"{path}-shm").read_bytes())
    finally:
        assert database.engine is not None
        database.engine.dispose()


def test_a_wal_a_crash_left_is_overwritten_by_the_first_to_open_the_database(
    tmp_path: Path,
) -> None:
    """A writer killed before its checkpoint (a power cut, OOM) leaves its frames in the WAL.

    The next process to open and close the database (`raazdar serve` starting
    again, `raazdar doctor`, `raazdar migrate`) wrote nothing, so emptied nothing;
    last to close, SQLite copied the WAL in and deleted it, its frames freed
    unwritten, each commit's pages as it left them.
    """
    database = tmp_path / "raazdar.db"
    engine = app_db.make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE items (id TEXT PRIMARY KEY) WITHOUT ROWID")
    engine.dispose()
    killed = (
        "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        "c.execute('PRAGMA wal_autocheckpoint = 0');"
        "c.execute(\"INSERT INTO items VALUES ('CANARY')\"); c.commit(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", killed, str(database)], check=True, timeout=60)  # noqa: S603
    fd = os.open(f"{database}-wal", os.O_RDONLY)  # the inode, as the disk keeps it once freed
    try:
        assert b"CANARY" in os.pread(fd, os.fstat(fd).st_size, 0)
        reader = app_db.make_engine(f"sqlite:///{database}")
        with reader.connect() as connection:
            assert connection.exec_driver_sql("SELECT id FROM items").scalars().all() == ["CANARY"]
        reader.dispose()
        left = os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)
    assert b"CANARY" not in left, "the WAL a crash left was freed with its frames in it"


def index_commits(shm: bytes) -> int:
    """The commits SQLite's WAL index header counts (`iChange`, native byte order)."""
    return int(struct.unpack_from("=I", shm, 8)[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_wal_index_counts_no_write_since_the_server_started(app: Flask) -> None:
    """The `-shm` header's `iChange` goes up by one at every commit, for as long as the file lives.

    It lives from the server's start (its creation time) to its stop, so a seizer
    read how many writes came since the start: with the day's counts, how many
    of the day's reports came after it, and between two copies how many came
    in between. Each emptying now leaves a fresh header that counts nothing.
    """
    database = Path(str(app.extensions["raazdar.db"].engine.url.database))
    seen = []
    for n in range(4):
        visitor = Visitor(app.test_client())
        visitor.filed(visitor.send(visitor.start(), f"report {n}"))
        assert Path(f"{database}-wal").stat().st_size == 0
        seen.append(index_commits(Path(f"{database}-shm").read_bytes()))
    steps = [(b - a) % 2**32 for a, b in itertools.pairwise(seen)]
    assert not all(0 < step < 1000 for step in steps), (
        f"the -shm counted the commits of each report: {seen}, "
        f"{steps} commits between one report and the next"
    )
    with app.extensions["raazdar.db"].new_session() as session:
        assert len(session.scalars(select(Item.id)).all()) >= 4


def wal_header(wal: Path) -> tuple[int, int, int]:
    """The WAL header's checkpoint counter and two salts (big-endian), as a seizer reads them."""
    counter, salt1, salt2 = struct.unpack_from(">3I", wal.read_bytes(), 12)
    return counter, salt1, salt2


def test_the_wal_header_counts_no_write_since_the_connection_opened(tmp_path: Path) -> None:
    """The WAL's header, there from a write to its emptying, keeps the writer's checkpoint count.

    SQLite writes into it how many times the writing connection started the WAL
    again (`nCkpt`), counted from the connection's opening: a pool's connection,
    open from the worker's start, emptied the WAL after its own writes and so
    went up by one at each. A disk seized while a report's frames waited (a power
    cut after the commit, a reader holding the WAL) said how many writes that
    connection had made since the server started. Each emptying is now done on
    a connection of its own, which writes no frame.
    """
    database = tmp_path / "raazdar.db"
    engine = app_db.make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE items (id TEXT PRIMARY KEY)")
    seen = []
    try:
        for n in range(3):
            with engine.connect() as connection:
                connection.exec_driver_sql("INSERT INTO items VALUES (?)", (str(n),))
                connection.commit()
                seen.append(wal_header(Path(f"{database}-wal")))  # committed, not yet emptied
            assert Path(f"{database}-wal").stat().st_size == 0
    finally:
        engine.dispose()
    counters = [counter for counter, _salt1, _salt2 in seen]
    assert counters == [0, 0, 0], f"the WAL header counted the writes: {counters}"
    salts = [salt1 for _counter, salt1, _salt2 in seen]
    steps = [(b - a) % 2**32 for a, b in itertools.pairwise(salts)]
    assert not all(0 < step < 1000 for step in steps), f"its first salt counted them: {salts}"
