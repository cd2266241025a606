"""Alembic, driven from code: the schema of an instance is always the migrations' head."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.db import make_engine
from app.errors import SchemaMismatch

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic config for `database_url` that needs no alembic.ini."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@functools.cache
def head() -> str:
    """This release's schema: the revision the migrations end at."""
    found = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert found is not None  # noqa: S101 - the migrations ship with the code
    return found


def revision(database_url: str) -> str | None:
    """The revision the database's schema is at (None: no migration ever ran on it)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def refuse_other_schema(database_url: str) -> None:
    """Refuse to serve a database whose schema is not this release's.

    Started on one a revision behind (`raazdar migrate` forgotten after an upgrade,
    or cut off midway), the server answered every report "busy, wait a minute",
    for as long as nobody read its log.
    """
    at, wanted = revision(database_url), head()
    if at != wanted:
        raise SchemaMismatch(
            f"the database's schema is at revision {at or 'none'}, this release's is at "
            f"{wanted}: every report would be refused"
        )


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the database back to `revision`."""
    command.downgrade(alembic_config(database_url), revision)
