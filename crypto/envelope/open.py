"""Opening: one pass that checks the header MAC, every chunk and any sender signature.

Plaintext leaves only through the caller's stream. The chunk in which the content
ends is held back until the final chunk (and the signature, if any) verifies;
`open_to_path` goes further and publishes nothing until the whole envelope checks.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import os
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import nacl.bindings as sodium

from crypto import constants as C
from crypto.encoding import blake2b_hasher
from crypto.envelope.header import (
    Header,
    Identity,
    header_mac,
    parse_header,
    payload_key,
    unwrap_file_key,
)
from crypto.envelope.metadata import Metadata, decode_trailer_sizes
from crypto.envelope.secretstream import Buffer, Puller
from crypto.envelope.stream import BLOCK, EnvelopeReader
from crypto.errors import DecryptionError, FormatError, VerificationError
from crypto.keys import VerifyKey
from crypto.padding import padded_size

_TAG_MESSAGE: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_PUSH: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH
_TAG_FINAL: Final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_BLOCK: Final = BLOCK
_ZEROS: Final = bytes(C.CHUNK_BYTES + C.TRAILER_MAX_BYTES)


@dataclass(frozen=True, slots=True)
class Opened:
    """What opening an envelope yields besides the plaintext."""

    metadata: Metadata
    length: int
    signer: VerifyKey | None


def read_header(src: BinaryIO) -> Header:
    """Parse an envelope's header without any key (to see its recipients and signer)."""
    return parse_header(EnvelopeReader(src))


def verify_signature(src: BinaryIO, trusted: Collection[VerifyKey]) -> VerifyKey:
    """Check a signed envelope's sender signature without decrypting it."""
    reader = EnvelopeReader(src)
    header = parse_header(reader)
    _check_signer(header, trusted, required=True)
    hasher = _start_signature_check(reader, header)
    while not reader.read_block(_BLOCK)[1]:
        pass
    return _verify_tail(reader, header, hasher)


class HeldEnvelope:
    """An envelope whose header is read once, before any key is tried, then opened once.

    A caller that must see the recipients first (to pick its keys, or to keep an
    envelope it cannot open) reads them from `header` without parsing it twice.
    The header is only a claim until `open` has checked its MAC.
    """

    __slots__ = ("_reader", "_spent", "header")

    def __init__(self, src: BinaryIO) -> None:
        self._reader = EnvelopeReader(src)
        self.header: Final = parse_header(self._reader)
        self._spent = False

    def open(
        self,
        dst: BinaryIO,
        identities: Iterable[Identity],
        *,
        trusted_signers: Collection[VerifyKey] | None = None,
    ) -> Opened:
        """Decrypt into `dst`, as `open_envelope` does; a second call is refused."""
        if self._spent:
            raise FormatError("an envelope is read once: open it from its source again")
        self._spent = True
        return _open(self._reader, self.header, dst, identities, trusted_signers)


def open_envelope(
    src: BinaryIO,
    dst: BinaryIO,
    identities: Iterable[Identity],
    *,
    trusted_signers: Collection[VerifyKey] | None = None,
) -> Opened:
    """Decrypt `src` into `dst` with whichever of `identities` it was sealed to.

    With `trusted_signers`, the envelope must be signed by one of them; a signed
    envelope's signature is always checked. On any error `dst` may hold a prefix
    of the content: callers that write to disk should use `open_to_path`.
    """
    return HeldEnvelope(src).open(dst, identities, trusted_signers=trusted_signers)


def _open(
    reader: EnvelopeReader,
    header: Header,
    dst: BinaryIO,
    identities: Iterable[Identity],
    trusted_signers: Collection[VerifyKey] | None,
) -> Opened:
    """Check and decrypt everything after a header already parsed from `reader`."""
    _check_signer(header, trusted_signers, required=trusted_signers is not None)
    hasher = _start_signature_check(reader, header) if header.signer is not None else None
    file_key = unwrap_file_key(header, list(identities))
    stream_header = reader.read(C.STREAM_HEADER_BYTES)
    if len(stream_header) != C.STREAM_HEADER_BYTES:
        raise DecryptionError("envelope is truncated")
    expected = header_mac(file_key, header.mac_input, stream_header, header.version)
    if not hmac.compare_digest(expected, header.mac):
        raise DecryptionError("header MAC does not verify")
    puller = Puller(stream_header, payload_key(file_key, header.version))
    inner = _InnerParser(dst)
    while True:
        block, last = reader.read_block(_BLOCK)
        chunk, tag = _pull(puller, block)
        if tag == _TAG_FINAL and not last:
            raise DecryptionError("data follows the final chunk")
        if last and tag != _TAG_FINAL:
            raise DecryptionError("envelope is truncated: no final chunk")
        if tag == _TAG_FINAL:
            break
        inner.feed(chunk, tag == _TAG_PUSH)
    if header.signer is not None:
        _verify_tail(reader, header, hasher)
    metadata, length = inner.finish(chunk)
    return Opened(metadata=metadata, length=length, signer=header.signer)


def open_bytes(
    envelope: bytes,
    identities: Iterable[Identity],
    *,
    trusted_signers: Collection[VerifyKey] | None = None,
) -> tuple[bytes, Opened]:
    """Open an in-memory envelope; returns the plaintext only if everything verifies."""
    out = io.BytesIO()
    opened = open_envelope(io.BytesIO(envelope), out, identities, trusted_signers=trusted_signers)
    return out.getvalue(), opened


def open_to_path(
    src: BinaryIO,
    target: str | os.PathLike[str],
    identities: Iterable[Identity],
    *,
    trusted_signers: Collection[VerifyKey] | None = None,
) -> Opened:
    """Decrypt into a temporary file beside `target`, renamed into place only on success."""
    path = Path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            opened = open_envelope(src, out, identities, trusted_signers=trusted_signers)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        _destroy_part(tmp_name)
        raise
    return opened


def _destroy_part(name: str) -> None:
    """Zero what a failed open wrote (plaintext nothing verified), then unlink it.

    Best effort: flash and copy-on-write filesystems may keep the old blocks.
    """
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(name, os.O_WRONLY)
        try:
            size = os.fstat(fd).st_size
            for offset in range(0, size, len(_ZEROS)):
                os.pwrite(fd, _ZEROS[: size - offset], offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(name)


def _pull(puller: Puller, block: Buffer) -> tuple[memoryview, int]:
    chunk, tag = puller.pull(block)
    if tag not in (_TAG_MESSAGE, _TAG_PUSH, _TAG_FINAL):
        raise DecryptionError("chunk carries an unknown tag")
    return chunk, tag


def _check_signer(header: Header, trusted: Collection[VerifyKey] | None, *, required: bool) -> None:
    if header.signer is None:
        if required:
            raise VerificationError("signer", "envelope is not signed")
        return
    if trusted is not None and header.signer not in trusted:
        raise VerificationError("signer", "envelope is signed by a key that is not trusted")


def _start_signature_check(reader: EnvelopeReader, header: Header) -> Any:
    """Hash the header and, from here on, every byte but the 64-byte signature tail."""
    hasher = blake2b_hasher(person=header.version.person_signed, size=64)
    hasher.update(header.raw)
    reader.hold_tail(C.SIGNATURE_BYTES, hasher)
    return hasher


def _verify_tail(reader: EnvelopeReader, header: Header, hasher: Any) -> VerifyKey:
    assert header.signer is not None  # noqa: S101 - callers check this first
    try:
        signature = reader.tail()
    except FormatError as exc:
        raise VerificationError("signature", "signature is missing or misplaced") from exc
    header.signer.verify(header.version.signature_context, hasher.digest(), signature)
    return header.signer


class _InnerParser:
    """Split the decrypted stream into content, zero padding and the trailer."""

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._offset = 0  # inner bytes seen before the current chunk
        self._written = 0  # content bytes already written
        self._held: bytes | None = None  # the chunk in which the content ends
        self._held_offset = 0
        self._tail = b""  # the last bytes after the held chunk, not yet zero-checked

    def feed(self, chunk: Buffer, push: bool) -> None:
        """Take a non-final chunk; `push` marks the chunk in which the content ends."""
        if push and self._held is not None:
            raise FormatError("more than one chunk marks the end of the content")
        self._take(chunk, ends_content=push)

    def finish(self, final: Buffer) -> tuple[Metadata, int]:
        """Take the final chunk, check the trailer and padding, release the held content."""
        self._take(final, ends_content=self._held is None)
        assert self._held is not None  # noqa: S101 - _take sets it
        rest = self._held + self._tail
        if len(rest) < C.TRAILER_FIXED_BYTES:
            raise FormatError("inner plaintext is too short")
        record_length, length = decode_trailer_sizes(rest[-C.TRAILER_FIXED_BYTES :])
        trailer_length = record_length + C.TRAILER_FIXED_BYTES
        if record_length > C.METADATA_MAX_BYTES or trailer_length > len(rest):
            raise FormatError("metadata record length is out of range")
        metadata = Metadata.decode(rest[-trailer_length : -C.TRAILER_FIXED_BYTES])
        if padded_size(length + trailer_length, C.MIN_PADDED_BYTES) != self._offset:
            raise FormatError("inner plaintext is not padded as the format requires")
        if max(length - 1, 0) // C.CHUNK_BYTES != self._held_offset // C.CHUNK_BYTES:
            raise FormatError("content does not end in the chunk marked as its end")
        keep = length - self._written
        if not 0 <= keep <= min(len(self._held), len(rest) - trailer_length):
            raise FormatError("content length does not match the chunks")
        pad = rest[keep:-trailer_length]
        if pad != _ZEROS[: len(pad)]:
            raise FormatError("padding is not all zeros")
        self._dst.write(self._held[:keep])
        return metadata, length

    def _take(self, chunk: Buffer, *, ends_content: bool) -> None:
        if not chunk:
            raise FormatError("empty chunk")
        if self._held is not None:
            self._padding(chunk)
        elif ends_content:
            self._held = bytes(chunk)  # the view's buffer is reused for the next chunk
            self._held_offset = self._offset
        else:
            self._dst.write(chunk)
            self._written += len(chunk)
        self._offset += len(chunk)

    def _padding(self, chunk: Buffer) -> None:
        data = self._tail + chunk
        cut = max(len(data) - C.TRAILER_MAX_BYTES, 0)
        if data[:cut] != _ZEROS[:cut]:
            raise FormatError("padding is not all zeros")
        self._tail = data[cut:]
