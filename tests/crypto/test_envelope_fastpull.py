"""OpenSSL's pull opens what libsodium pushed, moves libsodium's state as its pull does,
and releases nothing from a chunk that does not authenticate."""

from __future__ import annotations

import importlib
import os
import random
from typing import Any

import pytest

from crypto import constants as C
from crypto.envelope import secretstream
from crypto.envelope.fastpush import OpenSSLPull, fits
from crypto.envelope.secretstream import Puller, Pusher
from crypto.errors import DecryptionError

sodium = importlib.import_module("crypto.envelope.secretstream").sodium
ffi = importlib.import_module("crypto.envelope.fastpush").ffi
MESSAGE, PUSH, REKEY, FINAL = 0, 1, 2, 3
STATE_BYTES = 52
State = Any  # crypto_secretstream_xchacha20poly1305_state


def _pullers(key: bytes, header: bytes) -> tuple[State, State]:
    """Two libsodium pull states started alike: one for libsodium, one for OpenSSL's pull."""
    states = []
    for _ in range(2):
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
        states.append(state)
    return states[0], states[1]


def _state(state: State) -> bytes:
    return bytes(ffi.buffer(state.statebuf, STATE_BYTES))


def _pushed(seed: int, count: int) -> tuple[bytes, bytes, list[tuple[bytes, int, bytes]]]:
    """A key, a header and a chain of chunks libsodium pushed: (plaintext, tag, block)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    key = rng.randbytes(32)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    sizes = [0, 8, 16, 24, 64, C.CHUNK_BYTES - 8, C.CHUNK_BYTES]
    sizes += [8 * rng.randrange(C.CHUNK_BYTES // 8 + 1) for _ in range(count)]
    sizes += [rng.randrange(C.CHUNK_BYTES + 1) for _ in range(count // 4)]
    rng.shuffle(sizes)
    chain = []
    for size in sizes:
        chunk, tag = rng.randbytes(size), rng.choice([MESSAGE, MESSAGE, PUSH, REKEY, FINAL])
        block = sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, None, tag)
        chain.append((chunk, tag, block))
    return key, header, chain


@pytest.mark.parametrize("seed", range(4))
def test_a_chain_of_random_chunks_pulls_as_libsodium_pulls_it(seed: int) -> None:
    """Every length that fits, every tag, rekeys, pulled by OpenSSL or by libsodium in turn
    on one state: the same plaintext, the same tag, the same state after each."""
    key, header, chain = _pushed(seed, 80)
    ours, theirs = _pullers(key, header)
    fast = OpenSSLPull(theirs.statebuf)

    for chunk, tag, block in chain:
        expected = sodium.crypto_secretstream_xchacha20poly1305_pull(ours, block)
        if fits(len(chunk)):
            view, got_tag = fast.pull(block)
            got = bytes(view)
        else:
            got, got_tag = sodium.crypto_secretstream_xchacha20poly1305_pull(theirs, block)
        assert (got, got_tag) == expected == (chunk, tag)
        assert _state(theirs) == _state(ours)


@pytest.mark.parametrize("where", [0, 1, 63, 64, C.CHUNK_BYTES // 2, -17, -1])
def test_a_flipped_bit_anywhere_is_refused_and_the_state_kept(where: int) -> None:
    """The encrypted tag byte, the message, the MAC: each bit is covered, and a refused
    chunk leaves the state as it was, so the true chunk still opens after it."""
    key, header, chain = _pushed(9, 0)
    at = next(i for i, (chunk, _, _) in enumerate(chain) if len(chunk) == C.CHUNK_BYTES)
    _, theirs = _pullers(key, header)
    for _, _, earlier in chain[:at]:  # the state moved on to the full chunk's
        sodium.crypto_secretstream_xchacha20poly1305_pull(theirs, earlier)
    fast = OpenSSLPull(theirs.statebuf)
    chunk, tag, block = chain[at]
    before = _state(theirs)
    forged = bytearray(block)
    forged[where] ^= 0x01

    with pytest.raises(DecryptionError):
        fast.pull(bytes(forged))

    assert _state(theirs) == before
    got, got_tag = fast.pull(block)
    assert (bytes(got), got_tag) == (chunk, tag)


def test_the_counter_wrapping_rekeys_as_libsodium_does() -> None:
    """The 32-bit chunk counter's last value: libsodium's pull rekeys after it, as its push."""
    key = bytes(range(32))
    pusher = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(pusher, key)
    ours, theirs = _pullers(key, header)
    for state in (pusher, ours, theirs):
        ffi.buffer(state.statebuf, STATE_BYTES)[32:36] = b"\xff\xff\xff\xff"
    fast = OpenSSLPull(theirs.statebuf)

    for _ in range(2):  # the wrap, then the first chunk under the new key
        chunk = os.urandom(C.CHUNK_BYTES)
        block = sodium.crypto_secretstream_xchacha20poly1305_push(pusher, chunk, None, MESSAGE)
        assert sodium.crypto_secretstream_xchacha20poly1305_pull(ours, block) == (chunk, MESSAGE)
        got, tag = fast.pull(block)
        assert (bytes(got), tag) == (chunk, MESSAGE)
        assert _state(theirs) == _state(ours)


@pytest.mark.parametrize(
    "size",
    [
        secretstream.OPENSSL_AT_LEAST - 8,
        secretstream.OPENSSL_AT_LEAST,
        secretstream.OPENSSL_AT_LEAST + 1,
        C.CHUNK_BYTES - 1,
        C.CHUNK_BYTES,
    ],
)
def test_the_puller_opens_either_side_of_the_threshold(size: int) -> None:
    pusher = Pusher(bytes(32))
    puller = Puller(pusher.header, bytes(32))
    for tag in (MESSAGE, REKEY, PUSH, FINAL):
        data = os.urandom(size)
        chunk, got_tag = puller.pull(bytes(pusher.push(data, tag)))
        assert (bytes(chunk), got_tag) == (data, tag)


def test_the_puller_refuses_a_forged_full_chunk() -> None:
    pusher = Pusher(bytes(32))
    forged = bytearray(pusher.push(os.urandom(C.CHUNK_BYTES), MESSAGE))
    forged[100] ^= 0x80

    with pytest.raises(DecryptionError, match="does not authenticate"):
        Puller(pusher.header, bytes(32)).pull(bytes(forged))
