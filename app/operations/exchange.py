"""Moving ciphertext across the air gap: export bundles out, reply bundles in.

The export lists envelopes not yet exported and the public keys of their
sources, signed by the server's signing key. Each export takes the next number
of the instance's chain and names the digest of the one before (`export_head`),
so the workstation can say which bundle never arrived; a `resend` holds every
item still here, which is every item not yet acknowledged, and fills any gap.
Each export also carries receipts: the id of every reply bundle applied here,
so the workstation can name a reply bundle that never arrived. All of them,
not those since some day: the table keeps no days (nothing to date them by),
an id costs 35 bytes, and any later export heals an export lost on the way.
And each carries the audit log's head, with its link at the length the export
before carried, so that a workstation names a log cut or written again
between two exports (PROTOCOL §13.5), and the number of the notice each source
is shown, so that a workspace put back from an older copy numbers its next
notices past them (§13.4.1), and the signed word of each source's device that
it cannot open a reply (§5A.9), so that the reviewers learn it was lost; and
the restores this instance finished (`RestoreMark`, format 8), so that the
workstation learns of one its chain and audit log do not show.

A server put back from a backup has its chain back where the backup left it,
and the workstation refuses its next export as a fork. The workstation then
names the bundle it holds last and its digest; `resume` (typed by the operator
who restored it) makes the next export follow that one, holding every item
still here, so that what arrived since the restore reaches the reviewers. It
never goes back behind a bundle this server made since: that would fork the
chain the workstation may already hold.

A reply bundle is applied only if it is signed by a reviewer of the keyring in
force, names this instance and has not been applied before; then each reply
must be signed by that same reviewer and sealed to the source it names, and
each notice name a known source, or nothing of the bundle is applied. A notice
numbered no higher than the one its source is shown is not applied (a bundle
kept back and handed in late), and the summary counts it.
Once this server holds the review workspace's own key (`AckKey`: set by the
administrators, or one it handed over to; a demonstration takes the first seal's),
a bundle is applied only if that key seals it whole (reply format 5, PROTOCOL
§13.6): any reviewer's key file may sign a bundle, and one used away from the
workstation (a colleague about to be revoked, with a stick) must not speak for
the reviewers: not a reply a source reads as theirs, not a notice, not a void,
not a deletion. Any other bundle is refused whole (`VerificationError`
`unsealed` or `ack-key`), nothing of it applied nor recorded, so the same
bundle applies once the administrators give the key it was sealed with. A real
instance holding no key (an upgrade, before `raazdar set-ack-key`) refuses every
bundle (`no-ack-key`). On a demonstration, before any key is held, an unsealed
bundle is applied as before, but what it acknowledges is held (`Item.ack_held`),
exported again, and named in every export until a sealed bundle acknowledges it.
Nothing that was not acknowledged is ever deleted here.

A reply bundle also voids the bundles the reviewers took back: a voided bundle
not applied yet is recorded so, and refused if handed in later; the replies a
voided bundle carried that was applied after all are not posted again (they
were then). Either way sending again what was taken back posts nothing twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import commit_or_confirm
from app.errors import AppError, CommitUnconfirmed
from app.models import (
    AckKey,
    AppliedBundle,
    ExportHead,
    Item,
    Reply,
    RestoreMark,
    Source,
    today,
)
from app.noatime import read_quietly
from app.operations.rotation import promote
from app.services import audit
from app.services.context import services
from app.store import REPLY_WORK_PREFIX
from crypto import PublicKey, SigningKey, VerifyKey, read_header, verify_signature
from crypto.binding import UnheldPrekey
from crypto.bundle import BundleReader
from crypto.errors import CryptoError, VerificationError
from crypto.exchange import (
    CHAIN_START,
    NOTICE_SEQ_MAX,
    AckSeal,
    AckState,
    ChainLink,
    ExportEntry,
    ExportManifest,
    Notice,
    ReplyEntry,
    ReplyManifest,
    RestoreState,
    new_bundle_id,
    read_replies,
    write_export,
)

log = logging.getLogger(__name__)


@dataclass
class ExportSummary:
    """What went into an export bundle."""

    bundle_id: str
    items: int
    sources: int
    sequence: int = 0
    # Items left out because their files are missing (`raazdar doctor` lists them too).
    missing: tuple[str, ...] = ()
    # The exports (first, last) the workstation had not confirmed, whose items this one
    # carries again with every other item still here (`unconfirmed`); None if none.
    again: tuple[int, int] | None = None


@dataclass
class ApplySummary:
    """What a reply bundle did (`refused` is empty: a bundle with a refusal is not applied)."""

    bundle_id: str
    replies: int = 0
    deleted: int = 0
    notices: int = 0
    refused: list[str] = field(default_factory=list)
    # Replies not posted again: a bundle this one voids had posted them already.
    skipped: int = 0
    # Bundles taken back that this one voided before they were applied.
    voided: int = 0
    # Notices not applied: the source is shown one the workstation issued later.
    stale_notices: int = 0
    # Items acknowledged but kept: the workspace's key did not seal the acknowledgements.
    held: int = 0
    # The export number the workspace's seal said its chain is complete through (format 5).
    confirmed: int | None = None


def server_signing_key() -> SigningKey:
    """The instance's signing key, which export bundles are signed with."""
    svc = services()
    # The key the keyring in force lists, though an install was cut off before switching.
    promote(svc.manifest(), svc.paths)
    text = read_quietly(svc.paths.signing_key).decode("ascii")
    return SigningKey.from_text(text)


def export_bundle(
    session: Session,
    dst: BinaryIO,
    *,
    since: dt.date | None = None,
    resend: bool = False,
    resume: tuple[int, bytes] | None = None,
    before_commit: Callable[[Session, ExportSummary], None] | None = None,
    bundle_id: str | None = None,
    on_size: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the next bundle of the chain: items not yet exported, also those since a day
    if one is given, or all (resend).

    `before_commit` runs in the export's transaction once the bundle is written
    (the staff pages audit it there, and check their account is still theirs):
    what it raises leaves nothing exported.

    Every item on the server is one not yet acknowledged (acknowledged items are
    deleted), so a resend holds whatever a lost bundle held that still matters.
    Every bundle holds every item not yet exported, whatever else it holds: the
    workstation destroys a week's subkey once a complete chain reaches past it
    (rule D1, docs/PROTOCOL.md §5A.8), so an item left out of a link would
    arrive later sealed to a week nobody can open any more.

    `resume` (the number and digest of the bundle the workstation holds last, after
    a restore) makes this bundle follow it, and a resend. `bundle_id` and `on_size`
    serve a download, which names the bundle and its size before its first byte.
    """
    svc = services()
    manifest = svc.manifest()
    again = unconfirmed(session) if resume is None else None
    resend = resend or resume is not None or again is not None
    query = select(Item).order_by(Item.id)
    if not resend:
        new = ~Item.exported
        query = query.where(or_(new, Item.received_day >= since) if since else new)
    items = list(session.execute(query).scalars())
    after = _head_sequence(session)
    chain = _next_link(session, resend=resend) if resume is None else _resumed(after, resume)
    audit_head = audit.proof(session, _audit_since(session))
    with svc.store.steady():  # no sweep moves or overwrites an envelope while it is read
        # An item whose file a crash lost is reported and left out, never the whole export.
        missing = tuple(i.id for i in items if not svc.store.exists(i.id))
        items = [i for i in items if i.id not in missing]
        entries = tuple(
            ExportEntry(
                id=i.id,
                submission=i.submission_id,
                source=i.source.designation,
                kind=i.kind,
                day=i.received_day,
            )
            for i in items
        )
        sources = {i.source.designation: PublicKey.from_text(i.source.public_key) for i in items}
        export = ExportManifest(
            bundle_id=bundle_id or new_bundle_id(),
            instance_id=current_app.config["INSTANCE_ID"],
            created=today(),
            keyring_version=manifest.version,
            entries=entries,
            sources=sources,
            chain=chain,
            receipts=_receipts(session),
            audit=audit_head,
            notice_counts=_notice_counts(session),
            unheld=_unheld(session),
            acks=_ack_state(session),
            restore=_restore_state(session),
            keyring_digest=manifest.digest(),
        )
        # Everything is read: the transaction ends before the bundle is written, which a
        # download takes as long as its browser likes (on PostgreSQL its locks held the
        # sweep's rebuild, and every request behind it). What changed meanwhile is met at
        # the end as another export's (`_advance`).
        session.commit()
        digest = write_export(
            dst, export, [svc.store.path(i.id) for i in items], server_signing_key(), on_size
        )
    _flush(dst)
    if missing:
        log.warning("export: %d item(s) left out, their files are missing", len(missing))
    _advance(session, chain, digest, audit_head.entries, export.created, after)
    day = today()
    for item in items:
        item.exported = True
    session.flush()
    _date_exported(session, day)
    summary = ExportSummary(
        export.bundle_id, len(items), len(sources), chain.sequence, missing, again
    )
    if before_commit is not None:
        try:
            before_commit(session, summary)
        except BaseException:
            session.rollback()
            raise
    # A commit whose answer was lost counts if the head names this bundle after it: its
    # items were marked exported, and the caller keeps the bundle that holds them.
    commit_or_confirm(session, select(ExportHead.id).where(ExportHead.digest == digest))
    return summary


def _date_exported(session: Session, day: dt.date) -> None:
    """Give every exported item that has none the export's day, if it came before that day.

    An item goes out with no day on the day it came (an item exported and dated
    none went out the day it came: `retention.unacknowledged` reads it so), and
    takes the day of the first export on a later day, with every other item of its
    day still undated. Dated at once, an item that came before an export kept that
    day and one that came after it the next export's, so the items' days split the
    day's arrivals at the export, which the audit log dates, and said which source
    came first until the workstation acknowledged them.
    """
    session.execute(
        update(Item)
        .where(Item.exported, Item.exported_day.is_(None), Item.received_day < day)
        .values(exported_day=day)
    )


def record_export(
    session: Session, actor: str, summary: ExportSummary, *, since: dt.date | None, resend: bool
) -> None:
    """Audit an export in its own transaction (`export_bundle`'s `before_commit`).

    The dashboard's and the console's alike: a bundle nobody's page names is one
    whoever held the console could take every new report in, seen only as a gap.
    Not how many items and sources it held: the log orders exports, so two in a day
    split that day's arrivals at the first, and a source whose count of items matched
    came before it (the items keep only their day). The workstation counts them.
    """
    audit.record(
        session,
        actor,
        "export",
        bundle=summary.bundle_id,
        sequence=summary.sequence,
        since=since.isoformat() if since is not None else None,
        **({"resend": True} if resend else {}),
    )


def record_applied(session: Session, actor: str, summary: ApplySummary) -> None:
    """Audit a reply bundle in its own transaction (`apply_reply_bundle`'s `before_commit`)."""
    audit.record(
        session,
        actor,
        "reply-bundle-applied",
        bundle=summary.bundle_id,
        replies=summary.replies,
        deleted=summary.deleted,
        held=summary.held,
        notices=summary.notices,
        refused=len(summary.refused),
    )


def unconfirmed(session: Session) -> tuple[int, int] | None:
    """The exports (first, last) made since the newest the workstation's seal confirmed.

    Until it confirms them, every export carries every item still here again (a
    resend): a bundle taken with a staff login, or a stick lost, loses no report,
    and the workstation files what it has already as duplicates. None before any
    sealed confirmation (a workstation older than reply format 5): exports then
    carry again only what `--resend` asks for, as before.
    """
    head = session.get(ExportHead, 1)
    if head is None or head.confirmed is None or head.sequence <= head.confirmed:
        return None
    return head.confirmed + 1, head.sequence


def _flush(dst: BinaryIO) -> None:
    """Put the whole bundle on its disk before its items are marked exported.

    A full disk or an I/O error met by the last buffered bytes would otherwise come
    after the commit: the items marked sent in a bundle never written, the chain
    a link on, and only a later import's gap (and a resend) to find them again.
    """
    dst.flush()
    with contextlib.suppress(io.UnsupportedOperation):  # a bundle in memory has no disk
        os.fsync(dst.fileno())


def _receipts(session: Session) -> tuple[str, ...]:
    """Every reply bundle applied here (not those voided), for the workstation to confirm."""
    query = select(AppliedBundle.id).where(~AppliedBundle.voided).order_by(AppliedBundle.id)
    return tuple(session.execute(query).scalars())


def _ack_state(session: Session) -> AckState:
    """The workspace key whose seal deletes, and every item an unsealed bundle acknowledged.

    All of them in every export while they are here: a stick lost on the way loses none.
    """
    held = session.get(AckKey, 1)
    query = select(Item.id).where(Item.ack_held).order_by(Item.id)
    return AckState(
        VerifyKey.from_text(held.key) if held is not None else None,
        tuple(session.execute(query).scalars()),
    )


def _restore_state(session: Session) -> RestoreState:
    """How many restores this instance finished, and the last one's id (`RestoreMark`)."""
    mark = session.get(RestoreMark, 1)
    return RestoreState(0, None) if mark is None else RestoreState(mark.count, mark.epoch)


def _notice_counts(session: Session) -> dict[str, int]:
    """The number of the notice each source is shown, so a workspace put back goes on from it."""
    query = select(Source.designation, Source.notice_seq).where(Source.notice_seq.is_not(None))
    return {d: min(n or 0, NOTICE_SEQ_MAX) for d, n in session.execute(query)}


def _unheld(session: Session) -> tuple[UnheldPrekey, ...]:
    """What sources' devices said they cannot open, signed, for the reviewers who wrote it.

    Each stays in every export while its reply is here: a stick lost on the way loses none.
    """
    query = select(Reply.unheld).where(Reply.unheld.is_not(None)).order_by(Reply.id)
    found = {text for text in session.execute(query).scalars() if text is not None}
    return tuple(UnheldPrekey.from_json(json.loads(text)) for text in sorted(found))


class ConcurrentExport(AppError):
    """Another export took this bundle's number while it was being written."""

    status = 409


def _next_link(session: Session, *, resend: bool) -> ChainLink:
    """The link after the newest export (read only: the bundle may take minutes to write)."""
    head = session.get(ExportHead, 1)
    if head is None:
        return ChainLink(1, CHAIN_START, resend)
    return ChainLink(head.sequence + 1, bytes(head.digest), resend)


def next_sequence(session: Session) -> int:
    """The number the next export takes, unless another takes it first (`ConcurrentExport`)."""
    return (_head_sequence(session) or 0) + 1


def _head_sequence(session: Session) -> int | None:
    """The newest export's number (None before the first)."""
    head = session.get(ExportHead, 1)
    return None if head is None else head.sequence


def _resumed(after: int | None, resume: tuple[int, bytes]) -> ChainLink:
    """The link after the workstation's last bundle, unless this server made a later one.

    The next number is allowed to be taken already: by the export the workstation
    refused as a fork, made after the restore and never imported.
    """
    sequence, digest = resume
    if sequence < 1 or len(digest) != len(CHAIN_START):
        raise AppError("the chain resumes after a bundle number and its 32-byte digest")
    if after is not None and after > sequence + 1:
        raise AppError(
            f"this server's chain is at bundle {after}, past bundle {sequence + 1}: "
            "it was not put back behind the workstation's bundle, nothing to resume"
        )
    return ChainLink(sequence + 1, digest, True)


def _audit_since(session: Session) -> int:
    """How many audit entries the newest export counted (0 if none said)."""
    head = session.get(ExportHead, 1)
    return head.audit_entries or 0 if head is not None else 0


def _advance(
    session: Session,
    chain: ChainLink,
    digest: bytes,
    audit_entries: int,
    created: dt.date,
    after: int | None,
) -> None:
    """Make this bundle the newest, unless another export moved the head (`after`) meanwhile.

    The head keeps the latest day any export was dated (`Services.sealing_day`).
    """
    if after is None:
        session.add(
            ExportHead(
                id=1,
                sequence=chain.sequence,
                digest=digest,
                audit_entries=audit_entries,
                day=created,
            )
        )
        try:
            session.flush()
        except IntegrityError as exc:
            session.rollback()
            raise _raced() from exc
        return
    moved = session.execute(
        update(ExportHead)
        .where(ExportHead.id == 1, ExportHead.sequence == after)
        .values(
            sequence=chain.sequence,
            digest=digest,
            audit_entries=audit_entries,
            day=case(
                (ExportHead.day.is_(None), created),
                (ExportHead.day < created, created),
                else_=ExportHead.day,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise _raced()


def _raced() -> ConcurrentExport:
    return ConcurrentExport(
        "another export ran at the same time and took this bundle's number: "
        "this bundle was discarded; export again"
    )


class BundleRefused(AppError):
    """An authentic reply bundle of which some part was refused: nothing of it was applied."""

    status = 422

    def __init__(self, bundle_id: str, refused: list[str]) -> None:
        super().__init__(
            f"reply bundle {bundle_id} was not applied, nothing of it: "
            f"{len(refused)} part(s) refused: {'; '.join(refused)}"
        )
        self.bundle_id = bundle_id
        self.refused = refused


def apply_reply_bundle(
    session: Session,
    src: BinaryIO,
    *,
    before_commit: Callable[[Session, ApplySummary], None] | None = None,
) -> ApplySummary:
    """Check a reply bundle whole, then post its replies, deletions and notices at once.

    All or nothing: if any reply or notice is refused, `BundleRefused` says which
    and why, nothing is applied, and the bundle is not recorded as applied, so the
    reviewers can fix it and send the same bundle or a new one.

    `before_commit` runs in the bundle's transaction once everything is staged
    (the staff pages audit it there, and check their account is still theirs):
    what it raises leaves nothing applied.
    """
    svc = services()
    trusted = {r.signing_key for r in svc.manifest().recipients}
    reader, manifest = read_replies(src, trusted, current_app.config["INSTANCE_ID"])
    settled = session.get(AppliedBundle, manifest.bundle_id)
    if settled is not None and settled.voided:
        raise VerificationError("voided", "this reply bundle was taken back and voided")
    if settled is not None:
        raise VerificationError("replay", "this reply bundle was already applied")
    _check_authority(session, manifest.seal, first_use=current_app.config["DEMO"])
    _check_restore(session, manifest)
    # Sweeps wait until it is done: a work directory a sweep finds is a killed apply's.
    with svc.store.steady():
        return _apply(session, reader, manifest, before_commit)


def _apply(
    session: Session,
    reader: BundleReader,
    manifest: ReplyManifest,
    before_commit: Callable[[Session, ApplySummary], None] | None,
) -> ApplySummary:
    """Unpack a checked reply bundle in the store and apply it (`apply_reply_bundle`)."""
    svc = services()
    summary = ApplySummary(manifest.bundle_id)
    work = Path(tempfile.mkdtemp(prefix=REPLY_WORK_PREFIX, dir=svc.paths.store))
    # Each reply's file in staging, then where publishing put it: retired should the apply fail.
    published: list[Path] = []
    deleted: list[str] = []
    try:
        paths = reader.extract(work / "items")
        posted = _void(session, manifest, summary)
        replies = [r for r in manifest.replies if r.id not in posted]
        summary.skipped = len(manifest.replies) - len(replies)
        by_designation = _sources_named(session, manifest)
        refused = _refusals(manifest, replies, paths, by_designation, reader.signer)
        if refused:
            summary.refused = refused
            raise BundleRefused(manifest.bundle_id, refused)
        for entry in replies:
            source = by_designation[entry.source]
            envelope_id, staged = svc.store.stage_ciphertext(paths[entry.id].read_bytes())
            published.append(staged)  # a rename that fails leaves it there
            session.add(
                Reply(id=envelope_id, source_id=source.id, size=paths[entry.id].stat().st_size)
            )
            published[-1] = svc.store.publish(envelope_id, staged)
            summary.replies += 1
        for notice in manifest.notices:
            if _show_notice(by_designation[notice.source], notice):
                summary.notices += 1
            else:
                summary.stale_notices += 1
        sealed = _take_key(session, manifest.seal)
        if sealed and manifest.imported is not None:
            # The head's row before the items', the order an export takes them in.
            session.execute(
                update(ExportHead)
                .where(ExportHead.id == 1)
                .values(confirmed=manifest.imported)
                .execution_options(synchronize_session=False)
            )
            summary.confirmed = manifest.imported
        for item_id in manifest.acks:
            item = session.get(Item, item_id)
            if item is None:
                continue
            if sealed:
                session.delete(item)
                deleted.append(item_id)
            else:
                # Exported again: a workstation that never had it gets it in the next bundle.
                item.ack_held = True
                item.exported = False
                summary.held += 1
        session.add(AppliedBundle(id=manifest.bundle_id))
        summary.deleted = len(deleted)
        if before_commit is not None:
            before_commit(session, summary)
        _commit(session, manifest.bundle_id)
    except CommitUnconfirmed:
        raise  # it may have landed: the replies' files stay, published and forced to disk
    except BaseException:
        session.rollback()
        for path in published:
            # Freed now, its inode would date the failure (`EnvelopeStore.retire_file`).
            svc.store.retire_file(path)
        raise
    finally:
        # The unpacked replies are ciphertext too: overwritten like any envelope.
        # Should that fail, `raazdar purge` sweeps the directory later.
        with contextlib.suppress(OSError):
            svc.store.retire_file(work)
    # Only after the commit, and only what the bundle acknowledged: each file is
    # overwritten now and freed by the next sweep, so no freed inode dates the
    # bundle (`EnvelopeStore.retire_file`).
    for item_id in deleted:
        svc.store.retire(item_id)
    return summary


def _check_authority(session: Session, seal: AckSeal | None, *, first_use: bool) -> None:
    """Refuse a bundle the workspace key held here did not seal whole.

    A format 4 seal covers the acknowledgements alone, so it counts as none: its
    replies, notices and voids could be anyone's with a reviewer's key file.
    Holding no key, a real instance refuses every bundle: the first to arrive must
    not choose whose seal speaks for the reviewers (PROTOCOL §13.6). Nor does a
    handover move a real instance's key: whoever copied the workspace key before a
    rewrap removed them signs one as well as the workstation, so only an
    administrator gives the new key. A demonstration (`first_use`), whose reviewer
    keys lie beside it, takes the first seal's key and follows handovers.
    """
    held = session.get(AckKey, 1)
    if held is None and not first_use:
        named = f" (this bundle's seal: {seal.key.fingerprint})" if seal is not None else ""
        raise VerificationError(
            "no-ack-key",
            "this server holds no review workspace key, so no bundle speaks for the "
            f"reviewers yet{named}",
        )
    if held is None:
        return  # a demonstration: the first sealed bundle gives its key
    if seal is None or not seal.binds_bundle:
        raise VerificationError(
            "unsealed",
            "the review workspace's key did not seal this bundle whole, and this server "
            f"holds that key ({VerifyKey.from_text(held.key).fingerprint})",
        )
    if seal.key.to_text() == held.key:
        return
    handed = any(h.key.to_text() == held.key for h in seal.handovers)
    if handed and first_use:
        return
    said = (
        f"this bundle is sealed by workspace key {seal.key.fingerprint}, not the one this "
        f"server holds ({VerifyKey.from_text(held.key).fingerprint})"
    )
    if handed:
        # A rewrap's handover, or one signed by whoever copied the key before it: the
        # key to give is the one the reviewers' rewrap printed, never one a bundle names.
        said += (
            ", which hands over to it: a rewrapped workspace's, or a forgery by whoever "
            "copied the earlier key; an administrator gives the server only the key the "
            "reviewers' rewrap printed (`raazdar set-ack-key`), checked with them by a "
            "channel the carrier does not hold"
        )
    raise VerificationError("ack-key", said)


def _check_restore(session: Session, manifest: ReplyManifest) -> None:
    """Refuse a bundle that does not name this server's last restore (PROTOCOL §13.9).

    A bundle applied here after a backup was made is not recorded in that backup:
    restored from it, the server would apply it again, its replies posted a second
    time and its notices set over later ones. The purge that finished the restore
    drew a new id, which no bundle written before it names. Before any restore the
    id is null, which a bundle of format 5 or older names too.
    """
    mark = session.get(RestoreMark, 1)
    ours = mark.epoch if mark is not None else None
    named = manifest.restore.epoch if manifest.restore is not None else None
    if named == ours:
        return
    said = "no restore" if named is None else f"restore {named[:8]}"
    raise VerificationError(
        "restored",
        f"this bundle names {said} of this server, not its last ({ours[:8] if ours else 'none'}): "
        "it was written before this server was put back from a backup, and may have been "
        "applied before it",
    )


def _take_key(session: Session, seal: AckSeal | None) -> bool:
    """Say whether the workspace's key sealed this bundle, taking or moving to its key.

    In the transaction, after `_check_authority`. On a demonstration the first sealed
    bundle gives its key, and a key the one held handed over to replaces it; a real
    instance refused both, so its key stays.
    """
    if seal is None or not seal.binds_bundle:
        return False
    key = seal.key.to_text()
    held = session.get(AckKey, 1)
    if held is None:
        session.add(AckKey(id=1, key=key))
    else:
        held.key = key
    return True


def set_ack_key(session: Session, key: VerifyKey) -> str | None:
    """Make `key` the workspace key whose seal deletes (an administrator's step); the one before.

    Audited in the same transaction: whoever holds the console could otherwise
    let a key of their own delete reports, and the next export's audit head shows it.
    """
    held = session.get(AckKey, 1)
    before = held.key if held is not None else None
    if held is None:
        session.add(AckKey(id=1, key=key.to_text()))
    else:
        held.key = key.to_text()
    audit.record(
        session,
        audit.CONSOLE,
        "ack-key-set",
        key=str(key.fingerprint),
        before=str(VerifyKey.from_text(before).fingerprint) if before else None,
    )
    session.commit()
    return before


def _show_notice(source: Source, notice: Notice) -> bool:
    """Show the source this notice unless it shows one the workstation issued later.

    Bundles may be handed in in any order (a courier can keep one back): a notice
    numbered no higher than the one shown is older, or the same, and changes
    nothing. One from before numbering replaces only one from before numbering.
    """
    shown = source.notice_seq
    if shown is not None and (notice.seq is None or notice.seq <= shown):
        return False
    source.notice = notice.status
    source.notice_seq = notice.seq
    return True


def _void(session: Session, manifest: ReplyManifest, summary: ApplySummary) -> set[str]:
    """Record the bundles this one voids; the replies those applied here already posted."""
    posted: set[str] = set()
    for void in manifest.voids:
        settled = session.get(AppliedBundle, void.bundle)
        if settled is None:
            session.add(AppliedBundle(id=void.bundle, voided=True))
            summary.voided += 1
        elif not settled.voided:
            # Applied before the reviewers took it back: its replies reached their sources.
            posted.update(void.replies)
    return posted


def _commit(session: Session, bundle_id: str) -> None:
    """Commit, unless a bundle this one voids (or this one) was applied meanwhile.

    A commit whose answer was lost counts if the bundle is found recorded after it.
    """
    try:
        commit_or_confirm(session, select(AppliedBundle.id).where(AppliedBundle.id == bundle_id))
    except IntegrityError as exc:
        raise ConcurrentApply(
            "another reply bundle, or one this bundle voids, was applied at the same time: "
            "nothing of this one was applied; apply it again"
        ) from exc


class ConcurrentApply(AppError):
    """A bundle this one voids, or this one, was applied while it was being checked."""

    status = 409


def _sources_named(session: Session, manifest: ReplyManifest) -> dict[str, Source]:
    """The sources the bundle's replies and notices name, by designation (unknown ones left out)."""
    named = {r.source for r in manifest.replies} | {n.source for n in manifest.notices}
    found = session.execute(select(Source).where(Source.designation.in_(named))).scalars()
    return {s.designation: s for s in found}


def _refusals(
    manifest: ReplyManifest,
    replies: list[ReplyEntry],
    paths: Mapping[str, Path],
    by_designation: Mapping[str, Source],
    signer: VerifyKey,
) -> list[str]:
    """Why each reply to post or notice in the bundle cannot be applied (nothing if all can)."""
    refused = [
        f"reply {entry.id}: {problem}"
        for entry in replies
        if (problem := _reply_problem(paths[entry.id], by_designation.get(entry.source), signer))
    ]
    refused += [
        f"notice for {n.source}: unknown source"
        for n in manifest.notices
        if n.source not in by_designation
    ]
    return refused


def _reply_problem(path: Path, source: Source | None, signer: VerifyKey) -> str | None:
    """Say why a reply envelope cannot be posted to `source`, or None if it can."""
    if source is None:
        return "unknown source"
    try:
        with path.open("rb") as envelope:
            header = read_header(envelope)
        with path.open("rb") as envelope:
            verify_signature(envelope, [signer])
    except CryptoError as exc:
        return f"not a signed envelope from the bundle's reviewer ({exc})"
    if header.version.number != 1:
        # Sealed to one of the source's one-time reply prekeys (PROTOCOL §5A.9): they
        # travel only inside the source's sealed report, so the server cannot name it.
        return None if len(header.stanzas) == 1 else "not sealed to one reply prekey alone"
    key_id = PublicKey.from_text(source.public_key).fingerprint.key_id
    if [s.key_id for s in header.stanzas] != [key_id]:
        return "not sealed to that source alone"
    return None
