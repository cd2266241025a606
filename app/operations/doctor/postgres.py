"""The checks of what PostgreSQL keeps beside the rows that dates writes: its WAL and its log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.operations import pg_wal
from app.operations.doctor.verdict import Check, Status

_WAL_SETTINGS: Final = (
    "wal_recycle",
    "wal_keep_size",
    "min_wal_size",
    "archive_mode",
    "summarize_wal",
    "wal_summary_keep_time",
)


def wal_times(session: Session) -> Check:
    """Warn of what keeps WAL segments, each commit's time in them, past the sweep.

    The sweep ends the segment and makes a checkpoint (`app.operations.pg_wal`) if
    the app's role may; the checkpoint then lets the older segments go, unless a
    setting keeps them (deploy/README.md §2.1).
    """
    if session.get_bind().dialect.name != "postgresql":
        return Check(
            "wal-times", Status.OK, "SQLite's WAL holds no times and each sweep empties it"
        )
    found = _settings(session, _WAL_SETTINGS)
    role, missing = pg_wal.missing_grants(session.connection())
    slots = sorted(
        str(s)
        for s in session.execute(
            text("SELECT slot_name FROM pg_replication_slots WHERE NOT active")
        ).scalars()
    )
    session.rollback()
    kept = []
    if missing:
        kept.append(
            f"the sweep may not end the WAL segment and make a checkpoint: as a superuser, "
            f"in this database, {' '.join(missing)}"
        )
    if found.get("wal_recycle", "on") != "off":
        kept.append(
            "wal_recycle is on: each segment a checkpoint lets go is renamed for later use, "
            f"its commit records whole until written over (min_wal_size "
            f"{found.get('min_wal_size', '?')} MB of them); as a superuser: "
            "ALTER SYSTEM SET wal_recycle = off; SELECT pg_reload_conf();"
        )
    if _number(found.get("wal_keep_size", "0")) > 0:
        kept.append(
            f"wal_keep_size is {found['wal_keep_size']} MB: that much WAL is kept past each "
            "checkpoint; set it to 0 (a standby reads it as it comes)"
        )
    if found.get("archive_mode", "off") != "off":
        kept.append(
            f"archive_mode is {found['archive_mode']}: the archive keeps every segment for as "
            "long as it keeps them; turn it off, or archive to encrypted storage under the "
            "retention rule"
        )
    if found.get("summarize_wal", "off") != "off":
        kept.append(
            "summarize_wal is on (PostgreSQL 17): pg_wal/summaries/ keeps, past every "
            f"checkpoint, for wal_summary_keep_time ({found.get('wal_summary_keep_time', '?')} "
            "min), which blocks of each table every stretch of WAL changed, each file dated "
            "as it was written: when items, sources and logins were written, to the "
            "checkpoint; as a superuser: ALTER SYSTEM SET summarize_wal = off; "
            "SELECT pg_reload_conf(); (incremental backups need it: take full ones)"
        )
    if slots:
        kept.append(
            f"replication slots no standby reads ({', '.join(slots)}) keep every segment "
            "since; drop them (SELECT pg_drop_replication_slot(name))"
        )
    if not kept:
        return Check(
            "wal-times",
            Status.OK,
            f"each sweep lets go of PostgreSQL's WAL (role {role}), and nothing keeps it",
        )
    return Check(
        "wal-times",
        Status.WARN,
        "PostgreSQL's WAL keeps the time of each commit, a submission's or a login's, "
        f"after the sweep: {'; '.join(kept)}",
    )


def server_log(session: Session) -> Check:
    """Warn of what PostgreSQL's own log writes as writes come, each line with its time.

    None of these can the app's role turn off: `log_checkpoints` is the server's
    (postgresql.conf); the others a superuser may set for the app's role alone.
    """
    if session.get_bind().dialect.name != "postgresql":
        return Check("server-log", Status.OK, "SQLite keeps no log")
    found = _settings(session, tuple(_DATING))
    role = session.execute(text("SELECT current_user")).scalar()
    session.rollback()
    dated = [
        said.format(role=role, **found)
        for name, (logs, said) in _DATING.items()
        if name in found and logs(found[name])
    ]
    if not dated:
        return Check("server-log", Status.OK, "PostgreSQL's log dates no write of ours")
    return Check(
        "server-log",
        Status.WARN,
        f"PostgreSQL's log, each line with its time, dates writes: {'; '.join(dated)}",
    )


def _settings(session: Session, names: tuple[str, ...]) -> dict[str, str]:
    """The values of `names` for this session (the app's role's, where a role sets them)."""
    rows = session.execute(
        text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
        {"names": list(names)},
    )
    return {str(name): str(value) for name, value in rows}


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return -1.0


# Severities at which the server logs an error (`log_min_messages` at or below `error`).
_LOGS_ERRORS: Final = frozenset(
    {"debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice", "warning", "error"}
)

# Each setting that logs as writes come: whether its value does, and what to say.
_DATING: Final[dict[str, tuple[Callable[[str], bool], str]]] = {
    "log_checkpoints": (
        lambda v: v == "on",
        "log_checkpoints is on, and a timed checkpoint comes only after WAL was written, "
        "so each 'checkpoint complete' line dates a write (a submission, a login) within "
        "checkpoint_timeout; as a superuser: ALTER SYSTEM SET log_checkpoints = off; "
        "SELECT pg_reload_conf();",
    ),
    "log_min_messages": (
        lambda v: v in _LOGS_ERRORS,
        "log_min_messages is {log_min_messages}: each error of our sessions is logged with "
        "its detail, and the app meets some in its ordinary work (a designation or a "
        "throttle's row two requests made at once), each naming the key; as a superuser: "
        "ALTER ROLE {role} SET log_min_messages = fatal;",
    ),
    "log_lock_waits": (
        lambda v: v == "on",
        "log_lock_waits is on: a request that waits for another's lock is logged; as a "
        "superuser: ALTER ROLE {role} SET log_lock_waits = off;",
    ),
    "log_temp_files": (
        lambda v: _number(v) >= 0,
        "log_temp_files is {log_temp_files}: each temporary file a query makes is logged; "
        "as a superuser: ALTER ROLE {role} SET log_temp_files = -1;",
    ),
}
