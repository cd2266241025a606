"""A circuit's own turns cover a source's visit, and turns past them come out of one pool
shared by every source circuit (app/circuits.py)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app import circuits
from app.page_pacing import PAGE_BURST, PAGE_TURNS
from tests.app.support import Visitor, form

NOW = 10**15


@pytest.fixture(autouse=True)
def _tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty tables and pool of the process's own, and a clock that stands still unless moved."""
    empty = memoryview(bytearray(circuits._circuit_requests.nbytes)).cast("q")
    monkeypatch.setattr(circuits, "_circuit_requests", empty)
    monkeypatch.setattr(circuits, "_shared", memoryview(bytearray(8)).cast("q"))
    monkeypatch.setattr(circuits, "_now", lambda: NOW)


def _spend_the_pool() -> None:
    """Have a flood of circuits take every turn of the pool, as many circuits at once do."""
    circuit = 50_000
    whole = circuits.SHARED_BURST * circuits.SHARED_SPACING_NS
    while circuits._shared[0] - circuits._now() < whole:
        while circuits.take_circuit_turn(circuit) == 0:
            pass
        circuit += 1


def _parts(page: str) -> list[str]:
    """What a browser fetches for a page besides it: stylesheets, images, scripts."""
    found = re.findall(r'<(?:link[^>]+href|img[^>]+src|script[^>]+src)="([^"]+)"', page)
    return [unescape(url) for url in found]


def _turns_shown(visitor: Visitor, page: str) -> int:
    """The turns one page shown takes of its circuit: its own (an account page's weight), each
    of its parts, and the icon Tor Browser asks for."""
    for url in _parts(page):
        assert visitor.client.get(url).status_code == 200, url
    # An account page (its report form) opens the replies; a report's confirmation does not.
    own = PAGE_TURNS if 'id="report" action="/account"' in page else 1
    return own + len(_parts(page)) + 1


def test_a_visit_a_reload_and_a_report_fit_in_a_new_circuits_own_turns(
    visitor: Visitor,
) -> None:
    """Counted with the test client: the landing page, the login form, the login, the account
    page, a reload of it and a report sent from it, each page with its parts. A new circuit
    gets them at once even while a flood has spent the shared pool."""
    codename = form(visitor.get("/submit"), "/submit").fields["codename"]
    visitor.filed(visitor.send(visitor.start(), "first"))
    visitor.client.delete_cookie("session")  # a visit later, in a new browser session
    turns = _turns_shown(visitor, visitor.get("/"))
    turns += _turns_shown(visitor, visitor.get("/login"))
    response = visitor.log_in(codename)
    assert response.status_code == 303
    turns += 1
    account = visitor.get(response.headers["Location"])
    assert 'id="report" action="/account"' in account
    turns += _turns_shown(visitor, account)
    account = visitor.get("/account")
    turns += _turns_shown(visitor, account)
    confirmed = visitor.filed(visitor.send(form(account, "/account"), "more"))
    turns += _turns_shown(visitor, confirmed)
    print(f"\na visit, a reload and a report take {turns} turns of a circuit")
    assert turns <= circuits.CIRCUIT_BURST
    _spend_the_pool()
    assert circuits.take_circuit_turns(7, turns) == 0


def test_circuits_sent_at_once_get_their_own_turns_and_one_pool_between_them() -> None:
    served = 0
    for circuit in range(1000, 1040):
        while circuits.take_circuit_turn(circuit) == 0:
            served += 1
    assert served == 40 * circuits.CIRCUIT_BURST + circuits.SHARED_BURST


def test_a_source_reading_back_a_dozen_pages_on_a_quiet_server_is_not_held_back() -> None:
    # Each account page with its stylesheet and icon, the account's whole burst of pages.
    for _ in range(PAGE_BURST):
        assert circuits.take_circuit_turns(7, PAGE_TURNS + 2) == 0


def test_a_circuit_past_its_own_turns_waits_for_its_pace_while_the_pool_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _spend_the_pool()
    for _ in range(circuits.CIRCUIT_BURST):
        assert circuits.take_circuit_turn(7) == 0
    wait = circuits.take_circuit_turn(7)
    assert wait == 1, "it was not told when to come back"
    monkeypatch.setattr(circuits, "_now", lambda: NOW + circuits.CIRCUIT_SPACING_NS)
    _spend_the_pool()  # the flood takes what the pool got meanwhile
    assert circuits.take_circuit_turn(7) == 0
    assert circuits.take_circuit_turn(7) > 0


def test_the_pool_gets_one_turn_more_each_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    _spend_the_pool()
    for _ in range(circuits.CIRCUIT_BURST):
        circuits.take_circuit_turn(7)
    assert circuits.take_circuit_turn(7) > 0
    monkeypatch.setattr(circuits, "_now", lambda: NOW + circuits.SHARED_SPACING_NS)
    assert circuits.take_circuit_turn(7) == 0
    assert circuits.take_circuit_turn(7) > 0


def test_a_refused_request_takes_nothing_from_the_pool() -> None:
    for _ in range(circuits.CIRCUIT_BURST):
        circuits.take_circuit_turn(7)
    # More than the pool holds at once, for one request: refused, and the pool left whole.
    assert circuits.take_circuit_turns(7, circuits.SHARED_BURST + 1) > 0
    assert circuits._shared[0] == 0
    assert circuits.take_circuit_turns(8, circuits.CIRCUIT_BURST + circuits.SHARED_BURST) == 0


def test_a_staff_circuit_keeps_its_own_burst_while_the_sources_pool_is_spent() -> None:
    _spend_the_pool()
    staff = circuits.staff_key(7)
    served = 0
    while circuits.take_circuit_turn(staff) == 0:
        served += 1
    assert served == circuits.STAFF_CIRCUIT_BURST
    assert circuits._shared[0] - NOW == circuits.SHARED_BURST * circuits.SHARED_SPACING_NS


def test_turns_the_pool_gave_are_not_owed_by_the_circuit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A source reads back through her replies with the pool's turns; then a flood spends it.
    for _ in range(PAGE_BURST):
        assert circuits.take_circuit_turns(7, PAGE_TURNS + 2) == 0
    monkeypatch.setattr(circuits, "_now", lambda: NOW + circuits.CIRCUIT_SPACING_NS)
    _spend_the_pool()
    assert circuits.take_circuit_turn(7) == 0, "she waited out the turns the pool had given"
