"""A source binding: the reply keys a source's device vouches for, sealed inside their report.

`raazdar-submit` derives the source's keys from the codename on the device and
puts this record in the metadata of every envelope it seals: the X25519 key
that replies must be sealed to, signed by the codename's Ed25519 key. Only the
reviewers open the envelope, so the server can neither read nor change it; the
review workstation refuses an export bundle that gives the source another reply
key, so a compromised server cannot redirect replies to a key of its own.

A binding of version 2 also commits to the submission's one-time reply
prekeys (`ReplyPrekeys`, docs/PROTOCOL.md §5A.9): four X-Wing public keys
whose secrets only the device holds and deletes once a reply sealed to one is
read. The keys are 6.5 KB, more than an envelope's metadata record may hold, so
the record carries their digest under the signature and the keys themselves
travel in the report record that the same envelope seals.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.errors import FormatError, VerificationError
from crypto.fields import exact_object, list_of, string
from crypto.hybrid import HybridPublicKey
from crypto.keys import PublicKey, SigningKey, VerifyKey

_FIELDS = frozenset({"reply_key", "signer", "signature"})
_FIELDS_V2 = _FIELDS | {"reply_prekeys"}
_DIGEST_BYTES = 32


@dataclass(frozen=True, slots=True)
class ReplyPrekeys:
    """One submission's one-time reply prekeys: `REPLY_PREKEYS` distinct X-Wing public keys."""

    keys: tuple[HybridPublicKey, ...]

    def __post_init__(self) -> None:
        if len(self.keys) != C.REPLY_PREKEYS or not all(
            isinstance(k, HybridPublicKey) for k in self.keys
        ):
            raise FormatError(f"a binding carries exactly {C.REPLY_PREKEYS} hybrid reply prekeys")
        if len(set(self.keys)) != len(self.keys):
            raise FormatError("a reply prekey appears twice")

    def digest(self) -> bytes:
        """What a binding of version 2 commits to: a hash of the keys, in order."""
        return blake2b(b"".join(k.raw for k in self.keys), person=C.PERSON_REPLY_PREKEYS)

    def to_json(self) -> list[str]:
        """The keys as key text, as the report record carries them."""
        return [k.to_text() for k in self.keys]

    @classmethod
    def from_json(cls, value: Any) -> ReplyPrekeys:
        """Parse the list of key texts (checked against a binding by `SourceBinding.check`)."""
        texts = list_of(value, "reply prekeys")
        return cls(tuple(HybridPublicKey.from_text(string(t, "reply prekey")) for t in texts))


@dataclass(frozen=True, slots=True)
class SourceBinding:
    """A reply key, perhaps a digest of reply prekeys, and the codename key's signature."""

    reply_key: PublicKey
    signer: VerifyKey
    signature: bytes
    # The digest of the submission's `ReplyPrekeys`; None in a binding of version 1.
    prekeys: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.signature) != C.SIGNATURE_BYTES:
            raise FormatError("a source binding's signature is 64 bytes")
        if self.prekeys is not None and len(self.prekeys) != _DIGEST_BYTES:
            raise FormatError("a source binding's prekey digest is 32 bytes")

    @classmethod
    def make(
        cls, reply_key: PublicKey, signing_key: SigningKey, prekeys: ReplyPrekeys | None = None
    ) -> SourceBinding:
        """Sign `reply_key` (and `prekeys`, if any) with the codename's key, on the device."""
        digest = prekeys.digest() if prekeys is not None else None
        context, message = _signed(reply_key, digest)
        return cls(reply_key, signing_key.verify_key, signing_key.sign(context, message), digest)

    def verify(self) -> None:
        """Check the signature; raises `VerificationError` if it does not hold."""
        context, message = _signed(self.reply_key, self.prekeys)
        self.signer.verify(context, message, self.signature)

    def check(self, prekeys: ReplyPrekeys) -> None:
        """Check that `prekeys` are the ones this (verified) binding commits to."""
        if self.prekeys is None or not hmac.compare_digest(self.prekeys, prekeys.digest()):
            raise VerificationError(
                "prekeys", "the reply prekeys are not the ones the source signed"
            )

    def to_json(self) -> dict[str, str]:
        """The record as it sits in an envelope's metadata."""
        record = {
            "reply_key": self.reply_key.to_text(),
            "signer": self.signer.to_text(),
            "signature": b64encode(self.signature),
        }
        if self.prekeys is not None:
            record["reply_prekeys"] = b64encode(self.prekeys)
        return record

    @classmethod
    def from_json(cls, value: Any) -> SourceBinding:
        """Parse the record (its signature is checked by `verify`)."""
        fields = _FIELDS_V2 if isinstance(value, dict) and "reply_prekeys" in value else _FIELDS
        obj = exact_object(value, set(fields), "source binding")
        digest = None
        if "reply_prekeys" in obj:
            digest = b64decode(string(obj["reply_prekeys"], "prekey digest"), length=_DIGEST_BYTES)
        return cls(
            PublicKey.from_text(string(obj["reply_key"], "reply key")),
            VerifyKey.from_text(string(obj["signer"], "signer")),
            b64decode(string(obj["signature"], "signature"), length=C.SIGNATURE_BYTES),
            digest,
        )


@dataclass(frozen=True, slots=True)
class UnheldPrekey:
    """A device's signed word that it holds no secret of one reply prekey (its key id).

    `raazdar-submit` signs it with the codename's key when the server lists a
    reviewer's reply sealed to a prekey the device's state never held or lost
    (a wiped phone, a state put back from a copy): the reply will never open
    there. The server passes it on in exports; the workstation checks the
    signer against the one that signed the prekey, so neither the server nor a
    courier can make a reply look unread.
    """

    key_id: bytes
    signer: VerifyKey
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.key_id) != C.KEY_ID_BYTES:
            raise FormatError(f"a prekey's key id is {C.KEY_ID_BYTES} bytes")
        if len(self.signature) != C.SIGNATURE_BYTES:
            raise FormatError("an unheld prekey's signature is 64 bytes")

    @classmethod
    def make(cls, key_id: bytes, signing_key: SigningKey) -> UnheldPrekey:
        """Sign, on the device, that the prekey with this key id is not held here."""
        return cls(key_id, signing_key.verify_key, signing_key.sign(_UNHELD, key_id))

    def verify(self) -> None:
        """Check the signature; raises `VerificationError` if it does not hold."""
        self.signer.verify(_UNHELD, self.key_id, self.signature)

    def to_json(self) -> dict[str, str]:
        """The record as the API takes it and an export carries it."""
        return {
            "key_id": self.key_id.hex(),
            "signer": self.signer.to_text(),
            "signature": b64encode(self.signature),
        }

    @classmethod
    def from_json(cls, value: Any) -> UnheldPrekey:
        """Parse the record (its signature is checked by `verify`)."""
        obj = exact_object(value, {"key_id", "signer", "signature"}, "unheld prekey")
        key_id = string(obj["key_id"], "key id")
        if not _HEX_KEY_ID.fullmatch(key_id):
            raise FormatError(f"a prekey's key id is {2 * C.KEY_ID_BYTES} lowercase hex digits")
        return cls(
            bytes.fromhex(key_id),
            VerifyKey.from_text(string(obj["signer"], "signer")),
            b64decode(string(obj["signature"], "signature"), length=C.SIGNATURE_BYTES),
        )


_UNHELD = C.SIG_CONTEXT_UNHELD_PREKEY
_HEX_KEY_ID = re.compile(f"[0-9a-f]{{{2 * C.KEY_ID_BYTES}}}")


def _signed(reply_key: PublicKey, digest: bytes | None) -> tuple[bytes, bytes]:
    """The signature context and message: v1 over the key text, v2 over it, LF, the digest."""
    text = reply_key.to_text().encode("ascii")
    if digest is None:
        return C.SIG_CONTEXT_SOURCE_BINDING, text
    return C.SIG_CONTEXT_SOURCE_BINDING_V2, text + b"\n" + digest
