"""`raazdar staff`: adding, removing and resetting staff accounts on the console."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from app import reviewer_accounts
from app.cli import main
from app.models import StaffAccount
from app.services import audit, staff_devices
from app.services import staff as staff_service
from crypto import verify_password
from crypto.constants import PASSPHRASE_WORDS
from tests.app.operations.test_keyring_install import newest
from tests.app.staff_support import PASSWORD, GuessesHere, make_staff
from tests.app.support import audit_trail, db_session, reviewer_keys

NEW_PASSWORD = "a passphrase eve chose for spare"
PASSPHRASE_LINE = re.compile(r"^    ([a-z-]+(?: [a-z-]+)+)$", re.MULTILINE)


def staff(runner: CliRunner, instance: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(main, ["--instance", str(instance), "staff", *args], input=input)


def account(app: Flask, username: str) -> StaffAccount | None:
    with db_session(app) as session:
        query = select(StaffAccount).where(StaffAccount.username == username)
        return session.execute(query).scalar_one_or_none()


def shown_passphrase(output: str) -> str:
    found = PASSPHRASE_LINE.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def test_add_shows_a_generated_passphrase_once(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    result = staff(runner, instance, "add", "Alice")
    assert result.exit_code == 0, result.output
    passphrase = shown_passphrase(result.output)
    assert len(passphrase.split()) == PASSPHRASE_WORDS
    assert "raazdar: added alice (staff)" in result.output
    assert "set up at the first login" in result.output
    found = account(app, "alice")
    assert found is not None
    assert found.role == "staff"
    assert not found.totp_enrolled
    assert found.totp_secret is None
    assert passphrase not in found.password_hash
    assert verify_password(found.password_hash, passphrase)
    assert audit_trail(app)[-1] == (
        "console",
        "staff-added",
        {"username": "alice", "role": "staff"},
    )
    assert passphrase not in json.dumps(audit_trail(app))


def test_add_admin(runner: CliRunner, instance: Path, app: Flask) -> None:
    result = staff(runner, instance, "add", "--admin", "root")
    assert result.exit_code == 0, result.output
    found = account(app, "root")
    assert found is not None
    assert found.role == "admin"


def test_add_with_a_typed_password_does_not_echo_it(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    result = staff(runner, instance, "add", "--prompt-password", "bob", input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert not PASSPHRASE_LINE.search(result.output)
    found = account(app, "bob")
    assert found is not None
    assert verify_password(found.password_hash, PASSWORD)


def test_a_password_is_never_a_flag(runner: CliRunner, instance: Path, app: Flask) -> None:
    result = staff(runner, instance, "add", "--password", PASSWORD, "bob")
    assert result.exit_code == 2
    assert account(app, "bob") is None


@pytest.mark.parametrize(
    ("args", "input", "says"),
    [
        (("add", "--prompt-password", "bob"), "too short\ntoo short\n", "12 to 1024 characters"),
        (("add", "bob smith"), None, "a username has"),
        (("add", "-bob"), None, "No such option"),
        (("add", "ب"), None, "a username has"),
        (("add", "x" * 65), None, "a username has"),
    ],
)
def test_add_refuses_bad_input(
    runner: CliRunner,
    instance: Path,
    app: Flask,
    args: tuple[str, ...],
    input: str | None,
    says: str,
) -> None:
    result = staff(runner, instance, *args, input=input)
    assert result.exit_code in {1, 2}
    assert says in result.output
    assert "Traceback" not in result.output
    with db_session(app) as session:
        assert session.execute(select(StaffAccount)).first() is None


def test_add_refuses_a_taken_username(runner: CliRunner, instance: Path, app: Flask) -> None:
    assert staff(runner, instance, "add", "alice").exit_code == 0
    result = staff(runner, instance, "add", "ALICE")
    assert result.exit_code == 1
    assert "raazdar: error: a staff account called 'alice' exists already" in result.output


def test_remove(runner: CliRunner, instance: Path, app: Flask) -> None:
    make_staff(app, "alice")
    result = staff(runner, instance, "remove", "alice")
    assert result.exit_code == 0, result.output
    assert account(app, "alice") is None
    assert audit_trail(app)[-1] == ("console", "staff-removed", {"username": "alice"})
    missing = staff(runner, instance, "remove", "alice")
    assert missing.exit_code == 1
    assert "raazdar: error: no staff account is called 'alice'" in missing.output


def test_remove_names_the_devices_that_still_reach_the_staff_onion(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """An account removed is not a device revoked: the console says which to revoke."""
    make_staff(app, "alice")
    for device in ("alice-laptop", "alice-phone", "bilal-laptop"):
        added = runner.invoke(
            main, ["--instance", str(instance), "staff-onion", "add-client", device, "--shared"]
        )
        assert added.exit_code == 0, added.output
    result = staff(runner, instance, "remove", "alice")
    assert result.exit_code == 0, result.output
    hint = "raazdar: hint: alice-laptop, alice-phone can still reach the staff onion"
    assert hint in result.output, f"the removal said nothing of alice's devices: {result.output}"
    assert "raazdar staff-onion remove-client alice-laptop" in result.output
    assert "bilal-laptop" not in result.output


def test_the_last_administrator_stays(runner: CliRunner, instance: Path, app: Flask) -> None:
    make_staff(app, "root", role="admin")
    result = staff(runner, instance, "remove", "root")
    assert result.exit_code == 1
    assert "last administrator" in result.output
    assert account(app, "root") is not None
    make_staff(app, "second", role="admin")
    assert staff(runner, instance, "remove", "root").exit_code == 0


def test_role_makes_and_unmakes_an_administrator_and_the_last_stays(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    # The admin pages change no administrator: the console is where the set of them changes.
    make_staff(app, "root", role="admin")
    make_staff(app, "amina")
    result = staff(runner, instance, "role", "amina", "admin")
    assert result.exit_code == 0, result.output
    assert "raazdar: amina is now admin" in result.output
    assert audit_trail(app)[-1] == (
        "console",
        "staff-role-changed",
        {"username": "amina", "role": "admin"},
    )
    assert staff(runner, instance, "role", "root", "staff").exit_code == 0
    result = staff(runner, instance, "role", "amina", "staff")
    assert result.exit_code == 1
    assert "last administrator" in result.output
    found = account(app, "amina")
    assert found is not None
    assert found.role == "admin"


def test_reset_password_ends_sessions_and_shows_a_new_passphrase(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    make_staff(app, "alice")
    result = staff(runner, instance, "reset-password", "alice")
    assert result.exit_code == 0, result.output
    passphrase = shown_passphrase(result.output)
    found = account(app, "alice")
    assert found is not None
    assert found.epoch == 2
    assert verify_password(found.password_hash, passphrase)
    assert not verify_password(found.password_hash, PASSWORD)
    assert found.totp_enrolled  # the second factor is not touched
    assert audit_trail(app)[-1] == ("console", "staff-password-reset", {"username": "alice"})


def test_reset_password_by_prompt(runner: CliRunner, instance: Path, app: Flask) -> None:
    make_staff(app, "alice")
    new = "another long password"
    result = staff(
        runner, instance, "reset-password", "--prompt-password", "alice", input=f"{new}\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert new not in result.output
    found = account(app, "alice")
    assert found is not None
    assert verify_password(found.password_hash, new)


def test_reset_2fa(runner: CliRunner, instance: Path, app: Flask) -> None:
    make_staff(app, "alice")
    result = staff(runner, instance, "reset-2fa", "alice")
    assert result.exit_code == 0, result.output
    assert "raazdar: hint:" in result.output
    found = account(app, "alice")
    assert found is not None
    assert not found.totp_enrolled
    assert found.totp_secret is None
    assert found.epoch == 2
    # A new password: the old one would let whoever had it enrol first.
    assert verify_password(found.password_hash, shown_passphrase(result.output))
    assert not verify_password(found.password_hash, PASSWORD)
    assert audit_trail(app)[-1] == ("console", "staff-2fa-reset", {"username": "alice"})


def test_reset_of_an_unknown_account_says_so(runner: CliRunner, instance: Path) -> None:
    for command in ("reset-password", "reset-2fa"):
        result = staff(runner, instance, command, "nobody")
        assert result.exit_code == 1
        assert "raazdar: error: no staff account is called 'nobody'" in result.output


def test_list(runner: CliRunner, instance: Path, app: Flask) -> None:
    empty = staff(runner, instance, "list")
    assert empty.exit_code == 0
    assert "no staff accounts" in empty.output
    make_staff(app, "bob", enrolled=False)
    make_staff(app, "alice", role="admin")
    result = staff(runner, instance, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "2FA", "CREATED", "LAST", "LOGIN", "REVIEWER"]
    assert lines[1].split()[:3] == ["alice", "admin", "yes"]
    assert lines[2].split()[:4] == ["bob", "staff", "not", "yet"]
    assert lines[2].split()[-2:] == ["never", "none"]


def test_the_list_names_the_reviewer_each_account_is_bound_to_and_the_locked_ones(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """Who holds an account, as the keyring says, was told only by doctor's warnings: an
    administrator revoking a reviewer could not see which account the install would lock."""
    signing = reviewer_keys(instance).signing_public
    assert signing is not None
    fingerprint = str(signing.fingerprint)
    make_staff(app, "rehana")
    make_staff(app, "yusuf")
    bound = staff(runner, instance, "bind", "rehana", fingerprint)
    assert bound.exit_code == 0, bound.output
    with app.app_context(), db_session(app) as session:
        reviewer_accounts.lock_account(session, staff_service.get_account(session, "yusuf"))
        audit.record(session, audit.CONSOLE, "staff-locked", username="yusuf", set_by="x")
        session.commit()
    result = staff(runner, instance, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[-1] == "REVIEWER"
    name = newest(instance).manifest.recipients[0].name
    assert lines[1].startswith("rehana")
    assert lines[1].endswith(f"{name} ({fingerprint})")
    assert lines[2].split()[:3] == ["yusuf", "staff", "locked"]
    assert lines[2].endswith("none")


@pytest.mark.parametrize(
    "command", ["add", "remove", "role", "reset-password", "reset-2fa", "device-link", "list"]
)
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(main, ["staff", command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_remove_names_the_accounts_whose_passwords_the_removed_one_set(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """Eve, an administrator about to be removed, added bilal and reset kamran's password:
    she knows what she was shown, and may enrol an authenticator of her own before its
    owner does. Her removal left the accounts as they were, and said nothing of them."""
    make_staff(app, "amna", role="admin")
    make_staff(app, "eve", role="admin")
    make_staff(app, "kamran")
    with app.app_context(), db_session(app) as session:
        staff_service.create_account(session, "eve", "bilal", password=PASSWORD)
        kamran = staff_service.get_account(session, "kamran")
        staff_service.reset_password(session, "eve", kamran, PASSWORD)
        # Kamran chose a password of his own since: Eve no longer knows it.
        audit.record(session, "kamran", "staff-password-changed", username="kamran")
        session.commit()
    result = staff(runner, instance, "remove", "eve")
    assert result.exit_code == 0, result.output
    said = "raazdar: locked bilal: eve set their passwords (not changed since)"
    assert said in result.output, f"the removal said nothing of eve's accounts: {result.output}"
    assert "raazdar staff reset-2fa NAME" in result.output
    assert "kamran" not in result.output
    # Locked, not only named: the password eve was shown no longer opens bilal's account.
    with app.app_context(), db_session(app) as session:
        bilal = staff_service.get_account(session, "bilal")
        assert not verify_password(bilal.password_hash, PASSWORD), "eve still knows bilal's"
        assert verify_password(staff_service.get_account(session, "kamran").password_hash, PASSWORD)


def test_remove_names_the_accounts_whose_authenticator_the_removed_one_may_have_set_up(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """Eve added spare, set up its authenticator herself and changed its password on its
    Password page: the log says spare set its own password since, so her removal neither
    locked nor named it, and she logged in as spare after it. Its owner may be real (who set
    up their own authenticator and changed the password), so it is named, not locked."""
    make_staff(app, "amna", role="admin")
    make_staff(app, "eve", role="admin")
    spare = make_staff(app, "spare", actor="eve")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "spare")
        code = pyotp.TOTP(spare.secret).now()
        guesses = GuessesHere(session)
        staff_service.change_own_password(session, account, PASSWORD, NEW_PASSWORD, code, guesses)
    result = staff(runner, instance, "remove", "eve")
    assert result.exit_code == 0, result.output
    said = "raazdar: warning: eve handed spare the passphrase its authenticator was set up with"
    assert said in result.output, f"the removal said nothing of spare: {result.output}"
    assert "`raazdar staff reset-2fa spare`" in result.output
    assert "amna" not in result.output.replace("removed eve", "")


def test_remove_leaves_an_administrator_who_can_log_in(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """Eve, once an administrator, reset amna's and omar's passwords while they were staff
    (both made administrators on the console since): her removal locked them both, and left
    the instance with no administrator who could log in."""
    for name in ("amna", "omar"):
        make_staff(app, name, role="admin")
    make_staff(app, "eve")
    with app.app_context(), db_session(app) as session:
        for name in ("amna", "omar"):
            audit.record(session, "eve", "staff-password-reset", username=name)
        session.commit()
    result = staff(runner, instance, "remove", "eve")
    with app.app_context(), db_session(app) as session:
        usable = [a.username for a in staff_service.list_accounts(session) if a.totp_enrolled]
        left = [a for a in ("amna", "omar") if a in usable]
    assert left, "the removal locked every administrator"
    assert result.exit_code == 1, result.output
    assert "no administrator who can log in" in result.output
    assert "raazdar staff reset-2fa amna" in result.output, result.output
    assert account(app, "eve") is not None, "refused, yet eve was removed"


def test_remove_counts_no_administrator_locked_before_as_one_who_can_log_in(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """Amna was locked by an earlier removal and not reset since; eve set omar's password.
    Removing eve locked omar, and the check counted amna, who can no more log in than he."""
    for name in ("amna", "omar"):
        make_staff(app, name, role="admin")
    make_staff(app, "eve")
    with app.app_context(), db_session(app) as session:
        audit.record(session, "eve", "staff-password-reset", username="omar")
        amna = staff_service.get_account(session, "amna")
        amna.totp_enrolled = False
        audit.record(session, "console", "staff-locked", username="amna", set_by="zara")
        session.commit()
    result = staff(runner, instance, "remove", "eve")
    assert result.exit_code == 1, "the removal locked the last administrator who could log in"
    assert "raazdar staff reset-2fa" in result.output
    assert account(app, "eve") is not None


def test_device_link_prints_a_link_the_login_page_takes_for_its_account_only(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    make_staff(app, "alice")
    result = staff(runner, instance, "device-link", "Alice")
    assert result.exit_code == 0, result.output
    (link,) = re.findall(r"^    http://STAFF-ONION(/staff/login\?device=\S+)$", result.output, re.M)
    cookie = link.split("device=", 1)[1]
    assert cookie not in json.dumps(audit_trail(app))
    assert (audit.CONSOLE, "staff-device-linked", {"username": "alice"}) in audit_trail(app)
    with app.app_context(), db_session(app) as session:
        assert staff_devices.place_key(cookie, staff_service.get_account(session, "alice"))
        make_staff(app, "bob")
        assert staff_devices.place_key(cookie, staff_service.get_account(session, "bob")) is None


def test_device_link_for_an_unknown_name_is_refused(runner: CliRunner, instance: Path) -> None:
    result = staff(runner, instance, "device-link", "nobody")
    assert result.exit_code == 1
    assert "http://" not in result.output
