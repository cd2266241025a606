"""An account page refused for its account's pace is answered busy, and a report's form
given back with what it carried; reports are filed as before (app/page_pacing.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from app import page_pacing
from app.page_pacing import PAGE_BURST
from crypto import generate_codename
from tests.app.support import (
    Visitor,
    assert_form_given_back,
    form,
    holds_login,
    reply_to,
    reviewer_keys,
)


@pytest.fixture(autouse=True)
def _pace_clock_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget gives a page back each 4 s: on a loaded machine sixteen pages took longer,
    # and a seventeenth was built (CI with other jobs, PostgreSQL). What is tested here is
    # the count, so the pace's clock stands still.
    now = page_pacing._now()
    monkeypatch.setattr(page_pacing, "_now", lambda: now)


def _signed_in(app: Flask) -> tuple[Visitor, str]:
    """A source signed in after a first report: the browser, and the codename."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    page = visitor.start()
    visitor.filed(visitor.send(page, "The SHO lets the vans through."))
    return visitor, page.fields["codename"]


def _pages_until_refused(visitor: Visitor) -> int:
    """Load the account page until it is refused; say how many were built."""
    built = 0
    while holds_login(response := visitor.client.get("/account")):
        built += 1
        assert built <= 2 * PAGE_BURST, "the account's pages were never refused"
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "The server is busy" in response.get_data(as_text=True)
    return built


def test_an_accounts_page_past_its_pace_is_answered_busy(
    app: Flask, on_circuit: Callable[[int | None], None]
) -> None:
    visitor, _codename = _signed_in(app)
    on_circuit(41)
    assert _pages_until_refused(visitor) == PAGE_BURST
    # Its copy of the cookie on another circuit is the same account: refused too.
    on_circuit(42)
    assert visitor.client.get("/account").status_code == 503


def test_the_pace_does_not_say_how_many_replies_wait(
    app: Flask, instance: Path, on_circuit: Callable[[int | None], None]
) -> None:
    quiet, _ = _signed_in(app)
    answered, codename = _signed_in(app)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for n in range(3):
        reply_to(app, codename, f"Question {n}?", signer, written=dt.date.today())
    on_circuit(43)
    assert _pages_until_refused(quiet) == _pages_until_refused(answered) == PAGE_BURST


def test_a_report_sent_past_the_pace_is_filed(
    app: Flask, on_circuit: Callable[[int | None], None]
) -> None:
    visitor, _codename = _signed_in(app)
    on_circuit(44)
    page = form(visitor.get("/account"), "/account")
    _pages_until_refused(visitor)
    visitor.filed(visitor.send(page, "The second van came on Friday."))


def test_a_form_given_back_past_the_pace_keeps_its_words(
    app: Flask, on_circuit: Callable[[int | None], None]
) -> None:
    visitor, _codename = _signed_in(app)
    on_circuit(45)
    page = form(visitor.get("/account"), "/account")
    _pages_until_refused(visitor)
    switched = {**page.fields, "switch_lang": "ur", "message": "Half written."}
    response = visitor.client.post("/account", data=switched)
    assert_form_given_back(response, "Half written.")


def test_a_failed_logins_cookie_sent_again_shares_one_budget(
    app: Flask, on_circuit: Callable[[int | None], None]
) -> None:
    """The page after a wrong codename builds an account page for nobody; the cookie that
    asks for it, sent again as it was, built one each time, with no derivation more."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    assert visitor.log_in(generate_codename()).status_code == 303
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = visitor.client.get_cookie(name)
    assert cookie is not None
    on_circuit(46)
    answers = []
    for _ in range(PAGE_BURST + 4):
        visitor.client.set_cookie(name, cookie.value)
        response = visitor.client.get("/account")
        answers.append(response.status_code)
        assert response.status_code == 503 or 'action="/login"' in response.get_data(as_text=True)
    assert answers == [200] * PAGE_BURST + [503] * 4
