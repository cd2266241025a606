"""A cluster that dates every commit or counts every statement: the server and the doctor say so.

`track_commit_timestamp` and `shared_preload_libraries` are the whole cluster's and
take a restart, so these tests run a cluster of their own with them on
(`tests/app/private_cluster.py`) instead of faking PostgreSQL's answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import db as app_db
from app.cli import main
from app.instance import InstancePaths, load_config, write_private
from app.migrate import upgrade
from app.models import Throttle, today
from app.operations.doctor import Status, diagnose
from tests.app.private_cluster import private_cluster
from tests.app.support import refusal_to_serve
from tests.app.templates import copy_of_demo

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def dating_cluster() -> Iterator[str]:
    """A migrated database on a cluster that keeps commit times and counts statements."""
    with private_cluster(
        track_commit_timestamp="on", shared_preload_libraries="pg_stat_statements"
    ) as url:
        upgrade(url)
        yield url


@pytest.fixture
def dated_instance(tmp_path: Path, dating_cluster: str) -> Path:
    """A demo instance whose database is on that cluster."""
    root = copy_of_demo(tmp_path / "instance")
    paths = InstancePaths(root)
    config = dataclasses.replace(load_config(paths), database_url=dating_cluster)
    paths.config.unlink()
    write_private(paths.config, json.dumps(config.to_json(), indent=2).encode() + b"\n")
    return root


def test_a_server_is_not_started_on_a_cluster_that_dates_every_commit(
    dated_instance: Path, dating_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row's commit time is there for the app's own role to read, to the microsecond."""
    engine = app_db.make_engine(dating_cluster)
    try:
        with Session(engine) as session:
            session.add(Throttle(bucket=secrets.token_hex(8), window=1, failures=1))
            session.commit()
            when = session.execute(
                text("SELECT pg_xact_commit_timestamp(xmin) FROM throttle")
            ).scalar_one()
    finally:
        engine.dispose()
    assert abs(when - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    refused = refusal_to_serve(dated_instance, monkeypatch)
    assert "track_commit_timestamp" in str(refused)
    assert "postgresql.conf" in (refused.hint or "")


def test_a_cluster_that_counts_each_statement_of_ours_is_named(dated_instance: Path) -> None:
    """pg_stat_statements counts each kind of statement, a login's and a report's, for the disk.

    Through every sweep and restart (`pg_stat/pg_stat_statements.stat`), until a
    superuser resets it; the app's role can do neither.
    """
    checks = {c.name: c for c in diagnose(dated_instance, today())}
    named = [c for c in checks.values() if "pg_stat_statements" in c.message]
    assert named, "doctor names no check of pg_stat_statements"
    assert all(c.status is not Status.OK for c in named), named
    assert checks["commit-times"].status is Status.FAIL, checks["commit-times"]
    # The doctor says, too, that the server would not start.
    assert checks["startup"].status is Status.FAIL, checks["startup"]
    assert "track_commit_timestamp" in checks["startup"].message


def test_the_timers_run_on_a_cluster_dating_every_commit_warns(
    dated_instance: Path, runner: CliRunner
) -> None:
    """Turned on, and PostgreSQL restarted, while the server runs: the hourly run says so."""
    result = runner.invoke(main, ["--instance", str(dated_instance), "sweep"])
    assert result.exit_code == 0, result.output
    assert "track_commit_timestamp is on" in result.stderr
