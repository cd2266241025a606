"""A submission: sealed on the device into `pending/`, then uploaded chunk by chunk, resumably.

Sealing comes first, whole, so that what is uploaded is fixed: a dropped
circuit is resumed from the offset the server reports, and an interrupted run
from the upload ids in the state, byte for byte the same envelopes. The
server appends a chunk only at the offset it holds and stores a finished
envelope once, so neither a retry nor a resumed run can leave two copies or a
partial one. Only ciphertext is ever written: plaintext goes from the source's
file, or memory, straight into the sealing writer. Every envelope carries, in
its sealed metadata, the source's reply key signed by the codename's signing key
(`crypto.binding`): the review workstation refuses a server's claim of another.
A submission with a report also makes `REPLY_PREKEYS` one-time X-Wing key pairs:
the binding commits to their public keys, the report record carries them, and
their secrets wait with the pending submission and join the sealed state's
prekeys once it is stored (a discarded one takes them along), so that replies
can be forward-secret.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from crypto import (
    CryptoError,
    HybridPrivateKey,
    HybridPublicKey,
    Manifest,
    Metadata,
    PublicKey,
    SourceKeys,
    read_header,
    seal,
)
from crypto import constants as C
from crypto.binding import ReplyPrekeys, SourceBinding
from crypto.bundle import hash_stream
from crypto.envelope import SealingWriter
from crypto.envelope.metadata import KeyringSeen
from crypto.mask import new_mask_key
from crypto.subkeys import (
    SignedSubkeyList,
    SubkeyError,
    check_sealed_to_keyring,
    requires_subkeys,
)
from submit import scrub
from submit.errors import ServerError, SubmitError, TransportError
from submit.masked import stream_of, unmasked
from submit.noatime import open_quietly
from submit.protocol import SEND_ANSWERS, Api
from submit.scrub import Cleaned
from submit.state import Pending, PendingItem, State, private_dir

REPORT_TYPE: Final = "application/vnd.raazdar.report+json; version=1"
CHUNK_BYTES: Final = 1024 * 1024
# An unfinished envelope weighs at least this on the disk (`disk_size`).
DISK_FLOOR: Final = 1024 * 1024
DISK_STEP: Final = 64 * 1024 * 1024
RETRIES: Final = 5
# Seconds before the n-th retry waits n times this (circuits take a moment to rebuild).
RETRY_WAIT: float = 2.0
# The longest "busy, send again in N seconds" (503 with Retry-After) a send waits out and goes
# on: a chunk pre-empted for another circuit (5 s), a signed request past its circuit's pace
# (1 s). Longer ones (a full store's 60 s) end the run with the --resume hint.
BUSY_WAIT_LONGEST: Final = 10
# The longest the server may ask a device to wait for its account's next upload (503 "busy"
# with Retry-After: an account's uploads are paced by their bytes, two upload limits at
# once, then one a minute), and how many such waits a send takes: a report of several large
# files waits for its next file's turn, telling the person, rather than ending with the
# --resume hint at its third file.
PACED_WAIT_LONGEST: Final = 300
PACED_WAITS: Final = 12
RESUME_HINT: Final = (
    "run `raazdar-submit send --resume` to finish it, once the instance is reachable"
)


class ProgressSink(Protocol):
    """Where upload progress goes (a progress bar in the CLI)."""

    def start(self, total: int, done: int) -> None:
        """The submission's total bytes, and how many are already stored."""

    def update(self, done: int) -> None:
        """Bytes of the submission sent so far (may go back after a dropped chunk)."""

    def waiting(self, seconds: int) -> None:
        """The server asked for a wait of `seconds` before the next file (its pacing)."""


class _Quiet:
    def start(self, total: int, done: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def waiting(self, seconds: int) -> None:
        pass


def report_bytes(message: str, language: str) -> bytes:
    """The report record the review tool reads, as the server's browser form writes it."""
    record = {"format": 1, "message": message, "fields": {}, "language": language}
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def with_prekeys(report: bytes, prekeys: ReplyPrekeys) -> bytes:
    """The report record with the reply prekeys its binding commits to (`reply_prekeys`)."""
    record = json.loads(report)
    if not isinstance(record, dict):
        raise SubmitError("a report record is a JSON object")
    record["reply_prekeys"] = prekeys.to_json()
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")


def owner_of(keys: SourceKeys) -> str:
    """The mark a pending submission keeps of its account: a hash of the public key.

    The server already knows which source each upload belongs to, so this tells
    someone holding the device nothing the upload ids in the state do not.
    """
    text = keys.public_key.to_text().encode("ascii")
    return hashlib.blake2b(text, digest_size=16, person=b"rz-submit-owner").hexdigest()


def seal_submission(
    state: State,
    manifest: Manifest,
    report: bytes | None,
    files: Sequence[Path],
    *,
    keys: SourceKeys,
    recipients: Sequence[PublicKey | HybridPublicKey] | None = None,
    keep_metadata: bool = False,
    told: Callable[[Path, Cleaned], None] | None = None,
) -> Pending:
    """Seal a report record and files to `recipients` into `pending/`; record them.

    `recipients` are `Verified.recipients(today)`; without them, the manifest's
    long-term keys, which a keyring of hybrid reviewers forbids. Each envelope
    binds the source's reply key, signed with the codename's key; with a report,
    the binding also commits to fresh reply prekeys whose secrets the state keeps.
    Files lose their metadata and camera-style names first (`submit.scrub`),
    unless `keep_metadata`; `told` hears what each one lost, once all are sealed.
    """
    if report is None and not files:
        raise SubmitError("nothing to send: give a message or files")
    if state.pending is not None:
        raise SubmitError("an earlier submission is unfinished", hint=RESUME_HINT)
    if recipients is None:
        if requires_subkeys(manifest):
            raise SubmitError("this keyring takes reports sealed to this week's subkeys only")
        recipients = [r.encryption_key for r in manifest.recipients]
    directory = private_dir(state.pending_dir)
    # Only a report can carry prekeys (an envelope's metadata is too small for them).
    count = C.REPLY_PREKEYS if report is not None else 0
    secrets_ = [HybridPrivateKey.generate() for _ in range(count)]
    prekeys = ReplyPrekeys(tuple(k.public_key for k in secrets_)) if secrets_ else None
    binding = SourceBinding.make(keys.public_key, keys.signing_key, prekeys)
    # The keyring sealed to, named inside each envelope: reviewers see a fork (§5.6.2).
    seen = KeyringSeen(manifest.version, manifest.digest())
    record = with_prekeys(report, prekeys) if report is not None and prekeys is not None else None
    pending = Pending(
        secrets.token_hex(16),
        manifest.version,
        owner=owner_of(keys),
        prekeys=secrets_,
        mask=new_mask_key(),
    )
    written: list[Path] = []
    results: list[tuple[Path, Cleaned]] = []
    try:
        for index, source in enumerate([None, *files] if record is not None else list(files)):
            target = directory / f"{index}.rze"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            written.append(target)
            with os.fdopen(fd, "wb") as out:
                # Masked on the disk: as sealed, its hash is the one the server records.
                plain = unmasked(out, pending.mask, index)
                if source is None:
                    metadata = Metadata("report", REPORT_TYPE, source=binding, keyring=seen)
                    with SealingWriter(plain, recipients, metadata) as w:
                        w.write(record or b"")
                    kind = "report"
                else:
                    number = len(results) + 1

                    def cleaned(path: Path, src: BinaryIO, number: int = number) -> Cleaned:
                        return scrub.clean(path, src, number, keep=keep_metadata)

                    result = _seal_file(source, plain, recipients, (binding, seen), cleaned)
                    results.append((source, result))
                    kind = "file"
                out.flush()
                os.fsync(out.fileno())
            with target.open("rb") as raw:
                size, digest = hash_stream(unmasked(raw, pending.mask, index))
            if state.vault is not None:
                _fill(target, size)
            pending.items.append(PendingItem(target.name, kind, size, digest))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    state.pending = pending
    state.save()
    for source, result in results:
        if told is not None:
            told(source, result)
    return pending


def disk_size(size: int) -> int:
    """What an envelope of `size` bytes weighs on the disk: a power of two, 1 MiB at least,
    and past 64 MiB a multiple of 64 MiB (so a large video does not take twice its room).

    The server keeps each upload's declared size under the account, and Padmé's
    classes are narrow (12 %): kept at its size, an unfinished envelope on a seized
    phone would match, with a seized server, the upload and so the account. Filled to
    this, every report and every file up to 1 MiB weigh the same, and a larger one
    says only its class.
    """
    if size > DISK_STEP:
        return -(-size // DISK_STEP) * DISK_STEP
    return max(DISK_FLOOR, 1 << (size - 1).bit_length())


def _fill(path: Path, size: int) -> None:
    """Fill a sealed envelope on the disk with random bytes (as its masked bytes look) up to
    `disk_size`: uploads read `size` bytes of it, never past them."""
    left = disk_size(size) - size
    with path.open("ab") as out:
        while left > 0:
            block = os.urandom(min(left, 1 << 20))
            out.write(block)
            left -= len(block)
        out.flush()
        os.fsync(out.fileno())


def _seal_file(
    source: Path,
    out: BinaryIO,
    recipients: Sequence[PublicKey | HybridPublicKey],
    signed: tuple[SourceBinding, KeyringSeen],
    cleaned: Callable[[Path, BinaryIO], Cleaned],
) -> Cleaned:
    try:
        src = open_quietly(source)
    except OSError as exc:
        raise SubmitError(f"cannot read {source}: {exc.strerror}") from exc
    with src:
        # Read, never mapped (seal maps nothing): a source's file may sit on a USB
        # stick pulled out mid-way, which must be an error to report, not a crash.
        try:
            result = cleaned(source, src)
        except OSError as exc:
            raise SubmitError(f"cannot read {source}: {exc.strerror}") from exc
        binding, seen = signed
        metadata = Metadata("file", result.content_type, result.name, binding, seen)
        # A cleaned file is sealed from memory: its clean copy never touches the disk.
        seal(src if result.data is None else io.BytesIO(result.data), out, recipients, metadata)
    return result


def discard(state: State) -> None:
    """Forget an unfinished submission and remove its sealed envelopes.

    Its prekeys go too, unless its report is stored already: then reviewers
    will see them, and replies sealed to them must still open here.
    """
    pending = state.pending
    if pending is not None:
        for item in pending.items:
            (state.pending_dir / item.name).unlink(missing_ok=True)
        if any(i.kind == "report" and i.item is not None for i in pending.items):
            state.prekeys.extend(pending.prekeys)
    state.pending = None
    state.save()
    with contextlib.suppress(OSError):
        state.pending_dir.rmdir()


def check_still_sealed_right(
    state: State, manifest: Manifest, lists: Mapping[str, SignedSubkeyList], today: dt.date
) -> None:
    """Refuse to resume a send whose envelopes the keyring in force would not seal so.

    Sealed before a reviewer was revoked or re-keyed their subkeys after a leak,
    an envelope is open to whoever holds the dropped key: a seized server would
    take it. Nothing is sent; what was sealed is kept until the source discards it.
    """
    pending = state.pending
    if pending is None:
        return
    for item in pending.items:
        if item.item is not None:
            continue
        try:
            path = state.pending_dir / item.name
            with open_quietly(path) as src:
                header = read_header(unmasked(src, pending.mask, stream_of(path)))
                check_sealed_to_keyring(header, manifest, lists, today)
        except SubkeyError as exc:
            raise SubmitError(
                "the unfinished submission was sealed to keys the keyring in force no longer "
                f"lists ({exc}): a reviewer was revoked, or re-keyed after a leak, since. "
                "Nothing more was sent",
                hint="run `raazdar-submit send --discard`, then send it again: it will be "
                "sealed to the keys in force",
            ) from exc
        except (CryptoError, OSError) as exc:
            raise SubmitError(
                f"an envelope of the unfinished submission cannot be read ({exc})",
                hint="run `raazdar-submit send --discard`, then send it again",
            ) from exc


def upload_pending(
    api: Api,
    keys: SourceKeys,
    state: State,
    *,
    progress: ProgressSink | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    retries: int = RETRIES,
) -> list[str]:
    """Upload every envelope of the pending submission; return the ids they are stored under."""
    pending = state.pending
    if pending is None:
        raise SubmitError("there is no unfinished submission to resume")
    if not hmac.compare_digest(pending.owner, owner_of(keys)):
        raise SubmitError(
            "the unfinished submission was started under another codename",
            hint="give the codename it was sent with, or forget it with `send --discard`",
        )
    sink = progress or _Quiet()
    total = sum(i.size for i in pending.items)
    held = sum(i.size for i in pending.items if i.item is not None)
    sink.start(total, held)
    before = 0
    # The whole send, retries included, is bounded: a server answering each exchange just
    # within its own deadline does not hold the device for as long as it likes.
    with api.within(SEND_ANSWERS, body_bytes=total - held):
        for item in pending.items:
            if item.item is None:
                item.item = _Upload(
                    api, keys, state, pending, item, sink, before, chunk_bytes, retries
                ).run()
                state.save()
                (state.pending_dir / item.name).unlink(missing_ok=True)
            before += item.size
    stored = [i.item for i in pending.items if i.item is not None]
    discard(state)  # every envelope is stored: its prekeys join the state's
    return stored


@dataclass
class _Upload:
    """One envelope's upload, resumed from where the server says it stands."""

    api: Api
    keys: SourceKeys
    state: State
    pending: Pending
    item: PendingItem
    sink: ProgressSink
    before: int
    chunk_bytes: int
    retries: int

    def run(self) -> str:
        failures = paced = 0
        restarted = False
        while True:
            try:
                return self._attempt()
            except TransportError as exc:
                failures += 1
                if self.api.run_over:
                    raise TransportError(
                        "the instance took too long: the send was stopped at its deadline, "
                        "what was sealed is kept on this device",
                        hint=RESUME_HINT,
                    ) from exc
                if failures > self.retries:
                    raise TransportError(
                        f"the upload was interrupted: {exc}", hint=RESUME_HINT
                    ) from exc
                time.sleep(RETRY_WAIT * failures)
            except ServerError as exc:
                if exc.status == 408 and failures < self.retries and not self.api.run_over:
                    # The server cut off a chunk that fell behind (a phone losing its signal
                    # midway) and kept what came: ask where the upload stands and go on.
                    failures += 1
                    time.sleep(RETRY_WAIT * failures)
                    continue
                if self._paced(exc, paced):
                    # Its account's uploads are paced by their bytes: this file's turn comes
                    # in the time the server said; nothing of it was stored yet.
                    paced += 1
                    self.sink.waiting(exc.retry_after or 0)
                    time.sleep(exc.retry_after or 0)
                    continue
                if self._waits_out(exc, failures):
                    # Busy a moment (a flood's bodies holding its threads, or this circuit
                    # past its pace): what was stored stays; go on from there, as told.
                    failures += 1
                    time.sleep(exc.retry_after or 0)
                    continue
                if exc.status == 404 and not restarted:
                    # The server discarded an upload idle for days: declare it again.
                    restarted = True
                    self.item.upload = None
                    self.state.save()
                    continue
                if exc.status == 409 and exc.offset is not None and failures < self.retries:
                    failures += 1
                    continue
                if exc.status == 422:
                    exc.hint = (
                        "the keyring changed since this was sealed: run "
                        "`raazdar-submit send --discard` and send it again"
                    )
                if exc.status in (408, 503) and exc.hint is None:
                    # Too slow again, or busy (its storage or database) for now: what was
                    # sealed is kept.
                    exc.hint = RESUME_HINT
                raise

    def _paced(self, exc: ServerError, paced: int) -> bool:
        """Whether a refusal is the account's pace of uploads, longer than a short "busy", to
        wait out within `PACED_WAITS` and the send's deadline."""
        return (
            exc.status == 503
            and exc.code == "busy"
            and exc.retry_after is not None
            and BUSY_WAIT_LONGEST < exc.retry_after <= PACED_WAIT_LONGEST
            and paced < PACED_WAITS
            and not self.api.run_over
        )

    def _waits_out(self, exc: ServerError, failures: int) -> bool:
        """Whether a refusal is a short "busy" to wait out and go on from, within the retries
        and the send's deadline."""
        return (
            exc.status == 503
            and exc.retry_after is not None
            and exc.retry_after <= BUSY_WAIT_LONGEST
            and failures < self.retries
            and not self.api.run_over
        )

    def _reporter(self, start: int) -> Callable[[int], None]:
        """Report the bytes of a chunk starting at `start` as they leave."""
        return lambda sent: self.sink.update(self.before + start + sent)

    def _attempt(self) -> str:
        """Declare or locate the upload, then send chunks from the server's offset until done."""
        item = self.item
        if item.upload is None:
            item.upload = self.api.start_upload(
                self.keys,
                size=item.size,
                digest=item.hash,
                kind=item.kind,
                submission=self.pending.submission,
            )
            self.state.save()
            offset = 0
        else:
            where = self.api.upload_offset(self.keys, item.upload)
            if where.size != item.size:
                raise SubmitError("the server holds an upload of another size under this id")
            if where.item is not None:
                return where.item
            offset = where.offset
        path = self.state.pending_dir / item.name
        with path.open("rb") as raw:
            src = unmasked(raw, self.pending.mask, stream_of(path))
            while True:
                self.sink.update(self.before + offset)
                src.seek(offset)
                chunk = src.read(min(self.chunk_bytes, item.size - offset))
                try:
                    result = self.api.append(
                        self.keys, item.upload, offset, chunk, self._reporter(offset)
                    )
                except ServerError as exc:
                    if exc.status == 409 and exc.offset == item.size:
                        # The last chunk arrived but its answer was lost: it is stored.
                        self.sink.update(self.before + item.size)
                        return item.upload
                    raise
                # A chunk taken is a chunk held: a server that says otherwise would have the
                # device send it again for as long as it liked.
                if result.size != item.size or result.offset != offset + len(chunk):
                    raise ServerError(
                        200, "bad-answer", "the server did not hold the chunk it took"
                    )
                offset = result.offset
                if result.item is not None:
                    self.sink.update(self.before + item.size)
                    return result.item
