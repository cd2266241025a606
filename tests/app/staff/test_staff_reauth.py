"""Recent authentication: an admin page's change needs the password and a code given lately."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import sessions
from app.db import db_session as app_db_session
from app.models import StaffAccount
from app.services.audit import CONSOLE
from app.settings import get_setting, taxonomy
from tests.app.staff.test_staff_admin import (
    Staff,
    account,
    admin_actions,
    audit_actions,
    audit_count,
    staff_browser,
)
from tests.app.staff_support import StaffUser, fresh_code, login, make_staff
from tests.app.support import db_session, form, login_grants

# Past STAFF_REAUTH_SECONDS: a session left open on a desk since the morning.
LONG_AGO = 60 * 60
CONFIRM = "Confirm it is you"
# The one change a recent confirmation still lets through (no file given: its form says so,
# 400, once past the gate).
WINDOWED = ("/staff/admin/keyring/install", {"manifest": ""})


@pytest.fixture
def root(app: Flask) -> StaffUser:
    return make_staff(app, "root", role="admin")


@pytest.fixture
def idle_admin(app: Flask, root: StaffUser) -> Staff:
    """An administrator's session whose password and code were given an hour ago."""
    return staff_browser(app).log_in(root.id, authenticated_ago=LONG_AGO)


def _role(app: Flask, username: str) -> str | None:
    with db_session(app) as session:
        query = select(StaffAccount.role).where(StaffAccount.username == username)
        return session.scalar(query)


def test_a_session_open_for_long_makes_no_admin_change(app: Flask, idle_admin: Staff) -> None:
    """A taken session (an unlocked laptop) makes no admin, resets no one, installs nothing."""
    actions = admin_actions(app)
    before = audit_count(app)
    for path, data in actions:
        response = idle_admin.post(path, data)
        assert response.status_code == 401, f"{path} changed without the password: {response}"
        assert CONFIRM in idle_admin.text(response), path
    assert audit_count(app) == before
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"
    assert _role(app, "newcomer") is None


def test_the_password_and_a_code_send_the_change_on_with_what_was_typed(
    app: Flask, idle_admin: Staff, root: StaffUser
) -> None:
    asked = idle_admin.post("/staff/admin/accounts/new", {"username": "deputy", "role": "staff"})
    assert asked.status_code == 401
    page = form(asked.get_data(as_text=True), "/staff/admin/accounts/new")
    assert page.fields["username"] == "deputy"
    assert page.fields["role"] == "staff"
    fields = {**page.fields, "reauth_password": root.password, "reauth_code": fresh_code(app, root)}
    done = idle_admin.client.post("/staff/admin/accounts/new", data=fields)
    assert done.status_code == 200, done.status_code
    assert _role(app, "deputy") == "staff"
    assert audit_actions(app)[-2:] == ["staff-reauthenticated", "staff-added"]
    # For the next few minutes this session's keyring install goes through at once (to its
    # form's own checks: no file, 400); every other change the pages offer, the export among
    # them, asks each time (`app.staff.reauth.EACH_TIME`).
    moved = idle_admin.post(*WINDOWED)
    assert (moved.status_code, CONFIRM in idle_admin.text(moved)) == (400, False)
    assert idle_admin.post("/staff/export", {"since": ""}).status_code == 401


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_changes_nothing_and_counts(
    app: Flask, idle_admin: Staff, root: StaffUser, wrong: str
) -> None:
    data = {
        "username": "deputy",
        "role": "staff",
        "reauth_password": "not the password" if wrong == "password" else root.password,
        "reauth_code": "000000" if wrong == "code" else fresh_code(app, root),
    }
    refused = idle_admin.post("/staff/admin/accounts/new", data)
    assert refused.status_code == 401
    assert "The password or code is wrong" in idle_admin.text(refused)
    assert _role(app, "deputy") is None
    assert "staff-reauthenticated" not in audit_actions(app)


def test_a_session_ended_by_its_owner_s_wrong_codes_says_tries_failed_not_passwords(
    app: Flask, idle_admin: Staff, root: StaffUser
) -> None:
    """A confirmation's wrong codes count against the session as wrong passwords do: the
    administrator who typed her right password with spent codes was told at the end
    "Too many wrong passwords", of a password that was right."""
    data = {"username": "deputy", "role": "staff"}
    data |= {"reauth_password": root.password, "reauth_code": "000000"}
    for _ in range(int(app.config["STAFF_LOGIN_FAILURES"])):
        assert idle_admin.post("/staff/admin/accounts/new", data).status_code == 401
    ended = idle_admin.post("/staff/admin/accounts/new", data)
    assert ended.status_code == 303
    said = idle_admin.text(idle_admin.client.get(ended.headers["Location"]))
    assert "wrong passwords" not in said, "a right password's wrong codes were called so"
    assert "Too many failed tries at the password and code: this session has ended." in said
    assert _role(app, "deputy") is None


def test_a_change_asked_each_time_is_not_said_to_hold_a_confirmation_for_minutes(
    app: Flask, root: StaffUser
) -> None:
    """Most admin changes ask the password and a code every time (`reauth.EACH_TIME`): the
    page said they needed them "given in the last 10 minutes" to an administrator who had
    given them a minute before, and who looked for what she had done wrong."""
    lately = staff_browser(app).log_in(root.id, authenticated_ago=60)
    asked = lately.post("/staff/admin/accounts/new", {"username": "deputy", "role": "staff"})
    assert asked.status_code == 401
    assert "given in the last" not in lately.text(asked), "a minute-old confirmation was enough"
    assert "This needs your password and a fresh code" in lately.text(asked)
    # The keyring install alone goes through on a confirmation given lately: said so there.
    idle = staff_browser(app).log_in(root.id, authenticated_ago=LONG_AGO)
    windowed = idle.post(*WINDOWED)
    assert windowed.status_code == 401
    assert "given in the last 10 minutes" in idle.text(windowed)


def test_a_confirmation_holds_for_its_own_session_only(
    app: Flask, idle_admin: Staff, root: StaffUser
) -> None:
    other = staff_browser(app).log_in(root.id, authenticated_ago=LONG_AGO)
    confirmed = idle_admin.post(
        "/staff/admin/settings/resources",
        {
            "resources_en": "Help here",
            "resources_ur": "مدد",
            "reauth_password": root.password,
            "reauth_code": fresh_code(app, root),
        },
    )
    assert confirmed.status_code == 303
    assert other.post("/staff/admin/accounts/new", {"username": "deputy"}).status_code == 401


def test_a_file_chosen_is_asked_for_again(app: Flask, idle_admin: Staff) -> None:
    response = idle_admin.client.post(
        "/staff/admin/keyring/install",
        data={"csrf_token": idle_admin.token(), "file": (io.BytesIO(b"{}"), "m")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401
    shown = response.get_data(as_text=True)
    assert 'type="file"' in shown
    assert 'enctype="multipart/form-data"' in shown


def _id(app: Flask, username: str) -> str:
    with db_session(app) as session:
        found = session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
        assert found is not None
        return found


def test_a_password_change_confirms_no_admin_change(
    app: Flask, idle_admin: Staff, root: StaffUser
) -> None:
    """Whoever holds the session and saw the password changes it, and its fresh session
    counted as a login's: every admin change went through with no code."""
    new = "seven unrelated words for the new passphrase"
    typed = {"current": root.password, "new": new, "repeated": new, "code": fresh_code(app, root)}
    changed = idle_admin.post("/staff/account/password", typed)
    assert changed.status_code == 303
    response = idle_admin.post("/staff/admin/accounts/new", {"username": "deputy", "role": "staff"})
    assert response.status_code == 401, "a password change stood in for the code"
    assert _role(app, "deputy") is None


def test_a_page_loaded_meanwhile_undoes_nothing_the_session_row_was_given(
    app: Flask, idle_admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page load that moves the idle deadline re-sealed the row as it had read it: a wrong
    password counted meanwhile (or a confirmation given) was undone, so whoever held the
    session could guess the password on and on, loading a page beside each guess."""
    cookie = idle_admin.client.get_cookie("rz")
    assert cookie is not None
    sealing = sessions._seal
    counted: list[bool] = []

    def guess_meanwhile(key: bytes, row_id: str, payload: dict[str, Any]) -> str:
        if not counted:
            counted.append(True)

            def count() -> None:
                with app.test_request_context("/", headers={"Cookie": f"rz={cookie.value}"}):
                    counted.append(
                        sessions.regrant(
                            app_db_session(), lambda g: {**g, "staff": {**g["staff"], "wrong": 3}}
                        )
                    )

            thread = threading.Thread(target=count)
            thread.start()
            thread.join(timeout=30)
        return sealing(key, row_id, payload)

    later = time.time() + app.config["SESSION_IDLE_SECONDS"] // 5
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(sessions, "_seal", guess_meanwhile)
    assert idle_admin.client.get("/staff/").status_code == 200
    assert counted == [True, True]
    grants = login_grants(app, idle_admin.client)
    assert grants is not None
    assert grants["staff"].get("wrong") == 3, "a page load undid a wrong password counted"


def _copy_cookie(app: Flask, source: Staff) -> Staff:
    """Another browser holding a copy of `source`'s cookie as it stands now."""
    cookie = source.client.get_cookie("rz")
    assert cookie is not None
    thief = staff_browser(app)
    thief.client.set_cookie("rz", cookie.value)
    return thief


def test_a_cookie_copied_at_the_login_makes_no_admin_change(app: Flask, root: StaffUser) -> None:
    """The cookie a real login set is copied (malware, a backup of the browser profile, a
    look over the network's end): the login's code counted as a confirmation for ten
    minutes, for the copy too, which made an administrator of its own."""
    owner = staff_browser(app)
    login(owner.client, app, root)
    thief = _copy_cookie(app, owner)
    assert owner.client.get("/staff/").status_code == 200  # the login's redirect, followed

    taken = thief.post(*WINDOWED)
    assert taken.status_code == 401, "a copied cookie used the login's confirmation"
    assert CONFIRM in thief.text(taken)


def test_a_copy_used_first_costs_both_the_confirmation(app: Flask, root: StaffUser) -> None:
    """Whoever uses a copy before its owner's next page gets no more than one change: the
    owner's next request finds the session used elsewhere, and neither goes on unconfirmed."""
    owner = staff_browser(app)
    login(owner.client, app, root)
    thief = _copy_cookie(app, owner)
    moved = thief.post(*WINDOWED)
    assert moved.status_code == 400  # the copy's one change of those a confirmation lets through
    for browser, name in ((owner, "owner"), (thief, "thief")):
        asked = browser.post(*WINDOWED)
        assert asked.status_code == 401, f"{name}: the session went on unconfirmed"


def test_the_login_still_confirms_its_own_browsers_next_changes(
    app: Flask, root: StaffUser
) -> None:
    owner = staff_browser(app)
    login(owner.client, app, root)
    assert owner.client.get("/staff/").status_code == 200  # a page between: a new word
    done = owner.post(*WINDOWED)
    assert done.status_code == 400, done.status_code  # past the gate, to the form's checks


GENERAL = {"upload_limit_mib": "500", "retention_days": "90", "source_expiry_days": "365"}


def _labels(app: Flask) -> str:
    with db_session(app) as session:
        return " ".join(t.label_en for terms in taxonomy(session).values() for t in terms)


def _order(app: Flask) -> list[str]:
    """The submission form's terms, in the order a source sees them."""
    with db_session(app) as session:
        return [f"{group}/{t.code}" for group, terms in taxonomy(session).items() for t in terms]


def _legal_aid_page(app: Flask) -> str:
    with db_session(app) as session:
        return str(get_setting(session, "resources_en"))


@pytest.mark.parametrize(
    "change",
    [
        "legal-aid-page",
        "organisation",
        "reset-password",
        "reset-2fa",
        "remove",
        "new-account",
        "relabel",
        "new-term",
        "move-term",
        "remove-term",
        "promote",
    ],
)
def test_a_copy_used_before_its_browsers_next_page_makes_no_change_of_the_highest_harm(
    app: Flask, root: StaffUser, change: str
) -> None:
    """A cookie copied at the login and used before its browser's next page still had the
    login's confirmation for one change: the legal-aid page rewritten with a number the
    accused answer, or a colleague's account taken over (a new passphrase shown to the copy)."""
    clerk = make_staff(app, "clerk", actor=CONSOLE)
    owner = staff_browser(app)
    login(owner.client, app, root)
    thief = _copy_cookie(app, owner)
    held = account(app, clerk.id)
    assert held is not None
    before = (_legal_aid_page(app), held.epoch, _order(app), "staff")
    if change == "legal-aid-page":
        path, data = "/staff/admin/settings/resources", {"resources_en": "Call 0300-0000000"}
        data["resources_ur"] = "0300-0000000"
    elif change == "organisation":
        # The name heads every source page: "Raazdar has moved: use <an onion of the accused>".
        path, data = "/staff/admin/settings/general", {**GENERAL, "organisation": "0300-0000000"}
    elif change in ("relabel", "new-term"):
        # A label is shown to every source on the form: it can say what the legal-aid page says.
        path = "/staff/admin/taxonomy/agency/" + ("fia/labels" if change == "relabel" else "add")
        data = {"code": "call", "label_en": "Call 0300-0000000 first", "label_ur": "0300-0000000"}
    elif change in ("move-term", "remove-term"):
        # What a source can say: the agency she accuses gone from the form, or moved down
        # below the others.
        path = "/staff/admin/taxonomy/agency/fia/" + ("move" if change == "move-term" else "remove")
        data = {"direction": "up"}
    elif change == "promote":
        # A colleague (the thief herself, at a desk beside the owner's) made an administrator.
        path, data = f"/staff/admin/accounts/{clerk.id}/role", {"role": "admin"}
    elif change == "new-account":
        path, data = "/staff/admin/accounts/new", {"username": "foothold", "role": "staff"}
    else:
        path, data = f"/staff/admin/accounts/{clerk.id}/{change}", {"confirm": "y"}
    taken = thief.post(path, data)
    row = account(app, clerk.id)
    made = (_legal_aid_page(app), row.epoch if row else None, _order(app), _role(app, "clerk"))
    assert (*made, _role(app, "foothold")) == (*before, None), "the copy's one change was made"
    assert "0300-0000000" not in _labels(app), "the copy's one change was made"
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar", "the copy renamed the site"
    assert taken.status_code == 401
    assert CONFIRM in thief.text(taken)
    # Its owner, asked the password and a fresh code, makes it.
    asked = owner.post(path, data)
    assert asked.status_code == 401
    page = form(asked.get_data(as_text=True), path)
    fields = {**page.fields, "reauth_password": root.password, "reauth_code": fresh_code(app, root)}
    assert owner.client.post(path, data=fields).status_code in (200, 303)


def test_a_second_change_with_the_same_code_says_to_wait_for_the_next(
    app: Flask, idle_admin: Staff, root: StaffUser
) -> None:
    """Two changes of the highest harm in a row: the code the first spent is refused for the
    second (a code taken twice would be a code whoever saw it could take too), and the page
    said only "the password or code is wrong", so its owner doubted her password."""
    code = fresh_code(app, root)
    first = {"resources_en": "Help here", "resources_ur": "مدد"}
    confirm = {"reauth_password": root.password, "reauth_code": code}
    done = idle_admin.post("/staff/admin/settings/resources", {**first, **confirm})
    assert done.status_code == 303
    before = _order(app)
    again = idle_admin.post("/staff/admin/taxonomy/agency/fia/move", {"direction": "up", **confirm})
    assert again.status_code == 401
    assert _order(app) == before
    said = idle_admin.text(again)
    assert "or the code was used already" in said, "the page blamed the password"
    assert "wait for the next one" in said
