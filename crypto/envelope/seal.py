"""Sealing: a file-like writer that encrypts as bytes arrive, in constant memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO, Final

import nacl.bindings as sodium
import nacl.utils

from crypto import constants as C
from crypto.encoding import b64encode, blake2b_hasher
from crypto.envelope.header import build_header, header_mac, payload_key
from crypto.envelope.metadata import Metadata, encode_trailer
from crypto.envelope.pipeline import Output, Readinto, read_full
from crypto.envelope.secretstream import Buffer, Pusher
from crypto.envelope.version import RecipientKey
from crypto.errors import CryptoError
from crypto.keys import SigningKey
from crypto.padding import padded_size

_TAG_MESSAGE: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_PUSH: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH
_TAG_FINAL: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_ZERO_CHUNK: Final = bytes(C.CHUNK_BYTES)


@dataclass(frozen=True, slots=True)
class SealResult:
    """What sealing produced: content length and total envelope size in bytes."""

    length: int
    envelope_size: int


class SealingWriter:
    """Write plaintext in, get an envelope out; `finish()` seals the last chunk.

    Nothing is buffered beyond one chunk. Leaving the `with` block through an
    exception aborts instead: no final chunk is written, so the partial output
    can never be mistaken for a complete envelope.
    """

    def __init__(
        self,
        dst: BinaryIO,
        recipients: Iterable[RecipientKey],
        metadata: Metadata,
        *,
        signer: SigningKey | None = None,
    ) -> None:
        self._signer = signer
        self._length = 0
        self._emitted = 0  # inner plaintext bytes already pushed
        self._done = False
        file_key = nacl.utils.random(C.FILE_KEY_BYTES)
        # Encoded now, to refuse an oversized record before the upload, and kept.
        self._record = metadata.encode()
        # X25519 keys only give v1, hybrid keys only v2; a mix is refused.
        self._version, head = build_header(
            file_key, list(recipients), signer.verify_key if signer is not None else None
        )
        hasher: Any = None
        if signer is not None:
            hasher = blake2b_hasher(person=self._version.person_signed, size=64)
        self._output = Output(dst, hasher)
        self._pusher = Pusher(payload_key(file_key, self._version))
        mac = header_mac(file_key, head, self._pusher.header, self._version)
        self._output.write(head + b" " + b64encode(mac).encode() + b"\n" + self._pusher.header)
        # Plaintext not yet pushed, at most one chunk: the caller's bytes, or a view of
        # `_holding`, where the parts of chunks that writes leave are gathered: the
        # pusher's first inbox, so that a chunk gathered there is not copied again.
        self._pending: Buffer = b""
        self._holding: memoryview | None = None

    def writable(self) -> bool:
        """Say that this object accepts writes."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Take more plaintext; full chunks are encrypted and written at once.

        A chunk leaves only when more content follows it, so the chunk in which
        the content ends is still pending when `finish` marks it. Whole chunks
        are passed to libsodium without a copy; only a pending part is copied,
        since the caller may reuse its buffer once this returns.
        """
        if self._done:
            raise CryptoError("envelope is already finished")
        view = memoryview(data).cast("B")
        size = len(view)  # bytes, not items: a memoryview's len counts items
        if not size:
            return 0
        self._length += size
        pos = 0
        if self._pending:
            have = len(self._pending)
            if have < C.CHUNK_BYTES:
                pos = min(C.CHUNK_BYTES - have, size)
                self._pending = self._hold(self._pending, view[:pos])
                if pos == size:
                    return size
            self._push(self._pending, _TAG_MESSAGE)
            self._pending = b""
        while size - pos > C.CHUNK_BYTES:
            self._push(view[pos : pos + C.CHUNK_BYTES], _TAG_MESSAGE)
            pos += C.CHUNK_BYTES
        # A bytes object cannot change under us: kept as it is, not copied.
        whole = pos == 0 and type(data) is bytes
        self._pending = data if whole else self._hold(b"", view[pos:])
        return size

    def write_from(self, src: BinaryIO) -> int:
        """Take everything readable from `src`, read a chunk at a time into the pusher.

        Each chunk is read into one of the pusher's two inboxes and encrypted
        there once the next has been read (`_read_chunks`): the chunk read last
        waits until more input follows it, or becomes the pending chunk. A stream
        without `readinto` is written chunk by chunk.
        """
        if self._done:
            raise CryptoError("envelope is already finished")
        readinto = getattr(src, "readinto", None)
        total = 0
        if not self._pending and readinto is not None:
            total = self._read_chunks(readinto)
        while block := src.read(C.CHUNK_BYTES):
            total += self.write(block)
        return total

    def _read_chunks(self, readinto: Readinto) -> int:
        """Read each chunk into one of the pusher's two inboxes and seal it there, once the
        next one has been read; the last one read becomes the pending chunk."""
        which, size = 0, read_full(readinto, self._pusher.inbox(0))
        total = 0
        while size == C.CHUNK_BYTES:
            more = read_full(readinto, self._pusher.inbox(1 - which))
            if not more:
                break
            self._output.push_inbox(self._pusher, which, size, _TAG_MESSAGE)
            self._emitted += size
            total += size
            which, size = 1 - which, more
        # The last chunk read waits for `finish` (copied: the inbox is the pusher's).
        self._pending = bytes(self._pusher.inbox(which)[:size])
        self._length += total + size
        return total + size

    def finish(self) -> SealResult:
        """Pad, write the trailer and the final chunk, then sign if asked."""
        if self._done:
            raise CryptoError("envelope is already finished")
        self._done = True
        trailer = encode_trailer(self._record, self._length)
        unpadded = self._emitted + len(self._pending) + len(trailer)
        padding = padded_size(unpadded, C.MIN_PADDED_BYTES) - unpadded
        for index, (chunk, last) in enumerate(_last_chunks(self._pending, padding, trailer)):
            # The first of these holds the end of the content: PUSH marks it,
            # unless it is also the last chunk, which FINAL marks.
            tag = _TAG_FINAL if last else (_TAG_PUSH if index == 0 else _TAG_MESSAGE)
            self._push(chunk, tag)
        self._pending = b""
        if self._signer is not None:
            digest = self._output.digest()
            self._output.write(self._signer.sign(self._version.signature_context, digest))
        return SealResult(length=self._length, envelope_size=self._output.written)

    def abort(self) -> None:
        """Stop without sealing the last chunk; what was written will never open."""
        self._done = True
        self._pending = b""

    def close(self) -> None:
        """Abort unless `finish` was called: closing alone never completes an envelope."""
        if not self._done:
            self.abort()

    def __enter__(self) -> SealingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.finish()

    def _hold(self, start: Buffer, more: memoryview) -> memoryview:
        """Put `start + more` (at most a chunk) in the one buffer pending content waits in."""
        if self._holding is None:
            self._holding = self._pusher.inbox(0)
        have = len(start)
        if not self._is_held(start):
            self._holding[:have] = start
        self._holding[have : have + len(more)] = more
        return self._holding[: have + len(more)]

    def _is_held(self, chunk: Buffer) -> bool:
        """Whether `chunk` is a view of `_holding` (and so starts where it starts)."""
        holding = self._holding
        return holding is not None and isinstance(chunk, memoryview) and chunk.obj is holding.obj

    def _push(self, chunk: Buffer, tag: int) -> None:
        if self._is_held(chunk):
            self._output.push_inbox(self._pusher, 0, len(chunk), tag)
        else:
            self._output.push(self._pusher, chunk, tag)
        self._emitted += len(chunk)


def _last_chunks(rest: Buffer, padding: int, trailer: bytes) -> Iterator[tuple[bytes, bool]]:
    """Cut `rest || zeros(padding) || trailer` into chunks, never holding the padding whole."""
    pending = bytearray(rest)
    while True:
        zeros = min(C.CHUNK_BYTES - len(pending), padding)
        pending += _ZERO_CHUNK[:zeros]
        padding -= zeros
        if padding == 0:
            room = C.CHUNK_BYTES - len(pending)
            pending += trailer[:room]
            trailer = trailer[room:]
            if not trailer:
                yield bytes(pending), True
                return
        yield bytes(pending), False
        pending = bytearray()


def seal(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Iterable[RecipientKey],
    metadata: Metadata,
    *,
    signer: SigningKey | None = None,
) -> SealResult:
    """Seal everything readable from `src` into `dst` (read as `write_from` reads it)."""
    with SealingWriter(dst, recipients, metadata, signer=signer) as writer:
        writer.write_from(src)
        return writer.finish()


def seal_bytes(
    plaintext: bytes,
    recipients: Iterable[RecipientKey],
    metadata: Metadata,
    *,
    signer: SigningKey | None = None,
) -> bytes:
    """Seal a small in-memory plaintext and return the envelope."""
    out = io.BytesIO()
    with SealingWriter(out, recipients, metadata, signer=signer) as writer:
        writer.write(plaintext)
    return out.getvalue()
