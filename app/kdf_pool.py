"""A bounded pool for Argon2id derivations, shared by every gunicorn worker on this host.

Each slot is a lock file in the instance directory, held with `flock` for the
length of one derivation. File locks, not a database row, because the kernel
releases a lock the moment its holder dies (a killed worker never leaks a
slot), taking one writes nothing to disk or to the database (no row, no WAL
entry, no time stamp), and a pool per host is what protects that host's CPU and
memory when several app hosts share one database.

A request that finds every slot taken polls, at random short intervals, until
its wait runs out: every waiter has the same chance at each freed slot, and no
waiter keeps its place beyond its own deadline. Then it gets `KdfBusy`, a calm
"try again in a minute" (503 with Retry-After) that says nothing about the
codename it carried.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from app.errors import AppError

SLOT_DIR: Final = "kdf-slots"
RETRY_AFTER_SECONDS: Final = 60
_POLL_SECONDS: Final = (0.005, 0.025)
_rng = random.SystemRandom()


class KdfBusy(AppError):
    """Every derivation slot stayed taken for the whole wait: try again in a minute."""

    status = 503
    retry_after = RETRY_AFTER_SECONDS


def slot_paths(instance_dir: Path, slots: int) -> list[Path]:
    """The lock files of the pool (created on first use, private to the server)."""
    directory = instance_dir / SLOT_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    return [directory / f"slot-{n}" for n in range(slots)]


def _try_take(path: Path) -> int | None:
    """Lock one slot file without waiting; return its descriptor, or None if taken."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def slot(instance_dir: Path, slots: int, wait_seconds: float) -> Iterator[None]:
    """Hold one of `slots` derivation slots for the block, or raise `KdfBusy` after the wait."""
    paths = slot_paths(instance_dir, slots)
    deadline = time.monotonic() + wait_seconds
    while True:
        _rng.shuffle(paths)
        for path in paths:
            fd = _try_take(path)
            if fd is not None:
                try:
                    yield
                finally:
                    os.close(fd)  # closing the only descriptor releases the lock
                return
        if time.monotonic() >= deadline:
            raise KdfBusy("every derivation slot is taken")
        time.sleep(_rng.uniform(*_POLL_SECONDS))
