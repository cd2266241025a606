"""A source's whole visit in the test client, in Urdu and English: report, leave, return, read."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Item, Reply, Source
from app.services.replies import post_reply
from crypto import HybridPrivateKey, PublicKey, SigningKey, check_codename, seal_bytes
from crypto.reply import reply_content
from tests.app.support import (
    FilePart,
    Visitor,
    db_session,
    deletion,
    envelope_files,
    form,
    forms,
    html_lang,
    login_grants,
    opened_envelopes,
    reply_to,
    reviewer_keys,
    row_counts,
    shown_codename,
    source_id,
)

FILES: list[FilePart] = [
    ("files", "statement.txt", b"The SHO took 200,000 rupees.\n", "text/plain"),
    ("files", "photo.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, "image/jpeg"),
    ("files", "رسید.pdf", b"%PDF-1.4 a receipt", "application/pdf"),
]
MESSAGE = "\r\n".join(
    ["ASI at the Airport police station lets the agent's vans through.", "ایس ایچ او نے پیسے لیے۔"]
)


@dataclass
class Reported:
    """A source who has just made a first report."""

    visitor: Visitor
    codename: str
    lang: str


@pytest.fixture(params=["ur", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    """The interface language the source chose."""
    code: str = request.param
    return code


@pytest.fixture
def visitor(client: FlaskClient, lang: str) -> Visitor:
    """A source's browser, switched to `lang` on the landing page."""
    response = client.get(f"/lang/{lang}?next=/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    visitor = Visitor(client)
    landing = visitor.get("/")
    assert html_lang(landing)[0] == lang
    assert 'href="/submit"' in landing
    return visitor


@pytest.fixture
def reported(visitor: Visitor, lang: str) -> Reported:
    """A first report with a message, every structured field and three files."""
    page = visitor.start()
    choices: dict[str, str | list[str]] = {
        "agency": "police-punjab",
        "province": "punjab",
        "district": "Lahore, Airport police station",
        "when": "week",
        "complicity": ["bribery", "border"],
    }
    response = visitor.send(page, MESSAGE, FILES, choices)
    assert response.status_code == 200
    assert 'class="filed"' in response.get_data(as_text=True)  # confirmed in place
    return Reported(visitor, page.fields["codename"], lang)


def test_the_submit_page_shows_the_codename_it_carries(visitor: Visitor, lang: str) -> None:
    html = visitor.get("/submit")
    page = form(html, "/submit")
    assert html_lang(html) == (lang, "rtl" if lang == "ur" else "ltr")
    assert page.enctype == "multipart/form-data"
    assert page.method == "post"
    assert shown_codename(html) == page.fields["codename"]
    assert check_codename(page.fields["codename"]) == page.fields["codename"]
    assert "csrf_token" in page.fields


def test_the_form_offers_the_taxonomy_in_the_chosen_language(visitor: Visitor, lang: str) -> None:
    html = visitor.get("/submit")
    assert ("پنجاب پولیس" in html) == (lang == "ur")
    assert ("Punjab Police" in html) == (lang == "en")


def test_a_report_is_sealed_with_its_fields_and_files(
    reported: Reported, app: Flask, instance: Path
) -> None:
    html = reported.visitor.get("/submitted")
    assert html_lang(html)[0] == reported.lang
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 4}
    opened = opened_envelopes(instance)
    reports = [json.loads(p) for m, p in opened.values() if m.kind == "report"]
    assert len(reports) == 1
    report = reports[0]
    assert report["message"] == MESSAGE.replace("\r\n", "\n")
    assert report["language"] == reported.lang
    # Labels go into the report in English whatever language the source used.
    assert report["fields"] == {
        "agency": {"code": "police-punjab", "label": "Punjab Police"},
        "province": {"code": "punjab", "label": "Punjab"},
        "district": "Lahore, Airport police station",
        "when": {"code": "week", "label": "In the last week"},
        "complicity": [
            {
                "code": "bribery",
                "label": "Taking money to release or protect traffickers or smugglers",
            },
            {"code": "border", "label": "Letting people through airports, borders or checkpoints"},
        ],
    }
    files = {m.filename: (m.content_type, p) for m, p in opened.values() if m.kind == "file"}
    assert files == {name: (ctype, content) for _, name, content, ctype in FILES}


def test_items_of_one_submission_share_a_submission_id(reported: Reported, app: Flask) -> None:
    items = _items(app)
    assert len({i.submission_id for i in items}) == 1
    assert {i.kind for i in items} == {"report", "file"}


def test_a_source_logs_out_and_back_in_with_the_codename(reported: Reported) -> None:
    visitor = reported.visitor
    assert visitor.get("/account").count('action="/account"') == 1
    response = visitor.log_out()
    # Shown in place, no address naming the language (tests/app/source/test_history.py).
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert html_lang(page)[0] == reported.lang
    # The way back in, from that page, keeps it.
    home = re.search(r'<a class="brand" href="([^"]+)"', page)
    assert home is not None
    visitor.client.get(html.unescape(home.group(1)))
    assert 'action="/login"' in visitor.get("/account"), "no login: the login page in place"
    response = visitor.log_in(reported.codename)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert html_lang(visitor.get("/account"))[0] == reported.lang


def test_a_later_report_from_the_account_page_joins_the_same_account(
    reported: Reported, app: Flask
) -> None:
    visitor = reported.visitor
    page = form(visitor.get("/account"), "/account")
    assert "codename" not in page.fields
    response = visitor.send(page, "One more thing: the vans leave at night.")
    assert response.status_code == 200
    assert 'class="filed"' in response.get_data(as_text=True)  # confirmed in place
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 5}
    assert len({i.submission_id for i in _items(app)}) == 2


def test_a_reply_from_a_reviewer_is_shown_decrypted(
    reported: Reported, app: Flask, instance: Path
) -> None:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, reported.codename, "Which police station? نام بتائیں۔", signer)
    reported.visitor.log_out()
    reported.visitor.log_in(reported.codename)
    html = reported.visitor.get("/account")
    assert "Which police station? نام بتائیں۔" in html
    assert 'class="error"' not in html


def _warnings(page: str) -> list[str]:
    return re.findall(r'<p class="error">(.*?)</p>', page, re.S)


def test_a_reply_listed_weeks_after_it_was_written_is_shown_under_its_day_with_a_warning(
    reported: Reported, app: Flask, instance: Path
) -> None:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    written = today - dt.timedelta(days=30)
    # As a server whose database was altered: a reply written weeks ago, listed today.
    reply_to(
        app, reported.codename, "Meet us at the court gate on Friday.", signer, written=written
    )
    page = reported.visitor.get("/account")
    assert "Meet us at the court gate on Friday." in page
    assert f"written {written}" not in page  # the sealed day is not part of the text
    (warning,) = _warnings(page)
    assert all(f in warning for f in (str(written), str(today), "30")), warning


@pytest.mark.parametrize("days", [0, 7, -1])
def test_a_reply_listed_within_a_week_is_shown_under_its_day_and_one_listed_before_is_not_believed(
    reported: Reported, app: Flask, instance: Path, days: int
) -> None:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    written = today - dt.timedelta(days=days)
    reply_to(app, reported.codename, "Which police station?", signer, written=written)
    page = reported.visitor.get("/account")
    assert "Which police station?" in page
    assert str(written) in page
    assert len(_warnings(page)) == (days < 0)


def test_a_reply_written_before_replies_carried_their_day_is_shown_under_the_servers(
    reported: Reported, app: Flask, instance: Path
) -> None:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, reported.codename, "Which police station?", signer)
    page = reported.visitor.get("/account")
    today = str(dt.datetime.now(dt.UTC).date())
    assert re.search(rf'<p class="hint">{today}:[^<]+</p>', page), page
    assert not _warnings(page)


def test_a_reply_signed_by_a_stranger_is_shown_as_unverifiable(
    reported: Reported, app: Flask
) -> None:
    reply_to(app, reported.codename, "Send your CNIC number to 0300-1234567", SigningKey.generate())
    html = reported.visitor.get("/account")
    assert "0300-1234567" not in html
    assert html.count('<p class="error">') == 1
    # It can still be deleted, like any reply.
    deletions = [f for f in forms(html) if f.action == "/replies/delete"]
    assert len([f for f in deletions if f.fields.get("reply") != "every"]) == 1


def test_a_forward_secret_reply_is_not_called_unverifiable_but_sent_to_raazdar_submit(
    reported: Reported, app: Flask, instance: Path
) -> None:
    # A raazdar-submit source who also logs in here: a reviewer's reply sealed to one of
    # the device's one-time prekeys (PROTOCOL 5A.9) cannot open here. Called "could not
    # be verified" beside a delete button, a genuine reply was deleted unread, for good.
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    content, metadata = reply_content("Meet our investigator on Friday.", today)
    prekey = HybridPrivateKey.generate().public_key
    envelope = seal_bytes(content, [prekey], metadata, signer=signer)
    with app.app_context(), db_session(app) as session:
        reply_id = post_reply(session, source_id(app, reported.codename), envelope)
    page = reported.visitor.get("/account")
    assert _warnings(page) == [], "a genuine one-time-key reply was called unverifiable"
    forged = seal_bytes(content, [prekey], metadata, signer=SigningKey.generate())
    with app.app_context(), db_session(app) as session:
        post_reply(session, source_id(app, reported.codename), forged)
    # One signed by nobody the keyring names is still called what it is.
    assert len(_warnings(reported.visitor.get("/account"))) == 1
    assert "raazdar-submit replies" in page
    assert "It was written before replies carried their own day" not in page
    assert str(today) in page
    # Still the source's to delete, told what that means.
    assert deletion(page, reply_id)


def test_a_replys_bidi_overrides_and_controls_do_not_reach_the_page(
    reported: Reported, app: Flask, instance: Path
) -> None:
    # Text a reviewer pasted from a hostile report: U+202E shows "0300-7654321" as
    # "1234567-0030" in Tor Browser; raazdar-submit has always removed them.
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, reported.codename, "Call \u202e1234567-0030\u202c \x1b[2J now.", signer)
    page = reported.visitor.get("/account")
    assert "\u202e" not in page, "bidi override reached the page"
    assert "\x1b" not in page
    assert "Call \ufffd1234567-0030\ufffd \ufffd[2J now." in page


def test_a_reply_posted_twice_is_shown_once_and_the_second_copy_called_out(
    reported: Reported, app: Flask, instance: Path
) -> None:
    # A disk altered to post one reviewer's envelope again (raazdar-submit shows it once):
    # within a week of its day, the page showed it as two requests, with no word.
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    content, metadata = reply_content("Meet our investigator at the court gate.", today)
    source = source_id(app, reported.codename)
    with app.app_context(), db_session(app) as session:
        key = session.get(Source, source)
        assert key is not None
        envelope = seal_bytes(
            content, [PublicKey.from_text(key.public_key)], metadata, signer=signer
        )
        first = post_reply(session, source, envelope)
        again = post_reply(session, source, envelope)
    page = reported.visitor.get("/account")
    assert page.count("Meet our investigator at the court gate.") == 1, "a copy shown as new"
    (warning,) = _warnings(page)
    assert str(today) in warning
    # Both stay the source's to delete.
    assert deletion(page, first)
    assert deletion(page, again)


def test_deleting_a_reply_removes_its_row_and_its_file(
    reported: Reported, app: Flask, instance: Path
) -> None:
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, reported.codename, "Thank you.", signer)
    kept_id = reply_to(app, reported.codename, "Please write again.", signer)
    store = {p.stem for p in envelope_files(instance)}
    assert {reply_id, kept_id} <= store
    page = deletion(reported.visitor.get("/account"), reply_id)
    response = reported.visitor.client.post(page.action, data=page.fields)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    with db_session(app) as session:
        assert session.get(Reply, reply_id) is None
        assert session.get(Reply, kept_id) is not None
    assert {p.stem for p in envelope_files(instance)} == store - {reply_id}
    html = reported.visitor.get("/account")
    assert "Thank you." not in html
    assert "Please write again." in html


def test_landing_to_confirmation_takes_three_page_loads(client: FlaskClient) -> None:
    visitor = Visitor(client)
    landing = visitor.get("/")  # 1
    assert 'href="/submit"' in landing
    page = visitor.start()  # 2
    response = client.post(
        page.action,
        data={**page.fields, "message": "The inspector warns the kiln owner before raids."},
        content_type="multipart/form-data",
        follow_redirects=True,
    )  # 3: the post answers with the confirmation page, in place
    assert response.status_code == 200
    assert len(response.history) == 0
    assert 'class="filed"' in response.get_data(as_text=True)


def test_viewing_the_submit_page_creates_no_account(
    client: FlaskClient, app: Flask, instance: Path
) -> None:
    visitor = Visitor(client)
    for _ in range(3):
        visitor.start()
    response = visitor.send(visitor.start())  # nothing to send: refused, still no account
    assert response.status_code == 400
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}
    assert envelope_files(instance) == []


def test_two_tabs_get_two_codenames_and_each_report_reaches_its_own_account(
    client: FlaskClient, app: Flask, instance: Path
) -> None:
    visitor = Visitor(client)
    first, second = visitor.start(), visitor.start()
    assert first.fields["codename"] != second.fields["codename"]
    visitor.filed(visitor.send(first, "from the first tab"))
    visitor.filed(visitor.send(second, "from the second tab"))
    assert row_counts(app, Source, Item) == {"sources": 2, "items": 2}
    opened = opened_envelopes(instance)
    messages = {item.source_id: json.loads(opened[item.id][1])["message"] for item in _items(app)}
    assert messages == {
        source_id(app, first.fields["codename"]): "from the first tab",
        source_id(app, second.fields["codename"]): "from the second tab",
    }
    # The browser is now signed in to the second tab's account; the first codename still works.
    grants = login_grants(app, client)
    assert grants is not None
    assert grants["source"]["id"] == source_id(app, second.fields["codename"])
    visitor.log_out()
    assert visitor.logs_in(first.fields["codename"])


def test_the_same_codename_sent_twice_uses_one_account(client: FlaskClient, app: Flask) -> None:
    visitor = Visitor(client)
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    # The back button: the same form, with the same codename, sent again.
    visitor.filed(visitor.send(page, "second"))
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 2}


def _items(app: Flask) -> list[Item]:
    with db_session(app) as session:
        return list(session.execute(select(Item)).scalars())


@pytest.mark.parametrize("returning", [False, True], ids=["new-source", "returning-source"])
def test_a_report_that_is_taken_signs_no_csrf_token_it_never_shows(
    visitor: Visitor, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    # The form built to check the POST drew and signed a fresh token for a page that was
    # never rendered (an HMAC, base64 and JSON: docs/benchmarks.md, tenth pass): only the
    # confirmation's own form signs one.
    import flask_wtf.csrf

    page = visitor.start()
    if returning:
        visitor.filed(visitor.send(page, "first"))
        page = form(visitor.get("/account"), "/account")
    signed: list[object] = []

    class Counting(flask_wtf.csrf.URLSafeTimedSerializer):  # type: ignore[misc]
        def dumps(self, obj: object, salt: object = None) -> object:
            signed.append(obj)
            return super().dumps(obj, salt)

    monkeypatch.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", Counting)
    response = visitor.send(page, "the SHO")
    shown = visitor.filed(response)
    # One, for the confirmation in place: its "Log out" form shows it.
    assert len(signed) == 1
    assert form(shown, "/logout").fields["csrf_token"]
    # A page that shows the form still carries a token that is accepted.
    again = form(visitor.get("/account"), "/account")
    assert len(signed) == 2
    visitor.filed(visitor.send(again, "more"))
