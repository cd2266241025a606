"""On PostgreSQL the timer's hourly run leaves no table file dated by a write before it.

PostgreSQL writes a table's file when the table grows a page (at once) or when a
checkpoint writes a changed page out (within `checkpoint_timeout`, five
minutes): the file's modification time is then the write's, to the nanosecond,
and the app cannot set it. Left until the period's sweep (a day by default), the
`items` file dated the latest report, `sources` the latest new source,
`sessions` the latest login. A seizer stats the files of the data directory.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from app import db as app_db
from app.instance import InstancePaths
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.api_support import ApiClient
from tests.app.seized_wal import (
    data_directory,
    superuser,
    sweeping_role,
    wal_commits,
    wal_unlinked,
)

pytestmark = pytest.mark.postgres

# Every file of the app's relations: its tables, their indexes, TOAST tables and their indexes.
_RELATIONS = text(
    "WITH t AS (SELECT c.oid, c.reltoastrelid FROM pg_class c"
    "  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
    "  AND c.relname <> 'alembic_version'),"
    " r AS (SELECT oid FROM t UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0),"
    " a AS (SELECT oid FROM r UNION SELECT indexrelid FROM pg_index WHERE indrelid IN"
    "  (SELECT oid FROM r))"
    " SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c JOIN a ON a.oid = c.oid"
)
_FORKS = ("", "_fsm", "_vm")


def _file_times(engine: Engine, data: Path) -> dict[str, int]:
    """Each file of the app's relations (forks included): its modification time, in ns."""
    with engine.connect() as connection:
        rows = connection.execute(_RELATIONS).all()
    times: dict[str, int] = {}
    for name, relative in rows:
        for fork in _FORKS:
            path = data / f"{relative}{fork}"
            if path.exists():
                times[f"{name}{fork}"] = path.stat().st_mtime_ns
    return times


def _clock(ns: int) -> str:
    return f"{dt.datetime.fromtimestamp(ns / 1e9, dt.UTC):%H:%M:%S.%f}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_table_file_is_dated_no_later_than_the_timers_last_run_after_a_submission(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """The timer runs hourly; the sweep of a 24-hour period, once a day."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    data = data_directory()
    with sweeping_role(database_url) as url:
        engine = app_db.make_engine(url)
        try:
            assert sweep(engine, store, force=True).ran
            device.submit("the SHO took money at the checkpost")
            # The timed checkpoint that comes within five minutes of a write.
            superuser("CHECKPOINT")
            written = _file_times(engine, data)
            time.sleep(0.05)
            run = time.time_ns()
            report = sweep(engine, store)  # the timer's next run, in the same period
            after = _file_times(engine, data)
        finally:
            engine.dispose()
    assert not report.ran
    assert max(written.values()) < run, "the attack sees no file the submission wrote"
    dated = sorted(((ns, name) for name, ns in after.items() if ns < run), reverse=True)
    said = [f"{name} {_clock(ns)}" for ns, name in dated]
    assert not dated, (
        f"{len(dated)} file(s) dated before the timer's run at {_clock(run)}: {said[:6]}"
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_rows_written_before_the_timers_run_carry_one_transaction_id_after_it(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """Each row's xmin counted the writes before it since the sweep: they ordered the reports."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(database_url)
    try:
        assert sweep(engine, store, force=True).ran
        for n in range(3):
            device.submit(f"report {n}: the SHO took money at the checkpost")
        assert not sweep(engine, store).ran  # the timer's next run, in the same period
        with engine.connect() as connection:
            ids = connection.execute(
                text("SELECT DISTINCT xmin::text FROM items UNION SELECT xmin::text FROM sources")
            ).scalars()
            written_by = sorted(ids)
    finally:
        engine.dispose()
    assert len(written_by) == 1, f"the reports' rows carry {len(written_by)} ids: {written_by}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_timer_run_whose_rebuild_fails_still_lets_the_wal_go(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """A role that may not rewrite the tables (a deadlock with a request fails alike)."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    pg_wal = data_directory() / "pg_wal"
    with sweeping_role(database_url, owner=False) as url, wal_unlinked():
        where = make_url(url)
        superuser(
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {where.username}", str(where.database)
        )
        engine = app_db.make_engine(database_url)
        try:
            assert sweep(engine, store, force=True).ran
            device.submit("the SHO took money at the checkpost")
            with engine.connect() as connection:
                items = connection.execute(text("SELECT xmin::text::bigint FROM items"))
                written = set(items.scalars())
        finally:
            engine.dispose()
        assert wal_commits(pg_wal, written), "the attack reads no commit: the scan is broken"
        engine = app_db.make_engine(url)
        try:
            with pytest.raises(ProgrammingError, match="must be owner"):
                sweep(engine, store)  # the timer's next run, in the same period
        finally:
            engine.dispose()
        left = wal_commits(pg_wal, written)
    said = [f"xid {c.xid}: COMMIT {c.time:%H:%M:%S.%f} UTC in {c.file}" for c in left]
    assert not left, f"the WAL still dates the submission: {said}"
