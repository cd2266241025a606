"""What the server keeps: random ids, days, ciphertext sizes, lookup tags and public keys.

Never a time of day, an IP address, a user agent or an order of arrival: ids are
random and SQLite tables are WITHOUT ROWID, so rows are stored in id order.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Final

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    false,
    inspect,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

NO_ROWID = {"sqlite_with_rowid": False}


def new_id() -> str:
    """Return a random 128-bit id: it reveals nothing, not even order."""
    return secrets.token_hex(16)


def today() -> dt.date:
    """Return the current day in UTC: the finest time the server records."""
    return dt.datetime.now(dt.UTC).date()


class Source(Base):
    """A source, known by the tag derived from their codename; never by the codename."""

    __tablename__ = "sources"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lookup_tag: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    designation: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(100))
    # The Ed25519 key (`rz-ed25519-public:…`) that checks the API's request proofs;
    # None for an account made before the API, until its next browser login.
    signing_key: Mapped[str | None] = mapped_column(String(100), default=None)
    # A short status reviewers set for the source to see ("received", "closed", ...).
    notice: Mapped[str | None] = mapped_column(String(32), default=None)
    # The workstation's number of that notice (its count of notices to this source, reply
    # bundle format 3); None for a notice from before numbering. A notice of a lower
    # number, in a bundle handed in late, does not replace it (`apply_reply_bundle`).
    notice_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)
    active_day: Mapped[dt.date] = mapped_column(Date, default=today)
    # Whether it ever stored an item. The API makes an account before anything is sent
    # (False), and one a minute per Tor circuit: one that sent nothing goes at the purge
    # two days on, not a year (`app.operations.retention`). A browser's is made with its
    # first report; and any account that files is marked so for good.
    filed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    items: Mapped[list[Item]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )
    replies: Mapped[list[Reply]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class Item(Base):
    """One sealed envelope from a source: a report (message and fields) or a file."""

    __tablename__ = "items"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    # Indexed: every form sent is looked up by it (`submissions.filed_by`), and a scan
    # would make each submission dearer with every item held.
    submission_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    received_day: Mapped[dt.date] = mapped_column(Date, default=today)
    # No keyring version: nothing read it, and on the day of an install it told the
    # reports that came before it from those after, where their headers did not (0026).
    exported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The day the item first went into an export bundle: an item still here N days
    # later was never acknowledged (a lost stick?), and `raazdar doctor` says so. None
    # while it went out only on the day it came: dated then, it split that day's
    # arrivals at the export (`app.operations.exchange._date_exported`, 0023).
    exported_day: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # Acknowledged by a reply bundle the workstation's key did not seal: kept, exported
    # again, and named in every export until a sealed bundle acknowledges it (0019).
    ack_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    source: Mapped[Source] = relationship(back_populates="items")


class Upload(Base):
    """An envelope arriving in chunks through the API; once whole it becomes the Item of that id.

    `active_day` is the last day a chunk arrived: an upload idle since before
    yesterday is discarded (`app.services.resumable.expire`). `started_day` is the
    day it began: while the disk is short, one begun before yesterday makes room for
    others (`app.services.resumable.make_room`).
    """

    __tablename__ = "uploads"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    # BLAKE2b-256 (person "rz-bundle-item1") of the whole envelope, as the client declared it.
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Indexed: every upload's start looks for the idle ones (`resumable.expire`).
    active_day: Mapped[dt.date] = mapped_column(Date, default=today, index=True)
    # None only for an upload begun before the column was (0028), which counts as held over.
    # Indexed: a start or chunk short of room looks for the oldest (`resumable.make_room`).
    started_day: Mapped[dt.date | None] = mapped_column(Date, default=today, index=True)
    # Bytes appended and committed: the staged file is trusted only this far, since
    # a process that dies mid-append leaves more on disk than was ever committed.
    received: Mapped[int] = mapped_column(Integer, default=0)


class UsedChallenge(Base):
    """A request challenge already spent, kept through the day after the one it was spent.

    Only the day is kept, never the time, and no source: the row says that some
    request was made the day before `expires_day`, which the day's items say anyway.
    """

    __tablename__ = "used_challenges"
    __table_args__ = NO_ROWID

    nonce: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    # Indexed: every signed request deletes the rows of past days (`api._spend`), inside its
    # write; a scan would read every challenge spent today, a flood's included.
    expires_day: Mapped[dt.date] = mapped_column(Date, index=True)


class Reply(Base):
    """A reviewer's reply, sealed to the source's public key and signed by the reviewer."""

    __tablename__ = "replies"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    received_day: Mapped[dt.date] = mapped_column(Date, default=today)
    # The source's device's signed word that it holds no secret of the one-time prekey
    # this reply is sealed to (`crypto.binding.UnheldPrekey`, canonical JSON), for the
    # next export to tell the reviewers; None while nothing says so.
    unheld: Mapped[str | None] = mapped_column(Text, default=None)

    source: Mapped[Source] = relationship(back_populates="replies")


class AppliedBundle(Base):
    """A reply bundle settled here: applied, or voided by a later one; never applied again.

    One table for both, so that a bundle and the one voiding it, applied at the same
    time, cannot both commit (the second insert of the id fails).
    """

    __tablename__ = "applied_bundles"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Taken back by the reviewers and voided by a later bundle before it was applied.
    voided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AckKey(Base):
    """The review workspace's acknowledgement key: only bundles it seals delete items.

    One row: given by an administrator (`raazdar set-ack-key`; a demonstration takes
    the first sealed reply bundle's), and moved only by a bundle sealed by a key the
    one held handed over to.
    """

    __tablename__ = "ack_key"
    __table_args__ = NO_ROWID

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(Text)


class RestoreMark(Base):
    """How many restores this instance has finished, and a random id of the last one.

    One row, written by the purge that finishes a restore (`app.cli.maintenance`) and
    carried in every export (format 8), so that the workstation learns of a restore
    the export chain does not show (a backup made after the last export). The id is
    random: a second restore from the same backup gives the same count, never the
    same id. No day: which day it was is the operator's to say.
    """

    __tablename__ = "restore_mark"
    __table_args__ = NO_ROWID

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[str] = mapped_column(String(32))


class ExportHead(Base):
    """The newest export bundle's place in the chain: the next one follows it.

    One row only, and no list of bundles: which items went out together would
    say more about the order they arrived in than their days do.
    """

    __tablename__ = "export_head"
    __table_args__ = NO_ROWID

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    # How many audit entries that bundle's audit head counted (None before format 4).
    audit_entries: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The latest day an export was dated (None before 0013): rule D2 never seals or accepts
    # for a week that day closed, even once the server's clock is set back behind it.
    day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The newest export number the review workspace's seal said its chain is complete
    # through (reply format 5; None before any): while the head is past it, every export
    # carries every item still here again (`app.operations.exchange.unconfirmed`).
    confirmed: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ExportPress(Base):
    """How many times one staff account pressed for an export that found nothing, since the sweep.

    Audited at the next sweep as one entry per account (`app.operations.sweep`), not
    at each press: an entry written at once stood in the log between the exports,
    and one on the day of the export that found a report said it came after it.
    """

    __tablename__ = "export_presses"
    __table_args__ = NO_ROWID

    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    presses: Mapped[int] = mapped_column(Integer)


class Setting(Base):
    """An instance setting an administrator can change, stored as JSON text."""

    __tablename__ = "settings"
    __table_args__ = NO_ROWID

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TaxonomyTerm(Base):
    """A choice offered in the submission form's optional fields (agency, complicity, …)."""

    __tablename__ = "taxonomy"
    __table_args__ = NO_ROWID

    group: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_en: Mapped[str] = mapped_column(String(200))
    label_ur: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class Throttle(Base):
    """Failure counters for the current time window and the one before, shared by every worker.

    Only those two are kept (each new window overwrites the row), so the table
    says how many attempts failed in the last few minutes, never when.
    """

    __tablename__ = "throttle"
    __table_args__ = NO_ROWID

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A tag of the window under the run key (`app.runkey`), never a count of minutes.
    window: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    # The failures of the window before `window` (`app.throttle`).
    previous: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RunHost(Base):
    """An app host's run, by the public half of a key it keeps in memory only (`app.runshare`).

    Random: the row says a run began since the table was last emptied, never when.
    """

    __tablename__ = "run_hosts"
    __table_args__ = NO_ROWID

    host: Mapped[str] = mapped_column(String(64), primary_key=True)


class RunKeyOffer(Base):
    """One host's run key, sealed to another host's run: only that run can open it."""

    __tablename__ = "run_key_offers"
    __table_args__ = NO_ROWID

    host: Mapped[str] = mapped_column(String(64), primary_key=True)
    offerer: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[str] = mapped_column(String(200))


class StaffAccount(Base):
    """A staff member or administrator of the server (a reviewer may hold one: see `reviewer`)."""

    __tablename__ = "staff_accounts"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The TOTP secret, sealed under a key derived from the instance's secret key:
    # a copy of the database alone does not yield working codes.
    totp_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The last accepted TOTP time step as a tag under the run key (`app.runkey`), 0
    # if none: a code is accepted once, and never an older one, and a copy of the
    # database cannot say when the last login was.
    totp_spent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped when the password or the second factor changes: every session made
    # before then carries the old epoch and ends.
    epoch: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)
    last_login_day: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # The signing-key fingerprint of the reviewer who holds this account, as the
    # keyring shows it (None: bound to nobody). Installing a keyring that no longer
    # lists that reviewer locks the account (`app.reviewer_accounts.lock_revoked`).
    reviewer: Mapped[str | None] = mapped_column(String(64), default=None)

    def as_found(self) -> tuple[str, int]:
        """The id and epoch this session first read the row with, never read again.

        A rollback (one a request makes before it reads its body, say) expires every
        attribute, and the next read reloads the row as it is then: an epoch a reset
        moved meanwhile was taken for the one the request began with, and a row a
        removal deleted meanwhile raised `ObjectDeletedError`, a 500, where the
        action was to be refused (`app.services.staff.hold_staff`).
        """
        found = inspect(self).info.get(_FOUND)
        if found is None:  # made in this session, not read from a row
            return self.id, self.epoch
        ident, epoch = found
        return ident, epoch


_FOUND: Final = "raazdar.found"


@event.listens_for(StaffAccount, "load")
def _found(account: StaffAccount, _context: object) -> None:
    """Keep what `StaffAccount.as_found` gives (a reload after an expiry is a refresh, not this)."""
    inspect(account).info[_FOUND] = (account.id, account.epoch)


class AuditEntry(Base):
    """One staff action, linked by hash to the entry before it (`crypto.chain`)."""

    __tablename__ = "audit_log"
    __table_args__ = NO_ROWID

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date, default=today)
    actor: Mapped[str] = mapped_column(String(64))
    # By action: the newest keyring installed and the subkeys re-keying replaced are read
    # from the log (`app.services.audit`), and the staff's audit page filters by it.
    action: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    link: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The newest link of the audit chain; updating this one row serialises appenders."""

    __tablename__ = "audit_head"
    __table_args__ = NO_ROWID

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    link: Mapped[bytes] = mapped_column(LargeBinary(32))


class SessionRow(Base):
    """One login, source or staff: logout, expiry and account changes delete it.

    What it grants (the account, a source's reply-opening key, the exact idle
    and absolute deadlines) is sealed under a random key that only the session's
    cookie holds (`app.sessions`). In the clear: a random id, the day after which
    the row is swept, for staff the account (so a new password or second factor
    can end its sessions), and for a source a tag of the account and the day that
    only the codename makes (so a login can end the account's others).
    """

    __tablename__ = "sessions"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sealed: Mapped[str] = mapped_column(Text)
    expires_day: Mapped[dt.date] = mapped_column(Date, index=True)
    staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True, default=None
    )
    # A source's: a keyed digest of the account's key and the day, made only with the
    # codename, by which a login ends the account's others (`app.services.sources.login_tags`).
    login_tag: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
