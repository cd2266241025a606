"""Alembic's environment: run migrations on the URL the caller configured."""

from __future__ import annotations

from alembic import context

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


def run_migrations_online() -> None:
    """Run on a live connection (SQLite migrations use batch mode for ALTER)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None  # noqa: S101 - app.migrate always sets it
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
