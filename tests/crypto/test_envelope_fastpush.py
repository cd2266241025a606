"""OpenSSL's push gives libsodium's bytes and leaves libsodium's state, chunk after chunk."""

from __future__ import annotations

import importlib
import io
import os
import random
from typing import Any

import pytest

from crypto import Metadata, PrivateKey, open_envelope, seal
from crypto import constants as C
from crypto.envelope import secretstream
from crypto.envelope.fastpush import OpenSSLPush, fits
from crypto.envelope.secretstream import Puller, Pusher

# The modules' own handles on libsodium (its push is the reference) and on cffi.
sodium = importlib.import_module("crypto.envelope.secretstream").sodium
ffi = importlib.import_module("crypto.envelope.fastpush").ffi
MESSAGE, PUSH, REKEY, FINAL = 0, 1, 2, 3
STATE_BYTES = 52
State = Any  # crypto_secretstream_xchacha20poly1305_state


def _copy(state: State) -> State:
    twin = sodium.crypto_secretstream_xchacha20poly1305_state()
    ffi.memmove(twin.statebuf, state.statebuf, STATE_BYTES)
    return twin


def _twins(key: bytes) -> tuple[State, State, bytes]:
    """Two libsodium states started alike: one for libsodium, one for OpenSSL's push."""
    ours = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(ours, key)
    return ours, _copy(ours), header


def _state(state: State) -> bytes:
    return bytes(ffi.buffer(state.statebuf, STATE_BYTES))


def _fast(push: OpenSSLPush, chunk: bytes, tag: int) -> bytes:
    out = memoryview(bytearray(len(chunk) + C.STREAM_ABYTES))
    push.push_into(out, chunk, tag)
    return bytes(out)


@pytest.mark.parametrize("seed", range(4))
def test_a_chain_of_random_chunks_is_byte_identical_to_libsodium(seed: int) -> None:
    """Every length that fits (empty, both remainders mod 16, full), every tag, many chunks,
    pushed by OpenSSL (into a given view or its own buffer) or by libsodium in turn on the
    same state."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    ours, theirs, _ = _twins(rng.randbytes(32))
    fast = OpenSSLPush(theirs.statebuf)
    sizes = [0, 8, 16, 24, 64, C.CHUNK_BYTES - 8, C.CHUNK_BYTES]
    sizes += [8 * rng.randrange(C.CHUNK_BYTES // 8 + 1) for _ in range(80)]
    sizes += [rng.randrange(C.CHUNK_BYTES + 1) for _ in range(20)]  # mostly not fitting
    rng.shuffle(sizes)

    for size in sizes:
        chunk, tag = rng.randbytes(size), rng.choice([MESSAGE, MESSAGE, PUSH, REKEY, FINAL])
        expected = sodium.crypto_secretstream_xchacha20poly1305_push(ours, chunk, None, tag)
        if not fits(size):
            got = sodium.crypto_secretstream_xchacha20poly1305_push(theirs, chunk, None, tag)
        elif rng.random() < 0.5:
            got = _fast(fast, chunk, tag)
        else:  # a view of the pusher's own buffer, the tag byte moved next to the rest
            got = bytes(fast.push(chunk, tag))

        assert got == expected
        assert _state(theirs) == _state(ours)


@pytest.mark.parametrize("size", [1, 4, 7, 9, 15, 17, 100, C.CHUNK_BYTES - 1])
def test_a_length_that_does_not_fit_would_be_padded_otherwise(size: int) -> None:
    """Why `fits`: RFC 8439 pads the ciphertext as libsodium does only for multiples of 8."""
    ours, theirs, _ = _twins(bytes(32))
    chunk = bytes(size)

    expected = sodium.crypto_secretstream_xchacha20poly1305_push(ours, chunk, None, MESSAGE)
    got = _fast(OpenSSLPush(theirs.statebuf), chunk, MESSAGE)

    assert not fits(size)
    assert got[:-16] == expected[:-16]  # the same ciphertext
    assert got[-16:] != expected[-16:]  # under another MAC


def test_the_chain_opens_with_libsodium() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    key = rng.randbytes(32)
    _, theirs, header = _twins(key)
    fast = OpenSSLPush(theirs.statebuf)
    puller = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(puller, header, key)

    for tag in (MESSAGE, REKEY, PUSH, MESSAGE, FINAL):
        chunk = rng.randbytes(8 * rng.randrange(C.CHUNK_BYTES // 8 + 1))
        got = sodium.crypto_secretstream_xchacha20poly1305_pull(puller, _fast(fast, chunk, tag))
        assert got == (chunk, tag)


@pytest.mark.parametrize(("tag", "counter"), [(MESSAGE, 2), (REKEY, 1)])
def test_the_counter_wrapping_rekeys_as_libsodium_does(tag: int, counter: int) -> None:
    """The 32-bit chunk counter's last value: libsodium rekeys after it (256 TiB in)."""
    ours, theirs, _ = _twins(bytes(range(32)))
    for state in (ours, theirs):
        ffi.buffer(state.statebuf, STATE_BYTES)[32:36] = b"\xff\xff\xff\xff"
    chunk = os.urandom(1000)
    fast = OpenSSLPush(theirs.statebuf)

    for _ in range(2):  # the wrap, then the first chunk under the new key
        expected = sodium.crypto_secretstream_xchacha20poly1305_push(ours, chunk, None, tag)
        assert _fast(fast, chunk, tag) == expected
        assert _state(theirs) == _state(ours)
    # Reset to 1 by the wrap; then one chunk more, or a rekey tag's reset again.
    assert _state(ours)[32:36] == counter.to_bytes(4, "little")


@pytest.mark.parametrize(
    "size",
    [
        secretstream.OPENSSL_AT_LEAST - 8,
        secretstream.OPENSSL_AT_LEAST,
        secretstream.OPENSSL_AT_LEAST + 1,
        C.CHUNK_BYTES,
    ],
)
@pytest.mark.parametrize("into", [False, True])
def test_the_pusher_gives_libsodiums_bytes_on_either_side_of_the_threshold(
    size: int, into: bool
) -> None:
    pusher = Pusher(bytes(32))
    twin = _copy(pusher._state)
    chunk = os.urandom(size)

    for tag in (MESSAGE, FINAL):
        target = memoryview(bytearray(size + C.STREAM_ABYTES)) if into else None
        got = bytes(pusher.push(chunk, tag, into=target))
        if target is not None:
            assert bytes(target) == got
        assert got == sodium.crypto_secretstream_xchacha20poly1305_push(twin, chunk, None, tag)


@pytest.mark.parametrize(
    "size",
    [0, 8, 1000, secretstream.OPENSSL_AT_LEAST, C.CHUNK_BYTES - 1, C.CHUNK_BYTES],
)
def test_a_chunk_pushed_from_an_inbox_gives_libsodiums_bytes(size: int) -> None:
    """Read into either inbox and encrypted there, in turn with copied chunks, on one state;
    the inbox keeps what was read into it."""
    pusher = Pusher(bytes(32))
    twin = _copy(pusher._state)
    rng = random.Random(size)  # noqa: S311 - reproducible test data

    for step in range(6):
        chunk, tag = rng.randbytes(size), rng.choice([MESSAGE, PUSH, REKEY, FINAL])
        if step % 3 == 2:
            got = bytes(pusher.push(chunk, tag))
        else:
            which = step % 2
            pusher.inbox(which)[:size] = chunk
            got = bytes(pusher.push_inbox(which, size, tag))
            assert bytes(pusher.inbox(which)[:size]) == chunk

        assert got == sodium.crypto_secretstream_xchacha20poly1305_push(twin, chunk, None, tag)


@pytest.mark.parametrize(
    "size", [0, 1, C.CHUNK_BYTES - 1, C.CHUNK_BYTES, C.CHUNK_BYTES + 1, 3 * C.CHUNK_BYTES + 1]
)
def test_envelopes_pushed_through_openssl_open_with_libsodium(size: int) -> None:
    key = PrivateKey.generate()
    data = os.urandom(size)
    sealed = io.BytesIO()
    seal(io.BytesIO(data), sealed, [key.public_key], Metadata(kind="file", filename="f"))

    opened = io.BytesIO()
    open_envelope(io.BytesIO(sealed.getvalue()), opened, [key])

    assert opened.getvalue() == data


def test_a_large_chunk_pulls_back_through_the_puller() -> None:
    pusher = Pusher(bytes(32))
    data = os.urandom(C.CHUNK_BYTES)
    block = bytes(pusher.push(data, FINAL))

    chunk, tag = Puller(pusher.header, bytes(32)).pull(block)

    assert (bytes(chunk), tag) == (data, FINAL)
