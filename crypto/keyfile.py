"""Key files: private keys at rest under a passphrase (Argon2id + XChaCha20-Poly1305).

The public keys, the key file's kind and label sit in the clear so that anyone can
read fingerprints without the passphrase; all of it is bound to the ciphertext as
associated data, so none of it can be altered without the file failing to open.
From format 2 the file's Ed25519 key also signs its public keys, kind and label
(`binding`), so an edit in transit is refused before anyone has the passphrase.
Format 3 adds an X-Wing key (`xwing`: the reviewer's hybrid post-quantum key
for envelope v2), public, secret and bound like the other two; a file without
one is still written, and read, as format 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, canonical_json, parse_json_object
from crypto.errors import DecryptionError, FormatError, UnsupportedVersionError, VerificationError
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.kdf import KdfParams, normalize_passphrase
from crypto.keys import PrivateKey, PublicKey, SigningKey, VerifyKey

_KIND: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")
_MAX_BYTES: Final = C.KEYFILE_MAX_BYTES
_FIELDS_V1: Final = {"type", "format", "kind", "label", "public", "kdf", "salt", "nonce", "sealed"}
_FIELDS: Final = {1: _FIELDS_V1, 2: _FIELDS_V1 | {"binding"}, 3: _FIELDS_V1 | {"binding"}}
_KEYS_V1: Final = frozenset({"x25519", "ed25519"})
# The keys a file's `public` and secret hold, by format.
_KEYS: Final = {1: _KEYS_V1, 2: _KEYS_V1, 3: _KEYS_V1 | {"xwing"}}
_MOST_WORK: Final = KdfParams(C.KEYFILE_MAX_KDF_OPS, C.KEYFILE_MAX_KDF_MEM)


@dataclass(frozen=True, slots=True)
class KeyPair:
    """The private keys a key file holds: X25519, Ed25519 and X-Wing keys, at least one.

    The X-Wing key (`hybrid`) comes with an X25519 key: a reviewer's hybrid key
    is in addition to their v1 key, never instead of it.
    """

    encryption: PrivateKey | None = None
    signing: SigningKey | None = None
    hybrid: HybridPrivateKey | None = None

    def __post_init__(self) -> None:
        if self.encryption is None and self.signing is None:
            raise FormatError("a key file holds at least one key")
        if self.hybrid is not None and self.encryption is None:
            raise FormatError("a key file with an X-Wing key also holds an X25519 key")

    @classmethod
    def generate(
        cls, *, encryption: bool = True, signing: bool = True, hybrid: bool | None = None
    ) -> KeyPair:
        """Make fresh random keys of the kinds asked for.

        `hybrid` defaults to `encryption`: a new key that reports are sealed to
        gets an X-Wing half for envelope v2.
        """
        return cls(
            encryption=PrivateKey.generate() if encryption else None,
            signing=SigningKey.generate() if signing else None,
            hybrid=HybridPrivateKey.generate()
            if (encryption if hybrid is None else hybrid)
            else None,
        )

    def with_hybrid(self) -> KeyPair:
        """These keys with a fresh X-Wing key added (kept if there is one already)."""
        if self.hybrid is not None:
            return self
        return KeyPair(self.encryption, self.signing, HybridPrivateKey.generate())

    @property
    def format(self) -> int:
        """The key file format these keys are written in: 3 with an X-Wing key, else 2."""
        return C.KEYFILE_FORMAT_HYBRID if self.hybrid is not None else C.KEYFILE_FORMAT

    @property
    def hybrid_public(self) -> HybridPublicKey | None:
        """The X-Wing public key, if any."""
        return self.hybrid.public_key if self.hybrid is not None else None

    @property
    def decryption_keys(self) -> list[PrivateKey | HybridPrivateKey]:
        """The keys that open envelopes sealed to this pair: v1 (X25519) and v2 (X-Wing)."""
        return [k for k in (self.encryption, self.hybrid) if k is not None]

    @property
    def encryption_public(self) -> PublicKey | None:
        """The X25519 public key, if any."""
        return self.encryption.public_key if self.encryption is not None else None

    @property
    def signing_public(self) -> VerifyKey | None:
        """The Ed25519 public key, if any."""
        return self.signing.verify_key if self.signing is not None else None

    def _public(self) -> dict[str, str | None]:
        enc, sig = self.encryption_public, self.signing_public
        public = {
            "x25519": enc.to_text() if enc is not None else None,
            "ed25519": sig.to_text() if sig is not None else None,
        }
        if self.hybrid is not None:
            public["xwing"] = self.hybrid.public_key.to_text()
        return public

    def _binding(self, kind: str, label: str) -> bytes | None:
        """The signing key's signature over the public keys, kind and label."""
        if self.signing is None:
            return None
        statement = binding_statement(kind, label, self._public())
        return self.signing.sign(C.SIG_CONTEXT_KEY_BINDING, statement)

    def _secret(self) -> bytes:
        enc, sig = self.encryption, self.signing
        secret = {
            "x25519": b64encode(enc.secret_bytes()) if enc is not None else None,
            "ed25519": b64encode(sig.secret_bytes()) if sig is not None else None,
        }
        if self.hybrid is not None:
            secret["xwing"] = b64encode(self.hybrid.secret_bytes())
        return canonical_json(secret)


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A parsed key file; `unlock` with the passphrase to get the keys."""

    kind: str
    label: str
    public: dict[str, str | None]
    kdf: KdfParams
    salt: bytes
    nonce: bytes
    sealed: bytes
    binding: bytes | None = None
    format: int = C.KEYFILE_FORMAT

    def __post_init__(self) -> None:
        self.kdf.check_at_most(_MOST_WORK, "this key file")

    @classmethod
    def create(
        cls,
        keys: KeyPair,
        passphrase: str,
        *,
        kind: str,
        label: str,
        params: KdfParams = KdfParams.SENSITIVE,
    ) -> KeyFile:
        """Protect `keys` under `passphrase`."""
        _check_kind_and_label(kind, label)
        if not passphrase:
            raise FormatError("a key file needs a passphrase")
        salt = nacl.utils.random(16)
        nonce = nacl.utils.random(C.KEYFILE_AEAD_NONCE_BYTES)
        binding = keys._binding(kind, label)
        public = keys._public()
        draft = cls(kind, label, public, params, salt, nonce, b"", binding, keys.format)
        key = params.derive(normalize_passphrase(passphrase), salt, 32)
        sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            keys._secret(), draft._associated_data(), nonce, key
        )
        return cls(kind, label, public, params, salt, nonce, bytes(sealed), binding, keys.format)

    def unlock(self, passphrase: str) -> KeyPair:
        """Decrypt the keys; a wrong passphrase or any tampering is `DecryptionError`."""
        self.kdf.check_at_most(_MOST_WORK, "this key file")
        key = self.kdf.derive(normalize_passphrase(passphrase), self.salt, 32)
        try:
            secret = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                self.sealed, self._associated_data(), self.nonce, key
            )
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("wrong passphrase, or the key file was altered") from exc
        obj = parse_json_object(bytes(secret), max_bytes=_MAX_BYTES)
        if set(obj) != _KEYS[self.format]:
            raise FormatError("key file secret has unexpected fields")
        xwing = obj.get("xwing")
        keys = KeyPair(
            encryption=PrivateKey(b64decode(obj["x25519"])) if obj["x25519"] else None,
            signing=SigningKey(b64decode(obj["ed25519"])) if obj["ed25519"] else None,
            hybrid=HybridPrivateKey(b64decode(_text(xwing))) if xwing is not None else None,
        )
        if keys._public() != self.public:
            raise FormatError("key file public keys do not match its private keys")
        return keys

    @property
    def bound(self) -> bool:
        """Say whether the file's signing key vouches for its public keys (format 2)."""
        return self.binding is not None

    def check_binding(self) -> None:
        """Refuse public keys, kind or label that the file's own signing key did not sign."""
        signing = self.signing_public
        if self.format < 2:
            return
        if signing is None:
            if self.binding is not None:
                raise FormatError("key file has a binding but no signing key")
            return
        if self.binding is None:
            raise FormatError("key file public keys are not bound by its signing key")
        statement = binding_statement(self.kind, self.label, self.public)
        try:
            signing.verify(C.SIG_CONTEXT_KEY_BINDING, statement, self.binding)
        except VerificationError as exc:
            raise FormatError(
                "key file public keys, kind or label were altered (its binding does not verify)"
            ) from exc

    def change_passphrase(
        self, old: str, new: str, *, params: KdfParams | None = None, add_hybrid: bool = False
    ) -> KeyFile:
        """Re-encrypt under a new passphrase, with a fresh salt and nonce.

        `add_hybrid` also gives a key with an X25519 half a fresh X-Wing key.
        """
        keys = self.unlock(old)
        if add_hybrid and keys.encryption is not None:
            keys = keys.with_hybrid()
        return KeyFile.create(
            keys, new, kind=self.kind, label=self.label, params=params or self.kdf
        )

    def upgraded(self, passphrase: str, *, add_hybrid: bool = False) -> KeyFile:
        """Re-write as the current format (with its binding), same keys and passphrase.

        With `add_hybrid`, an encryption key file also gains an X-Wing key (format 3).
        """
        return self.change_passphrase(passphrase, passphrase, add_hybrid=add_hybrid)

    @property
    def encryption_public(self) -> PublicKey | None:
        """The X25519 public key, readable without the passphrase."""
        text = self.public.get("x25519")
        return PublicKey.from_text(text) if text else None

    @property
    def signing_public(self) -> VerifyKey | None:
        """The Ed25519 public key, readable without the passphrase."""
        text = self.public.get("ed25519")
        return VerifyKey.from_text(text) if text else None

    @property
    def hybrid_public(self) -> HybridPublicKey | None:
        """The X-Wing public key (format 3), readable without the passphrase."""
        text = self.public.get("xwing")
        return HybridPublicKey.from_text(text) if text else None

    def to_bytes(self) -> bytes:
        """Serialise as canonical JSON with a trailing newline."""
        return canonical_json(self._fields(sealed=True)) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyFile:
        """Parse a key file strictly."""
        obj = parse_json_object(data.rstrip(b"\n"), max_bytes=_MAX_BYTES)
        if obj.get("type") != C.KEYFILE_TYPE:
            raise FormatError("not a Raazdar key file")
        # JSON `true` is not `1`, though Python's `True == 1`.
        fmt = obj.get("format")
        if type(fmt) is not int or fmt not in C.KEYFILE_FORMATS_READ:
            raise UnsupportedVersionError(f"unsupported key file format {fmt!r}")
        if set(obj) != _FIELDS[fmt]:
            raise FormatError("key file has missing or unexpected fields")
        public = obj["public"]
        if (
            not isinstance(public, dict)
            or set(public) != _KEYS[fmt]
            or not all(v is None or isinstance(v, str) for v in public.values())
        ):
            raise FormatError("key file public keys are malformed")
        if fmt == C.KEYFILE_FORMAT_HYBRID and (
            not isinstance(public["xwing"], str) or not isinstance(public["x25519"], str)
        ):
            raise FormatError("a format 3 key file holds an X-Wing key and an X25519 key")
        if not isinstance(obj["kind"], str) or not isinstance(obj["label"], str):
            raise FormatError("key file kind and label must be strings")
        _check_kind_and_label(obj["kind"], obj["label"])
        result = cls(
            kind=obj["kind"],
            label=obj["label"],
            public=public,
            kdf=KdfParams.from_dict(obj["kdf"]),
            salt=b64decode(_text(obj["salt"]), length=16),
            nonce=b64decode(_text(obj["nonce"]), length=C.KEYFILE_AEAD_NONCE_BYTES),
            sealed=b64decode(_text(obj["sealed"])),
            binding=(
                b64decode(_text(obj["binding"]), length=C.SIGNATURE_BYTES)
                if obj.get("binding") is not None
                else None
            ),
            format=fmt,
        )
        # Parse the public keys now so a damaged file fails before any passphrase prompt.
        _ = (result.encryption_public, result.signing_public, result.hybrid_public)
        result.check_binding()
        return result

    def _fields(self, *, sealed: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "type": C.KEYFILE_TYPE,
            "format": self.format,
            "kind": self.kind,
            "label": self.label,
            "public": self.public,
            "kdf": self.kdf.to_dict(),
            "salt": b64encode(self.salt),
            "nonce": b64encode(self.nonce),
        }
        if self.format >= 2:
            fields["binding"] = b64encode(self.binding) if self.binding is not None else None
        if sealed:
            fields["sealed"] = b64encode(self.sealed)
        return fields

    def _associated_data(self) -> bytes:
        return canonical_json(self._fields(sealed=False))


def binding_statement(kind: str, label: str, public: dict[str, str | None]) -> bytes:
    """What a key file's binding signs: its type, kind, label and every public key.

    The X-Wing key is in the statement only when the file has one (format 3), so
    a format-2 file's binding is what it always was.
    """
    statement = {
        "type": C.KEYFILE_BINDING_TYPE,
        "kind": kind,
        "label": label,
        "x25519": public.get("x25519"),
        "ed25519": public.get("ed25519"),
    }
    if public.get("xwing") is not None:
        statement["xwing"] = public["xwing"]
    return canonical_json(statement)


def _check_kind_and_label(kind: str, label: str) -> None:
    if not _KIND.fullmatch(kind):
        raise FormatError("key file kind must match [a-z][a-z0-9-]{0,31}")
    if not (0 < len(label) <= 200) or not label.isprintable():
        raise FormatError("key file label must be 1-200 printable characters")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise FormatError("expected a string")
    return value
