"""Envelopes: round trips at every boundary, recipients, signatures, streaming, sizes."""

from __future__ import annotations

import hashlib
import importlib
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    DecryptionError,
    FormatError,
    Metadata,
    PrivateKey,
    SealingWriter,
    SigningKey,
    open_bytes,
    open_envelope,
    read_header,
    seal,
    seal_bytes,
)
from crypto import constants as C
from crypto.padding import padded_size
from tests.crypto.support import BLOCK, expected_envelope_size, split_envelope

CHUNK = C.CHUNK_BYTES
META = Metadata(kind="message", content_type="text/plain; charset=utf-8")
RECORD = len(META.encode())
TRAILER = RECORD + C.TRAILER_FIXED_BYTES
# Keys for property tests (hypothesis does not mix with function-scoped fixtures).
POOL = [PrivateKey(bytes([10 + i]) * 32) for i in range(8)]
SIGNER = SigningKey(bytes(range(32, 64)))

# The module's own handle on libsodium (for the tag values), and the pusher a test watches.
sodium = importlib.import_module("crypto.envelope.seal").sodium
secretstream = importlib.import_module("crypto.envelope.secretstream")
TAG_LETTERS = {
    sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: "M",
    sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH: "P",
    sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL: "F",
}
# Content sizes at every boundary of the content and of the padded inner stream.
BOUNDARY_SIZES = {
    "empty": 0,
    "one-byte": 1,
    "floor-exactly": C.MIN_PADDED_BYTES - TRAILER,
    "floor-plus-one": C.MIN_PADDED_BYTES - TRAILER + 1,
    "inner-chunk-minus-one": CHUNK - TRAILER - 1,
    "inner-chunk-exactly": CHUNK - TRAILER,
    "inner-chunk-plus-one": CHUNK - TRAILER + 1,
    "chunk-minus-one": CHUNK - 1,
    "chunk-exactly": CHUNK,
    "chunk-plus-one": CHUNK + 1,
    "two-chunks-minus-one": 2 * CHUNK - 1,
    "two-chunks-exactly": 2 * CHUNK,
    "two-chunks-plus-one": 2 * CHUNK + 1,
    "two-inner-chunks-exactly": 2 * CHUNK - TRAILER,
    "three-chunks-and-some": 3 * CHUNK + 12_345,
}
MULTI_MEGABYTE_SIZES = {
    "5-mib": 5 * 1024**2,
    # Above 8 MiB the padding spans whole chunks: PUSH, then MESSAGE chunks of zeros.
    "9-mib-plus-one": 9 * 1024**2 + 1,
}


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible test content."""
    return hashlib.shake_256(seed.to_bytes(8, "big")).digest(size)


def _as_buffer(data: bytes, kind: str) -> bytes | bytearray | memoryview:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(bytearray(data))
    return data


def _round_trip(size: int, signed: bool, recipients: list[PrivateKey]) -> None:
    plaintext = pattern(size, size)
    signer = SIGNER if signed else None

    envelope = seal_bytes(plaintext, [r.public_key for r in recipients], META, signer=signer)

    assert len(envelope) == expected_envelope_size(size, RECORD, len(recipients), signed)
    for recipient in recipients:
        opened_plaintext, opened = open_bytes(envelope, [recipient])
        assert opened_plaintext == plaintext
        assert opened.length == size
        assert opened.metadata == META
        assert opened.signer == (SIGNER.verify_key if signed else None)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", BOUNDARY_SIZES.values(), ids=BOUNDARY_SIZES)
def test_round_trip_at_every_boundary(size: int, signed: bool) -> None:
    _round_trip(size, signed, POOL[:2])


@pytest.mark.slow
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", MULTI_MEGABYTE_SIZES.values(), ids=MULTI_MEGABYTE_SIZES)
def test_round_trip_of_multi_megabyte_files(size: int, signed: bool, tmp_path: Path) -> None:
    plaintext = pattern(size, 7)
    source, sealed, opened_path = tmp_path / "in", tmp_path / "in.rze", tmp_path / "out"
    source.write_bytes(plaintext)
    signer = SIGNER if signed else None

    with source.open("rb") as src, sealed.open("wb") as dst:
        result = seal(src, dst, [POOL[0].public_key, POOL[1].public_key], META, signer=signer)
    with sealed.open("rb") as src, opened_path.open("wb") as dst:
        opened = open_envelope(
            src, dst, [POOL[1]], trusted_signers=[SIGNER.verify_key] if signed else None
        )

    assert opened_path.read_bytes() == plaintext
    assert opened.length == result.length == size
    assert result.envelope_size == sealed.stat().st_size
    assert sealed.stat().st_size == expected_envelope_size(size, RECORD, 2, signed)


@pytest.mark.parametrize(
    ("size", "tags"),
    [
        (0, "F"),
        (CHUNK - TRAILER, "F"),
        (CHUNK - TRAILER + 1, "PF"),
        (CHUNK, "PF"),
        (CHUNK + 1, "MF"),
        (2 * CHUNK - 10, "MPF"),
        pytest.param(9 * 1024**2 + 1, "M" * 144 + "P" + "M" * 2 + "F", marks=pytest.mark.slow),
    ],
    ids=[
        "empty",
        "one-full-chunk",
        "trailer-spills",
        "content-fills-chunk",
        "one-byte-over",
        "push",
        "padding-spans-chunks",
    ],
)
def test_chunks_and_tags_follow_the_padded_inner_length(
    size: int, tags: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROTOCOL.md §5.5: ⌈T / 65536⌉ chunks, all full but the last; PUSH where content ends."""
    pushed: list[int] = []
    push = secretstream.Pusher.push

    def recording_push(self: object, chunk: bytes, tag: int, **into: memoryview) -> memoryview:
        pushed.append(tag)
        return push(self, chunk, tag, **into)  # type: ignore[no-any-return]

    monkeypatch.setattr(secretstream.Pusher, "push", recording_push)

    parts = split_envelope(seal_bytes(pattern(size), [POOL[0].public_key], META))
    inner = padded_size(size + TRAILER, C.MIN_PADDED_BYTES)

    assert "".join(TAG_LETTERS[t] for t in pushed) == tags
    assert len(parts.chunks) == len(tags) == -(-inner // CHUNK)
    assert all(len(c) == BLOCK for c in parts.chunks[:-1])
    assert len(parts.chunks[-1]) == inner - CHUNK * (len(tags) - 1) + C.STREAM_ABYTES


@settings(max_examples=40, deadline=None)
@given(plaintext=st.binary(max_size=6000), signed=st.booleans())
def test_any_small_plaintext_round_trips(plaintext: bytes, signed: bool) -> None:
    signer = SIGNER if signed else None
    envelope = seal_bytes(plaintext, [POOL[0].public_key], META, signer=signer)

    assert open_bytes(envelope, [POOL[0]])[0] == plaintext


sizes_near_boundaries = st.one_of(
    st.integers(min_value=0, max_value=4 * CHUNK),
    st.builds(
        lambda base, delta: max(0, base + delta),
        st.sampled_from(list(BOUNDARY_SIZES.values())),
        st.integers(min_value=-3, max_value=3),
    ),
)


@settings(max_examples=25, deadline=None)
@given(size=sizes_near_boundaries, seed=st.integers(0, 2**32), signed=st.booleans())
def test_any_size_of_several_chunks_round_trips(size: int, seed: int, signed: bool) -> None:
    plaintext = pattern(size, seed)
    envelope = seal_bytes(plaintext, [POOL[0].public_key], META, signer=SIGNER if signed else None)

    opened_plaintext, opened = open_bytes(envelope, [POOL[0]])
    assert opened_plaintext == plaintext
    assert opened.length == size


@settings(max_examples=15, deadline=None)
@given(count=st.integers(min_value=1, max_value=len(POOL)), signed=st.booleans())
def test_every_recipient_can_open(count: int, signed: bool) -> None:
    recipients = POOL[:count]
    plaintext = pattern(1000, count)
    envelope = seal_bytes(
        plaintext, [r.public_key for r in recipients], META, signer=SIGNER if signed else None
    )

    header = read_header(io.BytesIO(envelope))
    assert [s.key_id for s in header.stanzas] == [
        r.public_key.fingerprint.key_id for r in recipients
    ]
    for recipient in recipients:
        assert open_bytes(envelope, [recipient])[0] == plaintext
    with pytest.raises(DecryptionError):
        open_bytes(envelope, POOL[count:] or [PrivateKey(bytes([99]) * 32)])


def test_opening_tries_every_identity_given(alice: PrivateKey, mallory: PrivateKey) -> None:
    envelope = seal_bytes(b"report", [alice.public_key], META)

    assert open_bytes(envelope, [mallory, alice])[0] == b"report"
    assert open_bytes(envelope, iter([mallory, alice]))[0] == b"report"


def test_opening_with_no_identity_fails(alice: PrivateKey) -> None:
    envelope = seal_bytes(b"report", [alice.public_key], META)

    with pytest.raises(DecryptionError):
        open_bytes(envelope, [])


@settings(max_examples=30, deadline=None)
@given(
    writes=st.lists(st.integers(min_value=0, max_value=CHUNK + 100), max_size=8),
    kinds=st.lists(st.sampled_from(["bytes", "bytearray", "memoryview"]), min_size=8, max_size=8),
    signed=st.booleans(),
)
def test_random_sized_streaming_writes_open_to_the_same_bytes(
    writes: list[int], kinds: list[str], signed: bool
) -> None:
    plaintext = pattern(sum(writes), len(writes))
    out = io.BytesIO()
    signer = SIGNER if signed else None

    with SealingWriter(out, [POOL[0].public_key], META, signer=signer) as writer:
        offset = 0
        for size, kind in zip(writes, kinds, strict=False):
            piece = plaintext[offset : offset + size]
            offset += size
            data = _as_buffer(piece, kind)
            assert writer.write(data) == size

    opened_plaintext, opened = open_bytes(out.getvalue(), [POOL[0]])
    assert opened_plaintext == plaintext
    assert opened.length == len(plaintext)
    assert len(out.getvalue()) == len(
        seal_bytes(plaintext, [POOL[0].public_key], META, signer=signer)
    )


def test_memoryview_of_wide_items_is_written_as_bytes(alice: PrivateKey) -> None:
    """`len` of a memoryview counts items: a writer that trusts it loses bytes."""
    words = memoryview(bytearray(pattern(3000))).cast("H")
    out = io.BytesIO()

    with SealingWriter(out, [alice.public_key], META) as writer:
        assert writer.write(words) == 3000

    assert open_bytes(out.getvalue(), [alice])[0] == words.tobytes()


def test_seal_streams_from_a_file_object(alice: PrivateKey) -> None:
    plaintext = pattern(3 * CHUNK + 5)
    out = io.BytesIO()

    result = seal(io.BytesIO(plaintext), out, [alice.public_key], META)

    assert result.length == len(plaintext)
    assert result.envelope_size == len(out.getvalue())
    assert open_bytes(out.getvalue(), [alice])[0] == plaintext


class _Trickle(io.RawIOBase):
    """A stream that hands out at most `step` bytes per read, as a pipe or socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._step, self._pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._step, len(self._data) - self._pos)
        buffer[:size] = self._data[self._pos : self._pos + size]
        self._pos += size
        return size


class _ReadOnly:
    """A source with `read` alone (no `readinto`)."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])
@pytest.mark.parametrize("source", ["short-reads", "read-only"])
def test_seal_reads_whole_chunks_from_any_stream(size: int, source: str, alice: PrivateKey) -> None:
    """Short reads are gathered into whole chunks; a stream without readinto is read."""
    plaintext = pattern(size)
    src = _Trickle(plaintext, 10_000) if source == "short-reads" else _ReadOnly(plaintext)
    out = io.BytesIO()

    result = seal(src, out, [alice.public_key], META)  # type: ignore[arg-type]

    parts = split_envelope(out.getvalue())
    assert result.length == size
    assert all(len(c) == BLOCK for c in parts.chunks[:-1])
    assert open_bytes(out.getvalue(), [alice])[0] == plaintext


def test_write_from_after_write_keeps_the_order(alice: PrivateKey) -> None:
    first, rest = pattern(CHUNK + 3), pattern(2 * CHUNK + 7)[::-1]
    out = io.BytesIO()

    with SealingWriter(out, [alice.public_key], META) as writer:
        writer.write(first)
        assert writer.write_from(io.BytesIO(rest)) == len(rest)

    assert open_bytes(out.getvalue(), [alice])[0] == first + rest


@settings(max_examples=25, deadline=None)
@given(size=sizes_near_boundaries, recipients=st.integers(1, 3), signed=st.booleans())
def test_envelope_size_depends_only_on_the_padded_length(
    size: int, recipients: int, signed: bool
) -> None:
    keys = [k.public_key for k in POOL[:recipients]]
    signer = SIGNER if signed else None

    first = seal_bytes(pattern(size, 1), keys, META, signer=signer)
    second = seal_bytes(pattern(size, 2), keys, META, signer=signer)

    assert len(first) == len(second)
    assert len(first) == expected_envelope_size(size, RECORD, recipients, signed)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (0, 4000),
        (1, C.MIN_PADDED_BYTES - TRAILER),
        (CHUNK - 1000, CHUNK - TRAILER),
        (70_000, 71_000),
    ],
)
def test_lengths_in_one_padme_class_give_one_envelope_size(a: int, b: int) -> None:
    key = [POOL[0].public_key]

    assert len(seal_bytes(pattern(a), key, META)) == len(seal_bytes(pattern(b), key, META))


def test_every_short_envelope_has_the_same_size() -> None:
    """PROTOCOL.md §5.10: 4 335 bytes for one recipient, unsigned, up to the 4 KiB floor."""
    key = [POOL[0].public_key]
    sizes = {len(seal_bytes(pattern(n), key, META)) for n in (0, 1, 100, 1000, 4021)}

    assert sizes == {4335}


def test_file_names_are_hidden_in_the_size() -> None:
    key = [POOL[0].public_key]
    short = Metadata(kind="file", filename="a.pdf")
    long = Metadata(kind="file", filename="ر" * 120 + ".pdf")

    assert len(seal_bytes(b"x" * 1000, key, short)) == len(seal_bytes(b"x" * 1000, key, long))


def test_sealing_is_randomised(alice: PrivateKey) -> None:
    first = seal_bytes(b"same", [alice.public_key], META)
    second = seal_bytes(b"same", [alice.public_key], META)

    assert first != second
    assert open_bytes(first, [alice])[0] == open_bytes(second, [alice])[0] == b"same"


def test_header_names_recipients_and_signer(
    alice: PrivateKey, bob: PrivateKey, signer: SigningKey
) -> None:
    signed = seal_bytes(b"x", [alice.public_key, bob.public_key], META, signer=signer)
    unsigned = seal_bytes(b"x", [alice.public_key], META)

    header = read_header(io.BytesIO(signed))
    assert [s.key_id for s in header.stanzas] == [
        alice.public_key.fingerprint.key_id,
        bob.public_key.fingerprint.key_id,
    ]
    assert header.signer == signer.verify_key
    assert read_header(io.BytesIO(unsigned)).signer is None
    assert len(header.raw) == 20 + 130 * 2 + 55 + 48


def test_seal_refuses_no_recipients() -> None:
    with pytest.raises(FormatError, match="at least one"):
        seal_bytes(b"x", [], META)


def test_seal_refuses_the_same_recipient_twice(alice: PrivateKey) -> None:
    with pytest.raises(FormatError, match="twice"):
        seal_bytes(b"x", [alice.public_key, alice.public_key], META)


def test_seal_accepts_64_recipients_and_refuses_65() -> None:
    keys = [PrivateKey(i.to_bytes(2, "big") * 16).public_key for i in range(65)]

    envelope = seal_bytes(b"x", keys[:64], META)
    assert len(read_header(io.BytesIO(envelope)).stanzas) == 64
    with pytest.raises(FormatError, match="at most 64"):
        seal_bytes(b"x", keys, META)


def test_nothing_is_written_when_sealing_is_refused(alice: PrivateKey) -> None:
    out = io.BytesIO()

    with pytest.raises(FormatError):
        SealingWriter(out, [alice.public_key, alice.public_key], META)
    assert out.getvalue() == b""


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    size=st.one_of(sizes_near_boundaries, st.integers(min_value=0, max_value=40 * CHUNK)),
    seed=st.integers(0, 2**32),
    recipients=st.integers(1, 4),
    signed=st.booleans(),
)
def test_many_sizes_and_recipient_sets_round_trip(
    size: int, seed: int, recipients: int, signed: bool
) -> None:
    plaintext = pattern(size, seed)
    keys = POOL[:recipients]
    envelope = seal_bytes(
        plaintext, [k.public_key for k in keys], META, signer=SIGNER if signed else None
    )

    assert len(envelope) == expected_envelope_size(size, RECORD, recipients, signed)
    assert open_bytes(envelope, [keys[-1]])[0] == plaintext
