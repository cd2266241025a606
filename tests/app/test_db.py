"""The database layer: transactions mean on SQLite what they mean on PostgreSQL."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

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
