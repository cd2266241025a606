"""The language switch on a page with a report form: what a source wrote must stay.

With JavaScript off the switch was a link: following it loaded the page again,
empty, in the other language, and Back refills no form (autocomplete is off). A
source who wrote half a report in English and wanted Urdu lost it. The switch on
such a page sends the form back in the other language, files nothing, and writes
the words nowhere but the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask
from werkzeug.test import TestResponse

from app.models import Item, Source
from app.source.forms import MAX_MESSAGE_CHARS
from tests.app.support import (
    Visitor,
    envelope_files,
    form,
    html_lang,
    message_box,
    row_counts,
    shown_codename,
    staging_files,
)

MESSAGE = "\n".join(
    ["The SHO of the Airport station lets the agent's vans through.", "ایس ایچ او نے پیسے لیے۔"]
)
DISTRICT = "Rawalpindi, Airport police station"


def _switch(visitor: Visitor, page: str, action: str, **typed: str) -> TestResponse:
    """Press the page's language switch after typing `typed` into its report form."""
    button = re.search(r'<button class="lang"([^>]*)>', page)
    if button is None:  # a link: the browser leaves the page and what was typed in it
        link = re.search(r'<a class="lang" href="([^"]+)"', page)
        assert link is not None, "the page has no language switch"
        response = visitor.client.get(html.unescape(link.group(1)))
        while response.status_code in (302, 303):
            response = visitor.client.get(response.headers["Location"])
        return response
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', button.group(1)))
    assert re.search(rf'<form[^>]*id="{attrs["form"]}"[^>]*action="{action}"', page) or re.search(
        rf'<form[^>]*action="{action}"[^>]*id="{attrs["form"]}"', page
    ), "the switch is not a button of the report form"
    # As a browser sends the form with that button (urlencoded: a file input sends its name).
    fields = {**form(page, action).fields, **typed, attrs["name"]: attrs["value"]}
    assert attrs.get("formenctype") == "application/x-www-form-urlencoded"
    return visitor.client.post(attrs.get("formaction", action), data=fields)


def test_the_switch_on_a_first_report_keeps_what_was_written(app: Flask, instance: Path) -> None:
    for start, other in (("en", "ur"), ("ur", "en")):
        visitor = Visitor(app.test_client())
        visitor.client.get(f"/lang/{start}")
        page = visitor.get("/submit")
        codename = shown_codename(page)
        before = row_counts(app, Source, Item)
        response = _switch(
            visitor, page, "/submit", message=MESSAGE, district=DISTRICT, files="IMG_0915.jpg"
        )
        shown = response.get_data(as_text=True)
        assert html_lang(shown)[0] == other
        assert message_box(shown) == MESSAGE, "the switch lost what the source wrote"
        assert f'value="{DISTRICT}"' in shown
        assert shown_codename(shown) == codename, "the switch showed another codename"
        assert "IMG_0915.jpg" in shown, "the file to attach again is not named"
        assert row_counts(app, Source, Item) == before
        assert staging_files(instance) == []
        # The form as it came back files the report, once, under the codename shown.
        sent = visitor.send(form(shown, "/submit"), message_box(shown))
        visitor.filed(sent)
        assert visitor.logs_in(codename or "")
    assert row_counts(app, Source, Item) == {"sources": 2, "items": 2}
    assert len(envelope_files(instance)) == 2
    # The longest message there may be, in Urdu (six bytes a letter, urlencoded).
    longest = ("ایسایچاونےپیسےلیے۔" * MAX_MESSAGE_CHARS)[:MAX_MESSAGE_CHARS]
    visitor = Visitor(app.test_client())
    response = _switch(visitor, visitor.get("/submit"), "/submit", message=longest)
    assert response.status_code == 200
    assert message_box(response.get_data(as_text=True)) == longest


def test_a_returning_source_s_switch_keeps_what_was_written(app: Flask, visitor: Visitor) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "first"))
    # The account page.
    response = _switch(visitor, visitor.get("/account"), "/account", message=MESSAGE)
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert html_lang(shown)[0] == "ur"
    assert message_box(shown) == MESSAGE, "the switch lost what the source wrote"
    assert len(response.get_data()) == len(visitor.client.get("/account").get_data())
    # The login page: the codename typed comes back, and nobody is logged in.
    account = form(visitor.get("/account"), "/account")
    visitor.log_out()
    visitor.client.get("/lang/en")
    response = _switch(visitor, visitor.get("/login"), "/login", codename=codename)
    shown = response.get_data(as_text=True)
    assert html_lang(shown)[0] == "ur"
    typed = re.search(r'<textarea[^>]*name="codename"[^>]*>(.*?)</textarea>', shown, re.S)
    assert typed is not None
    assert html.unescape(typed.group(1)).strip() == codename, "the switch lost the codename typed"
    assert "/logout" not in shown, "the switch logged in"
    # A report given back once its login ended, with the box for the codename.
    visitor.client.get("/lang/en")
    given_back = visitor.send(account, MESSAGE).get_data(as_text=True)
    response = _switch(visitor, given_back, "/account", message=MESSAGE)
    shown = response.get_data(as_text=True)
    assert html_lang(shown)[0] == "ur"
    assert message_box(shown) == MESSAGE, "the switch lost the report given back"
    assert 'name="codename"' in shown
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    assert visitor.logs_in(codename)
