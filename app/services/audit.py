"""The audit log of staff actions: append-only, each entry chained to the last by hash.

An entry records the day, who acted, what they did and opaque details (ids,
counts, fingerprints); never a time of day, an address or anything a source
wrote. Appending updates the single `audit_head` row first, which takes a write
lock on SQLite and a row lock on PostgreSQL, so concurrent appenders queue up
instead of forking the chain. The entry is written in the caller's transaction:
an action and its record commit or roll back together.

The head is the last row an action locks: whatever else it writes (a staff
account's row, its sessions) it writes before it records. An action that took
the head first and another's row after deadlocked on PostgreSQL with one
that held that row and recorded (`app.services.staff.remove_account`).

Nothing on the server can show that the chain was not written again from its
start, so each export carries its head (`proof`), and the workstation names a
log that no longer extends what an earlier export showed (PROTOCOL §13.5).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import KeyringUnavailable
from app.models import AuditEntry, AuditHead, today
from crypto import GENESIS, chain_link
from crypto.exchange import AuditProof

# The actor recorded for commands run on the server's own console.
CONSOLE = "console"
# The action of a keyring installed (`app.operations.keyring_admin.install`), with its version.
KEYRING_INSTALLED = "keyring-installed"
# The action of a staff device authorised for the staff onion (`raazdar staff-onion add-client`).
DEVICE_ADDED = "staff-onion-client-added"
# An administrator saying whose a device already authorised is (`staff-onion assign`).
DEVICE_ASSIGNED = "staff-onion-client-assigned"
# The action of a reviewer's subkey list installed, with the key ids it replaced (if re-keyed).
SUBKEYS_INSTALLED = "subkeys-installed"


def _record(seq: int, day: dt.date, actor: str, action: str, detail: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "day": day.isoformat(),
        "actor": actor,
        "action": action,
        "detail": detail,
    }


def record(session: Session, actor: str, action: str, **detail: Any) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits)."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    text = json.dumps(detail, sort_keys=True, ensure_ascii=False)
    day = today()
    link = chain_link(head.link, _record(head.seq, day, actor, action, text))
    entry = AuditEntry(seq=head.seq, day=day, actor=actor, action=action, detail=text, link=link)
    session.add(entry)
    head.link = link
    return entry


def entries(
    session: Session,
    *,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
    action: str | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """Return entries, newest first by default; only one action's, or one actor's, if given."""
    order = AuditEntry.seq.desc() if newest_first else AuditEntry.seq
    query = select(AuditEntry).order_by(order).offset(offset)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


# The changes an administrator makes, by the admin page that shows them (`recent_changes`).
ADMIN_CHANGES: dict[str, tuple[str, ...]] = {
    "accounts": (
        "staff-added",
        "staff-removed",
        "staff-locked",
        "staff-bound",
        "staff-role-changed",
        "staff-password-reset",
        "staff-2fa-reset",
    ),
    "settings": ("settings-changed",),
    "taxonomy": (
        "taxonomy-term-added",
        "taxonomy-term-relabelled",
        "taxonomy-term-removed",
        "taxonomy-term-moved",
    ),
    "keyring": (KEYRING_INSTALLED, SUBKEYS_INSTALLED),
}
# How far back, and how many, an admin page shows the changes made to what it manages.
CHANGES_SHOWN_DAYS = 30
CHANGES_SHOWN = 50


@dataclass(frozen=True)
class Changes:
    """The changes an admin page shows, and whether the log holds more of those days."""

    entries: list[AuditEntry]
    more: bool


def recent_changes(session: Session, area: str, day: dt.date) -> Changes:
    """The changes to `area` of the `CHANGES_SHOWN_DAYS` days up to `day`, newest first.

    Each admin page names every change made to what it manages, by whom and on what
    day, so the other administrators see it where they look: in the log alone, a
    flood of other entries pages it away.
    """
    since = day - dt.timedelta(days=CHANGES_SHOWN_DAYS)
    query = (
        select(AuditEntry)
        .where(AuditEntry.action.in_(ADMIN_CHANGES[area]), AuditEntry.day >= since)
        .order_by(AuditEntry.seq.desc())
        .limit(CHANGES_SHOWN + 1)
    )
    found = list(session.execute(query).scalars())
    return Changes(found[:CHANGES_SHOWN], len(found) > CHANGES_SHOWN)


def newest_keyring(session: Session) -> int | None:
    """The version of the newest keyring the log records installed (None: none since `init`).

    The keyring's files can be rolled back with the timestamp beside them; this
    entry can go only with every entry after it, which the next export shows the
    workstation (PROTOCOL §13.5), and never alone: the chain is checked first.
    """
    _whole(session)
    query = (
        select(AuditEntry.detail)
        .where(AuditEntry.action == KEYRING_INSTALLED)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    detail = session.execute(query).scalar()
    version = json.loads(detail).get("version") if detail is not None else None
    return version if isinstance(version, int) else None


def superseded_subkeys(session: Session) -> frozenset[bytes]:
    """The ids of every subkey a re-keyed list replaced: never sealed to again.

    The record beside the lists goes with them; these entries only with every
    entry after them, which the next export shows the workstation, and never
    alone: the chain is checked first.
    """
    _whole(session)
    query = select(AuditEntry.detail).where(AuditEntry.action == SUBKEYS_INSTALLED)
    found: set[bytes] = set()
    for detail in session.execute(query).scalars():
        found.update(bytes.fromhex(k) for k in json.loads(detail).get("replaced", []))
    return frozenset(found)


def names_account(session: Session, username: str) -> bool:
    """Say whether the log names a staff account `username`: as an actor, added or removed."""
    acted = select(AuditEntry.seq).where(AuditEntry.actor == username).limit(1)
    if session.execute(acted).first() is not None:
        return True
    added = select(AuditEntry.detail).where(AuditEntry.action.in_(_ACCOUNT_NAMED))
    return any(json.loads(d).get("username") == username for d in session.execute(added).scalars())


# The actions whose detail names the account they concern (`username`).
_ACCOUNT_NAMED = ("staff-added", "staff-removed")
# The actions that give an account a password: whoever acted knows it.
_PASSWORD_SET = ("staff-added", "staff-password-reset", "staff-2fa-reset", "staff-password-changed")
# The actions that hand an account a passphrase its second factor is then set up with.
_SECOND_FACTOR_SET = ("staff-added", "staff-2fa-reset")


def password_setters(session: Session) -> dict[str, str]:
    """Who last set each account's password, by username: the log's last word on it."""
    return _last_actors(session, _PASSWORD_SET)


def second_factor_setters(session: Session) -> dict[str, str]:
    """Who last handed each account the passphrase its authenticator was set up with.

    Whoever did saw it, and could have set up an authenticator of their own first.
    """
    return _last_actors(session, _SECOND_FACTOR_SET)


def device_owners(session: Session) -> dict[str, str | None]:
    """Whose each staff device is, by name: the account its last `staff-onion-client-added`
    or `-assigned` entry names, or None (shared, added for nobody, or before owners were
    recorded)."""
    return {device: _owner(detail) for device, detail in _device_entries(session).items()}


def shared_devices(session: Session) -> frozenset[str]:
    """The staff devices an administrator said are no one account's (`add-client --shared`)."""
    return frozenset(d for d, detail in _device_entries(session).items() if detail.get("shared"))


def _device_entries(session: Session) -> dict[str, dict[str, object]]:
    """Each staff device's last entry saying whose it is, by name."""
    query = (
        select(AuditEntry.detail)
        .where(AuditEntry.action.in_((DEVICE_ADDED, DEVICE_ASSIGNED)))
        .order_by(AuditEntry.seq)
    )
    entries: dict[str, dict[str, object]] = {}
    for detail in session.scalars(query):
        found = json.loads(detail)
        device = found.get("device")
        if isinstance(device, str):
            entries[device] = found
    return entries


def _owner(detail: dict[str, object]) -> str | None:
    owner = detail.get("owner")
    return owner if isinstance(owner, str) else None


def locked(session: Session) -> frozenset[str]:
    """The accounts a removal locked (`staff-locked`) that no password was set for since."""
    last = _last_per_account(session, (*_PASSWORD_SET, "staff-locked"), AuditEntry.action)
    return frozenset(name for name, action in last.items() if action == "staff-locked")


def _last_actors(session: Session, actions: tuple[str, ...]) -> dict[str, str]:
    return _last_per_account(session, actions, AuditEntry.actor)


def _last_per_account(
    session: Session, actions: tuple[str, ...], column: InstrumentedAttribute[str]
) -> dict[str, str]:
    """For each account the entries of `actions` name, `column` of the last of them."""
    query = (
        select(column, AuditEntry.detail)
        .where(AuditEntry.action.in_(actions))
        .order_by(AuditEntry.seq)
    )
    last: dict[str, str] = {}
    for value, detail in session.execute(query):
        name = json.loads(detail).get("username")
        if isinstance(name, str):
            last[name] = value
    return last


def names(session: Session) -> tuple[list[str], list[str]]:
    """Every action and every actor the log holds, sorted: what a reader can filter by."""
    actions = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    actors = select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
    return list(session.execute(actions).scalars()), list(session.execute(actors).scalars())


@dataclass(frozen=True)
class ChainCheck:
    """The result of checking the whole chain."""

    entries: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Say whether the chain is whole."""
        return self.problem is None


def _walk(session: Session) -> Iterator[AuditEntry]:
    yield from session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()


def verify(session: Session) -> ChainCheck:
    """Recompute every link: a gap, an edit, a reordering or a cut tail is found."""
    link = GENESIS
    count = 0
    for entry in _walk(session):
        count += 1
        if entry.seq != count:
            return ChainCheck(count - 1, f"entry {count} is missing (found {entry.seq})")
        link = chain_link(
            link, _record(entry.seq, entry.day, entry.actor, entry.action, entry.detail)
        )
        if link != entry.link:
            return ChainCheck(count - 1, f"entry {entry.seq} was altered")
    head = session.get(AuditHead, 1)
    if head is None or head.seq != count or head.link != link:
        return ChainCheck(count, "the newest entries were removed (the head does not match)")
    return ChainCheck(count)


def _whole(session: Session) -> None:
    """Refuse (`KeyringUnavailable`) to answer from a log whose chain is not whole.

    What the log records installed guards against a rollback of the files beside
    it: one entry taken out (or its action renamed), the chain left unmended,
    undid that guard until something walked the chain.
    """
    check = verify(session)
    if not check.ok:
        raise KeyringUnavailable(
            f"the audit log's hash chain is broken ({check.problem}): what it records"
            " installed (keyrings, replaced subkeys) cannot be told, so nothing is sealed;"
            " restore the database from a backup (`raazdar doctor` checks the chain)"
        )


def proof(session: Session, since: int) -> AuditProof:
    """The chain's length and newest link, and its link after `since` entries, for an export.

    Every link is worked out again from the records, never read from the `link`
    column: what an export vouches for is the records themselves. A chain shorter
    than `since` has no link there (the chain's start stands in for it).
    """
    link = GENESIS
    at_since = GENESIS
    count = 0
    for entry in _walk(session):
        count += 1
        link = chain_link(link, _record(count, entry.day, entry.actor, entry.action, entry.detail))
        if count == since:
            at_since = link
    return AuditProof(count, link, since, at_since)
