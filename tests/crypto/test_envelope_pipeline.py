"""Sealing a large input (mapped, written behind on a thread): the same envelope as
sealing a small one, errors where the caller sees them, and no thread left behind."""

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
from crypto.envelope import pipeline
from tests.crypto.support import expected_envelope_size

CHUNK = C.CHUNK_BYTES
META = Metadata(kind="file", content_type="application/pdf", filename="report.pdf")
RECORD = len(META.encode())
ALICE = PrivateKey(bytes(range(32)))
SIGNER = SigningKey(bytes(range(32, 64)))
BATCH = 4 * CHUNK
MAP = pipeline._MAP_AT_LEAST
# Around a batch read, the move to the writer thread, the least input mapped, and beyond.
SIZES = {
    "batch-minus-one": BATCH - 1,
    "batch": BATCH,
    "batch-plus-one": BATCH + 1,
    "direct-limit": pipeline._DIRECT_BLOCKS * CHUNK,
    "direct-limit-plus-one": pipeline._DIRECT_BLOCKS * CHUNK + 1,
    "mapped-minus-one": MAP - 1,
    "mapped-least": MAP,
    "mapped-plus-one": MAP + 1,
    "windows-and-a-bit": 2 * pipeline._WINDOW + CHUNK + 1,
    "many-batches-and-a-bit": 7 * BATCH + 3 * CHUNK + 5,
}


def _content(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def _envelope_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("envelope-")]


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
    assert not _envelope_threads()


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_streamed_writes_stay_on_the_callers_thread(signed: bool) -> None:
    """A server's upload is sealed on its request thread: the other cores serve others."""
    plaintext = _content(5 * BATCH + 12345)
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META, signer=SIGNER if signed else None) as writer:
        for start in range(0, len(plaintext), 50_000):
            writer.write(plaintext[start : start + 50_000])
        assert not _envelope_threads()

    assert open_bytes(out.getvalue(), [ALICE])[0] == plaintext


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_file_handed_over_then_more_writes_open_to_the_same_bytes(signed: bool) -> None:
    """After `write_from` has started the writer thread, later writes go through it in order."""
    first, rest = _content(5 * BATCH + 3), _content(2 * BATCH + 99)[::-1]
    out = io.BytesIO()

    with SealingWriter(out, [ALICE.public_key], META, signer=SIGNER if signed else None) as writer:
        writer.write_from(io.BytesIO(first))
        assert _envelope_threads()
        writer.write(rest[:1000])
        writer.write(rest[1000:])

    assert open_bytes(out.getvalue(), [ALICE])[0] == first + rest
    assert not _envelope_threads()


def test_a_mapped_file_is_sealed_from_where_it_stands(tmp_path: Path) -> None:
    """What the caller already read of a file is not sealed again."""
    plaintext = _content(MAP + 3 * CHUNK + 1)
    path = tmp_path / "in"
    path.write_bytes(plaintext)
    out = io.BytesIO()

    with path.open("rb") as src:
        src.read(4321)
        seal(src, out, [ALICE.public_key], META)

    assert open_bytes(out.getvalue(), [ALICE])[0] == plaintext[4321:]


def test_a_full_disk_on_the_writer_thread_fails_the_seal() -> None:
    plaintext = _content(6 * BATCH)
    dst = _FailingAfter(limit=3 * BATCH)

    with pytest.raises(OSError, match="disk full"):
        seal(io.BytesIO(plaintext), dst, [ALICE.public_key], META)  # type: ignore[arg-type]

    assert not _envelope_threads()


def test_a_full_disk_while_sealing_a_mapped_file_is_the_error_raised(tmp_path: Path) -> None:
    """The mapping is let go without hiding the error (no BufferError from views in flight)."""
    path = tmp_path / "in"
    path.write_bytes(_content(3 * MAP))

    with path.open("rb") as src, pytest.raises(OSError, match="disk full"):
        seal(src, _FailingAfter(limit=MAP + 3), [ALICE.public_key], META)  # type: ignore[arg-type]

    assert not _envelope_threads()


def test_a_read_error_fails_the_seal_and_leaves_no_envelope() -> None:
    src = _FailingAfter(limit=3 * BATCH + 10, data=_content(6 * BATCH))
    out = io.BytesIO()

    with pytest.raises(OSError, match="read failed"):
        seal(src, out, [ALICE.public_key], META)  # type: ignore[arg-type]

    assert not _envelope_threads()
    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_an_aborted_envelope_stops_its_writer_and_never_opens() -> None:
    out = io.BytesIO()
    writer = SealingWriter(out, [ALICE.public_key], META)
    writer.write_from(io.BytesIO(_content(4 * BATCH)))
    assert _envelope_threads()

    writer.abort()

    assert not _envelope_threads()
    with pytest.raises(DecryptionError):
        open_bytes(out.getvalue(), [ALICE])


def test_a_small_envelope_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report is sealed on the caller's thread: a thread would cost more than it saves."""

    def no_thread(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a thread was started")

    monkeypatch.setattr(threading, "Thread", no_thread)
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


@pytest.mark.parametrize("mapped", [True, False])
def test_a_large_file_is_mapped_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool
) -> None:
    """`mapped=False` (the source's client: files on removable media) reads, never maps."""
    data = bytes(range(256)) * (MAP // 256 + 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    maps: list[int] = []
    real = mmap.mmap

    def counting(*args: Any, **kwargs: Any) -> Any:
        maps.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mmap, "mmap", counting)
    out = io.BytesIO()
    with path.open("rb") as src:
        seal(src, out, [ALICE.public_key], META, mapped=mapped)
    assert bool(maps) is mapped
    assert open_bytes(out.getvalue(), [ALICE])[0] == data
