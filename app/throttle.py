"""Throttling shared by every worker: failure counters in the database, two windows kept.

A failure counts in the window it happened in and in the next one: a bucket is
refused while the two hold `limit` failures, so no span of one window ever holds
more than `limit` (a count that began again at each window's edge let twice the
limit through, the limit at its end and again at the next one's start). A
refused bucket is let through again within two windows.

The window is stored as a tag under the run key (`app.runkey`), never as a
number of minutes since the epoch: a copy of the database cannot say when the
last failure was, and after a restart every count starts again.
"""

from __future__ import annotations

import time

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import runkey
from app.errors import ThrottledError
from app.models import Throttle


def _windows(bucket: str, seconds: int) -> tuple[int, int]:
    """Return the tags of the current and the previous window of `bucket` under this run's key."""
    run, now = runkey.current(), int(time.time()) // seconds
    return run.tag("throttle", bucket, seconds, now), run.tag("throttle", bucket, seconds, now - 1)


def check(session: Session, bucket: str, limit: int, seconds: int) -> None:
    """Raise `ThrottledError` if `bucket` has `limit` failures in this window and the last."""
    row = session.execute(select(Throttle).where(Throttle.bucket == bucket)).scalar_one_or_none()
    if row is None:
        return
    current, previous = _windows(bucket, seconds)
    if row.window == current:
        failures = row.failures + row.previous
    elif row.window == previous:
        failures = row.failures
    else:
        failures = 0
    if failures >= limit:
        raise ThrottledError(bucket)


def record_failure(session: Session, bucket: str, seconds: int) -> None:
    """Count one failure in the current window, keeping the last window's count beside it."""
    current, previous = _windows(bucket, seconds)
    for _attempt in range(3):
        # Each right-hand side reads the row as it was before this statement.
        result = session.execute(
            update(Throttle)
            .where(Throttle.bucket == bucket)
            .values(
                previous=case(
                    (Throttle.window == current, Throttle.previous),
                    (Throttle.window == previous, Throttle.failures),
                    else_=0,
                ),
                failures=case((Throttle.window == current, Throttle.failures + 1), else_=1),
                window=current,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            session.commit()
            return
        try:
            session.execute(
                insert(Throttle).values(bucket=bucket, window=current, failures=1, previous=0)
            )
            session.commit()
            return
        except IntegrityError:
            session.rollback()
