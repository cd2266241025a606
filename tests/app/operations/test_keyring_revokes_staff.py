"""A reviewer the keyring drops loses the staff account bound to their signing key.

Revoking a reviewer is the authorities' act, signed offline; the server's staff
account of the same person is a separate gate. An account bound to a reviewer's
signing-key fingerprint is locked by the install of a keyring that no longer
lists them, in the install's own commit: its sessions end, its password becomes
one nobody is shown, its second factor is forgotten.
"""

from __future__ import annotations

import html
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.cli import main
from app.operations.tor.clients import StaffClients
from app.services import audit, staff_devices
from app.services import staff as staff_service
from crypto import Recipient
from tests.app.operations.test_keyring_install import (
    install_by_cli,
    install_by_web,
    newest,
    successor,
)
from tests.app.staff.test_staff_admin import add_account, staff_browser
from tests.app.staff.test_staff_dashboard import export, report
from tests.app.staff_support import (
    StaffUser,
    fresh_code,
    login,
    make_staff,
    seal_totp_secret,
    staff_client,
    submit_login,
)
from tests.app.support import (
    Visitor,
    audit_trail,
    db_session,
    demo_authorities,
    form,
    install_successor,
    new_reviewer,
    reviewer_keys,
)


def demo_reviewer_signing_key(instance: Path) -> str:
    """The demo reviewer's signing-key fingerprint, as `raazdar keyring show` prints it."""
    signing = reviewer_keys(instance).signing_public
    assert signing is not None
    return str(signing.fingerprint)


def newest_reviewers(instance: Path) -> list[Recipient]:
    """The reviewers of the newest keyring on disk."""
    return list(newest(instance).manifest.recipients)


def bind(runner: CliRunner, instance: Path, username: str, *args: str) -> Result:
    """Run `raazdar staff bind USERNAME ARGS…`."""
    return runner.invoke(main, ["--instance", str(instance), "staff", "bind", username, *args])


def test_a_revoked_reviewer_can_neither_export_nor_log_in_after_the_install(
    app: Flask, instance: Path, runner: CliRunner, visitor: Visitor
) -> None:
    user = make_staff(app, "rehana")
    bound = bind(runner, instance, "rehana", demo_reviewer_signing_key(instance))
    assert bound.exit_code == 0, bound.output
    client = staff_client(app)
    login(client, app, user)
    report(visitor, "sealed to the demo reviewer, before the revocation")
    # The export form as her page holds it, before the install.
    token = form(client.get("/staff/").get_data(as_text=True), "/staff/export").fields["csrf_token"]
    _, other = new_reviewer()

    status, said = install_by_cli(runner, instance, successor(instance, [other]).to_bytes())
    assert status == 0, said
    assert "raazdar: locked rehana" in said

    # Already logged in: the bundle holds items sealed to her, which her key file opens.
    refused = export(client, token=token)
    assert refused.status_code == 302, refused.status_code
    assert refused.headers["Location"].startswith("/staff/login")
    # A new login, with the password and the authenticator she still has.
    again = submit_login(staff_client(app), user.username, user.password, fresh_code(app, user))
    assert again.status_code != 303


def locked_entries(app: Flask) -> list[dict[str, object]]:
    """The details of the audit log's `staff-locked` entries, oldest first."""
    return [d for _, action, d in audit_trail(app) if action == "staff-locked"]


def test_the_install_locks_only_accounts_bound_to_a_reviewer_it_drops(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    kept_keys, kept = new_reviewer("kept-reviewer")
    install_successor(instance, [*newest_reviewers(instance), kept])
    dropped = make_staff(app, "dropped")
    stays = make_staff(app, "stays")
    unbound = make_staff(app, "unbound")
    assert bind(runner, instance, "dropped", demo_reviewer_signing_key(instance)).exit_code == 0
    assert kept_keys.signing_public is not None
    assert bind(runner, instance, "stays", str(kept_keys.signing_public.fingerprint)).exit_code == 0

    status, said = install_by_cli(runner, instance, successor(instance, [kept]).to_bytes())
    assert status == 0, said
    assert "locked dropped" in said
    assert "stays" not in said
    assert "unbound" not in said
    for user in (stays, unbound):
        login(staff_client(app), app, user)
    refused = submit_login(staff_client(app), "dropped", dropped.password, fresh_code(app, dropped))
    assert refused.status_code != 303
    assert locked_entries(app) == [
        {"username": "dropped", "revoked": demo_reviewer_signing_key(instance)}
    ]


def test_a_keyring_listing_the_reviewer_again_leaves_the_account_locked(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    user = make_staff(app, "rehana")
    assert bind(runner, instance, "rehana", demo_reviewer_signing_key(instance)).exit_code == 0
    listed = newest_reviewers(instance)
    _, other = new_reviewer()
    assert install_by_cli(runner, instance, successor(instance, [other]).to_bytes())[0] == 0

    status, said = install_by_cli(runner, instance, successor(instance, listed).to_bytes())
    assert status == 0, said
    assert "locked" not in said
    again = submit_login(staff_client(app), user.username, user.password, fresh_code(app, user))
    assert again.status_code != 303
    assert len(locked_entries(app)) == 1
    # An administrator gives it back: a new password, her authenticator set up again.
    reset = runner.invoke(main, ["--instance", str(instance), "staff", "reset-2fa", "rehana"])
    assert reset.exit_code == 0, reset.output
    with app.app_context(), db_session(app) as session:
        assert "rehana" not in audit.locked(session)


def test_a_refused_install_locks_nobody(app: Flask, instance: Path, runner: CliRunner) -> None:
    user = make_staff(app, "rehana")
    assert bind(runner, instance, "rehana", demo_reviewer_signing_key(instance)).exit_code == 0
    client = staff_client(app)
    login(client, app, user)
    _, other = new_reviewer()
    one_signature = successor(instance, [other], signers=demo_authorities(instance)[:1])

    status, said = install_by_cli(runner, instance, one_signature.to_bytes())
    assert status == 1, said
    assert locked_entries(app) == []
    assert client.get("/staff/").status_code == 200


def test_the_admin_pages_install_locks_the_account_too(app: Flask, instance: Path) -> None:
    admin = staff_browser(app).log_in(add_account(app, "root", "admin"))
    user = make_staff(app, "rehana")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        staff_service.bind_reviewer(session, "root", account, demo_reviewer_signing_key(instance))
    client = staff_client(app)
    login(client, app, user)
    _, other = new_reviewer()

    status, said = install_by_web(admin, successor(instance, [other]).to_bytes())
    assert status == 303, said
    assert client.get("/staff/").status_code == 302
    assert [e["username"] for e in locked_entries(app)] == ["rehana"]


@pytest.mark.parametrize(
    ("fingerprint", "said"),
    [
        ("not a fingerprint", "not a signing-key fingerprint"),
        (None, "lists no reviewer with the signing key"),
    ],
)
def test_binding_to_a_reviewer_the_keyring_does_not_list_is_refused(
    app: Flask, instance: Path, runner: CliRunner, fingerprint: str | None, said: str
) -> None:
    make_staff(app, "rehana")
    if fingerprint is None:
        stranger = new_reviewer()[0].signing_public
        assert stranger is not None
        fingerprint = str(stranger.fingerprint)
    result = bind(runner, instance, "rehana", fingerprint)
    assert result.exit_code == 1
    assert said in result.output
    assert "staff-bound" not in [action for _, action, _ in audit_trail(app)]


def test_an_account_added_for_a_reviewer_is_bound_and_the_binding_audited(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    fingerprint = demo_reviewer_signing_key(instance)
    compact = fingerprint.replace(" ", "").lower()
    result = runner.invoke(
        main, ["--instance", str(instance), "staff", "add", "--reviewer", compact, "rehana"]
    )
    assert result.exit_code == 0, result.output
    assert bind(runner, instance, "rehana", "--none").exit_code == 0
    bound = [d for _, action, d in audit_trail(app) if action == "staff-bound"]
    assert bound == [
        {"username": "rehana", "reviewer": fingerprint},
        {"username": "rehana", "reviewer": None},
    ]


def test_an_account_given_back_but_still_bound_to_the_revoked_key_is_locked_again(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    make_staff(app, "rehana")
    assert bind(runner, instance, "rehana", demo_reviewer_signing_key(instance)).exit_code == 0
    _, other = new_reviewer()
    assert install_by_cli(runner, instance, successor(instance, [other]).to_bytes())[0] == 0
    reset = runner.invoke(main, ["--instance", str(instance), "staff", "reset-2fa", "rehana"])
    assert reset.exit_code == 0, reset.output

    status, said = install_by_cli(runner, instance, successor(instance, [other]).to_bytes())
    assert status == 0, said
    assert "locked rehana" in said
    assert len(locked_entries(app)) == 2


@pytest.mark.parametrize("how", ["added", "2fa-reset"])
def test_an_account_whose_password_the_revoked_reviewer_set_is_locked_by_the_install(
    app: Flask, instance: Path, runner: CliRunner, how: str
) -> None:
    """An administrator about to be revoked adds an account on the admin pages, or resets a
    colleague's second factor, and sets up its authenticator herself before its owner does:
    she knows the password, and the phone is hers. Her own account was locked by the install;
    that one let her in after it, as a removal's lock would not (`raazdar staff remove`)."""
    make_staff(app, "rehana", role="admin")
    assert bind(runner, instance, "rehana", demo_reviewer_signing_key(instance)).exit_code == 0
    if how == "added":
        spare = make_staff(app, "spare", actor="rehana")
    else:
        make_staff(app, "spare")
        with app.app_context(), db_session(app) as session:
            account = staff_service.get_account(session, "spare")
            password = staff_service.reset_totp(session, "rehana", account)
            # Her own authenticator, set up at the first login with the passphrase she was shown.
            secret = pyotp.random_base32()
            account.totp_secret = seal_totp_secret(app, secret)
            account.totp_enrolled = True
            session.commit()
            spare = StaffUser(account.id, "spare", password, secret, "staff")
    _, other = new_reviewer()

    status, said = install_by_cli(runner, instance, successor(instance, [other]).to_bytes())
    assert status == 0, said
    assert "raazdar: locked rehana" in said
    again = submit_login(staff_client(app), "spare", spare.password, fresh_code(app, spare))
    assert again.status_code != 303, "the account she set up let the revoked reviewer in"
    assert "raazdar: locked spare" in said
    assert {"username": "spare", "set_by": "rehana"} in locked_entries(app)


def test_a_locked_reviewers_known_device_and_pending_enrolment_hold_nothing_after_the_install(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    """What the locked colleague still holds after the install: her browser's known device's
    cookie, which gave her logins a kept place in the staff's slot that no flood takes, and a
    pending enrolment begun on another browser. The install moves the account's epoch on,
    which voids the one, and deletes every login row of the account, the other among them."""
    user = make_staff(app, "rehana")
    assert bind(runner, instance, "rehana", demo_reviewer_signing_key(instance)).exit_code == 0
    browser = staff_client(app)
    login(browser, app, user)
    cookie = browser.get_cookie(staff_devices.COOKIE, path=staff_devices.PATH)
    assert cookie is not None
    with app.test_request_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        assert staff_devices.place_key(cookie.value, account) is not None
        account.totp_enrolled = False  # as a reset leaves it: her next login enrols
        session.commit()
    enrolling = staff_client(app)
    assert submit_login(enrolling, "rehana", user.password).headers["Location"] == "/staff/enrol"
    assert enrolling.get("/staff/enrol").status_code == 200
    _, other = new_reviewer()

    status, said = install_by_cli(runner, instance, successor(instance, [other]).to_bytes())
    assert status == 0, said
    with app.test_request_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        assert staff_devices.place_key(cookie.value, account) is None, "her cookie keeps a place"
    assert enrolling.get("/staff/enrol").status_code == 303, "her pending enrolment goes on"


def test_the_admin_pages_install_names_the_accounts_it_locked_and_their_devices(
    app: Flask, instance: Path
) -> None:
    """The console's install names each account it locks and the staff-onion devices called
    after it, which still reach the login page until revoked; the admin page said only that
    the keyring was in force, and whoever installed there learnt of neither."""
    admin = staff_browser(app).log_in(add_account(app, "root", "admin"))
    make_staff(app, "rehana")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        staff_service.bind_reviewer(session, "root", account, demo_reviewer_signing_key(instance))
    StaffClients(instance / "tor").add("rehana-laptop")
    _, other = new_reviewer()

    status, page = install_by_web(admin, successor(instance, [other]).to_bytes())
    assert status == 303, page
    shown = html.unescape(page)
    assert "rehana is locked" in shown, "the page said nothing of the account it locked"
    assert "rehana-laptop can still reach the staff onion" in shown
