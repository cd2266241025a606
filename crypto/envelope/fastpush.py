"""Libsodium's secretstream push and pull, computed with OpenSSL's ChaCha20-Poly1305.

Libsodium encrypts a secretstream chunk with its AVX2 ChaCha20, then its SSE2
Poly1305 (the best it has; Debian's build is no faster). OpenSSL, as bundled
in pyca/cryptography, has AVX-512 code for both: on a Xeon with AVX-512 a 64 KiB
chunk takes 0.6 of libsodium's time this way (21 us against 36), Python's calls
and two copies included. Its AVX2 code is faster than libsodium's too: on an
EPYC (Zen 3) the AEAD takes 31 us a chunk, libsodium's push 52.

A secretstream chunk is, byte for byte, IETF ChaCha20-Poly1305 (RFC 8439) under
the stream's subkey and its 12-byte nonce (a 32-bit counter, then 8 bytes), with
no associated data, of a plaintext made of one 64-byte block holding the tag
byte followed by the message; less the encrypted block's last 63 bytes, which
the MAC still covers (libsodium's `crypto_secretstream_xchacha20poly1305_push`:
block 0 gives the Poly1305 key, block 1 encrypts the tag block, the message
starts at block 2). One difference: libsodium pads the ciphertext for Poly1305
with `len(message) % 16` zero bytes, RFC 8439 with `-len(message) % 16`. They
agree when the message's length is a multiple of 8, which every full chunk's is;
`Pusher` uses this for those chunks only. The ciphertext is left in place (the
encrypted tag block's first byte moved next to the rest), not copied out.

The state then moves on as libsodium's does: the MAC's first 8 bytes XORed into
the nonce's last 8, the counter incremented, and the state rekeyed by libsodium
itself on a rekey tag or when the counter wraps. The state buffer stays
libsodium's: chunks pushed here and by libsodium may alternate, and libsodium
opens them. Tests check the bytes and the state against libsodium's.

Pulling a full chunk (`OpenSSLPull`) is the same AEAD run backwards. The chunk carries
only the first byte of the encrypted tag block; the other 63 are ChaCha20's keystream
(block 1) over zeros, which the MAC covers. RFC 8439's AEAD encrypts from block 1 too,
so encrypting 64 zero bytes under the chunk's nonce gives them; with them the chunk is
an RFC 8439 ciphertext that OpenSSL authenticates and decrypts at once, or rejects
whole: no plaintext is released from a chunk that fails. The state moves on as
libsodium's pull moves it (the received MAC's first 8 bytes, the counter, a rekey).
"""

from __future__ import annotations

import struct
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

# The cffi module PyNaCl's bindings call (PyNaCl is pinned in deploy/constraints.txt).
from nacl._sodium import ffi, lib

from crypto import constants as C
from crypto.errors import DecryptionError

_KEY: Final = 32
_STATE: Final = _KEY + 12  # the subkey, then the nonce: a 32-bit counter and 8 bytes
# The nonce: a 32-bit counter, then the 8 bytes that each MAC's first 8 are XORed into.
_NONCE: Final = struct.Struct("<IQ")
_MAC_HEAD: Final = struct.Struct("<Q")
TAG_BLOCK: Final = 64
_MAC: Final = 16
_TAG_REKEY: Final = 2  # crypto_secretstream_xchacha20poly1305_TAG_REKEY
Buffer = bytes | bytearray | memoryview


def fits(size: int) -> bool:
    """Whether a message of `size` bytes is padded alike by libsodium and RFC 8439."""
    return size % 8 == 0


def prefixed_buffer() -> memoryview:
    """A buffer for one chunk's plaintext after `TAG_BLOCK` bytes of room (zero)."""
    return memoryview(bytearray(TAG_BLOCK + C.CHUNK_BYTES))


class _OpenSSLState:
    """One libsodium secretstream state, read and moved on around OpenSSL's AEAD."""

    def __init__(self, statebuf: Any) -> None:
        """Work on `statebuf`, a state libsodium's `init_push` or `init_pull` has started."""
        self._statebuf = statebuf
        self._raw = ffi.buffer(statebuf, _STATE)
        self._key = self._raw[:_KEY]
        self._aead = ChaCha20Poly1305(self._key)

    def _current(self) -> tuple[bytes, bytes]:
        """The state's bytes and its nonce, the AEAD made anew if the key has changed."""
        state = self._raw[:]
        key = state[:_KEY]
        if key != self._key:  # rekeyed since the last chunk
            self._key, self._aead = key, ChaCha20Poly1305(key)
        return state, state[_KEY:]

    def _advance(self, state: bytes, mac: memoryview, tag: int) -> None:
        """Move the state on past a chunk with this MAC and tag, as libsodium does."""
        counter, inonce = _NONCE.unpack_from(state, _KEY)
        counter = (counter + 1) & 0xFFFFFFFF
        (mac_head,) = _MAC_HEAD.unpack_from(mac)
        _NONCE.pack_into(self._raw, _KEY, counter, inonce ^ mac_head)
        if tag & _TAG_REKEY or counter == 0:
            lib.crypto_secretstream_xchacha20poly1305_rekey(self._statebuf)


class OpenSSLPush(_OpenSSLState):
    """Pushes chunks of one libsodium secretstream state through OpenSSL."""

    def __init__(self, statebuf: Any) -> None:
        """Work on `statebuf`, a state libsodium's `init_push` has started."""
        super().__init__(statebuf)
        # The tag block then the message; the whole ciphertext then the MAC.
        self._in = prefixed_buffer()
        self._out = memoryview(bytearray(TAG_BLOCK + C.CHUNK_BYTES + _MAC))

    def push_into(self, out: memoryview, chunk: Buffer, tag: int) -> None:
        """Encrypt `chunk` (a length that `fits`) with `tag` into `out` (exactly its
        size plus `STREAM_ABYTES`), and move the state on, as libsodium's push does."""
        out[:] = self.push(chunk, tag)

    def push(self, chunk: Buffer, tag: int) -> memoryview:
        """Encrypt `chunk` (a length that `fits`) with `tag`, move the state on, and return
        the ciphertext: a view of this object's buffer, valid until the next push."""
        size = len(chunk)
        self._in[TAG_BLOCK : TAG_BLOCK + size] = chunk
        return self.push_prefixed(self._in, size, tag)

    def push_prefixed(self, plain: memoryview, size: int, tag: int) -> memoryview:
        """Encrypt the `size` bytes (a length that `fits`) at `plain[TAG_BLOCK:]`, whose
        first `TAG_BLOCK` bytes are zero past the first, as `push` does, without a copy.

        The tag byte is written into `plain[0]`. The encrypted tag block's first byte
        is moved to its last byte's place, next to the message's ciphertext: the chunk
        is then one slice of this object's buffer, not copied out.
        """
        state, nonce = self._current()
        plain[0] = tag
        sealed = self._out[: TAG_BLOCK + size + _MAC]
        self._aead.encrypt_into(nonce, plain[: TAG_BLOCK + size], None, sealed)
        sealed[TAG_BLOCK - 1] = sealed[0]
        self._advance(state, sealed[TAG_BLOCK + size :], tag)
        return sealed[TAG_BLOCK - 1 :]


class OpenSSLPull(_OpenSSLState):
    """Pulls chunks of one libsodium secretstream state through OpenSSL."""

    def __init__(self, statebuf: Any) -> None:
        """Work on `statebuf`, a state libsodium's `init_pull` has started."""
        super().__init__(statebuf)
        self._zeros = bytes(TAG_BLOCK)
        self._keystream = memoryview(bytearray(TAG_BLOCK + _MAC))
        # The whole ciphertext (the tag block restored) then the MAC; the plaintext.
        self._in = memoryview(bytearray(TAG_BLOCK + C.CHUNK_BYTES + _MAC))
        self._out = memoryview(bytearray(TAG_BLOCK + C.CHUNK_BYTES))

    def pull(self, block: Buffer) -> tuple[memoryview, int]:
        """Authenticate and decrypt `block`, a chunk whose message's length `fits`, and
        move the state on, as libsodium's pull does. Returns the message (a view of this
        object's buffer, valid until the next pull) and the tag; a chunk that does not
        authenticate raises `DecryptionError` and leaves the state as it was."""
        size = len(block) - 1 - _MAC
        state, nonce = self._current()
        self._aead.encrypt_into(nonce, self._zeros, None, self._keystream)
        sealed = self._in[: TAG_BLOCK + size + _MAC]
        sealed[0] = block[0]
        sealed[1:TAG_BLOCK] = self._keystream[1:TAG_BLOCK]
        sealed[TAG_BLOCK:] = block[1:]
        plain = self._out[: TAG_BLOCK + size]
        try:
            self._aead.decrypt_into(nonce, sealed, None, plain)
        except InvalidTag as exc:
            raise DecryptionError("chunk does not authenticate") from exc
        tag = plain[0]
        self._advance(state, sealed[TAG_BLOCK + size :], tag)
        return plain[TAG_BLOCK:], tag
