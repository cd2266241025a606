"""A flood of wrong codenames and garbage proofs locks nobody out (gunicorn, several workers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app.flood import Browser, Flood, derivation_peak, log_in, new_source, send_more
from tests.app.live import demo_instance, live_server

pytestmark = pytest.mark.slow

WORKERS = 3
SOURCES = 8
LOGIN_FLOODERS = 6
PROOF_FLOODERS = 2


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh demo instance."""
    return demo_instance(tmp_path / "instance")


@pytest.fixture
def server(instance: Path, tmp_path: Path) -> Iterator[str]:
    """gunicorn serving the instance with several workers."""
    with live_server(instance, workers=WORKERS, log=tmp_path / "gunicorn.log") as url:
        yield url


def _real_source(base: str, codename: str) -> tuple[int, int, int]:
    """Log in, send another report, get an API challenge; return the three statuses."""
    browser, login_status, _seconds = log_in(base, codename)
    try:
        sent = send_more(browser) if login_status == 303 else 0
    finally:
        browser.close()
    api = Browser(base)
    try:
        challenge = api.request("POST", "/api/v1/challenges")[0]
    finally:
        api.close()
    return login_status, sent, challenge


def test_real_sources_all_get_in_while_a_flood_runs(server: str, instance: Path) -> None:
    codenames = [new_source(server) for _ in range(SOURCES)]
    with (
        derivation_peak(instance) as peak,
        Flood(server, LOGIN_FLOODERS, PROOF_FLOODERS) as flood,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        # Each real source starts only once the flood has had time to pile up failures.
        time.sleep(2)
        answers = list(pool.map(lambda c: _real_source(server, c), codenames))
    print(
        f"\n{SOURCES} real sources during {flood.sent[0]} flood requests "
        f"({flood.busy[0]} told busy); peak derivations {peak[0]}"
    )
    assert answers == [(303, 303, 200)] * SOURCES
    assert flood.sent[0] > 2 * SOURCES  # the flood really ran alongside
