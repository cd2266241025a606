"""Staff accounts bound to a reviewer, locked when the keyring drops that reviewer.

The building block the keyring install (`app.operations.keyring_admin`) and the
staff accounts' use cases (`app.services.staff`) share: revoking a reviewer is
the authorities' signed act, and a staff account bound to the reviewer's
signing key ends with it, in the install's own commit, and so does every account
whose password that one set, as at a removal (docs/PROTOCOL.md §8.10).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from app import sessions
from app.models import StaffAccount
from app.operations.tor import owners
from app.services import audit
from crypto import KdfParams, Manifest, generate_passphrase, hash_password


def password_cost() -> KdfParams:
    """What this instance hashes staff passwords at (`app.config`: testing only in tests)."""
    cost: KdfParams = current_app.config["STAFF_PASSWORD_COST"]
    return cost


def lock_account(session: Session, account: StaffAccount) -> None:
    """Lock an account until a reset: a password nobody sees, no second factor (no commit)."""
    account.password_hash = hash_password(generate_passphrase(), password_cost())
    account.totp_secret = None
    account.totp_enrolled = False
    # Counted in the database, as `app.services.staff` moves every epoch on.
    account.epoch = StaffAccount.epoch + 1
    session.flush()
    sessions.end_staff_logins(session, account.id)


def reviewer_signing_keys(manifest: Manifest) -> frozenset[str]:
    """The signing-key fingerprints of a manifest's reviewers, as accounts are bound to them."""
    return frozenset(str(r.signing_key.fingerprint) for r in manifest.recipients)


def unlisted(session: Session, manifest: Manifest) -> list[StaffAccount]:
    """The accounts bound to a reviewer `manifest` does not list, by username."""
    listed = reviewer_signing_keys(manifest)
    query = (
        select(StaffAccount)
        .where(StaffAccount.reviewer.is_not(None))
        .order_by(StaffAccount.username)
    )
    return [a for a in session.scalars(query) if a.reviewer not in listed]


def set_by(session: Session, unlisted_names: list[str]) -> list[StaffAccount]:
    """The accounts whose passwords an account in `unlisted_names` set, and their owners kept.

    Whoever held that account knows those passwords and may have set up their
    authenticators herself (an account she added on the admin pages, a colleague's
    second factor she reset): a removal locks them (`app.services.staff.remove_account`),
    and so does the revocation, or they let her in after it.
    """
    setters = audit.password_setters(session)
    query = select(StaffAccount).order_by(StaffAccount.username)
    return [
        a
        for a in session.scalars(query)
        if a.username not in unlisted_names and setters.get(a.username) in unlisted_names
    ]


def _to_lock(session: Session, manifest: Manifest) -> list[tuple[StaffAccount, dict[str, str]]]:
    """Each account the install locks, with what its `staff-locked` entry says of why."""
    dropped = unlisted(session, manifest)
    names = [a.username for a in dropped]
    setters = audit.password_setters(session)
    return [(a, {"revoked": str(a.reviewer)}) for a in dropped] + [
        (a, {"set_by": setters[a.username]}) for a in set_by(session, names)
    ]


def hold_accounts(session: Session, ids: Iterable[str]) -> set[str]:
    """Hold every administrator's row and the rows of the accounts `ids` until the commit,
    the administrators' first, each part in the order of their ids; return the ids of
    `ids` still there.

    Every change of several accounts takes their rows so, all in one statement and
    before the audit log's head: a removal took the removed account's row, then
    those it locks, while a keyring install took the same rows in the order its
    scan found them, and on PostgreSQL each waited on a row the other held (a
    deadlock: one of them aborted). The administrators' rows come first because an
    admin page holds them all before it acts (`app.services.staff.hold_admin`), and
    takes the rows of the accounts it changes after: in the order of the ids alone,
    an install held the row of the leaver the page removed, and waited on that of
    an administrator whose password she set, which the page held. In one order,
    the second waits for the first.
    """
    wanted = sorted(set(ids))
    admin_first = case((StaffAccount.role == "admin", 0), else_=1)
    query = (
        select(StaffAccount.id)
        .where(or_(StaffAccount.id.in_(wanted), StaffAccount.role == "admin"))
        .order_by(admin_first, StaffAccount.id)
        .with_for_update()
    )
    return set(session.scalars(query)) & set(wanted)


def hold_unlisted(session: Session, manifest: Manifest) -> None:
    """Hold the rows of the accounts `lock_revoked` may lock, until the commit.

    Taken before the audit log's head, after every administrator's, as every
    change of an account takes them (`hold_accounts`).
    """
    hold_accounts(session, [a.id for a, _ in _to_lock(session, manifest)])


def lock_revoked(
    session: Session, actor: str, manifest: Manifest
) -> tuple[list[tuple[str, str | None]], dict[str, list[str]]]:
    """Lock every account bound to a reviewer `manifest` drops, and every account whose
    password one of those set; return their names, each with the name of the account
    that set its password (None: bound to a dropped reviewer itself), and the staff-onion
    devices revoked with each account bound to a dropped reviewer (no commit).

    The lock a removal puts on the accounts whose passwords the removed one set.
    Only an administrator's reset gives the account back; a later keyring that
    lists the reviewer again does not, and an account locked already stays as it is.
    The devices added for the revoked reviewer's own account go as at her removal
    (`app.operations.tor.owners`); those of an account locked because she set its
    password are its owner's, never hers, and stay.
    """
    already = audit.locked(session)
    names: list[tuple[str, str | None]] = []
    revoked: dict[str, list[str]] = {}
    clients = owners.instance_clients()
    for account, why in _to_lock(session, manifest):
        if account.username in already:
            continue
        lock_account(session, account)
        devices = [] if "set_by" in why else owners.revoke(session, clients, account.username)
        if devices:
            revoked[account.username] = devices
        gone = {"devices": devices} if devices else {}
        audit.record(session, actor, "staff-locked", username=account.username, **why, **gone)
        names.append((account.username, why.get("set_by")))
    return names, revoked
