"""What the source sees is where they look: errors on top, fingerprints and codenames legible."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from app.static_files import STATIC_DIR
from tests.app.support import Visitor, form


@pytest.fixture(params=["ur", "en"])
def visitor_in(request: pytest.FixtureRequest, client: FlaskClient) -> Visitor:
    """A source's browser in Urdu or English."""
    client.get(f"/lang/{request.param}")
    return Visitor(client)


def _refusal_comes_first(html: str) -> None:
    body = html[html.index('enctype="multipart/form-data"') :]
    refusal = body.index('role="alert"')
    # Above the first field of the form, so the page visibly changes where the source looks ...
    assert refusal < body.index("<label")
    # ... and the message box takes the focus (and the view) with JavaScript off.
    textarea = re.search(r"<textarea[^>]*>", body)
    assert textarea is not None
    assert "autofocus" in textarea.group(0)


def test_an_empty_first_report_is_refused_at_the_top_of_the_form(visitor_in: Visitor) -> None:
    page = visitor_in.start()
    response = visitor_in.send(page, "   ")
    assert response.status_code == 400
    _refusal_comes_first(response.get_data(as_text=True))


def test_an_empty_later_report_is_refused_at_the_top_of_the_form(visitor_in: Visitor) -> None:
    visitor_in.filed(visitor_in.send(visitor_in.start(), "first"))
    page = form(visitor_in.get("/account"), "/account")
    response = visitor_in.send(page, "")
    assert response.status_code == 400
    _refusal_comes_first(response.get_data(as_text=True))


def test_a_form_with_no_refusal_takes_no_focus(visitor_in: Visitor) -> None:
    assert "autofocus" not in visitor_in.get("/submit")


def test_fingerprints_are_left_to_right_inside_a_right_to_left_list(visitor_in: Visitor) -> None:
    html = visitor_in.get("/keys")
    # A list item set left to right would move the bullets and the alignment in Urdu.
    assert 'class="fp"' in html
    assert '<li class="fp"' not in html
    for span in re.findall(r'<span class="fp"[^>]*>', html):
        assert 'dir="ltr"' in span


def _rules(css: str) -> list[tuple[str, str]]:
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)]


def test_the_codename_stays_monospace_in_urdu_pages() -> None:
    css = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    rtl_font = [
        i
        for i, (sel, body) in enumerate(_rules(css))
        if "font" in body and any(s.strip() == "html[dir=rtl] .codename" for s in sel.split(","))
    ]
    lang_en = [
        i
        for i, (sel, body) in enumerate(_rules(css))
        if "font" in body and "html[dir=rtl] [lang=en]" in sel
    ]
    # The codename carries lang="en"; a rule as specific as that one, and later, keeps it monospace.
    assert rtl_font, "no font rule for the codename in right-to-left pages"
    assert "monospace" in _rules(css)[rtl_font[-1]][1]
    assert rtl_font[-1] > max(lang_en)


# What the form says a phone's photo carries, and how to leave it out: (what, how).
PHOTO_SAYS = {
    "en": ("where and when they were taken and which phone took them", "send a screenshot"),
    "ur": ("کہاں اور کب لی گئیں اور کس فون سے", "اسکرین شاٹ بھیجیں"),
}


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_form_says_a_photo_carries_its_place_and_phone_and_how_to_leave_them_out(
    client: FlaskClient, lang: str
) -> None:
    # The attack: a constable attaches the phone's photo of the ledger in Tor Browser
    # (no JavaScript: nothing can clean it on the way). Its EXIF holds the GPS position of
    # the police station and the phone's serial number, its name the second it was taken;
    # the reviewers' workstation, and whoever seizes it, receive them. No page said so.
    client.get(f"/lang/{lang}")
    visitor = Visitor(client)
    what, how = PHOTO_SAYS[lang]
    first = visitor.get("/submit")
    assert what in first, "the form taking a photo says nothing of where it was taken"
    assert how in first, "the form says nothing of how to leave it out"
    visitor.filed(visitor.send(form(first, "/submit"), "first"))
    later = visitor.get("/account")
    assert what in later
    assert how in later


# What a phone keeps once Tor Browser is closed, as the pages that hand out a
# codename and take a photo say it: (the codename, the photo).
PHONE_KEEPS = {
    "en": ("Do not copy it or take a screenshot of it", "stays in your phone"),
    "ur": ("اسے کاپی نہ کریں اور اس کا اسکرین شاٹ نہ لیں", "فون کی گیلری میں رہتی ہے"),
}


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_a_phone_source_is_told_what_the_phone_keeps(client: FlaskClient, lang: str) -> None:
    # The attack: seize the phone after the visit. Tor Browser kept no history, but the
    # keyboard's clipboard history kept the codename the source copied to be safe, and
    # the gallery, and its copy in the cloud, the photo of the ledger they attached: no
    # page had said either would stay.
    client.get(f"/lang/{lang}")
    visitor = Visitor(client)
    codename, photo = PHONE_KEEPS[lang]
    first = visitor.get("/submit")
    assert codename in first, "the page handing out a codename says nothing of copying it"
    assert photo in first, "the form taking a photo says nothing of the gallery"
    visitor.filed(visitor.send(form(first, "/submit"), "first"))
    assert photo in visitor.get("/account")
