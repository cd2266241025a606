"""Throttling shared by every worker: failure counters in the database, two windows kept.

A failure counts in the window it happened in and in the next one: a bucket is
refused while the two hold `limit` failures, so no span of one window ever holds
more than `limit` (a count that began again at each window's edge let twice the
limit through, the limit at its end and again at the next one's start). A
refused bucket is let through again within two windows.

The window is stored as a tag under the run key (`app.runkey`), never as a
number of minutes since the epoch: a copy of the database cannot say when the
last failure was. A window no key of this run reads is another host's (before
they shared one key: `app.runshare`) or a run's before a restart: for two
windows after this run began or met a host its counts go on, since it may be
current, but never refuse by themselves (it may as well be years old: one try
is let through, and its failure refuses the next); after that it is forgotten.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence

from sqlalchemy import case, delete, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import runkey
from app.errors import ThrottledError
from app.models import Throttle


def _windows(bucket: str, seconds: int) -> tuple[int, int, bool]:
    """Return the tags of the current and the previous window of `bucket` under the run key,
    and whether a window this run cannot read may be one of them under another host's key
    (for two windows after the run began, took up the hosts' key or met a host: `app.runkey`).
    """
    run, now = runkey.current(), time.time()
    window = int(now) // seconds
    return (
        run.tag("throttle", bucket, seconds, window),
        run.tag("throttle", bucket, seconds, window - 1),
        now < run.since + 2 * seconds,
    )


def check(session: Session, bucket: str, limit: int, seconds: int) -> None:
    """Raise `ThrottledError` if `bucket` has `limit` failures in this window and the last."""
    row = session.execute(select(Throttle).where(Throttle.bucket == bucket)).scalar_one_or_none()
    if row is None:
        return
    current, previous, doubtful = _windows(bucket, seconds)
    if row.window == current:
        failures = row.failures + row.previous
    elif row.window == previous:
        failures = row.failures
    elif doubtful:
        # Perhaps another host's current window, perhaps a dead run's from long ago:
        # one try more, whose failure (counted on top) refuses the next.
        failures = min(row.failures + row.previous, limit - 1)
    else:
        failures = 0
    if failures >= limit:
        raise ThrottledError(bucket)


def record_failure(session: Session, bucket: str, seconds: int) -> None:
    """Count one failure in the current window, keeping the last window's count beside it."""
    record_failures(session, [(bucket, seconds)])


def record_failures(
    session: Session,
    counted: Sequence[tuple[str, int]],
    *,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Count one failure in each `(bucket, seconds)`, in one commit (`record_failure`).

    `before_commit` adds what it will to that transaction, the counts made.
    """
    for _attempt in range(3):
        try:
            for bucket, seconds in counted:
                _count(session, bucket, seconds)
            if before_commit is not None:
                before_commit()
            session.commit()
            return
        except IntegrityError:
            # Another request inserted a bucket's row meanwhile: counted again, over it.
            session.rollback()


def record_none(session: Session, buckets: int) -> None:
    """Write what `record_failures` writes for `buckets` buckets, keep none of it, and commit.

    A failure that must not be counted (a wrong staff password) is timed as one that is.
    """
    add_none(session, buckets)
    session.commit()


def add_none(session: Session, buckets: int) -> None:
    """`record_none`'s writes in the open transaction; the caller commits."""
    stand_ins = [f"none:{secrets.token_hex(16)}" for _ in range(buckets)]
    for bucket in stand_ins:
        session.execute(insert(Throttle).values(bucket=bucket, window=0, failures=1, previous=0))
    session.execute(delete(Throttle).where(Throttle.bucket.in_(stand_ins)))


def _count(session: Session, bucket: str, seconds: int) -> None:
    """Count one failure of `bucket` in the open transaction (`IntegrityError`: a race)."""
    current, previous, doubtful = _windows(bucket, seconds)
    # A window this run cannot read, while it may be a current one: its counts go on.
    unread_previous = Throttle.previous if doubtful else literal(0)
    unread_failures = Throttle.failures + 1 if doubtful else literal(1)
    # Each right-hand side reads the row as it was before this statement.
    result = session.execute(
        update(Throttle)
        .where(Throttle.bucket == bucket)
        .values(
            previous=case(
                (Throttle.window == current, Throttle.previous),
                (Throttle.window == previous, Throttle.failures),
                else_=unread_previous,
            ),
            failures=case(
                (Throttle.window == current, Throttle.failures + 1),
                (Throttle.window == previous, 1),
                else_=unread_failures,
            ),
            window=current,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.execute(
            insert(Throttle).values(bucket=bucket, window=current, failures=1, previous=0)
        )


def clear(session: Session, bucket: str) -> None:
    """Forget `bucket`'s failures (in the caller's transaction, which commits)."""
    session.execute(delete(Throttle).where(Throttle.bucket == bucket))
