"""Helpers for the crypto tests: envelope anatomy, bit flips, reference re-implementations.

The re-implementations follow docs/PROTOCOL.md with hashlib only, so a test that
compares them with `crypto/` checks the code against the specification rather
than against itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from crypto import (
    CryptoError,
    DecryptionError,
    FormatError,
    UnsupportedVersionError,
    VerificationError,
    open_envelope,
    read_header,
)
from crypto import constants as C
from crypto.envelope.header import Identity

BLOCK = C.CHUNK_BYTES + C.STREAM_ABYTES


@dataclass(frozen=True)
class Parts:
    """An envelope cut at its boundaries: header, stream header, chunks, signature."""

    header: bytes
    stream_header: bytes
    chunks: tuple[bytes, ...]
    signature: bytes

    @property
    def payload_start(self) -> int:
        """Offset of the first chunk."""
        return len(self.header) + len(self.stream_header)

    def chunk_boundaries(self) -> list[int]:
        """Offsets where each chunk starts, then the offset just past the last chunk."""
        offsets = [self.payload_start]
        for chunk in self.chunks:
            offsets.append(offsets[-1] + len(chunk))
        return offsets

    def join(self, chunks: tuple[bytes, ...] | None = None) -> bytes:
        """Reassemble, optionally with other chunks."""
        body = b"".join(self.chunks if chunks is None else chunks)
        return self.header + self.stream_header + body + self.signature


def split_envelope(envelope: bytes) -> Parts:
    """Cut a well-formed envelope into its parts."""
    header = read_header(io.BytesIO(envelope))
    signed = header.signer is not None
    start = len(header.raw)
    stream_header = envelope[start : start + C.STREAM_HEADER_BYTES]
    end = len(envelope) - (C.SIGNATURE_BYTES if signed else 0)
    payload = envelope[start + C.STREAM_HEADER_BYTES : end]
    chunks = tuple(payload[i : i + BLOCK] for i in range(0, len(payload), BLOCK))
    return Parts(header.raw, stream_header, chunks, envelope[end:])


def flip(data: bytes, position: int, bit: int) -> bytes:
    """Return `data` with one bit inverted."""
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


@dataclass(frozen=True)
class Flips:
    """What flipping one bit of each byte of an envelope did, position by position."""

    accepted: list[int]
    leaked: list[int]  # refused, but only after some plaintext was written out
    wrong_error: list[tuple[int, str]]


def flip_every_byte(envelope: bytes, identity: Identity) -> Flips:
    """Flip one bit of each byte in turn and open every copy with `identity`.

    Each copy must be refused with the error its place calls for: in the header
    malformed or undecryptable, in the payload undecryptable, in the signature
    unverifiable; and none may write a byte of plaintext first.
    """
    parts = split_envelope(envelope)
    signature_start = len(envelope) - len(parts.signature)
    flips = Flips([], [], [])
    for position in range(len(envelope)):
        out = io.BytesIO()
        try:
            open_envelope(io.BytesIO(flip(envelope, position, position % 8)), out, [identity])
        except (FormatError, UnsupportedVersionError, DecryptionError, VerificationError) as exc:
            if out.getvalue():
                flips.leaked.append(position)
            if position >= signature_start:
                expected: tuple[type[CryptoError], ...] = (VerificationError,)
            elif position >= len(parts.header):
                expected = (DecryptionError,)
            else:
                expected = (FormatError, DecryptionError)
            if not isinstance(exc, expected):
                flips.wrong_error.append((position, type(exc).__name__))
            continue
        flips.accepted.append(position)
    return flips


def expected_envelope_size(content: int, record: int, recipients: int, signed: bool) -> int:
    """PROTOCOL.md §5.10: the size of an envelope, from lengths alone."""
    inner = reference_padme(max(content + record + C.TRAILER_FIXED_BYTES, C.MIN_PADDED_BYTES))
    chunks = -(-inner // C.CHUNK_BYTES)
    header = 20 + 130 * recipients + 55 * signed + 48
    return header + C.STREAM_HEADER_BYTES + inner + C.STREAM_ABYTES * chunks + 64 * signed


def reference_padme(length: int) -> int:
    """Padmé as the paper writes it, with logarithms spelled out (PROTOCOL.md §6)."""
    if length < 2:
        return length
    e = 0
    while (1 << (e + 1)) <= length:
        e += 1
    s = 0
    while (1 << (s + 1)) <= e:
        s += 1
    s += 1
    z = e - s
    step = 1 << z
    return -(-length // step) * step


def reference_checksum_word(words: list[str], wordlist: tuple[str, ...]) -> str:
    """PROTOCOL.md §7.2: the checksum word of seven codename words."""
    digest = hashlib.blake2b(
        " ".join(words).encode("ascii"), digest_size=8, person=b"rz-codename-chk1"
    ).digest()
    return wordlist[int.from_bytes(digest, "big") % len(wordlist)]


def reference_key_text(prefix: str, raw: bytes) -> str:
    """PROTOCOL.md §4.1: a key's text form, checksum and all."""
    check = hashlib.blake2b(
        prefix.encode("ascii") + raw, digest_size=4, person=b"rz-key-text-v1"
    ).digest()
    return prefix + base64.urlsafe_b64encode(raw + check).rstrip(b"=").decode("ascii")


def secret_renderings(secret: bytes) -> list[str]:
    """The ways a secret's bytes could show up in text: hex, base64 in both alphabets."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret),
    ]
