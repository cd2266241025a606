"""Secretstream chunks encrypted and decrypted into one reused buffer, without copies.

PyNaCl's `crypto_secretstream_xchacha20poly1305_push` and `_pull` take only
`bytes` and return a fresh copy of every chunk they produce: at 64 KiB a chunk,
that copy, the argument checks and the caller's `bytes(...)` of a slice cost a
sixth of the envelope's speed. Here the state is made and initialised by
PyNaCl's bindings as before, and each chunk goes through the same libsodium
function, reached through PyNaCl's own cffi handle, from the caller's buffer
(bytes, bytearray or memoryview) straight into a buffer allocated once. The view
returned is valid until the next call; callers write it out or copy it first.

A chunk of `OPENSSL_AT_LEAST` bytes or more whose length is a multiple of 8 (every
full chunk) is pushed and pulled with OpenSSL's ChaCha20-Poly1305 instead
(`crypto.envelope.fastpush`): the same bytes from the same state, sooner with
AVX-512 or AVX2. Libsodium pushes and pulls the other chunks. A caller that reads
its input can read each chunk into one of the pusher's two inboxes, where OpenSSL
encrypts it in place (`push_inbox`): the chunk is then not copied on its way in.
"""

from __future__ import annotations

from typing import Any, Final

import nacl.bindings as sodium
import nacl.exceptions

# The cffi module PyNaCl's bindings call (PyNaCl is pinned in deploy/constraints.txt).
from nacl._sodium import ffi, lib

from crypto import constants as C
from crypto.envelope.fastpush import TAG_BLOCK, OpenSSLPull, OpenSSLPush, fits, prefixed_buffer
from crypto.errors import DecryptionError

BLOCK: Final = C.CHUNK_BYTES + C.STREAM_ABYTES
# Chunks at least this large are pushed through OpenSSL; below it, setting up its
# cipher costs more than its faster code saves (they break even near 8 KiB).
OPENSSL_AT_LEAST: Final = 16 * 1024
Buffer = bytes | bytearray | memoryview


class Pusher:
    """Encrypt chunks of at most `CHUNK_BYTES` into one reused output buffer."""

    def __init__(self, key: bytes) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self.header: bytes = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, key
        )
        self._out = bytearray(BLOCK)
        self._out_ptr: Any = ffi.from_buffer(self._out)
        self._view = memoryview(self._out)
        self._openssl: OpenSSLPush | None = None  # made at the first chunk it takes
        self._inboxes: list[memoryview] = []  # made when first asked for

    def inbox(self, which: int) -> memoryview:
        """One of two buffers (`which` is 0 or 1) of `CHUNK_BYTES` that a caller may read
        the next chunk's plaintext into, for `push_inbox` to encrypt without a copy."""
        if not self._inboxes:
            self._inboxes = [prefixed_buffer(), prefixed_buffer()]
        return self._inboxes[which][TAG_BLOCK:]

    def push_inbox(self, which: int, size: int, tag: int) -> memoryview:
        """Encrypt the first `size` bytes of `inbox(which)` and return the ciphertext, as
        `push` does; the inbox's content is left as it was."""
        box = self._inboxes[which]
        if size < OPENSSL_AT_LEAST or not fits(size):
            return self.push(box[TAG_BLOCK : TAG_BLOCK + size], tag)
        if self._openssl is None:
            self._openssl = OpenSSLPush(self._state.statebuf)
        return self._openssl.push_prefixed(box, size, tag)

    def push(self, chunk: Buffer, tag: int, *, into: memoryview | None = None) -> memoryview:
        """Encrypt `chunk` (bytes, or a memoryview of bytes) and return its ciphertext.

        The ciphertext goes `into` a writable view of exactly its size if one is
        given (a batch of the output), else into this pusher's own buffer.
        """
        size = len(chunk)
        if size > C.CHUNK_BYTES:
            raise ValueError("chunk is larger than the envelope's chunk size")
        if into is not None and (into.readonly or into.nbytes != size + C.STREAM_ABYTES):
            raise ValueError("the output view does not fit the chunk's ciphertext")
        if size >= OPENSSL_AT_LEAST and fits(size):
            if self._openssl is None:
                self._openssl = OpenSSLPush(self._state.statebuf)
            if into is None:
                return self._openssl.push(chunk, tag)
            self._openssl.push_into(into, chunk, tag)
            return into
        rc = lib.crypto_secretstream_xchacha20poly1305_push(
            self._state.statebuf,
            self._out_ptr if into is None else ffi.from_buffer(into),
            ffi.NULL,
            ffi.from_buffer(chunk),
            size,
            ffi.NULL,
            0,
            tag,
        )
        if rc != 0:
            raise RuntimeError("secretstream push failed")
        return self._view[: size + C.STREAM_ABYTES] if into is None else into


class Puller:
    """Authenticate and decrypt chunks into one reused output buffer."""

    def __init__(self, header: bytes, key: bytes) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("cannot start the payload stream") from exc
        self._out = bytearray(C.CHUNK_BYTES)
        self._out_ptr: Any = ffi.from_buffer(self._out)
        self._view = memoryview(self._out)
        self._tag: Any = ffi.new("unsigned char *")
        self._openssl: OpenSSLPull | None = None  # made at the first chunk it takes

    def pull(self, block: Buffer) -> tuple[memoryview, int]:
        """Return a block's plaintext and tag; any failure is one `DecryptionError`."""
        size = len(block)
        if not C.STREAM_ABYTES < size <= BLOCK:
            raise DecryptionError("envelope is truncated")
        message = size - C.STREAM_ABYTES
        if message >= OPENSSL_AT_LEAST and fits(message):
            if self._openssl is None:
                self._openssl = OpenSSLPull(self._state.statebuf)
            return self._openssl.pull(block)
        rc = lib.crypto_secretstream_xchacha20poly1305_pull(
            self._state.statebuf,
            self._out_ptr,
            ffi.NULL,
            self._tag,
            ffi.from_buffer(block),
            size,
            ffi.NULL,
            0,
        )
        if rc != 0:
            raise DecryptionError("chunk does not authenticate")
        return self._view[: size - C.STREAM_ABYTES], int(self._tag[0])
