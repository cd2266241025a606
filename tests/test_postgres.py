"""The PostgreSQL tier's throwaway databases, made ahead (tests/postgres.py): each handed out
once, as fresh as one made for the test at its start, and dropped after it."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.postgres import postgres_admin_url, throwaway_database

pytestmark = pytest.mark.postgres

# What a test leaves in its database: rows, a sequence moved on, an advisory lock held,
# a setting of the database's own.
_USE = (
    "INSERT INTO notes (body) SELECT 'left by the test' FROM generate_series(1, 5)",
    "SELECT pg_advisory_lock(4242)",
    "SELECT nextval('counter')",
)


@pytest.fixture
def template() -> Iterator[str]:
    """A small template database of a table with rows and a sequence, dropped after the test."""
    admin_url = postgres_admin_url()
    name = f"raazdar_template_{secrets.token_hex(8)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        with _connected(admin_url, name) as connection:
            connection.execute(text("CREATE TABLE notes (id serial PRIMARY KEY, body text)"))
            connection.execute(text("INSERT INTO notes (body) VALUES ('one'), ('two')"))
            connection.execute(text("CREATE SEQUENCE counter START 7"))
        yield name
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def _connected(admin_url: str, database: str) -> Iterator[Connection]:
    engine = create_engine(
        make_url(admin_url).set(database=database), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _state(admin_url: str, database: str) -> dict[str, object]:
    """What a test could find in `database` before it wrote: rows, sequences, locks, settings,
    prepared transactions and other connections."""
    with _connected(admin_url, database) as connection:
        oid = connection.execute(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar_one()
        return {
            "rows": connection.execute(text("SELECT id, body FROM notes ORDER BY id")).all(),
            "notes_id_seq": connection.execute(
                text("SELECT last_value, is_called FROM notes_id_seq")
            ).one(),
            "counter": connection.execute(text("SELECT last_value, is_called FROM counter")).one(),
            "advisory locks": connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = :o"),
                {"o": oid},
            ).scalar_one(),
            "settings": connection.execute(
                text("SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = :o"), {"o": oid}
            ).scalar_one(),
            "prepared": connection.execute(
                text("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()")
            ).scalar_one(),
            "other connections": connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one(),
        }


def _exists(admin_url: str, database: str) -> bool:
    with _connected(admin_url, "postgres") as connection:
        found = connection.execute(
            text("SELECT count(*) FROM pg_database WHERE datname = :d"), {"d": database}
        )
        return bool(found.scalar_one())


def test_a_database_handed_out_is_a_fresh_copy_used_by_no_test_before(template: str) -> None:
    admin_url = postgres_admin_url()
    fresh = _state(admin_url, template)
    seen: list[str] = []
    for _ in range(4):  # more than are made ahead: some were made while a test held one
        with throwaway_database(admin_url, template=template) as url:
            name = make_url(url).database
            assert name is not None
            assert name not in seen, f"{name} was handed out twice"
            seen.append(name)
            assert _state(admin_url, name) == fresh, "a database came with another test's leavings"
            with _connected(admin_url, name) as connection:
                for statement in _USE:
                    connection.execute(text(statement))
                connection.execute(text(f"ALTER DATABASE \"{name}\" SET work_mem = '1MB'"))
                assert _state(admin_url, name) != fresh  # what was left could be seen
    # Each used one is dropped, a moment after its test.
    deadline = time.monotonic() + 30
    while any(_exists(admin_url, name) for name in seen):
        assert time.monotonic() < deadline, "a database a test used was not dropped"
        time.sleep(0.2)


def test_a_database_that_cannot_be_made_is_the_awaiting_tests_error() -> None:
    admin_url = postgres_admin_url()
    missing = f"raazdar_template_{secrets.token_hex(8)}"
    started = time.monotonic()
    with pytest.raises(DBAPIError, match="does not exist"):  # noqa: SIM117 - entered to fail
        with throwaway_database(admin_url, template=missing):
            pytest.fail("a database was handed out from a template that does not exist")
    assert time.monotonic() - started < 30
    # The thread that makes them goes on: the next test gets its database.
    with throwaway_database(admin_url) as url:
        assert _exists(admin_url, str(make_url(url).database))
