"""A seizure of PostgreSQL's data directory: the commit times its WAL keeps, and its superuser.

The tests that use it need the cluster's data directory and its `postgres` superuser:
root on the machine that runs the PostgreSQL tier (tests/run.sh, as in CI). Elsewhere
they skip, saying why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import secrets
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy.engine import make_url

# XLOG_PAGE_MAGIC of PostgreSQL 15's WAL pages; XLOG_BLCKSZ.
_PAGE_MAGICS: Final = frozenset({0xD110})
_PAGE: Final = 8192
_SHORT_HEADER: Final = 24
_LONG_HEADER: Final = 40
_XLP_LONG_HEADER: Final = 0x0002
# An XLogRecord's header: total length, xid, previous record, info, resource manager.
_RECORD: Final = struct.Struct("<IIQBB2xI")
_RM_XACT: Final = 1
_XACT_OPMASK: Final = 0x70
_XACT_COMMITS: Final = frozenset({0x00, 0x30})  # COMMIT, COMMIT_PREPARED
_XLR_BLOCK_ID_DATA_SHORT: Final = 255
_XLR_BLOCK_ID_DATA_LONG: Final = 254
_POSTGRES_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def superuser(sql: str, database: str = "postgres") -> str:
    """Run `sql` as the cluster's superuser (peer login over its socket) in `database`; its rows."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("reading PostgreSQL's data directory needs root (tests/run.sh runs as root)")
    psql = ["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1"]
    done = subprocess.run(  # noqa: S603 - fixed arguments, the SQL the test's own
        [*psql, "-d", database, "-c", sql],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql as postgres failed: {done.stderr.strip()}")
    return done.stdout.strip()


def data_directory() -> Path:
    """The cluster's data directory."""
    return Path(superuser("SHOW data_directory"))


@dataclass(frozen=True)
class Commit:
    """A commit record found in a WAL file: whose, when, and where."""

    xid: int
    time: dt.datetime
    file: str


def wal_commits(pg_wal: Path, xids: set[int]) -> list[Commit]:
    """Every commit record of `xids` in any file of `pg_wal`, recycled ones included.

    Read as a seizer would, page by page, not by the files' names: a recycled
    segment is renamed for a later position and keeps its old pages until they are
    written over, and pg_waldump, given its new name, reads none of them.
    """
    found: list[Commit] = []
    for path in sorted(pg_wal.iterdir()):
        if not path.is_file() or len(path.name) != 24:
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # removed by a checkpoint meanwhile
            continue
        for start, stream in _runs(data):
            for xid in xids:
                found += _commits_in(start, stream, xid, path.name)
    return found


def _runs(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Each run of pages of consecutive WAL positions, headers cut: its first LSN and bytes."""
    run: list[bytes] = []
    first = expected = -1
    for offset in range(0, len(data) - _PAGE + 1, _PAGE):
        page = data[offset : offset + _PAGE]
        magic, info, _tli, address = struct.unpack_from("<HHIQ", page)
        if magic not in _PAGE_MAGICS:
            if run:
                yield first, b"".join(run)
            run, expected = [], -1
            continue
        header = _LONG_HEADER if info & _XLP_LONG_HEADER else _SHORT_HEADER
        if address != expected and run:
            yield first, b"".join(run)
            run = []
        if not run:
            first = address + header
        run.append(page[header:])
        expected = address + _PAGE
    if run:
        yield first, b"".join(run)


def _lsn(start: int, index: int) -> int:
    """The WAL position of byte `index` of a run that starts at `start` (headers cut)."""
    page_base = start - (start % _PAGE)
    head = start - page_base
    room = _PAGE - head
    if index < room:
        return start + index
    index -= room
    pages, within = divmod(index, _PAGE - _SHORT_HEADER)
    return page_base + _PAGE * (pages + 1) + _SHORT_HEADER + within


def _commits_in(start: int, stream: bytes, xid: int, name: str) -> Iterator[Commit]:
    """The commit records of `xid` in a run: a header at an 8-byte position, then the time."""
    needle = struct.pack("<I", xid)
    found = stream.find(needle, 4)
    while found != -1:
        index, found = found - 4, stream.find(needle, found + 1)
        if _lsn(start, index) % 8 or index + _RECORD.size + 10 > len(stream):
            continue
        length, _xid, _prev, info, rmid, _crc = _RECORD.unpack_from(stream, index)
        if rmid != _RM_XACT or (info & _XACT_OPMASK) not in _XACT_COMMITS:
            continue
        if not 34 <= length <= 4096:
            continue
        block = stream[index + _RECORD.size]
        # The main data's length in a byte, or (past 255 bytes) in four.
        data = {_XLR_BLOCK_ID_DATA_SHORT: 2, _XLR_BLOCK_ID_DATA_LONG: 5}.get(block)
        if data is None or index + _RECORD.size + data + 8 > len(stream):
            continue
        (micros,) = struct.unpack_from("<q", stream, index + _RECORD.size + data)
        when = _POSTGRES_EPOCH + dt.timedelta(microseconds=micros)
        if abs(when - dt.datetime.now(dt.UTC)) < dt.timedelta(days=365):
            yield Commit(xid, when, name)


@contextlib.contextmanager
def wal_unlinked() -> Iterator[None]:
    """The cluster unlinks the WAL segments a checkpoint frees (`wal_recycle = off`).

    The checkpointer reads it from the server's configuration, not a session's: set
    for the cluster, and set back as it was before the block ends. One test process
    at a time holds it.
    """
    with _cluster_setting_lock():
        was, where = superuser(
            "SELECT setting, coalesce(sourcefile, '') FROM pg_settings WHERE name = 'wal_recycle'"
        ).split("|")
        superuser("ALTER SYSTEM SET wal_recycle = off")
        try:
            superuser("SELECT pg_reload_conf()")
            # The checkpointer reads the setting between checkpoints: one asked for now
            # starts after it did, so no checkpoint from here on recycles a segment.
            superuser("CHECKPOINT")
            yield
        finally:
            if where.endswith("postgresql.auto.conf"):
                superuser(f"ALTER SYSTEM SET wal_recycle = {'on' if was == 'on' else 'off'}")
            else:
                superuser("ALTER SYSTEM RESET wal_recycle")
            superuser("SELECT pg_reload_conf()")


@contextlib.contextmanager
def _cluster_setting_lock() -> Iterator[None]:
    path = Path(tempfile.gettempdir()) / "raazdar-test-wal-recycle.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def sweeping_role(url: str, *, owner: bool = True) -> Iterator[str]:
    """A role granted what the sweep needs to leave the WAL, acting for `url`'s role; its URL.

    A member of the database's role (so it owns what that role owns), with
    `pg_checkpoint` and `pg_switch_wal()` (in `url`'s database: each database has its
    own catalog of functions), as deploy/README.md §2.1 has the operator grant the
    app's role. Without `owner`, not a member: it may let the WAL go and nothing
    else. Dropped after the block: the shared role is left as it was.
    """
    where = make_url(url)
    database = str(where.database)
    name = f"raazdar_wal_{secrets.token_hex(6)}"
    password = secrets.token_hex(16)
    member = f" IN ROLE {where.username}" if owner else ""
    superuser(
        f"CREATE ROLE {name} LOGIN PASSWORD '{password}'{member}; GRANT pg_checkpoint TO {name}"
    )
    superuser(f"GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO {name}", database)
    try:
        yield where.set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        superuser(
            # The test's own random name, never input.
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"  # noqa: S608
        )
        superuser(f"REVOKE EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() FROM {name}", database)
        # And whatever else a test granted it there (a table's privileges hold the role).
        superuser(f"DROP OWNED BY {name}", database)
        superuser(f"DROP ROLE {name}")


def server_log() -> Path:
    """The cluster's log file, as Debian's pg_ctlcluster writes it (no logging collector)."""
    data = str(data_directory())
    for line in subprocess.run(
        ["pg_lsclusters", "-h"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[5] == data:
            return Path(fields[6])
    pytest.skip(f"no log file of the cluster in {data} (pg_lsclusters)")


@contextlib.contextmanager
def logged_for(database: str) -> Iterator[list[str]]:
    """The lines the server logs for `database` while the block runs (filled as it ends)."""
    path = server_log()
    start = path.stat().st_size
    lines: list[str] = []
    yield lines
    with path.open("rb") as log:
        log.seek(start)
        written = log.read().decode(errors="replace")
    lines += [line for line in written.splitlines() if f"@{database} " in line]
