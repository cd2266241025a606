"""Which of the staff listener's requests prove something at the head, and the share each is
served from, paced across every worker on this host (read by `app.worker` in its main loop).

Where tor names no staff circuit (the default: `raazdar serve` publishes the staff onion by
ADD_ONION), the staff's requests took turns for threads as one (`worker_turns.STAFF_SHARE`),
and nothing paced a request without a live session: whoever held one staff device's onion
key, and no session (a stolen laptop, a colleague about to be removed), loading the login
page (or pages with an ended login's cookie) on four dozen connections held the staff's
threads and places to wait, and a logged-in colleague's dashboard was answered busy.

So a staff request's head is sorted before any thread sees it:

- its session cookie opens a login the app has not seen end (`login_of`, then `live`): it
  takes turns for threads under its login's own share (`login_share`), never behind anyone
  else's requests; its account's pace (`app.page_pacing`) holds it;
- else it carries a known device's cookie whose head MAC holds, of an account standing now
  in its epoch now (`app.services.staff_devices.head_place`; the accounts' tags read again
  every `TAGS_SECONDS`): its device's own share, and the device's
  budget (`DEVICE_BURST` at once, then one each `DEVICE_SPACING_NS`): a stolen device's
  own cookie sent down many connections is held to that one cookie's, as its login is
  held to one kept place of the staff's slot (`app.kdf_pool.staff_slot`);
- else it proves nothing, and takes a turn of one budget every such request of the host
  shares (`ANONYMOUS_BURST` at once, then one each `ANONYMOUS_SPACING_NS`), under the
  staff's one share; past it, it is answered busy with Retry-After in the main loop.

A login counts as live from its start (`note_live`, or `note_standing` at a process's start
for the rows standing then) until the app sees it end: a logout, or a request finding its row
gone or over (`note_ended`). A cookie of an ended login is so anonymous after its first
request, at most. Tables live in memory the gunicorn master maps before forking (`app.worker`
imports this module), one cell per login or device modulo the table's size, never written
anywhere; a cell read and written under one lock. A login whose cell another has taken is
anonymous at the head until its next request the app serves (`note_live`); a device's, paced
from nothing, which only lets it have a page sooner.
"""

from __future__ import annotations

import hashlib
import mmap
import time
from array import array
from typing import Final

from app import report_pacing
from app.hostlock import HostLock

# Requests proving nothing that the host serves at once, and then one each this long (ns):
# a new browser's login (its page, the form, a page after) fits; a flood is answered busy.
ANONYMOUS_BURST: Final = 16
ANONYMOUS_SPACING_NS: Final = 250_000_000
# Requests one known device (no live login) may send at once, and then one each this long
# (ns): its owner's login page, login and first page, again after a wrong code.
DEVICE_BURST: Final = 16
DEVICE_SPACING_NS: Final = 500_000_000
# How often each worker reads the staff accounts' head tags again (`app.worker`, seconds): a
# removed colleague's device cookie proves nothing at the head this long after her removal.
TAGS_SECONDS: Final = 2.0
# How many shares of threads (`app.worker_turns`) logins, and devices, take turns under: each
# negative, as no circuit is, below `worker_turns.STAFF_SHARE` (-2), which the rest keep.
_SHARES: Final = 1 << 30
_now = time.monotonic_ns
_lock = HostLock("raazdar-staff-heads")
# Per cell: a live login's key (`_key` of its row id) and until when it is live (ns): its
# absolute deadline, or the staff's longest from when it was noted standing.
_live = report_pacing.new_table()
_CELLS: Final = len(_live) // 2
# Per cell, as `report_pacing.spend`'s: a device's key and when its budget is spent up to.
_devices = report_pacing.new_table()
# When the budget of requests proving nothing is spent up to (ns).
_anonymous = memoryview(mmap.mmap(-1, 8)).cast("q")


def _key(row_id: str) -> int:
    """A nonzero 63-bit key for a login row (its id is random: no secret to keep here)."""
    digest = hashlib.blake2b(row_id.encode("ascii", "replace"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def note_live(row_id: str, seconds: int) -> None:
    """Note the staff login of `row_id` live for `seconds` more at most (its absolute deadline)."""
    key = _key(row_id)
    cell = 2 * (key % _CELLS)
    with _lock:
        _live[cell : cell + 2] = memoryview(array("q", [key, _now() + seconds * 10**9]))


def note_ended(row_id: str) -> None:
    """Note that the login of `row_id` has ended (a logout, its row gone or over)."""
    key = _key(row_id)
    cell = 2 * (key % _CELLS)
    with _lock:
        if _live[cell] == key:
            _live[cell : cell + 2] = memoryview(array("q", [0, 0]))


def live(row_id: str) -> bool:
    """Whether the login of `row_id` was noted live and has not been seen to end."""
    key = _key(row_id)
    cell = 2 * (key % _CELLS)
    with _lock:
        held, until = _live[cell : cell + 2].tolist()
        return held == key and until > _now()


def login_share(row_id: str) -> int:
    """The share of threads a live login's requests take turns under (`app.worker_turns`)."""
    return -3 - (_key(row_id) % _SHARES)


def device_share(device: int) -> int:
    """The share of threads a known device's requests take turns under, apart from logins'."""
    return -3 - _SHARES - (device % _SHARES)


def take_device_turn(device: int) -> int:
    """Take a turn of known device `device`'s budget; return 0, or the seconds before it has
    one."""
    return report_pacing.spend(
        _devices, _lock, str(device), DEVICE_SPACING_NS, DEVICE_BURST * DEVICE_SPACING_NS, _now
    )


def take_anonymous_turn() -> int:
    """Take a turn of the budget every staff request proving nothing shares; return 0, or the
    seconds before it has one."""
    with _lock:
        now = _now()
        start = max(_anonymous[0], now)
        over = start + ANONYMOUS_SPACING_NS - now - ANONYMOUS_BURST * ANONYMOUS_SPACING_NS
        if over > 0:
            return max(1, -(-over // 10**9))
        _anonymous[0] = start + ANONYMOUS_SPACING_NS
    return 0
