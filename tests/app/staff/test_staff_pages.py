"""Staff pages: English first, Urdu right to left on request, own stylesheet, nothing outside."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.app.staff_support import login, make_staff, staff_client

# Attributes that could fetch from elsewhere, or carry script or style the CSP refuses.
_OUTSIDE = re.compile(r"""(?:src|href|action)=["'](?:https?:)?//""", re.IGNORECASE)
_INLINE = re.compile(r"<script|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    client = staff_client(app)
    login(client, app, make_staff(app, "amina", role="admin"))
    return client


def staff_pages(app: Flask) -> list[str]:
    """Every staff page a GET opens without arguments (from the URL map: none is forgotten)."""
    pages = sorted(
        str(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint not in {"staff.login", "staff.enrol"}
    )
    assert len(pages) >= 7, pages
    return pages


def page_language(html: str) -> tuple[str, str]:
    found = re.search(r'<html lang="([a-z]+)" dir="([a-z]+)">', html)
    assert found is not None
    return found.group(1), found.group(2)


def test_staff_pages_start_in_english(app: Flask) -> None:
    html = staff_client(app).get("/staff/login").get_data(as_text=True)
    assert page_language(html) == ("en", "ltr")
    assert "Staff login" in html


def test_every_staff_page_is_in_urdu_right_to_left_once_chosen(
    app: Flask, admin: FlaskClient
) -> None:
    switched = admin.get("/staff/language/ur?next=/staff/admin/accounts")
    assert switched.status_code == 303
    assert switched.headers["Location"] == "/staff/admin/accounts"
    for path in staff_pages(app):
        response = admin.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert page_language(html) == ("ur", "rtl"), path
        assert 'href="/staff/language/en?next=' in html, path
    assert "ڈیش بورڈ" in admin.get("/staff/").get_data(as_text=True)
    fresh = staff_client(app).get("/staff/language/ur?next=/staff/login", follow_redirects=True)
    assert "عملے کا لاگ اِن" in fresh.get_data(as_text=True)


def test_every_staff_page_has_the_staff_stylesheet_and_nothing_from_outside(
    app: Flask, admin: FlaskClient
) -> None:
    for path in [*staff_pages(app), "/staff/login"]:
        client = admin if path != "/staff/login" else staff_client(app)
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert '<link rel="stylesheet" href="/static/staff.css">' in html, path
        assert _OUTSIDE.search(html) is None, path
        assert _INLINE.search(html) is None, path
        assert '<nav class="staff-nav"' in html or path == "/staff/login", path


def test_the_staff_stylesheet_is_served_and_styles_password_boxes(app: Flask) -> None:
    response = staff_client(app).get("/static/staff.css")
    assert response.status_code == 200
    assert "input[type=password]" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example/", "//elsewhere.example/", "/lang/en"]
)
def test_the_switch_goes_back_only_to_a_staff_page(app: Flask, target: str) -> None:
    response = staff_client(app).get(f"/staff/language/en?next={target}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


def test_an_unknown_language_is_not_found(app: Flask) -> None:
    assert staff_client(app).get("/staff/language/fr").status_code == 404
