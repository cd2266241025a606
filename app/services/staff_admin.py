"""Account changes from the admin pages: `app.services.staff` does them, this adds the web's rule.

The rules: an administrator cannot change their own account from the admin pages
(removing, demoting or resetting it by a slip would lock them out); nor reset the
password or second factor of an account that is or was an administrator's (the
new passphrase is shown to whoever resets, and a reset second factor is enrolled
by whoever logs in first: one administrator alone would take over another's
account, and act under their name). That is done at the console. The console
(`raazdar staff`) has no such rule: whoever is at it is not logged in as anyone.
Everything else — the last administrator stays, passphrases are generated and
shown once, new credentials end sessions, every change is audited — lives in
`app.services.staff`, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import StaffAccount
from app.services import staff
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
    account, passphrase = staff.create_account(session, actor.username, username, role=role)
    return NewPassphrase(account.username, passphrase)


@dataclass(frozen=True)
class Removed:
    """An account removed, and the accounts whose passwords it had set (`passwords_set_by`)."""

    username: str
    known: list[str]


def remove(session: Session, account_id: str, *, actor: StaffAccount) -> Removed:
    """Remove another account; say which it was, and whose passwords it knows."""
    account = _other(session, account_id, actor)
    name = account.username
    staff.remove_account(session, actor.username, account)
    return Removed(name, staff.passwords_set_by(session, name))


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
