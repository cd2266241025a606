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

Waiters are served in turn across every worker. Each notes when it arrived
(the monotonic clock), the Tor circuit it came on when tor names it
(`app.worker`, HiddenServiceExportCircuitID) and its round (how many places
its circuit held already when it arrived) in a small table in memory that the
gunicorn master maps before forking, one entry per place; only the `slots`
first by (round, arrival) look for a free slot. A circuit's next derivation
counts as arriving only two derivation times after its last one ended (a
second table, of when each circuit was last served): a flood sends again the
moment it is answered, and must not take each slot that comes free before a
source's browser has asked. So a circuit's second waiter comes after every
other circuit's first, and a circuit holds at most
`PLACES_PER_CIRCUIT` places (counted and taken as one step, `app.hostlock`,
however many workers ask at once): a flood sent down one circuit, however many
requests deep, delays a source on another circuit by at most one derivation
per slot. To do more a flooder needs more circuits, and each new circuit is
an introduction that tor's proof-of-work defence makes them pay for. A
few dozen circuits sending again the moment they are answered can still hold
every place; so a circuit not served in the last `SERVED_LATELY_SECONDS`
that finds none free takes the place of the last waiter, in turn, of a
circuit that was (`_push_out`), and that waiter is told to try again. Only
circuits never served lately, each a new introduction, can hold places
against a source's new circuit. A
request whose circuit is unknown (no tor in front, or tor not asked to say)
is a round-0 circuit of its own: first come, first served. An entry is
cleared when its waiter leaves; one left by a killed worker is ignored once
it is older than any wait can be, and its place (freed by the kernel) is
soon taken and rewritten. Nothing of it touches a disk. No waiter keeps its
place beyond its own deadline. Then it gets `KdfBusy`, a calm "try again in a minute" (503 with
Retry-After) that says nothing about the codename it carried.

A staff password's check (`staff_slot`) takes a slot of the staff's own,
with a few places to wait in: a flood of sources' logins that holds every
place above refuses no administrator's login. Its places are taken in turn
by circuit in the same way, in a table of their own, where tor names the
staff onion's circuits too (`app.worker`, RAAZDAR_TOR_STAFF_CIRCUITS):
whoever holds one staff device's onion key can send logins on many
circuits, and a staff member's circuit, not served lately, still gets a
place. A new circuit for every login is not told from a staff member's,
and the staff onion `raazdar serve` publishes names no circuit at all: a
login from a known device (`app.services.staff_devices`: a signed cookie its
browser got at a full login) takes one of the places kept for those
(`STAFF_DEVICE_PLACES`), one a cookie and `KEPT_PER_ACCOUNT` an account at a
time, in a round ahead of every circuit's (`_KNOWN_DEVICE_ROUND`), and paced as
a circuit is (`_not_before`; sent again within its pace, it waits in the first
round instead): no flood without such a cookie reaches those places, one with a
cookie holds one of them, and one with many cookies of one account (each full
login makes one) holds two.

The derivation itself runs on this process's own derivation thread, not on
the request's thread: request threads run at a lower CPU priority
(`app.worker`), so a flood of cheap requests (garbage API proofs, pages)
cannot slow the derivations every waiting login is queued behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import mmap
import os
import queue
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, TypeVar

from app.errors import AppError
from app.hostlock import HostLock

SLOT_DIR: Final = "kdf-slots"
RETRY_AFTER_SECONDS: Final = 60
# How often a waiter among the oldest looks for a free slot, and how often the
# others look whether they have become one of the oldest.
_POLL: Final = 0.002
_RANK_POLL: Final = 0.005
# The staff's own slots and places: a staff password's check takes one of these,
# never one of the sources'. Sources' logins on the public onion can hold every
# place of theirs while a flood lasts, and every administrator was then told
# "busy" too; only authorised staff devices reach these.
STAFF_SLOTS: Final = 1
STAFF_PLACES: Final = 4
# The staff's places kept for logins from known devices (`staff_slot`): one a device at
# a time, so a flood carrying one device's cookie holds one and leaves the others.
STAFF_DEVICE_PLACES: Final = 4
# And `KEPT_PER_ACCOUNT` an account's devices at a time: a full login gives a new cookie,
# so a colleague with her own password and codes made a cookie for every kept place and
# held them all with wrong passwords under her own name (counted nowhere). Two, so that a
# stolen device's cookie leaves its owner's own browser a place.
KEPT_PER_ACCOUNT: Final = 2
# A device's key (`staff_devices.place_key`) is its account's tag above the low
# `DEVICE_ID_BITS`, its own: the places one account's devices hold are counted together.
DEVICE_ID_BITS: Final = 32
# A known device's waiter comes before every circuit's first (`_ahead_of`; within its
# pace, among them, `_take_kept`), and is keyed apart from circuits: tor's circuit ids
# are 32-bit, a device's key is above them.
_KNOWN_DEVICE_ROUND: Final = -1
_DEVICE_KEYS: Final = 1 << 32
_DEVICE_KEY_MASK: Final = (1 << 56) - 1
# Places beyond this many are not ordered (their waiters look for slots at random).
ORDERED_PLACES: Final = 4096
# How many places one circuit may hold at once (waiting or deriving): a source
# logs in once at a time; a browser sending the form twice needs two.
PLACES_PER_CIRCUIT: Final = 2
# Per place, five numbers: when its waiter arrived (monotonic ns; 0: none;
# minus when its derivation began, while it runs), its circuit (the id tor gave
# plus one; 0: unknown), its round (how many places its circuit held when it
# arrived), its claim (0: none; else when a newcomer claimed the place, in
# monotonic ns: its waiter must leave it to that newcomer, `_push_out`) and the
# claiming newcomer's circuit (plus one), which holds the place until it is noted. Mapped
# shared and anonymous when this module is first imported: in the gunicorn master,
# which imports the worker class (`app.worker`), so every worker forked from it
# shares it. Circuit ids live only here and in the worker's memory: never logged,
# never written anywhere.
_FIELDS: Final = 5
_CLAIM: Final = 3
_CLAIMER: Final = 4
_NO_CLAIM: Final = memoryview(array("q", [0, 0]))
_table = memoryview(mmap.mmap(-1, ORDERED_PLACES * 8 * _FIELDS)).cast("q")
# The same for the places of the staff's own slots (`staff_slot`).
# The open places come first, then the ones kept for known devices.
_STAFF_TABLE_PLACES: Final = STAFF_PLACES + STAFF_DEVICE_PLACES
_staff_table = memoryview(mmap.mmap(-1, _STAFF_TABLE_PLACES * 8 * _FIELDS)).cast("q")
# Which circuit's derivation ended last, and when (monotonic ns), in each of
# `_RECENT` cells (a circuit's cell: its key modulo `_RECENT`; another circuit
# may overwrite it, which only forgets). Shared and in memory, like `_table`.
_RECENT: Final = 1024
_served = memoryview(mmap.mmap(-1, _RECENT * 8 * 2)).cast("q")
# Held to count a circuit's places and note a new one, or claim one, as one step (`slot`,
# `_push_out`).
_circuit_lock = HostLock("raazdar-kdf-places")
# The circuit of the request this thread is serving (set by `app.worker`).
_this_request = threading.local()
# How long this worker's recent derivations held their slot (seconds, a moving average).
_pace = [0.0]
# A circuit's next derivation waits this many derivation times after its last one ended
# (`_not_before`), each taken as at least `_MIN_PACE` seconds (a fresh worker knows none).
_SPACING: Final = 2
_MIN_PACE: Final = 0.5
# A derivation in progress longer than this is one whose worker died.
_LONGEST_DERIVATION: Final = 60.0
# A circuit whose last derivation ended this long ago or less was "served lately": a
# waiter of its may be pushed out by a circuit that was not (`_push_out`).
SERVED_LATELY_SECONDS: Final = 120
# How long a newcomer waits for the waiter it pushed out to leave the place.
_CLAIM_WAIT: Final = 0.25
_T = TypeVar("_T")

# This process's derivation threads and the work handed to them.
_derivers: list[threading.Thread] = []
_jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()


def _forget_parents_derivers() -> None:
    """In a forked child: none of the parent's threads came with it, so derive in place.

    A fork (a test's server killed mid-report, any process forked after the worker
    started its derivers) kept the list of threads but not the threads, and every
    derivation waited on a queue nobody read.
    """
    global _jobs
    _derivers.clear()
    _jobs = queue.SimpleQueue()


os.register_at_fork(after_in_child=_forget_parents_derivers)


class KdfBusy(AppError):
    """Every derivation slot stayed taken for the whole wait: try again in a minute."""

    status = 503
    retry_after = RETRY_AFTER_SECONDS


def _lock_files(instance_dir: Path, kind: str, count: int) -> tuple[Path, ...]:
    names = _lock_names(instance_dir, kind, count)
    names[0].parent.mkdir(mode=0o700, exist_ok=True)
    return names


@functools.lru_cache(maxsize=64)
def _lock_names(instance_dir: Path, kind: str, count: int) -> tuple[Path, ...]:
    """The names, built once per process: every derivation asks for them."""
    directory = instance_dir / SLOT_DIR
    return tuple(directory / f"{kind}-{n}" for n in range(count))


def slot_paths(instance_dir: Path, slots: int) -> list[Path]:
    """The lock files of the pool's slots (private to the server)."""
    return list(_lock_files(instance_dir, "slot", slots))


def place_paths(instance_dir: Path, slots: int, queue: int) -> list[Path]:
    """The lock files of the places in the pool: one per slot, and `queue` to wait in."""
    return list(_lock_files(instance_dir, "place", slots + queue))


def staff_slot_paths(instance_dir: Path) -> list[Path]:
    """The lock files of the staff's own slots (`staff_slot`)."""
    return list(_lock_files(instance_dir, "staff-slot", STAFF_SLOTS))


def staff_place_paths(instance_dir: Path) -> list[Path]:
    """The lock files of the places to wait in for the staff's own slots."""
    return list(_lock_files(instance_dir, "staff-place", STAFF_PLACES))


def staff_device_place_paths(instance_dir: Path) -> list[Path]:
    """The lock files of the staff's places kept for logins from known devices."""
    return list(_lock_files(instance_dir, "staff-device-place", STAFF_DEVICE_PLACES))


def prepare(instance_dir: Path, slots: int, queue: int) -> None:
    """Create the lock files as the app starts, so their stamps never date a first login.

    Taking and freeing a slot or place later opens the file and locks it:
    neither changes a stamp of the file or of its directory.
    """
    for path in [
        *slot_paths(instance_dir, slots),
        *place_paths(instance_dir, slots, queue),
        *staff_slot_paths(instance_dir),
        *staff_place_paths(instance_dir),
        *staff_device_place_paths(instance_dir),
    ]:
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


def _take_any(
    paths: list[Path], skip: Callable[[int], bool] = lambda _index: False
) -> tuple[int, int] | None:
    """Lock whichever of `paths` is free and not skipped: (its index, its descriptor), or None."""
    # A uniformly random order, as `SystemRandom.shuffle` gives, from one read of
    # the system's randomness instead of one per place.
    keys = os.urandom(8 * len(paths))
    order = sorted(range(len(paths)), key=lambda i: keys[8 * i : 8 * i + 8])
    for index in order:
        if skip(index):
            continue
        fd = _try_take(paths[index])
        if fd is not None:
            if not skip(index):
                return index, fd
            os.close(fd)  # claimed between the look and the lock
    return None


def _take_place(table: memoryview, paths: list[Path], now: int) -> tuple[int, int] | None:
    """Take a free place that no newcomer has claimed (`_push_out`), clearing a stale claim."""
    taken = _take_any(paths, lambda index: _claimed(table, index, now))
    if taken is not None and taken[0] < ORDERED_PLACES:
        table[_FIELDS * taken[0] + _CLAIM : _FIELDS * taken[0] + _FIELDS] = _NO_CLAIM
    return taken


def _claimed(table: memoryview, place: int, now: int) -> bool:
    """Whether a newcomer claimed the place lately and is waiting for it."""
    if place >= ORDERED_PLACES:
        return False
    claim = table[_FIELDS * place + _CLAIM]
    return claim != 0 and now - claim < 2 * _CLAIM_WAIT * 1e9


def _claims_of(table: memoryview, circuit: int, places: int, now: int) -> int:
    """How many places `circuit` has claimed lately and not yet noted as its own."""
    values = table[: _FIELDS * min(places, ORDERED_PLACES)].tolist()
    return sum(
        1
        for index in range(len(values) // _FIELDS)
        if values[_FIELDS * index + _CLAIMER] == circuit + 1 and _claimed(table, index, now)
    )


def _served_lately(circuit: int, now: int) -> bool:
    """Whether a derivation of `circuit` ended within `SERVED_LATELY_SECONDS`."""
    cell = 2 * (circuit % _RECENT)
    key, ended = _served[cell : cell + 2].tolist()
    return key == circuit + 1 and now - ended <= SERVED_LATELY_SECONDS * 10**9


def _push_out(
    table: memoryview, paths: list[Path], circuit: int, stale_before: int, me: int
) -> tuple[int, int] | None:
    """For a circuit not served lately, take the place of the last waiter, in turn, of one that
    was: (the place, its descriptor, noted as this circuit's), or None.

    Circuits that send again the moment they are answered can hold every place
    (two each); without this a source on a new circuit would be told "busy"
    for as long as they did. The waiter pushed out is told to try again (it
    sees the claim while it waits, `_wait_for_slot`), and the place is the
    newcomer's: others taking a place pass over a claimed one. A newcomer that
    came first and waits keeps its place, since its circuit was not served.

    The look, the choice and the claim are one step (`_circuit_lock`), and a
    claim counts as a place its circuit holds until the place is noted as its
    own, in one step again: requests sent down one new circuit while a waiter
    took its time to leave each found the circuit holding nothing, and each
    pushed out another waiter; two new circuits at once chose the same one.
    """
    with _circuit_lock:
        now = time.monotonic_ns()
        # The places before the mark: a derivation's end notes its circuit served, then
        # clears its place, so one of the two is seen whenever it ends between the reads.
        entries = _entries(table, len(paths), stale_before)
        if any(key == circuit + 1 for _when, _index, key, _rank in entries):
            return None
        if _claims_of(table, circuit, len(paths), now) or _served_lately(circuit, now):
            return None
        victims = [
            (rank, when, index)
            for when, index, key, rank in entries
            if when > 0 and key and not _claimed(table, index, now) and _served_lately(key - 1, now)
        ]
        if not victims:
            return None
        place = max(victims)[2]
        claim = _FIELDS * place + _CLAIM
        now = time.monotonic_ns()  # the claim's own time: its wait counts from it
        table[claim : claim + 2] = memoryview(array("q", [now, circuit + 1]))
    deadline = now + int(_CLAIM_WAIT * 1e9)
    while table[claim] == now:
        fd = _try_take(paths[place])
        if fd is not None:
            with _circuit_lock:
                if table[claim] == now:
                    _note(table, place, _not_before(circuit, me), circuit, 0)
                    table[claim : claim + 2] = _NO_CLAIM
                    return place, fd
            os.close(fd)  # another newcomer claimed it since
            return None
        if time.monotonic_ns() >= deadline:
            break  # its waiter took a slot first: it is deriving
        time.sleep(_POLL)
    with _circuit_lock:
        if table[claim] == now:
            table[claim : claim + 2] = _NO_CLAIM
    return None


def set_circuit(
    circuit: int | None, gate: threading.Semaphore | None = None, refused: int | None = None
) -> None:
    """Say which Tor circuit this thread's request came on (None: unknown), the gate its
    thread must pass to wait for a slot (None: none; `app.worker`'s kept threads have one),
    and, for a request refused for its circuit's pace, when it may come back (seconds): it
    derives nothing, and is answered busy (`in_slot`, `app.limits`)."""
    _this_request.circuit = circuit
    _this_request.gate = gate
    _this_request.refused = refused


def refused_for_pace() -> int | None:
    """When this thread's request, refused for its circuit's pace, may come back, or None."""
    refused: int | None = getattr(_this_request, "refused", None)
    return refused


def paced_out(retry_after: int) -> KdfBusy:
    """The busy refusal of a request refused for its circuit's pace."""
    exc = KdfBusy("refused for its circuit's pace")
    exc.retry_after = retry_after
    return exc


def current_circuit() -> int | None:
    """The Tor circuit of this thread's request, if tor said."""
    circuit: int | None = getattr(_this_request, "circuit", None)
    return circuit


def _note(
    table: memoryview, place: int, when: int, circuit: int | None = None, rank: int = 0
) -> None:
    """Write a place's waiter (its claim, if any, stays for the newcomer who made it)."""
    if place < ORDERED_PLACES:
        table[_FIELDS * place : _FIELDS * place + _CLAIM] = memoryview(
            array("q", [when, 0 if circuit is None else circuit + 1, rank])
        )


def _began(table: memoryview, place: int) -> None:
    """Mark the place's waiter as deriving (its circuit still holds the place)."""
    if place < ORDERED_PLACES:
        table[_FIELDS * place] = -time.monotonic_ns()


def _entries(table: memoryview, places: int, stale_before: int) -> list[tuple[int, int, int, int]]:
    """The live places: (arrival or -start, place, circuit key, round)."""
    values = table[: _FIELDS * min(places, ORDERED_PLACES)].tolist()
    live = []
    for index in range(len(values) // _FIELDS):
        when, key, rank = values[_FIELDS * index : _FIELDS * index + _CLAIM]
        if when > stale_before or when < -stale_before:
            live.append((when, index, key, rank))
    return live


def _ahead_of(table: memoryview, place: int, places: int, stale_before: int) -> int:
    """How many live waiters come before the one at `place` in turn: (round, arrival, place)."""
    if place >= ORDERED_PLACES:
        return 0
    turns = {
        index: (rank, when, index)
        for when, index, _key, rank in _entries(table, places, stale_before)
        if when > 0
    }
    mine = turns.get(place)
    if mine is None:
        return 0
    return sum(1 for turn in turns.values() if turn < mine)


def _circuit_places(table: memoryview, places: int, stale_before: int, circuit: int) -> int:
    """How many places `circuit` holds now, waiting, deriving or claimed."""
    noted = sum(
        1 for _w, _i, key, _r in _entries(table, places, stale_before) if key == circuit + 1
    )
    return noted + _claims_of(table, circuit, places, time.monotonic_ns())


@contextlib.contextmanager
def slot(
    instance_dir: Path,
    slots: int,
    wait_seconds: float,
    queue: int,
    circuit: int | None = None,
) -> Iterator[None]:
    """Hold one of `slots` derivation slots for the block, or raise `KdfBusy`.

    `circuit` is the Tor circuit the request came on (`current_circuit`), if
    known. `KdfBusy` comes at once if `queue` requests are already waiting on
    this host or the circuit holds its share of places, else after
    `wait_seconds` without a free slot.
    """
    places = place_paths(instance_dir, slots, queue)
    with _queued(_table, slot_paths(instance_dir, slots), places, wait_seconds, circuit):
        yield


@contextlib.contextmanager
def _queued(
    table: memoryview,
    slot_files: list[Path],
    paths: list[Path],
    wait_seconds: float,
    circuit: int | None,
    kept: tuple[Path, ...] = (),
    device: int | None = None,
) -> Iterator[None]:
    """Hold one of `slot_files` for the block, waiting in one of `paths` noted in `table`, or
    raise `KdfBusy` (`slot`, `staff_slot`: the sources' pool and the staff's, one queue each).

    A known device's login (`device`, its key) waits in one of the `kept` places, noted
    after `paths` in `table`, if its device holds none yet and one is free; else it waits
    as a login without one does."""
    places = len(paths) + len(kept)
    me = time.monotonic_ns()
    stale_before = me - int((wait_seconds + _LONGEST_DERIVATION) * 1e9)
    taken = None
    if device is not None:
        key = _DEVICE_KEYS + (device & _DEVICE_KEY_MASK)
        taken = _take_kept(table, [*paths, *kept], len(paths), key, stale_before, me)
        if taken is not None:
            circuit = key  # its place is the device's, and its derivation paces the device
    pushed_in = taken is not None  # noted already, as the device's
    if taken is None:
        taken = _take_place(table, paths, me)
    if taken is None and circuit is not None:
        # Among the open places only (`paths`): a kept one is never claimed.
        taken = _push_out(table, paths, circuit, stale_before, me)
        pushed_in = taken is not None  # and noted as its circuit's, in round 0
    if taken is None:
        raise KdfBusy("the queue for derivation slots is full")
    place, place_fd = taken
    try:
        if circuit is None:
            _note(table, place, me)
        elif not pushed_in:
            # Its round: how many places its circuit holds already, so its turn
            # comes after every other circuit's first (second, ...) waiter.
            # Counted and noted as one step: workers that all counted before
            # any noted each found room, past the circuit's share.
            with _circuit_lock:
                held = _circuit_places(table, places, stale_before, circuit)
                if held >= PLACES_PER_CIRCUIT:
                    raise KdfBusy("this circuit holds its share of the queue")
                _note(table, place, _not_before(circuit, me), circuit, held)
        fd = _wait_for_slot(table, slot_files, place, places, me, wait_seconds)
        _began(table, place)
        began = time.monotonic()
        try:
            yield
        finally:
            os.close(fd)  # closing the only descriptor releases the lock
            took = time.monotonic() - began
            _pace[0] = took if not _pace[0] else 0.8 * _pace[0] + 0.2 * took
            if circuit is not None:
                _note_served(circuit)  # before the place is cleared (`_push_out`)
    finally:
        _note(table, place, 0)
        os.close(place_fd)


def _take_kept(
    table: memoryview, paths: list[Path], first: int, device: int, stale_before: int, me: int
) -> tuple[int, int] | None:
    """Take one of the places from `first` on for `device`, noted as its own ahead of every
    circuit's round (or, within its pace, in the first): (the place, its descriptor), or
    None if it holds one already, its account's devices hold `KEPT_PER_ACCOUNT`, or none
    is free.

    Counted and noted as one step (`_circuit_lock`): requests sent at once with one
    device's cookie each found it holding none, and each took a place kept for others.
    """
    taken = _take_any(paths, lambda index: index < first)
    if taken is None:
        return None
    when = _not_before(device, me)
    # Within its pace, among the first round: ahead of every circuit while it waited for its
    # pace, a cookie sent again at once kept the slot from everyone (one check a second).
    rank = _KNOWN_DEVICE_ROUND if when <= me else 0
    with _circuit_lock:
        if (
            _circuit_places(table, len(paths), stale_before, device) == 0
            and _account_places(table, first, len(paths), stale_before, device) < KEPT_PER_ACCOUNT
        ):
            _note(table, taken[0], when, device, rank)
            return taken
    os.close(taken[1])
    return None


def _account_places(
    table: memoryview, first: int, places: int, stale_before: int, device: int
) -> int:
    """How many of the places from `first` on (kept for known devices) the devices of
    `device`'s account hold now, waiting or deriving."""
    account = device >> DEVICE_ID_BITS
    return sum(
        1
        for _w, index, key, _r in _entries(table, places, stale_before)
        if index >= first and key and (key - 1) >> DEVICE_ID_BITS == account
    )


def _note_served(circuit: int) -> None:
    """Note that a derivation of `circuit` has just ended."""
    cell = 2 * (circuit % _RECENT)
    _served[cell : cell + 2] = memoryview(array("q", [circuit + 1, time.monotonic_ns()]))


def _not_before(circuit: int, now: int) -> int:
    """When a new derivation of `circuit` may start: `_SPACING` derivation times after its
    last one ended, or now.

    A flood sends again the moment it is answered: without a pause it would take
    every slot that comes free before a source (whose browser needs a moment to
    send) can ask for it. A person logs in once; a second login within a second
    or two only waits that long.
    """
    cell = 2 * (circuit % _RECENT)
    key, ended = _served[cell : cell + 2].tolist()
    if key != circuit + 1:
        return now
    return max(now, ended + int(_SPACING * max(_pace[0], _MIN_PACE) * 1e9))


def _wait_for_slot(
    table: memoryview, paths: list[Path], place: int, places: int, me: int, wait_seconds: float
) -> int:
    """Wait for our turn and a free slot (its descriptor); `KdfBusy` at the deadline."""
    deadline = me + int(wait_seconds * 1e9)
    # An entry older than any wait can be was left by a waiter that died.
    stale_before = me - int((wait_seconds + 1) * 1e9)
    ahead = _ahead_of(table, place, places, stale_before)
    if (ahead / len(paths) + 1) * _pace[0] > wait_seconds:
        raise KdfBusy("the waiters ahead cannot be served within the wait")
    # Its turn counts from its arrival as noted, which may lie ahead (`_not_before`).
    eligible = table[_FIELDS * place] if place < ORDERED_PLACES else me
    while True:
        if place < ORDERED_PLACES and table[_FIELDS * place + _CLAIM]:
            raise KdfBusy("a circuit not served lately took this place")
        ahead = _ahead_of(table, place, places, stale_before)
        if ahead < len(paths) and time.monotonic_ns() >= eligible:
            taken = _take_any(paths)
            if taken is not None:
                return taken[1]
        now = time.monotonic_ns()
        if now >= deadline:
            raise KdfBusy("every derivation slot is taken")
        pause = _POLL if ahead < len(paths) else _RANK_POLL
        time.sleep(min(pause, (deadline - now) / 1e9))


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


def in_slot(config: Mapping[str, Any], work: Callable[[], _T]) -> _T:
    """Run `work` (an Argon2id hash) in a slot of the app's pool (`config`), or `KdfBusy`.

    A thread the worker keeps for requests that came whole (pages) waits for a slot only
    through its gate, which lets a few of them at once (`app.worker_turns.QUICK_DERIVING`):
    logins waiting there held every kept thread, and no page was served to anyone.
    """
    refused = refused_for_pace()
    if refused is not None:
        raise paced_out(refused)
    gate: threading.Semaphore | None = getattr(_this_request, "gate", None)
    if gate is not None and not gate.acquire(blocking=False):
        raise KdfBusy("the threads kept for pages are waiting for derivations")
    try:
        with slot(
            config["INSTANCE_DIR"],
            config["KDF_SLOTS"],
            config["KDF_WAIT_SECONDS"],
            config["KDF_QUEUE"],
            circuit=current_circuit(),
        ):
            return run(work)
    finally:
        if gate is not None:
            gate.release()


@contextlib.contextmanager
def staff_slot(
    instance_dir: Path, wait_seconds: float, circuit: int | None = None, device: int | None = None
) -> Iterator[None]:
    """Hold one of the staff's own slots for the block, or raise `KdfBusy`.

    Its places are taken in turn by circuit, as the sources' are (`slot`), in a
    table of their own: whoever holds one staff device's onion key reaches the
    staff login, and their logins under any name, sent again the moment each was
    answered on a few dozen circuits, held every place first come, first served;
    a staff member was told "busy" at fourteen logins in fifteen.

    `device` is the key of a known device's login (`app.services.staff_devices`, None:
    none): where circuits are not named, or a flood opens a new one for each login, its
    own places (`STAFF_DEVICE_PLACES`), one a device, are what no flood without one takes.
    """
    slot_files = staff_slot_paths(instance_dir)
    places = staff_place_paths(instance_dir)
    kept = tuple(staff_device_place_paths(instance_dir))
    with _queued(_staff_table, slot_files, places, wait_seconds, circuit, kept, device):
        yield


def in_staff_slot(
    config: Mapping[str, Any], work: Callable[[], _T], device: int | None = None
) -> _T:
    """Run `work` (a staff password's Argon2id hash) in one of the staff's own slots, with
    a place kept for known devices if `device` (its key) is one's and holds none yet."""
    wait = config["KDF_WAIT_SECONDS"]
    with staff_slot(config["INSTANCE_DIR"], wait, circuit=current_circuit(), device=device):
        return run(work)


def run(work: Callable[[], _T]) -> _T:
    """Run `work` (a derivation, in a slot) on a derivation thread, or here if none started."""
    if not _derivers:
        return work()
    answer: Future[_T] = Future()
    _jobs.put((work, answer))
    return answer.result()
