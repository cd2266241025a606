"""Urdu and English: a complete Urdu catalog, and every source page in the visitor's language.

After changing a string in app/ (from the repository root):

    .venv/bin/pybabel extract -F app/babel.cfg -k _l --sort-by-file \
        -o app/translations/messages.pot .
    .venv/bin/pybabel update -i app/translations/messages.pot -d app/translations

then translate what `update` added or marked fuzzy. `deploy/bootstrap.sh` compiles the
catalogs; these tests compile them too when the .mo is missing or older than its .po
(`tests.app.support.compile_catalogs`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask, render_template, session
from flask.testing import FlaskClient

from app import create_app
from app.config import config_for
from app.operations.setup import initialise
from app.services.keys import public_keys
from app.settings import DEFAULTS
from crypto import KdfParams, generate_codename
from tests.app.support import compile_catalogs, form, holds_login

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
URDU = TRANSLATIONS / "ur" / "LC_MESSAGES" / "messages.po"
UPDATE_HINT = "re-extract and update the catalogs as this module's docstring says"

# printf-style placeholders, as Flask-Babel and WTForms fill them: %(name)s, %(count)d.
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Latin words an Urdu page may show in its own text: the software the source must
# use, by the names it shows them, the keyring file, a phone camera's file name as the
# phone shows it (IMG_20261203_0915.jpg), and the site's name.
LATIN_IN_URDU = frozenset(
    {"Tor", "Browser", "Tor2web", "onion", "Safest", "New", "Identity", "keys", "json"}
    | {"raazdar", "submit", "IMG", "jpg"}
    | set(LATIN_WORD.findall(str(DEFAULTS["organisation"])))
)
MIN_WORDS = 3  # shorter strings are caught by the script check on the page's own text


def _texts(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's id or string as a tuple, whether or not it has plural forms."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _read(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po)


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _phrases(text: str) -> list[str]:
    """The runs of words between a string's placeholders that are long enough to search for."""
    runs = (" ".join(run.split()) for run in PLACEHOLDER.split(text)[::2])
    return [run for run in runs if len(run.split()) >= MIN_WORDS]


# --- the catalogs ------------------------------------------------------------------------


def test_template_lists_every_string_of_the_source() -> None:
    with (ROOT / "app" / "babel.cfg").open() as cfg:
        # Babel leaves this function unannotated.
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    in_source = {
        _texts(message)[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords
        )
    }
    in_template = {_texts(m.id)[0] for m in _messages(_read(TEMPLATE))}
    assert in_source, "nothing extracted: app/babel.cfg's patterns no longer match app/"
    assert sorted(in_source - in_template) == [], f"not in messages.pot: {UPDATE_HINT}"
    assert sorted(in_template - in_source) == [], f"no longer in the source: {UPDATE_HINT}"


def test_every_string_has_an_urdu_translation() -> None:
    urdu = _read(URDU)
    problems = []
    for wanted in _messages(_read(TEMPLATE)):
        found = urdu.get(wanted.id)
        if found is None:
            problems.append(f"missing: {wanted.id!r}")
        elif found.fuzzy:
            problems.append(f"fuzzy: {wanted.id!r}")
        elif not all(s.strip() for s in _texts(found.string)):
            problems.append(f"empty: {wanted.id!r}")
    assert problems == [], UPDATE_HINT
    assert not urdu.fuzzy, "the Urdu catalog's header is marked fuzzy"
    assert str(urdu.locale) == "ur"


def test_urdu_translations_keep_the_placeholders() -> None:
    problems = []
    for message in _messages(_read(URDU)):
        wanted = _placeholders(_texts(message.id)[0])
        for string in _texts(message.string):
            if _placeholders(string) != wanted:
                problems.append(f"{message.id!r}: {sorted(wanted)} -> {string!r}")
                continue
            try:
                # Jinja's newstyle gettext always applies `%`, kwargs or none.
                string % dict.fromkeys(wanted, 1)
            except (ValueError, TypeError, KeyError) as exc:
                problems.append(f"{message.id!r}: {exc}")
    assert problems == []


def test_urdu_translations_use_urdu_punctuation() -> None:
    problems = []
    for message in _messages(_read(URDU)):
        msgid = _texts(message.id)[0]
        for string in _texts(message.string):
            if re.search(r"[,;?]|\.(?=\s|$)", string):
                problems.append(f"Latin punctuation (use ، ؛ ؟ ۔): {string!r}")
            if msgid.endswith(".") and not string.endswith("۔"):
                problems.append(f"does not end with ۔: {string!r}")
    assert problems == []


# --- the pages ---------------------------------------------------------------------------


@dataclass
class Page:
    """What a visitor sees: all its text, the text in the page's own language, the switch."""

    lang: str
    text: str = ""
    own: str = ""
    switch: list[str] = field(default_factory=list)


SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
VOID_TAGS = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr"})


class _PageParser(HTMLParser):
    """Split a page's text: parts in another language (`lang=`) or typed by the visitor aside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page(lang="")
        self.words: list[str] = []
        self.own: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, in another language)

    def _foreign(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
            return
        # A text area holds what the visitor typed: theirs, in whatever language.
        foreign = (
            self._foreign() or tag == "textarea" or a.get("lang", self.page.lang) != self.page.lang
        )
        if tag == "a" and "lang" in a.get("class", "").split():
            self.page.switch.append(a.get("href", ""))
        elif tag == "button" and "lang" in a.get("class", "").split():
            self.page.switch.append(f"button of {a.get('form')}: {a.get('value')}")
        if not foreign:
            self.own += [a[n] for n in SHOWN_ATTRIBUTES if a.get(n)]
        if tag not in VOID_TAGS:
            self.open.append((tag, foreign))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.words.append(data)
        if not self._foreign():
            self.own.append(data)


def parse(html: str) -> Page:
    """Read a page as a person would: its text, without the markup."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    parser.page.text = " ".join(" ".join(parser.words).split())
    parser.page.own = " ".join(" ".join(parser.own).split())
    return parser.page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A demo instance with compiled catalogs, shared by this module's tests (CSRF off)."""
    compile_catalogs()
    root = tmp_path_factory.mktemp("i18n") / "instance"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("RAAZDAR_INSTANCE", raising=False)
        env.delenv("RAAZDAR_DATABASE_URL", raising=False)
        initialise(root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        app = create_app(config_for(root, WTF_CSRF_ENABLED=False))
    yield app
    app.extensions["raazdar.db"].engine.dispose()


def _shown_codename(html: str) -> str:
    match = re.search(r'<p class="codename"[^>]*>([^<]+)</p>', html)
    assert match, "the submit page shows no codename"
    return match.group(1).strip()


def _visitor(site: Flask, lang: str) -> FlaskClient:
    client = site.test_client()
    assert client.get(f"/lang/{lang}").status_code == 303
    return client


@pytest.fixture(scope="module")
def codename(site: Flask) -> str:
    """A source who made a first report through the Urdu interface."""
    client = _visitor(site, "ur")
    shown = _shown_codename(client.get("/submit").get_data(as_text=True))
    sent = client.post(
        "/submit", data={"codename": shown, "message": "تھانے کا محرر رشوت لیتا ہے۔"}
    )
    assert sent.status_code == 200
    assert 'class="filed"' in sent.get_data(as_text=True)  # confirmed in place
    return shown


@dataclass(frozen=True)
class Visit:
    """One page to look at: how to reach it and what it answers."""

    name: str
    path: str
    status: int = 200
    form: dict[str, str] | None = None  # POST these fields
    signed_in: bool = False
    new_codename: bool = False  # POST a fresh, well-formed codename with the form
    follow: bool = False  # the page is the one the POST's redirect leads to
    # Where the switch leads, if not back here: the confirmation's to the landing page, since
    # `/submitted` in a browser's history said a report went (tests/app/source/test_history.py).
    back: str | None = None


VISITS = (
    Visit("landing", "/"),
    Visit("submit", "/submit"),
    Visit("login", "/login"),
    Visit("resources", "/resources"),
    Visit("keys", "/keys"),
    Visit("not-found", "/nope", status=404),
    Visit("logged-out", "/logged-out"),
    Visit("submitted", "/submitted", signed_in=True, back="/"),
    Visit("account", "/account", signed_in=True),
    Visit("submit-nothing", "/submit", 400, form={"message": ""}, new_codename=True),
    Visit("send-nothing-more", "/account", 400, form={"message": ""}, signed_in=True),
    Visit("login-blank", "/login", form={"codename": ""}),
)
# Pages only a POST shows, whose path a GET does not show again (no language switch test).
POSTED = (
    Visit("send-after-logout", "/account", 401, form={"message": "..."}),
    # Answered as a right codename is (303 to /account), and said on the page after.
    Visit("login-unknown", "/login", form={}, new_codename=True, follow=True),
    Visit("login-mistyped", "/login", form={"codename": "not a codename"}, follow=True),
)


def _open(site: Flask, codename: str, visit: Visit, lang: str) -> tuple[FlaskClient, str]:
    client = _visitor(site, lang)
    if visit.signed_in:
        assert client.post("/login", data={"codename": codename}).status_code == 303
    if visit.form is None:
        response = client.get(visit.path)
    else:
        data = dict(visit.form)
        if visit.new_codename:
            data["codename"] = generate_codename()
        response = client.post(visit.path, data=data)
        if visit.follow and response.status_code == 303:
            response = client.get(response.headers["Location"])
    assert response.status_code == visit.status, visit
    return client, response.get_data(as_text=True)


def _phrases_of(lang: str, catalog: Catalog) -> dict[str, str]:
    """Each searchable phrase of the catalog's English (or Urdu) side, with its message."""
    found: dict[str, str] = {}
    for message in _messages(catalog):
        side = message.id if lang == "en" else message.string
        for text in _texts(side):
            for phrase in _phrases(text):
                found[phrase] = _texts(message.id)[0]
    return found


@pytest.fixture(scope="module")
def keyring_data(site: Flask) -> list[str]:
    """What /keys shows from the keyring: names and fingerprints, longest first."""
    with site.test_request_context("/"):
        info = public_keys()
    shown = [*info["pinned"]]
    shown += [part for entry in info["recipients"] + info["authorities"] for part in entry]
    return sorted(set(shown), key=len, reverse=True)


@pytest.fixture(scope="module")
def english_phrases() -> dict[str, str]:
    return _phrases_of("en", _read(URDU))


@pytest.fixture(scope="module")
def urdu_phrases() -> dict[str, str]:
    return _phrases_of("ur", _read(URDU))


@pytest.mark.parametrize("visit", VISITS + POSTED, ids=lambda v: v.name)
def test_urdu_pages_are_right_to_left_and_all_urdu(
    site: Flask,
    codename: str,
    english_phrases: dict[str, str],
    keyring_data: list[str],
    visit: Visit,
) -> None:
    _client, html = _open(site, codename, visit, "ur")
    assert '<html lang="ur" dir="rtl">' in html
    page = parse(html)
    leaked = sorted({m for phrase, m in english_phrases.items() if phrase in page.text})
    assert leaked == [], "English shown on an Urdu page"
    own = page.own
    for shown in keyring_data:  # names and fingerprints are data, not interface
        own = own.replace(shown, " ")
    latin = sorted(set(LATIN_WORD.findall(own)) - LATIN_IN_URDU)
    assert latin == [], f"untranslated text on an Urdu page: {own}"


@pytest.mark.parametrize("visit", VISITS + POSTED, ids=lambda v: v.name)
def test_english_pages_are_left_to_right_and_all_english(
    site: Flask, codename: str, urdu_phrases: dict[str, str], visit: Visit
) -> None:
    _client, html = _open(site, codename, visit, "en")
    assert '<html lang="en" dir="ltr">' in html
    page = parse(html)
    leaked = sorted({m for phrase, m in urdu_phrases.items() if phrase in page.text})
    assert leaked == [], "Urdu shown on an English page"
    assert not ARABIC_SCRIPT.search(page.own), f"Urdu on an English page: {page.own}"


@pytest.mark.parametrize("lang", ["ur", "en"])
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "CSRFError"),
        (400, "HTTP"),
        (404, "HTTP"),
        (413, "HTTP"),
        (429, "ThrottledError"),
        (500, "HTTP"),
        (503, "KeyringUnavailable"),
        (503, "KdfBusy"),
    ],
)
def test_every_error_page_is_in_the_visitors_language(
    site: Flask,
    english_phrases: dict[str, str],
    urdu_phrases: dict[str, str],
    lang: str,
    status: int,
    kind: str,
) -> None:
    with site.test_request_context("/"):
        session["lang"] = lang
        html = render_template("error.html", status=status, kind=kind)
    page = parse(html)
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ur" else "ltr"}">' in html
    other = english_phrases if lang == "ur" else urdu_phrases
    assert sorted({m for phrase, m in other.items() if phrase in page.text}) == []
    heading = re.search(r"<h1>([^<]+)</h1>", html)
    assert heading
    assert bool(ARABIC_SCRIPT.search(heading.group(1))) == (lang == "ur")


def test_a_new_visitor_sees_urdu(site: Flask) -> None:
    html = site.test_client().get("/").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in html


def test_a_first_report_in_urdu_leads_to_an_urdu_account(site: Flask) -> None:
    client = _visitor(site, "ur")
    shown = _shown_codename(client.get("/submit").get_data(as_text=True))
    sent = client.post("/submit", data={"codename": shown, "message": "بھٹے پر بچے قید ہیں۔"})
    assert 'class="filed"' in sent.get_data(as_text=True)  # confirmed in place
    account = client.get("/account")
    assert holds_login(account)
    assert '<html lang="ur" dir="rtl">' in account.get_data(as_text=True)


# --- the language switch -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ur", "en"])
@pytest.mark.parametrize("visit", VISITS, ids=lambda v: v.name)
def test_every_page_links_to_the_other_language_and_back_here(
    site: Flask, codename: str, visit: Visit, lang: str
) -> None:
    client, html = _open(site, codename, visit, lang)
    page = parse(html)
    other = "en" if lang == "ur" else "ur"
    assert len(page.switch) == 1, "one language switch per page"
    typed = re.search(r'<form [^>]*id="(report|login)" action="([^"]+)"', html)
    if typed is not None:
        # The switch sends the form (a report, the login) back in the other language,
        # what was typed in it kept (tests/app/source/test_language_switch.py).
        assert page.switch[0] == f"button of {typed.group(1)}: {other}"
        fields = {**form(html, typed.group(2)).fields, "switch_lang": other}
        switched = client.post(typed.group(2), data=fields)
        assert switched.status_code == 200
        assert parse(switched.get_data(as_text=True)).lang == other
        return
    link = urlsplit(page.switch[0])
    assert link.path == f"/lang/{other}"
    back = visit.back or visit.path
    assert parse_qs(link.query) == {"next": [back]}
    switched = client.get(page.switch[0])
    assert switched.status_code == 303
    assert switched.headers["Location"] == back
    assert parse(client.get(back).get_data(as_text=True)).lang == other


def test_an_unknown_language_is_not_found(site: Flask) -> None:
    client = _visitor(site, "en")
    refused = client.get("/lang/xx?next=/keys")
    assert refused.status_code == 404
    assert '<html lang="en" dir="ltr">' in client.get("/").get_data(as_text=True)


def _redirect_target(site: Flask, target: str) -> str:
    response = site.test_client().get("/lang/en", query_string={"next": target})
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/account",
        "https://evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        " //evil.example",
        "evil.example",
        "",
    ],
)
def test_the_switch_goes_back_only_to_a_page_of_this_site(site: Flask, target: str) -> None:
    assert _redirect_target(site, target) == "/"


# Browsers (and Python's urlsplit, which Werkzeug runs over Location) drop tabs and
# newlines from a URL, so "/<TAB>/evil.example" becomes "//evil.example": another host.
@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example"])
def test_the_switch_is_not_fooled_by_whitespace_browsers_drop(site: Flask, target: str) -> None:
    assert _redirect_target(site, target) == "/"


@pytest.mark.parametrize("target", ["/keys", "/login?x=1", "/nope"])
def test_the_switch_goes_back_to_a_page_of_this_site(site: Flask, target: str) -> None:
    assert _redirect_target(site, target) == target
