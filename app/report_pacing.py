"""How many bytes of later reports one account may store, paced across every worker on this host.

A first report makes an account, and a circuit makes at most one a minute
(`app.circuits`). A signed-in source's later reports made none and were paced by
nothing: one session (the source's own, or a cookie taken from a seized phone),
sending report after report of 500 MiB files on a few connections at once,
filled the disk for everyone. So an account stores at most `BURST` upload
limits of later reports at once, and one more upload limit each
`circuits.ACCOUNT_SPACING_SECONDS`, the pace at which a circuit may make a new
account and file its first report (a generic cell rate: each report costs its
bytes' share of the interval). A source filing a report or two is never held
back; a flood from one account waits its turn, told when to send again.

Like `app.circuits`, the table lives in memory the gunicorn master maps before
forking (`app.worker` imports this module), one cell per account modulo
`_CELLS`, never written anywhere: it says nothing of when anything arrived once
the process is gone. An account whose cell another has taken is forgotten,
which only lets it file sooner. A cell is read and written under one lock.
"""

from __future__ import annotations

import hashlib
import mmap
import time
from array import array
from collections.abc import Callable
from typing import Final

from app.circuits import ACCOUNT_SPACING_SECONDS
from app.hostlock import HostLock

# How many upload limits of later reports an account may store at once.
BURST: Final = 2
_CELLS: Final = 4096


# Per cell: the account's key (a hash of its id; 0: none) and when its allowance is spent
# up to (monotonic ns, the same clock in every process).
def new_table() -> memoryview:
    """A table of accounts' allowances, in memory the workers forked after it share."""
    return memoryview(mmap.mmap(-1, _CELLS * 8 * 2)).cast("q")


_spent = new_table()
_now = time.monotonic_ns
_lock = HostLock("raazdar-report-pacing")


def _key(source_id: str) -> int:
    """A nonzero 63-bit key for an account (its id is random: no secret to keep here)."""
    digest = hashlib.blake2b(source_id.encode("ascii", "replace"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def take_report_turn(source_id: str, size: int, upload_limit: int) -> int:
    """Note `size` bytes of a later report of `source_id` and return 0, or the seconds before
    the account may store them."""
    interval = ACCOUNT_SPACING_SECONDS * 10**9
    cost = interval * size // max(upload_limit, 1)
    return spend(_spent, _lock, source_id, cost, BURST * interval, _now)


def spend(
    table: memoryview,
    lock: HostLock,
    source_id: str,
    cost: int,
    ahead: int,
    now: Callable[[], int],
) -> int:
    """Spend `cost` ns of `source_id`'s allowance in `table` (`new_table`), which may run at
    most `ahead` ns past `now()`, and return 0; or the seconds before it may, spending none.

    Shared with `app.page_pacing`, whose table is its own."""
    key = _key(source_id)
    cell = 2 * (key % _CELLS)
    with lock:
        held, spent = table[cell : cell + 2].tolist()
        at = now()
        start = spent if held == key and spent > at else at
        over = start + cost - at - ahead
        if over > 0:
            return max(1, -(-over // 10**9))
        table[cell : cell + 2] = memoryview(array("q", [key, start + cost]))
    return 0
