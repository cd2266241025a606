"""Headers, cookies, CSRF, throttling, the Tor Browser warning, and what is never logged."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import sessions
from app.models import Item, Reply, Source
from crypto import SigningKey, derive_source_keys, generate_codename
from crypto.encoding import b64encode
from tests.app.support import (
    Visitor,
    db_session,
    form,
    forms,
    holds_login,
    message_box,
    reply_to,
    reviewer_keys,
    row_counts,
    shows_login,
    source_id,
)

TOR_BROWSER_DESKTOP = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
TOR_BROWSER_PHONE = "Mozilla/5.0 (Android 10; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)
ONION = "http://raazdar3kq7bd4ndxhn6y7gkvyqjgskobeeyzkpnnuvk4nqdexample.onion"

PAGES = ["/", "/submit", "/login", "/resources", "/keys", "/logged-out", "/no-such-page"]


def signed_in(client: FlaskClient) -> tuple[Visitor, str]:
    """A source (in English) who has just reported; return their browser and codename."""
    client.get("/lang/en")
    visitor = Visitor(client)
    page = visitor.start()
    visitor.filed(visitor.send(page, "the SHO"))
    return visitor, page.fields["codename"]


def session_cookie(client: FlaskClient) -> str:
    """The value of the session cookie the browser holds."""
    cookie = client.get_cookie("rz")
    assert cookie is not None
    return cookie.value


def assert_strict_headers(response: TestResponse) -> None:
    """What every response carries: no framing, no referrer, no sniffing, no scripts."""
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = {d.split(" ", 1)[0]: d for d in policy.split("; ")}
    assert directives["default-src"] == "default-src 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["form-action"] == "form-action 'self'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert "script-src" not in directives
    assert "unsafe" not in policy
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Server" not in headers


# --- Headers -------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_strict_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert_strict_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/submitted", "/account"])
def test_a_signed_in_sources_pages_carry_the_strict_headers(client: FlaskClient, path: str) -> None:
    signed_in(client)
    response = client.get(path)
    assert response.status_code == 200
    assert_strict_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.get("/lang/en"),
        lambda c: c.get("/account"),
        lambda c: c.post("/login", data={"codename": "x"}),
        lambda c: c.post("/submit", data=b"\x00", content_type="multipart/form-data"),
        lambda c: c.get("/static/style.css"),
        lambda c: c.get("/keys.json"),
    ],
    ids=["redirect", "login-redirect", "csrf-refusal", "malformed", "stylesheet", "keys-json"],
)
def test_redirects_errors_and_assets_carry_the_strict_headers(
    client: FlaskClient, send: Callable[[FlaskClient], TestResponse]
) -> None:
    response = send(client)
    try:
        assert_strict_headers(response)
    finally:
        response.close()


class _Fields(HTMLParser):
    """Each form of a page: its `autocomplete` and the names of the fields in it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str | None, set[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("autocomplete"), set()))
        elif tag in {"input", "textarea", "select"} and self.forms and a.get("name"):
            self.forms[-1][1].add(a["name"] or "")


@pytest.mark.parametrize("path", ["/submit", "/login", "/account"])
def test_no_form_lets_the_browser_keep_what_the_source_typed(
    client: FlaskClient, path: str
) -> None:
    # A phone taken with the browser open: Back to a form refills it with what was
    # typed there (the report, its details, a codename) unless the form says not to.
    if path == "/account":
        signed_in(client)
    parser = _Fields()
    parser.feed(client.get(path).get_data(as_text=True))
    typed = [(auto, names) for auto, names in parser.forms if names - {"csrf_token"}]
    assert typed, "no form found"
    for autocomplete, names in typed:
        assert autocomplete == "off", sorted(names)


# --- Cookies -------------------------------------------------------------------


def test_a_first_visit_to_the_landing_page_sets_no_cookie(client: FlaskClient) -> None:
    assert "Set-Cookie" not in client.get("/").headers


def test_the_session_cookie_is_http_only_strict_and_ends_with_the_browser(
    client: FlaskClient,
) -> None:
    (cookie,) = client.get("/submit").headers.getlist("Set-Cookie")
    name, *attributes = [a.strip().lower() for a in cookie.split(";")]
    assert name.startswith("rz=")
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    # No lifetime: the browser forgets it on New Identity or when it closes.
    assert not [a for a in attributes if a.startswith(("expires", "max-age"))]


def test_the_session_cookie_reveals_nothing(client: FlaskClient, app: Flask) -> None:
    visitor, codename = signed_in(client)
    value = session_cookie(client)
    with db_session(app) as session:
        source = session.get(Source, source_id(app, codename))
        assert source is not None
    secret = derive_source_keys(
        codename, app.config["CODENAME_SALT"], app.config["CODENAME_KDF"]
    ).private_key.secret_bytes()
    visible = [source.id, *source.designation.split(), *codename.split(), b64encode(secret)]
    for text in visible:
        assert text not in value
    # Not Flask's default either (base64 JSON, signed but readable).
    assert not value.startswith("eyJ")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert secret not in raw
    assert source.id.encode() not in raw
    with pytest.raises((UnicodeDecodeError, json.JSONDecodeError)):
        json.loads(raw)
    # Sealed anew on each response: the same session never shows the same cookie twice.
    visitor.get("/account")
    assert session_cookie(client) != value


@pytest.mark.parametrize("position", [0, 12, 40, -2, -1])
def test_a_tampered_cookie_starts_a_fresh_session(client: FlaskClient, position: int) -> None:
    signed_in(client)
    value = list(session_cookie(client))
    value[position] = "B" if value[position] == "A" else "A"
    client.set_cookie("rz", "".join(value))
    assert shows_login(client.get("/account"))


def test_a_cookie_from_another_instance_opens_nothing(
    client: FlaskClient, make_app: Callable[..., Flask]
) -> None:
    signed_in(client)
    other = make_app(SECRET_KEY=b"\x01" * 32).test_client()
    other.set_cookie("rz", session_cookie(client))
    assert shows_login(other.get("/account"))


class _Later:
    """`time` for `app.sessions`, some seconds ahead of the real clock."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


def test_a_session_left_idle_logs_out_and_activity_keeps_it(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client = make_app(SESSION_IDLE_SECONDS=60).test_client()
    signed_in(client)
    later.ahead = 50
    assert holds_login(client.get("/account"))
    later.ahead = 100  # idle 50 s since the last page: still in
    assert holds_login(client.get("/account"))
    later.ahead = 161  # idle 61 s
    assert shows_login(client.get("/account"))


def test_logging_out_leaves_the_browser_without_the_account(client: FlaskClient) -> None:
    visitor, _ = signed_in(client)
    assert visitor.log_out().status_code == 200
    assert shows_login(client.get("/account"))


def test_log_out_pressed_in_a_tab_whose_token_went_stale_still_ends_the_login(
    client: FlaskClient,
) -> None:
    # Two tabs: one shows the account page; in the other the source logs out, and back in.
    # "Log out" pressed in the first carried the token that logout cleared: it was refused
    # as "The form expired", and the login it was pressed to end stayed live on the phone.
    visitor, codename = signed_in(client)
    stale = visitor.action_token()
    visitor.log_out()
    assert visitor.logs_in(codename)
    # As Tor Browser sends a form of this site's own page (another site's is refused: 403).
    sent = client.post(
        "/logout", data={"csrf_token": stale}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert sent.status_code == 200, sent.status_code
    assert client.get_cookie("rz") is None
    assert shows_login(client.get("/account")), "the login Log out was pressed to end is live"


@pytest.mark.parametrize("lang", ["ur", "en"])
def test_logging_out_leaves_the_browser_nothing_of_the_site(client: FlaskClient, lang: str) -> None:
    # A phone taken after the source logged out but before New Identity: a cookie
    # still held for the onion says the browser was there (Tor Browser lists the
    # sites that hold data), and its language what the source reads.
    visitor, _ = signed_in(client)
    client.get(f"/lang/{lang}")
    response = client.post("/logout", data={"csrf_token": visitor.action_token()})
    # Shown in place: a redirect to /logged-out?lang=ur left that address in the history.
    assert response.status_code == 200
    assert "Location" not in response.headers
    cleared = {v.strip() for v in response.headers.get("Clear-Site-Data", "").split(",")}
    assert {'"cache"', '"cookies"', '"storage"'} <= cleared
    assert client.get_cookie("rz") is None
    # The advice is still in the source's language, and the switch on it still works.
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    other = "en" if lang == "ur" else "ur"
    switch = re.search(r'<a class="lang" href="([^"]+)"', page)
    assert switch is not None
    switched = client.get(html.unescape(switch.group(1)), follow_redirects=True)
    assert f'<html lang="{other}"' in switched.get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------


def _post_routes(app: Flask) -> list[str]:
    """Every route that takes a POST, with a well-formed id for any variable part.

    The JSON API is left out: it is the one CSRF exemption (see `app.api`), and
    its requests are refused without a signed request proof instead. So are the
    staff pages, which answer only on the staff listener: their CSRF checks are
    tested there (tests/app/staff/test_staff_auth.py, test_staff_admin.py).
    """
    return sorted(
        re.sub(r"<[^>]+>", "0" * 32, rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and not rule.endpoint.startswith(("api.", "staff."))
    )


def test_the_api_is_the_only_csrf_exemption_and_refuses_a_post_without_a_proof(
    app: Flask, client: FlaskClient
) -> None:
    csrf = app.extensions["csrf"]
    assert {bp.name for bp in csrf._exempt_blueprints} == {"api"}
    assert not csrf._exempt_views
    for path in ("/api/v1/sources", "/api/v1/uploads"):
        response = client.post(path, data=b"{}", content_type="application/json")
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "unauthorized"


# The report forms: a refused token gives the form back (app.source.views.gives_back).
GIVEN_BACK = frozenset({"/submit", "/account"})


def test_the_app_under_test_has_csrf_on(app: Flask) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert {"/submit", "/login", "/logout", "/account"} <= set(_post_routes(app))


@pytest.mark.parametrize("token", [None, "", "forged", "another-session"])
def test_every_post_route_refuses_a_request_without_its_token(
    app: Flask, client: FlaskClient, token: str | None
) -> None:
    codename = signed_in(client)[1]
    if token == "another-session":
        token = form(Visitor(app.test_client()).get("/login"), "/login").fields["csrf_token"]
    data = {"codename": codename, "message": "hi"}
    if token is not None:
        data["csrf_token"] = token
    for route in _post_routes(app):
        response = client.post(route, data=data)
        shown = response.get_data(as_text=True)
        if route in GIVEN_BACK:
            # A report's form is given back to send again, never taken without its token.
            assert response.status_code in (400, 401), route
            assert message_box(shown) == "hi", route
            assert [f.action for f in forms(shown)] == ["/account"], route
            continue
        if route == "/login":
            # The codename typed is given back, not tried: Continue sends it with a token.
            assert response.status_code == 400, route
            assert "your codename was not tried" in shown, route
            assert f"{codename}</textarea>" in shown, route
            continue
        assert response.status_code == 400, route
        assert "The form expired" in shown, route
    assert row_counts(app, Item) == {"items": 1}


# --- Replies belong to their source ---------------------------------------------


def test_a_source_cannot_delete_another_sources_reply(
    app: Flask, client: FlaskClient, instance: Path
) -> None:
    _, owner = signed_in(app.test_client())
    visitor, _ = signed_in(client)
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_id = reply_to(app, owner, "for the first source only", signer)
    response = client.post(
        "/replies/delete", data={"csrf_token": visitor.action_token(), "reply": reply_id}
    )
    # Answered as a deletion is (tests/app/source/test_exchange_shape.py), and deletes nothing.
    assert response.status_code == 303
    with db_session(app) as session:
        assert session.get(Reply, reply_id) is not None


@pytest.mark.parametrize("reply_id", ["..%2F..%2Fsecret_key", "0" * 32, "Z" * 32, "x" * 5000])
def test_deleting_a_reply_that_is_not_there_deletes_nothing(
    client: FlaskClient, instance: Path, reply_id: str
) -> None:
    visitor, _ = signed_in(client)
    response = client.post(
        "/replies/delete", data={"csrf_token": visitor.action_token(), "reply": reply_id}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert (instance / "secret_key").exists()


# --- No lockouts -----------------------------------------------------------------


def test_wrong_codenames_never_lock_out_the_right_one(
    make_app: Callable[..., Flask],
) -> None:
    # Two apps on one database, as two gunicorn workers are; far more guesses
    # than the old shared limit (60) allowed before it refused everybody.
    first, second = make_app(), make_app()
    visitor, codename = signed_in(first.test_client())
    visitor.log_out()
    one, two = Visitor(first.test_client()), Visitor(second.test_client())
    for n in range(70):
        assert not (one, two)[n % 2].logs_in(generate_codename())
    for browser in (one, two):
        assert browser.logs_in(codename)


# --- The Tor Browser warning ------------------------------------------------------


def warning(app: Flask, agent: str, base_url: str = ONION, **headers: str) -> str | None:
    """The warning the landing page shows this browser (in English), if any."""
    client = app.test_client()
    client.get("/lang/en", base_url=base_url)
    html = client.get("/", base_url=base_url, headers={"User-Agent": agent, **headers}).get_data(
        as_text=True
    )
    match = re.search(r'<p class="note warn">([^<]*)</p>', html)
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Tor2web": "encrypted"},
        {"X-Forwarded-For": "198.51.100.7"},
        {"X-Forwarded-Host": "example.onion.ly"},
        {"Via": "1.1 tor2web"},
    ],
    ids=["x-tor2web", "x-forwarded-for", "x-forwarded-host", "via"],
)
def test_a_visit_through_a_tor2web_proxy_is_warned(app: Flask, headers: dict[str, str]) -> None:
    shown = warning(app, TOR_BROWSER_DESKTOP, **headers)
    assert shown is not None
    assert "Tor2web" in shown


@pytest.mark.parametrize("agent", [CHROME, "curl/8.5.0", "", TOR_BROWSER_DESKTOP + " Extra/1.0"])
def test_a_browser_that_is_not_tor_browser_is_warned(app: Flask, agent: str) -> None:
    shown = warning(app, agent)
    assert shown is not None
    assert "does not look like Tor Browser" in shown


@pytest.mark.parametrize("agent", [TOR_BROWSER_DESKTOP, TOR_BROWSER_PHONE])
def test_tor_browser_on_the_onion_address_sees_no_warning(app: Flask, agent: str) -> None:
    assert warning(app, agent) is None


def test_tor_browser_away_from_the_onion_address_is_warned(app: Flask) -> None:
    shown = warning(app, TOR_BROWSER_DESKTOP, base_url="http://raazdar.example.org")
    assert shown is not None
    assert "onion address" in shown


# --- Logs ------------------------------------------------------------------------


def test_a_source_reading_a_forged_reply_leaves_no_log_line(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Every journal line carries its time: a line at each view dated the source's visit.

    A reply stops verifying once its signer leaves the keyring (a rotation), so
    every source with an older reply would have been dated at every visit.
    """
    caplog.set_level(logging.DEBUG, logger="app")
    visitor, codename = signed_in(app.test_client())
    reply_to(app, codename, "forged", SigningKey.generate())
    caplog.clear()
    page = visitor.get("/account")
    assert "This reply could not be verified" in page  # the source is told
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("app")]
    assert logged == [], f"a source's visit was logged: {logged}"


def test_nothing_logged_names_a_codename_an_address_or_a_browser(
    app: Flask,
    instance: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="app")
    agent = "Mozilla/5.0 (X11; Distinctive-Agent-4b1d) Gecko/20100101 Firefox/115.0"
    address = "203.0.113.77"
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    visitor, codename = signed_in(client)
    # A reply that does not verify (it logs nothing: test_a_source_reading_a_forged_reply_…).
    reply_to(app, codename, "forged", SigningKey.generate())
    visitor.get("/account")
    visitor.log_out()
    visitor.log_in(generate_codename())
    visitor.log_in(codename.rsplit(" ", 1)[0])
    visitor.log_in(codename)
    client.post("/logout", data={})
    client.get("/no-such-page")
    logging.getLogger("app.witness").warning("the witness line")
    logged = caplog.text + "".join(capfd.readouterr())
    assert "the witness line" in logged, "the log was not captured"
    with db_session(app) as session:
        (source,) = session.execute(select(Source)).scalars()
    words = codename.split()
    pairs = [" ".join(words[i : i + 2]) for i in range(len(words) - 1)]
    for secret in [codename, *pairs, agent, "Distinctive-Agent", address]:
        assert secret not in logged, secret
    assert source.id not in logged
    assert source.designation not in logged
