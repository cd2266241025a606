"""X-Wing, the hybrid KEM of ML-KEM-768 and X25519 (draft-connolly-cfrg-xwing-kem-10).

Followed: draft-connolly-cfrg-xwing-kem-10 (2 March 2026), whose test vectors
are unchanged since -06. The decapsulation key is a 32-byte seed, expanded with
SHAKE256 into ML-KEM-768's `d || z` and an X25519 secret; the shared secret is
SHA3-256 over both halves' secrets, the X25519 ciphertext and public key, and
the X-Wing label. ML-KEM-768 is pyca `cryptography`'s (keys from the 64-byte
seed `d || z`, the FIPS 203 encapsulation key check on loading a public key);
X25519 is libsodium's, through PyNaCl.

Breaking either half alone yields nothing: the shared secret needs both `ss_M`
and `ss_X`. A key object here is the draft's "expanded decapsulation key", kept
in memory only; what is stored or sent is the seed, never the expansion.
"""

from __future__ import annotations

import hashlib
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.utils
from cryptography.hazmat.primitives.asymmetric import mlkem

from crypto.errors import DecryptionError, FormatError

SEED_BYTES: Final = 32
MLKEM_PUBLIC_BYTES: Final = 1184
MLKEM_CIPHERTEXT_BYTES: Final = 1088
X25519_BYTES: Final = 32
PUBLIC_KEY_BYTES: Final = MLKEM_PUBLIC_BYTES + X25519_BYTES  # 1216
CIPHERTEXT_BYTES: Final = MLKEM_CIPHERTEXT_BYTES + X25519_BYTES  # 1120
SHARED_SECRET_BYTES: Final = 32
ENCAPSULATION_SEED_BYTES: Final = 64
# "\./" || "/^\": the draft's domain separator, last in the combiner's input.
LABEL: Final = b"\\./" + b"/^\\"


def combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    """SHA3-256(ss_M || ss_X || ct_X || pk_X || label): the X-Wing shared secret."""
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + LABEL).digest()


class EncapsulationKey:
    """An X-Wing public key (1216 bytes), checked as FIPS 203 §7.2 asks."""

    __slots__ = ("_mlkem", "_raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray) or len(raw) != PUBLIC_KEY_BYTES:
            raise FormatError(f"an X-Wing public key is {PUBLIC_KEY_BYTES} bytes")
        self._raw = bytes(raw)
        try:
            # Refuses an encapsulation key whose coefficients are not all below q
            # (the modulus check), so each key has exactly one encoding.
            self._mlkem = mlkem.MLKEM768PublicKey.from_public_bytes(self._raw[:MLKEM_PUBLIC_BYTES])
        except ValueError as exc:
            raise FormatError("not a valid ML-KEM-768 encapsulation key") from exc

    @property
    def raw(self) -> bytes:
        """The key bytes: `pk_M || pk_X`."""
        return self._raw

    @property
    def x25519(self) -> bytes:
        """The X25519 half, `pk_X`."""
        return self._raw[MLKEM_PUBLIC_BYTES:]

    def encapsulate(self) -> tuple[bytes, bytes]:
        """Return `(shared_secret, ciphertext)` for a fresh random encapsulation."""
        ss_m, ct_m = self._mlkem.encapsulate()
        return self.finish_encapsulation(ss_m, ct_m, nacl.utils.random(X25519_BYTES))

    def finish_encapsulation(self, ss_m: bytes, ct_m: bytes, ek_x: bytes) -> tuple[bytes, bytes]:
        """Add the X25519 half, ephemeral secret `ek_x`, to an ML-KEM encapsulation.

        Separate so that the known-answer tests can drive it with the vectors'
        `eseed[32:64]`: pyca exposes no derandomized ML-KEM encapsulation.
        """
        if len(ek_x) != X25519_BYTES or len(ct_m) != MLKEM_CIPHERTEXT_BYTES:
            raise FormatError("wrong length for an X-Wing encapsulation input")
        ct_x = nacl.bindings.crypto_scalarmult_base(ek_x)
        try:
            ss_x = nacl.bindings.crypto_scalarmult(ek_x, self.x25519)
        except nacl.exceptions.CryptoError as exc:
            raise FormatError("X25519 half of the public key is a low-order point") from exc
        return combiner(ss_m, ss_x, ct_x, self.x25519), ct_m + ct_x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EncapsulationKey) and self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)


class DecapsulationKey:
    """An X-Wing private key: the 32-byte seed and, in memory, its expansion."""

    __slots__ = ("_mlkem", "_public", "_seed", "_sk_x")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_BYTES:
            raise FormatError(f"an X-Wing seed is {SEED_BYTES} bytes")
        self._seed = bytes(seed)
        expanded = hashlib.shake_256(self._seed).digest(96)
        # ML-KEM-768.KeyGen_internal(d, z) with d = expanded[0:32], z = expanded[32:64].
        self._mlkem = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self._sk_x = expanded[64:]
        pk_x = nacl.bindings.crypto_scalarmult_base(self._sk_x)
        self._public = EncapsulationKey(self._mlkem.public_key().public_bytes_raw() + pk_x)

    @classmethod
    def generate(cls) -> DecapsulationKey:
        """Make a new random key (GenerateKeyPair)."""
        return cls(nacl.utils.random(SEED_BYTES))

    @property
    def seed(self) -> bytes:
        """The decapsulation key as the draft stores it. Secret."""
        return self._seed

    @property
    def public_key(self) -> EncapsulationKey:
        """The matching encapsulation key."""
        return self._public

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """Return the shared secret of `ciphertext`; only a wrong length or low-order point fails.

        ML-KEM rejects implicitly: a tampered ML-KEM half gives a pseudorandom
        secret, not an error. An X25519 half that is a low-order point is
        refused (libsodium will not return the all-zero secret); X-Wing itself
        would combine the known secret, so refusing changes no honest result.
        """
        if len(ciphertext) != CIPHERTEXT_BYTES:
            raise DecryptionError("an X-Wing ciphertext is 1120 bytes")
        ct_m, ct_x = ciphertext[:MLKEM_CIPHERTEXT_BYTES], ciphertext[MLKEM_CIPHERTEXT_BYTES:]
        ss_m = self._mlkem.decapsulate(ct_m)
        try:
            ss_x = nacl.bindings.crypto_scalarmult(self._sk_x, ct_x)
        except nacl.exceptions.CryptoError as exc:
            raise DecryptionError("X25519 half of the ciphertext is a low-order point") from exc
        return combiner(ss_m, ss_x, ct_x, self._public.x25519)
