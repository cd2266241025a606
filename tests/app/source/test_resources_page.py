"""The legal-aid page says something true and useful, and nags until an administrator reviews it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import today
from app.operations.doctor import Status, Surroundings, diagnose
from app.settings import RESOURCES_PLACEHOLDER_EN, RESOURCES_PLACEHOLDER_UR, set_setting
from tests.app.staff.test_staff_admin import Staff, add_account, staff_browser
from tests.app.support import Visitor, db_session

# What each language must say: the two Acts, the kinds of bodies, that it is free.
MUST_SAY = {
    "en": [
        "Prevention of Trafficking in Persons Act 2018",
        "Prevention of Smuggling of Migrants Act 2018",
        "District Legal Empowerment Committees",
        "bar council",
        "free",
    ],
    "ur": ["2018", "ضلعی قانونی", "بار کونسل", "مفت", "غیر سرکاری تنظیمیں"],
}


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An administrator, logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "root", "admin"))


def _page(client: FlaskClient, lang: str) -> str:
    client.get(f"/lang/{lang}")
    return Visitor(client).get("/resources")


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_legal_aid_page_is_real_guidance(client: FlaskClient, lang: str) -> None:
    html = _page(client, lang)
    assert "[Placeholder]" not in html
    assert "[عارضی متن]" not in html
    for words in MUST_SAY[lang]:
        assert words in html, words
    # No number anyone could call and no address: nothing here can be cited for them.
    body = html[html.index("<main") :]
    assert not re.search(r"\d[\d\s-]{6,}\d", body)
    assert "@" not in body


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_an_instance_still_holding_the_placeholder_shows_the_guidance(
    app: Flask, client: FlaskClient, lang: str
) -> None:
    with db_session(app) as session:
        set_setting(session, "resources_en", RESOURCES_PLACEHOLDER_EN)
        set_setting(session, "resources_ur", RESOURCES_PLACEHOLDER_UR)
        session.commit()
    html = _page(client, lang)
    assert "[Placeholder]" not in html
    assert "[عارضی متن]" not in html
    assert MUST_SAY[lang][0] in html


def _resources(instance: Path) -> tuple[Status, str]:
    checks = diagnose(instance, today(), Surroundings(environ={}, tor_binary=None))
    (check,) = [c for c in checks if c.name == "resources"]
    return check.status, check.message


def test_doctor_warns_until_the_page_is_reviewed(app: Flask, instance: Path) -> None:
    status, words = _resources(instance)
    assert status is Status.WARN
    assert "legal-aid page" in words
    with db_session(app) as session:
        set_setting(session, "resources_reviewed", True)
        session.commit()
    assert _resources(instance)[0] is Status.OK


def test_the_settings_page_warns_until_an_admin_marks_the_page_reviewed(
    app: Flask, admin: Staff
) -> None:
    assert "not been reviewed" in admin.get("/staff/admin/settings")
    page = admin.get("/staff/admin/settings")
    assert 'name="resources_reviewed"' in page
    response = admin.post(
        "/staff/admin/settings/resources",
        {"resources_en": "Our own text", "resources_ur": "ہمارا متن", "resources_reviewed": "y"},
    )
    assert response.status_code == 303
    assert "not been reviewed" not in admin.get("/staff/admin/settings")
    # Saving without the box ticked takes the mark away again.
    response = admin.post(
        "/staff/admin/settings/resources",
        {"resources_en": "Changed text", "resources_ur": "بدلا ہوا متن"},
    )
    assert response.status_code == 303
    assert "not been reviewed" in admin.get("/staff/admin/settings")
