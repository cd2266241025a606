"""How many account pages one account, and one circuit, may have built, paced across every
worker on this host.

Every account page opens and checks `SOURCE_REPLIES_WEIGHED` replies (an X25519 opening
and a signature each, real or stand-ins, so that its cost never says how many wait): some
30 ms of CPU, where a cheap page takes under 2. The circuit's pace (`app.circuits`) counted
it as one request: one codename of an attacker's own, its cookie sent down a few dozen
circuits, had a page built on each as fast as they were answered, and the workers' CPU
went to it while real sources' pages, logins and reports waited.

So where tor names circuits an account page takes a turn of its account (`PAGE_BURST` at
once, then one each `PAGE_SPACING_NS`: a generic cell rate, one budget however many
circuits its cookie comes on), and `PAGE_TURNS` turns of its circuit's pace
(`circuits.take_circuit_turns`), what it costs next to a cheap page: more accounts, or
more pages on one, take more circuits, each priced by tor's proof-of-work. Both are
charged the same for every page, whatever waits on it, so a refusal says nothing of the
replies either. A source reading her replies, even going back through a dozen older
pages, is never held back; a page refused is answered busy with Retry-After, and a
report's form given back with what it carried (`app.source.views._account_page`),
having opened nothing.

Like `app.report_pacing`, the table lives in memory the gunicorn master maps before
forking (`app.worker` imports this module), one cell per account (`report_pacing.new_table`), never
written anywhere. An account whose cell another has taken is forgotten, which only lets
it have a page sooner. A cell is read and written under one lock.

Staff pages are paced the same way (`take_staff_turns`), by the session's account: the
dashboard costs some 11 ms of CPU, the audit log 9.5, the taxonomy 16.5, and the staff's
requests together get one circuit's share of threads (`app.worker_turns.STAFF_SHARE`). One
logged-in staff session (a stolen device, a colleague about to be removed) loading the
dashboard in a loop kept those threads busy, and the others could not export, read the audit
log or remove it. So each staff request takes turns of its account (`STAFF_BURST` at once,
then one each `STAFF_SPACING_NS`; an expensive page `STAFF_PAGE_TURNS`, the rest one), one
budget on however many circuits, and where the staff onion names circuits as many of its
circuit's pace. Unlike the sources' pages, the account is paced where no circuit is named:
one account is one person, and holding it back holds back nobody else. What stops the
flooder (removing it, resetting its second factor, logging out, its owner's new password or
"log out other devices") never waits for a budget
(`app.staff.auth`).

A refusal still took one of the staff's threads, some 2 ms of CPU each: one stolen session
sending the dashboard on four dozen connections kept the staff's share of threads (and its
places to wait) full of refusals, and a colleague's login, dashboard and export were each
answered busy at once where tor names no staff circuit. So a request refused for its
account's pace notes what its head said (`head_key`: its method, its path, the login its
session cookie names, under a key made at start), and until its Retry-After is out the same head is
answered busy by the worker's main loop, before any thread sees it (`refused_at_head`). Only
the same request: a page never paced (a logout, a removal, the login page) is another path,
and any other login another key; a head that differs in anything else reaches the app
and is refused there. Noted like the budgets, in a table the master maps before forking.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from array import array
from typing import Final

from app import circuits, report_pacing
from app.hostlock import HostLock

# Account pages one account may have built at once, and then one each this long (ns): a
# source who logs in, reloads, and reads back through a dozen older pages of replies
# stays within the burst.
PAGE_BURST: Final = 16
PAGE_SPACING_NS: Final = 4_000_000_000
# Of its circuit's turns (`circuits.CIRCUIT_SPACING_NS` each), what one account page takes,
# its request's own turn, taken as its head came in, among them: 26 to 30 ms of CPU against
# a cheap page's 1.7 (docs/benchmarks.md, "One account's pages down many circuits").
PAGE_TURNS: Final = 16
# Per cell: the account's key and when its allowance is spent up to (`report_pacing.spend`).
_spent = report_pacing.new_table()
# Turns one staff account may take at once, and then one each this long (ns): a turn is a
# cheap page's cost (1 to 2 ms of CPU); 32 dashboards at once, then about one a second.
STAFF_BURST: Final = 256
STAFF_SPACING_NS: Final = 125_000_000
# What an expensive staff page takes (the dashboard 11 ms, the audit log 9.5, the taxonomy
# 16.5: pages39's measures); `app.staff` marks each with `costs`.
STAFF_PAGE_TURNS: Final = 8
STAFF_TAXONOMY_TURNS: Final = 12
# Per cell, as `_spent`, for staff accounts.
_staff_spent = report_pacing.new_table()
_now = time.monotonic_ns
_lock = HostLock("raazdar-page-pacing")
# Per cell: a refused staff request's `head_key`, and until when its head is refused (ns).
_refused = report_pacing.new_table()
_CELLS: Final = len(_refused) // 2
# The key of `head_key`, made once in the master: the workers forked after it share it.
_HEAD_SECRET: Final = secrets.token_bytes(16)
# The `head_key` of the request this thread serves (set by `app.worker_turns`), or None.
_this_request = threading.local()


def take_page_turn(source_id: str, circuit: int | None) -> int:
    """Note an account page of `source_id` come on `circuit` and return 0, or the seconds
    before the account (or the circuit) may have one built.

    Where tor names no circuit nothing is paced, as `app.circuits` paces nothing there: a
    cookie cannot be sent down many circuits that nobody tells apart, and every cheap
    request goes unpaced besides.
    """
    if circuit is None:
        return 0
    wait = _take_turns(_spent, source_id, 1, PAGE_BURST, PAGE_SPACING_NS)
    if wait:
        return wait
    # The request's own turn was taken as its head came in (`app.worker`).
    return circuits.take_circuit_turns(circuit, PAGE_TURNS - 1)


def take_staff_turns(account_id: str, circuit: int | None, turns: int) -> int:
    """Take `turns` turns of staff account `account_id` (and, where the staff onion names
    circuits, of `circuit`'s pace) for one of its requests; return 0, or the seconds before
    the account (or the circuit) may have it served."""
    wait = _take_turns(_staff_spent, account_id, turns, STAFF_BURST, STAFF_SPACING_NS)
    if wait:
        _note_refused(getattr(_this_request, "key", None), wait)
        return wait
    # The request's own turn was taken as its head came in (`app.worker`).
    return circuits.take_circuit_turns(circuits.staff_key(circuit), turns - 1)


def _take_turns(table: memoryview, account: str, turns: int, burst: int, spacing: int) -> int:
    """Take `turns` turns of `account` in `table` (`burst` at once, then one each `spacing`
    ns: a generic cell rate); return 0, or the seconds before they are free."""
    if turns < 1:
        return 0
    return report_pacing.spend(table, _lock, account, turns * spacing, burst * spacing, _now)


def head_key(method: bytes, path: bytes, login: bytes) -> int:
    """The key under which a staff request's head is noted when its account's pace refuses it:
    its method, its path (decoded) and the login row its cookie names, hashed under
    `_HEAD_SECRET`."""
    digest = hashlib.blake2b(
        b"\0".join((method, path, login)), key=_HEAD_SECRET, digest_size=8
    ).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def set_head_key(key: int | None) -> None:
    """Say which `head_key` the request this thread serves has (None: none, or not known)."""
    _this_request.key = key


def refused_at_head(key: int | None) -> int:
    """The seconds before a head noted under `key` may reach the app again, or 0."""
    if key is None:
        return 0
    cell = 2 * (key % _CELLS)
    with _lock:
        held, until = _refused[cell : cell + 2].tolist()
        now = _now()
    if held != key or until <= now:
        return 0
    return max(1, -(-(until - now) // 10**9))


def _note_refused(key: int | None, wait: int) -> None:
    """Refuse the head noted under `key` for `wait` seconds (the refusal's Retry-After)."""
    if key is None:
        return
    cell = 2 * (key % _CELLS)
    with _lock:
        _refused[cell : cell + 2] = memoryview(array("q", [key, _now() + wait * 10**9]))
