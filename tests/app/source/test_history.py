"""What a browser that keeps history (Orbot and an ordinary browser) keeps of a source's visits.

A phone taken at a checkpoint is read, its browser's history too: each page's
title and URL, the redirects that led to it included. Tor Browser keeps none,
but sources use what they have, despite the advice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import sessions
from app.models import Reply
from app.settings import set_setting
from crypto import generate_codename
from tests.app.support import (
    ClockAhead,
    Visitor,
    db_session,
    envelope_files,
    form,
    forms,
    multipart,
    reply_to,
    reviewer_keys,
    row_counts,
)

# An organisation's own choice of name, which the history may show: nothing more.
NAME = "Shehri Haqooq Forum"


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    """The sessions' clock, moved on by the test (a login or an offer left to lapse)."""
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


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


# What a browser may keep of an address: a page it loaded, a redirect's target, a link on
# a page (pressed or not), and where a form posts.
_ADDRESS = re.compile(r'\s(?:href|src|action|formaction)="([^"]*)"')
_BUTTON = re.compile(r"<button\b[^>]*>")


@dataclass
class _Walk:
    """A browser that notes every address it loads, is led to, or is shown on a page."""

    client: FlaskClient
    lang: str
    loaded: set[str] = field(default_factory=set)
    shown: set[str] = field(default_factory=set)
    posted: set[str] = field(default_factory=set)
    pages: list[str] = field(default_factory=list)
    answers: list[TestResponse] = field(default_factory=list)

    def note(self, response: TestResponse) -> str:
        """Note what an answer says of addresses; return its page."""
        query = response.request.query_string.decode()
        address = response.request.path + (f"?{query}" if query else "")
        (self.loaded if response.request.method == "GET" else self.posted).add(address)
        if (location := response.headers.get("Location")) is not None:
            self.shown.add(location)
        page = response.get_data(as_text=True)
        posts = {html.unescape(f.action) for f in forms(page) if f.method == "post"}
        self.posted.update(posts)
        self.shown.update(u for u in map(html.unescape, _ADDRESS.findall(page)) if u not in posts)
        self.pages.append(page)
        self.answers.append(response)
        return page

    def get(self, path: str) -> str:
        """Load a page as a link leads to it, its redirects followed."""
        response = self.client.get(path)
        page = self.note(response)
        while response.status_code in (301, 302, 303, 307, 308):
            response = self.client.get(response.headers["Location"])
            page = self.note(response)
        return page

    def post(self, action: str, data: Any, **kwargs: Any) -> str:
        """Send a form, its redirects followed."""
        response = self.client.post(action, data=data, **kwargs)
        page = self.note(response)
        while response.status_code in (301, 302, 303, 307, 308):
            response = self.client.get(response.headers["Location"])
            page = self.note(response)
        return page

    def follow_links(self, page: str) -> None:
        """Load every page a page links to on this site, and theirs, but the language switch."""
        todo = [page]
        seen: set[str] = set()
        while todo:
            for url in (html.unescape(u) for u in re.findall(r'\shref="([^"]*)"', todo.pop())):
                if url in seen or not url.startswith("/") or url.startswith("/lang/"):
                    continue  # the switch changes the language the walk compares
                seen.add(url)
                todo.append(self.get(url))

    def turn_pages(self, page: str) -> None:
        """Press each button of the account page that shows other replies, and on their pages."""
        todo, pressed = [page], set()
        while todo:
            shown = todo.pop()
            for button in _BUTTON.findall(shown):
                turn = re.search(r'\sname="page" value="(\d+)"', button)
                if turn is None or turn.group(1) in pressed:
                    continue
                pressed.add(turn.group(1))
                report = form(shown, "/account")
                todo.append(self.post("/account", {**report.fields, "page": turn.group(1)}))

    def addresses(self) -> set[str]:
        """Every address the browser loaded or was shown, but the stylesheet and keys.json."""
        return {a for a in self.loaded | self.shown if a not in _SAME_FOR_EVERYONE}


_SAME_FOR_EVERYONE = {"/static/style.css", "/keys.json"}


def _stranger(app: Flask, later: ClockAhead, lang: str) -> _Walk:
    """Someone who never reported: opens every page, tries a codename, lets /submit lapse."""
    walk = _Walk(app.test_client(), lang)
    walk.follow_links(walk.get("/"))  # in the language a browser with no cookie is shown
    walk.follow_links(walk.get(f"/lang/{lang}?next=/"))
    failed = form(walk.get("/login"), "/login")
    walk.follow_links(walk.post("/login", {**failed.fields, "codename": generate_codename()}))
    walk.get("/submit")
    later.ahead = 31 * 60  # the codename offered lapsed
    walk.follow_links(walk.get("/submit"))
    later.ahead = 0
    return walk


def _source(app: Flask, instance: Path, later: ClockAhead, lang: str) -> _Walk:
    """A source's whole visit: reports, reads replies page by page, deletes, logs out and in."""
    walk = _Walk(app.test_client(), lang)
    walk.get(f"/lang/{lang}?next=/")
    first = form(walk.get("/submit"), "/submit")
    codename = first.fields["codename"]
    body, kind = multipart([*first.fields.items(), ("message", "the SHO took money")])
    walk.follow_links(walk.post("/submit", body, content_type=kind))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for n in range(40):  # pages of them
        reply_to(app, codename, f"Question {n}: which thana, and who else? " * 8, signer)
    account = walk.get("/account")
    walk.follow_links(account)
    walk.turn_pages(account)
    asked = [f"Question {n}:" for n in range(40)]
    assert all(any(q in page for page in walk.pages) for q in asked), "a reply went unread"
    assert not [p for p in walk.pages if all(q in p for q in asked)], "the replies took one page"
    (delete,) = [f for f in forms(account) if f.fields.get("reply") not in (None, "every")][:1]
    walk.follow_links(walk.post(delete.action, delete.fields))
    later_report = form(walk.get("/account"), "/account")
    body, kind = multipart([*later_report.fields.items(), ("message", "and the ASI too")])
    walk.follow_links(walk.post("/account", body, content_type=kind))
    (every,) = [f for f in forms(walk.get("/account")) if f.fields.get("reply") == "every"]
    walk.follow_links(walk.post(every.action, every.fields))
    logout = form(walk.get("/account"), "/logout")
    walk.follow_links(walk.post("/logout", logout.fields))
    walk.get(f"/lang/{lang}?next=/")
    again = form(walk.get("/login"), "/login")
    walk.follow_links(walk.post("/login", {**again.fields, "codename": codename}))
    later.ahead = 31 * 60  # the login lapsed
    walk.follow_links(walk.get("/submit"))
    later.ahead = 0
    return walk


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_no_address_a_sources_browser_keeps_is_one_a_stranger_could_not_have(
    app: Flask, instance: Path, later: ClockAhead, lang: str
) -> None:
    # A phone taken at a checkpoint: its browser's history, and the tab's Back list, hold
    # each address it loaded or was redirected to. `/account?page=3` said the account
    # held three pages of replies; `/submitted` and `/logged-out` that a report went and a
    # login ended. A source's addresses must be ones anyone who only looked could have.
    source = _source(app, instance, later, lang)
    stranger = _stranger(app, later, lang)
    told = sorted(source.addresses() - stranger.addresses())
    assert not told, f"addresses only a source's browser holds: {told}"
    # Where forms post stays fixed: no id, count or choice rides in the address. Those
    # of a login (/logout, /replies/delete) are a source's alone; a POST's answer is kept
    # in the tab's Back list under its address only when it is shown in place.
    fixed = {rule.rule for rule in app.url_map.iter_rules() if not rule.arguments}
    assert source.posted <= fixed, sorted(source.posted - fixed)
    assert len(source.pages) > 20, "the walk did not go through the flow"


class _TextFields(HTMLParser):
    """Each field a person types into, with the `autocomplete` it has or its form gives it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, str | None] = {}  # a form's id (or its place) and autocomplete
        self.fields: list[tuple[str, str | None, str | None]] = []  # name, own, form's
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._open = a.get("id") or f"form {len(self.forms)}"
            self.forms[self._open] = a.get("autocomplete")
        elif tag in {"input", "textarea"} and a.get("type") not in _NOT_TYPED:
            owner = a.get("form") or self._open
            self.fields.append((a.get("name") or "", a.get("autocomplete"), owner))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None

    def unremembered(self) -> list[str]:
        """The fields a browser would keep what was typed in (form history, Back)."""
        return [
            name
            for name, own, owner in self.fields
            if (own or (self.forms.get(owner) if owner else None)) != "off"
        ]


_NOT_TYPED = {"hidden", "file", "submit", "button", "checkbox", "radio"}


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_every_answer_of_a_sources_visit_leaves_the_browser_nothing_to_keep(
    app: Flask, instance: Path, later: ClockAhead, lang: str
) -> None:
    # Checked on every answer of a whole visit, not on a few pages by eye: a page a cache
    # keeps, a date the server stamps on it, a referrer, a service worker, an icon the
    # browser files under the onion, a field whose words the form history keeps.
    walk = _source(app, instance, later, lang)
    walk.answers.append(walk.client.get("/favicon.ico"))
    walk.answers.append(walk.client.get("/static/style.css"))
    assert len(walk.answers) > 20
    for answer in walk.answers:
        where = f"{answer.request.method} {answer.request.path} {answer.status_code}"
        headers = answer.headers
        assert headers.get("Cache-Control") == "no-store", where
        assert headers.get("Referrer-Policy") == "no-referrer", where
        # (gunicorn's `Date` is the moment of the answer, which the browser knows anyway.)
        stamped = {"ETag", "Last-Modified", "Expires", "Age", "Service-Worker-Allowed"}
        assert not stamped & set(headers.keys()), (where, stamped & set(headers.keys()))
        policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in policy, where  # and no script-src: no worker to register
        assert not re.search(r"(?:script|worker)-src", policy), where
        page = answer.get_data(as_text=True)
        if answer.mimetype != "text/html" or answer.status_code in (301, 302, 303, 307, 308):
            continue  # a browser shows no redirect's body
        assert not re.search(r'<link[^>]*rel="[^"]*(?:icon|manifest)', page), where
        assert '<meta name="referrer" content="no-referrer">' in page, where
        fields = _TextFields()
        fields.feed(page)
        assert not fields.unremembered(), (where, fields.unremembered())
    icon = walk.answers[-2]
    assert icon.status_code == 404, "an icon the browser would file under the onion"


@pytest.mark.parametrize("number", ["x", "", "-3", "9999"])
def test_a_page_turn_whatever_its_number_shows_replies_and_files_nothing(
    app: Flask, client: FlaskClient, instance: Path, number: str
) -> None:
    # The buttons send the report form with the page in its body: a page that is no number
    # (a hand-made request, a browser that mangled it) filed what the form held as a report.
    visitor, codename, _ = _reported(client, "en")
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, codename, "Which thana?", signer)
    report = form(visitor.get("/account"), "/account")
    before = len(envelope_files(instance))
    fields = {**report.fields, "page": number, "message": "a second report, not sent"}
    response = client.post("/account", data=fields)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Which thana?" in page
    assert "a second report, not sent" in page  # given back, as the language switch does
    assert 'class="filed"' not in page
    assert len(envelope_files(instance)) == before
