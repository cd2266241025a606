"""Access control built from the app's url_map, not from a list someone must remember.

Every staff route but the few a stranger must reach refuses a caller without a staff
session; every route of `app/staff/admin.py` refuses a staff member who is not an
admin; every source route but the public ones refuses a caller without a source
session. A new route missing its decorator fails here. POSTs carry a valid CSRF token,
so that what refuses them is the access check, not CSRF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.app.staff_support import login, login_token, make_staff, page_token, staff_client
from tests.app.support import Visitor, form, forms, shows_login

# What a stranger must reach to log in at all, or to leave.
STAFF_PUBLIC = frozenset({"staff.login", "staff.logout", "staff.set_language"})
# The source pages a visitor with no codename (yet) may see or use.
SOURCE_PUBLIC = frozenset(
    {
        "source.index",
        "source.login",
        "source.logout",
        "source.logged_out",
        "source.submit",
        "source.keys",
        "source.keys_json",
        "source.resources",
        "source.set_language",
    }
)

# A report sent once its login ended is given back, asking for the codename (401), not
# sent to the login page: it must be nothing but that form (no account, no replies).
GIVEN_BACK = frozenset({("source.account", "POST")})
# Pages that show a caller with no login the login page in place (its form posts to /login).
SHOWN_LOGIN = frozenset({("source.account", "GET"), ("source.submitted", "GET")})


def _rules(app: Flask, prefix: str) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(prefix)]
    assert rules, prefix
    return sorted(rules, key=lambda r: r.endpoint)


def _path(rule: Rule) -> str:
    """The rule with a made-up value in each variable part."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def _calls(
    client: FlaskClient, rules: list[Rule], token: str
) -> Iterator[tuple[str, str, TestResponse]]:
    """Call every method of every rule (POSTs with a valid CSRF token): endpoint, method, answer."""
    for rule in rules:
        for method in sorted(_methods(rule)):
            data = {"csrf_token": token} if method == "POST" else None
            yield rule.endpoint, method, client.open(_path(rule), method=method, data=data)


def _assert_sent_to_login(
    client: FlaskClient, rules: list[Rule], token: str, login_path: str
) -> int:
    """Every call is sent to the login page (not a 404 for the made-up id, which proves nothing)."""
    checked = 0
    for endpoint, method, response in _calls(client, rules, token):
        if (endpoint, method) in GIVEN_BACK:
            shown = response.get_data(as_text=True)
            assert response.status_code == 401, (endpoint, method, response.status_code)
            assert [f.action for f in forms(shown)] == [response.request.path], endpoint
            assert 'name="codename"' in shown, endpoint
            checked += 1
            continue
        if (endpoint, method) in SHOWN_LOGIN:
            # The login page in place: a redirect to it and a second answer, where a
            # signed-in source got one, said the browser held no login.
            assert shows_login(response), (endpoint, method, response.status_code)
            checked += 1
            continue
        if response.status_code == 303 and response.headers["Location"] == "/account":
            response = client.get("/account")  # a deletion leads there, as a signed-in one's
            assert shows_login(response), (endpoint, method, response.status_code)
            checked += 1
            continue
        location = response.headers.get("Location", "").partition("?")[0]
        assert response.status_code in (302, 303), (endpoint, method, response.status_code)
        assert location == login_path, (endpoint, method, location)
        checked += 1
    return checked


def test_every_staff_route_but_the_login_refuses_a_caller_without_a_session(app: Flask) -> None:
    stranger = staff_client(app)
    private = [r for r in _rules(app, "staff.") if r.endpoint not in STAFF_PUBLIC]
    assert _assert_sent_to_login(stranger, private, login_token(stranger), "/staff/login") >= 20


def test_every_admin_route_refuses_a_staff_member_who_is_not_an_admin(app: Flask) -> None:
    member = staff_client(app)
    login(member, app, make_staff(app, "alice"))
    token = page_token(member)
    admin = [
        r
        for r in _rules(app, "staff.")
        if app.view_functions[r.endpoint].__module__ == "app.staff.admin"
    ]
    assert len(admin) >= 10
    for endpoint, method, response in _calls(member, admin, token):
        assert response.status_code == 403, (endpoint, method, response.status_code)
    assert member.get("/staff/").status_code == 200  # still logged in: refused, not thrown out


def test_every_admin_route_is_in_the_admin_module_and_under_the_admin_path(app: Flask) -> None:
    for rule in _rules(app, "staff."):
        in_module = app.view_functions[rule.endpoint].__module__ == "app.staff.admin"
        assert in_module == rule.rule.startswith("/staff/admin/"), rule.endpoint


def test_every_admin_route_is_marked_an_administrators_only_for_the_body_limit(app: Flask) -> None:
    # `app.limits` lets a bundle-sized body through to an admin page only for an
    # administrator, by this mark: an admin route without it read a staff member's 2 GiB.
    for rule in _rules(app, "staff."):
        view = app.view_functions[rule.endpoint]
        in_module = view.__module__ == "app.staff.admin"
        assert getattr(view, "admin_only", False) == in_module, rule.endpoint


def test_every_source_route_but_the_public_ones_refuses_a_caller_without_a_session(
    app: Flask, client: FlaskClient
) -> None:
    token = form(Visitor(client).get("/login"), "/login").fields["csrf_token"]
    private = [r for r in _rules(app, "source.") if r.endpoint not in SOURCE_PUBLIC]
    assert _assert_sent_to_login(client, private, token, "/login") >= 3


@pytest.mark.parametrize("endpoint", sorted(STAFF_PUBLIC | SOURCE_PUBLIC))
def test_every_public_endpoint_exists(app: Flask, endpoint: str) -> None:
    """A public list naming a route that is gone would hide nothing, but says the list is stale."""
    assert endpoint in {r.endpoint for r in app.url_map.iter_rules()}
