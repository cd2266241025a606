"""The admin pages: who may see them, CSRF, staff accounts, settings and the taxonomy."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from app import settings as app_settings
from app.models import AuditEntry, StaffAccount, today
from app.operations import retention
from app.operations.tor.clients import StaffClients
from app.services import audit
from app.services import staff as staff_service
from app.settings import (
    RESOURCES_EN,
    RESOURCES_UR,
    SOURCE_EXPIRY_DELAY_DAYS,
    get_setting,
    taxonomy,
)
from app.staff.auth import FRESH_KEY
from crypto import KdfParams, hash_password, verify_password
from tests.app.staff_support import seal_totp_secret, staff_client, submit_login
from tests.app.support import (
    Visitor,
    audit_trail,
    db_session,
    form,
    forms,
    multipart,
    plant_login,
)

PASSWORD = "correct horse battery staple"
# Hashed once: Argon2id at its interactive cost is too slow to repeat for every account.
# At the testing cost the test instances hash at (`app.config`), as their own accounts are.
PASSWORD_HASH = hash_password(PASSWORD, KdfParams.TESTING)
STAFF_LISTENER = {"raazdar.listener": "staff"}
# Every account `add_account` makes has this second factor.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def add_account(app: Flask, username: str, role: str = "staff") -> str:
    """Create an account with a second factor enrolled, as if it had logged in before."""
    with db_session(app) as session:
        account = StaffAccount(
            username=username,
            role=role,
            password_hash=PASSWORD_HASH,
            totp_enrolled=True,
            totp_secret=seal_totp_secret(app, TOTP_SECRET),
        )
        session.add(account)
        session.commit()
        return account.id


def account(app: Flask, account_id: str) -> StaffAccount | None:
    """The account's row as it is now."""
    with db_session(app) as session:
        return session.get(StaffAccount, account_id)


def sha256(text: str) -> str:
    """The digest the audit log keeps of a free text setting."""
    return hashlib.sha256(text.encode()).hexdigest()


def audit_count(app: Flask) -> int:
    """How many audit entries there are."""
    with db_session(app) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def audit_actions(app: Flask) -> list[str]:
    """Every audit entry's action, oldest first."""
    with db_session(app) as session:
        query = select(AuditEntry.action).order_by(AuditEntry.seq)
        return list(session.execute(query).scalars())


@dataclass
class Staff:
    """A browser on the staff listener, logged in (or not) as one account."""

    app: Flask
    client: FlaskClient
    account_id: str | None = None
    # Its owner is at it: asked the password and a code again (`app.staff.reauth`), they give them.
    at_desk: bool = False

    def log_in(self, account_id: str, *, authenticated_ago: int = 0) -> Staff:
        """Hold a staff session for the account, exactly as `app.staff.auth.begin` makes it.

        `authenticated_ago`: how many seconds ago its password and code were given.
        """
        row = account(self.app, account_id)
        assert row is not None
        given = int(time.time()) - authenticated_ago
        fresh = secrets.token_urlsafe(16)
        grants = {"staff": {"id": row.id, "epoch": row.epoch, "auth": given, "fresh": fresh}}
        plant_login(self.app, self.client, grants, staff_id=row.id)
        with self.client.session_transaction() as browser:
            browser[FRESH_KEY] = fresh
        self.account_id = account_id
        self.at_desk = authenticated_ago == 0
        return self

    def get(self, path: str, status: int = 200) -> str:
        """Load a page and return its HTML."""
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    def token(self) -> str:
        """A CSRF token of this browser's session (from the log-out button of the layout)."""
        page = self.get("/staff/")
        return form(page, "/staff/logout").fields["csrf_token"]

    def post(self, path: str, data: dict[str, Any] | None = None) -> TestResponse:
        """Send a form to `path` with a valid CSRF token (confirming it, if at the desk)."""
        response = self.client.post(path, data={"csrf_token": self.token(), **(data or {})})
        if response.status_code == 401 and self.at_desk and "reauth_code" in response.text:
            return self.confirm(path, response)
        return response

    def confirm(self, path: str, asked: TestResponse) -> TestResponse:
        """Give the password and a code the confirmation page `asked` for, as its owner does."""
        with db_session(self.app) as session:  # the code of now, as if its step were new
            session.execute(
                update(StaffAccount).where(StaffAccount.id == self.account_id).values(totp_spent=0)
            )
            session.commit()
        fields = form(asked.get_data(as_text=True), path).fields
        code = pyotp.TOTP(TOTP_SECRET).now()
        return self.client.post(
            path, data={**fields, "reauth_password": PASSWORD, "reauth_code": code}
        )

    def text(self, response: TestResponse) -> str:
        """A response's HTML with entities decoded, for matching messages."""
        return html.unescape(response.get_data(as_text=True))


def staff_browser(app: Flask) -> Staff:
    """A new browser on the staff listener."""
    client = app.test_client()
    client.environ_base.update(STAFF_LISTENER)
    return Staff(app, client)


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An administrator, logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "root", "admin"))


@pytest.fixture
def member(app: Flask) -> Staff:
    """A staff member (not an admin), logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "clerk"))


ADMIN_PAGES = [
    "/staff/admin/accounts",
    "/staff/admin/settings",
    "/staff/admin/taxonomy",
    "/staff/admin/keyring",
    "/staff/admin/audit",
]


def admin_actions(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """Every admin POST, with a body it would accept from an admin."""
    target = add_account(app, "target")
    return [
        ("/staff/admin/accounts/new", {"username": "newcomer", "role": "staff"}),
        (f"/staff/admin/accounts/{target}/remove", {"confirm": "y"}),
        (f"/staff/admin/accounts/{target}/reset-password", {}),
        (f"/staff/admin/accounts/{target}/reset-2fa", {}),
        (f"/staff/admin/accounts/{target}/role", {"role": "admin"}),
        (
            "/staff/admin/settings/general",
            {
                "organisation": "Taken Over",
                "upload_limit_mib": "1",
                "retention_days": "1",
                "source_expiry_days": "1",
            },
        ),
        ("/staff/admin/settings/resources", {"resources_en": "x", "resources_ur": "y"}),
        ("/staff/admin/taxonomy/agency/add", {"code": "new", "label_en": "a", "label_ur": "b"}),
        ("/staff/admin/taxonomy/agency/fia/labels", {"label_en": "a", "label_ur": "b"}),
        ("/staff/admin/taxonomy/agency/fia/remove", {}),
        ("/staff/admin/taxonomy/agency/fia/move", {"direction": "up"}),
        ("/staff/admin/keyring/install", {"manifest": "{}"}),
    ]


# Who may see the admin pages.


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_admin_sees_every_admin_page(admin: Staff, path: str) -> None:
    assert "<h1>" in admin.get(path)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_visitor_without_a_session_is_sent_to_the_login_page(app: Flask, path: str) -> None:
    response = staff_browser(app).client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")


def test_a_visitor_without_a_session_cannot_post_an_admin_action(app: Flask) -> None:
    visitor = staff_browser(app)
    before = audit_count(app)
    for path, data in admin_actions(app):
        # A token from a page a visitor can load: the login page.
        token = form(visitor.get("/staff/login"), "/staff/login").fields["csrf_token"]
        response = visitor.client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 302, path
        assert response.location.startswith("/staff/login"), path
    assert audit_count(app) == before
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_staff_member_is_refused_every_admin_page(member: Staff, path: str) -> None:
    page = member.get(path, status=403)
    # The staff layout, in English, saying why: not the source interface's page.
    assert '<html lang="en"' in page
    assert "it needs an administrator" in page


def test_off_the_staff_listener_a_staff_url_gets_the_source_sites_own_404(
    client: FlaskClient,
) -> None:
    absent = client.get("/no-such-page")
    staff_url = client.get("/staff/admin/accounts")
    assert staff_url.status_code == absent.status_code == 404
    # The same page, but for the address it links back to (the language switch).
    # Both padded to the source pages' one size, the padding taking up the longer path.
    same = absent.get_data(as_text=True).replace("/no-such-page", "/staff/admin/accounts")
    assert staff_url.get_data(as_text=True).rstrip(" ") == same.rstrip(" ")
    assert len(staff_url.get_data()) == len(absent.get_data())


def test_a_staff_member_is_refused_every_admin_action(app: Flask, member: Staff) -> None:
    before = audit_count(app)
    for path, data in admin_actions(app):
        assert member.post(path, data).status_code == 403, path
    assert audit_count(app) == before
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"


def test_a_staff_members_bundle_sized_body_to_the_keyring_page_is_refused_unread(
    member: Staff,
) -> None:
    # Only an administrator installs a keyring: a staff member's body there (up to
    # MAX_BUNDLE_BYTES, 2 GiB, put in the store's scratch) was read whole, then refused.
    body, content_type = multipart(
        [("csrf_token", member.token())],
        [("manifest", "keyring.json", b"\x00" * (2 * 1024 * 1024), "application/json")],
    )
    response = member.client.post(
        "/staff/admin/keyring/install", data=body, content_type=content_type
    )
    assert response.status_code == 413, (
        f"a staff member's 2 MiB body to an admin page was read, then refused "
        f"({response.status_code})"
    )


def test_a_staff_member_sees_no_admin_links(member: Staff) -> None:
    assert "/staff/admin/" not in member.get("/staff/")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_do_not_exist_on_the_source_listener(app: Flask, path: str) -> None:
    client = app.test_client()
    plant_login(app, client, {"staff": {"id": "x", "epoch": 1}})
    assert client.get(path).status_code == 404


def test_an_account_removed_meanwhile_loses_the_admin_pages(app: Flask, admin: Staff) -> None:
    assert admin.account_id is not None
    with db_session(app) as session:
        row = session.get(StaffAccount, admin.account_id)
        assert row is not None
        row.epoch += 1
        session.commit()
    assert admin.client.get("/staff/admin/accounts").status_code == 302


def test_an_administrator_removed_mid_request_does_nothing_after_the_removal(
    app: Flask, admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second tab's action, sent as its administrator is removed, lands before or not at all."""
    add_account(app, "keeper", "admin")
    hashing = hash_password
    removal: list[threading.Thread] = []

    def remove_root() -> None:
        with app.app_context(), db_session(app) as session:
            root = staff_service.get_account(session, "root")
            staff_service.remove_account(session, "keeper", root)

    def removed_meanwhile(password: str, cost: KdfParams) -> str:
        # The new account's passphrase is hashed after the page checked its admin.
        if not removal:
            removal.append(threading.Thread(target=remove_root))
            removal[0].start()
            removal[0].join(timeout=2)  # a removal held back by the action waits on
        return hashing(password, cost)

    monkeypatch.setattr(staff_service, "hash_password", removed_meanwhile)
    admin.post("/staff/admin/accounts/new", {"username": "backdoor", "role": "staff"})
    removal[0].join(timeout=40)

    trail = audit_trail(app)
    removed = trail.index(("keeper", "staff-removed", {"username": "root"}))
    after = [(actor, action) for actor, action, _ in trail[removed + 1 :] if actor == "root"]
    assert after == [], f"a removed administrator acted after the removal: {after}"
    assert account(app, admin.account_id or "") is None


def test_an_administrator_removed_just_before_acting_gets_a_403_and_changes_nothing(
    app: Flask, admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_account(app, "keeper", "admin")
    holding = staff_service.hold_admin

    def remove_root() -> None:
        with app.app_context(), db_session(app) as session:
            root = staff_service.get_account(session, "root")
            staff_service.remove_account(session, "keeper", root)

    def removed_first(session: Any, actor: StaffAccount) -> None:
        removal = threading.Thread(target=remove_root)
        removal.start()
        removal.join(timeout=30)
        holding(session, actor)

    monkeypatch.setattr(staff_service, "hold_admin", removed_first)
    settings = {
        "organisation": "Taken Over",
        "upload_limit_mib": "1",
        "retention_days": "1",
        "source_expiry_days": "1",
    }
    response = admin.post("/staff/admin/settings/general", settings)

    assert response.status_code == 403
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"
    assert audit_actions(app)[-1] == "staff-removed"


def test_admin_posts_without_a_csrf_token_are_refused(app: Flask, admin: Staff) -> None:
    before = audit_count(app)
    for path, data in admin_actions(app):
        for token in ({}, {"csrf_token": "forged"}):
            response = admin.client.post(path, data={**token, **data})
            assert response.status_code == 400, path
    assert audit_count(app) == before
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"
    with db_session(app) as session:
        assert set(session.execute(select(StaffAccount.username)).scalars()) == {"root", "target"}


# Accounts.


def _shown_passphrase(page: str) -> str:
    start = page.index('class="codename passphrase">') + len('class="codename passphrase">')
    return page[start : page.index("<", start)]


def test_the_accounts_page_lists_role_days_and_second_factor(app: Flask, admin: Staff) -> None:
    add_account(app, "clerk")
    page = admin.get("/staff/admin/accounts")
    assert "clerk" in page
    assert "root" in page
    assert "enrolled" in page
    assert "never" in page  # no login day yet


def test_an_admin_creates_an_account_with_a_passphrase_shown_once(app: Flask, admin: Staff) -> None:
    response = admin.post("/staff/admin/accounts/new", {"username": "newcomer", "role": "staff"})
    assert response.status_code == 200
    passphrase = _shown_passphrase(response.get_data(as_text=True))
    assert len(passphrase.split()) == 7
    with db_session(app) as session:
        row = session.execute(
            select(StaffAccount).where(StaffAccount.username == "newcomer")
        ).scalar_one()
        assert verify_password(row.password_hash, passphrase)
        assert row.role == "staff"
        assert not row.totp_enrolled
    assert passphrase not in admin.get("/staff/admin/accounts")


@pytest.mark.parametrize(
    ("username", "role"),
    [("root", "staff"), ("", "staff"), ("bad name", "staff"), ("x" * 65, "staff"), ("ok", "god")],
    ids=["taken", "empty", "space", "too-long", "no-such-role"],
)
def test_a_bad_new_account_is_refused_and_nothing_is_created(
    app: Flask, admin: Staff, username: str, role: str
) -> None:
    before = audit_actions(app)
    response = admin.post("/staff/admin/accounts/new", {"username": username, "role": role})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    with db_session(app) as session:
        assert session.scalar(select(func.count()).select_from(StaffAccount)) == 1
    # The password and code it asked first are audited; nothing else is.
    assert audit_actions(app) == [*before, "staff-reauthenticated"]


def test_a_new_passphrase_ends_the_accounts_sessions(app: Flask, admin: Staff) -> None:
    clerk = staff_browser(app).log_in(add_account(app, "clerk"))
    clerk.get("/staff/")
    assert clerk.account_id is not None
    response = admin.post(f"/staff/admin/accounts/{clerk.account_id}/reset-password")
    assert response.status_code == 200
    passphrase = _shown_passphrase(response.get_data(as_text=True))
    row = account(app, clerk.account_id)
    assert row is not None
    assert verify_password(row.password_hash, passphrase)
    assert not verify_password(row.password_hash, PASSWORD)
    assert row.epoch == 2
    assert clerk.client.get("/staff/").status_code == 302


def test_a_second_factor_reset_makes_the_account_enrol_again(app: Flask, admin: Staff) -> None:
    clerk = staff_browser(app).log_in(add_account(app, "clerk"))
    assert clerk.account_id is not None
    response = admin.post(f"/staff/admin/accounts/{clerk.account_id}/reset-2fa")
    assert response.status_code == 200
    passphrase = _shown_passphrase(response.get_data(as_text=True))
    row = account(app, clerk.account_id)
    assert row is not None
    assert (row.totp_enrolled, row.totp_secret, row.epoch) == (False, None, 2)
    assert verify_password(row.password_hash, passphrase)
    assert clerk.client.get("/staff/").status_code == 302
    owner = staff_client(app)
    response = submit_login(owner, "clerk", passphrase)
    assert (response.status_code, response.headers["Location"]) == (303, "/staff/enrol")


@pytest.mark.parametrize("reset", ["reset-password", "reset-2fa"])
@pytest.mark.parametrize("demoted_first", [False, True], ids=["admin", "demoted-first"])
def test_one_administrator_alone_cannot_take_over_another_administrators_account(
    app: Flask, admin: Staff, reset: str, demoted_first: bool
) -> None:
    """A reset shows its new passphrase to whoever made it, and a reset second factor is
    enrolled by whoever logs in first: one administrator took over another's account (and
    acted in the log under their name), demoting them first if a rule stood in the way."""
    second = add_account(app, "second", "admin")
    if demoted_first:  # at the console: the admin pages demote no administrator
        with app.app_context(), db_session(app) as session:
            demoted = staff_service.get_account(session, "second")
            staff_service.set_role(session, "console", demoted, "staff")
    before = account(app, second)
    response = admin.post(f"/staff/admin/accounts/{second}/{reset}")
    assert response.status_code == 400, "one administrator reset another's credentials"
    assert "raazdar staff" in admin.text(response)
    after = account(app, second)
    assert before is not None
    assert after is not None
    assert (after.password_hash, after.totp_enrolled, after.epoch) == (
        before.password_hash,
        True,
        before.epoch,
    )


def test_every_administrator_is_shown_the_resets_of_the_last_weeks(
    app: Flask, admin: Staff
) -> None:
    """Whoever resets a second factor can enrol theirs before its owner: the other
    administrators must see that it was done, by whom and when, without reading the log."""
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    clerk = add_account(app, "clerk")
    assert admin.post(f"/staff/admin/accounts/{clerk}/reset-2fa").status_code == 200
    assert admin.post(f"/staff/admin/accounts/{clerk}/reset-password").status_code == 200
    page = html.unescape(other.get("/staff/admin/accounts"))
    day = today().isoformat()
    assert f"root reset the two-factor of clerk on {day}" in page, "a reset was not shown"
    assert f"root reset the password of clerk on {day}" in page


def test_after_a_second_factor_reset_the_old_password_enrols_no_one(
    app: Flask, admin: Staff
) -> None:
    """A second factor is reset when a phone is lost or stolen, and the next login then
    needs no code: whoever had the old password as well (kept on that phone, seen over a
    shoulder) logged in with it alone and enrolled an authenticator of their own, taking
    the account before its owner came back. The reset gives a new passphrase too."""
    clerk = add_account(app, "clerk")
    assert admin.post(f"/staff/admin/accounts/{clerk}/reset-2fa").status_code in (200, 303)
    thief = staff_client(app)
    response = submit_login(thief, "clerk", PASSWORD)
    assert response.status_code == 401, "the old password alone enrolled a new authenticator"
    assert thief.get("/staff/enrol").status_code == 303


def _roles(app: Flask) -> dict[str, str]:
    """Every account's role, by username."""
    with db_session(app) as session:
        return {a.username: a.role for a in session.execute(select(StaffAccount)).scalars()}


@pytest.mark.parametrize("way", ["create", "create-then-promote", "reset-then-promote"])
def test_one_administrator_alone_makes_no_administrator_she_holds(
    app: Flask, admin: Staff, way: str
) -> None:
    """Whoever adds an account on the web (or resets its second factor) sees its passphrase and
    can set up its authenticator before its owner: made an administrator, or promoted after,
    it was a second administrator's account in one person's hands."""
    if way == "create":
        response = admin.post("/staff/admin/accounts/new", {"username": "deputy", "role": "admin"})
    else:
        if way == "create-then-promote":
            made = admin.post("/staff/admin/accounts/new", {"username": "deputy", "role": "staff"})
            assert made.status_code == 200
            deputy = _roles_id(app, "deputy")
        else:
            deputy = add_account(app, "deputy")
            assert admin.post(f"/staff/admin/accounts/{deputy}/reset-2fa").status_code == 200
        with db_session(app) as session:  # whoever saw the passphrase set up the authenticator
            session.execute(
                update(StaffAccount).where(StaffAccount.id == deputy).values(totp_enrolled=True)
            )
            session.commit()
        response = admin.post(f"/staff/admin/accounts/{deputy}/role", {"role": "admin"})
    assert _roles(app).get("deputy") != "admin", "one administrator made an administrator alone"
    assert response.status_code == 400
    assert "raazdar staff" in admin.text(response)


@pytest.mark.parametrize("way", ["remove", "demote"])
def test_one_administrator_alone_takes_away_no_other_administrator(
    app: Flask, admin: Staff, way: str
) -> None:
    """One administrator removed or demoted every other one (only the console put them
    back), and then alone saw and did whatever the admin pages show and do."""
    others = [add_account(app, name, "admin") for name in ("second", "third")]
    for other in others:
        if way == "remove":
            admin.post(f"/staff/admin/accounts/{other}/remove", {"confirm": "y"})
        else:
            admin.post(f"/staff/admin/accounts/{other}/role", {"role": "staff"})
    roles = _roles(app)
    assert [roles.get(n) for n in ("second", "third")] == ["admin", "admin"], (
        f"one administrator took the others away: {roles}"
    )
    response = admin.post(f"/staff/admin/accounts/{others[0]}/remove", {"confirm": "y"})
    assert response.status_code == 400
    assert "raazdar staff remove second" in admin.text(response)


def _roles_id(app: Flask, username: str) -> str:
    with db_session(app) as session:
        found = staff_service.find_account(session, username)
        assert found is not None
        return found.id


def test_an_admin_promotes_an_account_its_owner_set_up(app: Flask, admin: Staff) -> None:
    """An account whose authenticator no colleague could have set up first: its own owner's."""
    clerk = add_account(app, "clerk")
    assert admin.post(f"/staff/admin/accounts/{clerk}/role", {"role": "admin"}).status_code == 303
    row = account(app, clerk)
    assert row is not None
    assert row.role == "admin"


def test_an_admin_removes_an_account_once_the_box_is_ticked(app: Flask, admin: Staff) -> None:
    clerk = add_account(app, "clerk")
    response = admin.post(f"/staff/admin/accounts/{clerk}/remove")
    assert response.status_code == 400
    assert "Tick the box" in response.get_data(as_text=True)
    assert account(app, clerk) is not None
    response = admin.post(f"/staff/admin/accounts/{clerk}/remove", {"confirm": "y"})
    assert response.status_code == 303
    assert account(app, clerk) is None


def test_a_removal_names_the_accounts_whose_passwords_the_removed_one_set(
    app: Flask, admin: Staff
) -> None:
    """Eve added bilal before she was removed: she knows his passphrase, and may enrol an
    authenticator of her own before he does. The page said only that she was removed."""
    eve = add_account(app, "eve")
    with app.app_context(), db_session(app) as session:
        staff_service.create_account(session, "eve", "bilal")
    response = admin.post(f"/staff/admin/accounts/{eve}/remove", {"confirm": "y"})
    assert response.status_code == 303
    page = html.unescape(admin.get("/staff/admin/accounts"))
    assert "eve set the passwords of bilal" in page, "the removal said nothing of bilal"


def test_a_removal_names_the_accounts_whose_authenticator_the_removed_one_may_have_set_up(
    app: Flask, admin: Staff
) -> None:
    """Eve added spare, set up its authenticator herself and changed its password on its
    Password page, where the log says spare set it: the page said only that she was removed,
    and spare, neither locked nor named, let her in after it."""
    eve = add_account(app, "eve")
    with app.app_context(), db_session(app) as session:
        staff_service.create_account(session, "eve", "spare")
        audit.record(session, "spare", "staff-2fa-enrolled", username="spare")
        audit.record(session, "spare", "staff-password-changed", username="spare")
        session.commit()
    response = admin.post(f"/staff/admin/accounts/{eve}/remove", {"confirm": "y"})
    assert response.status_code == 303
    page = html.unescape(admin.get("/staff/admin/accounts"))
    assert "eve handed spare the passphrase" in page, "the removal said nothing of spare"


def test_a_removal_locks_the_accounts_whose_passwords_the_removed_one_set(
    app: Flask, admin: Staff
) -> None:
    """Eve added bilal and set up his authenticator herself (a spare account of hers), then
    was removed: her removal named bilal, and she logged in as him with the passphrase she
    had been shown, on the same day, before any administrator reset him."""
    eve = add_account(app, "eve")
    with app.app_context(), db_session(app) as session:
        bilal, passphrase = staff_service.create_account(session, "eve", "bilal")
        account_id = bilal.id
    assert admin.post(f"/staff/admin/accounts/{eve}/remove", {"confirm": "y"}).status_code == 303
    response = submit_login(staff_client(app), "bilal", passphrase)
    assert response.status_code != 303, "the removed one logged in as bilal with his passphrase"
    stored = account(app, account_id)
    assert stored is not None
    assert stored.totp_secret is None
    assert not stored.totp_enrolled
    assert audit_trail(app)[-1] == ("root", "staff-locked", {"username": "bilal", "set_by": "eve"})
    # Another administrator's reset gives bilal his account back, with a passphrase eve never saw.
    reset = admin.post(f"/staff/admin/accounts/{account_id}/reset-2fa", {})
    assert reset.status_code == 200, reset.status_code
    shown = reset.get_data(as_text=True)
    assert passphrase not in shown


def test_a_removal_does_not_lock_the_administrator_who_makes_it(app: Flask, admin: Staff) -> None:
    """Eve, once an administrator, reset root's password while root was staff: root's
    removal of eve locked root herself (her session ended, her password one nobody knows),
    with not a word before she confirmed."""
    eve = add_account(app, "eve")
    with db_session(app) as session:
        audit.record(session, "eve", "staff-password-reset", username="root")
        session.commit()
    response = admin.post(f"/staff/admin/accounts/{eve}/remove", {"confirm": "y"})
    assert admin.account_id is not None
    me = account(app, admin.account_id)
    assert me is not None
    assert me.totp_enrolled, "the remover locked herself out"
    assert response.status_code == 400
    said = html.unescape(admin.text(response))
    assert "would lock your own account" in said
    assert "raazdar staff reset-2fa root" in said
    assert account(app, eve) is not None


def test_a_removal_names_the_devices_that_still_reach_the_staff_onion(
    app: Flask, admin: Staff, instance: Path
) -> None:
    """An account removed on the admin page is not a device revoked: eve's laptop still
    reached the staff login, and the page that removed her said nothing of it."""
    eve = add_account(app, "eve")
    StaffClients(instance / "tor").add("eve-laptop")
    assert admin.post(f"/staff/admin/accounts/{eve}/remove", {"confirm": "y"}).status_code == 303
    page = html.unescape(admin.get("/staff/admin/accounts"))
    assert "eve-laptop can still reach the staff onion" in page, "nothing said of eve's laptop"
    assert "raazdar staff-onion remove-client" in page


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("remove", {"confirm": "y"}),
        ("role", {"role": "staff"}),
        ("reset-password", {}),
        ("reset-2fa", {}),
    ],
)
def test_an_admin_cannot_change_their_own_account(
    app: Flask, admin: Staff, action: str, data: dict[str, str]
) -> None:
    assert admin.account_id is not None
    before = account(app, admin.account_id)
    response = admin.post(f"/staff/admin/accounts/{admin.account_id}/{action}", data)
    assert response.status_code == 400
    assert "You cannot change your own account here" in admin.text(response)
    after = account(app, admin.account_id)
    assert after is not None
    assert before is not None
    assert (after.role, after.epoch, after.password_hash) == (
        before.role,
        before.epoch,
        before.password_hash,
    )
    admin.get("/staff/admin/accounts")


def test_an_unknown_account_is_a_404(admin: Staff) -> None:
    assert admin.post("/staff/admin/accounts/nosuch/reset-2fa").status_code == 404


# Settings.


def test_the_organisation_name_shows_on_the_source_pages(
    app: Flask, admin: Staff, visitor: Visitor
) -> None:
    response = admin.post(
        "/staff/admin/settings/general",
        {
            "organisation": "Insaaf Watch",
            "upload_limit_mib": "200",
            "retention_days": "30",
            "source_expiry_days": "60",
        },
    )
    assert response.status_code == 303
    assert "Insaaf Watch" in visitor.get("/")
    with db_session(app) as session:
        assert [get_setting(session, k) for k in ("upload_limit_mib", "retention_days")] == [
            200,
            30,
        ]
        assert get_setting(session, "source_expiry_days") == 60
    assert "Settings saved." in admin.get("/staff/admin/settings")


def test_the_resources_text_shows_on_the_resources_page_in_each_language(
    admin: Staff, visitor: Visitor
) -> None:
    response = admin.post(
        "/staff/admin/settings/resources",
        {"resources_en": "Call the legal-aid line", "resources_ur": "قانونی امداد کی لائن"},
    )
    assert response.status_code == 303
    assert "Call the legal-aid line" in visitor.get("/resources")
    visitor.get("/lang/ur", status=303)
    assert "قانونی امداد کی لائن" in visitor.get("/resources")


GENERAL = {
    "organisation": "Insaaf Watch",
    "upload_limit_mib": "200",
    "retention_days": "30",
    "source_expiry_days": "60",
}


def test_a_lowered_source_expiry_is_shown_to_every_admin_until_it_is_in_force(
    app: Flask, admin: Staff
) -> None:
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    lowered = {**GENERAL, "source_expiry_days": "1"}
    assert admin.post("/staff/admin/settings/general", lowered).status_code == 303
    due = (today() + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)).isoformat()
    shown = f"Source expiry was lowered from 365 to 1 days: the 365 days stay in force until {due}"
    assert shown in html.unescape(other.get("/staff/admin/settings"))
    # Saving the old value again cancels it.
    kept = {**GENERAL, "source_expiry_days": "365"}
    assert admin.post("/staff/admin/settings/general", kept).status_code == 303
    assert "Source expiry was lowered" not in html.unescape(other.get("/staff/admin/settings"))


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("upload_limit_mib", "1", "The upload limit was lowered from 500 to 1 MiB"),
        ("retention_days", "3650", "Retention was raised from 90 to 3650 days"),
    ],
    ids=["upload-limit-lowered", "retention-raised"],
)
def test_a_harmful_setting_is_in_force_only_two_weeks_later_shown_to_every_staff_member(
    app: Flask, admin: Staff, visitor: Visitor, field: str, value: str, shown: str
) -> None:
    """One administrator alone set the upload limit to 1 MiB (every source's documents refused
    from the next request) or retention to ten years (the warnings of reports left on the
    server silenced, and what is kept kept that long), in force at once and shown to nobody."""
    clerk = staff_browser(app).log_in(add_account(app, "clerk"))
    changed = {**GENERAL, "upload_limit_mib": "500", "retention_days": "90", field: value}
    assert admin.post("/staff/admin/settings/general", changed).status_code == 303
    with db_session(app) as session:
        policy = retention.Policy.read(session, today())
    assert "500 MB in all" in html.unescape(visitor.get("/submit")), "1 MiB was in force at once"
    assert policy.retention_days == 90, "ten years of retention were in force at once"
    due = today() + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)
    message = f"{shown}: the old value stays in force until {due.isoformat()}"
    assert message in html.unescape(clerk.get("/staff/")), "the other staff saw nothing"
    assert message in html.unescape(admin.get("/staff/admin/settings"))
    with db_session(app) as session:
        assert app_settings.in_force(session, field, due) == int(value)
    # Saving the old value again cancels it.
    assert (
        admin.post(
            "/staff/admin/settings/general",
            {**changed, field: {"upload_limit_mib": "500", "retention_days": "90"}[field]},
        ).status_code
        == 303
    )
    assert shown not in html.unescape(clerk.get("/staff/"))


def test_a_lowered_source_expiry_is_shown_on_every_staff_dashboard(
    app: Flask, admin: Staff
) -> None:
    # Demoting the only other administrator first hid the lowering from everyone but its maker.
    second = add_account(app, "second", "admin")
    other = staff_browser(app).log_in(second)
    with app.app_context(), db_session(app) as session:  # demoted at the console
        demoted = staff_service.get_account(session, "second")
        staff_service.set_role(session, "console", demoted, "staff")
    lowered = {**GENERAL, "source_expiry_days": "1"}
    assert admin.post("/staff/admin/settings/general", lowered).status_code == 303
    shown = "Source expiry was lowered from 365 to 1 days"
    assert shown in html.unescape(other.get("/staff/")), "the demoted colleague saw nothing"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"organisation": ""}, "This field is required."),
        ({"organisation": "x" * 101}, "at most 100 characters"),
        ({"organisation": "two\nlines"}, "line breaks"),
        ({"upload_limit_mib": "0"}, "between 1 and 2048 MiB"),
        ({"upload_limit_mib": "-5"}, "between 1 and 2048 MiB"),
        ({"upload_limit_mib": "99999"}, "between 1 and 2048 MiB"),
        ({"upload_limit_mib": "lots"}, "Not a valid integer value."),
        ({"retention_days": "0"}, "between 1 and 3650 days"),
        ({"retention_days": ""}, "This field is required."),
        ({"source_expiry_days": "36500"}, "between 1 and 3650 days"),
    ],
    ids=[
        "name-empty",
        "name-long",
        "name-newline",
        "limit-zero",
        "limit-negative",
        "limit-huge",
        "limit-text",
        "retention-zero",
        "retention-missing",
        "expiry-huge",
    ],
)
def test_bad_settings_are_refused_with_a_reason_and_change_nothing(
    app: Flask, admin: Staff, visitor: Visitor, change: dict[str, str], message: str
) -> None:
    before = audit_count(app)
    response = admin.post("/staff/admin/settings/general", {**GENERAL, **change})
    assert response.status_code == 400
    assert message in admin.text(response)
    with db_session(app) as session:
        assert get_setting(session, "organisation") == "Raazdar"
        assert get_setting(session, "upload_limit_mib") == 500
        assert get_setting(session, "retention_days") == 90
        assert get_setting(session, "source_expiry_days") == 365
    assert audit_count(app) == before + 1  # the password and code asked first; nothing else
    assert "Insaaf Watch" not in visitor.get("/")


def test_a_rewritten_legal_aid_page_is_audited_by_digest_and_shown_to_the_other_admins(
    app: Flask, admin: Staff
) -> None:
    # One admin puts a number the accused answer on the page sources go to for help.
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    trap = "Call the legal-aid line 0300-0000000"
    data = {"resources_en": trap, "resources_ur": RESOURCES_UR}
    assert admin.post("/staff/admin/settings/resources", data).status_code == 303
    actor, action, detail = audit_trail(app)[-1]
    assert (actor, action) == ("root", "settings-changed")
    digest = {"from": sha256(RESOURCES_EN), "to": sha256(trap)}
    assert detail.get("digests") == {"resources_en": digest}, "the audit says only 'changed'"
    assert trap not in json.dumps(detail)
    page = html.unescape(other.get("/staff/admin/settings"))
    assert f"changed by root on {today().isoformat()}" in page
    assert f"SHA-256 {digest['to']}" in page


@pytest.mark.parametrize(
    "change",
    [{"resources_en": ""}, {"resources_ur": " "}, {"resources_en": "x" * 20_001}],
    ids=["english-empty", "urdu-blank", "too-long"],
)
def test_bad_resources_are_refused_and_change_nothing(
    app: Flask, admin: Staff, change: dict[str, str]
) -> None:
    data = {"resources_en": "Call us", "resources_ur": "ہمیں کال کریں", **change}
    response = admin.post("/staff/admin/settings/resources", data)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    with db_session(app) as session:
        assert get_setting(session, "resources_en") == RESOURCES_EN


def test_unchanged_settings_record_nothing(app: Flask, admin: Staff) -> None:
    current = {
        "organisation": "Raazdar",
        "upload_limit_mib": "500",
        "retention_days": "90",
        "source_expiry_days": "365",
    }
    before = audit_count(app)
    assert admin.post("/staff/admin/settings/general", current).status_code == 303
    assert audit_count(app) == before + 1  # the password and code asked first; nothing else


# Taxonomy.


def _codes(app: Flask, group: str) -> list[str]:
    with db_session(app) as session:
        return [t.code for t in taxonomy(session)[group]]


def test_a_new_term_is_offered_on_the_submit_form(
    app: Flask, admin: Staff, visitor: Visitor
) -> None:
    response = admin.post(
        "/staff/admin/taxonomy/agency/add",
        {"code": "anf", "label_en": "Anti-Narcotics Force", "label_ur": "اینٹی نارکوٹکس فورس"},
    )
    assert response.status_code == 303
    assert _codes(app, "agency")[-1] == "anf"
    assert "Anti-Narcotics Force" in visitor.get("/submit")
    visitor.get("/lang/ur", status=303)
    assert "اینٹی نارکوٹکس فورس" in visitor.get("/submit")


def test_a_term_is_relabelled_moved_and_removed(app: Flask, admin: Staff, visitor: Visitor) -> None:
    codes = _codes(app, "province")
    assert (
        admin.post(
            "/staff/admin/taxonomy/province/sindh/labels",
            {"label_en": "Sindh province", "label_ur": "صوبہ سندھ"},
        ).status_code
        == 303
    )
    assert "Sindh province" in visitor.get("/submit")
    response = admin.post("/staff/admin/taxonomy/province/sindh/move", {"direction": "up"})
    assert response.status_code == 303
    assert _codes(app, "province")[:2] == ["sindh", "punjab"]
    admin.post("/staff/admin/taxonomy/province/sindh/move", {"direction": "down"})
    assert _codes(app, "province") == codes
    assert admin.post("/staff/admin/taxonomy/province/sindh/remove").status_code == 303
    assert _codes(app, "province") == [c for c in codes if c != "sindh"]
    assert "Sindh province" not in visitor.get("/submit")


def test_a_relabelled_term_is_audited_with_the_digests_of_its_labels(
    app: Flask, admin: Staff
) -> None:
    # Sources pick the agency they accuse by its label: one admin can make a label name another.
    with db_session(app) as session:
        fia = next(t for t in taxonomy(session)["agency"] if t.code == "fia")
    labels = {"label_en": "Punjab Police", "label_ur": "پنجاب پولیس"}
    assert admin.post("/staff/admin/taxonomy/agency/fia/labels", labels).status_code == 303
    actor, action, detail = audit_trail(app)[-1]
    assert (actor, action) == ("root", "taxonomy-term-relabelled")
    assert detail.get("digests") == {
        "label_en": {"from": sha256(fia.label_en), "to": sha256("Punjab Police")},
        "label_ur": {"from": sha256(fia.label_ur), "to": sha256("پنجاب پولیس")},
    }, "the audit says only 'relabelled'"


def test_a_relabelled_term_is_shown_to_the_other_admins_as_the_legal_aid_page_is(
    app: Flask, admin: Staff
) -> None:
    """One admin makes the label sources pick to accuse the FIA say "Punjab Police": the
    log had the digests, but no other admin's page said the labels had been changed."""
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    labels = {"label_en": "Punjab Police", "label_ur": "پنجاب پولیس"}
    assert admin.post("/staff/admin/taxonomy/agency/fia/labels", labels).status_code == 303
    page = html.unescape(other.get("/staff/admin/taxonomy"))
    assert f"changed by root on {today().isoformat()}" in page, "no word of the relabelling"
    assert f"SHA-256 {sha256('Punjab Police')}" in page
    assert f"SHA-256 {sha256('پنجاب پولیس')}" in page


def test_a_removed_term_is_shown_to_the_other_admins_as_a_relabelled_one_is(
    app: Flask, admin: Staff
) -> None:
    """One admin takes the FIA off the form (sources can no longer name it): the row was
    simply gone, and no other admin's page said a term had been removed, or by whom."""
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    assert admin.post("/staff/admin/taxonomy/agency/fia/remove", {}).status_code == 303
    page = html.unescape(other.get("/staff/admin/taxonomy"))
    assert f"fia was removed by root on {today().isoformat()}" in page, "no word of the removal"
    # Added again, it is on the form: the note goes.
    again = {"code": "fia", "label_en": "FIA", "label_ur": "ایف آئی اے"}
    assert admin.post("/staff/admin/taxonomy/agency/add", again).status_code == 303
    assert "fia was removed" not in html.unescape(other.get("/staff/admin/taxonomy"))


def test_moving_the_first_term_up_changes_nothing(app: Flask, admin: Staff) -> None:
    codes = _codes(app, "when")
    before = audit_count(app)
    response = admin.post(f"/staff/admin/taxonomy/when/{codes[0]}/move", {"direction": "up"})
    assert response.status_code == 303
    assert _codes(app, "when") == codes
    # Only the password and code it asked (`app.staff.reauth.EACH_TIME`) are audited.
    assert audit_count(app) == before + 1


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "/staff/admin/taxonomy/agency/add",
            {"code": "fia", "label_en": "x", "label_ur": "y"},
            "already has a term",
        ),
        (
            "/staff/admin/taxonomy/agency/add",
            {"code": "Bad Code", "label_en": "x", "label_ur": "y"},
            "lowercase letters",
        ),
        (
            "/staff/admin/taxonomy/agency/add",
            {"code": "new", "label_en": "x" * 201, "label_ur": "y"},
            "at most 200 characters",
        ),
        (
            "/staff/admin/taxonomy/agency/add",
            {"code": "new", "label_en": "x", "label_ur": ""},
            "This field is required.",
        ),
        (
            "/staff/admin/taxonomy/nosuch/add",
            {"code": "new", "label_en": "x", "label_ur": "y"},
            "no taxonomy group",
        ),
        (
            "/staff/admin/taxonomy/agency/nosuch/labels",
            {"label_en": "x", "label_ur": "y"},
            "no term",
        ),
        ("/staff/admin/taxonomy/agency/nosuch/remove", {}, "no term"),
        ("/staff/admin/taxonomy/agency/fia/move", {"direction": "sideways"}, "Not a valid choice"),
    ],
    ids=[
        "duplicate",
        "bad-code",
        "long-label",
        "no-urdu",
        "no-group",
        "no-term-relabel",
        "no-term-remove",
        "bad-direction",
    ],
)
def test_bad_taxonomy_changes_are_refused_and_change_nothing(
    app: Flask, admin: Staff, path: str, data: dict[str, str], message: str
) -> None:
    before = {group: _codes(app, group) for group in ("agency", "province")}
    # What the password and code asked first (`app.staff.reauth.EACH_TIME`: every change of
    # the taxonomy) audit is no change.
    audits = audit_count(app) + 1
    response = admin.post(path, data)
    assert response.status_code == 400
    assert message in admin.text(response)
    assert {group: _codes(app, group) for group in ("agency", "province")} == before
    assert audit_count(app) == audits


def test_every_taxonomy_row_has_its_forms(admin: Staff) -> None:
    page = admin.get("/staff/admin/taxonomy")
    actions = {f.action for f in forms(page)}
    assert "/staff/admin/taxonomy/agency/fia/labels" in actions
    assert "/staff/admin/taxonomy/complicity/add" in actions
