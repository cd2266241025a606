"""Every database connection of a worker taken: a request that waits out the pool is told busy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy
from flask import Flask

from app import db as app_db
from app.source.sizes import ACCOUNT_PAGE_FLOOR
from tests.app.api_support import API, ApiClient
from tests.app.support import Visitor, demo_authorities

# A pool of one connection, waited for a fifth of a second (gunicorn's threads outnumber the
# connections of the default pool, 5 and 10 more, and a request waits 30 s for one).
_POOL: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Engines made from now on have one connection, waited for briefly."""

    def small(url: str, **options: Any) -> Any:
        return sqlalchemy.create_engine(url, **options, **_POOL)

    monkeypatch.setattr(app_db, "create_engine", small)


@pytest.fixture
def app(small_pool: None, make_app: Callable[..., Flask]) -> Flask:
    """The app for the instance, with a pool of one connection."""
    return make_app()


def _busy_and_quiet(status: int, headers: Any, caplog: pytest.LogCaptureFixture, body: str) -> None:
    assert status == 503, (status, body[:300])
    assert headers.get("Retry-After", "").isdigit(), "no Retry-After"
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unexpected, [r.getMessage() for r in unexpected]
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("database-unavailable: TimeoutError at ") for m in said), said


def test_a_page_that_waits_out_the_pool_is_the_padded_busy_page(
    app: Flask, visitor: Visitor, caplog: pytest.LogCaptureFixture
) -> None:
    """A request that waited out the pool (`QueuePool limit ... timed out`, SQLAlchemy's own
    TimeoutError, no OperationalError) was answered 500, the page of a failure of the
    server's own, and logged as an unexpected error. It is the database being busy: the
    busy page, 503 with Retry-After, padded as every source page is, and a warning."""
    visitor.get("/submit")
    engine = app.extensions["raazdar.db"].engine
    # The pool's one connection held, as slow requests on every other thread hold theirs.
    with caplog.at_level(logging.WARNING), engine.connect():
        response = visitor.client.get("/submit")
    page = response.get_data(as_text=True)
    _busy_and_quiet(response.status_code, response.headers, caplog, page)
    assert "busy" in page.lower()
    head = len(f"HTTP/1.1 {response.status}\r\n\r\n") + sum(
        len(k) + len(v) + 4 for k, v in response.headers.items() if k != "Set-Cookie"
    )
    assert head + len(response.get_data()) >= ACCOUNT_PAGE_FLOOR - 512, "not padded"


def test_an_api_request_that_waits_out_the_pool_is_told_busy_in_json(
    app: Flask, instance: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pinned = frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))
    device = ApiClient(app.test_client(), pinned)
    assert device.register().status_code == 201
    headers = device.headers("GET", f"{API}/replies")
    engine = app.extensions["raazdar.db"].engine
    with caplog.at_level(logging.WARNING), engine.connect():
        response = device.client.get(f"{API}/replies", headers=headers)
    body = response.get_json()
    _busy_and_quiet(response.status_code, response.headers, caplog, str(body))
    assert body["error"] == "database-unavailable", body
