"""The checks that read the database: secure delete, audit, retention, item files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import db
from app.config import Config
from app.errors import KeyringUnavailable
from app.instance import InstancePaths
from app.keyring import load_keyring
from app.models import AckKey, AppliedBundle, ExportHead, Item, StaffAccount
from app.operations import retention
from app.operations.doctor import postgres
from app.operations.doctor.verdict import Check, Status, guarded
from app.operations.tor.clients import StaffClients
from app.reviewer_accounts import reviewer_signing_keys
from app.services import audit
from app.settings import delayed_changes, get_setting
from app.store import EnvelopeStore
from crypto import VerifyKey


def database_checks(config: Config, today: dt.date, store: EnvelopeStore) -> list[Check]:
    """Run the checks that read the database, on an engine of their own."""
    try:
        engine = db.make_engine(config.DATABASE_URL)
    except Exception as exc:  # a bad URL is a finding, not a crash
        return [Check("database", Status.FAIL, f"cannot open the database: {exc}")]
    try:
        with Session(engine) as session:
            return [
                guarded("secure-delete", lambda: _secure_delete(session)),
                guarded("commit-times", lambda: _commit_times(session)),
                guarded("vacuum-times", lambda: _vacuum_times(session)),
                guarded("table-counts", lambda: _table_counts(session)),
                guarded("statement-log", lambda: statement_log(session)),
                guarded("server-log", lambda: postgres.server_log(session)),
                guarded("wal-times", lambda: postgres.wal_times(session)),
                guarded("audit", lambda: _audit(session)),
                guarded("retention", lambda: _retention(session, today)),
                guarded("acknowledgement", lambda: _acknowledgement(session, today)),
                guarded("ack-key", lambda: _ack_key(session, config, today)),
                guarded("item-files", lambda: _item_files(session, store)),
                guarded("resources", lambda: _resources(session)),
                guarded("staff-reviewers", lambda: _staff_reviewers(session, config, today)),
                guarded("staff-devices", lambda: _staff_devices(session, config)),
            ]
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Recorded:
    """What the database holds that the keyring checks need beside the instance's files."""

    # The latest day an export was dated: the server seals to its week while the clock is behind.
    latest_export: dt.date | None = None
    # The newest keyring version the audit log records installed: older files were rolled back.
    keyring: int | None = None
    # Why the log cannot say which keyring it installed (a broken chain): the server seals nothing.
    problem: str | None = None


def recorded(config: Config) -> Recorded:
    """Read it; nothing when the database cannot tell (the database checks say why)."""
    try:
        engine = db.make_engine(config.DATABASE_URL)
    except Exception:  # a bad URL: the database check reports it
        return Recorded()
    try:
        with Session(engine) as session:
            day = session.execute(select(ExportHead.day).where(ExportHead.id == 1)).scalar()
            try:
                return Recorded(day, audit.newest_keyring(session))
            except KeyringUnavailable as exc:
                return Recorded(day, problem=str(exc))
    except Exception:  # unreadable or unmigrated: the database checks say why
        return Recorded()
    finally:
        engine.dispose()


def _staff_reviewers(session: Session, config: Config, today: dt.date) -> Check:
    """Warn of accounts a reviewer's revocation would not reach, and of ones it should have.

    An install locks the accounts bound to a reviewer it drops
    (`app.reviewer_accounts.lock_revoked`): an account bound to nobody outlives its
    holder's revocation, and one bound to a reviewer the keyring in force does
    not list was bound after the revocation, or was given back by a reset.
    """
    accounts = list(session.scalars(select(StaffAccount).order_by(StaffAccount.username)))
    manifest = load_keyring(InstancePaths(config.INSTANCE_DIR), today).manifest
    listed = reviewer_signing_keys(manifest) if manifest is not None else None
    locked = audit.locked(session)
    session.rollback()
    unbound = [a.username for a in accounts if a.reviewer is None]
    revoked = [
        f"{a.username}{' (locked)' if a.username in locked else ''}"
        for a in accounts
        if a.reviewer is not None and listed is not None and a.reviewer not in listed
    ]
    said = []
    if revoked:
        said.append(
            f"bound to a reviewer the keyring in force does not list: {', '.join(revoked)}; "
            "remove them (`raazdar staff remove NAME`) or bind them again "
            "(`raazdar staff bind NAME FINGERPRINT`)"
        )
    if unbound:
        said.append(
            f"bound to no reviewer: {', '.join(unbound)}; revoking their holder in the keyring "
            "will not lock them: `raazdar staff bind NAME FINGERPRINT` for each reviewer's account"
        )
    if said:
        return Check("staff-reviewers", Status.WARN, "staff accounts " + "; and ".join(said))
    return Check(
        "staff-reviewers",
        Status.OK,
        f"each of {len(accounts)} staff account(s) is bound to a reviewer the keyring lists",
    )


def _staff_devices(session: Session, config: Config) -> Check:
    """Warn of staff devices no removal would revoke, and of ones a removal should have.

    A device goes with the account it was added for (`app.operations.tor.owners`);
    one whose holder nobody recorded, or whose account is gone or locked while its
    key still stands (a revocation that could not be made), reaches the staff
    onion after its holder has left. A shared device is an administrator's choice.
    """
    clients = StaffClients(InstancePaths(config.INSTANCE_DIR).root / "tor")
    devices = clients.names()
    owners, shared = audit.device_owners(session), audit.shared_devices(session)
    accounts = set(session.scalars(select(StaffAccount.username)))
    locked = audit.locked(session)
    session.rollback()
    nobodys = [d for d in devices if owners.get(d) is None and d not in shared]
    left = [
        f"{d} ({owners[d]})"
        for d in devices
        if owners.get(d) is not None and (owners[d] not in accounts or owners[d] in locked)
    ]
    said = []
    if nobodys:
        said.append(
            f"whose nobody said: {', '.join(nobodys)}; `raazdar staff-onion assign NAME --for "
            "USERNAME` ties each to its holder's account, or `raazdar staff-onion remove-client "
            "NAME` revokes it"
        )
    if left:
        said.append(
            f"of an account removed or locked: {', '.join(left)}; revoke each "
            "(`raazdar staff-onion remove-client NAME`)"
        )
    if said:
        return Check(
            "staff-devices",
            Status.WARN,
            "staff devices that reach the staff onion after their holder has gone, "
            + "; and ".join(said),
        )
    sharing = [d for d in devices if d in shared]
    return Check(
        "staff-devices",
        Status.OK,
        f"each of {len(devices)} staff device(s) goes with its account's removal"
        + (f", or is shared ({', '.join(sharing)})" if sharing else ""),
    )


def _resources(session: Session) -> Check:
    """Warn until an administrator has reviewed the legal-aid page for this instance."""
    reviewed = bool(get_setting(session, "resources_reviewed"))
    session.rollback()
    if reviewed:
        return Check("resources", Status.OK, "an administrator has reviewed the legal-aid page")
    return Check(
        "resources",
        Status.WARN,
        "the legal-aid page has not been reviewed: it shows generic guidance; add the "
        "contacts you can vouch for and mark it reviewed in the staff admin settings",
    )


def _secure_delete(session: Session) -> Check:
    """Check that SQLite overwrites deleted rows (PostgreSQL cannot be asked to)."""
    if session.get_bind().dialect.name != "sqlite":
        return Check(
            "secure-delete",
            Status.OK,
            "PostgreSQL has no secure_delete: deleted rows stay in its files until VACUUM "
            "reuses the space, and in its WAL and replicas; keep them on encrypted storage",
        )
    value = session.execute(text("PRAGMA secure_delete")).scalar()
    session.rollback()
    if value == 1:
        return Check("secure-delete", Status.OK, "SQLite overwrites deleted rows (secure_delete)")
    return Check(
        "secure-delete",
        Status.FAIL,
        f"SQLite secure_delete is {value!r}, not 1: deleted rows stay readable in the file",
    )


def _commit_times(session: Session) -> Check:
    """Fail if PostgreSQL keeps the time of every commit (`track_commit_timestamp`)."""
    if session.get_bind().dialect.name != "postgresql":
        return Check("commit-times", Status.OK, "SQLite keeps no commit times (its WAL is emptied)")
    value = session.execute(text("SHOW track_commit_timestamp")).scalar()
    session.rollback()
    if value == "off":
        return Check(
            "commit-times", Status.OK, "PostgreSQL keeps no commit times (track_commit_timestamp)"
        )
    return Check(
        "commit-times",
        Status.FAIL,
        f"PostgreSQL's track_commit_timestamp is {value!r}: it keeps the exact time of "
        "every transaction, each submission's and login's included, for anyone with the "
        "disk; set it off in postgresql.conf and restart PostgreSQL",
    )


def statement_log(session: Session) -> Check:
    """Name PostgreSQL's own logging of statements and connections (deploy/README.md §2.1).

    The app logs no request; PostgreSQL's log, with its time on each line, would:
    each INSERT of a submission or a login with its parameters, or each connection
    the pool opens as a burst of sources comes.
    """
    if session.get_bind().dialect.name != "postgresql":
        return Check("statement-log", Status.OK, "SQLite keeps no log of statements")
    rows = session.execute(
        text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
        {"names": list(_LOGGING)},
    )
    found: dict[str, str] = {str(name): str(value) for name, value in rows}
    session.rollback()
    every = [f"{n} = {v}" for n, v in found.items() if n in _LOGGING and _LOGGING[n](v) == "all"]
    some = [f"{n} = {v}" for n, v in found.items() if n in _LOGGING and _LOGGING[n](v) == "some"]
    if not every and not some:
        return Check("statement-log", Status.OK, "PostgreSQL logs no statement or connection")
    return Check(
        "statement-log",
        Status.FAIL if every else Status.WARN,
        f"PostgreSQL logs {'statements' if every else 'connections or slow statements'} "
        f"({', '.join(every + some)}), each line with its time: a submission's or a "
        "login's, for whoever reads its log; turn them off in postgresql.conf and reload, "
        "and as a superuser take back any set for this database or the app's role "
        "(ALTER DATABASE … RESET name; ALTER ROLE … RESET name;)",
    )


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return -1.0


def _logs_each(value: str) -> str:
    return "all" if value == "on" else ""


# How much each setting logs: "all" (every statement of a kind), "some", or "" (nothing).
_LOGGING: Final[dict[str, Callable[[str], str]]] = {
    "log_statement": lambda v: "all" if v in ("mod", "all") else "",
    "log_duration": lambda v: "all" if v == "on" else "",
    "log_min_duration_statement": lambda v: (
        "all" if _number(v) == 0 else "some" if _number(v) > 0 else ""
    ),
    "log_transaction_sample_rate": lambda v: "all" if _number(v) > 0 else "",
    "log_min_duration_sample": lambda v: "some" if _number(v) >= 0 else "",
    "log_connections": lambda v: "some" if v == "on" else "",
    "log_disconnections": lambda v: "some" if v == "on" else "",
    # A line of each statement's resources, or its parse tree or plan (its table and
    # values), at every statement.
    **dict.fromkeys(
        (
            "log_statement_stats",
            "log_parser_stats",
            "log_planner_stats",
            "log_executor_stats",
            "debug_print_parse",
            "debug_print_rewritten",
            "debug_print_plan",
        ),
        _logs_each,
    ),
    # Each statement's text and plan, once auto_explain is loaded (a setting of its own).
    "auto_explain.log_min_duration": lambda v: (
        "all" if _number(v) == 0 else "some" if _number(v) > 0 else ""
    ),
}


def _vacuum_times(session: Session) -> Check:
    """Warn where PostgreSQL's statistics keep when autovacuum last visited a table of ours."""
    if session.get_bind().dialect.name != "postgresql":
        return Check("vacuum-times", Status.OK, "SQLite keeps no times of vacuums")
    visited = sorted(
        session.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names)"
                " AND (last_autovacuum IS NOT NULL OR last_autoanalyze IS NOT NULL)"
            ),
            {"names": [t.name for t in db.Base.metadata.sorted_tables]},
        ).scalars()
    )
    session.rollback()
    if not visited:
        return Check(
            "vacuum-times",
            Status.OK,
            "PostgreSQL keeps no time of autovacuum's visits (the sweep turns it off)",
        )
    return Check(
        "vacuum-times",
        Status.WARN,
        f"PostgreSQL's statistics keep when autovacuum last visited {', '.join(visited)}: "
        "it comes within a minute of a burst of writes, so the times date logins or "
        "arrivals; once a sweep has turned it off, reset them as a superuser "
        "(SELECT pg_stat_reset(); in this database)",
    )


def _table_counts(session: Session) -> Check:
    """Warn while PostgreSQL counts the writes to each table of ours (`track_counts`).

    `pg_stat_user_tables` counts each table's inserts and deletes since its counters
    were last reset: every report and source, purged ones included, and every login.
    From PostgreSQL 16 on it also keeps when each index was last scanned, to the
    millisecond: a codename's last try, a source's last read of replies. The app's
    role can neither turn it off nor reset it (deploy/README.md §2.1). Nor
    `pg_stat_statements`, which counts each statement the app runs, reads included.
    """
    if session.get_bind().dialect.name != "postgresql":
        return Check("table-counts", Status.OK, "SQLite counts no table's writes")
    value, role, statements = session.execute(
        text(
            "SELECT current_setting('track_counts'), current_user,"
            " current_setting('pg_stat_statements.track', true)"
        )
    ).one()
    session.rollback()
    counted = []
    if value != "off":
        counted.append(
            f"PostgreSQL counts each table's inserts and deletes (track_counts is {value!r}): "
            "its statistics count every report and source since they were last reset, "
            "purged ones included, and from PostgreSQL 16 on keep when each index was last "
            "read, to the millisecond; as a superuser: "
            f"ALTER ROLE {role} SET track_counts = off; then SELECT pg_stat_reset(); "
            "in this database"
        )
    if statements not in (None, "none"):
        counted.append(
            f"pg_stat_statements (pg_stat_statements.track is {statements!r}) counts each "
            "statement of ours, a login's, a report's, a reading of replies, through every "
            "sweep and restart (pg_stat/pg_stat_statements.stat), and from PostgreSQL 17 on "
            "keeps when each was first run; as a superuser: "
            f"ALTER ROLE {role} SET pg_stat_statements.track = none; then "
            "SELECT pg_stat_statements_reset(); (or take it out of shared_preload_libraries "
            "and restart PostgreSQL)"
        )
    if not counted:
        return Check(
            "table-counts", Status.OK, "PostgreSQL counts no writes to our tables (track_counts)"
        )
    return Check("table-counts", Status.WARN, "; and ".join(counted))


def _audit(session: Session) -> Check:
    """Check that the audit log's hash chain is whole."""
    result = audit.verify(session)
    session.rollback()
    if not result.ok:
        return Check("audit", Status.FAIL, f"the audit log was tampered with: {result.problem}")
    return Check("audit", Status.OK, f"the audit chain of {result.entries} entries verifies")


# What each harmful change not yet in force (`app.settings.delayed_changes`) will do.
_DELAYED_SAID: Final = {
    "source_expiry_days": "an administrator lowered source expiry from {from} to {to} days, "
    "in force from {from_day}: purges then expire the sources idle that long, with the "
    "replies waiting for them",
    "upload_limit_mib": "an administrator lowered the upload limit from {from} to {to} MiB, "
    "in force from {from_day}: sources' reports and documents larger are then refused",
    "retention_days": "an administrator raised retention from {from} to {to} days, in force "
    "from {from_day}: items not exported are then kept that long, and warned of only as it nears",
}


def _retention(session: Session, today: dt.date) -> Check:
    """Warn when retention is about to delete items nobody has exported, or has stopped."""
    count = retention.at_risk(session, today)
    policy = retention.Policy.read(session, today)
    last = retention.last_purge_day(session)
    delayed = delayed_changes(session, today)
    session.rollback()
    if last is not None and (today - last).days > retention.PURGE_OVERDUE_DAYS:
        # Everything past its days stays meanwhile: a timer stopped, or a clock that jumped
        # forward, which the purge refuses until an operator trusts it.
        return Check(
            "retention",
            Status.WARN,
            f"the last purge ran {(today - last).days} days ago: check raazdar-purge.timer "
            "and run `raazdar purge` (it says why it refuses, if it does)",
        )
    if delayed:
        # One administrator alone can make these changes; the console is told before they hold.
        said = "; ".join(_DELAYED_SAID[key].format(**d) for key, d in delayed.items())
        return Check(
            "retention",
            Status.WARN,
            f"{said}; if it was not agreed, set it back on the admin settings page "
            "(the audit log says who)",
        )
    if count:
        return Check(
            "retention",
            Status.WARN,
            f"{count} item(s) not yet exported reach the end of retention within "
            f"{retention.AT_RISK_DAYS} days (retention {policy.retention_days} days): "
            "export them now with `raazdar export` or the staff dashboard",
        )
    return Check(
        "retention",
        Status.OK,
        f"items are kept {policy.retention_days} days; none is near that unexported",
    )


def _acknowledgement(session: Session, today: dt.date) -> Check:
    """Warn of items exported long ago that the review workstation never acknowledged."""
    stale = retention.unacknowledged(session, today)
    kept = retention.past_retention(session, today)
    session.rollback()
    days = retention.UNACKNOWLEDGED_DAYS
    if not (stale or kept):
        return Check(
            "acknowledgement",
            Status.OK,
            f"no item exported {days} or more days ago waits for the workstation's acknowledgement",
        )
    parts = []
    if stale:
        parts.append(
            f"{stale} item(s) exported {days} or more days ago were never acknowledged "
            "by the review workstation: was an export bundle lost? "
            "`raazdar-review exchange import` names missing bundles; "
            "`raazdar export --resend` sends every such item again"
        )
    if kept:
        parts.append(
            f"{kept} item(s) past retention are kept because they were never acknowledged: "
            "`raazdar purge --include-unacknowledged` deletes them, audited, if nobody needs them"
        )
    return Check("acknowledgement", Status.WARN, "; ".join(parts))


def _ack_key(session: Session, config: Config, today: dt.date) -> Check:
    """Fail while reviewers exist and the server holds no review workspace key (PROTOCOL §13.6).

    Until it holds one every reply bundle is refused, so no reply reaches a source;
    on a demonstration (a warning) the first sealed bundle gives it, whoever sealed it.
    Items an unsealed bundle acknowledged, kept here, warn.
    """
    held = session.get(AckKey, 1)
    kept = session.scalar(select(func.count()).select_from(Item).where(Item.ack_held)) or 0
    manifest = load_keyring(InstancePaths(config.INSTANCE_DIR), today).manifest
    reviewers = (manifest is not None and bool(manifest.recipients)) or any(
        session.scalar(select(func.count()).select_from(table))
        for table in (ExportHead, AppliedBundle)
    )
    session.rollback()
    if held is None and not reviewers:
        return Check("ack-key", Status.OK, "no reviewers yet: no review workspace key to hold")
    if held is None:
        said = (
            "the server holds no review workspace key, so it refuses every reply bundle: no "
            "reply reaches a source; give it the workspace's key: `raazdar set-ack-key KEY` "
            "(`raazdar-review exchange import` names it)"
        )
        # A demonstration's reviewer keys lie beside it: the seal guards nothing there.
        return Check("ack-key", Status.WARN if config.DEMO else Status.FAIL, said)
    fingerprint = VerifyKey.from_text(held.key).fingerprint
    said = f"reply bundles count only under the seal of workspace key {fingerprint}"
    if kept:
        return Check(
            "ack-key",
            Status.WARN,
            f"{said}; {kept} item(s) a bundle it did not seal acknowledged are kept and exported "
            "again until the workstation's own bundle acknowledges them",
        )
    return Check("ack-key", Status.OK, said)


def _item_files(session: Session, store: EnvelopeStore) -> Check:
    """List the items whose envelope file is missing (lost in a crash): exports leave them out."""
    with store.steady():
        missing = [i for i in session.execute(select(Item.id)).scalars() if not store.exists(i)]
    session.rollback()
    if missing:
        return Check(
            "item-files",
            Status.FAIL,
            f"{len(missing)} item(s) have no envelope file, so exports leave them out: "
            f"{', '.join(sorted(missing))}; restore the files from a backup of the store, "
            "or ask the reviewers whether they have them already",
        )
    return Check("item-files", Status.OK, "every item has its envelope file")
