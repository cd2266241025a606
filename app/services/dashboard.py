"""The staff dashboard: what waits on the server, and its exchange actions (export, upload).

Every export and upload is audited, refused or not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from flask import current_app
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session

from app import sessions
from app.db import own_session
from app.errors import KeyringUnavailable
from app.models import ExportPress, Item, Source, StaffAccount, today
from app.operations import retention, sweep
from app.operations.exchange import (
    ApplySummary,
    BundleRefused,
    ExportSummary,
    apply_reply_bundle,
    export_bundle,
    next_sequence,
    record_applied,
    record_export,
    unconfirmed,
)
from app.services import audit, staff
from app.services.bundle_stream import BundleStream, DownloadCut
from app.services.context import services
from app.services.keys import public_keys
from app.services.refusals import reply_bundle_refusal
from app.settings import delayed_changes
from app.store import EnvelopeStore
from crypto import CryptoError, VerificationError
from crypto.exchange import new_bundle_id

# How many of the last exports the dashboard names.
RECENT_EXPORTS: Final = 5


@dataclass(frozen=True)
class ExportMade:
    """An export the audit log records: its bundle's number, day and who made it.

    Not how many items it held: two exports in a day would split the day's arrivals,
    and their sources, at the first (`app.operations.exchange.record_export`).
    """

    sequence: int
    day: dt.date
    actor: str


@dataclass(frozen=True)
class Dashboard:
    """What the server can tell staff: how many things wait, and the keyring in force.

    The counts are as of the last sweep (`swept_at`, unix seconds; None: none yet):
    what arrived since waits in holding, uncounted, until the next sweep, as a
    seized disk shows it. Counted live, a reload every minute dated each report
    (the server keeps its day) to the minute. What staff do (an export, a reply
    bundle's acknowledgements) shows at once. No count of replies: one falling
    dated the source who read and deleted hers, her visit, to the minute.
    """

    new_items: int
    items: int
    sources: int
    keyring: dict[str, Any]
    swept_at: float | None = None
    # Items exported `retention.UNACKNOWLEDGED_DAYS` or more days ago, never acknowledged.
    unacknowledged: int = 0
    unacknowledged_days: int = retention.UNACKNOWLEDGED_DAYS
    # Harmful setting changes not yet in force (`app.settings.delayed_changes`): shown to
    # every staff member, not only to administrators.
    delayed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The last exports, newest first (`RECENT_EXPORTS`), shown to every staff member: one
    # its owner did not make (whoever held her session, her password and a code) took its
    # items out of her next bundle, and the workstation has them only in that one.
    exports: tuple[ExportMade, ...] = ()

    @property
    def swept(self) -> str | None:
        """When the counts were taken, as the page says it (UTC, to the minute)."""
        if self.swept_at is None:
            return None
        return dt.datetime.fromtimestamp(self.swept_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Download:
    """An export bundle to send as it is written: its pieces, name and size."""

    stream: BundleStream
    name: str
    size: int


@dataclass(frozen=True)
class Upload:
    """What became of an uploaded reply bundle: applied (with item refusals), or refused whole."""

    summary: ApplySummary | None
    refusal: str | None = None
    reason: str | None = None
    # The parts refused, when an authentic bundle was refused because of them.
    refused: tuple[str, ...] = ()
    # What to do next.
    hint: str | None = None


def dashboard(session: Session) -> Dashboard:
    """Count what waits on the server and describe the keyring in force."""

    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def counts(held: set[str]) -> tuple[int, int, int]:
        swept = Item.id.not_in(sorted(held)) if held else true()
        # A source made before today is dated to its day already; one made today, once an
        # item of hers was swept (a source made with no item waits for the day's end).
        counted = or_(
            Source.created_day < today(),
            select(Item.id).where(Item.source_id == Source.id, swept).exists(),
        )
        return count(Item, ~Item.exported, swept), count(Item, swept), count(Source, counted)

    store = services().store
    new_items, items, sources = _as_of_the_sweep(store, counts)
    return Dashboard(
        new_items=new_items,
        items=items,
        sources=sources,
        keyring=public_keys(),
        swept_at=sweep.last_sweep(store),
        unacknowledged=retention.unacknowledged(session, today()),
        delayed=delayed_changes(session),
        exports=recent_exports(session),
    )


def recent_exports(session: Session) -> tuple[ExportMade, ...]:
    """The last `RECENT_EXPORTS` exports, newest first, as audited (the console's as `console`)."""
    made = []
    for entry in audit.entries(session, action="export", limit=RECENT_EXPORTS):
        detail = json.loads(entry.detail)
        sequence = detail.get("sequence")
        if isinstance(sequence, int):
            made.append(ExportMade(sequence, entry.day, entry.actor))
    return tuple(made)


# How often the counts are taken again when envelopes came into holding as they were taken.
_RECOUNTS: Final = 8


def _as_of_the_sweep(
    store: EnvelopeStore, counts: Callable[[set[str]], tuple[int, int, int]]
) -> tuple[int, int, int]:
    """Take `counts` leaving out the envelopes waiting in holding, listed after the counts.

    An envelope goes into holding before its row commits: listed before the counts
    only, one that came between was counted, dated. So holding is listed again after
    them, and they are taken again while it shows one the counts did not leave out
    (`_RECOUNTS` times at most: an envelope coming as each is taken, a flood, may be
    counted as it comes).
    """
    held = set(store.held())
    found = counts(held)
    for _ in range(_RECOUNTS):
        later = set(store.held())
        if later <= held:
            break
        held |= later
        found = counts(held)
    return found


def export_download(
    session: Session, account: StaffAccount, since: dt.date | None
) -> Download | None:
    """Start an export bundle's download, audited as it commits; None (audited) when nothing
    matches.

    Written straight into the response (`BundleStream`), never onto the server's disk:
    staged whole in the store, it met the full disk a flood left, and every export was
    answered busy. Its items are marked exported, and the export audited, once every
    piece but the last was handed to the browser: a download cut before that marks
    nothing. The download goes on only while `account` and the login that pressed are
    still as they were (`staff.still_signed_in`, before each piece and each second), and
    the export commits only then (`staff.hold_staff`): a colleague removed, reset or
    logged out meanwhile gets at most a piece more, no bundle a workstation reads, and
    nothing is marked exported. While it waits on the browser it lets the sweep in.
    """
    wanted = Item.received_day >= since if since is not None else ~Item.exported
    # Exports the workstation has not confirmed: this one carries every item still here.
    again = unconfirmed(session) is not None
    if not again and not session.scalar(select(func.count()).select_from(Item).where(wanted)):
        # Counted too: "nothing" until the minute a report comes dates it, as the dashboard's
        # counts no longer do; every administrator sees whoever presses again and again.
        staff.hold_staff(session, account)
        count_press(session, account.username)
        session.commit()
        return None
    services().manifest()  # refuse before writing anything if no keyring is in force

    def settle(session: Session, summary: ExportSummary) -> None:
        """Hold the account that made the export (or refuse), then audit it."""
        # The account's row first, then the audit head: the order a removal takes
        # them in (`staff.remove_account`): one waits for the other, never both.
        staff.hold_staff(session, account)
        # "End my other sessions" holds the account's row too, until its commit.
        if login is not None and not sessions.login_stands(session, login[0]):
            raise staff.NoLongerStaff("your session ended meanwhile: nothing was done")
        record_export(session, actor, summary, since=since, resend=False)

    # Read here: the writer's thread reads nothing of the request's session.
    actor = account.username
    ident, epoch = account.as_found()
    login = sessions.login_reference()

    def goes_on() -> bool:
        """Whether the login that pressed, and its account, still stand (`BundleStream`)."""
        check = own_session()
        try:
            return staff.still_signed_in(check, ident, epoch, login)
        finally:
            check.close()

    def write(dst: BinaryIO, on_size: Callable[[int], None]) -> ExportSummary:
        """Write and commit the export on the stream's thread, in a session of its own."""
        work = own_session()
        try:
            return export_bundle(
                work, dst, since=since, before_commit=settle, bundle_id=bundle_id, on_size=on_size
            )
        finally:
            work.close()

    # Named before its first byte: the name goes in the response's headers.
    bundle_id, sequence = new_bundle_id(), next_sequence(session)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stream = BundleStream(app, write, goes_on=goes_on, apart=_sweeps_let_in)
    stream.start()
    if not goes_on():
        # Ended as the envelopes were hashed: refused before the first byte, as a page is.
        stream.close()
        raise staff.NoLongerStaff("your account was removed or changed meanwhile: nothing was done")
    # The bundle's number first: reviewers report a missing bundle by it.
    name = f"raazdar-export-{sequence}-{today().isoformat()}-{bundle_id[:8]}.rzb"
    return Download(stream, name, stream.size)


@contextlib.contextmanager
def _sweeps_let_in() -> Iterator[None]:
    """Let the sweep in while a download waits for its browser; cut it if a sweep ran.

    The bundle's envelopes are read by path, and a sweep moves and overwrites them.
    """
    store = services().store
    swept = sweep.last_sweep(store)
    with store.sweeps_let_in() as reading:
        yield
    if reading and sweep.last_sweep(store) != swept:
        raise DownloadCut("the sweep moved its envelopes")


def count_press(session: Session, actor: str) -> None:
    """Count a press for an export that found nothing; the next sweep audits the count.

    Audited at once (`export-nothing`), the press stood in the log before the export
    that found the next report, on its day: the report came after it. Counted, it
    stands nowhere among the exports. The account's row is held (`staff.hold_staff`),
    so two presses of one account count one after the other.
    """
    counted = session.execute(
        update(ExportPress)
        .where(ExportPress.actor == actor)
        .values(presses=ExportPress.presses + 1)
        .execution_options(synchronize_session=False)
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        session.add(ExportPress(actor=actor, presses=1))


def apply_upload(session: Session, account: StaffAccount, src: BinaryIO) -> Upload:
    """Apply an uploaded reply bundle, or say why it was refused whole; audit either way.

    Applied and audited in one transaction, and only while `account` is still as
    its session found it (`staff.hold_staff`) and the login that sent it stands: a
    colleague removed or reset while the bundle was checked, or a login ended
    meanwhile (a logout, its owner's "Log out every other device" against a copied
    cookie), posts no reply and deletes no item (`NoLongerStaff`), as an export does.
    """
    # Read here, in the request: the login that sent the bundle.
    login = sessions.login_reference()

    def settle(session: Session, summary: ApplySummary) -> None:
        """Hold the account that uploaded the bundle (or refuse), then audit it."""
        # The account's row first, then the audit head, as a removal takes them.
        staff.hold_staff(session, account)
        # "End my other sessions" holds the account's row too, until its commit.
        if login is not None and not sessions.login_stands(session, login[0]):
            raise staff.NoLongerStaff("your session ended meanwhile: nothing was done")
        record_applied(session, account.username, summary)

    try:
        summary = apply_reply_bundle(session, src, before_commit=settle)
    except BundleRefused as exc:
        _refused(session, account, reason="parts", refused=len(exc.refused))
        refusal = (
            f"{len(exc.refused)} part(s) of this bundle were refused, so none of it was "
            "applied: no reply posted, no item deleted, no notice set."
        )
        hint = "The reviewers fix what is listed below and send a new reply bundle."
        return Upload(None, refusal, exc.bundle_id, tuple(exc.refused), hint)
    except (CryptoError, KeyringUnavailable) as exc:
        rule = exc.rule if isinstance(exc, VerificationError) else type(exc).__name__
        _refused(session, account, reason=rule)
        refusal, hint = reply_bundle_refusal(exc).sentences
        return Upload(None, refusal, str(exc), hint=hint)
    return Upload(summary)


def _refused(session: Session, account: StaffAccount, **detail: object) -> None:
    """Audit a refused bundle in the name of `account`, if it is still as its session found it."""
    session.rollback()
    staff.hold_staff(session, account)
    audit.record(session, account.username, "reply-bundle-refused", **detail)
    session.commit()
