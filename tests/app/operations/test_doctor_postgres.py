"""`raazdar doctor` on what PostgreSQL keeps beside the rows that dates writes: WAL and log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app import db as app_db
from app.operations.doctor import Status
from app.operations.doctor.postgres import server_log, wal_times
from tests.app.operations.test_doctor import _pg_settings
from tests.app.seized_wal import sweeping_role, wal_unlinked

pytestmark = pytest.mark.postgres


@pytest.fixture
def session(postgres_url: str) -> Iterator[Session]:
    """A session of the test cluster's role, as the app's: neither grant, the cluster's settings."""
    engine = app_db.make_engine(postgres_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_cluster_that_keeps_the_wal_past_the_sweep_is_named_with_what_to_grant_and_set(
    session: Session, postgres_url: str
) -> None:
    """The test cluster as installed: wal_recycle on, the app's role without the grants."""
    check = wal_times(session)
    assert check.status is Status.WARN, check.message
    assert "GRANT pg_checkpoint TO raazdar_test;" in check.message
    assert "GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO raazdar_test;" in check.message
    assert "ALTER SYSTEM SET wal_recycle = off;" in check.message
    with sweeping_role(postgres_url) as url, wal_unlinked():
        engine = app_db.make_engine(url)
        try:
            with Session(engine) as granted:
                check = wal_times(granted)
        finally:
            engine.dispose()
    assert check.status is Status.OK, check.message


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"wal_recycle": "on", "min_wal_size": "80"}, "wal_recycle is on"),
        ({"wal_recycle": "off", "wal_keep_size": "64"}, "wal_keep_size is 64 MB"),
        ({"wal_recycle": "off", "archive_mode": "on"}, "archive_mode is on"),
        # PostgreSQL 17's summaries of the blocks each stretch of WAL changed, kept ten days
        # past every checkpoint, each file dated: which tables were written, and when.
        ({"wal_recycle": "off", "summarize_wal": "on"}, "summarize_wal is on"),
    ],
)
def test_each_setting_that_keeps_wal_segments_warns(
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, str],
    named: str,
) -> None:
    with sweeping_role(postgres_url) as url:
        engine = app_db.make_engine(url)
        try:
            with Session(engine) as granted:
                _pg_settings(monkeypatch, settings)
                check = wal_times(granted)
        finally:
            engine.dispose()
    assert check.status is Status.WARN, check.message
    assert named in check.message
    assert "GRANT" not in check.message


def test_a_log_that_dates_writes_is_named_with_how_to_stop_it(session: Session) -> None:
    """The test cluster as installed: PostgreSQL 15 logs checkpoints and errors."""
    check = server_log(session)
    assert check.status is Status.WARN, check.message
    assert "ALTER SYSTEM SET log_checkpoints = off;" in check.message
    assert "ALTER ROLE raazdar_test SET log_min_messages = fatal;" in check.message


@pytest.mark.parametrize(
    ("settings", "status", "named"),
    [
        ({"log_checkpoints": "off", "log_min_messages": "fatal"}, Status.OK, ""),
        ({"log_checkpoints": "on", "log_min_messages": "fatal"}, Status.WARN, "log_checkpoints"),
        ({"log_checkpoints": "off", "log_min_messages": "error"}, Status.WARN, "log_min_messages"),
        ({"log_checkpoints": "off", "log_min_messages": "log"}, Status.OK, ""),
        ({"log_lock_waits": "on"}, Status.WARN, "log_lock_waits"),
        ({"log_temp_files": "0"}, Status.WARN, "log_temp_files is 0"),
        ({"log_temp_files": "-1"}, Status.OK, ""),
    ],
)
def test_each_log_setting_that_dates_writes_warns(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, str],
    status: Status,
    named: str,
) -> None:
    _pg_settings(monkeypatch, settings)
    check = server_log(session)
    assert check.status is status, check.message
    assert named in check.message
