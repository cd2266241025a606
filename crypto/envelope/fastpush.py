"""Libsodium's secretstream push, computed with OpenSSL's ChaCha20 and Poly1305.

Libsodium encrypts a secretstream chunk with its AVX2 ChaCha20 and SSE2
Poly1305 (the best it has; the Debian build is no faster). OpenSSL, as bundled
in pyca/cryptography, has AVX-512 code for both: on a Xeon with AVX-512 a 64
KiB chunk takes about two thirds of libsodium's time this way, Python's calls
included. Below about 24 KiB the cost of setting up OpenSSL's two contexts
outweighs that, so `Pusher` uses this only for large chunks.

The bytes are libsodium's own, from the same state (`crypto_secretstream_
xchacha20poly1305_push`, libsodium 1.0.18 to 1.0.20): with the stream's subkey
and its 12-byte nonce (a 32-bit counter, then 8 bytes), ChaCha20 block 0 gives
the Poly1305 key, block 1 encrypts the tag byte (padded to the block) and the
message is encrypted from block 2. Poly1305 covers the encrypted tag block, the
ciphertext, `len(message) % 16` zero bytes (libsodium's padding, kept as it is),
and the lengths of the associated data (none) and of the tag block and
ciphertext. The state then moves on as libsodium's does: the MAC's first 8
bytes XORed into the nonce's last 8, the counter incremented, and the state
rekeyed by libsodium itself on a rekey tag or when the counter wraps.

The state buffer stays libsodium's: chunks pushed here and by libsodium may
alternate, and libsodium opens the result. Tests check it byte for byte against
libsodium.
"""

from __future__ import annotations

from typing import Any, Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.poly1305 import Poly1305

# The cffi module PyNaCl's bindings call (PyNaCl is pinned in deploy/constraints.txt).
from nacl._sodium import ffi, lib

from crypto import constants as C

_KEY: Final = 32
_NONCE: Final = 12  # the 32-bit counter, then the 8-byte "inonce"
_STATE: Final = _KEY + _NONCE
_COUNTER_END: Final = _KEY + 4
_BLOCK0: Final = bytes(64)  # encrypted, block 0 gives the Poly1305 key
_REST_OF_TAG_BLOCK: Final = bytes(63)
_TAG_REKEY: Final = 2  # crypto_secretstream_xchacha20poly1305_TAG_REKEY
# Poly1305's input after the ciphertext, by message length modulo 16: libsodium's
# padding, then the associated data's length (zero), both as zero bytes.
_PADDED_AD_LENGTH: Final = tuple(bytes(pad + 8) for pad in range(16))
Buffer = bytes | bytearray | memoryview


def push_into(statebuf: Any, out: memoryview, chunk: Buffer, tag: int) -> None:
    """Encrypt `chunk` with `tag` into `out` (exactly its size plus `STREAM_ABYTES`),
    and move libsodium's state in `statebuf` on, as its push does."""
    size = len(chunk)
    raw = ffi.buffer(statebuf, _STATE)
    state = raw[:]
    cipher = Cipher(algorithms.ChaCha20(state[:_KEY], bytes(4) + state[_KEY:]), None)
    encryptor = cipher.encryptor()
    head = encryptor.update(_BLOCK0 + tag.to_bytes(1, "little") + _REST_OF_TAG_BLOCK)
    out[0] = head[64]
    ciphertext = out[1 : 1 + size]
    encryptor.update_into(chunk, ciphertext)
    mac = Poly1305(head[:32])
    mac.update(head[64:])
    mac.update(ciphertext)
    mac.update(_PADDED_AD_LENGTH[size % 16] + (64 + size).to_bytes(8, "little"))
    tag_bytes = mac.finalize()
    out[1 + size : C.STREAM_ABYTES + size] = tag_bytes
    counter = (int.from_bytes(state[_KEY:_COUNTER_END], "little") + 1) & 0xFFFFFFFF
    inonce = int.from_bytes(state[_COUNTER_END:], "little")
    inonce ^= int.from_bytes(tag_bytes[:8], "little")
    raw[_KEY:] = counter.to_bytes(4, "little") + inonce.to_bytes(8, "little")
    if tag & _TAG_REKEY or counter == 0:
        lib.crypto_secretstream_xchacha20poly1305_rekey(statebuf)
