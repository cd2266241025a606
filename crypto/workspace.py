"""The review workspace's key: what decrypted reports are sealed under at rest.

A workspace key is an X25519 identity. Files (decrypted reports and attachments)
are stored as envelopes sealed to its public key, so they keep the envelope's
streaming, padding and truncation checks; small records (triage fields, notes,
the search index) are sealed with XChaCha20-Poly1305 under a key derived from
it, each bound to a context naming the row it belongs to. The secret itself is
stored only wrapped: a SealedBox to each enrolled reviewer's X25519 key, so
unlocking a reviewer's key file unlocks the workspace and nothing else does.
"""

from __future__ import annotations

from typing import Final

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.utils

from crypto import constants as C
from crypto.encoding import blake2b
from crypto.errors import DecryptionError, FormatError
from crypto.keys import PrivateKey, PublicKey
from crypto.padding import pad, unpad

# Labels of this format; a change of any of them is a change of format.
PERSON_RECORD_KEY: Final = b"rz-ws-record-v1"
# Version 2 records are padded (Padmé, at least RECORD_FLOOR bytes) so that their
# length says little about what a reviewer wrote; version 1 records (unpadded)
# are still read, and `keys rewrap` re-seals them as version 2.
RECORD_CONTEXT_PREFIX: Final = b"raazdar workspace record v2\x00"
LEGACY_CONTEXT_PREFIX: Final = b"raazdar workspace record v1\x00"
RECORD_FLOOR: Final = 256

_NONCE_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
_WRAPPED_BYTES: Final = C.KEY_BYTES + sodium.crypto_box_SEALBYTES


class WorkspaceKey:
    """A workspace's secret: opens its blobs and seals and opens its records; never shown."""

    __slots__ = ("_identity", "_record_key")

    def __init__(self, identity: PrivateKey) -> None:
        self._identity = identity
        self._record_key = blake2b(
            b"", key=identity.secret_bytes(), person=PERSON_RECORD_KEY, size=C.KEY_BYTES
        )

    @classmethod
    def generate(cls) -> WorkspaceKey:
        """Make a new random workspace key."""
        return cls(PrivateKey.generate())

    @property
    def identity(self) -> PrivateKey:
        """The X25519 key that opens the workspace's blob envelopes."""
        return self._identity

    @property
    def public_key(self) -> PublicKey:
        """The X25519 key that blobs are sealed to (safe to store in the clear)."""
        return self._identity.public_key

    def wrap_for(self, recipient: PublicKey) -> bytes:
        """Seal the workspace secret to one reviewer's X25519 key."""
        box = nacl.public.SealedBox(recipient._nacl)
        return bytes(box.encrypt(self._identity.secret_bytes()))

    @classmethod
    def unwrap(cls, wrapped: bytes, identity: PrivateKey, expected: PublicKey) -> WorkspaceKey:
        """Open a wrapped secret with a reviewer's key; it must be the workspace's key."""
        if len(wrapped) != _WRAPPED_BYTES:
            raise DecryptionError("the wrapped workspace key does not open")
        try:
            secret = nacl.public.SealedBox(identity._nacl).decrypt(wrapped)
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("the wrapped workspace key does not open") from exc
        key = cls(PrivateKey(bytes(secret)))
        # Someone with write access could wrap a key of their own: refuse any
        # key but the one the workspace's blobs are sealed to.
        if key.public_key != expected:
            raise DecryptionError("the wrapped workspace key does not open")
        return key

    def seal_record(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt a small record, padded, bound to `context` (e.g. the row it is stored in)."""
        nonce = nacl.utils.random(_NONCE_BYTES)
        box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            pad(plaintext, RECORD_FLOOR), _associated(context), nonce, self._record_key
        )
        return nonce + bytes(box)

    def open_record(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt a record sealed under the same context, or raise `DecryptionError`."""
        if len(sealed) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("record does not open")
        try:
            return unpad(self._decrypt(sealed, _associated(context)))
        except DecryptionError:
            # A record written before padding (version 1) opens as it was written.
            return self._decrypt(sealed, _associated(context, LEGACY_CONTEXT_PREFIX))
        except ValueError as exc:
            raise DecryptionError("record does not open") from exc

    def _decrypt(self, sealed: bytes, associated: bytes) -> bytes:
        try:
            return bytes(
                sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    sealed[_NONCE_BYTES:], associated, sealed[:_NONCE_BYTES], self._record_key
                )
            )
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("record does not open") from exc

    def __repr__(self) -> str:
        return "WorkspaceKey(<secret>)"


def _associated(context: bytes, prefix: bytes = RECORD_CONTEXT_PREFIX) -> bytes:
    if not isinstance(context, bytes):
        raise FormatError("a record context is bytes")
    return prefix + context
