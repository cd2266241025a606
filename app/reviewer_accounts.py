"""Staff accounts bound to a reviewer, locked when the keyring drops that reviewer.

The building block the keyring install (`app.operations.keyring_admin`) and the
staff accounts' use cases (`app.services.staff`) share: revoking a reviewer is
the authorities' signed act, and a staff account bound to the reviewer's
signing key ends with it, in the install's own commit (docs/PROTOCOL.md §8.10).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import sessions
from app.models import StaffAccount
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


def hold_unlisted(session: Session, manifest: Manifest) -> None:
    """Hold the rows of the accounts `lock_revoked` may lock, until the commit.

    Taken before the audit log's head, as every change of an account takes them
    (`app.services.staff.remove_account`): the other order deadlocks with a
    removal on PostgreSQL.
    """
    ids = [a.id for a in unlisted(session, manifest)]
    if ids:
        query = select(StaffAccount.id).where(StaffAccount.id.in_(ids)).with_for_update()
        session.execute(query).all()


def lock_revoked(session: Session, actor: str, manifest: Manifest) -> list[str]:
    """Lock every account bound to a reviewer `manifest` drops; return their names (no commit).

    The lock a removal puts on the accounts whose passwords the removed one set.
    Only an administrator's reset gives the account back; a later keyring that
    lists the reviewer again does not, and an account locked already stays as it is.
    """
    already = audit.locked(session)
    names = []
    for account in unlisted(session, manifest):
        if account.username in already:
            continue
        lock_account(session, account)
        audit.record(
            session, actor, "staff-locked", username=account.username, revoked=account.reviewer
        )
        names.append(account.username)
    return names
