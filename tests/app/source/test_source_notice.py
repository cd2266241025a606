"""The status reviewers set reaches the source: on the account page, in the source's language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Source
from tests.app.support import Visitor, db_session, source_id

# What each status a reply bundle may set says, in English and Urdu.
SHOWN = {
    "received": ("has been received", "موصول ہو گئی"),
    "under-review": ("being reviewed", "جائزہ لیا جا رہا"),
    "needs-info": ("need more information", "مزید معلومات"),
    "closed": ("closed", "بند"),
}


def _set_notice(app: Flask, codename: str, status: str | None) -> None:
    with db_session(app) as session:
        source = session.get(Source, source_id(app, codename))
        assert source is not None
        source.notice = status
        session.commit()


def _source(client: FlaskClient, lang: str) -> tuple[Visitor, str]:
    client.get(f"/lang/{lang}")
    visitor = Visitor(client)
    page = visitor.start()
    visitor.filed(visitor.send(page, "The SHO took money."))
    return visitor, page.fields["codename"]


@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize("status", sorted(SHOWN))
def test_the_account_page_shows_the_status_reviewers_set(
    app: Flask, client: FlaskClient, lang: str, status: str
) -> None:
    visitor, codename = _source(client, lang)
    assert 'class="note status"' not in visitor.get("/account")
    _set_notice(app, codename, status)
    html = visitor.get("/account")
    assert 'class="note status"' in html
    english, urdu = SHOWN[status]
    assert (urdu if lang == "ur" else english) in html
    assert (english in html) == (lang == "en")


def test_an_unknown_status_still_says_something(app: Flask, client: FlaskClient) -> None:
    visitor, codename = _source(client, "en")
    _set_notice(app, codename, "escalated-later")
    html = visitor.get("/account")
    assert "The reviewers updated the status of your report." in html
    assert "escalated-later" not in html
