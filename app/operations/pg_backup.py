"""A PostgreSQL database in the instance's backup, and put back with it: one snapshot, one load.

`raazdar backup` used to write the files alone and name a `pg_dump` for the operator
to run beside it, and deploy/README.md had the operator load that dump with `psql`:
whatever dump lay beside the backup (the seizer's, with a source's public key of
their own) was loaded, nothing vouching for its writer. Now the dump is a member of
the backup (`DUMP_NAME`), sealed by `age` with the rest and put back only once the
backup's signing key has the pinned fingerprint (`app.operations.put_back`).

The dump is `pg_dump`'s plain SQL, in one snapshot of a running server, without the
logins (what logout deletes, as the SQLite copy is made), without owners or grants
(loaded as the server's role on the new host), and without the verbose mode that
dates it (`-- Started on …`): `checked` refuses any dump that carries a time of day.
It is loaded into an empty database only, in one transaction that ends with a mark
(a comment on `alembic_version` naming the dump's digest): a load cut short commits
nothing, and a restore killed after its commit finds the mark and goes on
(`loaded_already`); the restore removes the mark once the files are in place.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from typing import Final

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.errors import AppError
from app.models import SessionRow

# The dump's name in the backup; never a file of the instance.
DUMP_NAME: Final = "database.sql"
PG_DUMP: Final = (
    "pg_dump",
    "--format=plain",
    f"--exclude-table-data={SessionRow.__tablename__}",
    "--no-owner",
    "--no-privileges",
    "--no-comments",
)
# What `psql` runs the load with: no ~/.psqlrc, no prompt, stop at the first error.
PSQL: Final = ("psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1")
_MARKED: Final = "public.alembic_version"
_MARK_PREFIX: Final = "raazdar restore "
# A time of day in a comment: pg_dump's verbose `-- Started on 2026-12-07 05:01:02 UTC`.
_CLOCK: Final = re.compile(rb"\d{1,2}:\d{2}:\d{2}")
# The psql commands pg_dump writes (`\restrict`: since 15.14, against a dump that would
# run commands of its own); any other (`\!`, `\connect`) no dump of ours holds.
_COMMANDS: Final = (b"\\restrict ", b"\\unrestrict ")
_TABLES: Final = text(
    "SELECT count(*) FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
)
_MARK: Final = text(
    "SELECT obj_description(to_regclass(:table), 'pg_class') WHERE to_regclass(:table) IS NOT NULL"
)


class DatabaseRefused(AppError):
    """The database a backup is put back into is not empty, or the load failed: nothing loaded."""

    status = 422
    hint = (
        "make the database anew, empty and owned by the server's role (deploy/README.md "
        "§2.1), then `raazdar restore` again; never put a backup back over a live database"
    )

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


def is_postgresql(url: str) -> bool:
    """Whether the database URL names PostgreSQL."""
    return make_url(url).get_backend_name() == "postgresql"


def dump(url: str) -> bytes:
    """The database as pg_dump writes it in one snapshot, without the logins, checked."""
    target, env = libpq(url)
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the URL is the instance's own
            [*PG_DUMP, "--dbname", target], capture_output=True, env=env, check=False
        )
    except FileNotFoundError:
        raise AppError(
            "pg_dump was not found: install PostgreSQL's client tools (postgresql-client)"
        ) from None
    if done.returncode != 0:
        # Its message names the database and the role, never a row.
        raise AppError(f"pg_dump failed: {_first_line(done.stderr)}")
    return checked(done.stdout)


def checked(data: bytes) -> bytes:
    """The dump, if no comment carries a time of day and it runs no psql command of its own."""
    copying = False
    for line in data.split(b"\n"):
        if copying:
            # A table's rows, up to the line `\.`: data, never read as SQL or a comment.
            copying = line != b"\\."
        elif line.startswith(b"COPY ") and line.endswith(b" FROM stdin;"):
            copying = True
        elif line.startswith(b"--") and _CLOCK.search(line):
            raise AppError(
                "the database's dump carries a time of day in a comment (pg_dump's verbose "
                "mode): a backup keeps no time the server does not"
            )
        elif line.startswith(b"\\") and not line.startswith(_COMMANDS):
            raise AppError("the database's dump runs a psql command no pg_dump of ours writes")
    return data


def digest(data: bytes) -> str:
    """The dump's digest, as the mark of its load names it."""
    return hashlib.sha256(data).hexdigest()


def holds_tables(url: str) -> bool:
    """Whether the database holds any table, view or sequence of its own."""
    return bool(_scalar(url, _TABLES, {}))


def loaded_already(url: str, dumped: bytes) -> bool:
    """Whether this very dump was loaded into the database by a restore that stopped after."""
    return _scalar(url, _MARK, {"table": _MARKED}) == _MARK_PREFIX + digest(dumped)


def load(url: str, dumped: bytes) -> None:
    """Load the dump into the empty database in one transaction, ending with its mark."""
    target, env = libpq(url)
    # BEGIN and COMMIT in the input itself (not `--single-transaction`, which commits at
    # the input's end wherever it falls): a load whose writer was killed halfway ends
    # without COMMIT, and PostgreSQL rolls it back.
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the dump is checked
            [*PSQL, "--dbname", target],
            input=load_script(dumped),
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise DatabaseRefused(
            "psql was not found: install PostgreSQL's client tools (postgresql-client); "
            "nothing was loaded",
            "then `raazdar restore` again",
        ) from None
    if done.returncode != 0:
        # psql's error may quote a row: say only that it failed, and where to look.
        raise DatabaseRefused(
            f"psql could not load the backup's database (exit {done.returncode}): its one "
            "transaction was rolled back, and nothing was loaded",
            "is the database reachable as the server's role, and empty? Then `raazdar "
            "restore` again",
        )


def forget_mark(url: str) -> None:
    """Remove the mark of a finished load: the database keeps no more than the original."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            clear_mark(connection)
    except DBAPIError as exc:
        raise AppError(f"cannot reach the database: {_first_line(str(exc).encode())}") from None
    finally:
        engine.dispose()


def clear_mark(connection: Connection) -> None:
    """Remove the load's mark, if any, in the caller's transaction.

    The restore removes it once its files are in place; a restore that another command
    finished (`app.instance.finish_moves`) leaves it for the purge that finishes it.
    """
    if connection.execute(_MARK, {"table": _MARKED}).scalar() is not None:
        connection.execute(text(f"COMMENT ON TABLE {_MARKED} IS NULL"))


def load_script(dumped: bytes) -> bytes:
    """What `psql` reads: the dump in one transaction, its mark last."""
    mark = f"COMMENT ON TABLE {_MARKED} IS '{_MARK_PREFIX}{digest(dumped)}';\n".encode()
    return b"BEGIN;\n" + dumped + b"\n" + mark + b"COMMIT;\n"


def _scalar(url: str, query: object, params: dict[str, str]) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(query, params).scalar()  # type: ignore[call-overload]
    except DBAPIError as exc:
        raise DatabaseRefused(
            f"cannot reach the database the backup goes into: {_first_line(str(exc).encode())} "
            "(nothing was written)",
            "make it, empty and owned by the server's role (deploy/README.md §2.1), then "
            "`raazdar restore` again",
        ) from None
    finally:
        engine.dispose()


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and the environment carrying its password, if any.

    A password stays off the command line, which every user of the machine may read.
    """
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"
