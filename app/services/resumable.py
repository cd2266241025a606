"""Resumable uploads: one envelope, sealed on the source's device, sent in chunks.

The client declares the envelope's size and hash first. Each chunk is received
into a file of its own and appended only after the request proof covering it
verifies, and only at the offset the upload has reached, so the staged file
holds nothing but bytes its source vouched for, in order. When the last byte
arrives the whole file must match the declared hash and its header must name
exactly the keyring's recipients; then it is published as the Item of the same
id in one transaction. A finished upload is therefore stored once, whole, or
not at all; sending its last chunk again only reports that it is complete.

Uploads idle since before yesterday are discarded (`expire`, run whenever an
upload starts; `raazdar purge` sweeps staging files untouched for a day).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import KeyringUnavailable
from app.models import Item, Source, Upload, today
from app.services.api import (
    ApiError,
    Proof,
    RequestFacts,
    authenticate,
    bad_request,
    not_found,
    parse_json,
    precheck,
)
from app.services.context import services
from app.settings import get_setting
from crypto import CryptoError, read_header
from crypto.bundle import hash_file
from crypto.encoding import b64decode
from crypto.envelope.size import is_envelope_size
from crypto.request import BodyHasher

# The largest chunk one PATCH may carry: a Tor circuit that drops loses at most this.
CHUNK_LIMIT: Final = 8 * 1024 * 1024
OFFSET_CONTENT_TYPE: Final = "application/offset+octet-stream"
KINDS: Final = frozenset({"report", "file"})
_ID: Final = re.compile(r"[0-9a-f]{32}")
_BLOCK: Final = 1024 * 1024


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


def staged_path(upload_id: str) -> Path:
    """Where an upload's bytes gather until it is complete."""
    return services().store.staging / f"{upload_id}.upload"


def start(session: Session, proof: Proof, facts: RequestFacts, data: bytes) -> Upload:
    """Check the declared envelope and open an upload for it (an empty staged file)."""
    source = authenticate(session, proof, facts)
    fields = _declared(parse_json(data))
    recipients = services().recipients()
    limit = int(get_setting(session, "upload_limit_mib")) * 1024 * 1024
    if fields["size"] > limit:
        raise ApiError(413, "too-large", f"envelopes may be at most {limit} bytes here")
    if not is_envelope_size(fields["size"], len(recipients), signed=False):
        raise bad_request(
            "size is not the size of an unsigned envelope to this keyring's recipients"
        )
    expire(session)
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
        services().store.destroy(path)
        raise
    return upload


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
    if kind not in KINDS:
        raise bad_request(f"kind must be one of {', '.join(sorted(KINDS))}")
    if not isinstance(submission, str) or not _ID.fullmatch(submission):
        raise bad_request("submission must be 32 lowercase hexadecimal digits")
    return {"size": size, "hash": raw, "kind": kind, "submission_id": submission}


def status(session: Session, proof: Proof, facts: RequestFacts, upload_id: str) -> Progress:
    """Say how far an upload of this source has got (HEAD before resuming)."""
    source = authenticate(session, proof, facts)
    return _progress(session, source, upload_id)


def _progress(session: Session, source: Source, upload_id: str) -> Progress:
    upload = session.get(Upload, upload_id) if _ID.fullmatch(upload_id) else None
    if upload is not None and upload.source_id == source.id:
        try:
            return Progress(staged_path(upload.id).stat().st_size, upload.size)
        except FileNotFoundError:
            # Staging was swept (a restart, or `raazdar purge`): start again.
            _discard(session, upload)
            raise not_found("this upload has expired: start again") from None
    item = session.get(Item, upload_id) if _ID.fullmatch(upload_id) else None
    if item is not None and item.source_id == source.id:
        return Progress(item.size, item.size, item.id)
    raise not_found("no such upload")


@contextlib.contextmanager
def received_chunk(stream: IO[bytes], length: int) -> Iterator[tuple[Path, bytes]]:
    """Receive a chunk into a file of its own; yield its path and body digest, then remove it."""
    path = services().store.staging / f"{secrets.token_hex(16)}.chunk"
    hasher = BodyHasher()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
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
        services().store.destroy(path)


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
    if length is None:
        raise ApiError(411, "length-required", "a chunk needs a Content-Length")
    method, path, offset = request
    with received_chunk(stream, length) as (chunk, digest):
        facts = RequestFacts(method, path, digest, offset)
        return append(session, proof, facts, upload_id, chunk)


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
    upload = session.get(Upload, upload_id) if _ID.fullmatch(upload_id) else None
    if upload is None or upload.source_id != source.id:
        done = _progress(session, source, upload_id)
        raise _conflict(done.offset, "this upload is already complete")
    path = staged_path(upload.id)
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        _discard(session, upload)
        raise not_found("this upload has expired: start again") from None
    try:
        # One writer per upload at a time, across every worker on this host.
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not _still_staged(fd, path):
            session.expire_all()
            done = _progress(session, source, upload_id)
            raise _conflict(done.offset, "this upload is already complete")
        current = os.fstat(fd).st_size
        length = chunk.stat().st_size
        if offset != current:
            raise _conflict(current, f"the upload is at offset {current}")
        if current + length > upload.size:
            raise ApiError(413, "too-large", "the chunk goes past the declared size")
        _copy_at(chunk, fd, current)
        _wipe_times(path)
        upload.active_day = source.active_day = today()
        session.commit()
        if current + length < upload.size:
            return Progress(current + length, upload.size)
        return _finish(session, upload, path)
    finally:
        os.close(fd)


def _conflict(offset: int, message: str) -> ApiError:
    return ApiError(409, "offset-mismatch", message, {"Upload-Offset": str(offset)})


def _still_staged(fd: int, path: Path) -> bool:
    """Say whether `fd` is still the staged file (a finished upload's file has moved)."""
    try:
        here = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


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
    wanted = {r.encryption_key.fingerprint.key_id for r in manifest.recipients}
    try:
        with open(path, "rb") as src:
            header = read_header(src)
    except CryptoError as exc:
        _discard(session, upload)
        raise ApiError(422, "not-an-envelope", "the upload is not an envelope") from exc
    named = [s.key_id for s in header.stanzas]
    if header.signer is not None or len(named) != len(wanted) or set(named) != wanted:
        _discard(session, upload)
        raise ApiError(
            422,
            "wrong-recipients",
            "the envelope is not sealed to exactly the recipients of the keyring in force",
        )
    published: Path | None = None
    try:
        session.add(
            Item(
                id=upload.id,
                source_id=upload.source_id,
                submission_id=upload.submission_id,
                kind=upload.kind,
                size=upload.size,
                keyring_version=manifest.version,
            )
        )
        session.delete(upload)
        session.flush()
        published = svc.store.publish(upload.id, path)
        session.commit()
    except BaseException:
        session.rollback()
        if published is not None:
            svc.store.destroy(published)
        svc.store.destroy(path)
        raise
    # Deliberately not logged: a log line's timestamp would record when it arrived.
    return Progress(upload.size, upload.size, upload.id)


def _discard(session: Session, upload: Upload) -> None:
    """Remove an upload, file and row."""
    services().store.destroy(staged_path(upload.id))
    session.delete(upload)
    session.commit()


def expire(session: Session, day: dt.date | None = None) -> int:
    """Discard uploads idle since before yesterday; return how many."""
    cutoff = (day or today()) - dt.timedelta(days=1)
    stale = list(session.execute(select(Upload).where(Upload.active_day < cutoff)).scalars())
    for upload in stale:
        services().store.destroy(staged_path(upload.id))
        session.delete(upload)
    if stale:
        session.commit()
    return len(stale)


def _wipe_times(path: Path) -> None:
    """Set a staged file's and staging's times to the epoch: they would say when a chunk came."""
    for target in (path, path.parent):
        with contextlib.suppress(FileNotFoundError):
            os.utime(target, (0, 0))
