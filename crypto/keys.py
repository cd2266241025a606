"""Typed keys: X25519 for encryption, Ed25519 for signatures, each checked on construction."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import ClassVar, Final

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.errors import FormatError, VerificationError
from crypto.token import TokenKey

_FP_GROUP: Final = 4
_FIELD_PRIME: Final = (1 << 255) - 19


class Fingerprint:
    """A public key's fingerprint: 160 bits of BLAKE2b, shown in groups of base32."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != C.FINGERPRINT_BYTES:
            raise FormatError(f"a fingerprint is {C.FINGERPRINT_BYTES} bytes")
        self._raw = bytes(raw)

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        """Read a fingerprint as people copy it: any case, spaces and dashes ignored."""
        compact = "".join(text.split()).replace("-", "").upper()
        try:
            raw = base64.b32decode(compact)
        except (binascii.Error, ValueError) as exc:
            raise FormatError("invalid fingerprint") from exc
        return cls(raw)

    @property
    def raw(self) -> bytes:
        """The fingerprint bytes."""
        return self._raw

    @property
    def key_id(self) -> bytes:
        """The short id that envelopes use to point at a recipient key."""
        return self._raw[: C.KEY_ID_BYTES]

    def __str__(self) -> str:
        text = base64.b32encode(self._raw).decode("ascii")
        return " ".join(text[i : i + _FP_GROUP] for i in range(0, len(text), _FP_GROUP))

    def __repr__(self) -> str:
        return f"Fingerprint({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)


def _to_text(prefix: str, raw: bytes) -> str:
    check = blake2b(prefix.encode() + raw, person=C.PERSON_KEY_CHECKSUM, size=4)
    return prefix + b64encode(raw + check)


def _from_text(prefix: str, text: str, size: int = C.KEY_BYTES) -> bytes:
    text = text.strip()
    if not text.startswith(prefix):
        found = text.split(":", 1)[0] + ":" if ":" in text else "no type prefix"
        raise FormatError(f"expected a key starting {prefix!r}, got {found!r}")
    data = b64decode(text[len(prefix) :], length=size + C.KEY_TEXT_CHECKSUM_BYTES)
    raw, check = data[:size], data[size:]
    expected = blake2b(prefix.encode() + raw, person=C.PERSON_KEY_CHECKSUM, size=4)
    if not hmac.compare_digest(check, expected):
        raise FormatError("key text checksum does not match: it was mistyped or altered")
    return raw


class _PublicKeyBase:
    """What every public key shares: raw bytes, fingerprint, text form, equality."""

    _prefix: ClassVar[str]
    _type_label: ClassVar[bytes]
    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray) or len(raw) != C.KEY_BYTES:
            raise FormatError(f"a public key is {C.KEY_BYTES} bytes")
        self._raw = bytes(raw)

    @property
    def raw(self) -> bytes:
        """The key bytes."""
        return self._raw

    @property
    def fingerprint(self) -> Fingerprint:
        """The key's fingerprint, bound to the key's type."""
        digest = blake2b(
            self._type_label + b"\x00" + self._raw,
            person=C.PERSON_FINGERPRINT,
            size=C.FINGERPRINT_BYTES,
        )
        return Fingerprint(digest)

    def to_text(self) -> str:
        """Encode with the type prefix and checksum."""
        return _to_text(self._prefix, self._raw)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and hmac.compare_digest(
            self._raw,
            other._raw,
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._raw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.fingerprint)!r})"


class PublicKey(_PublicKeyBase):
    """An X25519 public key that envelopes are sealed to."""

    _prefix = C.KEY_PREFIX_X25519_PUBLIC
    _type_label = b"x25519"
    __slots__ = ()

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw)
        # A low-order point would make every shared secret all-zero; libsodium
        # refuses those, so probing once here rejects them at the door.
        try:
            nacl.bindings.crypto_scalarmult(nacl.utils.random(C.KEY_BYTES), self._raw)
        except nacl.exceptions.CryptoError as exc:
            raise FormatError("not a usable X25519 public key (low-order point)") from exc
        # X25519 ignores bit 255 and reduces mod p, so without this one key would
        # have several encodings, hence several fingerprints and keyring entries.
        if int.from_bytes(self._raw, "little") >= _FIELD_PRIME:
            raise FormatError("not a canonical X25519 public key (bit 255 set, or not below p)")

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """Decode `rz-x25519-public:…`."""
        return cls(_from_text(cls._prefix, text))

    @classmethod
    def _derived(cls, raw: bytes) -> PublicKey:
        """The public key libsodium computed from a private key: [k]B for a clamped k.

        Of the base point's prime order l (k is a multiple of 8 with k/8 below l, so
        never of l) and encoded canonically: neither check above can refuse it, and the
        probe costs a scalar multiplication on every signed-in request.
        """
        key = cls.__new__(cls)
        _PublicKeyBase.__init__(key, raw)
        return key

    @property
    def _nacl(self) -> nacl.public.PublicKey:
        return nacl.public.PublicKey(self._raw)


class VerifyKey(_PublicKeyBase):
    """An Ed25519 public key that checks signatures."""

    _prefix = C.KEY_PREFIX_ED25519_PUBLIC
    _type_label = b"ed25519"
    __slots__ = ()

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw)
        # libsodium never verifies against a small-order or non-canonical point,
        # so such a key could never meet a threshold: refuse it at the door.
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(self._raw):
            raise FormatError("not a valid Ed25519 public key")

    @classmethod
    def from_text(cls, text: str) -> VerifyKey:
        """Decode `rz-ed25519-public:…`."""
        return cls(_from_text(cls._prefix, text))

    def verify(self, context: bytes, message: bytes, signature: bytes) -> None:
        """Check a signature made by `SigningKey.sign` under the same context."""
        if len(signature) != C.SIGNATURE_BYTES:
            raise VerificationError("signature", "a signature is 64 bytes")
        try:
            nacl.signing.VerifyKey(self._raw).verify(context + b"\x00" + message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError) as exc:
            raise VerificationError("signature", "signature does not verify") from exc


class PrivateKey:
    """An X25519 private key that opens envelopes sealed to its public key."""

    __slots__ = ("_key", "_public")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray) or len(raw) != C.KEY_BYTES:
            raise FormatError(f"a private key is {C.KEY_BYTES} bytes")
        self._key = nacl.public.PrivateKey(bytes(raw))
        self._public: PublicKey | None = None

    @classmethod
    def generate(cls) -> PrivateKey:
        """Make a new random key."""
        return cls(nacl.utils.random(C.KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> PrivateKey:
        """Decode `rz-x25519-secret:…`."""
        return cls(_from_text(C.KEY_PREFIX_X25519_SECRET, text))

    def to_text(self) -> str:
        """Encode with the type prefix and checksum. The result is secret."""
        return _to_text(C.KEY_PREFIX_X25519_SECRET, bytes(self._key))

    def secret_bytes(self) -> bytes:
        """The raw secret, for key files only."""
        return bytes(self._key)

    @property
    def public_key(self) -> PublicKey:
        """The matching public key, made once (with no low-order probe: see `_derived`)."""
        if self._public is None:
            self._public = PublicKey._derived(bytes(self._key.public_key))
        return self._public

    @classmethod
    def derive(cls, seed: bytes, label: bytes) -> PrivateKey:
        """Derive a key from a 32-byte secret `seed` for one purpose (label of at most 16 bytes)."""
        return cls(blake2b(b"", key=seed, person=label))

    def agree(self, other: PublicKey, label: bytes) -> TokenKey:
        """Return the token key this key and `other` share (X25519), for one purpose.

        Either side makes the same key from its private key and the other's public
        one; the two public keys are bound in, in a fixed order.
        """
        try:
            shared = nacl.bindings.crypto_scalarmult(bytes(self._key), other.raw)
        except nacl.exceptions.CryptoError as exc:
            raise FormatError("not a usable X25519 public key (low-order point)") from exc
        first, second = sorted((self.public_key.raw, other.raw))
        return TokenKey(blake2b(shared + first + second, person=label))

    @property
    def _nacl(self) -> nacl.public.PrivateKey:
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateKey) and hmac.compare_digest(
            bytes(self._key), bytes(other._key)
        )

    def __hash__(self) -> int:
        return hash(bytes(self._key.public_key))

    def __repr__(self) -> str:
        return f"PrivateKey(public={str(self.public_key.fingerprint)!r})"


class SigningKey:
    """An Ed25519 signing key; every signature is bound to a context label."""

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes | bytearray) or len(seed) != C.KEY_BYTES:
            raise FormatError(f"a signing key seed is {C.KEY_BYTES} bytes")
        self._key = nacl.signing.SigningKey(bytes(seed))

    @classmethod
    def generate(cls) -> SigningKey:
        """Make a new random key."""
        return cls(nacl.utils.random(C.KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """Decode `rz-ed25519-secret:…`."""
        return cls(_from_text(C.KEY_PREFIX_ED25519_SECRET, text))

    def to_text(self) -> str:
        """Encode with the type prefix and checksum. The result is secret."""
        return _to_text(C.KEY_PREFIX_ED25519_SECRET, bytes(self._key))

    def secret_bytes(self) -> bytes:
        """The raw seed, for key files only."""
        return bytes(self._key)

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(bytes(self._key.verify_key))

    def sign(self, context: bytes, message: bytes) -> bytes:
        """Sign `context || 0x00 || message`; returns the 64-byte signature."""
        if b"\x00" in context:
            raise FormatError("a signature context must not contain NUL")
        return bytes(self._key.sign(context + b"\x00" + message).signature)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningKey) and hmac.compare_digest(
            bytes(self._key), bytes(other._key)
        )

    def __hash__(self) -> int:
        return hash(bytes(self._key.verify_key))

    def __repr__(self) -> str:
        return f"SigningKey(public={str(self.verify_key.fingerprint)!r})"
