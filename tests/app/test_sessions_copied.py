"""A copy of a login's cookie used beside its owner's ends the login for both.

A source's cookie copied (a seized laptop's browser profile, a cookie jar read over a
shoulder) stayed live beside hers until she logged out or in again: the copy read every
reply, and kept the login alive by reading. Now the login's row holds a turn that moves
as the row is re-sealed, the cookie carries the current one, and a turn the row has
moved past (the one before opens it until the new one first comes back: an answer lost
on the way) ends the login, and its row with the reply-opening key, as a logout does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import page_pacing, sessions
from app.models import SessionRow
from app.page_pacing import PAGE_BURST, PAGE_SPACING_NS
from tests.app.staff.test_staff_admin import staff_browser
from tests.app.staff_support import make_staff
from tests.app.support import ClockAhead, Visitor, form, holds_login, row_counts, shows_login

# A re-seal moves the turn: one comes once the idle deadline moves by a tenth of itself.
_TURN = 3 * 60 + 1


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


def _signed_in(app: Flask) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    visitor.filed(visitor.send(visitor.start(), "The SHO lets the vans through."))
    assert holds_login(visitor.client.get("/account"))
    return visitor


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    cookie = client.get_cookie("rz")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("rz", cookie.value)
    return copy


def test_a_copied_cookie_used_after_its_owner_moved_on_ends_the_login_for_both(
    app: Flask, later: ClockAhead
) -> None:
    source = _signed_in(app)
    thief = _copy(app, source.client)
    # She reads on: two pages a few minutes apart, each re-sealing the row.
    later.ahead = _TURN
    assert holds_login(source.client.get("/account"))
    later.ahead = 2 * _TURN
    assert holds_login(source.client.get("/account"))
    stolen = holds_login(thief.get("/account"))
    assert not stolen, "the copy of the cookie read the account beside its owner"
    # Ended for both, and its row (the reply-opening key) gone, as at a logout.
    assert not holds_login(source.client.get("/account"))
    assert row_counts(app, SessionRow) == {"sessions": 0}


def test_the_copy_used_first_ends_the_login_at_its_owners_next_page(
    app: Flask, later: ClockAhead
) -> None:
    source = _signed_in(app)
    thief = _copy(app, source.client)
    later.ahead = _TURN
    assert holds_login(thief.get("/account"))  # nothing tells the copy apart yet
    later.ahead = _TURN + 30
    assert holds_login(thief.get("/account"))  # its next page: the turn it was given
    later.ahead = 2 * _TURN
    assert not holds_login(source.client.get("/account"))
    assert not holds_login(thief.get("/account"))
    assert row_counts(app, SessionRow) == {"sessions": 0}


def test_a_copy_reading_by_the_pages_buttons_is_found_as_one_reading_by_links_is(
    app: Flask, later: ClockAhead
) -> None:
    # "Earlier" and "Later" are POSTs of the report form (app.source.views._turned_page).
    # A POST's re-seal moved the idle deadline but no turn, so a copy that read only by
    # them, sent every few seconds, kept the deadline fresh and no page of its owner's
    # was ever due to move the turn: it read her replies beside her for the whole login.
    source = _signed_in(app)
    thief = _copy(app, source.client)
    earlier = {**form(thief.get("/account").get_data(as_text=True), "/account").fields}
    earlier["page"] = "0"
    for step in range(1, 5):
        later.ahead = step * _TURN
        thief.post("/account", data=earlier)
        later.ahead = step * _TURN + 5
        thief.post("/account", data=earlier)
        later.ahead = step * _TURN + 10
        source.client.get("/account")
    stolen = holds_login(thief.post("/account", data=earlier))
    assert not stolen, "a copy reading by the page buttons read the account beside its owner"
    assert not holds_login(source.client.get("/account"))
    assert row_counts(app, SessionRow) == {"sessions": 0}


def test_a_copy_spending_its_owners_page_budget_holds_her_back_one_turn_at_most(
    app: Flask,
    later: ClockAhead,
    on_circuit: Callable[[int | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The account's pages are paced by account, however many circuits its cookie comes on
    # (app.page_pacing): a copy spending the budget had its owner told "busy" at every page,
    # for the whole login, since its POSTs moved no turn and so it was never found.
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    first = visitor.start()
    visitor.filed(visitor.send(first, "The SHO lets the vans through."))
    thief = _copy(app, visitor.client)
    earlier = {**form(thief.get("/account").get_data(as_text=True), "/account").fields}
    earlier["page"] = "0"
    on_circuit(41)
    # The pace's clock stands still: however slow the machine, no turn comes back meanwhile.
    now = time.monotonic_ns()
    monkeypatch.setattr(page_pacing, "_now", lambda: now)
    for _ in range(PAGE_BURST):
        assert thief.post("/account", data=earlier).status_code == 200
    assert visitor.client.get("/account").status_code == 503
    later.ahead = _TURN
    thief.post("/account", data=earlier)
    thief.post("/account", data=earlier)
    answer = visitor.client.get("/account")
    assert answer.status_code == 200, "she was told busy, not to log in again"
    assert shows_login(answer)
    # Her login again finds her page within one page's spacing, and the copy opens nothing.
    monkeypatch.setattr(page_pacing, "_now", lambda: now + PAGE_SPACING_NS)
    assert visitor.logs_in(first.fields["codename"])
    assert not holds_login(thief.post("/account", data=earlier))


def test_an_answer_lost_on_the_way_or_two_tabs_end_nothing(app: Flask, later: ClockAhead) -> None:
    source = _signed_in(app)
    before = source.client.get_cookie("rz")
    assert before is not None
    # A page whose answer (and its cookie) never came: the circuit dropped it.
    later.ahead = _TURN
    assert holds_login(source.client.get("/account"))
    source.client.set_cookie("rz", before.value)
    # Sent again minutes later, and two tabs loaded at once, with the cookie it kept.
    later.ahead = 2 * _TURN - 10
    tab = _copy(app, source.client)
    assert holds_login(source.client.get("/account"))
    assert holds_login(tab.get("/account"))
    # The answers gave the browser the current turn: it reads on, for as long as it likes.
    for step in range(2, 5):
        later.ahead = step * _TURN
        assert holds_login(source.client.get("/account")), f"ended at the page {step}"
    assert row_counts(app, SessionRow) == {"sessions": 1}


def test_a_staff_cookie_copied_and_used_after_its_owner_moved_on_ends_the_session(
    app: Flask, later: ClockAhead
) -> None:
    # keep_fresh ends only the confirmation of a copy's session: the copy read the
    # dashboard and every page an unconfirmed session reads for the session's 8 hours.
    owner = staff_browser(app).log_in(make_staff(app, "alice").id)
    cookie = owner.client.get_cookie("rz")
    assert cookie is not None
    thief = staff_browser(app).client
    thief.set_cookie("rz", cookie.value)
    later.ahead = _TURN
    owner.get("/staff/")
    later.ahead = 2 * _TURN
    owner.get("/staff/")
    assert thief.get("/staff/").status_code != 200, "the copy read the dashboard beside its owner"
    assert owner.client.get("/staff/").status_code != 200
    assert row_counts(app, SessionRow) == {"sessions": 0}
