"""Sealing a large input (read a chunk at a time into the pusher's inboxes): the same
envelope as sealing a small one, errors where the caller sees them, no thread, no mapping."""

from __future__ import annotations

import errno
import io
import mmap
import threading
from pathlib import Path
from typing import Any

import pytest

from crypto import (
    DecryptionError,
    Metadata,
    PrivateKey,
    SealingWriter,
    SigningKey,
    open_bytes,
    seal,
    seal_bytes,
)
from crypto import constants as C
from tests.crypto.support import expected_envelope_size

CHUNK = C.CHUNK_BYTES
META = Metadata(kind="file", content_type="application/pdf", filename="report.pdf")
RECORD = len(META.encode())
ALICE = PrivateKey(bytes(range(32)))
SIGNER = SigningKey(bytes(range(32, 64)))
# Around one chunk and the two inboxes, whole chunks, and many with a bit more.
SIZES = {
    "empty": 0,
    "chunk-minus-one": CHUNK - 1,
    "chunk": CHUNK,
    "chunk-plus-one": CHUNK + 1,
    "two-chunks": 2 * CHUNK,
    "three-chunks-plus-one": 3 * CHUNK + 1,
    "many-chunks": 20 * CHUNK,
    "many-chunks-and-a-bit": 37 * CHUNK + 5,
}


def _content(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


@pytest.fixture(autouse=True)
def _no_thread_no_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sealing starts no thread and maps nothing: a file pulled away underneath (a USB
    stick) must be an error, not SIGBUS; and OpenSSL's AEAD holds the GIL anyway."""

    def refused(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("sealing started a thread or mapped a file")

    monkeypatch.setattr(threading, "Thread", refused)
    monkeypatch.setattr(mmap, "mmap", refused)


class _FailingAfter(io.RawIOBase):
    """A stream that takes or gives `limit` bytes, then fails as a full or broken disk does."""

    def __init__(self, limit: int, data: bytes = b"") -> None:
        self._limit, self._data, self.count = limit, data, 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), len(self._data) - self.count)
        if self.count + size > self._limit:
            raise OSError(errno.EIO, "read failed")
        buffer[:size] = self._data[self.count : self.count + size]
        self.count += size
        return size

    def write(self, data: Any) -> int:
        if self.count + len(data) > self._limit:
            raise OSError(errno.ENOSPC, "disk full")
        self.count += len(data)
        return len(data)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES)
@pytest.mark.parametrize("kind", ["file", "stream"])
def test_a_large_input_sealed_opens_to_the_same_bytes(
    size: int, signed: bool, kind: str, tmp_path: Path
) -> None:
    plaintext = _content(size)
    out = io.BytesIO()
    signer = SIGNER if signed else None
    path = tmp_path / "in"
    path.write_bytes(plaintext)

    with path.open("rb") if kind == "file" else io.BytesIO(plaintext) as src:
        result = seal(src, out, [ALICE.public_key], META, signer=signer)
        assert src.read() == b""  # everything was taken

    trusted = [SIGNER.verify_key] if signed else None
    assert open_bytes(out.getvalue(), [ALICE], trusted_signers=trusted)[0] == plaintext
    assert result.length == size
    assert result.envelope_size == len(out.getvalue())
    assert len(out.getvalue()) == expected_envelope_size(size, RECORD, 1, signed)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_file_handed_over_then_more_writes_open_to_the_same_bytes(signed: bool) -> None:
    first, rest = _content(5 * CHUNK + 3), _content(2 * CHUNK + 99)[::-1]
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META, signer=SIGNER if signed else None) as writer:
        writer.write_from(io.BytesIO(first))
        writer.write(rest[:1000])
        writer.write(rest[1000:])

    assert open_bytes(out.getvalue(), [ALICE])[0] == first + rest


def test_writes_then_a_file_handed_over_keep_the_order() -> None:
    """A part chunk already pending is filled from the file first (no inbox read then)."""
    first, rest = _content(CHUNK + 100), _content(4 * CHUNK + 7)[::-1]
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META) as writer:
        writer.write(first)
        writer.write_from(io.BytesIO(rest))

    assert open_bytes(out.getvalue(), [ALICE])[0] == first + rest


def test_a_file_is_sealed_from_where_it_stands(tmp_path: Path) -> None:
    """What the caller already read of a file is not sealed again."""
    plaintext = _content(5 * CHUNK + 1)
    path = tmp_path / "in"
    path.write_bytes(plaintext)
    out = io.BytesIO()

    with path.open("rb") as src:
        src.read(4321)
        seal(src, out, [ALICE.public_key], META)

    assert open_bytes(out.getvalue(), [ALICE])[0] == plaintext[4321:]


def test_a_full_disk_fails_the_seal() -> None:
    dst = _FailingAfter(limit=3 * CHUNK)

    with pytest.raises(OSError, match="disk full"):
        seal(io.BytesIO(_content(6 * CHUNK)), dst, [ALICE.public_key], META)  # type: ignore[arg-type]


def test_a_read_error_fails_the_seal_and_leaves_no_envelope() -> None:
    src = _FailingAfter(limit=3 * CHUNK + 10, data=_content(6 * CHUNK))
    out = io.BytesIO()

    with pytest.raises(OSError, match="read failed"):
        seal(src, out, [ALICE.public_key], META)  # type: ignore[arg-type]

    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_an_aborted_envelope_never_opens() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    writer.write_from(io.BytesIO(_content(4 * CHUNK)))

    writer.abort()

    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_a_small_envelope_opens() -> None:
    plaintext = _content(C.MIN_PADDED_BYTES)

    envelope = seal_bytes(plaintext, [ALICE.public_key], META)
    out = io.BytesIO()
    seal(io.BytesIO(plaintext), out, [ALICE.public_key], META)

    assert open_bytes(envelope, [ALICE])[0] == plaintext
    assert open_bytes(out.getvalue(), [ALICE])[0] == plaintext


@pytest.mark.parametrize("step", [1000, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 7])
def test_a_buffer_the_caller_reuses_after_each_write_changes_nothing_sealed(step: int) -> None:
    """Pending parts of chunks are kept in the writer's own buffer, never the caller's."""
    plaintext = _content(12 * CHUNK + 5)
    reused = bytearray(step)
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META) as writer:
        for start in range(0, len(plaintext), step):
            piece = plaintext[start : start + step]
            reused[: len(piece)] = piece
            writer.write(memoryview(reused)[: len(piece)])
            reused[:] = bytes(len(reused))  # the caller scribbles over its buffer

    assert open_bytes(out.getvalue(), [ALICE])[0] == plaintext
