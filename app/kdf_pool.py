"""A bounded pool for Argon2id derivations, shared by every gunicorn worker on this host.

Each slot is a lock file in the instance directory, held with `flock` for the
length of one derivation. File locks, not a database row, because the kernel
releases a lock the moment its holder dies (a killed worker never leaks a
slot), taking one writes nothing to disk or to the database (no row, no WAL
entry, no time stamp), and a pool per host is what protects that host's CPU and
memory when several app hosts share one database.

The queue is bounded the same way: before it waits, a request takes one of
`slots + queue` place files (held until its derivation ends). When every place
is taken it gets `KdfBusy` at once instead of holding a thread for the whole
wait: a queue longer than the slots can serve within the wait only turns
answers into timeouts.

Waiters are served first come, first served across every worker: each notes
when it arrived (the monotonic clock) in a small table in memory that the
gunicorn master maps before forking, one entry per place, and only the
`slots` oldest waiters look for a free slot. An entry is cleared when its
waiter leaves; one left by a killed worker is ignored once it is older than any
wait can be, and its place (freed by the kernel) is soon taken and rewritten.
Nothing of it touches a disk. No waiter keeps its place beyond its own
deadline. Then it gets `KdfBusy`, a calm "try again in a minute" (503 with
Retry-After) that says nothing about the codename it carried.

The derivation itself runs on this process's own derivation thread, not on
the request's thread: request threads run at a lower CPU priority
(`app.worker`), so a flood of cheap requests (garbage API proofs, pages)
cannot slow the derivations every waiting login is queued behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, TypeVar

from app.errors import AppError

SLOT_DIR: Final = "kdf-slots"
RETRY_AFTER_SECONDS: Final = 60
# How often a waiter among the oldest looks for a free slot, and how often the
# others look whether they have become one of the oldest.
_POLL: Final = 0.002
_RANK_POLL: Final = 0.005
# Places beyond this many are not ordered (their waiters look for slots at random).
ORDERED_PLACES: Final = 4096
# When each place's waiter arrived (monotonic ns; 0: none). Mapped shared and
# anonymous when this module is first imported: in the gunicorn master, which
# imports the worker class (`app.worker`), so every worker forked from it shares it.
_arrivals = memoryview(mmap.mmap(-1, ORDERED_PLACES * 8)).cast("q")
_rng = random.SystemRandom()
# How long this worker's recent derivations held their slot (seconds, a moving average).
_pace = [0.0]
_T = TypeVar("_T")
# This process's derivation threads and the work handed to them.
_derivers: list[threading.Thread] = []
_jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()


class KdfBusy(AppError):
    """Every derivation slot stayed taken for the whole wait: try again in a minute."""

    status = 503
    retry_after = RETRY_AFTER_SECONDS


def _lock_files(instance_dir: Path, kind: str, count: int) -> list[Path]:
    directory = instance_dir / SLOT_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    return [directory / f"{kind}-{n}" for n in range(count)]


def slot_paths(instance_dir: Path, slots: int) -> list[Path]:
    """The lock files of the pool's slots (private to the server)."""
    return _lock_files(instance_dir, "slot", slots)


def place_paths(instance_dir: Path, slots: int, queue: int) -> list[Path]:
    """The lock files of the places in the pool: one per slot, and `queue` to wait in."""
    return _lock_files(instance_dir, "place", slots + queue)


def prepare(instance_dir: Path, slots: int, queue: int) -> None:
    """Create the lock files as the app starts, so their stamps never date a first login.

    Taking and freeing a slot or place later opens the file and locks it:
    neither changes a stamp of the file or of its directory.
    """
    for path in [*slot_paths(instance_dir, slots), *place_paths(instance_dir, slots, queue)]:
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


def _take_any(paths: list[Path]) -> tuple[int, int] | None:
    """Lock whichever of `paths` is free: (its index, its descriptor), or None if all are taken."""
    order = list(range(len(paths)))
    _rng.shuffle(order)
    for index in order:
        fd = _try_take(paths[index])
        if fd is not None:
            return index, fd
    return None


def _note_arrival(place: int, when: int) -> None:
    if place < ORDERED_PLACES:
        _arrivals[place] = when


def _ahead_of(place: int, places: int, me: int, stale_before: int) -> int:
    """How many live waiters arrived before the one at `place` (arrived at `me`)."""
    if place >= ORDERED_PLACES:
        return 0
    return sum(
        1
        for index, when in enumerate(_arrivals[: min(places, ORDERED_PLACES)].tolist())
        if stale_before < when and (when, index) < (me, place)
    )


@contextlib.contextmanager
def slot(instance_dir: Path, slots: int, wait_seconds: float, queue: int) -> Iterator[None]:
    """Hold one of `slots` derivation slots for the block, or raise `KdfBusy`.

    `KdfBusy` comes at once if `queue` requests are already waiting on this
    host, else after `wait_seconds` without a free slot.
    """
    taken = _take_any(place_paths(instance_dir, slots, queue))
    if taken is None:
        raise KdfBusy("the queue for derivation slots is full")
    place, place_fd = taken
    try:
        fd = _wait_for_slot(slot_paths(instance_dir, slots), place, slots + queue, wait_seconds)
        began = time.monotonic()
        try:
            yield
        finally:
            os.close(fd)  # closing the only descriptor releases the lock
            held = time.monotonic() - began
            _pace[0] = held if not _pace[0] else 0.8 * _pace[0] + 0.2 * held
    finally:
        os.close(place_fd)


def _wait_for_slot(paths: list[Path], place: int, places: int, wait_seconds: float) -> int:
    """Wait in arrival order for a free slot (its descriptor); `KdfBusy` at the deadline."""
    me = time.monotonic_ns()
    deadline = me + int(wait_seconds * 1e9)
    # An entry older than any wait can be was left by a waiter that died.
    stale_before = me - int((wait_seconds + 1) * 1e9)
    _note_arrival(place, me)
    try:
        ahead = _ahead_of(place, places, me, stale_before)
        if (ahead / len(paths) + 1) * _pace[0] > wait_seconds:
            raise KdfBusy("the waiters ahead cannot be served within the wait")
        while True:
            ahead = _ahead_of(place, places, me, stale_before)
            if ahead < len(paths):
                taken = _take_any(paths)
                if taken is not None:
                    return taken[1]
            now = time.monotonic_ns()
            if now >= deadline:
                raise KdfBusy("every derivation slot is taken")
            pause = _POLL if ahead < len(paths) else _RANK_POLL
            time.sleep(min(pause, (deadline - now) / 1e9))
    finally:
        _note_arrival(place, 0)


def start_derivers(count: int) -> None:
    """Start this process's derivation threads, from a thread at the process's own priority.

    A new thread inherits its creator's priority, so they are started here (by
    the worker's main thread, `app.worker`) and not by a request thread.
    """
    for _ in range(count - len(_derivers)):
        thread = threading.Thread(target=_derive_forever, name="kdf", daemon=True)
        thread.start()
        _derivers.append(thread)


def _derive_forever() -> None:
    while True:
        work, answer = _jobs.get()
        if answer.set_running_or_notify_cancel():
            try:
                answer.set_result(work())
            except BaseException as exc:  # handed to the waiting request, raised there
                answer.set_exception(exc)


def run(work: Callable[[], _T]) -> _T:
    """Run `work` (a derivation, in a slot) on a derivation thread, or here if none started."""
    if not _derivers:
        return work()
    answer: Future[_T] = Future()
    _jobs.put((work, answer))
    return answer.result()
