"""The zero-copy secretstream helpers: same chunks as the format, every failure one error."""

from __future__ import annotations

import pytest

from crypto import DecryptionError
from crypto import constants as C
from crypto.envelope.secretstream import BLOCK, Puller, Pusher

KEY = bytes(range(32))
MESSAGE, FINAL = 0, 3


def test_pushed_chunks_pull_back_from_any_buffer_kind() -> None:
    """Bytes, bytearray and memoryview slices encrypt alike; the views round-trip."""
    pusher = Pusher(KEY)
    data = bytes(range(256)) * 256
    sealed = [
        bytes(pusher.push(data, MESSAGE)),
        bytes(pusher.push(bytearray(b"middle"), MESSAGE)),
        bytes(pusher.push(memoryview(data)[:100], FINAL)),
    ]
    puller = Puller(pusher.header, KEY)

    got = [(bytes(chunk), tag) for chunk, tag in map(puller.pull, sealed)]

    assert [len(s) for s in sealed] == [BLOCK, 6 + C.STREAM_ABYTES, 100 + C.STREAM_ABYTES]
    assert got == [(data, MESSAGE), (b"middle", MESSAGE), (data[:100], FINAL)]


def test_a_chunk_over_the_chunk_size_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk size"):
        Pusher(KEY).push(bytes(C.CHUNK_BYTES + 1), MESSAGE)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: C.STREAM_ABYTES],
        lambda b: b[:-1],
        lambda b: b[:5] + bytes([b[5] ^ 1]) + b[6:],
        lambda b: b + bytes(BLOCK),
    ],
    ids=["tag-only", "truncated", "bit-flipped", "oversized"],
)
def test_a_damaged_block_is_one_decryption_error(damage: object) -> None:
    pusher = Pusher(KEY)
    block = bytes(pusher.push(b"hello", FINAL))

    with pytest.raises(DecryptionError):
        Puller(pusher.header, KEY).pull(damage(block))  # type: ignore[operator]


def test_a_wrong_key_or_header_is_one_decryption_error() -> None:
    pusher = Pusher(KEY)
    block = bytes(pusher.push(b"hello", FINAL))

    with pytest.raises(DecryptionError):
        Puller(pusher.header, bytes(32)).pull(block)
    with pytest.raises(DecryptionError):
        Puller(b"short", KEY)
