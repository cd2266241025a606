"""Resumable uploads: one envelope, sealed on the source's device, sent in chunks.

The client declares the envelope's size and hash first. Each chunk is received
into a file of its own and appended only after the request proof covering it
verifies, and only at the offset the upload's row records, so the staged file
holds nothing but bytes its source vouched for, in order. Appends hold the
upload's lock in the database (`_lock`), so two of them never interleave, from
two workers or two hosts sharing the database and the store; the row records
the new offset in the same transaction, and the file is never trusted beyond
it. When the last byte arrives the whole file must match the declared hash and
its header must name exactly the keyring's recipients; then it is published as
the Item of the same id in one transaction. A finished upload is therefore
stored once, whole, or not at all; sending its last chunk again only reports
that it is complete.

Uploads survive a restart of the server (`recover`, run by `raazdar serve`
before it starts gunicorn). Uploads idle since before yesterday are discarded
(`expire`, run whenever an upload starts, at `raazdar serve` and by
`raazdar purge`). While the disk is down to the share no upload takes, uploads
begun before yesterday make room for a start or chunk (`make_room`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app import report_pacing
from app.db import commit_or_confirm
from app.errors import FAULT_RETRY_AFTER, CommitUnconfirmed, KeyringUnavailable
from app.models import AuditEntry, Item, Source, Upload, today
from app.services.api import (
    ApiError,
    Proof,
    RequestFacts,
    authenticate,
    bad_request,
    named_source,
    not_found,
    parse_json,
    precheck,
)
from app.services.context import services
from app.settings import in_force
from app.store import EnvelopeStore
from crypto import CryptoError, HybridPublicKey, read_header
from crypto.bundle import hash_file
from crypto.encoding import b64decode
from crypto.envelope.size import is_envelope_size
from crypto.request import BodyHasher

# The largest chunk one PATCH may carry: a Tor circuit that drops loses at most this.
CHUNK_LIMIT: Final = 8 * 1024 * 1024
OFFSET_CONTENT_TYPE: Final = "application/offset+octet-stream"
KINDS: Final = frozenset({"report", "file"})
# Unfinished uploads one account may hold: a device sends one envelope at a time, and the
# uploads a device lost track of (its state gone) wait for `expire`, a day or two.
MAX_UNFINISHED: Final = 32
# The most idle uploads a start discards (`expire`); the daily purge discards the rest.
EXPIRE_AT_START: Final = 64
# The most uploads held over one start or chunk discards to make room (`make_room`): each
# file is overwritten in the request.
ROOM_AT_ONCE: Final = 64
# How many times one start or chunk chooses uploads to discard: another request at once may
# have taken (deleted) those it chose first (`make_room`).
_ROOM_ROUNDS: Final = 4
_ID: Final = re.compile(r"[0-9a-f]{32}")
_BLOCK: Final = 1024 * 1024
_SUFFIX: Final = ".upload"
# Ids per DELETE: well under every database's limit on bound parameters.
_BATCH: Final = 500
# At a restart, staging entries no upload claims are removed once untouched this
# long: on a store shared by several hosts they may be another host's request in
# flight (chunks and sealed envelopes are written to as they arrive).
STRAY_AFTER: Final = dt.timedelta(minutes=10)
_GONE: Final = "this upload's bytes are gone (it expired, or a restart lost them): start it again"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """Where an upload stands: bytes received of its size, and its item once complete."""

    offset: int
    size: int
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's view of it."""
        return {
            "offset": self.offset,
            "size": self.size,
            "complete": self.item is not None,
            "item": self.item,
        }


def staged_path(upload_id: str, store: EnvelopeStore | None = None) -> Path:
    """Where an upload's bytes gather until it is complete."""
    return (store or services().store).staging / f"{upload_id}{_SUFFIX}"


def start(session: Session, proof: Proof, facts: RequestFacts, data: bytes) -> Upload:
    """Check the declared envelope and open an upload for it (an empty staged file)."""
    source = authenticate(session, proof, facts)
    fields = _declared(parse_json(data))
    recipients = services().recipients()
    limit = in_force(session, "upload_limit_mib") * 1024 * 1024
    if fields["size"] > limit:
        raise ApiError(413, "too-large", f"envelopes may be at most {limit} bytes here")
    hybrid = any(isinstance(k, HybridPublicKey) for k in recipients)
    if not is_envelope_size(fields["size"], len(recipients), signed=False, hybrid=hybrid):
        raise bad_request(
            "size is not the size of an unsigned envelope to this keyring's recipients"
        )
    # A share of the idle ones (a flood's expire together, each file overwritten), and all
    # of this account's, which its bound counts; reckoned on a day the purge vouches for.
    day = _reckoned_day(session)
    expire(session, services().store, day, limit=EXPIRE_AT_START)
    expire(session, services().store, day, owner=source.id)
    store = services().store
    if not make_room(session, store, fields["size"], day, files=1):
        # Each unfinished upload holds an inode, and its chunks space, for a day or two, and
        # accounts are free: the last of both are kept for reports in Tor Browser and the
        # sweep's copies (`receive` checks each chunk's space too).
        raise _storage_full()
    unfinished = _unfinished(session, source.id)
    if unfinished >= MAX_UNFINISHED:
        session.rollback()  # the account's lock goes with the transaction
        raise ApiError(
            409,
            "too-many-uploads",
            f"this account has {unfinished} unfinished uploads: finish them, or wait a day or"
            " two for the idle ones to expire",
        )
    _pace(session, source.id, fields["size"], limit)
    upload = Upload(id=secrets.token_hex(16), source_id=source.id, **fields)
    path = staged_path(upload.id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    _wipe_times(path)
    try:
        session.add(upload)
        source.active_day = today()
        session.commit()
    except BaseException:
        session.rollback()
        services().store.retire_file(path)  # freed now, its inode would date the start
        raise
    return upload


def _pace(session: Session, source_id: str, size: int, limit: int) -> None:
    """Refuse busy, before anything of it is written, a start past its account's pace of bytes
    (`app.report_pacing`, shared with its later reports in Tor Browser).

    Making room takes only unfinished uploads: an account's finished ones were paced by
    nothing, and one codename sent down a few circuits stored envelope after envelope at the
    upload limit, down to the share kept from uploads, where every other device's was refused.
    """
    wait = report_pacing.take_report_turn(source_id, size, limit)
    if wait:
        session.rollback()  # the account's lock goes with the transaction
        raise ApiError(
            503,
            "busy",
            "this account stored its share of uploads a moment ago: start this one later",
            {"Retry-After": str(wait)},
        )


def _reckoned_day(session: Session) -> dt.date:
    """The clock's day, but no later than the day after the last purge's.

    A start discards idle uploads, and whoever holds the clock could set it days on:
    the purge refuses a clock that jumped (`app.operations.retention.ClockJumped`),
    but starts reckoned from the clock alone discarded every source's upload under
    way, 64 at each. The purge runs daily, so honestly this is today.
    """
    last = session.scalar(select(func.max(AuditEntry.day)).where(AuditEntry.action == "purge"))
    now = today()
    return now if last is None else min(now, last + dt.timedelta(days=1))


def _unfinished(session: Session, source_id: str) -> int:
    """Count the account's unfinished uploads, keeping its other starts off until the commit.

    Two starts at once would each count one place left and both take it. Writing
    the account's day first takes the lock a count alone does not: on PostgreSQL
    the account's row, so the other start waits and then counts again; on SQLite,
    whose reads take no lock, the database's one writer. The day is today's
    anyway once the upload is added.
    """
    session.execute(
        update(Source)
        .where(Source.id == source_id)
        .values(active_day=today())
        .execution_options(synchronize_session=False)
    )
    query = select(func.count()).select_from(Upload).where(Upload.source_id == source_id)
    return session.scalar(query) or 0


def _declared(body: dict[str, Any]) -> dict[str, Any]:
    """Read `size`, `hash`, `kind` and `submission` from the body, or a 400."""
    expected = {"size", "hash", "kind", "submission"}
    if set(body) != expected:
        raise bad_request(f"the body must have exactly the fields {', '.join(sorted(expected))}")
    size, digest, kind, submission = (body[k] for k in ("size", "hash", "kind", "submission"))
    if type(size) is not int or size < 1:
        raise bad_request("size must be a positive integer")
    if not isinstance(digest, str):
        raise bad_request("hash must be a string")
    try:
        raw = b64decode(digest, length=32)
    except CryptoError as exc:
        raise bad_request("hash must be 32 bytes in base64url without padding") from exc
    if not isinstance(kind, str) or kind not in KINDS:
        raise bad_request(f"kind must be one of {', '.join(sorted(KINDS))}")
    if not isinstance(submission, str) or not _ID.fullmatch(submission):
        raise bad_request("submission must be 32 lowercase hexadecimal digits")
    return {"size": size, "hash": raw, "kind": kind, "submission_id": submission}


def status(session: Session, proof: Proof, facts: RequestFacts, upload_id: str) -> Progress:
    """Say how far an upload of this source has got (HEAD before resuming)."""
    source = authenticate(session, proof, facts)
    return _progress(session, source, upload_id)


def _progress(session: Session, source: Source, upload_id: str, *, again: bool = False) -> Progress:
    upload = session.get(Upload, upload_id) if _ID.fullmatch(upload_id) else None
    if upload is not None and upload.source_id == source.id:
        try:
            on_disk = staged_path(upload.id).stat().st_size
        except FileNotFoundError:
            on_disk = -1
        if on_disk < upload.received:
            # Its file was lost: take the lock to discard it, unless an append got there first.
            _discard_lost(session, upload.id)
            if not again:
                return _progress(session, source, upload_id, again=True)
        return Progress(upload.received, upload.size)
    item = session.get(Item, upload_id) if _ID.fullmatch(upload_id) else None
    if item is not None and item.source_id == source.id:
        return Progress(item.size, item.size, item.id)
    raise not_found("no such upload")


@contextlib.contextmanager
def received_chunk(
    stream: IO[bytes], length: int, room: Callable[[int], bool] | None = None
) -> Iterator[tuple[Path, bytes]]:
    """Receive a chunk into a file of its own; yield its path and body digest, then retire it.

    The file's space is allocated before a byte of the body is read, and the chunk
    refused if that leaves the share kept from uploads short (`EnvelopeStore.reserve`),
    and `room` (given the bytes wanted) makes none (`_reserved`).
    Freed at once, the file's inode kept when the chunk began and ended, to the second,
    past the sweep when no new file took it: retired, the sweep takes it back.
    """
    store = services().store
    path = store.staging / f"{secrets.token_hex(16)}.chunk"
    hasher = BodyHasher()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            if not _reserved(store, fd, length, room):
                raise _storage_full()
            received = 0
            while block := stream.read(min(_BLOCK, length - received)):
                out.write(block)
                hasher.update(block)
                received += len(block)
                if received >= length:
                    break
        if received != length:
            raise bad_request("the chunk is shorter than its Content-Length")
        yield path, hasher.digest()
    finally:
        store.retire_file(path)


def _reserved(
    store: EnvelopeStore, fd: int, length: int, room: Callable[[int], bool] | None
) -> bool:
    """Allocate a chunk's space; refused, make room (`room`) with it kept, or else let it go,
    make room and try once more.

    Chunks sent at once each found room before any had allocated its own, and those
    the others' allocations then left short were refused with no room made: uploads
    held over stayed, and every chunk but the first few was refused while they did.
    """
    if store.reserve(fd, length):
        return True
    # Allocated and short: room is made with the chunk's own space counted. Let go first,
    # chunks refused together each found the room the others had let go, made none,
    # allocated together again and were all refused again.
    allocated = os.fstat(fd).st_size >= length
    if room is not None and allocated and room(0) and store.space_for_uploads(0):
        return True
    os.ftruncate(fd, 0)  # what was allocated goes back, or it would count as room taken
    return room is not None and room(length) and store.reserve(fd, length)


def receive(
    session: Session,
    proof: Proof,
    request: tuple[str, str, int],
    upload_id: str,
    stream: IO[bytes],
    length: int | None,
) -> Progress:
    """Take one PATCH (method, path, offset): check its challenge, receive, append if it holds."""
    precheck(session, proof)
    if not _ID.fullmatch(upload_id):
        # No upload has such an id: say so before taking in a chunk for it.
        raise not_found("no such upload")
    if length is None:
        raise ApiError(411, "length-required", "a chunk needs a Content-Length")
    _expecting(session, proof, upload_id)
    store = services().store
    day = _reckoned_day(session)

    def room(need: int, files: int = 0) -> bool:
        # Reading the day and choosing uploads began a transaction: kept open while the body
        # came (hours at 500 bytes a second), it held a database connection per slow chunk, and
        # a flood of them, one account's upload and one unspent challenge, took every one.
        try:
            return make_room(session, store, need, day, keep=upload_id, files=files)
        finally:
            session.rollback()

    if not room(length, files=1):
        # Before a byte of it is read, or a file made: the space kept is for arrivals.
        raise _storage_full()

    method, path, offset = request
    with received_chunk(stream, length, room) as (chunk, digest):
        facts = RequestFacts(method, path, digest, offset)
        return append(session, proof, facts, upload_id, chunk)


def _expecting(session: Session, proof: Proof, upload_id: str) -> None:
    """Refuse, before a byte of its body is read, a chunk its signer could not append.

    The signature covers the body, so the body is taken in (to a file) before it is
    checked; without this, a challenge alone had the server take in and write 8 MiB
    a request. The tag must name an account that can sign, and the upload be that
    account's (or already its item: the answer then says where it ended). Else the
    404 of an upload that is not the signer's, and nothing read: a tag that names no
    account gets the same 404, or anyone holding a tag (an old copy of the database,
    a codename guessed and derived on their own machine) would learn from the
    answer, with no proof, derivation or pacing, whether it has an account here.
    """
    try:
        owner: str | None = named_source(session, proof).id
    except ApiError:
        owner = None
    upload = session.get(Upload, upload_id)
    item = session.get(Item, upload_id) if upload is None else None
    # No transaction stays open while the body comes (over Tor, it may take a while).
    session.rollback()
    if owner is None or not any(
        row is not None and row.source_id == owner for row in (upload, item)
    ):
        raise not_found("no such upload")


def append(
    session: Session,
    proof: Proof,
    facts: RequestFacts,
    upload_id: str,
    chunk: Path,
) -> Progress:
    """Append a received chunk at `facts.offset` if its proof holds; publish once whole."""
    source = authenticate(session, proof, facts)
    offset = facts.offset if facts.offset is not None else -1
    length = chunk.stat().st_size
    try:
        upload = _lock(session, upload_id)
        if upload is None or upload.source_id != source.id:
            session.rollback()
            done = _progress(session, source, upload_id)
            raise _conflict(done.offset, "this upload is already complete")
        current = upload.received
        if offset != current:
            raise _conflict(current, f"the upload is at offset {current}")
        if current + length > upload.size:
            raise ApiError(413, "too-large", "the chunk goes past the declared size")
        path = staged_path(upload.id)
        fd = _open_trusted(session, upload, path)
        try:
            _copy_at(chunk, fd, current)
        finally:
            os.close(fd)
        _wipe_times(path)
        upload.received = current + length
        upload.active_day = source.active_day = today()
        if upload.received < upload.size:
            session.commit()
            return Progress(upload.received, upload.size)
        # Still under the lock: a second request must find the item, not half a publish.
        return _finish(session, upload, path)
    except BaseException:
        session.rollback()
        raise


def _lock(session: Session, upload_id: str) -> Upload | None:
    """Lock an upload until the transaction ends, then read its row afresh; None if none.

    Call it first in a transaction. On PostgreSQL it is a row lock (SELECT … FOR
    UPDATE): an append to the same upload, from any worker or host, waits until
    this transaction commits or rolls back and then reads the offset it left;
    other uploads go on. SQLite has no row locks: BEGIN IMMEDIATE takes its one
    write lock, which queues every other writer of the database behind it (for
    up to its busy timeout). SQLite serves one host, and the lock is held for a
    chunk's append and, after the last, the check of the whole envelope.
    """
    if not _ID.fullmatch(upload_id):
        return None
    connection = session.connection()
    # pysqlite opens a transaction only before a write, and that write holds the lock.
    begun = getattr(connection.connection.dbapi_connection, "in_transaction", False)
    if connection.dialect.name == "sqlite" and not begun:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    query = (
        select(Upload)
        .where(Upload.id == upload_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one_or_none()


def _open_trusted(session: Session, upload: Upload, path: Path) -> int:
    """Open a locked upload's file for writing, cut back to the offset its row records.

    Bytes past that offset were written by an append that never committed (a
    process that died mid-chunk): they are not trusted. A file shorter than the
    row says has lost bytes: the upload is discarded, and the source told to start again.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        _discard(session, upload)
        raise not_found(_GONE) from None
    try:
        size = _cut_back(fd, upload.received)
    except BaseException:
        os.close(fd)
        raise
    if size < upload.received:
        os.close(fd)
        _discard(session, upload)
        raise not_found(_GONE)
    return fd


def _cut_back(fd: int, received: int) -> int:
    """Truncate a staged file to the offset its row records; return the size it had."""
    size = os.fstat(fd).st_size
    if size > received:
        os.ftruncate(fd, received)
        os.fsync(fd)
    return size


def _discard_lost(session: Session, upload_id: str) -> None:
    """Discard an upload whose staged file is missing or short (checked again under its lock)."""
    try:
        upload = _lock(session, upload_id)
        if upload is not None:
            try:
                on_disk = staged_path(upload.id).stat().st_size
            except FileNotFoundError:
                on_disk = -1
            if on_disk < upload.received:
                _discard(session, upload)
                raise not_found(_GONE)
    finally:
        session.rollback()


def _storage_full() -> ApiError:
    """The 503 of an upload refused to keep the store's last space or files for arrivals."""
    return ApiError(
        503,
        "storage-full",
        "the server keeps its last free space for reports arriving: try again later",
        {"Retry-After": str(FAULT_RETRY_AFTER)},
    )


def _conflict(offset: int, message: str) -> ApiError:
    return ApiError(409, "offset-mismatch", message, {"Upload-Offset": str(offset)})


def _copy_at(chunk: Path, fd: int, offset: int) -> None:
    with open(chunk, "rb") as src:
        position = offset
        while block := src.read(_BLOCK):
            view = memoryview(block)
            while view:
                written = os.pwrite(fd, view, position)
                position += written
                view = view[written:]
    os.fsync(fd)


def _finish(session: Session, upload: Upload, path: Path) -> Progress:
    """Check the whole envelope, then publish it and swap the upload row for an item."""
    svc = services()
    size, digest = hash_file(path)
    if size != upload.size or not hmac.compare_digest(digest, upload.hash):
        _discard(session, upload)
        raise ApiError(
            422,
            "hash-mismatch",
            "the envelope does not match the hash declared for it; it was discarded",
        )
    try:
        manifest = svc.manifest()
    except KeyringUnavailable:
        _discard(session, upload)
        raise
    try:
        with open(path, "rb") as src:
            header = read_header(src)
    except CryptoError as exc:
        _discard(session, upload)
        raise ApiError(422, "not-an-envelope", "the upload is not an envelope") from exc
    try:
        sealed_right = svc.accepts_sealed(header, manifest)
    except KeyringUnavailable:
        _discard(session, upload)
        raise
    if not sealed_right:
        _discard(session, upload)
        raise ApiError(
            422,
            "wrong-recipients",
            "the envelope is not sealed to exactly the recipients of the keyring in force",
        )
    published: Path | None = None
    # Read now: a commit whose answer was lost is rolled back in the session, which then
    # holds no row of the upload (`commit_or_confirm`).
    done = Progress(upload.size, upload.size, upload.id)
    try:
        session.add(
            Item(
                id=upload.id,
                source_id=upload.source_id,
                submission_id=upload.submission_id,
                kind=upload.kind,
                size=upload.size,
            )
        )
        session.delete(upload)
        session.execute(
            update(Source)
            .where(Source.id == upload.source_id)
            .values(filed=True)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        # Held until the commit answers: the timer destroys only what no writer holds.
        with svc.store.filing():
            published = svc.store.publish(upload.id, path)
            commit_or_confirm(session, select(Item.id).where(Item.id == upload.id))
    except CommitUnconfirmed:
        raise  # it may have landed: the file stays, published and forced to disk
    except BaseException:
        session.rollback()
        # Freed now, their inodes would date the failure (`EnvelopeStore.retire_file`).
        if published is not None:
            svc.store.retire_file(published)
        svc.store.retire_file(path)
        raise
    # Deliberately not logged: a log line's timestamp would record when it arrived.
    return done


def _discard(session: Session, upload: Upload) -> None:
    """Remove an upload, file and row (the file retired: its inode would date the request)."""
    services().store.retire_file(staged_path(upload.id))
    session.delete(upload)
    session.commit()


def make_room(
    session: Session,
    store: EnvelopeStore,
    need: int,
    day: dt.date,
    *,
    keep: str | None = None,
    files: int = 0,
) -> bool:
    """Say whether `need` bytes and `files` inodes more leave free the share no API upload
    takes, first discarding, while they do not, uploads begun before yesterday (never `keep`).

    A flood of unfinished uploads from free accounts, each kept alive by a chunk a
    day, held the disk at that share, and every other source's upload was refused for
    as long. Which account holds an upload says nothing (an attacker has as many as
    it likes, and spreads thin: taken by the accounts holding the most, an honest
    source's one large file went first); how long it has been held does. An upload
    begun today or yesterday is never taken, so one that keeps going has a day or two
    to finish; the oldest go first, the largest of a day first (the fewest files to
    overwrite). To keep the disk, a flood must send anew every day or two as many bytes
    as it holds. "Yesterday" is reckoned as for idle uploads (`_reckoned_day`).

    Inodes are made room for as bytes are (an unfinished upload holds one, whatever its
    size): short of them, what waits retired for the hourly timer (`free_retired`, a
    chunk's file each) is freed first, and the uploads taken are freed at once, not retired:
    retired, each kept its inode until the timer, and a flood of starts held the inodes
    kept from uploads however many held-over ones were taken.

    Requests at once each count what they free only once the others' deletions have
    committed: one that found its choice taken already (deleted by another) chooses again,
    a few times, rather than be refused while uploads held over remain.
    """
    cutoff = day - dt.timedelta(days=1)
    taken = 0
    for round_ in range(_ROOM_ROUNDS):
        short, inodes = store.short_for_uploads(need, files)
        if short == 0 and inodes == 0:
            return True
        if inodes and round_ == 0:
            store.free_retired()
            short, inodes = store.short_for_uploads(need, files)
            if short == 0 and inodes == 0:
                return True
        if taken >= ROOM_AT_ONCE:
            break
        chosen = _take_held_over(
            session, store, (short, inodes), cutoff, keep, ROOM_AT_ONCE - taken
        )
        if chosen == 0:
            break
        taken += chosen
    return store.space_for_uploads(need, files)


def _take_held_over(
    session: Session,
    store: EnvelopeStore,
    short: tuple[int, int],
    cutoff: dt.date,
    keep: str | None,
    limit: int,
) -> int:
    """Discard uploads begun before `cutoff` (never `keep`), oldest first, until they
    free `short` (bytes, inodes); return how many were chosen (0: none is held over)."""
    space, inodes = short
    held_over = or_(Upload.started_day < cutoff, Upload.started_day.is_(None))
    query = (
        select(Upload.id, Upload.received)
        .where(held_over)
        .order_by(Upload.started_day, Upload.received.desc())
        .limit(limit)
    )
    if keep is not None:
        query = query.where(Upload.id != keep)
    chosen: list[str] = []
    freed = 0
    for upload_id, received in session.execute(query):
        if freed >= space and len(chosen) >= inodes:
            break
        chosen.append(upload_id)
        freed += received
    if not chosen:
        session.rollback()
        return 0
    try:
        # Still held over when deleted: an append holding its lock may just have finished it.
        gone = list(
            session.execute(
                delete(Upload)
                .where(Upload.id.in_(chosen))
                .where(held_over)
                .returning(Upload.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for upload_id in gone:
        if inodes:
            # Its inode is what is short: freed now, dated, as `retire_file` frees one then.
            store.destroy(staged_path(upload_id, store))
        else:
            # Freed now, its inode would say when the source who started it came.
            store.retire_file(staged_path(upload_id, store))
    return len(chosen)


def expire(
    session: Session,
    store: EnvelopeStore,
    day: dt.date | None = None,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    owner: str | None = None,
) -> int:
    """Discard uploads idle since before yesterday (at most `limit`; only `owner`'s, if given),
    rows then files; return how many.

    A dry run only counts them. Each row goes only if it is still idle when
    deleted (an append holding its lock may just have made it active), and its
    staged file is overwritten now and freed by the next sweep (`EnvelopeStore.retire_file`).
    """
    cutoff = (day or today()) - dt.timedelta(days=1)
    idle = select(Upload.id).where(Upload.active_day < cutoff).limit(limit)
    if owner is not None:
        idle = idle.where(Upload.source_id == owner)
    stale = list(session.execute(idle).scalars())
    if dry_run or not stale:
        return len(stale)
    gone: list[str] = []
    try:
        for start_at in range(0, len(stale), _BATCH):
            deleted = session.execute(
                delete(Upload)
                .where(Upload.id.in_(stale[start_at : start_at + _BATCH]))
                .where(Upload.active_day < cutoff)
                .returning(Upload.id)
                .execution_options(synchronize_session=False)
            )
            gone += deleted.scalars()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for upload_id in gone:
        try:
            # Freed now, its inode would say when the source who started an upload came.
            store.retire_file(staged_path(upload_id, store))
        except OSError as exc:
            # Its row is gone: the next sweep of staging removes the file.
            log.warning("could not remove a staged upload: %s", exc.strerror or type(exc).__name__)
    return len(gone)


@dataclass(frozen=True)
class Recovered:
    """What `recover` found in staging after a restart."""

    kept: int = 0  # uploads in progress, left to be resumed
    cut_back: int = 0  # of those, files holding an append that never committed
    lost: int = 0  # rows whose file was gone or short: their sources start again
    expired: int = 0  # uploads idle since before yesterday, discarded
    removed: int = 0  # staging entries no upload claims, removed


def recover(
    session: Session,
    store: EnvelopeStore,
    day: dt.date | None = None,
    *,
    grace: dt.timedelta = STRAY_AFTER,
) -> Recovered:
    """Make staging agree with the uploads table before serving, so uploads resume across restarts.

    Idle uploads expire. Each upload's file is cut back to the offset its row
    records, under the upload's lock (another host may be appending to it); a
    file gone or shorter than that leaves the row to answer its source's next
    request with "start again". Anything else in staging untouched for `grace`
    is a leftover no request will come back for, and is removed.
    """
    expired = expire(session, store, day)
    # Listed before the rows are read: an upload's row is committed before its
    # file is seen here, or its file was made after this listing.
    listed = {p.name: p for p in store.strays(min_age=grace.total_seconds())}
    # A web upload's file whose writer died is never coming back: gone now, not after `grace`.
    listed.update({p.name: p for p in store.abandoned()})
    ids = list(session.execute(select(Upload.id)).scalars())
    session.rollback()
    kept = cut_back = lost = 0
    for upload_id in ids:
        listed.pop(f"{upload_id}{_SUFFIX}", None)
        outcome = _recover_one(session, store, upload_id)
        kept += outcome in {"kept", "cut back"}
        cut_back += outcome == "cut back"
        lost += outcome == "lost"
    for path in listed.values():
        store.destroy(path)
    return Recovered(kept, cut_back, lost, expired, len(listed))


def _recover_one(session: Session, store: EnvelopeStore, upload_id: str) -> str:
    """Cut one upload's file back to its recorded offset; say "kept", "cut back", "lost" or ""."""
    try:
        upload = _lock(session, upload_id)
        if upload is None:
            return ""
        path = staged_path(upload.id, store)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            # Gone, or not a file of ours (a link): nothing of it is trusted.
            store.destroy(path)
            return "lost"
        try:
            size = _cut_back(fd, upload.received)
        finally:
            os.close(fd)
        if size < upload.received:
            store.destroy(path)
            return "lost"
        _wipe_times(path)
        return "cut back" if size > upload.received else "kept"
    finally:
        # Nothing was written: ending the transaction only releases the lock.
        session.rollback()


def renew(session: Session, store: EnvelopeStore) -> list[int]:
    """Re-create every unfinished upload's file, each under its lock; return the inodes freed.

    A staged file kept the time its upload began (its creation time) and the time
    of its last chunk (its change time) until it expired, a day or two: the sweep
    (`app.operations.sweep`) renews it, so that both say only when the sweep ran.
    """
    ids = list(session.execute(select(Upload.id)).scalars())
    session.rollback()
    freed: list[int] = []
    for upload_id in ids:
        try:
            if _lock(session, upload_id) is not None:
                freed += store.renew(staged_path(upload_id, store))
        finally:
            # Nothing was written to the database: ending the transaction releases the lock.
            session.rollback()
    return freed


def _wipe_times(path: Path) -> None:
    """Set a staged file's and staging's times to the epoch: they would say when a chunk came."""
    for target in (path, path.parent):
        with contextlib.suppress(FileNotFoundError):
            os.utime(target, (0, 0))
