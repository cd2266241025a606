"""Throttling shared by every worker: failure counters in the database, one window kept.

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


def _window(bucket: str, seconds: int) -> int:
    """Return the tag of the current window of `bucket` under this run's key."""
    return runkey.current().tag("throttle", bucket, seconds, int(time.time()) // seconds)


def check(session: Session, bucket: str, limit: int, seconds: int) -> None:
    """Raise `ThrottledError` if `bucket` has `limit` failures in the current window."""
    row = session.execute(select(Throttle).where(Throttle.bucket == bucket)).scalar_one_or_none()
    if row is not None and row.window == _window(bucket, seconds) and row.failures >= limit:
        raise ThrottledError(bucket)


def record_failure(session: Session, bucket: str, seconds: int) -> None:
    """Count one failure in the current window (resetting the count when a window starts)."""
    window = _window(bucket, seconds)
    for _attempt in range(3):
        result = session.execute(
            update(Throttle)
            .where(Throttle.bucket == bucket)
            .values(
                failures=case((Throttle.window == window, Throttle.failures + 1), else_=1),
                window=window,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            session.commit()
            return
        try:
            session.execute(insert(Throttle).values(bucket=bucket, window=window, failures=1))
            session.commit()
            return
        except IntegrityError:
            session.rollback()
