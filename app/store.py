"""The envelope store: ciphertext files named by random id, with no times on them.

New envelopes are written in a staging directory beside the store and renamed,
when their database rows are about to commit, into a holding directory
(`store/.arrivals`), so a failed request leaves nothing behind. Only the
arrival sweep (`app.operations.sweep`) moves them into the store itself: it
re-creates every held envelope as a new file, in a random order, so that the
creation and change times and the inode numbers the filesystem keeps say when
the sweep ran, never when (or in which order) each envelope arrived. Until then
every held file is re-touched at each arrival, so their change times all say
only when the latest one came. Access and modification times are kept at the
epoch. The re-touch runs off the request that made the arrival (`_Retoucher`): a burst
of arrivals shares one pass, and an arrival costs the same however many files are held.
Deleting overwrites a file at once; what a person's action deletes is then set
aside for the next sweep to unlink (`EnvelopeStore.retire_file`), so that no freed
inode dates the action. The retention purge finds envelope files no row refers to
and whatever a crash left in staging (see `app.operations.retention`).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import io
import os
import random
import re
import secrets
import stat
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from app import files
from app.noatime import open_quietly
from crypto import HybridPublicKey, Metadata, PublicKey, SealingWriter, SealResult

# What an envelope is sealed to: X25519 keys (v1), or hybrid keys (v2), never both.
SealingKey = PublicKey | HybridPublicKey

_ID: Final = re.compile(r"[0-9a-f]{32}")
# How many ids the orphan sweep asks the database about at once.
_BATCH: Final = 500
# Reply bundles are unpacked into a directory of the store named so (see exchange).
REPLY_WORK_PREFIX: Final = ".replies-"
# Envelopes that arrived since the last sweep wait here (see the module docstring).
HOLDING_NAME: Final = ".arrivals"
# A staged file nobody holds and unchanged this long (seconds) is a dead writer's.
UNHELD_AFTER: Final = 2.0
# While the server runs, one is destroyed after this long (seconds) unchanged: a reply staged
# by a live request is unheld too, for the moment before it is published (`free_abandoned`).
ABANDONED_AFTER: Final = 600.0
# A sweep's copies are written under this prefix in the store, then renamed over.
_SWEEP_PREFIX: Final = ".sweep-"
# A stored envelope deleted between sweeps waits under this prefix in the store, overwritten,
# for the next sweep to free its inode and take it back (`EnvelopeStore.retire`).
_RETIRED_PREFIX: Final = ".deleted-"
# A reply bundle a staff member sends waits in a file named so in the store, held
# (`flock`) while it is open, and is retired when closed (`EnvelopeStore.scratch`).
_SCRATCH_PREFIX: Final = ".scratch-"
# The store's locks (`EnvelopeStore.steady`) the running code holds, by descriptor.
_STEADY: ContextVar[tuple[int, ...]] = ContextVar("raazdar_store_steady", default=())
# The envelopes the running code published and holds until its rows commit (`filing`).
_FILING: ContextVar[list[int] | None] = ContextVar("raazdar_store_filing", default=None)
# What a full disk is (a quota's too).
_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
# What a disk that takes no writes answers (read-only: ext4 remounts itself so after an error;
# failing): met as a part streams in, kept for `finish` as a full disk is (`StagedEnvelope.write`).
_UNWRITABLE: Final = frozenset({errno.EROFS, errno.EIO})
# What a filesystem that cannot allocate a file's space ahead of its bytes answers.
_NO_FALLOCATE: Final = frozenset({errno.EOPNOTSUPP, errno.EINVAL})
# Retired files wait only while the store's filesystem has more than this share of its inodes
# free: the rest are kept for arrivals (`EnvelopeStore.retire_file`). The tenth API uploads
# stop at: at a twentieth, what a flood of failed submissions left waiting held the inodes at
# the share later reports stop at, and every returning source's file was refused until the
# timer's next run.
_INODES_KEPT: Final = 10
# A signed-in source's later report is stored only while this share of the store's
# filesystem's space stays free after it: the rest is kept for first reports and the sweep's
# copies (`app.services.submissions`).
_SPACE_KEPT: Final = 20
# API uploads take in a chunk (and start) only while this share stays free after it. Unfinished,
# they are free to hold (accounts are free), are kept for days by a chunk a day and reach no
# staff: stopped at `_SPACE_KEPT`, a flood of them held the disk there, and every returning
# source's report was refused for as long. They stop first, leaving later reports room.
_SPACE_KEPT_FROM_UPLOADS: Final = 10
# No source's report or file is staged into this last share of the store's filesystem's space
# (`StagedEnvelope.write`): first reports are paced by circuit alone, and many circuits filled
# the disk to its last byte, where the database beside the store could write no login.
_SPACE_LAST: Final = 100
# Each share above is kept of the filesystem's inodes as of its bytes (`_leaves_free`): a flood
# of tiny reports, each an inode, used up ext4's fixed count with the bytes far above every
# floor, and the database beside the store could then not make its WAL at its next opening.
# The least time between two re-touches of the held files (seconds), and how many times its
# own length a pass waits at the least before the next: a burst of arrivals shares a pass,
# and re-touching never takes more than a twentieth of a core however many files are held.
RETOUCH_EVERY: Final = 0.2
_RETOUCH_SHARE: Final = 20
# A re-touching thread with no pass asked of it this long (seconds) ends; the next asks anew.
_IDLE_EXIT: Final = 5.0


def _envelope_name(entry: files.Entry) -> str | None:
    """Return the id an entry names, if it is an envelope file."""
    name = entry.name
    if name.endswith(".rze") and _ID.fullmatch(name[:-4]) and stat.S_ISREG(entry.info.st_mode):
        return name[:-4]
    return None


def _blank(path: Path) -> None:
    """Overwrite a regular file and cut it to nothing; a directory, each file in it.

    Anything else in a directory (a link, a pipe) is unlinked without writing through it.
    """
    info = path.lstat()
    if stat.S_ISDIR(info.st_mode):
        for child in list(path.iterdir()):
            mode = child.lstat().st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                _blank(child)
            else:
                child.unlink()
        os.utime(path, (0, 0), follow_symlinks=False)
        return
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        files.overwrite_fd(fd)
        os.ftruncate(fd, 0)
        os.utime(fd, (0, 0))
    finally:
        os.close(fd)


def _inodes(path: Path) -> list[int]:
    """The inode numbers of a file, or of a directory and everything in it."""
    found = [path.lstat().st_ino]
    if path.is_dir() and not path.is_symlink():
        found += [inner.lstat().st_ino for inner in path.rglob("*")]
    return found


def _held(path: Path) -> bool:
    """Say whether some process holds `path` open to write it (see `StagedEnvelope.write`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return True  # gone, or not a file of ours: not this sweep's to remove
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _hold(path: Path) -> int:
    """Open a staged file and take a shared lock on it; return the descriptor (`filing`)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _inodes_short(found: os.statvfs_result, files: int, share: int) -> int:
    """How many inodes must be freed for `files` more to leave free more than 1/`share` of
    a filesystem's (0 on one that makes them as needed: btrfs, XFS's dynamic ones report none)."""
    if found.f_files == 0:
        return 0
    return max(0, files + found.f_files // share + 1 - found.f_favail)


@dataclass(frozen=True)
class Swept:
    """What one sweep of the store did."""

    moved: int  # held envelopes re-created in the store
    renewed: int  # envelopes already in the store re-created (left there by older releases)
    freed: tuple[int, ...] = ()  # the inodes they had, overwritten and freed (`app.fsjournal`)
    unswept: int = 0  # held envelopes left held: no room above the last share for their copies


class StagedEnvelope:
    """An envelope being sealed into the staging directory; a file-like sink for plaintext.

    The file is created on the first write, so an empty upload field leaves nothing.
    """

    def __init__(
        self, store: EnvelopeStore, recipients: list[SealingKey], metadata: Metadata
    ) -> None:
        self.id = secrets.token_hex(16)
        self.metadata = metadata
        self._store = store
        self._recipients = recipients
        self._file: BinaryIO | None = None
        self._writer: SealingWriter | None = None
        self.result: SealResult | None = None
        self.part_complete = False
        # Plaintext sealed since the file's write-back was last started, and where in the
        # file that write-back started from.
        self._since_writeback = 0
        self._written_back = 0
        # A full disk met while the part streamed in, kept for `finish` to raise (`write`).
        self._full: OSError | None = None

    @property
    def path(self) -> Path:
        """Where the staged ciphertext is."""
        return self._store.staging / f"{self.id}.rze"

    @property
    def recipients(self) -> list[SealingKey]:
        """Who the envelope is sealed to."""
        return self._recipients

    @property
    def started(self) -> bool:
        """Say whether any plaintext has arrived."""
        return self._writer is not None or self._full is not None

    def write(self, data: bytes) -> int:
        """Seal more plaintext.

        A full disk does not stop the request's body being read: the rest of this
        part is let go, the other fields are read, and `finish` raises it, so the
        view refuses the report with its form given back, not a busy page in
        place of what the source wrote. A disk down to its last share
        (`_SPACE_LAST`) is met as a full one, and one that takes no writes
        (`_UNWRITABLE`) alike.
        """
        if not data or self._full is not None:
            return len(data)
        try:
            return self._seal(data)
        except OSError as exc:
            if exc.errno not in _FULL | _UNWRITABLE:
                raise
            self._full = exc
            return len(data)

    def _seal(self, data: bytes) -> int:
        # Looked at once a write-back's worth (4 MiB, a trifle beside the share): a disk
        # filled to the floor is met as a full one.
        # A new file takes an inode, kept by the same floor as the bytes.
        made = 1 if self._writer is None else 0
        if self._since_writeback == 0 and not self._store.space_above_floor(len(data), made):
            raise OSError(errno.ENOSPC, "the last of the disk is kept for the database")
        if self._writer is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            # Held while it is written: at start-up, a staged file nobody holds
            # is one whose writer died, and no request will come back for it.
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._file = os.fdopen(fd, "wb")
            self._writer = SealingWriter(self._file, self._recipients, self.metadata)
        written = self._writer.write(data)
        self._since_writeback += len(data)
        if self._since_writeback >= files.WRITEBACK_EVERY:
            self._start_writeback()
        return written

    def seek(self, offset: int, whence: int = 0) -> int:
        """Note the end of the upload part: Werkzeug rewinds each part when it is complete.

        What is sealed of it starts for the disk now, while the rest of the request runs.
        """
        if offset == 0 and whence == 0:
            self.part_complete = True
            if self._file is not None and self._full is None:
                try:
                    self._start_writeback()
                except OSError as exc:
                    if exc.errno not in _FULL | _UNWRITABLE:
                        raise
                    self._full = exc
        return 0

    def _start_writeback(self) -> None:
        assert self._file is not None  # noqa: S101 - called once something was written
        self._file.flush()
        end = self._file.tell()
        files.start_writeback(self._file.fileno(), self._written_back, end - self._written_back)
        self._since_writeback, self._written_back = 0, end

    def finish(self, *, flush: bool = True) -> SealResult:
        """Seal the last chunk and force the ciphertext to disk.

        With `flush=False` the file stays open (and held) for `publish_staged`,
        which forces it to disk together with the others and their renames.
        """
        if self._full is not None:
            raise self._full
        if self._writer is None or self._file is None:
            raise ValueError("nothing was written")
        self.result = self._writer.finish()
        self._file.flush()
        if flush:
            os.fsync(self._file.fileno())
            self._file.close()
        return self.result

    def unflushed(self) -> int | None:
        """The descriptor of a finished file not yet forced to disk, or None."""
        if self.result is None or self._file is None or self._file.closed:
            return None
        return self._file.fileno()

    def close(self) -> None:
        """Close the file (its lock goes with it); what was flushed stays."""
        if self._file is not None:
            self._file.close()

    def discard(self) -> None:
        """Abort sealing and retire whatever was staged (even when the disk is full)."""
        try:
            if self._writer is not None:
                self._writer.abort()
            if self._file is not None and not self._file.closed:
                # Closing flushes what is buffered, which a full disk refuses: it goes anyway.
                with contextlib.suppress(OSError):
                    self._file.close()
        finally:
            # A source's failed submission: freed now, its inode would date it.
            self._store.retire_file(self.path)


class _Scratch(io.BufferedRandom):
    """A file of the store for a bundle in transit, retired when closed (`scratch`)."""

    def __init__(self, store: EnvelopeStore, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)  # held while open: an unheld one is a dead worker's
        super().__init__(io.FileIO(fd, "r+b"))
        self._store, self._path = store, path

    def close(self) -> None:
        """Close, then overwrite the file and set it aside for the sweep."""
        if self.closed:
            return
        try:
            super().close()
        finally:
            self._store.retire_file(self._path)


class _Retoucher:
    """Re-touches a store's held files off the requests that made arrivals (`retouch`).

    `request` asks for a pass and returns at once; a thread of this process (started on
    demand, in a forked child too, and gone after `_IDLE_EXIT` seconds without a request)
    runs it, then waits `RETOUCH_EVERY`, or `_RETOUCH_SHARE` times the pass's length if
    longer, before the next: arrivals meanwhile share that next pass. A pass asked for and
    not yet run when the process exits runs then (`_at_exit`). Nothing is logged: a log
    line's time would date the arrival.
    """

    def __init__(self, retouch: Callable[[], None]) -> None:
        self._retouch = retouch
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._settled = threading.Event()
        self._settled.set()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def request(self) -> None:
        """Ask for a pass over the held files."""
        with self._lock:
            self._settled.clear()
            self._wanted.set()
            if self._pid != os.getpid() or self._thread is None:
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="raazdar-retouch", daemon=True
                )
                self._thread.start()
                _PENDING.add(self)

    def settle(self, timeout: float) -> bool:
        """Wait until every pass asked for has run; say whether it did within `timeout`."""
        return self._settled.wait(timeout)

    def _run(self) -> None:
        while True:
            if not self._wanted.wait(timeout=_IDLE_EXIT):
                with self._lock:
                    if not self._wanted.is_set():
                        self._thread = None
                        return
            self._wanted.clear()
            started = time.monotonic()
            with contextlib.suppress(OSError):  # the next arrival's pass, or the sweep, mends it
                self._retouch()
            took = time.monotonic() - started
            with self._lock:
                if not self._wanted.is_set():
                    self._settled.set()
            time.sleep(max(RETOUCH_EVERY, _RETOUCH_SHARE * took))

    def at_exit(self) -> None:
        """Run a pass asked for and not yet run (the process is ending)."""
        if self._pid == os.getpid() and not self._settled.is_set():
            with contextlib.suppress(OSError):
                self._retouch()


# The retouchers of this process that have run a thread (weakly: a store's own goes with it).
_PENDING: weakref.WeakSet[_Retoucher] = weakref.WeakSet()


@atexit.register
def _at_exit() -> None:
    for retoucher in list(_PENDING):
        retoucher.at_exit()


class EnvelopeStore:
    """Envelope files under one directory, by id."""

    def __init__(self, root: Path, staging: Path, database: Path | None = None) -> None:
        self.root = root
        self.staging = staging
        # Where the database keeps its files, if this server can see it (an SQLite file's
        # directory): its disk's last hundredth is kept as the store's (`space_above_floor`).
        self.database = database
        self.holding = root / HOLDING_NAME
        self._retoucher = _Retoucher(lambda: self.retouch())

    def path(self, envelope_id: str) -> Path:
        """Where envelope `envelope_id` is: in the store, else held since it arrived."""
        stored = self.stored_path(envelope_id)
        if not stored.exists():
            held = self.holding / stored.name
            if held.exists():
                return held
        return stored

    def stored_path(self, envelope_id: str) -> Path:
        """Where envelope `envelope_id` lives once a sweep has moved it into the store."""
        if not _ID.fullmatch(envelope_id):
            raise ValueError("not an envelope id")
        return self.root / f"{envelope_id}.rze"

    def stage(self, recipients: list[SealingKey], metadata: Metadata) -> StagedEnvelope:
        """Start sealing a new envelope into staging."""
        return StagedEnvelope(self, recipients, metadata)

    def stage_bytes(
        self,
        plaintext: bytes,
        recipients: list[SealingKey],
        metadata: Metadata,
        *,
        flush: bool = True,
    ) -> StagedEnvelope:
        """Seal a small in-memory plaintext into staging (`flush`: see `StagedEnvelope.finish`)."""
        staged = self.stage(recipients, metadata)
        try:
            staged.write(plaintext)
            staged.finish(flush=flush)
        except BaseException:
            staged.discard()
            raise
        return staged

    def stage_ciphertext(self, envelope: bytes) -> tuple[str, Path]:
        """Write an envelope that was sealed elsewhere (a reply) into staging.

        A write or flush that fails (a full disk) retires what was written: the
        caller never learns the file's name, so nothing else would take it away.
        """
        envelope_id = secrets.token_hex(16)
        path = self.staging / f"{envelope_id}.rze"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(envelope)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            self.retire_file(path)  # freed now, its inode would date the failure
            raise
        return envelope_id, path

    def publish(self, envelope_id: str, staged_path: Path) -> Path:
        """Move one staged envelope into holding (see `publish_all`)."""
        return self.publish_all([(envelope_id, staged_path)])[0]

    def publish_staged(self, envelopes: Sequence[StagedEnvelope]) -> list[Path]:
        """Publish finished envelopes (`publish_all`), forcing those still open to disk
        in the same round of flushes as their renames; then close them."""
        try:
            return self.publish_all(
                [(e.id, e.path) for e in envelopes],
                unflushed=[fd for e in envelopes if (fd := e.unflushed()) is not None],
            )
        finally:
            for envelope in envelopes:
                envelope.close()

    def publish_all(
        self, staged: Sequence[tuple[str, Path]], *, unflushed: Sequence[int] = ()
    ) -> list[Path]:
        """Move staged envelopes into holding, all or none, and re-touch every held file.

        Re-touching gives every held file the same change time, that of the
        latest arrival, so that they say nothing about each other's. The
        renames share one directory flush and one re-touch: a submission's
        files are one arrival. Its own files' and the directories' access and
        modification times are set to the epoch here; the change times of the
        files held before follow off this request, within `RETOUCH_EVERY` of it
        when few are held (`_Retoucher`). The files open as `unflushed` (descriptors) are
        forced to disk at the same time as the directory: all are on disk when
        this returns, before any row that names them commits. If a rename or a
        flush fails, the files already renamed are retired (`retire_file`).
        """
        if not self.holding.is_dir():
            self.holding.mkdir(mode=0o700, exist_ok=True)
            files.normalize_times(self.root)
            files.fsync_directory(self.root)
        published: list[Path] = []
        holds = _FILING.get()
        try:
            for envelope_id, staged_path in staged:
                target = self.holding / self.stored_path(envelope_id).name
                if holds is not None:
                    holds.append(_hold(staged_path))  # before the rename: never held unheld
                os.replace(staged_path, target)
                published.append(target)
            # Durable before the rows commit: after a power cut, a committed item has its file.
            # A crash before this returns leaves files no row names, which the
            # retention purge removes (as it does those of a crash before the commit).
            files.fsync_together(unflushed, self.holding)
        except BaseException:
            for path in published:
                self.retire_file(path)  # freed now, its inode would date the failure
            raise
        files.normalize_times(*published, self.holding, self.staging)
        self._retoucher.request()
        return published

    @staticmethod
    @contextlib.contextmanager
    def filing() -> Iterator[None]:
        """Hold each envelope published in the block (`flock`) until the block ends.

        The caller commits the rows that name them inside it: a held envelope no row
        names is destroyed by the timer only once no one holds it (`free_unfiled`), so
        a commit however slow never loses its envelope, and one killed loses only
        envelopes no row will name.
        """
        holds: list[int] = []
        token = _FILING.set(holds)
        try:
            yield
        finally:
            _FILING.reset(token)
            for fd in holds:
                os.close(fd)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the held files' re-touch asked for by arrivals so far has run."""
        return self._retoucher.settle(timeout)

    def retouch(self) -> None:
        """Set every held file's and the holding directory's times to the epoch (ctime: now).

        By name within the directory, with no `stat` or path per file: it runs
        at every arrival, over every file that arrived since the last sweep.
        """
        try:
            fd = open_quietly(self.holding, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            return
        try:
            for name in os.listdir(fd):
                try:  # noqa: SIM105 - no context object per held file, at every arrival
                    os.utime(name, (0, 0), dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    pass
        finally:
            os.close(fd)
        files.normalize_times(self.holding)

    def envelope_bytes(self) -> int:
        """How many bytes the envelopes stored and held take (listed without moving a time)."""
        return sum(
            entry.info.st_size
            for directory in (self.root, self.holding)
            for entry in files.names(directory)
            if _envelope_name(entry)
        )

    def held(self) -> list[str]:
        """Return the ids of the envelopes waiting in holding for the next sweep."""
        return sorted(i for i in map(_envelope_name, files.names(self.holding)) if i)

    def open(self, envelope_id: str) -> BinaryIO:
        """Open a stored envelope for reading, leaving its access time alone where possible.

        The reader holds a shared lock on the file while it is open: a sweep
        overwrites the inode it replaced only once its readers are done. An
        inode found already unlinked (a sweep renamed over it between the look
        and the lock) is given up for the new one.
        """
        # An atime would record when a source last read their replies.
        for _attempt in range(3):
            try:
                fd = open_quietly(self.path(envelope_id))
            except FileNotFoundError:
                continue  # moved from holding into the store since the look
            fcntl.flock(fd, fcntl.LOCK_SH)
            if os.fstat(fd).st_nlink > 0:
                return os.fdopen(fd, "rb")
            os.close(fd)
        return os.fdopen(open_quietly(self.path(envelope_id)), "rb")

    @contextlib.contextmanager
    def steady(self) -> Iterator[None]:
        """Keep sweeps out while the block reads envelopes by path (an export, a reply import)."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        held = None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            held = _STEADY.set((*_STEADY.get(), fd))
            yield
        finally:
            if held is not None:
                _STEADY.reset(held)
            os.close(fd)

    @staticmethod
    @contextlib.contextmanager
    def sweeps_let_in() -> Iterator[bool]:
        """Let go of the store's locks this code holds (`steady`) for the block, and take them
        again after it; yield whether it held any.

        For a wait on something outside the server (a download's browser): one that read a
        byte a minute held the sweep, and so the arrival times it takes off the disk, for
        as long as it liked. Whoever reads on after it must check that no sweep moved what
        it reads (`app.operations.sweep.last_sweep`).
        """
        held = _STEADY.get()
        for fd in held:
            fcntl.flock(fd, fcntl.LOCK_UN)
        try:
            yield bool(held)
        finally:
            for fd in held:
                fcntl.flock(fd, fcntl.LOCK_SH)

    def delete(self, envelope_id: str) -> None:
        """Overwrite and remove a stored envelope, wherever it is."""
        stored = self.stored_path(envelope_id)
        self.destroy(self.holding / stored.name)
        self.destroy(stored)

    def scratch(self) -> BinaryIO:
        """Open a new file in the store for a bundle in transit (a reply bundle's upload).

        Unnamed (O_TMPFILE), such a file was freed at once when closed, never overwritten:
        its blocks kept the bundle, and its inode when staff sent or fetched it. This one
        is overwritten and retired when closed (`retire_file`); one a killed worker left
        is destroyed by the next sweep.
        """
        return _Scratch(self, self.root / f"{_SCRATCH_PREFIX}{secrets.token_hex(16)}")

    def retire(self, envelope_id: str) -> None:
        """Retire a stored envelope, wherever it is (`retire_file`)."""
        stored = self.stored_path(envelope_id)
        for path in (self.holding / stored.name, stored):
            self.retire_file(path)

    def retire_file(self, path: Path) -> None:
        """Overwrite a file of the store (a directory: each file in it) now; free it at the sweep.

        Unlinked now, a freed inode keeps the deletion's time to the second, and
        its creation time, until a new file takes it, which on a quiet instance is
        after every sweep: a seized disk dated the deletion (a source deleting a
        reply, failing a submission, sending a chunk; an upload expiring as another
        began; a reply bundle applied; a purge), and an older copy names the inode's envelope. So
        the file is overwritten and cut to nothing, and waits in the store under
        `_RETIRED_PREFIX` for the timer's next run (hourly) or sweep to free its
        inode and take it back (`free_retired`, `sweep`): it costs an inode until
        then, no space. Should the rename fail
        (a full disk with no room in the store's directory), it is unlinked now.

        Anyone can fail a submission, so a flood of them would hold inodes until the
        sweep: once no more than a tenth of the filesystem's inodes are free (the share
        API uploads stop at, above later reports' twentieth), a file is unlinked now
        instead, dated, so that arrivals never find the inodes used up by what waits.
        """
        try:
            info = path.lstat()
        except FileNotFoundError:
            return
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            self.destroy(path)  # never written through: a link, a pipe
            return
        if not self.inodes_to_spare():
            self.destroy(path)
            files.normalize_times(path.parent, self.root)
            return
        # It waits in its own directory when that is staging or holding, whose times
        # arrivals move anyway: renamed into the store's, it would move that directory's
        # change time, which says nothing between two sweeps, to the deletion's.
        waits_in = path.parent if path.parent in (self.staging, self.holding) else self.root
        try:
            _blank(path)
            os.rename(path, waits_in / f"{_RETIRED_PREFIX}{secrets.token_hex(16)}")
        except FileNotFoundError:
            pass
        except OSError:
            self.destroy(path)
        files.normalize_times(path.parent, waits_in)

    def inodes_to_spare(self) -> bool:
        """Whether more than the share of inodes kept for arrivals is free where the store is."""
        try:
            found = os.statvfs(self.root)
        except OSError:
            return False
        # Filesystems that make inodes as needed (btrfs, XFS's dynamic ones) report none.
        return found.f_files == 0 or found.f_favail > found.f_files // _INODES_KEPT

    def space_to_spare(self, need: int, files: int = 0) -> bool:
        """Whether `need` bytes and `files` inodes more leave free more than the share of
        space and of inodes kept for arrivals."""
        return self._leaves_free(need, files, _SPACE_KEPT)

    def space_for_uploads(self, need: int, files: int = 0) -> bool:
        """Whether `need` bytes and `files` inodes more leave free more than the share no API
        upload takes."""
        return self._leaves_free(need, files, _SPACE_KEPT_FROM_UPLOADS)

    def short_for_uploads(self, need: int, files: int = 0) -> tuple[int, int]:
        """How many bytes and inodes must be freed for `need` bytes and `files` inodes more to
        leave free the share no API upload takes ((0, 0) if none)."""
        try:
            found = os.statvfs(self.root)
        except OSError:
            return need, files
        free = found.f_bavail * found.f_frsize
        kept = found.f_blocks * found.f_frsize // _SPACE_KEPT_FROM_UPLOADS
        return max(0, need + kept + 1 - free), _inodes_short(found, files, _SPACE_KEPT_FROM_UPLOADS)

    def space_above_floor(self, need: int, files: int = 0) -> bool:
        """Whether `need` bytes and `files` inodes more leave free more than the last share no
        upload takes, and the database's disk, if it is seen, has more than that share free."""
        return self.store_above_floor(need, files) and self.database_above_floor()

    def store_above_floor(self, need: int, files: int = 0) -> bool:
        """Whether `need` bytes and `files` inodes more leave the store's own disk above the
        last share."""
        return self._leaves_free(need, files, _SPACE_LAST)

    def database_above_floor(self) -> bool:
        """Whether the database's disk has more than its last hundredth of space and of inodes
        free (True if unseen).

        The floor is kept for the database's logins, but watched the store's disk alone:
        with the database on a disk of its own, a flood of rows (a spent challenge a signed
        request, an account a minute a circuit) filled that one to its last byte. The same
        disk as the store's gives the same answer as the store's own check.
        """
        if self.database is None:
            return True
        try:
            found = os.statvfs(self.database)
        except OSError:
            return False
        space = found.f_bavail * found.f_frsize > found.f_blocks * found.f_frsize // _SPACE_LAST
        return space and not _inodes_short(found, 0, _SPACE_LAST)

    def _leaves_free(self, need: int, files: int, share: int) -> bool:
        """Whether `need` bytes and `files` inodes more leave free more than 1/`share` of the
        store's filesystem's space and of its inodes."""
        try:
            found = os.statvfs(self.root)
        except OSError:
            return False
        free = found.f_bavail * found.f_frsize
        space = free - need > found.f_blocks * found.f_frsize // share
        return space and not _inodes_short(found, files, share)

    def reserve(self, fd: int, need: int) -> bool:
        """Allocate `need` bytes to an open file of the store now; say whether the share kept
        from API uploads is still free after it (if not, the caller lets the file go).

        Checked alone before a body comes, the space was free for every request that
        asked while the bodies were still on their way (minutes over Tor), and together
        they wrote into the share kept. Allocated first, each request's bytes count in
        every later check, from any worker, or any host sharing the filesystem.
        """
        if not self.space_for_uploads(need):
            return False
        if need > 0:
            try:
                os.posix_fallocate(fd, 0, need)
            except OSError as exc:
                if exc.errno in _FULL:
                    return False
                if exc.errno not in _NO_FALLOCATE:
                    raise
                # A filesystem that cannot allocate ahead: the check before is all there is.
                return True
        return self.space_for_uploads(0)

    def sweep(
        self, *, renew: Callable[[str, os.stat_result], bool], rng: random.Random | None = None
    ) -> Swept:
        """Re-create every held envelope (and every stored one `renew` names) as a new file.

        The new files are written, flushed and renamed into the store in a random
        order, so their creation and change times, inode numbers and places in
        the directory follow the sweep's shuffle, not arrival; each old inode is
        overwritten before it goes, once the new name is flushed. A crash, or a power
        cut, leaves every envelope whole in one place or the other; the next sweep
        finishes the job.

        They go in batches whose copies fit above the disk's last share (`_batch`): copied
        all before any swap, a flood held past the free room made every sweep fail, and
        each held envelope kept the inode and creation time it had in arrival order. Each
        batch is a random pick of all still waiting, and takes the inodes and blocks the
        batch before it freed in its own random order, so no batch, nor the order between
        batches, follows arrival; only which envelopes were swept together (a batch's
        times are its own) shows, and that grouping is random. What finds no room stays
        held, dated, and is counted (`Swept.unswept`).
        """
        shuffle = (rng or random.SystemRandom()).shuffle
        jobs = [(self.holding / f"{i}.rze", self.stored_path(i)) for i in self.held()]
        for entry in files.names(self.root):
            envelope_id = _envelope_name(entry)
            if envelope_id and renew(envelope_id, entry.info):
                jobs.append((self.stored_path(envelope_id), self.stored_path(envelope_id)))
        freed = self.free_abandoned()
        for entry in files.names(self.staging):
            if entry.name.startswith(_SWEEP_PREFIX):
                self.destroy(self.staging / entry.name)  # an interrupted `renew`'s copy
        for directory in (self.staging, self.holding):
            for entry in files.names(directory):
                if entry.name.startswith(_RETIRED_PREFIX):  # `retire_file` of a file there
                    freed += _inodes(directory / entry.name)
                    self.destroy(directory / entry.name)
                elif entry.name.startswith(files.SCRUB_PREFIX):  # a killed sweep's, empty
                    with contextlib.suppress(FileNotFoundError):
                        (directory / entry.name).unlink()
        for entry in files.names(self.root):
            if entry.name.startswith(_SWEEP_PREFIX):
                self.destroy(self.root / entry.name)  # a copy an interrupted sweep left
            elif (
                entry.name.startswith(_RETIRED_PREFIX)
                # A reply bundle's apply killed midway (a live one keeps sweeps out: `steady`).
                or (entry.name.startswith(REPLY_WORK_PREFIX) and stat.S_ISDIR(entry.info.st_mode))
                # A bundle in transit whose worker was killed (`scratch`).
                or (entry.name.startswith(_SCRATCH_PREFIX) and not _held(self.root / entry.name))
            ):
                freed += _inodes(self.root / entry.name)
                self.destroy(self.root / entry.name)
        shuffle(jobs)
        moved = renewed = 0
        while jobs:
            batch, jobs = self._batch(jobs)
            if not batch:
                break  # not one more fits above the floor: they wait for room (`unswept`)
            copies = self._copies(batch)
            files.fsync_directory(self.root)
            shuffle(copies)
            for copy, source, target in copies:
                freed += self._swap(copy, source, target)
            moved += sum(s != t for _, s, t in copies)
            renewed += sum(s == t for _, s, t in copies)
        self._renew_holding()
        files.fsync_directory(self.root)
        files.normalize_times(self.root, self.holding, self.staging)
        return Swept(
            moved=moved,
            renewed=renewed,
            freed=tuple(freed),
            unswept=sum(s != t for s, t in jobs),
        )

    def _batch(
        self, jobs: list[tuple[Path, Path]]
    ) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
        """Split shuffled jobs into the next batch, whose copies fit above the last share of
        the store's disk (`_SPACE_LAST`, bytes and inodes), and the rest, in their order.

        Each job is taken in the shuffle's order if it fits in what is left of the room, so a
        batch is a random pick of all that wait, and its copies' inodes and blocks, taken in
        that pick's order, say nothing of arrival. Each copy is counted a block more than its
        bytes take, and the batch four blocks more, for the store's directory to grow by.
        """
        try:
            found = os.statvfs(self.root)
        except OSError:
            return [], jobs
        block = found.f_frsize or 1
        space = (found.f_bavail - found.f_blocks // _SPACE_LAST - 4) * block
        inodes = found.f_favail - found.f_files // _SPACE_LAST - 1 if found.f_files else len(jobs)
        batch: list[tuple[Path, Path]] = []
        rest: list[tuple[Path, Path]] = []
        for source, target in jobs:
            try:
                info = source.lstat()
            except FileNotFoundError:
                continue  # deleted since the listing
            need = (info.st_size + block - 1) // block * block + block
            if need < space and inodes > 0:
                batch.append((source, target))
                space, inodes = space - need, inodes - 1
            else:
                rest.append((source, target))
        return batch, rest

    def _copies(self, batch: list[tuple[Path, Path]]) -> list[tuple[Path, Path, Path]]:
        """Copy each job's source (`_copy`); return the copies with their sources and targets.

        A full disk met all the same (an arrival took the room meanwhile) removes the
        batch's copies and is raised: left for the next sweep, they held the floor's room,
        the database's, until then (and that sweep did the same).
        """
        copies: list[tuple[Path, Path, Path]] = []
        for source, target in batch:
            try:
                copies.append((self._copy(source), source, target))
            except FileNotFoundError:
                continue  # deleted since the listing
            except OSError as exc:
                if exc.errno in _FULL:
                    for copy, _source, _target in copies:
                        self.destroy(copy)
                raise
        return copies

    def free_retired(self) -> list[int]:
        """Free every file `retire_file` set aside; return their inodes, for taking back.

        The timer runs this hourly between sweeps: each such file's change time, and
        its inode's once freed, said when it was deleted (a source reading and
        deleting a reply, a chunk of an upload) until the period's sweep.
        """
        freed: list[int] = []
        for directory in (self.staging, self.holding, self.root):
            try:
                entries = list(files.names(directory))
            except FileNotFoundError:
                continue  # no holding directory before the first arrival
            for entry in entries:
                if entry.name.startswith(_RETIRED_PREFIX):
                    freed += _inodes(directory / entry.name)
                    self.destroy(directory / entry.name)
        files.normalize_times(self.root, self.holding, self.staging)
        return freed

    def free_abandoned(self, min_age: float | None = None) -> list[int]:
        """Destroy the reports killed workers left in staging (`abandoned`), unchanged for
        `min_age` seconds (`ABANDONED_AFTER`); return their inodes, for taking back.

        The timer runs this hourly, and every sweep: held by no one, such a report waited for
        a restart (`resumable.recover`) or the daily purge a day on, counting against the
        floors, and its creation time said, past the period's sweep, when a source began
        sending. A reply staged and about to be published is held by no lock either, for
        the moment of a flush: the age keeps it.
        """
        freed: list[int] = []
        for path in self.abandoned(min_age=ABANDONED_AFTER if min_age is None else min_age):
            with contextlib.suppress(FileNotFoundError):
                freed.append(path.lstat().st_ino)
            self.destroy(path)
        return freed

    def free_unfiled(
        self, with_rows: Callable[[list[str]], set[str]], min_age: float | None = None
    ) -> list[int]:
        """Destroy the envelopes no row names, unchanged `min_age` seconds (`ABANDONED_AFTER`)
        and held by no writer (`filing`); return their inodes, for taking back.

        A writer killed between publishing and its commit left them: unreadable, never
        exported, counted against the floors and dated past the sweep, until the daily
        purge a day on. Each is locked first and `with_rows` asked again under the lock:
        a writer holds what it published until its commit has answered, so one found
        unheld and unnamed will never be named. The age is for a commit sent as its
        writer was killed, which the database may still carry out a moment later. The
        caller keeps sweeps and reply bundles out (`steady`): a bundle's replies are
        published before the apply's commit, unheld.
        """
        age = ABANDONED_AFTER if min_age is None else min_age
        freed: list[int] = []
        for path in self.orphans(with_rows, min_age=age):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue  # gone meanwhile (a sweep's move), or not a file of ours
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its writer is committing, or a reader reads it
                envelope_id = path.name.removesuffix(".rze")
                if with_rows([envelope_id]) or os.fstat(fd).st_nlink == 0:
                    continue
                freed.append(os.fstat(fd).st_ino)
                self.destroy(path)
            finally:
                os.close(fd)
        return freed

    def _renew_holding(self) -> None:
        """Put a new, empty holding directory in place, so that its creation time is the sweep's.

        Renaming over an empty directory is atomic; if an arrival got in since
        the listing, the old directory stays until the next sweep. The old one's
        blocks are freed with the names of the day's envelopes still in them, in
        the order they came: written over on the disk first (`files.scrub_names`;
        tests/app/operations/test_freed_blocks.py). A disk too full for that
        leaves the old directory as it is, for the next sweep.
        """
        try:
            files.scrub_names(self.holding)
        except FileNotFoundError:
            pass  # no arrival since the first sweep: nothing held, nothing named
        except OSError:
            return
        fresh = self.root / f"{_SWEEP_PREFIX}{secrets.token_hex(16)}"
        fresh.mkdir(mode=0o700)
        try:
            os.rename(fresh, self.holding)
        except OSError:
            fresh.rmdir()

    def renew(self, path: Path) -> list[int]:
        """Re-create a file of staging as a new one (an upload under way); return the old inode.

        Its creation and change times become now: the caller holds what writes to it
        (the upload's lock), and the sweep gives the inode freed its own time (`sweep`).
        A file that cannot be copied (a full disk) is left as it is, for the next sweep.
        """
        try:
            copy = self._copy(path, path.parent)
        except OSError:
            return []
        return self._swap(copy, path, path)

    def _copy(self, source: Path, directory: Path | None = None) -> Path:
        """Write a new file holding `source`'s bytes, flushed, its times at the epoch."""
        copy = (directory or self.root) / f"{_SWEEP_PREFIX}{secrets.token_hex(16)}"
        fd = open_quietly(source, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as src:
            out_fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                with os.fdopen(out_fd, "wb") as out:
                    while block := src.read(files.OVERWRITE_BLOCK):
                        out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                self.destroy(copy)  # half a copy of an envelope (a full disk)
                raise
        os.utime(copy, (0, 0))
        return copy

    def _swap(self, copy: Path, source: Path, target: Path) -> list[int]:
        """Rename `copy` over `target`, then overwrite and unlink the inodes it replaces.

        Returns their inode numbers (freed once no reader holds them).
        """
        old: list[int] = []
        try:
            for path in sorted({source, target}):
                with contextlib.suppress(FileNotFoundError):
                    old.append(os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK))
            os.replace(copy, target)
            if source != target:
                with contextlib.suppress(FileNotFoundError):
                    source.unlink()
            # The new names on the disk before the old bytes are zeros: ext4 flushes the zeros
            # before the commit that holds the rename, and a power cut between the two left
            # the old name on the zeros and the copy under its temporary name, which the next
            # sweep destroys (tests/app/test_store_power_cut.py). The old name's removal too:
            # kept, the next sweep copied its zeros over the envelope. Both directories at
            # once, sharing one journal commit (a sweep of 200 took some 40 % less).
            directories: list[int] = []
            try:
                for directory in {source.parent, target.parent}:
                    directories.append(os.open(directory, os.O_RDONLY | os.O_DIRECTORY))
                files.fsync_together(directories)
            finally:
                for fd in directories:
                    os.close(fd)
            for fd in old:
                # Wait for readers that opened the old inode (`open`) to finish.
                fcntl.flock(fd, fcntl.LOCK_EX)
                files.overwrite_fd(fd)
            return [os.fstat(fd).st_ino for fd in old]
        finally:
            for fd in old:
                os.close(fd)

    def destroy(self, path: Path) -> None:
        """Overwrite a file with zeros, force that to disk, then unlink it; a directory, whole.

        Symlinks and special files are unlinked without writing through them: the
        overwrite must never reach a file outside the store.
        """
        try:
            info = path.lstat()
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            for child in list(path.iterdir()):
                self.destroy(child)
            with contextlib.suppress(FileNotFoundError):
                path.rmdir()
        else:
            if stat.S_ISREG(info.st_mode):
                files.overwrite(path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        files.normalize_times(path.parent)

    def orphans(self, with_rows: Callable[[list[str]], set[str]], *, min_age: float) -> list[Path]:
        """List stored envelopes that `with_rows` does not know, untouched for `min_age` seconds.

        `with_rows` is given ids in batches and returns those that have a row.
        Only files named like envelopes are considered; anything else in the
        store is left alone.
        """
        found: list[Path] = []
        batch: list[str] = []

        def flush() -> None:
            known = with_rows(batch)
            found.extend(self.path(i) for i in batch if i not in known and self._stale(i, min_age))
            batch.clear()

        for envelope_id in self.envelope_ids():
            batch.append(envelope_id)
            if len(batch) >= _BATCH:
                flush()
        if batch:
            flush()
        return found

    def envelope_ids(self) -> Iterator[str]:
        """Yield the id of every envelope file in the store or in holding (once each)."""
        seen: set[str] = set()
        for directory in (self.root, self.holding):
            for entry in files.names(directory):
                envelope_id = _envelope_name(entry)
                if envelope_id and envelope_id not in seen:
                    seen.add(envelope_id)
                    yield envelope_id

    def exists(self, envelope_id: str) -> bool:
        """Say whether envelope `envelope_id` has a file."""
        return self.path(envelope_id).exists()

    def strays(self, *, min_age: float, keep: Collection[str] = ()) -> list[Path]:
        """List the entries of staging not named in `keep`, untouched for `min_age` seconds."""
        found = [
            self.staging / e.name
            for e in files.names(self.staging)
            if e.name not in keep
            and not e.name.startswith(_RETIRED_PREFIX)  # the sweep's to free (`retire_file`)
            and files.age(self.staging / e.name) >= min_age
        ]
        return sorted(found)

    def abandoned(self, *, keep: Collection[str] = (), min_age: float = UNHELD_AFTER) -> list[Path]:
        """List the files of staging whose writer has died, whatever their age.

        A web upload is held (`flock`) while it is sealed, by whichever host
        seals it, so an unheld `.rze` untouched for `UNHELD_AFTER` seconds is
        what a killed worker left; it cannot be resumed. Other names (an API
        upload's chunks) are resumable and left to their rows.
        """
        return [
            path
            for path in self.strays(min_age=min_age, keep=keep)
            if path.name.endswith(".rze") and not _held(path)
        ]

    def leftovers(self, *, min_age: float, keep: Collection[str] = ()) -> list[Path]:
        """List what a crash can leave behind, untouched for `min_age` seconds.

        That is anything in staging but `keep` (the files of uploads still under
        way), and the work directories reply bundles are unpacked into. Both are
        normally gone when the request that made them ends.
        """
        found = self.strays(min_age=min_age, keep=keep)
        found += [
            self.root / e.name
            for e in files.names(self.root)
            if e.name.startswith(REPLY_WORK_PREFIX)
            and stat.S_ISDIR(e.info.st_mode)
            and files.age(self.root / e.name) >= min_age
        ]
        return sorted(found)

    def _stale(self, envelope_id: str, min_age: float) -> bool:
        return files.age(self.path(envelope_id)) >= min_age
