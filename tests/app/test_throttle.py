"""The throttle: no span of one window ever holds more failures than the limit."""

from __future__ import annotations

import secrets
import time

import pytest
from flask import Flask

from app import runkey, throttle
from app.errors import ThrottledError
from tests.app.support import db_session

SECONDS = 300
LIMIT = 5


class Clock:
    """A clock the test moves: the throttle reads `time.time`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def run_up_for_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run begun an hour ago: no window it cannot read may be a current one any more."""
    monkeypatch.setenv(runkey.ENV, f"{secrets.token_hex(32)}:{time.time() - 3600:.0f}")


def _tries(app: Flask, clock: Clock, moments: list[float]) -> int:
    """Try once at each moment (a failure each time it is let through); count those let through."""
    allowed = 0
    with app.app_context(), db_session(app) as session:
        for moment in moments:
            clock.now = moment
            try:
                throttle.check(session, "bucket", LIMIT, SECONDS)
            except ThrottledError:
                continue
            allowed += 1
            throttle.record_failure(session, "bucket", SECONDS)
    return allowed


def test_no_burst_at_a_windows_edge_passes_the_limit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed window started its count again at its edge: the limit's worth of failures in
    its last second and as many in the next window's first passed, twice the limit in two
    seconds (ten guesses at a second factor where five were allowed)."""
    edge = (int(time.time()) // SECONDS + 1) * SECONDS
    clock = Clock(edge - 1)
    monkeypatch.setattr(time, "time", clock)
    allowed = _tries(app, clock, [edge - 1.0] * LIMIT + [edge + 1.0] * LIMIT)
    assert allowed <= LIMIT, f"{allowed} failures passed within two seconds"


def test_failures_older_than_two_windows_no_longer_count(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = (int(time.time()) // SECONDS) * SECONDS
    clock = Clock(start)
    monkeypatch.setattr(time, "time", clock)
    assert _tries(app, clock, [start + 1.0] * (LIMIT + 1)) == LIMIT
    assert _tries(app, clock, [start + SECONDS + 1.0]) == 0
    assert _tries(app, clock, [start + 2 * SECONDS + 1.0] * (LIMIT + 1)) == LIMIT
