"""The database: SQLAlchemy 2.0 engine and per-request sessions, SQLite or PostgreSQL.

On SQLite, a connection that wrote empties the WAL when it is handed back
(copied into the database, overwritten, cut, the cut flushed: `checkpoint`): the WAL would
otherwise keep, in the order they came, every change since the last checkpoint,
deleted rows included. In a request it is emptied once, after its response is
sent (`EmptiedAfterResponse`), however many times the request committed: each
emptying costs the disk five flushes, which the source does not wait for.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import sqlite3
import struct
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, Executable, Insert, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from app.errors import AppError, CommitUnconfirmed


class Base(DeclarativeBase):
    """Base class of every model."""


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys, secure_delete, no temp file.

    Its errors never quote a statement's parameters (`hide_parameters`): they can
    hold a lookup tag or a session's id, and an error may reach a log.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # secure_delete overwrites deleted content; WAL lets readers and a
            # writer work at once across gunicorn workers. Temporary tables, sorts and
            # VACUUM's copy of the database stay in memory: in a file (/var/tmp/etilqs_…,
            # deleted at once) every row went to the root filesystem, freed unwritten.
            for pragma in (
                "foreign_keys = ON",
                "secure_delete = ON",
                "temp_store = MEMORY",
                "journal_mode = WAL",
                "synchronous = FULL",
                "busy_timeout = 30000",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "savepoint")
        def _savepoint_in_a_transaction(connection: Connection, _name: str) -> None:
            # The driver begins a transaction only before a write: a SAVEPOINT
            # sent first would begin one of its own, and its RELEASE commit it.
            if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
                connection.exec_driver_sql("BEGIN")

        @event.listens_for(engine, "checkout")
        def _note_changes(
            dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
        ) -> None:
            record.info["raazdar.changes"] = dbapi_connection.total_changes

        @event.listens_for(engine, "close")
        def _empty_before_close(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # The last connection's close (a dispose: a worker's exit, a reload, a command's
            # end) makes SQLite copy the WAL and delete it unwritten: emptied here first. In
            # a request (the pool closing a connection past its size) the request's end
            # empties it, after the response: the pool's others keep this from being last.
            if _request_writes.get() is None:
                empty_wal(dbapi_connection)

        @event.listens_for(engine, "close_detached")
        def _empty_before_detached_close(dbapi_connection: Any) -> None:
            if _request_writes.get() is None:
                empty_wal(dbapi_connection)

        _ENGINES.add(engine)

        @event.listens_for(engine, "checkin")
        def _empty_wal(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            if dbapi_connection is None:
                return
            if dbapi_connection.total_changes == record.info.get("raazdar.changes"):
                return
            written = _request_writes.get()
            if written is not None:
                written.wrote = True  # emptied once the response is sent (`EmptiedAfterResponse`)
            else:
                empty_wal(dbapi_connection)

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


# How long emptying the WAL waits for readers before it leaves the WAL to `_Retry`.
_CHECKPOINT_WAIT_MS = 2000
# The SQLite engines this process made: disposed at its exit (`_dispose_at_exit`).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def empty_wal(dbapi_connection: Any) -> bool:
    """Copy the WAL into the database, overwrite it and cut it (SQLite in WAL mode).

    A reader still in the WAL makes the copy give up (busy): the WAL, frames and
    all, is then emptied again on a thread of its own until it is (`_Retry`), not
    left for the next write, nor for SQLite to delete unwritten at the last close.
    The emptying runs on a connection of its own (`_empty_apart`), never on the
    one that wrote: SQLite writes into the WAL's header how many times the writing
    connection started the WAL again (`nCkpt`, from its opening), and a pool's
    connection that emptied after each of its writes counted them there, from
    the worker's start, for a disk seized between a write and its emptying. A
    connection that only empties writes no frame, so no header; every writer's
    count stays 0, and SQLite then draws the header's salts at random.
    Says whether it was emptied.
    """
    path = ""
    with contextlib.suppress(sqlite3.Error):
        path = _main_path(dbapi_connection)
    if not path:
        return _empty_in_memory(dbapi_connection)
    emptied = _empty_apart(path)
    if not emptied:
        _Retry.of(path).soon()
    return emptied


def _empty_in_memory(dbapi_connection: Any) -> bool:
    """Empty the WAL of a database with no file (or none named) on its own connection."""
    with contextlib.suppress(sqlite3.Error):
        return checkpoint(dbapi_connection)
    return False


def _empty_apart(path: str) -> bool:
    """Empty the WAL of the database at `path` on a connection of its own; say whether it was.

    The connection opens the database only if it is still there (`mode=rw`): a
    database removed meanwhile is not made again, empty; it counts as emptied. A
    disk that fails the WAL's overwrite or flush (full, or an I/O error) counts as
    not emptied, as a busy reader does: it runs after the response, whose answer
    (a report filed) stands, and the WAL is tried again (`_Retry`), not left whole.
    """
    if not os.path.exists(path):
        return True
    uri = f"file:{urllib.parse.quote(path)}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    except sqlite3.Error:
        return not os.path.exists(path)
    try:
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute(f"PRAGMA busy_timeout = {_CHECKPOINT_WAIT_MS}")
        return checkpoint(connection)
    except (sqlite3.Error, OSError):
        return False
    finally:
        connection.close()


def _main_path(dbapi_connection: Any) -> str:
    """The main database's file ("" in memory)."""
    return next(
        (row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"),
        "",
    )


class _Retry:
    """Empties one database's WAL again, on a thread of its own, until an emptying succeeds.

    Its own connection opens the database only if it is still there (`mode=rw`):
    a database removed meanwhile is not made again, empty.
    """

    _all: ClassVar[dict[str, _Retry]] = {}
    _guard = threading.Lock()
    # The first wait after a busy emptying and the longest between two tries, in seconds.
    FIRST, LONGEST = 0.2, 5.0

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, path: str) -> _Retry:
        with cls._guard:
            return cls._all.setdefault(path, cls(path))

    def soon(self) -> None:
        """Empty the WAL once more after the emptying that gave up, until one succeeds."""
        with self._lock:
            self._pending = True
            if self._thread is None or not self._thread.is_alive():  # none yet, or forked
                self._thread = threading.Thread(target=self._run, name="raazdar-wal", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        wait = self.FIRST
        while True:
            time.sleep(wait)
            with self._lock:
                self._pending = False
            if not self._try():
                with self._lock:
                    self._pending = True
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
            wait = min(wait * 2, self.LONGEST)

    def _try(self) -> bool:
        """One emptying on a connection of its own; a database gone counts as emptied."""
        return _empty_apart(self._path)


@atexit.register
def _dispose_at_exit() -> None:
    """Dispose every SQLite engine as the process ends: each connection empties the WAL first.

    Left to the interpreter's teardown, the connections closed without it, and the
    last one's close made SQLite delete the WAL unwritten.
    """
    for engine in list(_ENGINES):
        with contextlib.suppress(Exception):
            engine.dispose()


def checkpoint(dbapi_connection: Any) -> bool:
    """Copy the WAL into the database, overwrite it, cut it and flush the cut; say whether it was.

    Cut alone (`PRAGMA wal_checkpoint(TRUNCATE)`), the WAL's blocks were freed with
    its frames in them: every page each commit changed, whole, as it left it. The
    items' page, written at each arrival, lay in the free blocks once per arrival,
    naming the items come so far, so a copy of the disk ordered a day's reports
    and kept each deleted row. So the frames are copied first (`RESTART`, which
    waits until no reader uses them), overwritten with zeros while this connection
    holds the write lock (`_blank_frames`), and only then cut. SQLite flushes the
    database before it cuts the WAL (`ftruncate`) but never flushes the cut: until
    the filesystem's next journal commit (ext4: up to 5 s) a power cut would bring
    the WAL back, so the cut is flushed here. Last, the WAL index's lists of the
    pages the frames held are overwritten (`_blank_index`). A reader still in the
    WAL makes SQLite leave it whole (busy): then there is nothing to flush.
    """
    path = _main_path(dbapi_connection)
    if not path:  # an in-memory database has no file
        busy, _log, _copied = dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
    wal = f"{path}-wal"
    try:
        fd = os.open(wal, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = None
    try:
        if fd is not None and os.fstat(fd).st_size == 0:
            # Nothing to copy or overwrite, and the cut was flushed when it was made (a
            # connection closing after the emptying that followed its last write).
            os.close(fd)
            fd = None
            _blank_index(dbapi_connection, wal, f"{path}-shm")
            return True
        header = b"" if fd is None else os.pread(fd, _WAL_HEADER, 0)
        for _attempt in range(_BLANK_ATTEMPTS):
            busy, _log, _copied = dbapi_connection.execute(
                "PRAGMA wal_checkpoint(RESTART)"
            ).fetchone()
            if busy:
                return False
            blanked, found = (True, header) if fd is None else _blank(dbapi_connection, fd, header)
            if blanked:
                break
            if found == header:
                return False  # a writer holds the lock: emptied when it is handed back
            header = found  # a writer came since: copy its frames too, then look again
        else:
            return False  # writers keep coming: the last one's hand-back empties the WAL
        busy, _log, _copied = dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            return False
        if fd is not None:
            os.fsync(fd)
    finally:
        if fd is not None:
            os.close(fd)
    _blank_index(dbapi_connection, wal, f"{path}-shm")
    return True


# A WAL file's header (its salts name the WAL's generation); its frames follow.
_WAL_HEADER = 32
# How many times a checkpoint copies the WAL again when a writer came before its zeros.
_BLANK_ATTEMPTS = 3


def _blank(dbapi_connection: Any, fd: int, header: bytes) -> tuple[bool, bytes]:
    """Write zeros over the WAL's frames (open as `fd`), all copied into the database.

    `header` is the WAL's header as read before the checkpoint that copied it. Under
    the write lock (`BEGIN IMMEDIATE`) no frame is added; a writer that came since
    that read began a new WAL (SQLite writes a new header, new salts, when it starts
    the log again over a WAL copied whole), whose frames may not be in the database:
    then the file is left as it is. With the header unchanged, every frame is in the
    database and every reader since reads the database alone (SQLite ignores a WAL
    copied whole), so the zeros lose nothing. The header goes first, flushed on its
    own: until the next flush the disk may take any of the zeros and not the rest,
    and a WAL whose header and first frames it missed, their later frames zeroed,
    still held valid frames, older than the database's pages, which SQLite read at
    boot over those pages (a power cut lost every commit after them:
    tests/app/test_wal_power_cut.py). With no valid header, SQLite reads no frame.
    The next writer writes a header of its own (it starts the log again over a WAL
    copied whole). Returns whether the frames are zeros now, and the header found
    (`header` itself if the lock was not had in time).
    """
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False, header
    try:
        found = os.pread(fd, _WAL_HEADER, 0)
        if found != header:
            return False, found
        size = os.fstat(fd).st_size
        if size > _WAL_HEADER:
            os.pwrite(fd, bytes(_WAL_HEADER), 0)
            os.fsync(fd)
        zeros = bytes(min(max(size - _WAL_HEADER, 0), 1024 * 1024))
        offset = _WAL_HEADER
        while offset < size:
            offset += os.pwrite(fd, zeros[: size - offset], offset)
        if zeros:
            # On the disk before the cut frees the blocks, or the cut frees them unwritten.
            os.fsync(fd)
        return True, found
    finally:
        dbapi_connection.execute("COMMIT")


# The WAL index's (`-shm`) two copies of its header and the checkpoint's record, and
# where each header copy keeps the WAL's last valid frame (`mxFrame`); the lists follow.
_INDEX_HEADER = 136
_INDEX_LAST_FRAME = (16, 64)


def _blank_index(dbapi_connection: Any, wal: str, shm: str) -> None:
    """Write zeros over the WAL index's lists of pages once the WAL is cut to nothing.

    The `-shm` file lists, frame by frame, the page each frame of the WAL held, and
    hashes them; cutting the WAL resets its header (no frame is valid) but leaves
    the lists until the next write starts the WAL again, when SQLite clears them
    itself. Until then they named the pages the last write changed, in order. The
    zeros are written under the write lock (`BEGIN IMMEDIATE`: no frame is added),
    only while both header copies say the WAL holds no frame and the WAL file is
    empty: a reader then reads the database alone and never looks in the lists, so
    they are what SQLite would clear. The header and the checkpoint's record (read
    marks, lock bytes) are left as they are. The file is written through SQLite's
    own descriptor: closing another one would drop the locks this process holds on
    it (POSIX locks are the process's, per file), which tell other processes the
    index is in use. Without that descriptor (not Linux) the lists are left.
    """
    fd = _descriptor_of(shm)
    if fd is None:
        return
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return  # a writer holds the lock: its frames make the lists live again
    try:
        _zero_lists(fd, wal)
    except OSError:
        pass  # left: the next emptying zeroes them
    finally:
        dbapi_connection.execute("COMMIT")


def _zero_lists(fd: int, wal: str) -> None:
    """Zero the index's lists (open as `fd`) if both headers and the WAL say no frame is valid."""
    header = os.pread(fd, _INDEX_HEADER, 0)
    if len(header) < _INDEX_HEADER or any(
        header[at : at + 4] != bytes(4) for at in _INDEX_LAST_FRAME
    ):
        return
    with contextlib.suppress(FileNotFoundError):
        if os.stat(wal).st_size:
            return
    size = os.fstat(fd).st_size
    offset = _INDEX_HEADER
    while offset < size:
        length = min(size - offset, 32768)
        if any(os.pread(fd, length, offset)):
            os.pwrite(fd, bytes(length), offset)
        offset += length
    _renew_header(fd, header)
    # Not flushed: SQLite never flushes the index, whose pages the kernel writes back
    # in place (within half a minute); they reach the disk as zeros, unless written
    # back in the moment between a write and its emptying.


# One copy of the WAL index's header: where it keeps the commits' counter (`iChange`),
# its "initialised" flag, the last frame's checksums, the WAL's salts and its own checksum.
_HEADER_COPY = 48
_HEADER_CHANGE, _HEADER_INIT, _HEADER_FRAME_SUMS, _HEADER_SALTS, _HEADER_SUM = 8, 12, 24, 32, 40


def _renew_header(fd: int, header: bytes) -> None:
    """Give the WAL index (open as `fd`) a header that counts nothing, the WAL being empty.

    SQLite adds one to the header's `iChange` at every commit and one to its first
    salt at every emptying, for as long as the `-shm` file lives: from the server's
    start (the file's creation time) to its stop. So a seizer read how many writes
    came since the start, and between two copies of the disk how many came in
    between. SQLite compares the whole header with the copy each connection keeps to
    know whether the database changed, and checks nothing else in it, so the counter
    and the salts are drawn at random instead (a collision with a kept copy: 2^-64),
    the last frame's checksums (unused while no frame is valid) are zeros, and the
    header's own checksum is made again as SQLite makes it. The second copy is
    written first, as SQLite does: a reader between the two sees them differ and
    reads again. Called under the write lock, only while both copies say the WAL
    holds no frame and the WAL file is empty; copies that differ are left as they are.
    """
    first = header[:_HEADER_COPY]
    if first != header[_HEADER_COPY : 2 * _HEADER_COPY] or first[_HEADER_INIT] != 1:
        return
    renewed = bytearray(first)
    renewed[_HEADER_CHANGE : _HEADER_CHANGE + 4] = secrets.token_bytes(4)
    renewed[_HEADER_FRAME_SUMS:_HEADER_SALTS] = bytes(8)
    renewed[_HEADER_SALTS:_HEADER_SUM] = secrets.token_bytes(8)
    sum1 = sum2 = 0
    words = struct.unpack(f"={_HEADER_SUM // 4}I", renewed[:_HEADER_SUM])
    for at in range(0, len(words), 2):
        sum1 = (sum1 + words[at] + sum2) & 0xFFFFFFFF
        sum2 = (sum2 + words[at + 1] + sum1) & 0xFFFFFFFF
    struct.pack_into("=2I", renewed, _HEADER_SUM, sum1, sum2)
    os.pwrite(fd, renewed, _HEADER_COPY)
    os.pwrite(fd, renewed, 0)


# Where the database header keeps its change counter and the counter its page count is
# valid for (`version-valid-for`): SQLite trusts that count only while the two are equal.
_CHANGE_COUNTER, _VALID_FOR = 24, 92


def renew_change_counter(dbapi_connection: Any) -> bool:
    """Give the database header's change counter a random value; say whether the WAL took it.

    SQLite adds one to it at every commit that writes page 1: one that takes a free
    page or grows the file (most submissions' do), a VACUUM. It never reads it in
    WAL mode, and VACUUM carries it over, so from the database's creation it
    counted them, purged reports' included, and two copies of the disk said how
    many came in between. It is written, with the count it makes valid, through
    SQLite's own descriptor (closing another would drop this process's locks on
    the file), under the write lock and only while the WAL is empty (no frame of
    page 1 hides the file's). A fresh connection then commits page 1 again: every
    other connection, seeing a commit, drops the page 1 it kept, and the WAL holds
    the new counter until the next emptying. A connection that committed page 1
    from its old copy in between only puts the old counter back; nothing is lost.
    """
    path = _main_path(dbapi_connection)
    fd = _descriptor_of(path) if path else None
    if fd is None:
        return False
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    try:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(f"{path}-wal").st_size:
                return False
        counter = secrets.token_bytes(4)
        os.pwrite(fd, counter, _CHANGE_COUNTER)
        os.pwrite(fd, counter, _VALID_FOR)
        os.fsync(fd)
    finally:
        dbapi_connection.execute("COMMIT")
    uri = f"file:{urllib.parse.quote(path)}?mode=rw"
    try:
        with contextlib.closing(
            sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        ) as fresh:
            version = int(fresh.execute("PRAGMA user_version").fetchone()[0])
            fresh.execute(f"PRAGMA user_version = {version}")
    except sqlite3.Error:
        return False  # the file has the new counter; a connection's old page 1 may put it back
    return True


def _descriptor_of(path: str) -> int | None:
    """A descriptor this process already holds open on `path` for writing, if any (Linux)."""
    target = os.path.realpath(path)
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for name in names:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}") == target and (
                fcntl.fcntl(int(name), fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR
            ):
                return int(name)
    return None


def flush(path: str) -> None:
    """Flush a file's content and size to the disk."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Database:
    """Owns the engine for one app and hands out a session per request."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None

    def init_app(self, app: Flask) -> None:
        """Create the engine from `DATABASE_URL` and close sessions after each request."""
        self.engine = make_engine(app.config["DATABASE_URL"])
        if self.engine.dialect.name == "sqlite":
            # Open SQLite's WAL and shared-memory files now, at start-up: made by the
            # first request instead, their creation times would say when it came. A WAL a
            # killed run left (its last writes' frames, in order) is emptied now, not at
            # this run's first write.
            with self.engine.connect() as connection:
                empty_wal(connection.connection.dbapi_connection)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        app.extensions["raazdar.db"] = self
        app.teardown_appcontext(self._remove)
        if self.engine.dialect.name == "sqlite":
            app.wsgi_app = EmptiedAfterResponse(app.wsgi_app, self)  # type: ignore[method-assign]

    def new_session(self) -> Session:
        """Return a fresh session (outside requests: CLI, tests)."""
        assert self._factory is not None  # noqa: S101 - init_app runs first
        return self._factory()

    def _remove(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()

    def empty_wal(self) -> None:
        """Empty SQLite's WAL on a connection of the pool (a request that wrote has ended)."""
        if self.engine is not None:
            with self.engine.connect() as connection:
                empty_wal(connection.connection.dbapi_connection)


class _Writes:
    """A request's note that a connection it handed back had changed the database."""

    __slots__ = ("wrote",)

    def __init__(self) -> None:
        self.wrote = False


# Set for the length of a request by `EmptiedAfterResponse`; unset (CLI, threads), a
# connection that wrote empties the WAL as it is handed back.
_request_writes: ContextVar[_Writes | None] = ContextVar("raazdar_request_writes", default=None)


class EmptiedAfterResponse:
    """WSGI middleware: a request that wrote empties SQLite's WAL once its response is sent.

    The request's writes are committed before its response exists (the whole
    Flask request, teardown included, runs inside the app's call); emptying the
    WAL costs the disk four or five flushes more, which the source need not wait
    for. The server closes the response once its body is written (gunicorn: in
    the request's thread, before that thread takes another request, even if the
    client went away), and the WAL is emptied then. An error raised out of the
    app empties it before it goes on. A request that wrote nothing gets its
    response untouched (a file's response keeps the server's sendfile).
    """

    def __init__(self, wsgi_app: Any, database: Database) -> None:
        self._wsgi_app = wsgi_app
        self._database = database

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        writes = _Writes()
        token = _request_writes.set(writes)
        try:
            response = self._wsgi_app(environ, start_response)
        except BaseException:
            _request_writes.reset(token)
            if writes.wrote:
                self._database.empty_wal()
            raise
        _request_writes.reset(token)
        if not writes.wrote:
            return response
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(response, file_wrapper):
            # A file sent as it is (`send_file`): the WAL is emptied before it goes, as a
            # slow download would otherwise hold its frames, and the server keeps its
            # sendfile. (The staff pages' export, once such a file, is now written as it is
            # sent, on a thread whose own connection empties the WAL: `BundleStream`.)
            self._database.empty_wal()
            return response
        return _ClosedThenEmptied(response, self._database)


class _ClosedThenEmptied:
    """A response's body whose `close` also empties the WAL, whatever the body's close does."""

    def __init__(self, response: Iterable[bytes], database: Database) -> None:
        self._response = response
        self._database = database

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._response)

    def close(self) -> None:
        try:
            close = getattr(self._response, "close", None)
            if close is not None:
                close()
        finally:
            self._database.empty_wal()


def insert_absent(session: Session, table: type[Base]) -> Insert:
    """An insert of a row of `table` that does nothing where a row with its key is already."""
    dialect = session.get_bind().dialect.name
    # Imported here: each dialect's module is large, and an instance uses one.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    raise AppError(f"no insert that keeps a row already there on {dialect}")


def db_session() -> Session:
    """Return the current request's session."""
    if "db_session" not in g:
        database: Database = current_app.extensions["raazdar.db"]
        g.db_session = database.new_session()
    session: Session = g.db_session
    return session


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a block in one transaction on the request's session: commit or roll back."""
    session = db_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def own_session() -> Session:
    """Return a session apart from the request's, for work that outlives the request (a
    download written as it is sent: the request's session is closed before its body goes)."""
    database: Database = current_app.extensions["raazdar.db"]
    return database.new_session()


def commit_or_confirm(session: Session, proof: Executable) -> None:
    """Commit; if the commit's answer is lost, ask the database whether it landed.

    A cut connection, a killed backend or a timeout can lose the answer to a
    COMMIT the database carried out: the files stored for that transaction are
    then named by committed rows, and destroying them loses what a source sent
    while a retry is told it was filed. `proof` selects a row only this
    transaction wrote. Found, the commit counts as answered; not found, its own
    error is raised (the caller undoes its files); and `CommitUnconfirmed` if the
    database cannot be asked (the caller keeps its files: the retention purge
    removes any that no row names).
    """
    try:
        session.commit()
    except IntegrityError:
        raise  # refused by a constraint: certainly not carried out
    except Exception:
        session.rollback()
        try:
            bind = session.get_bind()
            engine = bind if isinstance(bind, Engine) else bind.engine
            with engine.connect() as connection:
                landed = connection.execute(proof).first() is not None
        except Exception as again:
            raise CommitUnconfirmed("the database did not say whether it stored this") from again
        if not landed:
            raise
        # Not logged: a log line's time would say when the transaction's source came.
