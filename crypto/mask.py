"""A mask over bytes a device keeps on its disk for a while: ChaCha20 under a key kept sealed.

`raazdar-submit` keeps the envelopes of an unfinished upload on the device until
the server holds them. Kept as they are, their hash and bytes are those the
server records under the source's account, so whoever holds both ties the
device to the account without the codename. Masked under a key that only the
codename's sealed state holds, they are bytes nothing else has. The mask is a
keystream, so any range of an envelope is read (or written) on its own, as a
resumed upload needs; the envelope itself is what authenticates the content.
"""

from __future__ import annotations

import secrets
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from crypto.errors import FormatError

MASK_KEY_BYTES: Final = 32
_BLOCK: Final = 64
# ChaCha20's 32-bit block counter: 256 GiB a stream, far above any envelope.
_MAX_OFFSET: Final = 2**32 * _BLOCK


def new_mask_key() -> bytes:
    """A fresh random mask key."""
    return secrets.token_bytes(MASK_KEY_BYTES)


def masked(key: bytes, stream: int, offset: int, data: bytes) -> bytes:
    """`data` XOR the keystream of (`key`, `stream`) from byte `offset`: masks and unmasks.

    Each stream (a file's number) has a keystream of its own under one key.
    """
    if len(key) != MASK_KEY_BYTES:
        raise FormatError(f"a mask key is {MASK_KEY_BYTES} bytes")
    if not 0 <= stream < 2**64 or not 0 <= offset <= _MAX_OFFSET - len(data):
        raise FormatError("a mask stream or offset is out of range")
    block, skip = divmod(offset, _BLOCK)
    # OpenSSL's ChaCha20 nonce: a 32-bit little-endian block counter, then 96 bits of nonce.
    nonce = block.to_bytes(4, "little") + stream.to_bytes(8, "little") + bytes(4)
    stream_cipher = Cipher(algorithms.ChaCha20(key, nonce), mode=None).encryptor()
    return stream_cipher.update(bytes(skip) + data)[skip:]
