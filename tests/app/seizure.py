"""A seizure of a live instance's disk: every stamp the filesystem keeps, and the bytes."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Final

_AT_FDCWD: Final = -100
_AT_SYMLINK_NOFOLLOW: Final = 0x100
_STATX_BASIC_STATS: Final = 0x7FF
_STATX_BTIME: Final = 0x800


class _Timestamp(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_int64), ("tv_nsec", ctypes.c_uint32), ("_pad", ctypes.c_int32)]


class _Statx(ctypes.Structure):
    _fields_ = [
        ("stx_mask", ctypes.c_uint32),
        ("stx_blksize", ctypes.c_uint32),
        ("stx_attributes", ctypes.c_uint64),
        ("stx_nlink", ctypes.c_uint32),
        ("stx_uid", ctypes.c_uint32),
        ("stx_gid", ctypes.c_uint32),
        ("stx_mode", ctypes.c_uint16),
        ("_spare0", ctypes.c_uint16),
        ("stx_ino", ctypes.c_uint64),
        ("stx_size", ctypes.c_uint64),
        ("stx_blocks", ctypes.c_uint64),
        ("stx_attributes_mask", ctypes.c_uint64),
        ("stx_atime", _Timestamp),
        ("stx_btime", _Timestamp),
        ("stx_ctime", _Timestamp),
        ("stx_mtime", _Timestamp),
        ("_rest", ctypes.c_uint8 * 160),
    ]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def birth_time_ns(path: Path) -> int | None:
    """Return a file's creation time (statx btime) in ns, or None where it is not reported."""
    statx = getattr(_LIBC, "statx", None)
    if statx is None:
        return None
    buffer = _Statx()
    flags = _AT_SYMLINK_NOFOLLOW
    mask = _STATX_BASIC_STATS | _STATX_BTIME
    if statx(_AT_FDCWD, os.fsencode(path), flags, mask, ctypes.byref(buffer)) != 0:
        return None
    if not buffer.stx_mask & _STATX_BTIME:
        return None
    return int(buffer.stx_btime.tv_sec) * 1_000_000_000 + int(buffer.stx_btime.tv_nsec)


@dataclass(frozen=True)
class Stamps:
    """What the filesystem says of one path."""

    atime: int
    mtime: int
    ctime: int
    btime: int | None
    inode: int
    size: int
    directory: bool

    def times(self) -> dict[str, int]:
        """Every time stamp there is, by name, in ns."""
        found = {"atime": self.atime, "mtime": self.mtime, "ctime": self.ctime}
        if self.btime is not None:
            found["btime"] = self.btime
        return found


@dataclass(frozen=True)
class Seizure:
    """A copy of an instance as an adversary takes it: stamps first, then bytes."""

    stamps: dict[Path, Stamps]
    listing: dict[Path, list[str]]  # each directory's entries in the order readdir gives them
    data: dict[Path, bytes]


def seize(root: Path, *, skip: Iterable[str] = ("tor",)) -> Seizure:
    """Record the stamps of everything under `root`, then read the files without touching atime."""
    stamps: dict[Path, Stamps] = {}
    listing: dict[Path, list[str]] = {}
    skipped = set(skip)
    pending = [root]
    while pending:
        directory = pending.pop()
        stamps[directory] = _stamps(directory)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOATIME)
        try:
            names = os.listdir(fd)
        finally:
            os.close(fd)
        listing[directory] = names
        for name in names:
            path = directory / name
            if name in skipped and directory == root:
                continue
            info = path.lstat()
            if stat.S_ISDIR(info.st_mode):
                pending.append(path)
            elif stat.S_ISREG(info.st_mode):
                stamps[path] = _stamps(path)
    data = {}
    for path, found in stamps.items():
        if not found.directory:
            fd = os.open(path, os.O_RDONLY | os.O_NOATIME)
            with os.fdopen(fd, "rb") as stream:
                data[path] = stream.read()
    return Seizure(stamps, listing, data)


def _stamps(path: Path) -> Stamps:
    info = path.lstat()
    return Stamps(
        info.st_atime_ns,
        info.st_mtime_ns,
        info.st_ctime_ns,
        birth_time_ns(path),
        info.st_ino,
        info.st_size,
        stat.S_ISDIR(info.st_mode),
    )


def orders(values: Sequence[float], groups: Sequence[int]) -> bool:
    """Say whether `values` put every pair from different groups in group order, or all reversed.

    Groups are submissions, numbered in the order they arrived; ties order nothing.
    """
    pairs = [(a, b) for a, b in combinations(range(len(values)), 2) if groups[a] != groups[b]]
    signs = {
        (values[a] > values[b]) == (groups[a] > groups[b])
        for a, b in pairs
        if values[a] != values[b]
    }
    tied = all(values[a] == values[b] for a, b in pairs)
    return not tied and len(signs) == 1 and len(pairs) > 0


def offsets(data: bytes, needle: bytes) -> list[int]:
    """Every place `needle` occurs in `data`."""
    found, start = [], 0
    while (at := data.find(needle, start)) >= 0:
        found.append(at)
        start = at + 1
    return found
