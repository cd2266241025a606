"""The throttle: no span of one window ever holds more failures than the limit."""

from __future__ import annotations

import secrets
import time

import pytest
from flask import Flask
from sqlalchemy import select

from app import runkey, throttle
from app.errors import ThrottledError
from app.models import Throttle
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


def test_a_try_given_back_across_a_windows_edge_is_taken_from_the_window_it_was_counted_in(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A right guess is counted before its check and given back after it (`throttle.charge`):
    one counted before the window's edge and given back after another's count moved the row
    to the next window stayed counted there, and the owner's own logins added up."""
    edge = (int(time.time()) // SECONDS + 1) * SECONDS
    clock = Clock(edge - 1)
    monkeypatch.setattr(time, "time", clock)
    with app.app_context(), db_session(app) as session:
        before = throttle.charge(session, [("bucket", SECONDS, LIMIT)])
        session.commit()
        clock.now = edge + 1.0
        after = throttle.charge(session, [("bucket", SECONDS, LIMIT)])
        session.commit()
        throttle.refund(session, before)
        throttle.refund(session, after)
        session.commit()
        for _try in range(LIMIT):
            throttle.charge(session, [("bucket", SECONDS, LIMIT)])
            session.commit()
        with pytest.raises(ThrottledError):
            throttle.charge(session, [("bucket", SECONDS, LIMIT)])


def test_an_even_charge_keeps_no_stand_in_and_counts_nothing_past_the_limit(app: Flask) -> None:
    """`charge_evenly` writes its stand-ins every way (a refused login's work is one work):
    none is left behind, and a bucket past its limit, or read without counting, keeps its
    count as it was."""
    with app.app_context(), db_session(app) as session:
        for _ in range(LIMIT):
            assert isinstance(
                throttle.charge_evenly(session, [("bucket", SECONDS, LIMIT)]), throttle.Charge
            )
            session.commit()
        refused = throttle.charge_evenly(session, [("bucket", SECONDS, LIMIT)])
        session.commit()
        throttle.charge_evenly(session, [("bucket", SECONDS, LIMIT)], stand_ins=True)
        session.commit()
        read = throttle.charge_evenly(session, [("other", SECONDS, LIMIT)], count=False)
        session.commit()
        rows = {tuple(row) for row in session.execute(select(Throttle.bucket, Throttle.failures))}
    assert isinstance(refused, ThrottledError)
    assert isinstance(read, throttle.Charge)
    assert read.counted == ()
    assert rows == {("bucket", LIMIT), ("other", 0)}
