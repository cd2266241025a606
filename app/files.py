"""File operations the envelope store is built on: quiet listing, overwriting, durable renames.

Each avoids leaving a time behind: directories are listed with O_NOATIME
(`app.noatime`), and times that a change sets are put back to the epoch.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import stat
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.noatime import open_quietly

OVERWRITE_BLOCK: Final = 1024 * 1024
# How much of a file being written may wait in memory before its write-back is started.
WRITEBACK_EVERY: Final = 4 * 1024 * 1024
# Threads that wait on flushes for `fsync_together`, per process (made after a fork).
_FLUSHERS: Final = 3
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()
_LIBC: Final = ctypes.CDLL(None, use_errno=True)
# The entries `scrub_names` writes over a folder's room: as long as an envelope's
# (`<32 hex>.rze`, an entry of 44 bytes), so they lie where those lay.
SCRUB_PREFIX: Final = ".names-"
SCRUB_NAME_LENGTH: Final = 36
# An entry's size in an ext4 folder's block: 8 bytes and the name, rounded up to 4.
_ENTRY_HEAD: Final = 8
# How many times over its room a folder takes entries in `scrub_names`.
_SCRUB_TIMES: Final = 4


def normalize_times(*paths: Path) -> None:
    """Set the access and modification times of `paths` to the epoch (ctime becomes now)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (0, 0))


@dataclass(frozen=True)
class Entry:
    """A name in a directory and what `lstat` said of it."""

    name: str
    info: os.stat_result


def names(directory: Path) -> list[Entry]:
    """List a directory without moving its access time; [] if it is not there.

    Listing is how the purge, the doctor and the sweep look: resetting the
    directory's times afterwards would move its change time to the moment they looked.
    """
    try:
        fd = open_quietly(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return []
    found = []
    try:
        for name in os.listdir(fd):
            with contextlib.suppress(FileNotFoundError):
                found.append(Entry(name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
    finally:
        os.close(fd)
    return found


def start_writeback(fd: int, offset: int = 0, length: int = 0) -> None:
    """Ask the kernel to start writing a file's dirty pages to disk, and return at once.

    Only the `length` bytes from `offset` (0: to the end): a large file written in steps
    asks for each step alone, not for the whole file again each time.

    Nothing is made durable here: the flush that does that still comes, before any row
    names the file (`fsync_together`). Started early, the disk's work overlaps what the
    request does meanwhile instead of following it, and a large upload goes to disk as it
    is sealed instead of all at its end (1 MiB: 0.18 ms of flush left after 2 ms of other
    work, against 0.69-0.79 ms, on the disk measured). On Linux, POSIX_FADV_DONTNEED starts
    the write-back of the dirty pages and only drops clean ones (PostgreSQL's
    `pg_flush_data` does the same where `sync_file_range` is missing); where it does
    nothing, nothing is lost but the overlap.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def fsync_directory(directory: Path) -> None:
    """Make the renames in a directory durable."""
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_together(fds: Sequence[int], directory: Path | None = None) -> None:
    """Force files, and the renames in `directory`, to disk at once; return when all are.

    One after another, each flush waits for a journal commit and a device flush
    of its own; issued together, the filesystem shares one among them (about a
    third of the wait for two files and their directory, measured on ext4). The
    first error is raised once every flush has returned.
    """
    dir_fd = None
    if directory is not None:
        with contextlib.suppress(FileNotFoundError):
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    todo = [*fds, *([] if dir_fd is None else [dir_fd])]
    try:
        others: list[Future[None]] = [_flushers().submit(os.fsync, fd) for fd in todo[1:]]
        try:
            if todo:
                os.fsync(todo[0])
        finally:
            errors = [f.exception() for f in others]
        for error in errors:
            if error is not None:
                raise error
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def syncfs(fd: int) -> None:
    """Commit the journal of `fd`'s filesystem and write its blocks in place (`syncfs`)."""
    if _LIBC.syncfs(fd) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def scrub_names(directory: Path) -> None:
    """Write over, on the disk, the names a folder's removed entries left in its blocks.

    ext4 leaves a removed entry's name in the folder's block (it only joins its
    room to the entry before), writes the block in place some time after its
    journal commit, and forgets a block it frees without writing it: a folder
    removed left every name it had held in the blocks it freed, laid in the order
    they came. So the room is taken by new entries of an envelope name's length,
    each laid where an old one lay, all links to one empty file: until the folder
    has grown by a block, and at least `_SCRUB_TIMES` times its room over (an
    indexed folder puts each entry in a block chosen by its name's hash, so each
    block takes its share of them many times over). The blocks are then written in
    place (`syncfs`) and the entries removed; their random names stay. Raises
    OSError (a full disk); the entries made are removed all the same.
    """
    fd = open_quietly(directory, os.O_RDONLY | os.O_DIRECTORY)
    made: list[str] = []
    try:
        size = os.fstat(fd).st_size
        room = size // (_ENTRY_HEAD + SCRUB_NAME_LENGTH)
        target = ""
        while len(made) < _SCRUB_TIMES * room or os.fstat(fd).st_size <= size:
            name = _scrub_name()
            if not target:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd))
                target = name
            else:
                try:
                    os.link(target, name, src_dir_fd=fd, dst_dir_fd=fd)
                except OSError as exc:
                    if exc.errno != errno.EMLINK:
                        raise
                    target = ""  # as many links as one file takes: the next is a file anew
                    continue
            made.append(name)
        syncfs(fd)
    finally:
        for name in made:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)
        os.close(fd)


def _scrub_name() -> str:
    """A random name for `scrub_names`, as long as an envelope's."""
    return SCRUB_PREFIX + secrets.token_hex(16)[: SCRUB_NAME_LENGTH - len(SCRUB_PREFIX)]


def _flushers() -> ThreadPoolExecutor:
    """This process's flushing threads (a forked worker makes its own)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(_FLUSHERS, thread_name_prefix="fsync"))
        return _pool[1]


def overwrite_fd(fd: int) -> None:
    """Write zeros over every byte of the regular file open as `fd` and wait for the device."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        return
    zeros = bytes(min(info.st_size, OVERWRITE_BLOCK))
    offset = 0
    while offset < info.st_size:
        offset += os.pwrite(fd, zeros[: info.st_size - offset], offset)
    os.fsync(fd)


def overwrite(path: Path) -> None:
    """Write zeros over every byte of a regular file and wait until the device has them."""
    # Overwriting in place is a best effort. It reaches the old bytes where the
    # filesystem rewrites blocks where they lie (ext4 in its default ordered mode,
    # XFS, tmpfs). It promises nothing on copy-on-write or log-structured
    # filesystems (btrfs, ZFS, F2FS), whose writes go to new blocks and whose
    # snapshots keep the old ones; in the journal of ext4 with data=journal; on
    # SSDs and SD cards, whose wear levelling remaps writes and keeps old pages
    # until the drive erases them; or in backups. There, what protects a report is
    # that the server only ever held ciphertext it cannot open, and full-disk
    # encryption whose key can be destroyed.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return
    try:
        overwrite_fd(fd)
    finally:
        os.close(fd)


def replace_overwriting(source: Path, target: Path) -> None:
    """Rename `source` over `target`, then write zeros over the file it replaced.

    For keys: a rename alone leaves the old key's bytes in freed blocks. The old
    file is held open across the rename and overwritten only once the rename is
    durable, so a crash at any step leaves `target` a whole key, the old or the
    new one (the old one's bytes stay only if the crash falls between the two).
    """
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)  # the new key is on the disk before any name points at it
    finally:
        os.close(fd)
    try:
        old: int | None = os.open(target, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        old = None
    try:
        os.replace(source, target)
        fsync_directory(target.parent)
        if old is not None:
            overwrite_fd(old)
    finally:
        if old is not None:
            os.close(old)


def age(path: Path) -> float:
    """Seconds since anything last changed a file or, for a directory, anything in it."""
    # The inode change time, because publishing resets the other times to the
    # epoch (and sets this one): it says how long a file has been as it is.
    try:
        newest = path.lstat().st_ctime
        if path.is_dir() and not path.is_symlink():
            for inner in path.rglob("*"):
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, inner.lstat().st_ctime)
    except FileNotFoundError:
        return 0.0
    return time.time() - newest
