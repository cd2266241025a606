"""A login ends the account's other logins: a phone taken with a live one opens nothing.

A source whose phone was taken (at a checkpoint, in a raid) with a login live on it
could do nothing from another device: signing in there left the phone's login, and the
reply-opening key its row holds, on the server until its idle deadline, 30 minutes
after the taker's last page, and the taker could keep it alive by reading.
"""

from __future__ import annotations

from flask import Flask

from app.models import SessionRow
from tests.app.support import Visitor, holds_login, row_counts


def _browser(app: Flask) -> Visitor:
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    return visitor


def test_signing_in_elsewhere_ends_the_login_on_a_taken_phone(app: Flask) -> None:
    phone = _browser(app)
    page = phone.start()
    phone.filed(phone.send(page, "The SHO lets the vans through."))
    assert holds_login(phone.client.get("/account"))
    elsewhere = _browser(app)
    assert elsewhere.logs_in(page.fields["codename"])
    ended = not holds_login(phone.client.get("/account"))
    rows = row_counts(app, SessionRow)["sessions"]
    assert (ended, rows) == (True, 1), f"the phone's login stayed live: {rows} rows"
    assert holds_login(elsewhere.client.get("/account"))


def test_a_login_ends_no_other_accounts_login(app: Flask) -> None:
    someone = _browser(app)
    someone.filed(someone.send(someone.start(), "One report."))
    other = _browser(app)
    page = other.start()
    other.filed(other.send(page, "Another report."))
    other.log_out()
    assert other.logs_in(page.fields["codename"])
    assert holds_login(someone.client.get("/account"))
    assert row_counts(app, SessionRow) == {"sessions": 2}


def test_a_wrong_codename_ends_no_login(app: Flask) -> None:
    phone = _browser(app)
    phone.filed(phone.send(phone.start(), "One report."))
    assert not _browser(app).logs_in("abandon " * 7 + "zebra")
    assert holds_login(phone.client.get("/account"))
