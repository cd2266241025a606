"""Shared fixtures for every test tier: a throwaway PostgreSQL database, a clean process state."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from werkzeug.routing import Rule

from tests.postgres import postgres_admin_url, throwaway_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped (connections and all) after it."""
    with throwaway_database(postgres_admin_url()) as url:
        yield url


@pytest.fixture
def _close_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every engine the server makes during the test, its CLI's included."""
    from app import db as app_db

    created: list[Engine] = []
    make_engine = app_db.make_engine

    def tracked(url: str) -> Engine:
        engine = make_engine(url)
        created.append(engine)
        return engine

    monkeypatch.setattr(app_db, "make_engine", tracked)
    yield
    # A session the test opened and never closed holds its connection until the garbage
    # collector finds it: the database's drop ends it, and psycopg then warns (unraisably,
    # in whichever test is running) that it was deleted while still open.
    left = [e for e in created if e.dialect.name == "postgresql" and _checked_out(e)]
    for engine in created:
        engine.dispose()
    if left:
        pytest.fail(
            "a PostgreSQL connection the test checked out is still open after it: close "
            "each session it opens (`with db_session(app) as session:`)",
            pytrace=False,
        )


def _checked_out(engine: Engine) -> int:
    """How many of the engine's connections are out of its pool (a QueuePool's count)."""
    count = getattr(engine.pool, "checkedout", None)
    return int(count()) if callable(count) else 0


@pytest.fixture(autouse=True, scope="session")
def _url_builders_compiled_once() -> Iterator[None]:
    """Compile each URL rule's builder once per test process, not once per app built.

    Werkzeug writes and compiles two small functions for each of the app's rules
    whenever an app is built: two thirds of `create_app`, which thousands of tests
    call. A function is made only from what the key below holds (the rule, its parts,
    its defaults, its converters), so the app built from it builds the same URLs.
    Processes the tests start (gunicorn, the tools) compile their own.
    """
    compile_builder = Rule._compile_builder
    compiled: dict[tuple[object, ...], Callable[..., tuple[str, str]]] = {}

    def once(rule: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = (
            rule.rule,
            tuple(rule._trace),
            tuple((name, repr(value)) for name, value in (rule.defaults or {}).items()),
            tuple((name, type(value)) for name, value in rule._converters.items()),
            append_unknown,
        )
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", once)
        yield


# What the three tools read from the environment to choose what they work on. Tests choose
# their instance, database, workspace and state directory; the caller's shell must not.
CHOOSING_VARIABLES = (
    "RAAZDAR_INSTANCE",
    "RAAZDAR_DATABASE_URL",
    "RAAZDAR_WORKSPACE",
    "RAAZDAR_REVIEWER",
    "RAAZDAR_SUBMIT_STATE",
)


@pytest.fixture(autouse=True)
def _no_environment_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear the variables that choose an instance, a workspace or a client's state."""
    for name in CHOOSING_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# Where each tool forbids core files for its own process (app/dumps.py through app/cli/base.py,
# review/cli/base.py, submit/sensitive.py).
_CORE_FORBIDDERS = ("app.cli.base", "review.cli.base", "submit.sensitive")


@pytest.fixture(autouse=True)
def _core_files_left_to_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool run inside the test process must not forbid core files for it: the hard limit
    it sets (0) cannot be raised again here (no CAP_SYS_RESOURCE), so the core-dump tests
    that ran later on the same worker failed to start their children ("Exception occurred
    in preexec_fn"), by the order of files alone. Those tests run the tools as children,
    where forbidding is real and checked. (Modules are all imported at collection.)"""
    for name in _CORE_FORBIDDERS:
        module = sys.modules.get(name)
        if module is not None:
            monkeypatch.setattr(module, "forbid_core_dumps", lambda: None)


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    """Undo the umask the `raazdar` CLI sets for its process, so no test inherits it."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield
    os.umask(saved)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist loadgroup` (tests/run.sh): a file's tests on one worker, and the whole
    Tor tier on one (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.scheduling import ByFileTorTogether

    return ByFileTorTogether(config, log)
