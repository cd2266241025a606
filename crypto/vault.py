"""A device vault: records sealed under a key derived from a secret the person types.

The source's client keeps what it remembers about an instance (the address, the
pins, the keyring, unfinished uploads) sealed under a key derived with Argon2id
from the codename and a random salt kept on the device, so a device taken
without the codename shows only that the client is installed. Each codename has
its own vault; `name` labels its files without saying anything about the
codename to someone who lacks it. Records are padded (Padmé) before sealing.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from crypto import constants as C
from crypto.encoding import blake2b
from crypto.errors import DecryptionError
from crypto.kdf import KdfParams
from crypto.padding import pad, unpad

# Labels of this format; a change of any of them is a change of format.
PERSON_VAULT_KEY: Final = b"rz-vault-key-v1"
PERSON_VAULT_NAME: Final = b"rz-vault-name-v1"
VAULT_CONTEXT_PREFIX: Final = b"raazdar device vault v1\x00"
VAULT_FLOOR: Final = 1024
SALT_BYTES: Final = 16

# A sealed record starts with its random nonce: a file of the record whose first NONCE_BYTES
# are zeros was being overwritten, and opens no more (submit/state.py).
NONCE_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_NONCE_BYTES: Final = NONCE_BYTES
_TAG_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES


class Vault:
    """The key that seals one codename's records on a device; never shown."""

    __slots__ = ("_key", "_name")

    def __init__(self, master: bytes) -> None:
        self._key = blake2b(b"", key=master, person=PERSON_VAULT_KEY, size=C.KEY_BYTES)
        self._name = blake2b(b"", key=master, person=PERSON_VAULT_NAME, size=16).hex()

    @classmethod
    def derive(cls, secret: str, salt: bytes, params: KdfParams) -> Vault:
        """Derive the vault of `secret` (a normalised codename) with the device's salt."""
        text = unicodedata.normalize("NFC", secret).encode("utf-8")
        return cls(params.derive(text, salt, 64))

    @staticmethod
    def new_salt() -> bytes:
        """A fresh random salt for a device."""
        return nacl.utils.random(SALT_BYTES)

    @property
    def name(self) -> str:
        """A label for this vault's files: 32 hex digits that only the secret predicts."""
        return self._name

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Pad and encrypt a record, bound to `context` (what the record is)."""
        nonce = nacl.utils.random(_NONCE_BYTES)
        box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            pad(plaintext, VAULT_FLOOR), VAULT_CONTEXT_PREFIX + context, nonce, self._key
        )
        return nonce + bytes(box)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt a record sealed under the same context, or raise `DecryptionError`."""
        if len(sealed) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("the vault does not open")
        try:
            padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed[_NONCE_BYTES:],
                VAULT_CONTEXT_PREFIX + context,
                sealed[:_NONCE_BYTES],
                self._key,
            )
            return unpad(bytes(padded))
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("the vault does not open") from exc

    def __repr__(self) -> str:
        return "Vault(<secret>)"
