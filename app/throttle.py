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
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, insert, literal, select, update
from sqlalchemy.orm import Session

from app import runkey
from app.db import insert_absent
from app.errors import ThrottledError
from app.models import Throttle


def _windows(bucket: str, seconds: int, now: float | None = None) -> tuple[int, int, bool]:
    """Return the tags of the current and the previous window of `bucket` under the run key,
    and whether a window this run cannot read may be one of them under another host's key
    (for two windows after the run began, took up the hosts' key or met a host: `app.runkey`).
    """
    run = runkey.current()
    now = time.time() if now is None else now
    window = int(now) // seconds
    return (
        run.tag("throttle", bucket, seconds, window),
        run.tag("throttle", bucket, seconds, window - 1),
        now < run.since + 2 * seconds,
    )


def check(session: Session, bucket: str, limit: int, seconds: int) -> None:
    """Raise `ThrottledError` if `bucket` has `limit` failures in this window and the last."""
    row = session.execute(select(Throttle).where(Throttle.bucket == bucket)).scalar_one_or_none()
    if row is not None and _failures(row, limit, seconds) >= limit:
        raise ThrottledError(bucket)


def _failures(row: Throttle, limit: int, seconds: int, now: float | None = None) -> int:
    """The failures `row` holds in this window and the last, as `check` weighs them."""
    current, previous, doubtful = _windows(row.bucket, seconds, now)
    if row.window == current:
        return row.failures + row.previous
    if row.window == previous:
        return row.failures
    if doubtful:
        # Perhaps another host's current window, perhaps a dead run's from long ago:
        # one try more, whose failure (counted on top) refuses the next.
        return min(row.failures + row.previous, limit - 1)
    return 0


@dataclass(frozen=True)
class Charge:
    """Tries counted before their guesses were checked (`charge`), to take back (`refund`)."""

    run: runkey.RunKey
    # Each bucket, its window's length and the number of the window it was counted in.
    counted: tuple[tuple[str, int, int], ...]
    # Whether these counts took a bucket to its limit (`charge_evenly` says).
    locks: bool = False


def charge(session: Session, counted: Sequence[tuple[str, int, int]]) -> Charge:
    """Count one failure in each `(bucket, seconds, limit)` before its guess is checked.

    Or raise `ThrottledError` (its argument the bucket) if one has its limit of
    failures already: then nothing is counted, and the caller rolls back. In the
    open transaction, which holds the buckets' rows until the caller commits: a
    request sent at once with others finds their tries counted, never the count
    they all read before any wrote it. A guess that turns out right takes its
    try back (`refund`); a wrong one leaves it counted, and nothing more is written.
    """
    buckets = [bucket for bucket, _seconds, _limit in counted]
    now = time.time()
    for bucket, seconds, _limit in counted:
        tag, _previous, _doubtful = _windows(bucket, seconds, now)
        session.execute(
            insert_absent(session, Throttle).values(
                bucket=bucket, window=tag, failures=0, previous=0
            )
        )
    _hold(session, buckets)
    rows = _rows(session, buckets)
    for bucket, seconds, limit in counted:
        if _failures(rows[bucket], limit, seconds, now) >= limit:
            raise ThrottledError(bucket)
    for bucket, seconds, _limit in counted:
        _count(session, bucket, seconds, now)
    return Charge(
        runkey.current(),
        tuple((bucket, seconds, int(now) // seconds) for bucket, seconds, _limit in counted),
    )


def charge_evenly(
    session: Session,
    counted: Sequence[tuple[str, int, int]],
    *,
    count: bool = True,
    stand_ins: bool = False,
) -> Charge | ThrottledError:
    """`charge`, in the same statements, writing as many rows, whatever it finds or counts.

    Where a login is refused for any reason, the work after its password's hash
    must not say which: a code's count behind the right password, the counts of an
    account past its limit read and left, or a wrong password's stand-ins.
    `count` False reads the counts and counts nothing (an account that tries no code
    yet); `stand_ins` takes fresh names for `counted`'s buckets, counted and then
    deleted (the work of a count that keeps nothing). Past the limit the refusal is
    returned, and nothing counted; the caller commits or rolls back. Every way, as
    many stand-in rows are written, counted where nothing real is, and deleted: a
    commit that changed no row wrote nothing to the WAL and waited on no disk, and
    a throttled account's right password came back in a third of a wrong one's time.
    The returned `Charge` holds only real counts, and `locks` if they reached a limit.
    """
    spare = [stand_in() for _ in counted]
    names = spare if stand_ins else [bucket for bucket, _seconds, _limit in counted]
    now = time.time()
    # The stand-ins first, new rows every way; then the buckets' if absent (for a wrong
    # password, the stand-ins again: nothing), so each statement writes as many rows.
    for name, (_bucket, seconds, _limit) in zip(
        [*spare, *names], [*counted, *counted], strict=True
    ):
        tag, _previous, _doubtful = _windows(name, seconds, now)
        session.execute(
            insert_absent(session, Throttle).values(bucket=name, window=tag, failures=0, previous=0)
        )
    _hold(session, names)
    # Each weighed, stand-ins too: the work is a count's, whatever is made of it.
    found = _weighed(session, names, counted, now)
    refused = next((ThrottledError(b) for b, over in found if over), None)
    real = count and not stand_ins and refused is None
    targets = names if (real or stand_ins) else spare
    for target, (_bucket, seconds, _limit) in zip(targets, counted, strict=True):
        _count(session, target, seconds, now, insert=False)
    locks = any(over for _bucket, over in _weighed(session, names, counted, now))
    session.execute(delete(Throttle).where(Throttle.bucket.in_(spare)))
    if refused is not None and not stand_ins:
        return refused
    kept = counted if real else ()
    return Charge(
        runkey.current(),
        tuple((bucket, seconds, int(now) // seconds) for bucket, seconds, _limit in kept),
        locks=real and locks,
    )


def _weighed(
    session: Session, names: list[str], counted: Sequence[tuple[str, int, int]], now: float
) -> list[tuple[str, bool]]:
    """Each bucket of `counted` (its row under the name beside it), and whether it is at its
    limit, read again from the database."""
    rows = _rows(session, names)
    return [
        (bucket, _failures(rows[name], limit, seconds, now) >= limit)
        for name, (bucket, seconds, limit) in zip(names, counted, strict=True)
    ]


def _hold(session: Session, buckets: Sequence[str]) -> None:
    """Rewrite the buckets' rows as they are: their locks (on SQLite, the database's one
    writer) until the caller commits. An insert of a row already there takes none on
    PostgreSQL."""
    session.execute(
        update(Throttle)
        .where(Throttle.bucket.in_(buckets))
        .values(failures=Throttle.failures)
        .execution_options(synchronize_session=False)
    )


def _rows(session: Session, buckets: Sequence[str]) -> dict[str, Throttle]:
    """The buckets' rows as the database holds them now, by bucket."""
    return {
        row.bucket: row
        for row in session.execute(
            select(Throttle)
            .where(Throttle.bucket.in_(buckets))
            .execution_options(populate_existing=True)
        ).scalars()
    }


def stand_in() -> str:
    """A bucket's name no account's ever is, for counts that are written and kept by nobody."""
    return f"none:{secrets.token_hex(16)}"


def refund(session: Session, charged: Charge) -> None:
    """Take back the tries `charge` counted, in the open transaction; the caller commits.

    From the window each was counted in, or from the next one's count of the last
    window; a try counted under a run key no longer this host's stays counted.
    """
    for bucket, seconds, window in charged.counted:
        session.execute(
            update(Throttle)
            .where(
                Throttle.bucket == bucket,
                Throttle.window == charged.run.tag("throttle", bucket, seconds, window),
                Throttle.failures > 0,
            )
            .values(failures=Throttle.failures - 1)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Throttle)
            .where(
                Throttle.bucket == bucket,
                Throttle.window == charged.run.tag("throttle", bucket, seconds, window + 1),
                Throttle.previous > 0,
            )
            .values(previous=Throttle.previous - 1)
            .execution_options(synchronize_session=False)
        )


def record_failure(session: Session, bucket: str, seconds: int) -> None:
    """Count one failure of `bucket` in the current window and commit (`charge` checks too)."""
    _count(session, bucket, seconds)
    session.commit()


def add_none(session: Session, buckets: int) -> None:
    """Write what counting a failure writes for `buckets` buckets, in the open transaction,
    and keep none of it; the caller commits."""
    stand_ins = [stand_in() for _ in range(buckets)]
    for bucket in stand_ins:
        session.execute(insert(Throttle).values(bucket=bucket, window=0, failures=1, previous=0))
    session.execute(delete(Throttle).where(Throttle.bucket.in_(stand_ins)))


def _count(
    session: Session, bucket: str, seconds: int, now: float | None = None, *, insert: bool = True
) -> None:
    """Count one failure of `bucket` in the open transaction (`insert` False: only in a row
    it has already, one statement)."""
    current, previous, doubtful = _windows(bucket, seconds, now)
    # A window this run cannot read, while it may be a current one: its counts go on.
    unread_previous = Throttle.previous if doubtful else literal(0)
    unread_failures = Throttle.failures + 1 if doubtful else literal(1)
    # Each right-hand side reads the row as it was before this statement.
    counted = (
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
    if session.execute(counted).rowcount or not insert:  # type: ignore[attr-defined]
        return
    # Inserted only if absent: a unique key refused is an error PostgreSQL logs, with
    # the bucket and the time. Another request's row, inserted meanwhile, is counted over.
    made = session.execute(
        insert_absent(session, Throttle)
        .values(bucket=bucket, window=current, failures=1, previous=0)
        .returning(Throttle.bucket)
    ).first()
    if made is None:
        session.execute(counted)


def rename(session: Session, before: str, after: str) -> int:
    """Carry `before`'s counts over to the bucket `after`, in the open transaction; return 1
    if there were any, else 0. The counts go over whatever `after` held."""
    if session.execute(select(Throttle.bucket).where(Throttle.bucket == before)).first() is None:
        return 0
    session.execute(delete(Throttle).where(Throttle.bucket == after))
    session.execute(update(Throttle).where(Throttle.bucket == before).values(bucket=after))
    return 1


def clear(session: Session, bucket: str) -> None:
    """Forget `bucket`'s failures (in the caller's transaction, which commits)."""
    session.execute(delete(Throttle).where(Throttle.bucket == bucket))
