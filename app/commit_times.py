"""No server on a PostgreSQL that keeps the time of each commit (`track_commit_timestamp`).

With it on, PostgreSQL writes every transaction's commit time to the microsecond
into `pg_commit_ts/`, which no sweep rewrites: until the sweep, any row's time is
`pg_xact_commit_timestamp(xmin)`; after, the files still hold a timeline of every
commit, each report's and login's, for whoever copies the data directory. Only a
restart of PostgreSQL turns it off, so the server refuses to start until then.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from app.db import make_engine
from app.errors import CommitsDated


def dates_commits(connection: Connection) -> bool:
    """Whether the database the connection reaches keeps each commit's time."""
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(text("SHOW track_commit_timestamp")).scalar() != "off"


def refuse_dated_commits(database_url: str) -> None:
    """Refuse to serve a database whose cluster keeps the time of every commit."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            dated = dates_commits(connection)
    finally:
        engine.dispose()
    if dated:
        raise CommitsDated(
            "PostgreSQL keeps the time of every commit (track_commit_timestamp is on): each "
            "report's and login's, to the microsecond, for anyone who copies its disk"
        )
