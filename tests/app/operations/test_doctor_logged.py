"""`raazdar doctor` on PostgreSQL settings, set for the app's database, that log each statement.

Each is turned on for real, as a superuser may for one database (`ALTER DATABASE
… SET`), and the test reads PostgreSQL's own log for the line, with its time,
that one write of ours left there before it asks the doctor.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import db as app_db
from app.models import Throttle
from app.operations.doctor import Status
from app.operations.doctor.database import statement_log
from tests.app.seized_wal import logged_for, superuser

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    "settings",  # (log_connections, which warns, cannot be set for one database)
    [
        # Each INSERT, or each statement's duration, with its time.
        {"log_statement": "mod"},
        {"log_min_duration_statement": "0"},
        {"log_duration": "on"},
        {"log_transaction_sample_rate": "1"},
        # A line of the statement's resources, at each statement, dated.
        {"log_statement_stats": "on"},
        {"log_parser_stats": "on"},
        {"log_planner_stats": "on"},
        {"log_executor_stats": "on"},
        # The statement's parse tree or plan, its table and values, at each statement.
        {"debug_print_parse": "on"},
        {"debug_print_plan": "on"},
        # Each statement's plan and text (auto_explain, loaded for the database alone).
        {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0"},
    ],
    ids=lambda settings: next(iter(settings)),
)
def test_a_setting_that_logs_each_statement_of_ours_fails_the_doctor(
    postgres_url: str, settings: dict[str, str]
) -> None:
    database = str(make_url(postgres_url).database)
    for name, value in settings.items():
        # The test's own fixed names and values, never input.
        superuser(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
    engine = app_db.make_engine(postgres_url)
    try:
        app_db.Base.metadata.tables[Throttle.__tablename__].create(engine)
        with logged_for(database) as lines, Session(engine) as session:
            session.add(Throttle(bucket=secrets.token_hex(8), window=1, failures=1))
            session.commit()
        # What a seizer reads in /var/log/postgresql/: the write, with its time.
        assert lines, f"nothing of {settings} was logged"
        with Session(engine) as session:
            check = statement_log(session)
    finally:
        engine.dispose()
    assert check.status is Status.FAIL, f"doctor passes {settings}: {check.message}"
    assert next(reversed(settings)) in check.message
