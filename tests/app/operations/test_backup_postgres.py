"""`raazdar backup` on PostgreSQL: the files and the database's dump, holding no login, no time."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db as app_db
from app.cli import main
from app.config import config_for
from app.errors import AppError
from app.instance import InstancePaths
from app.models import SessionRow
from app.operations import pg_backup
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.operations.test_arrival import FALSE_ALARM, _chance_of_order, _kendall
from tests.app.operations.test_hourly_rebuild import _arrivals
from tests.app.support import Visitor, db_session, login_grants

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def test_the_database_a_postgresql_backup_holds_has_no_login_and_no_time_of_day(
    instance: Path, app: Flask, client: FlaskClient, visitor: Visitor, runner: CliRunner
) -> None:
    """Logout deletes a login's row; a dump that kept it opens for a cookie copied before."""
    visitor.filed(visitor.send(visitor.start(), "a report"))
    assert login_grants(app, client) is not None
    with db_session(app) as session:
        logins = session.execute(select(SessionRow.sealed)).scalars().all()
    assert logins
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    assert "and the database" in result.stderr
    with tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)) as tar:
        member = tar.extractfile(pg_backup.DUMP_NAME)
        assert member is not None
        dump = member.read().decode()
    assert "CREATE TABLE public.sessions" in dump  # the table, for the restored server
    kept = [row for row in logins if row in dump]
    assert not kept, f"the backup's database holds {len(kept)} login row(s)"
    assert re.search(r"^-- Dumped from database version", dump, re.MULTILINE)
    assert not re.search(r"^--.*\d:\d\d:\d\d", dump, re.MULTILINE), "the dump is dated"


def test_a_dump_dated_by_pg_dumps_verbose_mode_is_refused(database_url: str) -> None:
    """pg_dump dates a dump only in its verbose mode (`-- Started on …`): never in a backup."""
    target, env = pg_backup.libpq(database_url)
    verbose = subprocess.run(  # noqa: S603 - pg_dump on the test's database
        [*pg_backup.PG_DUMP, "--verbose", "--dbname", target],
        capture_output=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    assert b"-- Started on" in verbose
    with pytest.raises(AppError, match="time of day"):
        pg_backup.checked(verbose)


def _copied_rows(dump: str, table: str) -> list[str]:
    """The lines of a table's rows in a dump, in the order `COPY` gives them."""
    lines = dump.split("\n")
    start = next(n for n, line in enumerate(lines) if line.startswith(f"COPY public.{table} "))
    end = lines.index("\\.", start)
    return lines[start + 1 : end]


def test_a_postgresql_backup_lists_the_rows_of_the_hour_before_it_in_no_order(
    instance: Path,
    client: FlaskClient,
    runner: CliRunner,
    on_circuit: Callable[[int | None], None],
) -> None:
    """pg_dump copies each table's rows in the order they lie in it, and a row written since
    the timer's last run lies after the others, in the order the rows came: kept so, a backup
    ordered every report and new account of that hour for as long as it is kept. `raazdar
    backup` rebuilds the tables in key order first (without it: Kendall's S 66 of 66)."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(config_for(instance).DATABASE_URL)
    try:
        sweep(engine, store, force=True)  # the tables rebuilt in key order
        items, sources = _arrivals(client, instance, engine, on_circuit)
    finally:
        engine.dispose()
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    with tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)) as tar:
        member = tar.extractfile(pg_backup.DUMP_NAME)
        assert member is not None
        dump = member.read().decode()
    ordered = {}
    for table, ids in (("items", items), ("sources", sources)):
        rows = _copied_rows(dump, table)
        places = [next(n for n, row in enumerate(rows) if row.startswith(i)) for i in ids]
        agreement = _kendall(places, list(range(len(ids))))
        if _chance_of_order(len(ids), abs(agreement)) < FALSE_ALARM:
            ordered[table] = agreement
    assert not ordered, (
        f"the dump lists the {len(items)} arrivals in order (Kendall's S): {ordered}"
    )
