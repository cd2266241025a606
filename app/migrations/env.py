"""Alembic's environment: run migrations on the URL the caller configured."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, event

from app import models  # noqa: F401 - registers the tables on Base.metadata
from app.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _transactional_sqlite(engine: Engine) -> None:
    """Make SQLite's DDL part of the transaction, as PostgreSQL's is.

    Python's sqlite3 begins a transaction only before a row is written, so each
    CREATE, ALTER or DROP before one was committed on its own: a migration
    killed midway left a table or a column made and the revision not stamped,
    and every later upgrade failed on it ("table … already exists").
    """

    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def run_migrations_online() -> None:
    """Run on a live connection, each revision and its stamp in one transaction.

    SQLite migrations use batch mode for ALTER.
    """
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None  # noqa: S101 - app.migrate always sets it
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        _transactional_sqlite(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            transactional_ddl=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
