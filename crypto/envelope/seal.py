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
from crypto.envelope.pipeline import Output, Readinto, mapped_input, read_full
from crypto.envelope.secretstream import Buffer, Pusher
from crypto.envelope.version import RecipientKey
from crypto.errors import CryptoError
from crypto.keys import SigningKey
from crypto.padding import padded_size

_TAG_MESSAGE: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_PUSH: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH
_TAG_FINAL: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_ZERO_CHUNK: Final = bytes(C.CHUNK_BYTES)
# Plaintext read at once when an input is not mapped: a few chunks per system call.
_READ_BATCH: Final = 4 * C.CHUNK_BYTES


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
        # `_holding`, a buffer made once for the parts of chunks that writes leave.
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

    def write_from(self, src: BinaryIO, *, mapped: bool = True) -> int:
        """Take everything readable from `src`: mapped if it is a large file, else read.

        A large regular file is encrypted from the page cache in place
        (`crypto.envelope.pipeline.mapped_input`) unless `mapped` is False;
        anything else is read into one buffer reused for every batch of chunks.
        The chunk read last waits until more input follows it, or becomes the
        pending chunk; no other chunk is copied on its way to libsodium. A
        mapped file that shrinks or fails underneath (a USB stick pulled out)
        kills the process with SIGBUS rather than raising: pass `mapped=False`
        for files that may live on removable media.
        """
        if self._done:
            raise CryptoError("envelope is already finished")
        readinto = getattr(src, "readinto", None)
        total = 0
        self._output.write_behind = True
        if not self._pending and readinto is not None:
            with mapped_input(src if mapped else None) as windows:
                if windows is None:
                    total = self._read_batches(readinto)
                for window, last in windows or ():
                    total += self._push_but_last(window) if last else self._push_all(window)
        while block := src.read(C.CHUNK_BYTES):  # what a growing file added since
            total += self.write(block)
        return total

    def _read_batches(self, readinto: Readinto) -> int:
        """Read and seal batches of whole chunks into two buffers, each reused throughout."""
        current, following = (memoryview(bytearray(_READ_BATCH)) for _ in range(2))
        batch = current[: read_full(readinto, current)]
        total = 0
        while len(batch) == _READ_BATCH:
            more = following[: read_full(readinto, following)]
            if not more:
                break
            total += self._push_all(batch)
            current, following, batch = following, current, more
        return total + self._push_but_last(batch)

    def _push_but_last(self, content: memoryview) -> int:
        """Seal `content` but its last chunk, which stays pending (copied: the view goes)."""
        last = (max(len(content) - 1, 0) // C.CHUNK_BYTES) * C.CHUNK_BYTES
        self._push_all(content[:last])
        self._pending = bytes(content[last:])
        self._length += len(content) - last
        return len(content)

    def _push_all(self, batch: memoryview) -> int:
        """Push whole chunks of content that more content follows; return the bytes pushed."""
        for start in range(0, len(batch), C.CHUNK_BYTES):
            self._push(batch[start : start + C.CHUNK_BYTES], _TAG_MESSAGE)
        self._length += len(batch)
        return len(batch)

    def finish(self) -> SealResult:
        """Pad, write the trailer and the final chunk, then sign if asked."""
        if self._done:
            raise CryptoError("envelope is already finished")
        self._done = True
        trailer = encode_trailer(self._record, self._length)
        unpadded = self._emitted + len(self._pending) + len(trailer)
        padding = padded_size(unpadded, C.MIN_PADDED_BYTES) - unpadded
        try:
            for index, (chunk, last) in enumerate(_last_chunks(self._pending, padding, trailer)):
                # The first of these holds the end of the content: PUSH marks it,
                # unless it is also the last chunk, which FINAL marks.
                tag = _TAG_FINAL if last else (_TAG_PUSH if index == 0 else _TAG_MESSAGE)
                self._push(chunk, tag)
            self._pending = b""
            if self._signer is not None:
                digest = self._output.digest()
                self._output.write(self._signer.sign(self._version.signature_context, digest))
            self._output.close()
        except BaseException:
            self._output.abandon()
            raise
        return SealResult(length=self._length, envelope_size=self._output.written)

    def abort(self) -> None:
        """Stop without sealing the last chunk; what was written will never open."""
        self._done = True
        self._pending = b""
        self._output.abandon()

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
            self._holding = memoryview(bytearray(C.CHUNK_BYTES))
        have = len(start)
        if not (isinstance(start, memoryview) and start.obj is self._holding.obj):
            self._holding[:have] = start
        self._holding[have : have + len(more)] = more
        return self._holding[: have + len(more)]

    def _push(self, chunk: Buffer, tag: int) -> None:
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
    mapped: bool = True,
) -> SealResult:
    """Seal everything readable from `src` into `dst` (`mapped`: see `write_from`)."""
    with SealingWriter(dst, recipients, metadata, signer=signer) as writer:
        writer.write_from(src, mapped=mapped)
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
