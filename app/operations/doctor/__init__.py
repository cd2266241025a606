"""`raazdar doctor`: whether an instance is as safe to run as it is meant to be.

Each check gives `ok`, `warn` or `fail` and a plain sentence. The checks read
the instance directly instead of through the app, because the moment an
administrator needs them is often when the app refuses to start (a lapsed
keyring, an unreadable key); that refusal is itself one of the checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from app import environment
from app.instance import InstancePaths, database_directory
from app.operations.doctor.database import Recorded, database_checks, recorded
from app.operations.doctor.disk import (
    atime_check,
    code_check,
    filesystem_check,
    space_check,
    staging_check,
    swap_check,
    sweep_check,
)
from app.operations.doctor.instance import (
    config_check,
    database_check,
    gunicorn_check,
    keyring_check,
    permissions_check,
    sqlite_file,
    startup_check,
    timestamp_check,
)
from app.operations.doctor.journal import journal_check
from app.operations.doctor.strays import strays_check
from app.operations.doctor.subkeys import subkeys_check
from app.operations.doctor.tor import tor_check
from app.operations.doctor.verdict import Check, Status, Surroundings, guarded
from app.store import EnvelopeStore

__all__ = ["Check", "Status", "Surroundings", "diagnose", "failed", "settings", "tor_check"]


def diagnose(instance: Path, today: dt.date, where: Surroundings | None = None) -> list[Check]:
    """Run every check on `instance` and return the verdicts, in a fixed order."""
    where = where or Surroundings()
    paths = InstancePaths(instance.resolve())
    config, mode = config_check(paths)
    database = sqlite_file(config.DATABASE_URL) if config is not None else paths.database
    checks = [
        guarded("permissions", lambda: permissions_check(paths, database)),
        guarded("strays", lambda: strays_check(paths, database)),
        mode,
    ]
    if config is not None:
        checks.append(guarded("database", lambda: database_check(paths, config)))
        checks.append(guarded("startup", lambda: startup_check(config, where)))
    held = recorded(config) if config is not None else Recorded()
    checks.append(
        guarded("keyring", lambda: keyring_check(paths, today, held.keyring, held.problem))
    )
    if held.problem is not None:
        # What the files beside the log say holds nothing: the server seals to no keyring.
        said = f"no keyring is in force: {held.problem}"
        checks += [Check("timestamp", Status.FAIL, said), Check("subkeys", Status.FAIL, said)]
    else:
        checks.append(guarded("timestamp", lambda: timestamp_check(paths, today, held.keyring)))
        checks.append(
            guarded(
                "subkeys", lambda: subkeys_check(paths, today, held.latest_export, held.keyring)
            )
        )
    # The database's directory, whose disk the floor watches too (None: PostgreSQL's, unseen).
    watched = database_directory(config.DATABASE_URL) if config is not None else paths.root
    store = EnvelopeStore(paths.store, paths.staging, watched)
    if config is not None:
        checks += database_checks(config, today, store)
    checks.append(guarded("staging", lambda: staging_check(store)))
    if config is not None:
        checks.append(guarded("sweep", lambda: sweep_check(config, store, where.clock())))
    checks.append(guarded("space", lambda: space_check(store)))
    checks.append(
        guarded("store", lambda: filesystem_check(paths.store, where.mounts, where.kernel))
    )
    checks.append(guarded("atime", lambda: atime_check(paths.root, where.mounts)))
    checks.append(guarded("code", lambda: code_check(where.code, where.mounts)))
    checks.append(guarded("swap", lambda: swap_check(where.swaps, where.block_devices)))
    checks.append(guarded("journal", lambda: journal_check(where.system)))
    checks.append(guarded("gunicorn", lambda: gunicorn_check(where)))
    checks.append(tor_check(paths.root, where))
    return checks


def settings(where: Surroundings | None = None) -> list[tuple[str, str]]:
    """Each environment variable the server reads, and what of its value is safe to print."""
    environ = (where or Surroundings()).environ
    return [(v.name, environment.shown(v, environ)) for v in environment.VARIABLES]


def failed(checks: Iterable[Check]) -> bool:
    """Say whether any check failed."""
    return any(c.status is Status.FAIL for c in checks)
