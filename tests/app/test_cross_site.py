"""A link from another site: the browser withholds the Strict cookie, and nothing may replace it.

A browser following a link (or a redirect, or a form) from another site sends
no `SameSite=Strict` cookie, but takes one from the answer. These tests act as
that browser: the cookie is withheld from the request, and any cookie the
answer sets replaces the one held, as it does in a real browser
(`test_browser.py` has the same attack in Chromium).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Final

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import sessions
from app.models import Item, Source
from tests.app.staff_support import login, make_staff, page_token, staff_client
from tests.app.support import Visitor, form, holds_login, multipart, row_counts, shown_codename

# What Tor Browser (Firefox ESR) and Chromium send when a page of another site is followed.
ELSEWHERE: Final = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
}
# ... and when a page of this site is (a link, a form, a refresh).
OWN_PAGE: Final = {**ELSEWHERE, "Sec-Fetch-Site": "same-origin"}
_REFRESH: Final = re.compile(r"0; url=(/[^\s]*)")


class _Later:
    """`time` for `app.sessions`, some seconds ahead of the real clock."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


def from_elsewhere(client: FlaskClient, path: str, method: str = "GET", **kw: Any) -> TestResponse:
    """Follow a link to `path` from another site: no Strict cookie sent, one set replaces it."""
    held = client.get_cookie("rz")
    client.delete_cookie("rz")
    try:
        response = client.open(path, method=method, headers=ELSEWHERE, **kw)
    finally:
        if held is not None and client.get_cookie("rz") is None:
            client.set_cookie("rz", held.value)
    return response


def retry_target(response: TestResponse) -> str:
    """Where the page that answered a link from elsewhere sends the browser next."""
    assert response.status_code == 200, response.status_code
    match = _REFRESH.fullmatch(response.headers.get("Refresh", ""))
    assert match is not None, response.headers.get("Refresh")
    target = match.group(1)
    assert f'href="{target}"' in response.get_data(as_text=True)  # for a browser that waits
    return target


def signed_in_source(client: FlaskClient) -> Visitor:
    """A source (in English) who has just reported, and so is signed in."""
    client.get("/lang/en")
    visitor = Visitor(client)
    visitor.filed(visitor.send(visitor.start(), "the SHO"))
    assert holds_login(client.get("/account"))
    return visitor


def assert_sets_no_cookie(response: TestResponse) -> None:
    assert response.headers.getlist("Set-Cookie") == []


# --- the attack: a signed-in source follows a link from another site -------------------


@pytest.mark.parametrize(
    "path", ["/", "/login", "/submit", "/account", "/lang/ur?next=/login", "/no-such-page"]
)
def test_a_link_from_another_site_leaves_the_source_signed_in(
    client: FlaskClient, path: str
) -> None:
    signed_in_source(client)
    before = client.get_cookie("rz")
    assert before is not None
    response = from_elsewhere(client, path)
    assert_sets_no_cookie(response)
    after = client.get_cookie("rz")
    assert after is not None
    assert after.value == before.value
    assert holds_login(client.get("/account", headers=OWN_PAGE))


@pytest.mark.parametrize("path", ["/account", "/submit", "/login", "/lang/ur?next=/login"])
def test_the_source_who_followed_the_link_reaches_the_page_with_their_cookie(
    client: FlaskClient, path: str
) -> None:
    signed_in_source(client)
    target = retry_target(from_elsewhere(client, path))
    assert target.partition("?")[0] == path.partition("?")[0]
    answer = client.get(target, headers=OWN_PAGE)
    # Signed in: the account page itself, or sent on to it (never the login form or a codename).
    if answer.status_code == 303:
        answer = client.get(answer.headers["Location"], headers=OWN_PAGE)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert shown_codename(html) is None
    assert holds_login(client.get("/account", headers=OWN_PAGE))


def test_a_link_from_another_site_does_not_wipe_the_lapsed_flag(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client: FlaskClient = make_app().test_client()
    signed_in_source(client)
    later.ahead = 31 * 60  # the login and the cookie ran out: "may have a codename"
    from_elsewhere(client, "/submit")
    # Back on this site, by the page that answered the link or by hand: no new codename.
    html = client.get("/submit", headers=OWN_PAGE).get_data(as_text=True)
    assert shown_codename(html) is None
    assert 'href="/login"' in html


def test_parameters_from_another_site_are_not_carried_into_the_retry(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "/submit?new=1" is the lapsed page's own link: only the visitor's choice, never a
    # link elsewhere, may say "I never sent anything".
    later = _Later()
    monkeypatch.setattr(sessions, "time", later)
    client: FlaskClient = make_app().test_client()
    signed_in_source(client)
    later.ahead = 31 * 60
    target = retry_target(from_elsewhere(client, "/submit?new=1"))
    assert "new=" not in target
    assert shown_codename(client.get(target, headers=OWN_PAGE).get_data(as_text=True)) is None


# --- the page that answers a link from elsewhere -------------------------------------------


def test_a_first_visit_from_a_link_gets_a_fresh_session_on_the_retry(app: Flask) -> None:
    newcomer = app.test_client()
    bounce = from_elsewhere(newcomer, "/submit")
    assert_sets_no_cookie(bounce)
    # The retry comes from this site's own page; this browser has no cookie to send.
    answer = newcomer.get(retry_target(bounce), headers=OWN_PAGE)
    assert answer.status_code == 200
    assert shown_codename(answer.get_data(as_text=True)) is not None
    assert newcomer.get_cookie("rz") is not None


def test_a_retry_that_arrives_from_elsewhere_again_does_not_refresh_again(app: Flask) -> None:
    browser = app.test_client()
    target = retry_target(from_elsewhere(browser, "/submit"))
    # A browser that calls its own refresh cross-site (a sandboxed popup's opaque origin):
    # the link stays for a person to follow, but no automatic loop.
    again = from_elsewhere(browser, target)
    assert again.status_code == 200
    assert "Refresh" not in again.headers
    assert f'href="{target}"' in again.get_data(as_text=True)
    assert_sets_no_cookie(again)


def test_the_page_says_nothing_and_points_only_at_this_site(app: Flask) -> None:
    signed = app.test_client()
    signed_in_source(signed)
    answers = [
        from_elsewhere(signed, "/account?x=<script>secret"),
        from_elsewhere(app.test_client(), "/account?x=<script>secret"),
    ]
    # The same page whether or not the browser holds a login: the server cannot tell.
    assert retry_target(answers[0]) == retry_target(answers[1])
    assert answers[0].get_data() == answers[1].get_data()
    body = answers[0].get_data(as_text=True)
    assert "secret" not in body
    assert "<script" not in body
    assert "Raazdar" not in body  # not even the organisation's name
    for header in ("Content-Security-Policy", "Referrer-Policy", "Cache-Control"):
        assert header in answers[0].headers
    assert answers[0].headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["//elsewhere.example/x", "/\\elsewhere.example", "/%2F/x"])
def test_the_retry_never_leaves_this_site(app: Flask, path: str) -> None:
    target = retry_target(from_elsewhere(app.test_client(), path))
    assert target.startswith("/")
    assert not target.startswith(("//", "/\\"))
    assert "\\" not in target


# --- what is not a link to follow ----------------------------------------------------------


def test_a_form_posted_from_another_site_is_refused_unread(app: Flask) -> None:
    client = app.test_client()
    visitor = signed_in_source(client)
    page = form(client.get("/account").get_data(as_text=True), "/account")
    body, content_type = multipart([*page.fields.items(), ("message", "forged")])
    before = row_counts(app, Source, Item)
    response = from_elsewhere(client, "/account", "POST", data=body, content_type=content_type)
    assert response.status_code == 403
    assert_sets_no_cookie(response)
    assert row_counts(app, Source, Item) == before
    assert visitor.get("/account")  # still signed in


def test_a_login_posted_from_another_site_is_refused(app: Flask) -> None:
    client = app.test_client()
    signed_in_source(client)
    response = from_elsewhere(client, "/login", "POST", data={"codename": "a b c"})
    assert response.status_code == 403
    assert_sets_no_cookie(response)
    assert holds_login(client.get("/account", headers=OWN_PAGE))


def test_a_link_to_the_staff_pages_leaves_the_staff_member_logged_in(app: Flask) -> None:
    member = staff_client(app)
    login(member, app, make_staff(app, "alice"))
    answer = from_elsewhere(member, "/staff/admin/accounts")
    assert_sets_no_cookie(answer)
    assert retry_target(answer) == "/staff/admin/accounts?from=elsewhere"
    assert member.get("/staff/", headers=OWN_PAGE).status_code == 200
    token = page_token(member)
    forged = from_elsewhere(member, "/staff/logout", "POST", data={"csrf_token": token})
    assert forged.status_code == 403
    assert member.get("/staff/").status_code == 200


def test_staff_pages_off_the_staff_listener_stay_a_plain_404(app: Flask) -> None:
    stranger = app.test_client()
    answer = from_elsewhere(stranger, "/staff/login")
    assert answer.status_code == 404
    assert_sets_no_cookie(answer)


@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-site"}]
)
def test_requests_not_from_another_site_are_served_as_before(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # curl, old browsers, a typed address or a bookmark: a session as always.
    answer = client.get("/submit", headers=headers)
    assert answer.status_code == 200
    assert shown_codename(answer.get_data(as_text=True)) is not None
    assert client.get_cookie("rz") is not None


def test_a_browser_that_sends_its_cookie_across_sites_is_served_as_before(
    client: FlaskClient,
) -> None:
    # A browser that ignores SameSite sends the cookie: nothing to protect by bouncing.
    signed_in_source(client)
    answer = client.get("/account", headers=ELSEWHERE)
    assert answer.status_code == 200
    assert "Refresh" not in answer.headers


def test_the_api_answers_other_sites_in_its_own_json(client: FlaskClient) -> None:
    answer = client.get("/api/v1/keyring", headers=ELSEWHERE)
    assert answer.status_code == 200
    assert answer.is_json
    refused = client.post("/api/v1/sources", headers=ELSEWHERE, json={})
    assert refused.is_json
    assert refused.status_code != 403
