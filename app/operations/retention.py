"""Retention: what the server deletes on its own once the days it may keep things are over.

An item is due `retention_days` after the day it arrived. But every item still
on the server is one the review workstation has not acknowledged (an
acknowledged item is deleted when the reply bundle is applied), so a purge
deletes a due item only on the operator's explicit, audited decision
(`include_unacknowledged`): a lost USB stick must never turn into reports
deleted unseen. Without it, due items are kept and counted (`PurgeReport.kept`),
and `raazdar doctor` and the dashboard warn of items exported but still not
acknowledged days later (`unacknowledged`) and of items not yet exported as
their retention nears (`at_risk`). The policy exists so that a seized server
yields little, so these warnings are loud: an instance whose exchange has
stalled must be noticed, not turn into an archive in silence.

A source expires `source_expiry_days` after their last activity once nothing
they sent remains, and the replies waiting for them go too (a lowered value is
in force only `SOURCE_EXPIRY_DELAY_DAYS` after it was set: `app.settings`); an account the API
made that never sent anything, two days after it was made. Resumable uploads
idle since before yesterday go, row and staged file (`resumable.expire`).
Envelope files that no row names and whatever a crash left in staging are
swept, but never the staged file of an upload that still has its row; rows
whose file is missing are reported, never removed. Nothing else is touched.

Every one of these is reckoned from the clock's day, so a clock set forward (a
bad NTP answer, a seizer's hand) would expire sources still active and take
what is not due. The purge runs daily and its audit entry keeps its day, so a
purge that finds more than `CLOCK_JUMP_DAYS` since the last one (before the
first: since the latest day the audit log or the export head holds) refuses,
deleting and recording nothing, until an operator says the clock is right
(`trust_clock`, audited). Nor does a clock moved a week between two daily purges
pass: over the last `CLOCK_WINDOW_DAYS` days the clock counts (since the last
time an operator trusted it, or the first purge), the days no purge ran may be
at most `CLOCK_JUMP_DAYS` (`days_unaccounted`). The purge timer counts real days
(`OnUnitActiveSec`, a monotonic clock), so a clock-mover gains at most that week
in a window however the clock is stepped. No new time is kept for this: those
days are kept anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.models import AuditEntry, ExportHead, Item, Reply, Source, Upload
from app.services import audit, resumable
from app.settings import in_force, source_expiry_days
from app.store import EnvelopeStore

log = logging.getLogger(__name__)

# A file untouched this long belongs to no request in flight: a publish commits
# within seconds, and even a slow upload over Tor writes to staging every minute.
STALE_AFTER: Final = dt.timedelta(days=1)
# Items not yet exported are warned about this many days before retention takes them.
AT_RISK_DAYS: Final = 14
# Items exported this many days ago and still not acknowledged are warned about.
UNACKNOWLEDGED_DAYS: Final = 14
# The most days a purge may find since the last purge before it takes the clock for set forward:
# it runs daily, so more means the server was off that long, or the clock jumped.
CLOCK_JUMP_DAYS: Final = 7
# The days of the clock over which a purge counts the days no purge ran: a clock moved a
# week between two daily purges is refused at the second; one running fast, a little at
# a time, gains at most `CLOCK_JUMP_DAYS` in each window (a tenth, about).
CLOCK_WINDOW_DAYS: Final = 90
# `raazdar doctor` warns once the last purge is more than this many days old (it runs daily).
PURGE_OVERDUE_DAYS: Final = 2
# Ids per statement: well under every database's limit on bound parameters.
_CHUNK: Final = 500

T = TypeVar("T")


class ClockJumped(AppError):
    """The clock's day is implausibly far past the last purge's: nothing was purged."""

    hint = (
        "check the server's clock (`timedatectl`); if it is right (the server was off "
        "that long), run `raazdar purge --trust-clock`, which the audit log records"
    )


class Progress(Protocol):
    """Something that shows how far the file deletions have got (a progress bar)."""

    def start(self, total: int) -> None:
        """Say how many files are about to be deleted."""

    def advance(self) -> None:
        """Say that one more file is gone."""


@dataclass(frozen=True)
class Policy:
    """The instance's retention settings."""

    retention_days: int
    source_expiry_days: int

    @classmethod
    def read(cls, session: Session, today: dt.date) -> Policy:
        """Read the retention settings in force on `today` (a lowered expiry after its delay)."""
        return cls(
            in_force(session, "retention_days", today),
            source_expiry_days(session, today),
        )

    def item_cutoff(self, today: dt.date) -> dt.date:
        """Return the day on or before which items arrived are due for deletion."""
        return today - dt.timedelta(days=self.retention_days)

    def source_cutoff(self, today: dt.date) -> dt.date:
        """Return the day on or before which sources last active are due to expire."""
        return today - dt.timedelta(days=self.source_expiry_days)


@dataclass
class PurgeReport:
    """What a purge deleted, or for a dry run what it would delete."""

    day: dt.date
    dry_run: bool
    policy: Policy
    items: int = 0
    never_exported: int = 0
    # Items past retention kept because nobody decided to delete them unacknowledged.
    kept: int = 0
    include_unacknowledged: bool = False
    sources: int = 0
    replies: int = 0
    # Resumable uploads abandoned (idle since before yesterday): rows and staged files.
    uploads: int = 0
    orphans: int = 0
    leftovers: int = 0
    # Rows (as "item ID" or "reply ID") that stay but whose envelope file is gone.
    missing: list[str] = field(default_factory=list)
    # Files whose rows were deleted but which could not be removed (swept next time).
    failed: int = 0


@dataclass
class _Plan:
    """What is due, gathered before anything changes."""

    items: list[tuple[str, bool]]
    kept: int
    sources: list[str]
    replies: list[tuple[str, str]]
    orphans: list[Path]
    leftovers: list[Path]
    missing: list[str]


def purge(
    session: Session,
    store: EnvelopeStore,
    today: dt.date,
    *,
    dry_run: bool = False,
    grace: dt.timedelta = STALE_AFTER,
    actor: str = audit.CONSOLE,
    progress: Progress | None = None,
    include_unacknowledged: bool = False,
    trust_clock: bool = False,
) -> PurgeReport:
    """Delete what retention says is due (rows first, then their files); a dry run only counts.

    Due items, none of which was acknowledged, go only with `include_unacknowledged`; and
    nothing goes on a clock that jumped forward (`CLOCK_JUMP_DAYS`) unless `trust_clock`.
    """
    jump = days_since_last_purge(session, today)
    if jump > CLOCK_JUMP_DAYS and not trust_clock:
        raise ClockJumped(
            f"the clock says {today.isoformat()}, {jump} days after the last purge or the "
            f"latest day the server recorded; a clock set forward would expire sources still "
            f"active and delete what is not due: nothing was purged"
        )
    unaccounted = days_unaccounted(session, today)
    if unaccounted > CLOCK_JUMP_DAYS and not trust_clock:
        raise ClockJumped(
            f"the clock says {today.isoformat()}, and on {unaccounted} of the days it counted "
            f"since {(today - dt.timedelta(days=CLOCK_WINDOW_DAYS)).isoformat()} no purge "
            f"ran, though one runs daily; a clock moved forward a little at a time would "
            f"expire sources still active and delete what is not due: nothing was purged"
        )
    policy = Policy.read(session, today)
    plan = _plan(session, store, today, policy, grace, include_unacknowledged)
    report = PurgeReport(
        day=today,
        dry_run=dry_run,
        policy=policy,
        never_exported=sum(1 for _, exported in plan.items if not exported),
        kept=plan.kept,
        include_unacknowledged=include_unacknowledged,
        orphans=len(plan.orphans),
        leftovers=len(plan.leftovers),
        missing=plan.missing,
    )
    if dry_run:
        report.items = len(plan.items)
        report.sources = len(plan.sources)
        report.replies = len(plan.replies)
        report.uploads = resumable.expire(session, store, today, dry_run=True)
        return report
    # In a transaction of its own, its staged files overwritten once it commits.
    report.uploads = resumable.expire(session, store, today)
    try:
        deleted_sources = _delete_rows(session, policy, today, plan, report)
        if max(jump, unaccounted) > CLOCK_JUMP_DAYS:
            # The operator's word that the clock is right, on the record.
            audit.record(
                session,
                actor,
                "purge-clock-trusted",
                days_since_last=jump,
                days_unaccounted=unaccounted,
            )
        _record_purge(session, actor, policy, report)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    # Files only once their rows are gone for good: a failure from here on
    # leaves files without rows, which the next purge sweeps up.
    doomed = [store.path(item_id) for item_id, _ in plan.items]
    doomed += [store.path(reply_id) for reply_id, owner in plan.replies if owner in deleted_sources]
    doomed += plan.orphans + plan.leftovers
    report.failed += _destroy(store, doomed, progress)
    return report


def last_purge_day(session: Session) -> dt.date | None:
    """The day of the last purge's audit entry, if a purge ever ran."""
    return session.scalar(select(func.max(AuditEntry.day)).where(AuditEntry.action == "purge"))


def days_since_last_purge(session: Session, today: dt.date) -> int:
    """Days from the last purge's audit entry to `today` (0 if none is known, or if later).

    Before the first purge: from the latest day the audit log or the export head holds.
    """
    last = last_purge_day(session)
    if last is None:
        known = [
            session.scalar(select(func.max(AuditEntry.day))),
            session.scalar(select(ExportHead.day).where(ExportHead.id == 1)),
        ]
        last = max((d for d in known if d is not None), default=None)
    return max(0, (today - last).days) if last is not None else 0


def days_unaccounted(session: Session, today: dt.date) -> int:
    """Days of the clock's last `CLOCK_WINDOW_DAYS` before `today` on which no purge ran.

    Counted from the last day an operator trusted the clock, or the first purge, if
    later. A purge runs once a real day, so a clock gaining on real time leaves days
    without one; a host that was off leaves as many, which an operator then vouches for.
    """
    trusted = session.scalar(
        select(func.max(AuditEntry.day)).where(AuditEntry.action == "purge-clock-trusted")
    )
    first = session.scalar(select(func.min(AuditEntry.day)).where(AuditEntry.action == "purge"))
    if first is None:
        return 0
    since = max(d for d in (trusted, first, today - dt.timedelta(days=CLOCK_WINDOW_DAYS)) if d)
    ran = session.scalar(
        select(func.count(AuditEntry.day.distinct())).where(
            AuditEntry.action == "purge", AuditEntry.day >= since, AuditEntry.day < today
        )
    )
    return max(0, (today - since).days - (ran or 0))


def _record_purge(session: Session, actor: str, policy: Policy, report: PurgeReport) -> None:
    """Put the purge in the audit log (and the choice to include unacknowledged items)."""
    if report.include_unacknowledged:
        # The operator's decision, on the record even when nothing was due.
        audit.record(
            session,
            actor,
            "purge-unacknowledged",
            items=report.items,
            never_exported=report.never_exported,
            retention_days=policy.retention_days,
        )
    audit.record(
        session,
        actor,
        "purge",
        items=report.items,
        never_exported=report.never_exported,
        sources=report.sources,
        replies=report.replies,
        uploads=report.uploads,
        orphans=report.orphans,
        leftovers=report.leftovers,
        missing=len(report.missing),
        kept=report.kept,
        retention_days=policy.retention_days,
        source_expiry_days=policy.source_expiry_days,
    )


def _destroy(store: EnvelopeStore, doomed: list[Path], progress: Progress | None) -> int:
    """Overwrite each file, for the next sweep to free; return how many could not be.

    Freed now, their inodes would date the purge (`EnvelopeStore.retire_file`).
    """
    failed = 0
    if progress is not None:
        progress.start(len(doomed))
    for path in doomed:
        try:
            store.retire_file(path)
        except OSError as exc:
            log.warning("could not remove a file: %s", exc.strerror or type(exc).__name__)
            failed += 1
        if progress is not None:
            progress.advance()
    return failed


def at_risk(session: Session, today: dt.date, within_days: int = AT_RISK_DAYS) -> int:
    """Count items never exported that retention deletes within `within_days` (or already may)."""
    cutoff = Policy.read(session, today).item_cutoff(today) + dt.timedelta(days=within_days)
    query = (
        select(func.count()).select_from(Item).where(~Item.exported, Item.received_day <= cutoff)
    )
    return session.scalar(query) or 0


def unacknowledged(
    session: Session, today: dt.date, older_than_days: int = UNACKNOWLEDGED_DAYS
) -> int:
    """Count items exported at least `older_than_days` ago and still not acknowledged.

    An item exported the day it came has no day of its own until an export on a later
    day gives it one (`exchange._date_exported`): until then it went out on that day.
    """
    cutoff = today - dt.timedelta(days=older_than_days)
    exported_day = func.coalesce(Item.exported_day, Item.received_day)
    query = select(func.count()).select_from(Item).where(Item.exported, exported_day <= cutoff)
    return session.scalar(query) or 0


def past_retention(session: Session, today: dt.date) -> int:
    """Count items past their retention, kept because none of them was acknowledged."""
    cutoff = Policy.read(session, today).item_cutoff(today)
    query = select(func.count()).select_from(Item).where(Item.received_day <= cutoff)
    return session.scalar(query) or 0


def _plan(
    session: Session,
    store: EnvelopeStore,
    today: dt.date,
    policy: Policy,
    grace: dt.timedelta,
    include_unacknowledged: bool,
) -> _Plan:
    """Gather what is due without changing anything."""
    item_cutoff = policy.item_cutoff(today)
    due = [
        (row.id, row.exported)
        for row in session.execute(
            select(Item.id, Item.exported).where(Item.received_day <= item_cutoff).order_by(Item.id)
        )
    ]
    items = due if include_unacknowledged else []
    keep_items = not include_unacknowledged
    sources = list(
        session.execute(
            select(Source.id).where(*_expired_source(policy, today, keep_items)).order_by(Source.id)
        ).scalars()
    )
    replies: list[tuple[str, str]] = []
    for chunk in _chunks(sources):
        replies += [
            (row.id, row.source_id)
            for row in session.execute(
                select(Reply.id, Reply.source_id).where(Reply.source_id.in_(chunk))
            )
        ]
    going = {item_id for item_id, _ in items} | {reply_id for reply_id, _ in replies}
    missing = [
        f"{kind} {envelope_id}"
        for kind, column in (("item", Item.id), ("reply", Reply.id))
        for envelope_id in session.execute(select(column)).scalars()
        if envelope_id not in going and not store.exists(envelope_id)
    ]
    min_age = grace.total_seconds()
    # Staged files of uploads with a row are theirs: `resumable.expire` decides when they go.
    uploads = {
        resumable.staged_path(upload_id, store).name
        for upload_id in session.execute(select(Upload.id)).scalars()
    }
    return _Plan(
        items=items,
        kept=len(due) - len(items),
        sources=sources,
        replies=replies,
        orphans=store.orphans(lambda ids: with_rows(session, ids), min_age=min_age),
        leftovers=store.leftovers(min_age=min_age, keep=uploads),
        missing=sorted(missing),
    )


def _delete_rows(
    session: Session, policy: Policy, today: dt.date, plan: _Plan, report: PurgeReport
) -> set[str]:
    """Delete the rows of the plan in the session's transaction; return the sources deleted."""
    keep_items = not report.include_unacknowledged
    item_cutoff = policy.item_cutoff(today)
    for chunk in _chunks([item_id for item_id, _ in plan.items]):
        gone = session.execute(
            delete(Item)
            .where(Item.id.in_(chunk), Item.received_day <= item_cutoff)
            .returning(Item.id)
            .execution_options(synchronize_session=False)
        )
        report.items += len(gone.scalars().all())
    deleted: set[str] = set()
    for chunk in _chunks(plan.sources):
        # The conditions again: a source who came back since the plan was made stays.
        expired = session.execute(
            delete(Source)
            .where(Source.id.in_(chunk), *_expired_source(policy, today, keep_items))
            .returning(Source.id)
            .execution_options(synchronize_session=False)
        )
        deleted.update(expired.scalars())
    report.sources = len(deleted)
    for chunk in _chunks(sorted(deleted)):
        # The foreign key cascades already did this; said here so it never depends on it.
        session.execute(
            delete(Reply)
            .where(Reply.source_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    report.replies = sum(1 for _, owner in plan.replies if owner in deleted)
    return deleted


def _expired_source(
    policy: Policy, today: dt.date, keep_items: bool
) -> tuple[ColumnElement[bool], ...]:
    """Say when a source expires: long inactive, or made before yesterday and never filed
    (nor uploading); and nothing of theirs kept.

    With `keep_items`, every item is kept (none is deleted unacknowledged), so a
    source with any item left stays: deleting it would take its items with it. An
    account the API made that never sent anything is a flood's, one a minute per Tor
    circuit, or a source's whose device makes it again with its next request: kept a
    year, a flood's grew the table without bound.
    """
    kept = () if keep_items else (Item.received_day > policy.item_cutoff(today),)
    survives = exists().where(Item.source_id == Source.id, *kept)
    empty = and_(
        ~Source.filed,
        Source.created_day < today - dt.timedelta(days=1),
        ~exists().where(Upload.source_id == Source.id),
    )
    return (or_(Source.active_day <= policy.source_cutoff(today), empty), ~survives)


def with_rows(session: Session, ids: list[str]) -> set[str]:
    """Return those of `ids` that name an item or a reply."""
    found = set(session.execute(select(Item.id).where(Item.id.in_(ids))).scalars())
    found |= set(session.execute(select(Reply.id).where(Reply.id.in_(ids))).scalars())
    return found


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
