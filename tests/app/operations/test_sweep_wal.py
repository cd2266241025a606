"""On PostgreSQL the sweep leaves no commit's time in the WAL: a seizer of pg_wal reads none.

Each commit record in PostgreSQL's WAL carries the commit's time to the microsecond,
whatever `track_commit_timestamp` says (pg_waldump prints `COMMIT 2026-12-07
05:01:02.123456 UTC`), and a segment stays in `pg_wal/` until a checkpoint past it
lets it go: on a quiet instance, weeks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app import db as app_db
from app.cli import main
from app.instance import InstancePaths
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.api_support import ApiClient
from tests.app.seized_wal import data_directory, sweeping_role, wal_commits, wal_unlinked

pytestmark = pytest.mark.postgres


def _written_by(url: str) -> set[int]:
    """The transactions that wrote the instance's sources and items (each row's xmin)."""
    engine = app_db.make_engine(url)
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(
                    text(
                        "SELECT xmin::text::bigint FROM items"
                        " UNION SELECT xmin::text::bigint FROM sources"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_swept_submission_leaves_no_commit_time_in_the_wal(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """The operator has done what deploy/README.md §2.1 asks (the grants, `wal_recycle = off`)."""
    pg_wal = data_directory() / "pg_wal"
    paths = InstancePaths(instance)
    # Submitted once the cluster unlinks what a checkpoint frees, as the operator set it: a
    # checkpoint of another test's before would have recycled the submission's segment, kept
    # whole under a later name.
    with sweeping_role(database_url) as url, wal_unlinked():
        device.submit("the SHO took money at the checkpost")
        written = _written_by(database_url)
        assert wal_commits(pg_wal, written), "the attack reads no commit: the scan is broken"
        engine = app_db.make_engine(url)
        try:
            sweep(engine, EnvelopeStore(paths.store, paths.staging), force=True)
        finally:
            engine.dispose()
        left = wal_commits(pg_wal, written)
    said = [f"xid {c.xid}: COMMIT {c.time:%Y-%m-%d %H:%M:%S.%f} UTC in {c.file}" for c in left]
    assert not left, f"the WAL dates the submission after the sweep: {said}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_sweep_whose_role_may_not_let_the_wal_go_says_which_grants_it_lacks(
    instance: Path, device: ApiClient
) -> None:
    """The test cluster's role has neither grant: the sweep does the rest and says so."""
    device.submit("the SHO took money at the checkpost")
    result = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--force"])
    assert result.exit_code == 0, result.output
    assert "1 new envelope(s) moved into the store" in result.output
    assert "PostgreSQL's WAL was kept" in result.stderr
    assert "GRANT pg_checkpoint TO raazdar_test;" in result.stderr
    assert "GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO raazdar_test;" in result.stderr


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_submission_after_the_periods_sweep_leaves_no_commit_time_once_the_timer_runs(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """The timer runs hourly; the sweep of a 24-hour period, once a day: the WAL goes hourly."""
    pg_wal = data_directory() / "pg_wal"
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    with sweeping_role(database_url) as url, wal_unlinked():
        engine = app_db.make_engine(url)
        try:
            assert sweep(engine, store, force=True).ran
            device.submit("the SHO took money at the checkpost")
            written = _written_by(database_url)
            assert wal_commits(pg_wal, written)
            report = sweep(engine, store)  # the timer's next run, in the same period
        finally:
            engine.dispose()
        left = wal_commits(pg_wal, written)
    assert not report.ran
    said = [f"xid {c.xid}: COMMIT {c.time:%Y-%m-%d %H:%M:%S.%f} UTC in {c.file}" for c in left]
    assert not left, f"the WAL dates the submission until the period's end: {said}"
