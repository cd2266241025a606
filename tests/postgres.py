"""The PostgreSQL server the PostgreSQL tier uses: where it is (or why the tier cannot run),
and the throwaway databases its tests get."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

POSTGRES_ENV = "RAAZDAR_TEST_POSTGRES_URL"


def postgres_admin_url() -> str:
    """The URL of a role that may create databases; fail in CI, skip elsewhere, if unset."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL tier must run "
            "(tests/run.sh starts PostgreSQL and sets it)"
        )
    pytest.skip(f"{POSTGRES_ENV} is not set (tests/run.sh starts PostgreSQL and sets it)")


@contextlib.contextmanager
def throwaway_database(admin_url: str, *, template: str | None = None) -> Iterator[str]:
    """A new database (empty, or a copy of `template`), its URL; dropped, connections and all."""
    url = make_url(admin_url)
    name = f"raazdar_test_{secrets.token_hex(8)}"
    like = f' TEMPLATE "{template}"' if template is not None else ""
    # CREATE and DROP DATABASE cannot run inside a transaction.
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with creating_databases(admin_url), admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{like}'))
        yield url.set(database=name).render_as_string(hide_password=False)
        _drop_database(admin, name)
    finally:
        admin.dispose()


@contextlib.contextmanager
def creating_databases(admin_url: str) -> Iterator[None]:
    """Create a database only while no test of any process awaits autovacuum (see below)."""
    with _creation_lock(admin_url, fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def no_new_databases(admin_url: str) -> Iterator[None]:
    """Hold back every process's new databases while a test awaits autovacuum's visit.

    Its launcher starts each worker in the database it visited longest ago, and one
    never visited comes first. The other test processes make a new database every
    second or two, so while its few workers are slow elsewhere a test's own database,
    visited once already, waits behind every new one. Without new ones, each database
    of the cluster is visited about once a naptime.
    """
    with _creation_lock(admin_url, fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def _creation_lock(admin_url: str, kind: int) -> Iterator[None]:
    """A lock that every test process of this server shares (a file beside them all)."""
    where = make_url(admin_url)
    server = hashlib.blake2b(f"{where.host}:{where.port}".encode(), digest_size=8).hexdigest()
    path = Path(tempfile.gettempdir()) / f"raazdar-test-databases-{server}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, kind)
        yield
    finally:
        os.close(fd)


def _drop_database(admin: Engine, name: str) -> None:
    """Drop one test database, waiting out a server process that is briefly connected to it.

    FORCE (PostgreSQL 13+) ends connections a test left open, e.g. in a pool. An
    autovacuum worker may also be visiting the new database; ending it needs
    pg_signal_backend (tests/run.sh grants it), and without that the worker's own
    exit a moment later is what lets the drop through, so a refusal is retried.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
