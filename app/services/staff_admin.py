"""Account changes from the admin pages: `app.services.staff` does them, this adds the web's rule.

The rules: an administrator cannot change their own account from the admin pages
(removing, demoting or resetting it by a slip would lock them out); nor reset the
password or second factor of an account that is or was an administrator's (the
new passphrase is shown to whoever resets, and a reset second factor is enrolled
by whoever logs in first: one administrator alone would take over another's
account, and act under their name). That is done at the console. The console
(`raazdar staff`) has no such rule: whoever is at it is not logged in as anyone.
Nor does the set of administrators change here, but at the console: an
administrator added on the web (or promoted after one set up its second factor
with a passphrase shown to her) may be one more account in her hands, so two-
administrator rules become one person; and one removing or demoting every
colleague was left alone with the admin pages, and with what they show.
Everything else — the last administrator stays, passphrases are generated and
shown once, new credentials end sessions, every change is audited — lives in
`app.services.staff`, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import StaffAccount
from app.services import staff
from app.services.audit import CONSOLE
from app.services.staff import ROLES, AccountError, list_accounts

__all__ = [
    "ROLES",
    "AccountError",
    "AccountMissing",
    "NewPassphrase",
    "Removed",
    "change_role",
    "create",
    "list_accounts",
    "remove",
    "reset_password",
    "reset_second_factor",
]


class AccountMissing(AccountError):
    """No account has that id (removed meanwhile, or never existed)."""

    status = 404


@dataclass(frozen=True)
class NewPassphrase:
    """A passphrase just set for an account: shown once, then only its hash remains."""

    username: str
    passphrase: str


def create(session: Session, username: str, role: str, *, actor: StaffAccount) -> NewPassphrase:
    """Create an account with a generated passphrase (second factor enrolled at first login)."""
    if role == "admin":
        raise AccountError(
            "An administrator is added on the server's console (`raazdar staff add --admin "
            "NAME`): whoever adds one here sees its passphrase and can set up its "
            "authenticator first, holding a second administrator's account."
        )
    account, passphrase = staff.create_account(session, actor.username, username, role=role)
    return NewPassphrase(account.username, passphrase)


@dataclass(frozen=True)
class Removed:
    """An account removed, and the accounts whose passwords it had set, locked with it."""

    username: str
    known: list[str]
    # The staff-onion devices added for it, revoked with it.
    devices: list[str]


def remove(session: Session, account_id: str, *, actor: StaffAccount) -> Removed:
    """Remove another account; say which it was, and whose accounts were locked with it."""
    account = _not_an_admin_now(_other(session, account_id, actor), "remove {name}")
    name = account.username
    if actor.username in staff.passwords_set_by(session, name):
        # The removal locks the accounts whose passwords the removed one set: hers too,
        # her session ended mid-request, and she was told nothing before she confirmed.
        raise AccountError(
            f"Removing {name!r} would lock your own account: {name} set your password (not "
            f"changed since). Change it first on your Password page (or have "
            f"`raazdar staff reset-2fa {actor.username}` run on the server's console), "
            f"then remove {name}."
        )
    removal = staff.remove_account(session, actor.username, account)
    return Removed(name, removal.known, removal.devices)


def reset_password(session: Session, account_id: str, *, actor: StaffAccount) -> NewPassphrase:
    """Give another account a new generated passphrase, ending its sessions."""
    account = _not_an_admin(session, _other(session, account_id, actor))
    return NewPassphrase(account.username, staff.reset_password(session, actor.username, account))


def reset_second_factor(session: Session, account_id: str, *, actor: StaffAccount) -> NewPassphrase:
    """Make another account enrol its second factor again, with a new passphrase (shown once)."""
    account = _not_an_admin(session, _other(session, account_id, actor))
    return NewPassphrase(account.username, staff.reset_totp(session, actor.username, account))


def change_role(session: Session, account_id: str, role: str, *, actor: StaffAccount) -> str:
    """Make another account staff or admin; return its username."""
    account = _other(session, account_id, actor)
    if account.role == role:
        return account.username
    _not_an_admin_now(account, f"role {{name}} {role}")
    if role == "admin":
        _held_by_none(session, account)
    staff.set_role(session, actor.username, account, role)
    return account.username


def _other(session: Session, account_id: str, actor: StaffAccount) -> StaffAccount:
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise AccountMissing("There is no such account (it may have been removed).")
    if account.id == actor.id:
        raise AccountError(
            "You cannot change your own account here: ask another administrator, "
            "or use `raazdar staff` on the server's console."
        )
    return account


def _not_an_admin(session: Session, account: StaffAccount) -> StaffAccount:
    if staff.ever_admin(session, account):
        raise AccountError(
            f"{account.username!r} is or was an administrator: their password or second "
            f"factor is reset on the server's console (`raazdar staff reset-password "
            f"{account.username}` or `raazdar staff reset-2fa {account.username}`), where "
            "the owner can be given it; from here one administrator alone could take over "
            "another's account."
        )
    return account


def _not_an_admin_now(account: StaffAccount, command: str) -> StaffAccount:
    if account.role == "admin":
        shown = command.format(name=account.username)
        raise AccountError(
            f"{account.username!r} is an administrator: administrators are removed or demoted "
            f"on the server's console (`raazdar staff {shown}`); from here one administrator "
            "alone could take every other one away."
        )
    return account


def _held_by_none(session: Session, account: StaffAccount) -> None:
    """Refuse to promote an account whose second factor someone else may have set up."""
    command = f"`raazdar staff role {account.username} admin`"
    if not account.totp_enrolled:
        raise AccountError(
            f"{account.username!r} has not set up an authenticator yet (whoever logs in first "
            f"with its passphrase does): they are made an administrator on the server's "
            f"console ({command}) once they have."
        )
    setter = staff.second_factor_set_by(session, account)
    if setter not in (None, account.username, CONSOLE):
        raise AccountError(
            f"{account.username!r} set up their authenticator with a passphrase {setter} was "
            f"shown on the admin pages, who could have set it up first: they are made an "
            f"administrator on the server's console ({command}), after their second factor "
            "is reset there (`raazdar staff reset-2fa`) and handed over in person."
        )
