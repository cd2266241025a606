"""PostgreSQL's WAL let go at each sweep: every commit record in it holds the commit's time.

Whatever `track_commit_timestamp` says, a commit record carries its time to the
microsecond, and the transaction id beside it is the xmin a row had until the
sweep rewrote it: a seizer who copies `pg_wal/` reads when each submission and
login was committed, for as long as its segment lies there (weeks, on a quiet
instance). After the compaction the sweep ends the segment being written
(`pg_switch_wal()`) and makes a checkpoint, which lets every segment before go:
unlinked with `wal_recycle = off`, renamed for later use (its bytes kept) with it
on. The operator grants the two once (deploy/README.md §2.1); `raazdar doctor`
checks the grants and the settings that keep segments (check `wal-times`).
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# What the app's role needs, as the superuser grants it (`{role}`: the app's role).
GRANTS: Final = (
    "GRANT pg_checkpoint TO {role};",
    "GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO {role};",
)

# Before PostgreSQL 15 (no pg_checkpoint) only a superuser may make a checkpoint.
_MAY: Final = text(
    "SELECT current_user,"
    " CASE WHEN to_regrole('pg_checkpoint') IS NULL"
    "  THEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    "  ELSE pg_has_role('pg_checkpoint', 'USAGE') END,"
    " has_function_privilege('pg_catalog.pg_switch_wal()', 'EXECUTE')"
)


def missing_grants(connection: Connection) -> tuple[str, list[str]]:
    """The connection's role and the grants it lacks to let the WAL go (none: it may)."""
    role, checkpoint, switch = connection.execute(_MAY).one()
    missing = [g for g, held in zip(GRANTS, (checkpoint, switch), strict=True) if not held]
    return str(role), [g.format(role=role) for g in missing]


def leave(engine: Engine) -> str | None:
    """End the WAL segment being written and make a checkpoint; say why not, if it could not."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            role, missing = missing_grants(connection)
            if missing:
                reason = f"the role {role} may not ({' '.join(missing)} as a superuser)"
                log.warning("sweep: PostgreSQL's WAL was kept: %s", reason)
                return reason
            connection.exec_driver_sql("SELECT pg_switch_wal()")
            connection.exec_driver_sql("CHECKPOINT")
    except DBAPIError as exc:
        # A standby in recovery, say: its own restartpoints follow the primary's checkpoint.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        log.warning("sweep: PostgreSQL's WAL was kept: %s", reason)
        return reason
    return None
