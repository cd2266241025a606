"""Taking a submission: a report (message and fields) and files, sealed, stored, recorded.

Everything a submission writes becomes visible together or not at all: envelopes
are sealed into staging, rows are added in one transaction, files are renamed
into the store just before the commit and removed again if it fails; but kept if
the commit's answer was lost and it may have landed (`app.db.commit_or_confirm`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from app import report_pacing
from app.db import commit_or_confirm
from app.errors import (
    FAULT_RETRY_AFTER,
    CommitUnconfirmed,
    KeyringUnavailable,
    ReportPaced,
    SubmissionError,
)
from app.files import fsync_together
from app.models import Item, Source, today
from app.services.context import services
from app.services.sources import SignedIn, create_account
from app.settings import in_force
from app.store import StagedEnvelope
from crypto import Metadata, SourceKeys

REPORT_TYPE = "application/vnd.raazdar.report+json; version=1"


class AlreadyFiled(SubmissionError):
    """The same form's submission was filed a moment ago, by a request sent at the same time."""

    def __init__(self, who: SignedIn) -> None:
        super().__init__("filed")
        self.who = who


@dataclass(frozen=True)
class Report:
    """What a source wrote: the message, the optional structured fields, the language used."""

    message: str
    fields: dict[str, object] = field(default_factory=dict)
    language: str = "en"

    def is_empty(self) -> bool:
        """Say whether there is nothing to seal."""
        return not self.message.strip() and not any(self.fields.values())

    def encode(self) -> bytes:
        """Serialise for sealing, once: the form's one-time id needs the same bytes."""
        encoded: bytes | None = self.__dict__.get("_encoded")
        if encoded is None:
            encoded = json.dumps(
                {
                    "format": 1,
                    "message": self.message,
                    "fields": self.fields,
                    "language": self.language,
                },
                ensure_ascii=False,
                sort_keys=True,
            ).encode("utf-8")
            object.__setattr__(self, "_encoded", encoded)  # not a field: equality is unchanged
        return encoded


def submit(
    session: Session,
    *,
    report: Report,
    files: list[StagedEnvelope],
    keys: SourceKeys | None = None,
    signed_in: SignedIn | None = None,
    submission_id: str | None = None,
    before_commit: Callable[[SignedIn], object] | None = None,
) -> SignedIn:
    """Seal and store one submission for a new source (`keys`) or a signed-in one.

    `before_commit` is given the account just before the commit, to add rows of
    its own (a login) to the same transaction. `AlreadyFiled` if `submission_id`
    is the account's already (the same form sent again, or twice at once).
    """
    svc = services()
    if report.is_empty() and not files:
        raise SubmissionError("empty")
    if any(not f.part_complete for f in files):
        raise SubmissionError("incomplete")
    # Read once, after the body: the report is sealed to these keys, and the files, sealed
    # to the keys in force when the body began, must have been sealed to them too.
    _manifest, recipients = svc.sealing()
    staged: list[StagedEnvelope] = []
    published: list[Path] = []
    try:
        if not report.is_empty():
            staged.append(
                svc.store.stage_bytes(
                    report.encode(),
                    recipients,
                    Metadata("report", REPORT_TYPE),
                    flush=False,
                )
            )
        for upload in files:
            # Forced to disk below, all at once with their renames (`publish_staged`).
            upload.finish(flush=False)
            staged.append(upload)
        # The keyring may have expired or changed while a long upload streamed in
        # (expired or gone: `sealing` refused above); its files were sealed to the
        # recipients in force when it started (under subkeys, a week that turned
        # midway refuses the lot: 503, try again).
        if any(f.recipients != recipients for f in files):
            raise KeyringUnavailable("keyring changed during the upload")
        if keys is not None:
            source_id = create_account(session, keys)
            result = SignedIn(source_id, keys.private_key)
        elif signed_in is not None:
            touched = session.connection().execute(
                _TOUCH_ACCOUNT, {"source": signed_in.source_id, "day": today()}
            )
            if touched.scalar_one_or_none() is None:
                raise SubmissionError("account gone")
            source_id, result = signed_in.source_id, signed_in
        else:
            raise SubmissionError("no account")
        # Looked for under the account's lock, taken just now, so that the same form sent
        # twice at once is filed once. Another source's (a token replayed onto another
        # form) is not this one's to answer for: this submission takes an id of its own.
        filer = filed_by(session, submission_id) if submission_id is not None else None
        if filer == source_id:
            raise AlreadyFiled(result)
        if submission_id is None or filer is not None:
            submission_id = secrets.token_hex(16)
        if signed_in is not None:
            _pace_later_report(session, source_id, staged)
        rows = []
        for envelope in staged:
            assert envelope.result is not None  # noqa: S101 - finished above
            rows.append(
                {
                    "id": envelope.id,
                    "source_id": source_id,
                    "submission_id": submission_id,
                    "kind": envelope.metadata.kind,
                    "size": envelope.result.envelope_size,
                }
            )
        if before_commit is not None:
            before_commit(result)
        session.flush()
        # One statement for every item, in the same transaction (no object kept for them).
        session.connection().execute(_INSERT_ITEMS, rows)
        # Held until the commit answers: the timer destroys only what no writer holds.
        with svc.store.filing():
            published = svc.store.publish_staged(staged)
            commit_or_confirm(session, _ITEM_STORED.params(id=staged[0].id))
    except CommitUnconfirmed:
        raise  # it may have landed: its files stay, every one published and forced to disk
    except BaseException:
        session.rollback()
        for envelope in [*staged, *files]:
            envelope.discard()
        for path in published:
            # Freed now, its inode would date the failure (`EnvelopeStore.retire_file`).
            svc.store.retire_file(path)
        raise
    # Deliberately not logged: a log line's timestamp would record when it arrived.
    return result


def file_for_nobody(report: Report, files: list[StagedEnvelope]) -> None:
    """Do a report's filing for a codename that opened nothing, and keep none of it.

    A later report sent with a right codename once its login ended is sealed, forced to
    disk and filed; with a wrong one it was given back at once, some 70 ms sooner, and
    the time said which codename worked. Its report is sealed here to the keyring in
    force as `submit` seals it, forced to disk with its files, and retired as a refused
    report's are (`StagedEnvelope.discard`); the caller commits a stand-in login.
    """
    svc = services()
    if (report.is_empty() and not files) or any(not f.part_complete for f in files):
        return  # refused before any sealing, as `submit` refuses it
    _manifest, recipients = svc.sealing()
    staged: list[StagedEnvelope] = []
    try:
        if not report.is_empty():
            staged.append(
                svc.store.stage_bytes(
                    report.encode(), recipients, Metadata("report", REPORT_TYPE), flush=False
                )
            )
        for upload in files:
            upload.finish(flush=False)
            staged.append(upload)
        fds = [fd for envelope in staged if (fd := envelope.unflushed()) is not None]
        fsync_together(fds, svc.store.holding)
    finally:
        for envelope in staged:
            envelope.discard()


def _pace_later_report(session: Session, source_id: str, staged: list[StagedEnvelope]) -> None:
    """Refuse a later report (`ReportPaced`) that would take the store's space kept for
    first reports, or more than its account's pace of bytes (`app.report_pacing`).

    A first report is paced by its circuit's new account (`app.circuits`); one
    session filing report after report was paced by nothing and filled the disk.
    Words alone (no file) still go into the share kept, at a whole upload limit of the
    account's pace each: a flood of first reports takes the disk down to the last hundredth,
    and past the twentieth a source could not answer a reviewer's question while it lasted.
    """
    size = sum(e.result.envelope_size for e in staged if e.result is not None)
    limit = in_force(session, "upload_limit_mib") * 1024 * 1024
    if not services().store.space_to_spare(0):
        if any(e.metadata.kind != "report" for e in staged):
            raise ReportPaced(FAULT_RETRY_AFTER)
        size = limit  # one a minute an account, however short: rows and inodes cost too
    wait = report_pacing.take_report_turn(source_id, size, limit)
    if wait:
        raise ReportPaced(wait)


def filed_by(session: Session, submission_id: str) -> str | None:
    """The source whose items carry `submission_id`, if that submission was stored."""
    found = session.connection().execute(_FILED_BY, {"id": submission_id}).first()
    return str(found[0]) if found is not None else None


# Built once: a statement is immutable, and building it costs more than running it.
_FILED_BY = select(Item.source_id).where(Item.submission_id == bindparam("id")).limit(1)
_INSERT_ITEMS = insert(Item)
# What says a lost commit's answer was that it landed (`commit_or_confirm`): given its id
# by `params` (a copy, 1.4 us), where building the select anew took 15 us at every report.
_ITEM_STORED = select(Item.id).where(Item.id == bindparam("id"))
# The day of a signed-in source's account moved on, and its id returned if it is still there
# (a bound name other than a column's: in an UPDATE, those are the SET clause's own).
_TOUCH_ACCOUNT = (
    update(Source)
    .where(Source.id == bindparam("source"))
    .values(active_day=bindparam("day"), filed=True)
    .returning(Source.id)
)
