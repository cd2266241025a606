"""Staff accounts and their two-factor login (the dashboard is `app.services.dashboard`).

A login needs the password and a TOTP code; each code is accepted once, and never
one older than the last accepted. A wrong password is refused and counted nowhere:
counted, anyone who reaches the staff onion could lock an account's owner out by
trying passwords under its name. Codes tried behind the right password are counted
per account in the database (`app.throttle`), in a short window and over a day,
so every worker shares the count; each before it is tried, and given back if it
was right, so that codes sent at once are tried no more than the limit allows;
past the limit every login of the account is refused as a wrong one, so that the
count tells no guesser which password was right. An unknown name is refused as a
known one with a wrong password is, and after the password's hash every refused
login does the same work, on stand-ins where the account's is not to be done
(`authenticate`), so that its time tells no guesser either. Each password check
is an Argon2id hash in the staff's own slot (`app.kdf_pool`), which no flood of
sources' logins takes, and a login from a known device (`app.services.staff_devices`)
waits in a place of it no flood without that device's cookie takes.
A new password or a reset second factor moves the account's epoch on, which ends
every session made before (`app.staff.auth`). Every change to an account is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import pyotp
import segno
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import kdf_pool, reviewer_accounts, runkey, runshare, sessions, throttle
from app.errors import AppError, KeyringUnavailable, ThrottledError
from app.models import StaffAccount, today
from app.operations.tor import owners
from app.services import audit, staff_devices
from app.services.context import services
from app.settings import get_setting
from crypto import (
    CryptoError,
    Fingerprint,
    KdfParams,
    TokenKey,
    generate_passphrase,
    hash_password,
    needs_rehash,
    unmatchable_hash,
    verify_password,
)
from crypto.constants import PERSON_TOTP_KEY, TOKEN_CONTEXT_TOTP
from crypto.password import check_password, hash_cost

_T = TypeVar("_T")
ROLES: Final = ("staff", "admin")
USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Who acts when nobody is logged in yet: the login form itself.
LOGIN_ACTOR: Final = "login"
# Phone clocks drift: the code of the step before and after the current one counts too.
_DRIFT_STEPS: Final = 1
_CODE: Final = re.compile(r"[0-9]{6}")
_THROTTLE_PERSON: Final = b"rz-staff-login"
_DAY: Final = 24 * 60 * 60
# Between a host's last look at the run keys offered to it (`runshare.take_up`) and
# its write of a spent code's tag: one statement, a lock's wait at most.
_SETTLE_SECONDS: Final = 5


class AccountError(AppError):
    """An account change was refused; the message says why and is safe to show."""

    status = 400


class WrongPassword(AccountError):
    """The current password given to change it was wrong; nothing changed."""


class SamePassword(AccountError):
    """The new password is the current one; nothing changed."""


class TooManyGuesses(AccountError):
    """The session used its limit of failed tries: it has ended, and nothing was checked."""

    status = 403


class WrongCode(AccountError):
    """The code given with a change was wrong, or spent; counted as at a login; nothing changed."""

    status = 403


class PasswordRefused(AccountError):
    """A new password breaks the rules on passwords (`crypto.hash_password`); nothing changed."""


class NoLongerStaff(AccountError):
    """The account acting was removed or reset since its request came in; nothing was done."""

    status = 403


class NoLongerAdmin(NoLongerStaff):
    """The administrator acting was removed, demoted or reset since their request came in."""


class LockedForTheDay(ThrottledError):
    """Past the day's limit: the account waits up to two days, or an administrator's reset.

    Said only to whoever has the password or a session, before any password is
    checked, so it tells nothing about the one typed.
    """


class AccountChanged(AccountError):
    """The account's credentials changed (an administrator's reset?) while this change ran."""

    status = 409


class PasswordGuesses(Protocol):
    """A session's count of the failed tries typed in it (`app.staff.auth.SessionGuesses`).

    Each try is counted before its password's check (`take`), and given back only once
    its code was right too (`settle`): counted after, guesses sent at once were each
    checked before any was counted, the limit's and as many more as were waiting for the
    staff's slot; given back for the right password alone, it said which guess was right.
    """

    def take(self) -> bool:
        """Count a guess about to be checked; False: past the limit, and the session ended."""

    def settle(self, give_back: bool, alongside: Callable[[], None]) -> bool:
        """Give the guess back or keep it counted, writing `alongside` in the same commit;
        False if the session ended meanwhile (nothing was written then)."""


# Accounts.


def normalize_username(text: str) -> str:
    """Fold a typed username to the form accounts are stored under."""
    return text.strip().lower()


def check_username(text: str) -> str:
    """Return the normalised username, or refuse one that is not short lowercase ASCII."""
    name = normalize_username(text)
    if not USERNAME.fullmatch(name):
        raise AccountError(
            "a username has 1 to 64 characters: a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def find_account(session: Session, username: str) -> StaffAccount | None:
    """Return the account called `username`, or None."""
    query = select(StaffAccount).where(StaffAccount.username == normalize_username(username))
    return session.execute(query).scalar_one_or_none()


def get_account(session: Session, username: str) -> StaffAccount:
    """Return the account called `username`, or refuse."""
    account = find_account(session, username)
    if account is None:
        raise AccountError(f"no staff account is called {normalize_username(username)!r}")
    return account


def list_accounts(session: Session) -> list[StaffAccount]:
    """Every staff account, by username."""
    return list(session.execute(select(StaffAccount).order_by(StaffAccount.username)).scalars())


def reviewer_names() -> dict[str, str]:
    """The reviewers of the keyring in force by signing-key fingerprint (empty: none in force)."""
    try:
        manifest = services().manifest()
    except KeyringUnavailable:
        return {}
    return {str(r.signing_key.fingerprint): r.name for r in manifest.recipients}


def create_account(
    session: Session,
    actor: str,
    username: str,
    *,
    role: str = "staff",
    password: str | None = None,
    reviewer: str | None = None,
) -> tuple[StaffAccount, str]:
    """Add an account (second factor enrolled at first login); return it and its password.

    `reviewer` binds it to a reviewer's signing-key fingerprint (`bind_reviewer`).
    """
    name = check_username(username)
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}")
    bound = listed_reviewer(reviewer) if reviewer is not None else None
    if find_account(session, name) is not None:
        raise AccountError(f"a staff account called {name!r} exists already")
    # The log knows people by name: a name it already uses made one person of two.
    if name in (audit.CONSOLE, LOGIN_ACTOR):
        raise AccountError(f"the audit log calls the server itself {name!r}: choose another name")
    if audit.names_account(session, name):
        raise AccountError(
            f"the audit log names an account {name!r} removed before: choose another name,"
            " so that its entries stay that account's"
        )
    password = password if password is not None else generate_passphrase()
    account = StaffAccount(
        username=name, role=role, password_hash=hash_password(password, _cost()), reviewer=bound
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise AccountError(f"a staff account called {name!r} exists already") from exc
    audit.record(session, actor, "staff-added", username=name, role=role)
    if bound is not None:
        audit.record(session, actor, "staff-bound", username=name, reviewer=bound)
    session.commit()
    return account, password


# Reviewers' accounts: revoking a reviewer in the keyring locks the account bound to them.


def listed_reviewer(fingerprint: str) -> str:
    """Return a reviewer's signing-key fingerprint as the keyring in force shows it, or refuse.

    Only a reviewer the keyring lists can be bound: a mistyped fingerprint bound
    nobody, and the account outlived that reviewer's revocation unnoticed.
    """
    try:
        wanted = str(Fingerprint.parse(fingerprint))
    except CryptoError as exc:
        raise AccountError(f"not a signing-key fingerprint: {exc}") from exc
    if wanted not in reviewer_accounts.reviewer_signing_keys(services().manifest()):
        raise AccountError(
            f"the keyring in force lists no reviewer with the signing key {wanted}"
            " (`raazdar keyring show` lists them)"
        )
    return wanted


def bind_reviewer(
    session: Session, actor: str, account: StaffAccount, fingerprint: str | None
) -> None:
    """Bind an account to a reviewer of the keyring in force (None: to nobody); audited.

    A binding does not unlock an account a revocation locked: an administrator's
    reset does, once they have seen who holds it.
    """
    bound = listed_reviewer(fingerprint) if fingerprint is not None else None
    if account.reviewer == bound:
        return
    account.reviewer = bound
    audit.record(session, actor, "staff-bound", username=account.username, reviewer=bound)
    session.commit()


def _admins(session: Session) -> int:
    """Count the administrators, keeping every other writer off them until the caller commits.

    Two administrators taken away at once would each count the other and leave
    none. Holding their rows takes the lock a count alone does not: on PostgreSQL
    the second writer waits on the rows and then counts again; on SQLite, whose
    reads take no lock, rewriting them as they are takes the database's one writer.
    """
    # Held in the one order every change takes accounts' rows in (`hold_accounts`): an
    # update takes them in the order its scan finds them, and an install that took a
    # leaver's row, then an administrator's, deadlocked with the admin page removing her.
    reviewer_accounts.hold_accounts(session, ())
    session.execute(
        update(StaffAccount)
        .where(StaffAccount.role == "admin")
        .values(role=StaffAccount.role)
        .execution_options(synchronize_session=False)
    )
    query = select(func.count()).select_from(StaffAccount).where(StaffAccount.role == "admin")
    return session.scalar(query) or 0


def _admin_ids(session: Session) -> list[str]:
    """The administrators' ids, read without a lock (`_admins` holds their rows)."""
    return list(session.scalars(select(StaffAccount.id).where(StaffAccount.role == "admin")))


def hold_admin(session: Session, account: StaffAccount) -> None:
    """Refuse unless `account` is still the administrator it was; hold that until the commit.

    An admin page checks its administrator as the request comes in, and acts
    later (a passphrase's hash takes most of a second): a removal, demotion or
    reset committed meanwhile was followed by what the request did, in the name
    of an account already gone. Every administrator's row is held, as `_admins`
    holds them, so such a change waits for this action to commit, or it came
    first and this action is refused (`NoLongerAdmin`).
    """
    _admins(session)
    ident, epoch = account.as_found()
    row = session.execute(
        select(StaffAccount.role, StaffAccount.epoch).where(StaffAccount.id == ident)
    ).one_or_none()
    if row is None or row.role != "admin" or row.epoch != epoch:
        raise NoLongerAdmin("your account was removed or changed meanwhile: nothing was done")


def hold_staff(session: Session, account: StaffAccount) -> None:
    """Refuse unless `account` is still as its session found it; hold its row until the commit.

    For what a staff page writes after a long wait (an export bundle can take
    minutes to write): a removal or reset committed meanwhile refuses it
    (`NoLongerStaff`), and one that comes after this waits for its commit.
    """
    ident, epoch = account.as_found()
    held = session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == ident, StaffAccount.epoch == epoch)
        .values(epoch=epoch)
        .execution_options(synchronize_session=False)
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        raise NoLongerStaff("your account was removed or changed meanwhile: nothing was done")


def still_signed_in(
    session: Session, ident: str, epoch: int, login: tuple[str, bytes] | None
) -> bool:
    """Whether account `ident` is still at `epoch`, and its login `login` (row id, key) stands.

    For a download that runs on after the request that began it: a removal, a reset, a
    lock by a keyring install move the epoch on (or delete the account), and they, a
    logout and "end my other sessions" delete the login's row. The login is kept alive
    meanwhile (`sessions.kept_on`), which commits.
    """
    if login is not None and sessions.kept_on(session, *login) is None:
        return False
    found = session.execute(
        select(StaffAccount.epoch).where(StaffAccount.id == ident, StaffAccount.totp_enrolled)
    ).scalar_one_or_none()
    return found == epoch


def _next_epoch(account: StaffAccount) -> None:
    """Move the account's epoch on in the database itself: a change racing this one ends too.

    Counted from the row as it is when written, not as it was read, so that a
    password changed meanwhile on the account's own device gets an epoch this
    reset moves past, and the session begun with it ends.
    """
    account.epoch = StaffAccount.epoch + 1


@dataclass(frozen=True)
class Removal:
    """What a removal did beside deleting the account."""

    # The accounts whose passwords the removed one set, locked with it.
    known: list[str]
    # The staff-onion devices added for the removed account, revoked with it.
    devices: list[str]


def remove_account(session: Session, actor: str, account: StaffAccount) -> Removal:
    """Delete an account; the last administrator stays (add another one first).

    Every account whose password the removed one set and its owner kept
    (`passwords_set_by`) is locked in the same commit: given a password nobody
    is shown, its second factor forgotten, its sessions ended. Whoever had the
    removed account knows that password, and may have set up the authenticator
    herself (a spare account of her own): named but left as it was, it let her
    in after her removal. An administrator's reset (who is not her: she is gone)
    gives it back to its owner with a passphrase she never saw. The staff-onion
    devices added for her are revoked in the same commit (`app.operations.tor.owners`):
    kept, they reached the login page, and the staff's login slot, after she left.
    """
    # One lock order for every change of an account (on PostgreSQL): the rows of
    # every account it changes, by id and at once (`reviewer_accounts.hold_accounts`,
    # as a keyring install takes them), their sessions, then the audit log's head
    # (`audit.record`). A removal that took the head first, as a change of the same
    # account held its row, waited on it while the change waited on the head; one
    # that took its own row, then those it locks, met an install taking them the
    # other way round: a deadlock either way, and a 500 for one of them.
    known = passwords_set_by(session, account.username)
    admins = _admin_ids(session) if account.role == "admin" else []
    ids = {account.id, *admins, *(get_account(session, n).id for n in known)}
    if account.id not in reviewer_accounts.hold_accounts(session, ids):
        raise AccountError(f"{account.username!r} was removed meanwhile")
    # Read again under the rows' locks: a password set meanwhile named another (rare;
    # its row is then taken out of order, as before).
    known = passwords_set_by(session, account.username)
    reviewer_accounts.hold_accounts(session, {get_account(session, n).id for n in known} - ids)
    if account.role == "admin" and _admins(session) <= 1:
        raise AccountError(f"{account.username!r} is the last administrator: add another first")
    _keep_an_administrator(session, account, known)
    # The accounts' rows and sessions before the log's head, as every change takes them.
    for name in known:
        _lock(session, get_account(session, name))
    sessions.end_staff_logins(session, account.id)
    # Last before the log: nothing after it refuses, and a failed commit puts them back.
    devices = owners.revoke(session, owners.instance_clients(), account.username)
    revoked = {"devices": devices} if devices else {}
    audit.record(session, actor, "staff-removed", username=account.username, **revoked)
    for name in known:
        audit.record(session, actor, "staff-locked", username=name, set_by=account.username)
    session.delete(account)
    session.commit()
    return Removal(known, devices)


def _keep_an_administrator(session: Session, account: StaffAccount, locked: list[str]) -> None:
    """Refuse a removal whose locks would leave no administrator who can log in.

    Had the removed one once set every other administrator's password (as an
    administrator, while they were staff, before the console promoted them),
    the removal locked them all: nobody left to reset anyone on the admin pages.
    """
    admins = [a.username for a in list_accounts(session) if a.role == "admin"]
    taken = [n for n in admins if n in locked]
    # One locked by an earlier removal, and not reset since, can no more log in.
    already = [n for n in admins if n in audit.locked(session) and n not in taken]
    if not taken or any(n not in (account.username, *taken, *already) for n in admins):
        return
    name = account.username
    also = f", and {', '.join(already)} locked already" if already else ""
    raise AccountError(
        f"removing {name!r} would leave no administrator who can log in: it locks "
        f"{', '.join(taken)} ({name} set their passwords, not changed since){also}. First give "
        f"one of them a password {name} never saw (`raazdar staff reset-2fa {taken[0]}` on the "
        f"server's console, or its owner changes it on the Password page), then remove {name}"
    )


def _lock(session: Session, account: StaffAccount) -> None:
    """Lock an account until a reset: a password nobody sees, no second factor (no commit)."""
    reviewer_accounts.lock_account(session, account)


def passwords_set_by(session: Session, username: str) -> list[str]:
    """The accounts whose password `username` set (added or reset) and their owners kept.

    Whoever had that account knows those passwords and, before an owner's first
    login, may enrol an authenticator of their own: a removal names them, for an
    administrator to reset.
    """
    setters = audit.password_setters(session)
    return [
        a.username
        for a in list_accounts(session)
        if a.username != username and setters.get(a.username) == username
    ]


def ever_admin(session: Session, account: StaffAccount) -> bool:
    """Whether the account is, or the audit log says it was, an administrator.

    A role change is logged only for an account that was an administrator or became one.
    """
    if account.role == "admin":
        return True
    for action in ("staff-added", "staff-role-changed"):
        for entry in audit.entries(session, action=action):
            detail = json.loads(entry.detail)
            if detail.get("username") == account.username and (
                action == "staff-role-changed" or detail.get("role") == "admin"
            ):
                return True
    return False


def second_factors_handed_by(session: Session, username: str) -> list[str]:
    """The accounts not locked whose second factor was set up with a passphrase `username`
    handed (added, or reset), no reset since: a removal names them.

    Whoever handed it may have set up the authenticator herself and then changed the
    password on the account's own Password page, after which the log says the account set
    its password, and a removal neither locked nor named it. Its owner may as well have
    done both, so it is named, for an administrator who knows whose it is, not locked.
    """
    setters, locked = audit.second_factor_setters(session), audit.locked(session)
    return [
        a.username
        for a in list_accounts(session)
        if a.username != username
        and setters.get(a.username) == username
        and a.username not in locked
    ]


def second_factor_set_by(session: Session, account: StaffAccount) -> str | None:
    """Who handed `account` the passphrase its authenticator was set up with (None: unknown)."""
    return audit.second_factor_setters(session).get(account.username)


# The accounts page shows every administrator the resets of this many days.
RESETS_SHOWN_DAYS: Final = 30


@dataclass(frozen=True)
class Reset:
    """A password or second factor reset, as the audit log has it."""

    actor: str
    username: str
    second_factor: bool
    day: dt.date


def recent_resets(session: Session, day: dt.date) -> list[Reset]:
    """The resets of the `RESETS_SHOWN_DAYS` days up to `day`, newest first."""
    since = day - dt.timedelta(days=RESETS_SHOWN_DAYS)
    found = [
        Reset(e.actor, json.loads(e.detail).get("username", ""), action == "staff-2fa-reset", e.day)
        for action in ("staff-password-reset", "staff-2fa-reset")
        for e in audit.entries(session, action=action)
        if e.day >= since
    ]
    return sorted(found, key=lambda r: r.day, reverse=True)


def set_role(session: Session, actor: str, account: StaffAccount, role: str) -> None:
    """Make an account staff or admin; the last administrator stays one."""
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}")
    if account.role == role:
        return
    # A promotion too: an administrator's row taken after a leaver's was half a deadlock.
    if account.id not in reviewer_accounts.hold_accounts(session, [account.id]):
        raise AccountError(f"{account.username!r} was removed meanwhile")
    if account.role == "admin" and _admins(session) <= 1:
        raise AccountError(f"{account.username!r} is the last administrator: add another first")
    account.role = role
    audit.record(session, actor, "staff-role-changed", username=account.username, role=role)
    session.commit()


def reset_password(
    session: Session, actor: str, account: StaffAccount, password: str | None = None
) -> str:
    """Give an account a new password (generated unless given), ending its sessions."""
    password = password if password is not None else generate_passphrase()
    account.password_hash = hash_password(password, _cost())
    _next_epoch(account)
    sessions.end_staff_logins(session, account.id)
    _lift_throttle(session, account)
    audit.record(session, actor, "staff-password-reset", username=account.username)
    session.commit()
    return password


def reset_totp(
    session: Session, actor: str, account: StaffAccount, password: str | None = None
) -> str:
    """Forget an account's second factor and give it a new password; return the password.

    The next login needs no code (it enrols one): with the old password standing,
    whoever had it as well as the lost phone enrolled an authenticator of their own
    before the owner came back. Only whoever is handed the new password enrols.
    """
    password = password if password is not None else generate_passphrase()
    account.password_hash = hash_password(password, _cost())
    account.totp_secret = None
    account.totp_enrolled = False
    _next_epoch(account)
    sessions.end_staff_logins(session, account.id)
    _lift_throttle(session, account)
    audit.record(session, actor, "staff-2fa-reset", username=account.username)
    session.commit()
    return password


def change_own_password(
    session: Session,
    account: StaffAccount,
    current: str,
    new: str,
    code: str,
    guesses: PasswordGuesses,
    device: str | None = None,
) -> None:
    """Change `account`'s password after checking its current one and a fresh code.

    Every session of the account ends.

    The caller starts a fresh session for the device that asked; every other
    device is logged out. A wrong current password changes nothing and is not
    counted against the account (`WrongPassword`: it is counted against the
    session, `guesses`, which ends past the limit: `TooManyGuesses`, unchecked);
    every try is counted there, the right password's too (a right one given back
    let the session live a guess longer, and said which was right), and an account
    throttled for its codes is answered as a wrong password is, after the same work.
    The new password is written only over the epoch the check was made in: a
    reset or removal that lands meanwhile stands (`AccountChanged`), since the
    account's owner, told it is coming, would otherwise put their own password
    back over it and keep the session begun with it. The code is spent, and a
    wrong one counted as at a login (`WrongCode`): without it, whoever had seen
    the password typed, at a laptop left logged in, shut its owner out. A known
    device's cookie (`device`) gives both hashes its kept place, as at a login.
    """
    epoch = account.epoch
    place = staff_devices.place_key(device, account)
    runshare.exchange(session)
    bucket = _bucket(account.username)
    # The typed strings alone, before the current password's check: refused after it, a
    # new password too short or the same said that the current one typed was right.
    _check_new_password(current, new)
    right = _guess_password(session, guesses, lambda: account.password_hash, current, place)
    # Hashed whether or not the current one was right: a second hash behind the right
    # one alone took as long again, and said so to whoever sat at the session.
    try:
        encoded = _new_password(current, new, place)
    except (AccountError, kdf_pool.KdfBusy):
        guesses.settle(False, lambda: None)  # checked: it stays counted, right or wrong
        raise
    try:
        charged = _settle_guess(session, guesses, right, bucket, account)
    except NoLongerStaff as exc:
        # Its session ended meanwhile: a reset (which ends them all), or a guess sent beside.
        raise AccountChanged("the account changed meanwhile: nothing changed") from exc
    # Behind a wrong password a stand-in's code is tried: the same work as a wrong code.
    tried = _try_code(session, account if charged is not None else None, code)
    if charged is None or not tried:
        session.rollback()  # the code's try stays counted
        if charged is None:
            raise WrongPassword("the current password is wrong")
        raise WrongCode("the code is not right, or was used already")
    throttle.refund(session, charged)
    changed = session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account.id, StaffAccount.epoch == epoch)
        .values(password_hash=encoded, epoch=epoch + 1)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise AccountChanged("the account changed meanwhile: nothing changed")
    # What this change wrote, not what the row holds by the time it is read again.
    set_committed_value(account, "password_hash", encoded)
    set_committed_value(account, "epoch", epoch + 1)
    sessions.end_staff_logins(session, account.id)
    audit.record(session, account.username, "staff-password-changed", username=account.username)
    session.commit()


def _check_new_password(current: str, new: str) -> None:
    """Refuse a new password that is the current one typed, or of a length never taken."""
    if new == current:
        raise SamePassword("the new password is the current one")
    try:
        check_password(new)
    except CryptoError as exc:
        raise PasswordRefused(str(exc)) from exc


def _new_password(current: str, new: str, place: int | None = None) -> str:
    """Hash a new password, or refuse it (`SamePassword`, `PasswordRefused`)."""
    _check_new_password(current, new)
    try:
        cost = _cost()
        return _pooled(lambda: hash_password(new, cost), place)
    except CryptoError as exc:
        raise PasswordRefused(str(exc)) from exc


# Login.


@dataclass(frozen=True)
class Login:
    """A login whose factors checked out; `enrolment` is set when a second factor is due."""

    account: StaffAccount
    # A new TOTP secret, sealed, for an account that has none yet.
    enrolment: str | None = None


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as text, and as a QR code."""

    secret: str
    qr_svg: str


def authenticate(
    session: Session, username: str, password: str, code: str, device: str | None = None
) -> Login | None:
    """Check a password and a TOTP code, or lead an account without one to enrolment.

    While the account has too many codes tried in the window, every login is refused
    as a wrong one is, the right password and code too, and no code is tried. Every
    refusal does the same work after the hash (`_count_login_code`, `_stand_in_secret`).
    A known device's cookie (`device`) made for this account gives its check a place of
    its own in the staff's slot (`staff_devices`); any other is as none.
    """
    runshare.exchange(session)
    name = normalize_username(username)
    bucket = _bucket(name)
    account = find_account(session, name)
    # An unknown name costs the same hashes as a known one, in the same slot and nowhere
    # else: timing tells them apart no better.
    encoded = account.password_hash if account is not None else None
    costs = _costs_in_use(session, encoded)
    place = staff_devices.place_key(device, account)
    right = _pooled(lambda: _check_at_every_cost(encoded, password, costs), place)
    known = account if right else None
    # From here every refusal does the same work, on stand-ins where it may not touch the
    # account's: a right password's code counted and tried took some 10 ms more than a
    # wrong one's stand-in counts, throttled too, and whoever timed logins of one password
    # again and again read that it was right, without the code (`test_staff_login_timing`).
    # A wrong password is counted nowhere: counted, anyone who reaches the staff onion
    # could lock its owner out by trying passwords under a name. The password is the
    # guard there; the throttle counts codes tried behind the right one, and meets a
    # throttled account's logins as wrong ones (a throttle that said so told which
    # password was right). No rollback before the count: it would expire the account
    # read as the request found it (`StaffAccount.as_found`).
    enrolled = known is not None and known.totp_enrolled
    charged = _count_login_code(session, bucket if known is not None else None, known, enrolled)
    session.commit()
    throttled = isinstance(charged, ThrottledError)
    if known is not None and not known.totp_enrolled and not throttled:
        if not _settle(session, known, password):
            return None
        return Login(known, enrolment=_seal(pyotp.random_base32()))
    tried = known if enrolled and not throttled else None
    secret = _open(tried.totp_secret if tried is not None else _stand_in_secret())
    # Tried whatever else said no (the stand-in's secret is nobody's): the same work.
    right_code = _use_code(session, tried, secret or "", code)
    if right_code and tried is not None and secret and isinstance(charged, throttle.Charge):
        throttle.refund(session, charged)
        if not _settle(session, tried, password, last_login_day=today()):
            return None
        return Login(tried)
    session.rollback()  # the code's try stays counted
    return None


def _costs_in_use(session: Session, encoded: str | None) -> list[KdfParams]:
    """Today's costs and every cost a stored hash (`encoded` among them) was made at."""
    found = {_cost()}
    for stored in [*session.scalars(select(StaffAccount.password_hash)), encoded or ""]:
        cost = hash_cost(stored)
        if cost is not None:
            found.add(cost)
    return sorted(found, key=lambda cost: (cost.ops, cost.mem))


def _check_at_every_cost(encoded: str | None, password: str, costs: list[KdfParams]) -> bool:
    """Check `password` against `encoded` at its costs, and against a stand-in at each other.

    After a rise in costs an account keeps its hash of the old ones until its owner's
    next full login. Checked at its own costs alone, a login under its name took the
    old cost's time and one under an unknown name today's: a wrong password's timing
    said which names had an account, made before the rise. Every login checks one hash
    at each cost in use, in one order, whatever its name (None: no account).
    """
    own = hash_cost(encoded) if encoded is not None else None
    right = False
    for cost in costs:
        if encoded is not None and cost == own:
            right = verify_password(encoded, password)
        else:
            verify_password(unmatchable_hash(cost), password)
    return right


def _count_login_code(
    session: Session, bucket: str | None, account: StaffAccount | None, count: bool
) -> throttle.Charge | ThrottledError:
    """Count a code's try behind the right password (`bucket`, the account's), at a login or
    in a live session, or do the same work on stand-ins (None: a wrong password); the
    caller commits.

    `count` False reads the account's counts and counts nothing (one whose code is
    counted when it enrols). Every way, the statements and the rows they write are
    the same (`throttle.charge_evenly`). The try that takes the window's last one is
    audited, as `_charge_code` audits it.
    """
    config = current_app.config
    daily = _daily(bucket or "")
    charged = throttle.charge_evenly(
        session,
        [
            (daily, _DAY, int(config["STAFF_LOGIN_DAILY_FAILURES"])),
            (
                bucket or "",
                int(config["STAFF_LOGIN_WINDOW_SECONDS"]),
                config["STAFF_LOGIN_FAILURES"],
            ),
        ],
        count=count,
        stand_ins=bucket is None,
    )
    if isinstance(charged, throttle.Charge) and charged.locks and account is not None:
        audit.record(session, LOGIN_ACTOR, "staff-login-throttled", username=account.username)
    if isinstance(charged, ThrottledError) and charged.args and charged.args[0] == daily:
        return LockedForTheDay(str(charged))
    return charged


def _try_code(session: Session, account: StaffAccount | None, code: str) -> bool:
    """Open `account`'s second factor and spend `code` on it, in a live session; for None
    (its password was wrong) a stand-in's, nobody's, opened and tried alike, never accepted."""
    secret = _open(account.totp_secret if account is not None else _stand_in_secret())
    if secret is None:
        return False
    return _use_code(session, account, secret, code) and account is not None


def _stand_in_secret() -> str:
    """A sealed TOTP secret of nobody's, opened and tried where a refused login's code is
    not the account's to try: the same work as a real one's."""
    sealed: str | None = current_app.extensions.get("raazdar.totp_stand_in")
    if sealed is None:
        sealed = _seal(pyotp.random_base32())
        current_app.extensions["raazdar.totp_stand_in"] = sealed
    return sealed


def reauthenticate(
    session: Session,
    account: StaffAccount,
    password: str,
    code: str,
    guesses: PasswordGuesses,
    device: str | None = None,
) -> bool:
    """Check a logged-in account's password and a fresh code again, before a change it asks.

    Every try is counted against the session (`guesses`), not against the account,
    and given back only when both factors were right: past the session's limit it is
    `TooManyGuesses`, unchecked. A wrong password, a wrong code and an account
    throttled for its codes are one answer (False), after the same work: a right
    password given back alone let the session live one guess longer, and a throttle
    (reached only behind the right password) told at once, and either said to whoever
    sat at a laptop left logged in which of their guesses was the password. Codes
    tried behind the right password are counted and throttled as at a login, and the
    code is spent. Refused (`NoLongerStaff`) if the account changed since its session
    began, or its session ended. A known device's cookie (`device`) gives the
    password's check its kept place in the staff's slot, as at a login: without it,
    whoever held one staff device's onion key could flood the slot and refuse every
    confirmation, a removal among them.
    """
    runshare.exchange(session)
    bucket = _bucket(account.username)
    place = staff_devices.place_key(device, account)
    right = _guess_password(session, guesses, lambda: account.password_hash, password, place)
    charged = _settle_guess(session, guesses, right, bucket, account)
    # Behind a wrong password or a throttle a stand-in's code is tried: a wrong code's work.
    tried = _try_code(session, account if charged is not None else None, code)
    if charged is None or not tried:
        session.rollback()  # the code's try stays counted
        return False
    try:
        hold_staff(session, account)
    except NoLongerStaff:
        session.rollback()
        raise
    throttle.refund(session, charged)
    audit.record(session, account.username, "staff-reauthenticated", username=account.username)
    session.commit()
    # Given back once both were right, so the owner's own confirmations never end her
    # session (one that ended meanwhile is found as the confirmation is marked in it).
    guesses.settle(True, lambda: None)
    return True


def _guess_password(
    session: Session,
    guesses: PasswordGuesses,
    encoded: Callable[[], str],
    password: str,
    place: int | None = None,
) -> bool:
    """Check a logged-in account's password, its guess counted against the session first
    (`place`: its known device's kept place in the staff's slot, if any)."""
    if not guesses.take():
        raise TooManyGuesses("too many failed tries: this session has ended")
    try:
        right = _pooled(lambda: verify_password(encoded(), password), place)
    except kdf_pool.KdfBusy:
        guesses.settle(True, lambda: None)  # nothing was checked: the guess is not spent
        raise
    return right


def _settle_guess(
    session: Session, guesses: PasswordGuesses, right: bool, bucket: str, account: StaffAccount
) -> throttle.Charge | None:
    """Keep a password's guess counted with the session; behind the right one, count a
    code's try.

    The session's row re-sealed and the code's try counted are one commit, and a wrong
    guess's is the row re-sealed beside stand-in counts, counted in the same statements
    (`_count_login_code`): neither the writes nor the work say which it was. The guess
    stays counted whichever it was, until the caller gives it back for a right code.
    Return the code's try (None: the password was wrong, or the account is throttled
    for its codes, which is answered as a wrong password is), or raise `NoLongerStaff`
    (the session ended).
    """
    charged: list[throttle.Charge | ThrottledError] = []

    def alongside() -> None:
        # A wrong password's stand-ins took 13 statements fewer than a code's count, and
        # whoever sat at the session timed which factor was wrong (test_staff_reauth_timing).
        known = account if right else None
        charged.append(_count_login_code(session, bucket if right else None, known, True))

    if not guesses.settle(False, alongside):
        session.rollback()
        raise NoLongerStaff("your session ended meanwhile: nothing was done")
    if not right or isinstance(charged[-1], ThrottledError):
        return None
    return charged[-1]


def end_other_sessions(session: Session, account: StaffAccount) -> int:
    """End every session of `account` but the one asking (a device lost, a cookie copied)."""
    hold_staff(session, account)
    ended = sessions.end_other_staff_logins(session, account.id)
    audit.record(session, account.username, "staff-sessions-ended", username=account.username)
    session.commit()
    return ended


def end_guessing_session(session: Session, account: StaffAccount) -> None:
    """Audit that a session of `account` ended for too many failed tries."""
    audit.record(session, account.username, "staff-session-ended", username=account.username)
    session.commit()


def enrolment(session: Session, account: StaffAccount, sealed: str) -> Enrolment:
    """Describe a pending TOTP secret for an authenticator app to take up."""
    secret = _open(sealed)
    if secret is None:
        raise AccountError("the enrolment expired: log in again")
    issuer = str(get_setting(session, "organisation"))
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=issuer)
    # Inline SVG: the CSP allows no inline script, and an <img> would need a URL of its own.
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, light="#fff", dark="#000")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Enrolment(secret=grouped, qr_svg=svg)


def confirm_enrolment(session: Session, account: StaffAccount, sealed: str, code: str) -> bool:
    """Enrol the pending secret if `code` comes from it; throttled like a login.

    Written only over the epoch the enrolment began in (`AccountChanged`
    otherwise): whoever enrolled on a leaked password as an administrator reset
    it kept their secret as the account's second factor, and its owner was shut out.
    """
    runshare.exchange(session)
    bucket = _bucket(account.username)
    charged = _charge_code(session, bucket, account)
    session.commit()
    if isinstance(charged, ThrottledError):
        raise charged
    secret = _open(sealed)
    if secret is None or account.totp_enrolled or not _use_code(session, account, secret, code):
        session.rollback()  # the code's try stays counted
        return False
    values = {"totp_secret": sealed, "totp_enrolled": True, "last_login_day": today()}
    enrolled = session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account.id, StaffAccount.epoch == account.epoch)
        .where(~StaffAccount.totp_enrolled)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not enrolled.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise AccountChanged("the account changed meanwhile: log in again")
    for key, value in values.items():
        set_committed_value(account, key, value)
    throttle.refund(session, charged)
    audit.record(session, account.username, "staff-2fa-enrolled", username=account.username)
    session.commit()
    return True


def _check_throttle(session: Session, bucket: str) -> None:
    """Refuse while the account is locked: for the day first, since that is the longer wait."""
    config = current_app.config
    try:
        throttle.check(session, _daily(bucket), config["STAFF_LOGIN_DAILY_FAILURES"], _DAY)
    except ThrottledError as exc:
        raise LockedForTheDay(str(exc)) from exc
    throttle.check(
        session, bucket, config["STAFF_LOGIN_FAILURES"], config["STAFF_LOGIN_WINDOW_SECONDS"]
    )


def _charge_code(
    session: Session, bucket: str, account: StaffAccount
) -> throttle.Charge | ThrottledError:
    """Count a code's try against the account before it is tried; the caller commits.

    Counted after, codes sent at once were each tried before any was counted
    (`throttle.charge`). Past the limit nothing is counted and stand-in counts are
    written in its place (the refusal is returned): the writes are a count's. The
    try that takes the window's last one is audited (`staff-login-throttled`), in
    the same commit: one of its own said the password was right. No rollback before:
    it would expire the account read as the request found it (`StaffAccount.as_found`).
    """
    config = current_app.config
    daily = _daily(bucket)
    try:
        charged = throttle.charge(
            session,
            [
                (daily, _DAY, int(config["STAFF_LOGIN_DAILY_FAILURES"])),
                (bucket, int(config["STAFF_LOGIN_WINDOW_SECONDS"]), config["STAFF_LOGIN_FAILURES"]),
            ],
        )
    except ThrottledError as exc:
        session.rollback()
        throttle.add_none(session, 2)
        return LockedForTheDay(str(exc)) if exc.args and exc.args[0] == daily else exc
    try:
        _check_throttle(session, bucket)
    except ThrottledError:
        audit.record(session, LOGIN_ACTOR, "staff-login-throttled", username=account.username)
    return charged


def _lift_throttle(session: Session, account: StaffAccount) -> None:
    """Forget the codes tried behind the account's old password: whoever tried them is out.

    A throttled account is what tells an administrator someone else has its password,
    and a reset is the remedy: a count kept past it refused the owner, handed the new
    password, for up to two windows, on behalf of whoever had the old one.
    """
    bucket = _bucket(account.username)
    throttle.clear(session, bucket)
    throttle.clear(session, _daily(bucket))


def _daily(bucket: str) -> str:
    """The bucket that counts a day's codes (5 a window, window after window, was 480)."""
    return f"day:{bucket}"


def _bucket(username: str) -> str:
    return _bucket_under(current_app.config["SECRET_KEY"], username)


def _bucket_under(secret_key: bytes, username: str) -> str:
    # Keyed, so that a copy of the throttle table does not say which names were tried.
    digest = hashlib.blake2b(
        username.encode("utf-8"), digest_size=16, key=secret_key[:32], person=_THROTTLE_PERSON
    )
    return f"staff-login:{digest.hexdigest()}"


def carry_throttles(session: Session, replaced_secret_key: bytes, secret_key: bytes) -> int:
    """Move each account's counts of codes to its names under `secret_key`, from the
    key it replaces (`raazdar rotate secret-key`, no commit); return how many moved.

    The names are keyed by the secret key (`_bucket`): left under the old one's, the
    counts were forgotten at the rotation, which the runbook for a compromised server
    runs, and whoever had a password guessed a window's and a day's codes again.
    """
    moved = 0
    for account in list_accounts(session):
        old = _bucket_under(replaced_secret_key, account.username)
        new = _bucket_under(secret_key, account.username)
        for before, after in ((old, new), (_daily(old), _daily(new))):
            moved += throttle.rename(session, before, after)
    return moved


def _settle(session: Session, account: StaffAccount, password: str, **values: Any) -> bool:
    """Write what a login changes on its account, over the epoch it checked, and commit.

    A password made with old costs is hashed again; written unconditionally, that
    hash of the password just checked went over a reset committed since the
    check, and the old password stood again. Such a login is refused (False),
    and the reset stands.
    """
    cost = _cost()
    if needs_rehash(account.password_hash, cost):
        values["password_hash"] = _pooled(lambda: hash_password(password, cost))
    moved = session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == account.id, StaffAccount.epoch == account.epoch)
        .values(epoch=account.epoch, **values)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    for key, value in values.items():
        set_committed_value(account, key, value)
    session.commit()
    return True


def _cost() -> KdfParams:
    """What this instance hashes staff passwords at (`app.config`: testing only in tests)."""
    return reviewer_accounts.password_cost()


def _pooled(work: Callable[[], _T], device: int | None = None) -> _T:
    """Run an Argon2id hash of a password in the staff's own slot (`KdfBusy`).

    It takes 64 MiB, as a derivation does: outside a pool, logins at once under
    as many names (the throttle counts per name) took that much each. Not a slot
    of the sources' pool, which a flood of their logins can hold whole: every
    administrator was then refused as long as the flood lasted. `device`: the key of a
    known device's place (`staff_devices.place_key`), if the login carried a live cookie.
    """
    return kdf_pool.in_staff_slot(current_app.config, work, device)


def _totp_key() -> TokenKey:
    key: TokenKey | None = current_app.extensions.get("raazdar.totp_key")
    if key is None:
        key = TokenKey(current_app.config["SECRET_KEY"][:32]).derive(PERSON_TOTP_KEY)
        current_app.extensions["raazdar.totp_key"] = key
    return key


def hold_every_account(session: Session) -> None:
    """Hold every account's row until the commit, in the order every change takes them.

    For `raazdar rotate secret-key`, which deletes every login and writes every
    account's row: written in the order of their ids, a staff member's row came
    before an administrator's, which an admin page resetting that member held, and
    on PostgreSQL one of them was aborted (a deadlock). Taken first, before the logins.
    """
    reviewer_accounts.hold_accounts(session, session.scalars(select(StaffAccount.id)))


def reseal_second_factors(session: Session, replaced_secret_key: bytes, secret_key: bytes) -> int:
    """Seal each account's TOTP secret again under `secret_key`, from the one it replaces.

    For `raazdar rotate secret-key` (no commit): left under the old key, no secret
    opened once the server restarted, and every staff member's right code was
    refused, the administrators' too. One that the old key does not open (an
    account's already lost) is left as it is. Return how many were sealed again.
    """
    old = TokenKey(replaced_secret_key[:32]).derive(PERSON_TOTP_KEY)
    new = TokenKey(secret_key[:32]).derive(PERSON_TOTP_KEY)
    resealed = 0
    for account in list_accounts(session):
        if not account.totp_secret:
            continue
        try:
            secret = old.open(account.totp_secret, TOKEN_CONTEXT_TOTP).decode("ascii")
        except (CryptoError, UnicodeDecodeError):
            continue
        account.totp_secret = new.seal(secret.encode("ascii"), TOKEN_CONTEXT_TOTP)
        resealed += 1
    return resealed


def sealed_under(session: Session, secret_key: bytes) -> bool:
    """Whether some account's TOTP secret is sealed under `secret_key` (it opens one)."""
    key = TokenKey(secret_key[:32]).derive(PERSON_TOTP_KEY)
    for account in list_accounts(session):
        if not account.totp_secret:
            continue
        try:
            key.open(account.totp_secret, TOKEN_CONTEXT_TOTP)
        except CryptoError:
            continue
        return True
    return False


def _seal(secret: str) -> str:
    return _totp_key().seal(secret.encode("ascii"), TOKEN_CONTEXT_TOTP)


def _open(sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return _totp_key().open(sealed, TOKEN_CONTEXT_TOTP).decode("ascii")
    except (CryptoError, UnicodeDecodeError):
        return None


def _use_code(session: Session, account: StaffAccount | None, secret: str, code: str) -> bool:
    """Accept `code` once: mark its step spent (a tag under the run key), or refuse.

    Tried for no account (None: a stand-in's secret, `authenticate`) it does the same
    work, and accepts nothing.
    """
    account_id = account.id if account is not None else ""
    code = "".join(code.split())
    if not _CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    runshare.take_up(session)
    run = runkey.current()
    for step in range(now - _DRIFT_STEPS, now + _DRIFT_STEPS + 1):
        if not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        spent = session.execute(
            select(StaffAccount.totp_spent).where(StaffAccount.id == account_id)
        ).scalar_one_or_none()
        if spent is None or _spent(run, account_id, spent, step, totp.interval):
            return False
        # The one place a code is spent: of two workers racing with one code, one
        # changes the tag, the other finds it changed.
        moved = session.execute(
            update(StaffAccount)
            .where(StaffAccount.id == account_id, StaffAccount.totp_spent == spent)
            .values(totp_spent=_step_tag(run, account_id, step))
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
    return False


def _step_tag(run: runkey.RunKey, account_id: str, step: int) -> int:
    return run.tag("totp-step", account_id, step)


def _spent(run: runkey.RunKey, account_id: str, spent: int, step: int, interval: int) -> bool:
    """Say whether `step`, or a later one a code could still be accepted for, was spent.

    Only the last spent step is kept, as a tag: a code is refused if that step
    is `step` or up to two after it (the reach of the allowed drift). A tag
    from before a restart, or made under another host's key, cannot be read:
    for the drift's reach after the run began, took up the hosts' shared key or
    met another host (`runkey.RunKey.since`), an account that has one is
    refused, since its last code may be within reach still.
    """
    if not spent:
        return False
    reach = range(step, step + 2 * _DRIFT_STEPS + 1)
    if spent in {_step_tag(run, account_id, s) for s in reach}:
        return True
    # A host that had looked at the offers a moment before this run met it may still be
    # writing a tag under its own key: the doubt reaches that moment's step too.
    first = int(run.since + _SETTLE_SECONDS) // interval
    if step > first + _DRIFT_STEPS:
        return False
    this_run = range(first - _DRIFT_STEPS, step + 2 * _DRIFT_STEPS + 1)
    return spent not in {_step_tag(run, account_id, s) for s in this_run}
