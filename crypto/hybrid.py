"""Hybrid post-quantum keys: an X-Wing key pair (ML-KEM-768 + X25519) that envelope v2 seals to.

A reviewer's hybrid key is a key of its own, beside their X25519 and Ed25519
keys: its X25519 half comes from the X-Wing seed, never from the v1 key.
Text forms and fingerprints follow crypto.keys, with the type label `xwing`.
"""

from __future__ import annotations

import hmac

import nacl.utils

from crypto import constants as C
from crypto import xwing
from crypto.errors import FormatError
from crypto.keys import PublicKey, _from_text, _PublicKeyBase, _to_text


class HybridPublicKey(_PublicKeyBase):
    """An X-Wing public key (`pk_M || pk_X`, 1216 bytes) that v2 envelopes are sealed to.

    Refused on construction: an ML-KEM half that fails FIPS 203's encapsulation
    key check, and an X25519 half that `PublicKey` refuses (low order, not
    canonical). So each key has one encoding, hence one fingerprint.
    """

    _prefix = C.KEY_PREFIX_XWING_PUBLIC
    _type_label = b"xwing"
    __slots__ = ("_kem",)

    def __init__(self, raw: bytes) -> None:
        self._kem = xwing.EncapsulationKey(raw)
        self._raw = self._kem.raw
        try:
            PublicKey(self._kem.x25519)
        except FormatError as exc:
            raise FormatError(f"X25519 half of the hybrid key: {exc}") from exc

    @classmethod
    def from_text(cls, text: str) -> HybridPublicKey:
        """Decode `rz-xwing-public:…`."""
        return cls(_from_text(cls._prefix, text, xwing.PUBLIC_KEY_BYTES))

    @property
    def _xwing(self) -> xwing.EncapsulationKey:
        return self._kem


class HybridPrivateKey:
    """An X-Wing private key: the 32-byte seed, expanded in memory once."""

    __slots__ = ("_kem", "_public")

    def __init__(self, seed: bytes) -> None:
        self._kem = xwing.DecapsulationKey(seed)
        self._public = HybridPublicKey(self._kem.public_key.raw)

    @classmethod
    def generate(cls) -> HybridPrivateKey:
        """Make a new random key."""
        return cls(nacl.utils.random(xwing.SEED_BYTES))

    @classmethod
    def from_text(cls, text: str) -> HybridPrivateKey:
        """Decode `rz-xwing-secret:…`."""
        return cls(_from_text(C.KEY_PREFIX_XWING_SECRET, text))

    def to_text(self) -> str:
        """Encode with the type prefix and checksum. The result is secret."""
        return _to_text(C.KEY_PREFIX_XWING_SECRET, self._kem.seed)

    def secret_bytes(self) -> bytes:
        """The raw seed, for key files only."""
        return self._kem.seed

    @property
    def public_key(self) -> HybridPublicKey:
        """The matching public key."""
        return self._public

    @property
    def _xwing(self) -> xwing.DecapsulationKey:
        return self._kem

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HybridPrivateKey) and hmac.compare_digest(
            self._kem.seed, other._kem.seed
        )

    def __hash__(self) -> int:
        return hash(self._public.raw)

    def __repr__(self) -> str:
        return f"HybridPrivateKey(public={str(self._public.fingerprint)!r})"
