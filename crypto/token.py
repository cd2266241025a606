"""Opaque tokens: small values sealed under a server key (XChaCha20-Poly1305).

The server uses them for session cookies, so a cookie reveals nothing to whoever
holds it and cannot be altered; each token is bound to a context label.
"""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.errors import DecryptionError, FormatError

_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class TokenKey:
    """A 32-byte key that seals and opens tokens; never shown by `repr`."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != C.KEY_BYTES:
            raise FormatError(f"a token key is {C.KEY_BYTES} bytes")
        self._key = bytes(key)

    @classmethod
    def generate(cls) -> TokenKey:
        """Make a new random key."""
        return cls(nacl.utils.random(C.KEY_BYTES))

    def derive(self, label: bytes) -> TokenKey:
        """Derive an independent key for one purpose (label of at most 16 bytes)."""
        return TokenKey(blake2b(b"", key=self._key, person=label))

    def seal(self, plaintext: bytes, context: bytes) -> str:
        """Encrypt and authenticate `plaintext`, bound to `context`; base64url out."""
        nonce = nacl.utils.random(_NONCE_BYTES)
        box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, context, nonce, self._key
        )
        return b64encode(nonce + bytes(box))

    def open(self, token: str, context: bytes) -> bytes:
        """Open a token made by `seal` under the same context, or raise `DecryptionError`."""
        try:
            raw = b64decode(token)
        except FormatError as exc:
            raise DecryptionError("token is malformed") from exc
        if len(raw) < _NONCE_BYTES + 16:
            raise DecryptionError("token is malformed")
        try:
            return bytes(
                sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    raw[_NONCE_BYTES:], context, raw[:_NONCE_BYTES], self._key
                )
            )
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("token does not open") from exc

    def __repr__(self) -> str:
        return "TokenKey(<secret>)"
