"""A report written for longer than the session lasts is filed, or given back: never lost.

With JavaScript off nothing keeps a session alive while a source writes, and a
report of what an official did may take more than half an hour on a phone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from flask import Flask

from app import sessions
from app.models import Item, Source
from tests.app.support import (
    ClockAhead,
    Form,
    Visitor,
    form,
    message_box,
    refusal_said,
    row_counts,
    shown_codename,
    source_id,
)

_WRITTEN = "The SHO of the city station lets the agent's vans through every Thursday."


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    """The sessions' clock, moved on by the test (minutes spent writing)."""
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


@pytest.fixture
def app(make_app: Callable[..., Flask], later: ClockAhead) -> Flask:
    """The app, built once its sessions' clock is the test's."""
    return make_app()


def _with_codename(page: str, codename: str) -> Form:
    """The account form given back, with the codename written into its box."""
    again = form(page, "/account")
    again.fields["codename"] = codename
    return again


def test_a_first_report_written_past_the_idle_deadline_is_filed(
    app: Flask, visitor: Visitor, later: ClockAhead
) -> None:
    page = visitor.start()
    later.ahead = 31 * 60  # writing, with no page loaded: the cookie's idle deadline passes
    response = visitor.send(page, _WRITTEN)
    assert response.status_code == 200, "the report written past the idle deadline was lost"
    assert 'class="filed"' in response.get_data(as_text=True)  # confirmed in place
    # ... under the codename the source memorised, and no other is shown after it.
    codename = page.fields["codename"]
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    assert source_id(app, codename)
    assert shown_codename(visitor.get("/account")) is None


@pytest.mark.parametrize(
    ("visits", "sent_at"), [((), 31), ((25, 50, 75, 100), 121)], ids=["idle", "absolute"]
)
def test_a_later_report_written_past_the_login_is_given_back_and_sent_with_the_codename(
    app: Flask, visitor: Visitor, later: ClockAhead, visits: tuple[int, ...], sent_at: int
) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "first"))
    for minutes in visits:  # reading replies every 25 minutes, then writing
        later.ahead = minutes * 60
        visitor.get("/account")
    account = form(visitor.get("/account"), "/account")
    later.ahead = sent_at * 60
    response = visitor.send(
        account, _WRITTEN, files=[("files", "ledger.jpg", b"\xff\xd8 photo", "image/jpeg")]
    )
    shown = response.get_data(as_text=True)
    assert response.status_code == 401, "the report written past the login's end was lost"
    assert message_box(shown) == _WRITTEN, "what the source wrote was lost"
    assert "ledger.jpg" in refusal_said(shown), "the file is not named to attach again"
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    # A well-formed codename of no account gives it back again ...
    stranger = Visitor(app.test_client()).start().fields["codename"]
    wrong = visitor.send(_with_codename(shown, stranger), _WRITTEN)
    assert wrong.status_code == 200  # as a right one's is (tests/app/source/test_traffic.py)
    assert "No account has this codename" in wrong.get_data(as_text=True)
    assert message_box(wrong.get_data(as_text=True)) == _WRITTEN
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    # ... and the account's own logs in and sends the report, confirmed in place, once.
    again = _with_codename(shown, codename)
    sent = visitor.send(again, _WRITTEN)
    assert sent.status_code == 200
    assert "Your report was received" in sent.get_data(as_text=True)
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}
    visitor.filed(visitor.send(again, _WRITTEN))  # signed in now: filed already
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}
    assert 'action="/logout"' in visitor.get("/account"), "the codename did not log in"


def test_a_later_report_sent_after_logging_out_in_another_tab_is_given_back(
    app: Flask, visitor: Visitor
) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "first"))
    account = form(visitor.get("/account"), "/account")
    # Another tab: Log out (the cookie goes), then this site again (a new cookie).
    assert visitor.log_out().status_code == 200
    response = visitor.send(account, _WRITTEN)
    shown = response.get_data(as_text=True)
    assert response.status_code == 401, "the report sent with the old tab's form was lost"
    assert message_box(shown) == _WRITTEN
    sent = visitor.send(_with_codename(shown, codename), _WRITTEN)
    assert "Your report was received" in sent.get_data(as_text=True)
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}


def test_a_first_report_whose_session_was_replaced_is_given_back(
    app: Flask, visitor: Visitor
) -> None:
    page = visitor.start()
    visitor.client.delete_cookie("rz")  # another tab logged out: the cookie went
    visitor.client.get("/lang/en")
    response = visitor.send(page, _WRITTEN)
    shown = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message_box(shown) == _WRITTEN, "what the source wrote was lost"
    # A codename this browser's session was offered, never the one the old page carried.
    fresh = form(shown, "/submit")
    assert fresh.fields["codename"] != page.fields["codename"]
    visitor.filed(visitor.send(fresh, _WRITTEN))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}


def test_a_login_whose_session_was_replaced_gives_the_codename_back(
    app: Flask, visitor: Visitor
) -> None:
    # The login page open in one tab, eight words (or 29 digits) typed on a phone; another
    # tab logs out, and the cookie, with the token the login form was shown with, goes.
    # Continue was answered "The form expired", and the codename typed was lost.
    visitor.client.get("/lang/en")
    login = form(visitor.get("/login"), "/login")
    visitor.client.delete_cookie("rz")
    visitor.client.get("/lang/en")
    typed = Visitor(app.test_client()).start().fields["codename"]
    response = visitor.client.post("/login", data={**login.fields, "codename": typed})
    shown = response.get_data(as_text=True)
    assert response.status_code == 400  # nothing was tried: no derivation, no login
    box = re.search(r'<textarea[^>]*name="codename"[^>]*>(.*?)</textarea>', shown, re.S)
    assert box is not None, "the codename typed was lost"
    assert html.unescape(box.group(1)).strip() == typed
    # Sent again from the page given back, it is tried.
    again = form(shown, "/login").fields
    assert visitor.client.post("/login", data={**again, "codename": typed}).status_code == 303
