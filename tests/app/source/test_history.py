"""What a browser that keeps history (Orbot and an ordinary browser) keeps of a source's visits.

A phone taken at a checkpoint is read, its browser's history too: each page's
title and URL, the redirects that led to it included. Tor Browser keeps none,
but sources use what they have, despite the advice.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Reply
from app.settings import set_setting
from tests.app.support import (
    Visitor,
    db_session,
    envelope_files,
    form,
    forms,
    reply_to,
    reviewer_keys,
    row_counts,
)

# An organisation's own choice of name, which the history may show: nothing more.
NAME = "Shehri Haqooq Forum"


@pytest.fixture
def named(app: Flask) -> Flask:
    """The instance under a name its administrators chose."""
    with app.app_context(), db_session(app) as session:
        set_setting(session, "organisation", NAME)
        session.commit()
    return app


def _title(page: str) -> str:
    found = re.findall(r"<title>(.*?)</title>", page, flags=re.S)
    assert len(found) == 1, found
    return html.unescape(found[0]).strip()


def _reported(client: FlaskClient, lang: str) -> tuple[Visitor, str, str]:
    """A source who filed a report; their browser, codename and the confirmation page."""
    client.get(f"/lang/{lang}")
    visitor = Visitor(client)
    page = visitor.start()
    confirmation = visitor.filed(visitor.send(page, "the SHO took money"))
    return visitor, page.fields["codename"], confirmation


@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize("path", ["/", "/submit", "/login", "/resources", "/keys", "/logged-out"])
def test_a_page_a_visitor_opens_is_titled_with_the_organisations_name_alone(
    named: Flask, client: FlaskClient, lang: str, path: str
) -> None:
    # "Report official complicity safely", "Make a report", "Log in with your codename"
    # in the history said the phone's owner came to report, whatever the site's name.
    client.get(f"/lang/{lang}")
    assert _title(Visitor(client).get(path)) == NAME


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_a_sources_pages_are_titled_with_the_organisations_name_alone(
    named: Flask, client: FlaskClient, lang: str
) -> None:
    # "Report received" and "Replies" said a report went and an account exists.
    visitor, codename, confirmation = _reported(client, lang)
    titles = {
        "confirmation": _title(confirmation),
        "submitted": _title(visitor.get("/submitted")),
        "account": _title(visitor.get("/account")),
    }
    visitor.log_out()
    titles["login failed"] = _title(visitor.get(visitor.log_in("wrong " + codename).location))
    titles["missing page"] = _title(visitor.get("/no-such-page", status=404))
    assert titles == dict.fromkeys(titles, NAME)


def _urls(page: str) -> list[str]:
    """Every address a page links or posts to: what the history may keep of it."""
    found = re.findall(r'(?:href|action|src)="([^"]*)"', page)
    return [html.unescape(url) for url in found]


def test_no_address_a_sources_account_page_leads_to_names_a_reply(
    app: Flask, client: FlaskClient, instance: Path
) -> None:
    # Deleting a reply posted to /replies/<id>/delete: a browser whose history keeps each
    # address of a redirect chain could keep the id, which says a reply came and, matched
    # against a seized server's or workstation's copy, which one.
    visitor, codename, _ = _reported(client, "en")
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply = reply_to(app, codename, "we need the FIR number", signer)
    page = visitor.get("/account")
    assert reply not in "\n".join(_urls(page))
    (delete,) = [f for f in forms(page) if f.fields.get("reply") == reply]
    response = client.post(delete.action, data=delete.fields)
    assert response.status_code == 303
    assert reply not in response.location
    assert reply not in visitor.get(response.location)
    assert form(visitor.get("/account"), "/logout")


def test_a_source_deletes_every_reply_at_once_and_the_codename_then_opens_none(
    app: Flask, client: FlaskClient, instance: Path
) -> None:
    # A source warned of a checkpoint has a minute, not one press over Tor per reply (and
    # a press per page of them): whoever takes the phone and the codename on paper reads
    # every reply left on the server.
    visitor, codename, _ = _reported(client, "en")
    signer = reviewer_keys(instance).signing
    assert signer is not None
    said = [f"question {n} about the FIR" for n in range(3)]
    replies = {reply_to(app, codename, text, signer) for text in said}
    _, other, _ = _reported(app.test_client(), "en")
    kept = reply_to(app, other, "another source's reply", signer)
    assert replies <= {p.stem for p in envelope_files(instance)}
    (every,) = [f for f in forms(visitor.get("/account")) if f.fields.get("reply") == "every"]
    response = client.post(every.action, data=every.fields)
    assert response.status_code == 303
    assert response.location == "/account"
    visitor.log_out()
    seizer = Visitor(app.test_client())
    assert seizer.logs_in(codename)
    page = seizer.get("/account")
    assert not [text for text in said if text in page]
    assert not replies & {p.stem for p in envelope_files(instance)}
    assert kept in {p.stem for p in envelope_files(instance)}
    assert row_counts(app, Reply) == {Reply.__tablename__: 1}  # another source's, kept


def test_an_account_with_no_reply_offers_no_button_to_delete_them(client: FlaskClient) -> None:
    visitor, _, _ = _reported(client, "en")
    assert not [f for f in forms(visitor.get("/account")) if "reply" in f.fields]


def test_no_address_a_source_page_leads_to_names_the_codename(client: FlaskClient) -> None:
    client.get("/lang/en")
    visitor = Visitor(client)
    offered = visitor.get("/submit")
    page = form(offered, "/submit")
    codename = page.fields["codename"]
    response = visitor.send(page, "the SHO took money")
    seen = [offered, visitor.filed(response), visitor.get("/account"), visitor.get("/submitted")]
    addresses = [url for shown in seen for url in _urls(shown)]
    assert addresses
    spelt = {codename, quote(codename), quote_plus(codename), "".join(codename.split())}
    assert not [url for url in addresses if any(s in url for s in spelt)]
