"""A bounded pool for Argon2id derivations, shared by every gunicorn worker on this host.

Each slot is a lock file in the instance directory, held with `flock` for the
length of one derivation. File locks, not a database row, because the kernel
releases a lock the moment its holder dies (a killed worker never leaks a
slot), taking one writes nothing to disk or to the database (no row, no WAL
entry, no time stamp), and a pool per host is what protects that host's CPU and
memory when several app hosts share one database.

Waiters are served first come, first served within each worker (only the
oldest waiter of a process polls the slots), and across workers the oldest
waiters poll more often the longer they have waited, so a freed slot mostly
goes to the longest waiter, with no shared queue a crash could corrupt. No
waiter keeps its place beyond its own deadline. Then it gets `KdfBusy`, a calm
"try again in a minute" (503 with Retry-After) that says nothing about the
codename it carried.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from app.errors import AppError

SLOT_DIR: Final = "kdf-slots"
RETRY_AFTER_SECONDS: Final = 60
# A new waiter looks for a free slot every 25 ms or so; one that has waited a
# second, every 2 ms: a freed slot mostly goes to the longest waiter.
_FIRST_PAUSE: Final = 0.025
_LEAST_PAUSE: Final = 0.002
_rng = random.SystemRandom()
# The waiters of this worker process, oldest first.
_queue: collections.deque[object] = collections.deque()
_turn = threading.Condition()


class KdfBusy(AppError):
    """Every derivation slot stayed taken for the whole wait: try again in a minute."""

    status = 503
    retry_after = RETRY_AFTER_SECONDS


def slot_paths(instance_dir: Path, slots: int) -> list[Path]:
    """The lock files of the pool (private to the server)."""
    directory = instance_dir / SLOT_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    return [directory / f"slot-{n}" for n in range(slots)]


def prepare(instance_dir: Path, slots: int) -> None:
    """Create the lock files as the app starts, so their stamps never date a first login.

    Taking and freeing a slot later opens the file and locks it: neither changes
    a stamp of the file or of its directory.
    """
    for path in slot_paths(instance_dir, slots):
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))


def _try_take(path: Path) -> int | None:
    """Lock one slot file without waiting; return its descriptor, or None if taken."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _pause(waited: float) -> float:
    """How long to sleep before looking again, having waited `waited` seconds."""
    pause = max(_LEAST_PAUSE, _FIRST_PAUSE / (1 + 12 * waited))
    return _rng.uniform(0.5 * pause, pause)


def _take(paths: list[Path], started: float, deadline: float) -> int:
    """Poll the slots until one is free (its descriptor) or the deadline passes (`KdfBusy`)."""
    while True:
        _rng.shuffle(paths)
        for path in paths:
            fd = _try_take(path)
            if fd is not None:
                return fd
        now = time.monotonic()
        if now >= deadline:
            raise KdfBusy("every derivation slot is taken")
        time.sleep(min(_pause(now - started), max(0.0, deadline - now)))


@contextlib.contextmanager
def slot(instance_dir: Path, slots: int, wait_seconds: float) -> Iterator[None]:
    """Hold one of `slots` derivation slots for the block, or raise `KdfBusy` after the wait."""
    paths = slot_paths(instance_dir, slots)
    started = time.monotonic()
    deadline = started + wait_seconds
    me = object()
    with _turn:
        _queue.append(me)
    try:
        with _turn:
            # First come, first served within this worker: only the oldest waiter polls.
            while _queue[0] is not me:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise KdfBusy("every derivation slot is taken")
                _turn.wait(remaining)
        fd = _take(paths, started, deadline)
    finally:
        with _turn:
            _queue.remove(me)
            _turn.notify_all()
    try:
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock
