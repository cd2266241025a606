"""A power cut while the WAL is emptied loses no commit (`app.db.checkpoint`).

The emptying writes zeros over the WAL's frames, then cuts it. Until a flush, the
disk may have taken any of the blocks written since the last one and not the rest
(the kernel writes dirty pages back in no promised order, and a disk's own cache
reorders them again). So each test here records the WAL's writes and flushes, and
at every point makes the disk a power cut there could leave: what was flushed, and
any set of the 4 KiB blocks written since; then opens it as SQLite would at boot.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from app import db as app_db

_BLOCK = 4096
_ROWS = 3


class _Disk:
    """What of one file's writes a power cut could leave on the disk, at each step."""

    def __init__(self, wal: Path, database: Path) -> None:
        self._wal, self._database = wal, database
        self._durable: bytes | None = None
        self._pending: list[tuple[int, bytes]] = []
        self.database = b""
        self.images: list[bytes] = []

    def is_wal(self, fd: int) -> bool:
        """Say whether a descriptor is the WAL's."""
        try:
            return os.readlink(f"/proc/self/fd/{fd}") == str(self._wal)
        except OSError:
            return False

    def before_write(self, offset: int, data: bytes) -> None:
        """Note a write to the WAL not yet flushed, and the cuts that could come first."""
        self._start()
        self._cut_now()
        self._pending.append((offset, bytes(data)))

    def before_flush(self) -> None:
        """Note the cuts that could come during a flush; after it, all is on the disk."""
        self._start()
        self._cut_now()

    def after_flush(self) -> None:
        """What was written is on the disk."""
        self._durable = self._wal.read_bytes()
        self._pending.clear()

    def _start(self) -> None:
        if self._durable is None:
            # Every commit flushed the WAL, and the copy flushed the database, before
            # the emptying's first write of its own.
            self._durable = self._wal.read_bytes()
            self.database = self._database.read_bytes()

    def _cut_now(self) -> None:
        assert self._durable is not None  # set by `_start`
        written = bytearray(self._durable)
        for offset, data in self._pending:
            end = offset + len(data)
            written.extend(bytes(max(0, end - len(written))))
            written[offset:end] = data
        blocks = sorted(
            {
                block
                for offset, data in self._pending
                for block in range(offset // _BLOCK, (offset + len(data) - 1) // _BLOCK + 1)
            }
        )
        for kept in itertools.chain.from_iterable(
            itertools.combinations(blocks, n) for n in range(len(blocks) + 1)
        ):
            image = bytearray(self._durable)
            for block in kept:
                start, end = block * _BLOCK, (block + 1) * _BLOCK
                image.extend(bytes(max(0, min(end, len(written)) - len(image))))
                image[start:end] = written[start:end]
            self.images.append(bytes(image))


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> _Disk:
    """The WAL's writes and flushes, recorded as a power cut would meet them."""
    path = tmp_path / "raazdar.db"
    seen = _Disk(Path(f"{path}-wal"), path)
    pwrite, fsync = os.pwrite, os.fsync

    def recorded_pwrite(fd: int, data: bytes, offset: int) -> int:
        if seen.is_wal(fd):
            seen.before_write(offset, data)
        return pwrite(fd, data, offset)

    def recorded_fsync(fd: int) -> None:
        wal = seen.is_wal(fd)
        if wal:
            seen.before_flush()
        fsync(fd)
        if wal:
            seen.after_flush()

    monkeypatch.setattr(os, "pwrite", recorded_pwrite)
    monkeypatch.setattr(os, "fsync", recorded_fsync)
    return seen


def _commits(path: Path) -> sqlite3.Connection:
    """A WAL database holding several commits, each one row, that nothing has copied yet."""
    connection = sqlite3.connect(path, isolation_level=None)
    # Small pages: several commits' frames share the first 4 KiB blocks, few blocks in all.
    connection.execute("PRAGMA page_size = 1024")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("CREATE TABLE items (id TEXT PRIMARY KEY)")
    for n in range(_ROWS):
        connection.execute("INSERT INTO items VALUES (?)", (f"report-{n}",))
    return connection


def _boot(tmp_path: Path, database: bytes, wal: bytes) -> tuple[str, set[str]]:
    """Open a disk as the server would after the power came back: its check and its rows."""
    booted = tmp_path / "booted"
    booted.mkdir(exist_ok=True)
    for name in os.listdir(booted):
        (booted / name).unlink()
    (booted / "raazdar.db").write_bytes(database)
    (booted / "raazdar.db-wal").write_bytes(wal)
    connection = sqlite3.connect(booted / "raazdar.db", isolation_level=None)
    try:
        check = str(connection.execute("PRAGMA integrity_check").fetchone()[0])
        rows = {str(r[0]) for r in connection.execute("SELECT id FROM items")}
    except sqlite3.DatabaseError as exc:
        check, rows = str(exc), set()
    finally:
        connection.close()
    return check, rows


def _lost(tmp_path: Path, disk: _Disk) -> Callable[[bytes], str | None]:
    def lost(wal: bytes) -> str | None:
        check, rows = _boot(tmp_path, disk.database, wal)
        wanted = {f"report-{n}" for n in range(_ROWS)}
        if check != "ok" or rows != wanted:
            return f"check {check!r}, {len(wanted - rows)} of {_ROWS} committed rows lost"
        return None

    return lost


def test_a_power_cut_while_the_wal_is_emptied_loses_no_commit(tmp_path: Path, disk: _Disk) -> None:
    """Zeros that reach the disk over later frames and not yet over the first ones left a
    WAL whose first frames were still valid: SQLite, at boot, read the pages they hold over
    the database's newer ones, and the commits after them were gone (and were copied back
    over the database at the next emptying)."""
    connection = _commits(tmp_path / "raazdar.db")
    assert app_db.checkpoint(connection)
    connection.close()
    assert disk.images, "the emptying wrote nothing to the WAL"
    lost = _lost(tmp_path, disk)
    broken = [found for image in disk.images if (found := lost(image)) is not None]
    assert not broken, f"{len(broken)} of {len(disk.images)} power cuts lost a commit: {broken[0]}"


@pytest.mark.parametrize("writes_before_the_kill", [0, 1])
def test_a_worker_killed_while_it_empties_the_wal_loses_no_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writes_before_the_kill: int
) -> None:
    """Killed with the WAL's header zeroed (and its frames, or not), while another worker
    goes on: that one reads every commit, its next commit starts the WAL anew, and a
    restart after both finds every row."""
    path = tmp_path / "raazdar.db"
    _commits(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA synchronous = FULL")
    other.execute("PRAGMA wal_autocheckpoint = 0")
    other.execute("SELECT count(*) FROM items").fetchone()  # holds the WAL index open
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed
        try:
            connection = sqlite3.connect(path, isolation_level=None)
            pwrite, left = os.pwrite, [writes_before_the_kill]

            def killed_after(fd: int, data: bytes, offset: int) -> int:
                if left[0] == 0:
                    os.kill(os.getpid(), signal.SIGKILL)
                left[0] -= 1
                return pwrite(fd, data, offset)

            monkeypatch.setattr(os, "pwrite", killed_after)
            app_db.checkpoint(connection)
        finally:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the emptying ended before the kill"
    wanted = {f"report-{n}" for n in range(_ROWS)}
    assert {r[0] for r in other.execute("SELECT id FROM items")} == wanted
    other.execute("INSERT INTO items VALUES ('after')")
    other.close()
    again = sqlite3.connect(path, isolation_level=None)
    assert again.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert {r[0] for r in again.execute("SELECT id FROM items")} == {*wanted, "after"}
    again.close()
