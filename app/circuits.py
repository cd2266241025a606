"""How often one Tor circuit may make an account, paced across every worker on this host.

An account made through the API costs its maker a key pair and one request (each
answer brings the next challenge), one made in a browser one form (its first
report, `app.services.sources.create_account`), and each keeps a row and a designation
for `source_expiry_days`: one circuit making one per request would fill the
database (and took the 60 million two-word designations, until a draw that
finds them taken went on to three words). So a circuit that tor named (`app.worker`) makes at
most one new account per `ACCOUNT_SPACING_SECONDS`; a source makes one per
codename, and anything else on the circuit (the same account again, uploads,
replies) is never held back. More accounts take more circuits, which tor's
proof-of-work defence prices. Requests whose circuit is unknown are not paced:
nothing tells them apart, and pacing them together would hold back everyone.

A signed API request is paced by circuit too (`take_request_turn`): each spends its
challenge, a row committed, and one circuit sending them as fast as its streams carry
them kept SQLite's one writer busy for everyone. A circuit sends `REQUEST_BURST` at
once, then one each `REQUEST_SPACING_NS`; far more than a device uploading or reading
its replies needs.

Any request of a circuit is paced too, far more loosely (`take_circuit_turn`, by
`app.worker` in its main loop): tor's proof-of-work prices circuits, and a circuit kept
open was served every request it sent, however many, without paying again. It sends
`CIRCUIT_BURST` at once of its own (a visit and a reload), then one each
`CIRCUIT_SPACING_NS`, and past that is answered busy before any thread sees it. Turns
past its own burst (a source reading back through many pages of replies) come out of one
pool shared by every source circuit of the host (`SHARED_BURST`, one more each
`SHARED_SPACING_NS`): each circuit had 1,024 turns of its own at once, and two dozen
circuits loading cheap pages as fast as they were answered took the workers' CPU for
minutes. Now more circuits bring a visit's worth each, and the pool once.

When each circuit last made one is kept like `app.kdf_pool`'s tables: in
memory the gunicorn master maps before forking (`app.worker` imports this
module), one cell per circuit modulo `_CELLS`, never written anywhere. A
circuit whose cell another has taken is forgotten, which only lets it make
one sooner. A cell is read and written under one lock (`app.hostlock`): two
workers reading it at once each let the circuit make one.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import time
from array import array
from typing import Final

from app import environment
from app.hostlock import HostLock

ACCOUNT_SPACING_SECONDS: Final = 60
_CELLS: Final = 4096
# Per cell: the circuit (the id tor gave plus one; 0: none) and when it last made
# an account (monotonic ns, the same clock in every process).
_made = memoryview(mmap.mmap(-1, _CELLS * 8 * 2)).cast("q")
_now = time.monotonic_ns
_lock = HostLock("raazdar-circuits")


# Signed API requests one circuit may send at once, and then one each this long (ns): each
# spends its challenge, a row written and committed, and on SQLite every writer waits its
# turn behind them (`take_request_turn`).
REQUEST_BURST: Final = 64
REQUEST_SPACING_NS: Final = 250_000_000
# Per cell: the circuit (plus one; 0: none) and when its allowance is spent up to (ns).
_requests = memoryview(mmap.mmap(-1, _CELLS * 8 * 2)).cast("q")

# Requests of any kind one circuit may send at once of its own, and then one each this long
# (ns), across every worker of the host (`take_circuit_turn`, taken by `app.worker` as each
# head comes in). A visit in Tor Browser, a reload and a report take some 46 turns (each page,
# its stylesheet and its icon; an account page `page_pacing.PAGE_TURNS`:
# tests/app/test_circuit_pool.py); a device's 1 MiB chunks come slower than two a second on a
# Tor circuit, and wait out a "busy" of a second or two. It was 1,024: a cheap page costs
# some 1.7 ms of CPU, and two dozen circuits spending theirs slowed real sources' logins and
# reports two to five times for as long as they lasted (docs/benchmarks.md).
CIRCUIT_BURST: Final = 64
CIRCUIT_SPACING_NS: Final = 500_000_000
# Per cell, as `_requests`.
_circuit_requests = memoryview(mmap.mmap(-1, _CELLS * 8 * 2)).cast("q")
# Turns past its own burst a source circuit may take, from one pool shared by every source
# circuit of the host, which gets one more each this long (ns): a source reading back through
# a dozen older pages of replies at once (`page_pacing.PAGE_BURST`) takes them from it while no
# flood has spent it; a flood of many circuits spends it once, not once a circuit.
SHARED_BURST: Final = 512
SHARED_SPACING_NS: Final = 62_500_000
# When the pool is spent up to (monotonic ns, as a circuit's cell).
_shared = memoryview(mmap.mmap(-1, 8)).cast("q")


# Added to a circuit the staff onion named, to pace it apart from the sources' circuits
# (tor's ids are 32-bit; the staff onion may be another tor's): `staff_key`.
STAFF_CIRCUITS: Final = 1 << 32
# Requests one staff circuit may send at once (then one each `CIRCUIT_SPACING_NS`), with no
# share of the sources' pool: a staff member's dashboards and exports (`page_pacing`).
STAFF_CIRCUIT_BURST: Final = 1024


def staff_key(circuit: int | None) -> int | None:
    """The key under which a circuit the staff onion named takes its turns, or None."""
    return None if circuit is None else STAFF_CIRCUITS + circuit


def take_request_turn(circuit: int | None) -> int:
    """Note a signed API request of `circuit` and return 0, or the seconds before it may send
    one: `REQUEST_BURST` at once, then one each `REQUEST_SPACING_NS` (a generic cell rate).

    A device spending a challenge a request wrote a row a request, as fast as its
    circuit's streams could carry them: one circuit alone kept SQLite's one writer
    busy, and every source's report waited behind its commits. Refused here, before
    the challenge is spent, a request writes nothing.
    """
    return _take_turn(_requests, circuit, REQUEST_BURST, REQUEST_SPACING_NS)


def take_circuit_turn(circuit: int | None) -> int:
    """Note any request of `circuit` and return 0, or the seconds before it may send one:
    `CIRCUIT_BURST` at once, then one each `CIRCUIT_SPACING_NS`.

    tor's proof-of-work prices a circuit, not what is sent down it: a circuit kept open
    had every request it sent served, however many, and never paid again. A browser's
    session, a device's upload, fit in the burst or under the pace.
    """
    return take_circuit_turns(circuit, 1)


def take_circuit_turns(circuit: int | None, turns: int) -> int:
    """Take `turns` more of `circuit`'s turns for a request that costs that many cheap ones
    (an account page, `app.page_pacing`); return 0, or the seconds before they are free.

    A staff circuit (`staff_key`) has `STAFF_CIRCUIT_BURST` of its own and no share of the
    sources' pool: the staff onion is client-authorised, and a sources' flood spending the
    pool must not hold the staff back."""
    if circuit is not None and circuit >= STAFF_CIRCUITS:
        return _take_turn(
            _circuit_requests, circuit, STAFF_CIRCUIT_BURST, CIRCUIT_SPACING_NS, turns
        )
    return _take_turn(
        _circuit_requests, circuit, CIRCUIT_BURST, CIRCUIT_SPACING_NS, turns, shared=True
    )


def _take_turn(
    table: memoryview,
    circuit: int | None,
    burst: int,
    spacing: int,
    turns: int = 1,
    shared: bool = False,
) -> int:
    """Take `turns` turns of `circuit` in `table` (`burst` at once, then one each `spacing`
    ns: a generic cell rate; with `shared`, up to `SHARED_BURST` more from the pool, `_shared`);
    return 0, or the seconds before they are free."""
    if circuit is None or turns < 1:
        return 0
    cell = 2 * (circuit % _CELLS)
    cost = turns * spacing
    with _lock:
        key, spent = table[cell : cell + 2].tolist()
        now = _now()
        start = spent if key == circuit + 1 and spent > now else now
        over = start + cost - now - burst * spacing
        if over > 0:
            if not (shared and _take_shared(now, -(-over // spacing))):
                return max(1, -(-over // 10**9))
            # What the pool paid for is the host's, not owed by the circuit: a source who
            # read back through her replies with it was held back minutes after a flood.
            cost -= over
        table[cell : cell + 2] = memoryview(array("q", [circuit + 1, start + cost]))
    return 0


def _take_shared(now: int, turns: int) -> bool:
    """Take `turns` turns from the sources' circuits' pool (`SHARED_BURST` at once, then one
    each `SHARED_SPACING_NS`), under `_lock`; False, taking none, if it has not that many."""
    start = max(_shared[0], now)
    end = start + turns * SHARED_SPACING_NS
    if end - now > SHARED_BURST * SHARED_SPACING_NS:
        return False
    _shared[0] = end
    return True


def take_account_turn(circuit: int | None) -> int:
    """Note a new account of `circuit` and return 0, or the seconds before it may make one."""
    if circuit is None:
        return 0
    cell = 2 * (circuit % _CELLS)
    spacing = ACCOUNT_SPACING_SECONDS * 10**9
    with _lock:
        key, when = _made[cell : cell + 2].tolist()
        now = _now()
        if key == circuit + 1 and now - when < spacing:
            return max(1, -(-(when + spacing - now) // 10**9))
        _made[cell : cell + 2] = memoryview(array("q", [circuit + 1, now]))
    return 0


# How many of a circuit's requests a worker refuses for its pace (`take_circuit_turn`),
# less `REFUSALS_FORGIVEN` for each it serves, before it asks tor to close the circuit
# (`ask_to_close`). A client that waits out its Retry-After (a second) gets its next turn,
# and is refused at most once or twice for it; a turn served took back every refusal, and a
# circuit sending 63 past its pace for each turn it had was never asked closed.
CLOSE_AFTER_REFUSALS: Final = 64
REFUSALS_FORGIVEN: Final = 8
# The environment variable naming the pipe `raazdar serve` reads circuits to close from
# (`app.operations.tor.closer`); unset where tor is not serve's own.
CLOSER_FD_ENV: Final = "RAAZDAR_CIRCUIT_CLOSER_FD"


class Refusals:
    """One worker's count of each circuit's requests refused for its pace (less
    `REFUSALS_FORGIVEN` for each one served)."""

    # Circuits counted at once, at most: a flood of many circuits forgets, never grows.
    LIMIT: Final = 4096

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def note(self, circuit: int | None, refused: bool) -> bool:
        """Count a request of `circuit`, refused or served; True when the circuit's count
        reaches `CLOSE_AFTER_REFUSALS` (and it is counted from nothing again)."""
        if circuit is None:
            return False
        if not refused:
            left = self._counts.pop(circuit, 0) - REFUSALS_FORGIVEN
            if left > 0:
                self._counts[circuit] = left
            return False
        count = self._counts.get(circuit, 0) + 1
        if count >= CLOSE_AFTER_REFUSALS:
            del self._counts[circuit]
            return True
        if len(self._counts) >= self.LIMIT and circuit not in self._counts:
            self._counts.clear()
        self._counts[circuit] = count
        return False


def closer_fd() -> int | None:
    """The pipe to ask tor to close circuits through, made non-blocking, or None."""
    value = environment.get(CLOSER_FD_ENV)
    if not value.isdigit():
        return None
    fd = int(value)
    try:
        os.set_blocking(fd, False)
    except OSError:
        return None
    return fd


def ask_to_close(fd: int | None, circuit: int) -> None:
    """Ask the process holding tor's control connection to close `circuit` (a full pipe, or
    none: not asked; the circuit is refused as before)."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, struct.pack("<I", circuit & 0xFFFFFFFF))
