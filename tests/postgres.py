"""The PostgreSQL server the PostgreSQL tier uses: where it is (or why the tier cannot run),
and the throwaway databases its tests get."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

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
    """A new database (empty, or a copy of `template`), its URL; dropped, connections and all.

    Made ahead and dropped after, by the process's own thread (`_Ahead`): under load a
    `CREATE DATABASE` took about a second of each test's setup. Each is still made for
    one test alone and handed out once, untouched since its `CREATE`.
    """
    name = _AHEAD.take(admin_url, template)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _AHEAD.drop_later(admin_url, name)


class _Ahead:
    """Databases made a few ahead for each template a test asked for, and the used ones
    dropped, by one thread of the test process while its tests run."""

    def __init__(self, depth: int) -> None:
        self._depth = depth
        self._changed = threading.Condition()
        # (admin URL, template) -> names made and not yet handed out, oldest first.
        self._ready: dict[tuple[str, str | None], list[str]] = {}
        self._used: list[tuple[str, str]] = []
        self._awaited: set[tuple[str, str | None]] = set()
        self._engines: dict[str, Engine] = {}
        # A copy's failure, for the next test that asks for that template; a drop's, for the next.
        self._failures: dict[tuple[str, str | None] | None, BaseException] = {}
        self._thread: threading.Thread | None = None
        self._closing = False

    def take(self, admin_url: str, template: str | None) -> str:
        """The name of a database made for `template` and never handed out before."""
        key = (admin_url, template)
        with self._changed:
            self._start()
            self._ready.setdefault(key, [])
            self._awaited.add(key)
            self._changed.notify_all()
            try:
                while not self._ready[key] and not self._failed(key):
                    self._changed.wait()
            finally:
                self._awaited.discard(key)
            for failed in (key, None):
                if failed in self._failures:
                    raise self._failures.pop(failed)
            name = self._ready[key].pop(0)
            self._changed.notify_all()
            return name

    def drop_later(self, admin_url: str, name: str) -> None:
        """Have `name`, handed out by `take`, dropped by the thread."""
        with self._changed:
            self._used.append((admin_url, name))
            self._changed.notify_all()

    def close(self) -> None:
        """Drop every database made ahead or used, once the thread has done what it was doing."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
        # The server may be gone by the time the process ends: then there is nothing to drop.
        with contextlib.suppress(Exception):
            for (admin_url, _), names in self._ready.items():
                for name in names:
                    _drop_database(self._engine(admin_url), name)
            for admin_url, name in self._used:
                _drop_database(self._engine(admin_url), name)
        for engine in self._engines.values():
            engine.dispose()

    def _start(self) -> None:
        if self._thread is None:
            # Run before the templates' own clean-up (atexit runs the last registered first),
            # so that no copy of a template is being made as it is dropped.
            atexit.register(self.close)
            self._thread = threading.Thread(target=self._run, name="databases-ahead", daemon=True)
            self._thread.start()

    def _failed(self, key: tuple[str, str | None]) -> bool:
        return key in self._failures or None in self._failures

    def _run(self) -> None:
        while True:
            with self._changed:
                job = None
                while not self._closing and job is None:
                    job = self._next_job()
                    if job is None:
                        self._changed.wait()
                if job is None:
                    return
            job()

    def _next_job(self) -> Callable[[], None] | None:
        """What to do next: a copy a test awaits, then a drop, then a copy ahead; or nothing."""
        awaited = [key for key in self._awaited if not self._ready[key] and not self._failed(key)]
        if awaited:
            return functools.partial(self._make, awaited[0])
        if self._used:
            admin_url, name = self._used.pop(0)
            return functools.partial(self._drop, admin_url, name)
        short = [
            key
            for key, names in self._ready.items()
            if len(names) < self._depth and key not in self._failures
        ]
        if short:
            return functools.partial(self._make, short[0])
        return None

    def _make(self, key: tuple[str, str | None]) -> None:
        admin_url, template = key
        name = f"raazdar_test_{secrets.token_hex(8)}"
        like = f' TEMPLATE "{template}"' if template is not None else ""
        try:
            with creating_databases(admin_url), self._engine(admin_url).connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"{like}'))
        except Exception as failure:  # the test that asks for one gets the error
            self._failed_with(key, failure)
            return
        with self._changed:
            self._ready[key].append(name)
            self._changed.notify_all()

    def _drop(self, admin_url: str, name: str) -> None:
        try:
            _drop_database(self._engine(admin_url), name)
        except Exception as failure:  # so the next test's setup reports it
            self._failed_with(None, failure)

    def _failed_with(self, key: tuple[str, str | None] | None, failure: Exception) -> None:
        with self._changed:
            self._failures[key] = failure
            self._changed.notify_all()

    def _engine(self, admin_url: str) -> Engine:
        if admin_url not in self._engines:
            # CREATE and DROP DATABASE cannot run inside a transaction. No pool: no
            # connection of the thread's is left open, in this process or a forked child.
            self._engines[admin_url] = create_engine(
                admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
        return self._engines[admin_url]


# Two ahead for each template: one to hand out while the next is made.
_AHEAD = _Ahead(depth=2)


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
