"""The database layer: transactions mean on SQLite what they mean on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import db_session
from app.models import Throttle


def test_work_in_a_savepoint_is_undone_with_its_transaction(app: Flask) -> None:
    """A savepoint opened after reads alone nests in the request's transaction.

    SQLite's Python driver begins a transaction only before a write, so a
    SAVEPOINT issued first began one of its own and its RELEASE committed it:
    a new source's row was on disk before its submission's items (and stayed
    if they failed), at the cost of one more commit's flushes.
    """
    database = app.extensions["raazdar.db"]
    with database.new_session() as session:
        session.execute(select(Throttle)).all()  # a read first, as a request does
        with session.begin_nested():
            session.add(Throttle(bucket="savepoint", window=1, failures=1))
        session.rollback()

    with database.new_session() as session:
        assert session.get(Throttle, "savepoint") is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_commits_twice_empties_the_wal_once_as_it_ends(app: Flask) -> None:
    """Each emptying flushes the disk twice; the promise is an empty WAL after each request."""
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    with app.test_request_context():
        session = db_session()
        session.add(Throttle(bucket="first", window=1, failures=1))
        session.commit()
        held = wal.stat().st_size  # the request goes on: its writes wait in the WAL
        session.add(Throttle(bucket="second", window=1, failures=1))
        session.commit()

    assert held > 0
    assert wal.stat().st_size == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_outside_a_request_the_wal_is_emptied_at_each_commit(app: Flask) -> None:
    wal = Path(str(app.extensions["raazdar.db"].engine.url.database) + "-wal")
    with app.app_context(), app.extensions["raazdar.db"].new_session() as session:
        session.add(Throttle(bucket="cli", window=1, failures=1))
        session.commit()

        assert wal.stat().st_size == 0
