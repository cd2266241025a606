"""Putting a backup back: checked before anything is written, then written privately.

`age` authenticates nothing: whoever knows a backup's recipient (the shell
history of the backup's command holds it) writes one that decrypts, and `tar -x`
run as root wrote whatever it held: a signing key, config and database of the
seizer's own, symbolic links and hard links, devices, names outside the instance.
One thing the seizer lacks: the server's signing key, which only the server and
its backups hold, and whose fingerprint the review workspace pinned. A backup
whose signing key has the fingerprint the operator gives was made by the server
(or by whoever holds that key, who could sign its exports anyway): `age` seals a
backup whole, so no member of a genuine one is swapped or added without its
identity, which never lies on the server.

So the stream is read member by member. Each must be a regular file or a
directory under a name a backup holds (`app.operations.backup.members`), no
larger than its kind allows. What comes before the signing key is held in memory
(the database's image was in memory when the backup was made), within a bound;
the key is checked; only then is anything written, into a directory of its own
inside the instance. Once the stream ended well, that directory is renamed
(`app.instance.MOVING_NAME`) and from then on it is the backup, never undone:
its names are moved into place, the `restored` mark first, so that a crash
halfway leaves a server that refuses to start, and the next command that reads
the instance, or the next restore, moves the rest (`app.instance.finish_moves`).
A refusal overwrites what it wrote and removes it: the instance is as it was. The
directory of a restore killed before the rename is overwritten and removed by the next.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Final, cast

from sqlalchemy.engine import make_url

from app import environment
from app.errors import AppError
from app.files import fsync_directory, overwrite
from app.instance import (
    MOVING_NAME,
    RESTORED_NAME,
    InstanceConfig,
    InstancePaths,
    finish_moves,
    url_has_password,
)
from app.models import today
from app.noatime import read_quietly
from app.operations import pg_backup, restore
from app.operations.backup import DIRECTORY_MODE, FILE_MODE, ROOT_FILES
from app.operations.tor.clients import CLIENTS_DIR_NAME
from crypto import Fingerprint, SigningKey
from crypto.errors import CryptoError

SIGNING_KEY_NAME: Final = "server_signing_key"
# What may be held in memory before the signing key is checked (the database, mostly).
HELD_MAX: Final = 1 << 30
# Keys, the config, the mark and tor's files are a few hundred bytes each.
SMALL_MAX: Final = 1 << 20
KEYRING_MAX: Final = 16 << 20
# An envelope: the store checks its size and format when it is used; this bounds the disk.
ENVELOPE_MAX: Final = 1 << 36
_COPY: Final = 1 << 20
# A tar ends with two empty blocks, padded to a record (`tarfile.RECORDSIZE`).
_END_MARK: Final = 2 * tarfile.BLOCKSIZE
_TAIL: Final = 4 * tarfile.RECORDSIZE
_STAGING_PREFIX: Final = ".restore-"
_BACKUP_DAY: Final = re.compile(rb"^backup-day: (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


class BackupRefused(AppError):
    """A backup that is not one this server made, or not whole: nothing of it was written."""

    status = 422
    hint = (
        "a backup this server made holds the signing key whose fingerprint the review "
        "workspace pinned (`raazdar-review workspace init` printed it for the key ceremony's "
        "record; after a rotation, the server key the newest keyring lists): take another "
        "backup, and keep this one for whoever investigates"
    )

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class RestoreStopped(AppError):
    """A backup checked whole whose move into place stopped: the next command finishes it."""


@dataclass(frozen=True)
class PutBack:
    """What a restore wrote."""

    files: int
    day: dt.date | None  # the backup's, as its `restored` mark names it
    # A restore stopped while moving its backup into place was finished instead: the
    # stream given this time was not read.
    finished: bool = False
    # PostgreSQL's database was loaded from the backup's dump.
    database: bool = False


def put_back(paths: InstancePaths, stream: IO[bytes], pinned: Fingerprint) -> PutBack:
    """Write the backup `stream` holds into the empty instance, if its signing key is `pinned`."""
    root = paths.root
    # A restore that stopped while moving its backup into place (or just after) is
    # finished, not refused as an instance that holds files already.
    if finish_moves(paths) or _put_back_already(paths, pinned):
        mark = read_quietly(paths.restored)
        # Its database was loaded before its files were moved: only the load's mark is left.
        url = _database_url(read_quietly(paths.config), root)
        if pg_backup.is_postgresql(url):
            pg_backup.forget_mark(url)
        return PutBack(_count_files(root), _backup_day(mark), finished=True)
    left = [p for p in root.glob(f"{_STAGING_PREFIX}*") if p.is_dir() and not p.is_symlink()]
    if root.exists() and (
        not root.is_dir() or any(not _history_link(p) and p not in left for p in root.iterdir())
    ):
        raise BackupRefused(
            f"{root} holds files already: a backup is put back into an empty instance "
            "(nothing was written)",
            "on a fresh host, as deploy/README.md §1.7 says; never over a server's instance",
        )
    for stale in left:
        # A restore killed halfway: its backup's key had checked out, and it is taken again.
        _destroy(stale)
    reader = _Reader(paths, pinned)
    counted = _Counted(stream)
    try:
        # A stream `tarfile` only reads, which is all its stream mode does with it.
        with tarfile.open(fileobj=cast("IO[bytes]", counted), mode="r|") as tar:
            for member in tar:
                reader.take(member, tar)
            counted.check_end(tar.offset)
        reader.finish()
    except BaseException as exc:
        reader.undo()
        if isinstance(exc, BackupRefused):
            raise
        if isinstance(exc, (tarfile.TarError, EOFError)):
            raise BackupRefused(
                f"the backup is not a whole tar ({exc}): nothing was written",
                "did `age -d` fail? A backup file cut short decrypts only in part",
            ) from None
        raise
    return PutBack(reader.files, reader.day, database=reader.database_url is not None)


class _Reader:
    """A backup's members, checked, held until its signing key is checked, then written."""

    def __init__(self, paths: InstancePaths, pinned: Fingerprint) -> None:
        self.paths = paths
        self.pinned = pinned
        self.held: list[tuple[str, bytes | None]] = []  # None: a directory
        self.held_bytes = 0
        self.staging: Path | None = None
        self.made_root = False
        self.names: set[str] = set()
        self.files = 0
        self.day: dt.date | None = None
        # PostgreSQL's dump (`app.operations.pg_backup`): loaded, never written to a file.
        self.dump: bytes | None = None
        self.database_url: str | None = None

    def take(self, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        """Check one member, then hold it or write it."""
        name = _checked(member)
        if name in self.names:
            raise _refused(name, "comes twice")
        self.names.add(name)
        if name == pg_backup.DUMP_NAME:
            if self.staging is None:
                self.held_bytes += member.size
                if self.held_bytes > HELD_MAX:
                    raise _refused(name, f"and what comes before it exceed {HELD_MAX >> 20} MiB")
            self.dump = _read(tar, member)
            return
        if self.staging is not None:
            self._write(name, tar.extractfile(member) if member.isfile() else None)
            return
        if member.isdir():
            self.held.append((name, None))
            return
        self.held_bytes += member.size
        if self.held_bytes > HELD_MAX:
            raise _refused(name, f"and what comes before it exceed {HELD_MAX >> 20} MiB")
        data = _read(tar, member)
        if name != SIGNING_KEY_NAME:
            self.held.append((name, data))
            return
        self._check_key(data)
        config = dict(self.held).get("config.json")
        if self.dump is not None and config is not None:
            # A backup's dump and config come before its key: a database that is not
            # empty is refused before anything is written (and checked again at the end).
            self._database_ready(config)
        self.staging = self._start()
        for held, content in [*self.held, (name, data)]:
            self._write(held, content)
        self.held.clear()

    def finish(self) -> None:
        """Refuse a backup without its key or mark; move the rest into place, the mark first."""
        if self.staging is None:
            raise BackupRefused(
                f"the backup holds no {SIGNING_KEY_NAME}: it is not one `raazdar backup` made "
                "(nothing was written)"
            )
        for needed in (RESTORED_NAME, "config.json"):
            if needed not in self.names:
                raise BackupRefused(
                    f"the backup holds no {needed}: it is not one `raazdar backup` made "
                    "(nothing was written)"
                )
        self.day = _backup_day((self.staging / RESTORED_NAME).read_bytes())
        # In the mark before it moves: finishing the restore then takes only a keyring
        # timestamp signed since today (`restore.keyring_unconfirmed`).
        with (self.staging / RESTORED_NAME).open("ab") as mark:
            mark.write(restore.put_back_line(today()))
            mark.flush()
            os.fsync(mark.fileno())
        self._load_database()
        root = self.paths.root
        written = sorted(self.staging.rglob("*"), key=lambda p: len(p.parts), reverse=True)
        for path in written:
            # Dated the epoch, as the backup's members are (and `tar -x` left them).
            os.utime(path, (0, 0), follow_symlinks=False)
            if path.is_dir():
                fsync_directory(path)
        # Checked whole: from this rename on it is the backup, finished, never undone.
        os.rename(self.staging, root / MOVING_NAME)
        self.staging = None
        fsync_directory(root)
        try:
            finish_moves(self.paths)
        except OSError as exc:
            raise RestoreStopped(
                f"the backup was checked whole, but moving it into place stopped "
                f"({exc.strerror or exc}): nothing of it is lost",
                "run `raazdar restore` again (or any raazdar command): it moves the rest "
                "into place",
            ) from None
        if self.database_url is not None:
            pg_backup.forget_mark(self.database_url)

    def _load_database(self) -> None:
        """Load PostgreSQL's dump into the empty database, or find it loaded by this backup.

        Checked whole and anchored like every member (the signing key): only now is the
        database written, in one transaction. A restore killed after its commit and
        before its files moved finds the load's mark, and loads nothing again.
        """
        if self.dump is None:
            return  # SQLite's database is a file; a files-only backup of an earlier release
        assert self.staging is not None  # noqa: S101 - `finish` refused a backup without it
        url, loaded = self._database_ready((self.staging / "config.json").read_bytes())
        if not loaded:
            pg_backup.load(url, self.dump)
        self.database_url = url

    def _database_ready(self, config: bytes) -> tuple[str, bool]:
        """The database the dump goes into, if it is empty (or holds this very dump's load)."""
        assert self.dump is not None  # noqa: S101 - only a backup with a dump has a database
        url = _database_url(config, self.paths.root)
        if not pg_backup.is_postgresql(url):
            raise BackupRefused(
                "the backup holds a PostgreSQL database, but the database it goes into is "
                "not PostgreSQL's (nothing was written)",
                "set RAAZDAR_DATABASE_URL to the empty PostgreSQL database, as the service "
                "has it (deploy/README.md §2.1)",
            )
        try:
            pg_backup.checked(self.dump)
        except AppError as exc:
            raise BackupRefused(f"{exc}: nothing was written") from None
        if pg_backup.loaded_already(url, self.dump):
            return url, True
        if pg_backup.holds_tables(url):
            raise pg_backup.DatabaseRefused(
                f"the database {_database_name(url)} holds tables already: a backup is "
                "put back into an empty database only (nothing was written)"
            )
        return url, False

    def undo(self) -> None:
        """Overwrite and remove whatever was written (a refusal or a failure)."""
        if self.staging is not None:
            _destroy(self.staging)
            self.staging = None
        if self.made_root:
            with contextlib.suppress(OSError):
                self.paths.root.rmdir()

    def _check_key(self, data: bytes) -> None:
        try:
            found = SigningKey.from_text(data.decode("ascii").strip()).verify_key.fingerprint
        except (CryptoError, UnicodeDecodeError):
            raise _refused(SIGNING_KEY_NAME, "is not a signing key") from None
        if found.raw != self.pinned.raw:
            raise BackupRefused(
                f"the backup's server signing key is {found}, not {self.pinned}, the one "
                "given: whoever wrote this backup does not hold this server's key "
                "(nothing was written)"
            )

    def _start(self) -> Path:
        """The directory inside the instance the backup is written into before it is moved."""
        root = self.paths.root
        if not root.exists():
            root.mkdir(mode=DIRECTORY_MODE)
            self.made_root = True
        return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root))

    def _write(self, name: str, content: bytes | IO[bytes] | None) -> None:
        assert self.staging is not None  # noqa: S101 - `take` starts it first
        path = self.staging / name
        for parent in reversed(PurePosixPath(name).parents[:-1]):
            with contextlib.suppress(FileExistsError):
                (self.staging / parent).mkdir(mode=DIRECTORY_MODE)
        if content is None:
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=DIRECTORY_MODE)
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(path, flags, FILE_MODE), "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                shutil.copyfileobj(content, out, _COPY)
            out.flush()
            os.fsync(out.fileno())
        self.files += 1


def _checked(member: tarfile.TarInfo) -> str:
    """The member's name, if it is a file or directory a backup holds, of a size it allows."""
    name = member.name
    parts = PurePosixPath(name).parts
    if (
        not parts
        or name.startswith("/")
        or str(PurePosixPath(name)) != name
        or any(p in {".", ".."} or "\\" in p or "\0" in p for p in parts)
    ):
        raise _refused(name, "names a place outside the instance")
    if not (member.isreg() or member.isdir()) or member.issparse():
        raise _refused(name, "is neither a regular file nor a directory (a link, a device)")
    if member.mode & 0o7777 not in (FILE_MODE, DIRECTORY_MODE):
        raise _refused(name, f"has mode {member.mode & 0o7777:o}, which no backup gives")
    limit = _limit(parts, directory=member.isdir())
    if limit is None:
        raise _refused(name, "is not a file a backup holds")
    if member.size > limit:
        raise _refused(name, f"claims {member.size} bytes, more than such a file holds")
    return name


def _limit(parts: tuple[str, ...], *, directory: bool) -> int | None:
    """How large a member under this name may be; None if a backup holds no such name."""
    first, rest = parts[0], parts[1:]
    dot = any(p.startswith(".") for p in parts)
    if directory:
        tree = first == "keyring" or parts[:2] == ("tor", CLIENTS_DIR_NAME)
        return 0 if not dot and (tree or parts in {("tor",), ("store",)}) else None
    if dot:
        return None
    if not rest:
        if first in (*ROOT_FILES, RESTORED_NAME):
            return SMALL_MAX
        # The SQLite database, or PostgreSQL's dump.
        return HELD_MAX if first.endswith(".db") or first == pg_backup.DUMP_NAME else None
    if first == "keyring":
        return KEYRING_MAX
    if first == "tor" and (rest[0] == CLIENTS_DIR_NAME and len(rest) > 1):
        return SMALL_MAX
    if first == "tor" and len(rest) == 1 and rest[0].endswith(".key"):
        return SMALL_MAX
    if first == "store" and len(rest) == 1 and rest[0].endswith(".rze"):
        return ENVELOPE_MAX
    return None


class _Counted:
    """The backup's stream, counted, its last bytes kept: is the end marker there?

    `tarfile` takes a stream that stops between two members for a whole archive, and
    `age -d` writes what it decrypted before it finds the file cut short (and a pipe
    hides its exit status): a backup cut after its database would come back without its
    envelopes, or without tor's keys.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.total = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        self.tail = (self.tail + data)[-_TAIL:]
        return data

    def check_end(self, end: int) -> None:
        """Refuse a stream without the two empty blocks that end a tar, or more after them."""
        while self.read(_COPY):
            pass
        rest = self.total - end
        if rest < _END_MARK or rest > len(self.tail) or any(self.tail[len(self.tail) - rest :]):
            raise BackupRefused(
                "the backup stops before its end, or goes on past it (`age -d` cut short, "
                "or a stream someone added to): nothing was written",
                "did `age -d` fail? A backup file cut short decrypts only in part",
            )


def _destroy(staging: Path) -> None:
    """Overwrite every file a restore wrote in its directory, then remove it all."""
    for path in sorted(staging.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                overwrite(path)
                path.unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _backup_day(mark: bytes) -> dt.date | None:
    """The day the `restored` mark names (`app.operations.restore.mark`), if it names one."""
    found = _BACKUP_DAY.search(mark)
    try:
        return dt.date.fromisoformat(found.group(1).decode()) if found else None
    except ValueError:
        return None


def _put_back_already(paths: InstancePaths, pinned: Fingerprint) -> bool:
    """Whether the instance is a restore not yet purged of a backup with the `pinned` key."""
    if not paths.restored.is_file() or paths.restored.is_symlink():
        return False
    try:
        key = SigningKey.from_text(read_quietly(paths.signing_key).decode("ascii").strip())
    except (OSError, CryptoError, UnicodeDecodeError):
        return False
    return key.verify_key.fingerprint.raw == pinned.raw


def _database_url(config: bytes, root: Path) -> str:
    """The database the instance uses: RAAZDAR_DATABASE_URL, as the service has it, or config's."""
    named = environment.get("RAAZDAR_DATABASE_URL")
    if named:
        if url_has_password(named):
            raise BackupRefused(
                "RAAZDAR_DATABASE_URL holds a password (nothing was written)",
                "put it in the server's ~/.pgpass instead (deploy/README.md §2.1)",
            )
        return named
    try:
        return InstanceConfig.from_json(json.loads(config.decode("utf-8"))).database_url_in(root)
    except (ValueError, AppError) as exc:
        raise BackupRefused(f"the backup's config.json cannot be read ({exc})") from None


def _database_name(url: str) -> str:
    return repr(make_url(url).database)


def _count_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _history_link(path: Path) -> bool:
    """A shell's or tool's history the instance sends to /dev/null (deploy/README.md §1.2)."""
    return path.is_symlink() and os.readlink(path) == os.devnull


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(member)
    return stream.read() if stream is not None else b""


def _refused(name: str, why: str) -> BackupRefused:
    return BackupRefused(f"the backup's member {name!r} {why}: nothing was written")
