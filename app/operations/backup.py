"""A backup of an instance as one tar stream, for a pipe to `age`: nothing unencrypted on disk.

deploy/README.md §1.7 says what a backup holds: the keys, the keyring, tor's
keys, the database and the store's envelopes. Copied by hand, each of them
first lands on the server's disk unencrypted (`sqlite3 .backup copy.db` makes
it readable by everyone under the usual umask, and its bytes outlive `rm`),
with the times of the files. Here the tar goes to a pipe only; every member is
dated the epoch, owned by 0 and private; names come sorted; the SQLite database
is copied into memory and rebuilt there, its temporary storage in memory too
(no free page, no WAL, rows in no order their pages keep), without the logins
(what logout deletes; a PostgreSQL database comes as pg_dump's plain SQL, also without
them: `app.operations.pg_backup`), and a file `restored` the instance never has, naming the
backup's day, so a server put back from it refuses to serve until a purge takes
again what was deleted since (`app.instance.refuse_unfinished_restore`), once the
newest keyring is vouched for again (`app.operations.restore`). The envelopes waiting in
holding come under the store's name, as if swept; staging, deleted files and
KDF slots are never read. Nothing on the disk changes. `raazdar restore`
(`app.operations.put_back`) puts one back, checked before it writes anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from sqlalchemy.engine import make_url

from app.db import empty_wal
from app.errors import InstanceError
from app.files import names
from app.instance import InstancePaths
from app.models import SessionRow, today
from app.noatime import open_quietly
from app.operations import pg_backup, restore
from app.operations.rotation import PENDING_SIGNING_NAME, tor_dir
from app.operations.tor.clients import CLIENTS_DIR_NAME
from app.store import HOLDING_NAME

# The instance's own files a backup holds (deploy/README.md §1.7).
ROOT_FILES: Final = ("config.json", "secret_key", "server_signing_key", PENDING_SIGNING_NAME)
FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700


@dataclass(frozen=True)
class BackupReport:
    """What went into a backup."""

    files: int
    envelopes: int
    database: bool  # SQLite's copy, or PostgreSQL's dump (`app.operations.pg_backup`)


def members(paths: InstancePaths) -> list[Path]:
    """The files a backup holds besides the database, sorted; no dot-name in the store."""
    found = [paths.root / name for name in ROOT_FILES]
    found += _tree(paths.keyring)
    tor = tor_dir(paths)
    found += [p for p in _listing(tor) if p.name.endswith(".key")]
    found += _tree(tor / CLIENTS_DIR_NAME)
    # The envelopes at the store's top and in holding (under the store's name in the tar):
    # never staging, deleted files, KDF slots.
    stored = [*_listing(paths.store), *_listing(paths.store / HOLDING_NAME)]
    found += [p for p in stored if p.suffix == ".rze" and not p.name.startswith(".")]
    return sorted((p for p in found if _is_file(p)), key=_order(paths))


def write_backup(paths: InstancePaths, database_url: str, out: IO[bytes]) -> BackupReport:
    """Write the instance's backup to `out` as an uncompressed tar stream."""
    files = members(paths)
    database = _sqlite_path(database_url, paths)
    # PostgreSQL's, in one snapshot, before the files (as the SQLite copy is made in its
    # place in the order): held in memory, as that copy is, so nothing lands on the disk.
    dumped = (
        pg_backup.dump(database_url)
        if database is None and pg_backup.is_postgresql(database_url)
        else None
    )
    named = {_name(paths, p): p for p in reversed(files)}  # one in both places: the store's
    named[_name(paths, paths.restored)] = paths.restored
    if database is not None:
        named[_name(paths, database)] = database
    if dumped is not None:
        named[Path(pg_backup.DUMP_NAME)] = paths.root / pg_backup.DUMP_NAME
    directories: set[Path] = set()
    written = 0
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for relative, path in sorted(named.items(), key=lambda entry: entry[0].parts):
            for parent in reversed(relative.parents[:-1]):
                if parent not in directories:
                    directories.add(parent)
                    tar.addfile(_info(str(parent), tarfile.DIRTYPE, 0))
            if path == paths.restored:
                # Never the live instance's: every backup says it is one, and its day.
                note = restore.mark(today())
                tar.addfile(_info(str(relative), tarfile.REGTYPE, len(note)), io.BytesIO(note))
                continue
            if dumped is not None and relative == Path(pg_backup.DUMP_NAME):
                tar.addfile(_info(str(relative), tarfile.REGTYPE, len(dumped)), io.BytesIO(dumped))
                continue
            if path == database:
                image = database_image(database)
                tar.addfile(_info(str(relative), tarfile.REGTYPE, len(image)), io.BytesIO(image))
                continue
            with _opened(path) as stream:
                if stream is None:
                    continue  # deleted meanwhile (an acknowledgement, a purge)
                size = os.fstat(stream.fileno()).st_size
                tar.addfile(_info(str(relative), tarfile.REGTYPE, size), stream)
                written += 1
    envelopes = sum(1 for n in named if n.parent == _name(paths, paths.store))
    return BackupReport(written, envelopes, database is not None or dumped is not None)


def database_image(path: Path) -> bytes:
    """A consistent copy of an SQLite database, rebuilt in memory: no free page, one file."""
    # Read-write, though it only reads: the last connection to close removes the WAL and
    # its index, which a read-only one would leave behind.
    source = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    copy = sqlite3.connect(":memory:")
    try:
        # VACUUM rebuilds through a temporary database: in a file (/var/tmp/etilqs_…,
        # deleted at once), every row went to the disk unencrypted, freed unwritten.
        copy.execute("PRAGMA temp_store = MEMORY")
        source.backup(copy)
        # Logins are what logout and expiry delete: kept, a copy of a cookie taken
        # before its logout opened the login (a source's reply-opening key) from the
        # backup, or from the server it was put back on. A restore logs everyone out.
        # (A database no migration has run on has no such table, and nothing to delete.)
        logins = SessionRow.__tablename__
        if copy.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (logins,)).fetchone():
            copy.execute(f"DELETE FROM {logins}")  # noqa: S608 - a model's name
        copy.commit()
        copy.execute("VACUUM")
        return copy.serialize()
    finally:
        copy.close()
        # Closed last, the connection makes SQLite copy a WAL a crashed server left and
        # delete it, and its index, unwritten: their freed blocks kept the frames of the
        # writes before the crash, in order. Emptied (overwritten, cut) first.
        empty_wal(source)
        source.close()


def _sqlite_path(database_url: str, paths: InstancePaths) -> Path | None:
    """The SQLite database file, which must lie in the instance; None for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database:
        raise InstanceError("the instance's SQLite database has no file to back up")
    path = Path(url.database)
    path = path if path.is_absolute() else paths.root / path
    if not path.resolve().is_relative_to(paths.root.resolve()):
        raise InstanceError(
            f"the SQLite database {path} lies outside the instance (`raazdar doctor` fails "
            "on it): move it into the instance first"
        )
    return paths.root / path.resolve().relative_to(paths.root.resolve())


def _order(paths: InstancePaths) -> Callable[[Path], tuple[str, ...]]:
    """Sort by name in the tar, by components, as `tar --sort=name` does."""
    return lambda path: _name(paths, path).parts


def _name(paths: InstancePaths, path: Path) -> Path:
    """A file's name in the tar: an envelope in holding goes under the store's, as if swept."""
    if path.parent == paths.store / HOLDING_NAME:
        return path.parent.parent.relative_to(paths.root) / path.name
    return path.relative_to(paths.root)


def _info(name: str, kind: bytes, size: int) -> tarfile.TarInfo:
    """A member dated the epoch, owned by 0, readable by its owner only."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = DIRECTORY_MODE if kind == tarfile.DIRTYPE else FILE_MODE
    return info


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[IO[bytes] | None]:
    """The file open for reading without moving its access time; None if it went."""
    try:
        fd = open_quietly(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        yield None
        return
    with os.fdopen(fd, "rb") as stream:
        yield stream


def _listing(directory: Path) -> list[Path]:
    return [directory / e.name for e in names(directory)]


def _tree(directory: Path) -> list[Path]:
    """Every regular file under `directory`."""
    found = []
    for entry in names(directory):
        path = directory / entry.name
        if stat.S_ISDIR(entry.info.st_mode):
            found += _tree(path)
        else:
            found.append(path)
    return found


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False
