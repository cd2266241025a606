"""A source binding: the reply key a source's device vouches for, sealed inside their report.

`raazdar-submit` derives the source's keys from the codename on the device and
puts this record in the metadata of every envelope it seals: the X25519 key
that replies must be sealed to, signed by the codename's Ed25519 key. Only the
reviewers open the envelope, so the server can neither read nor change it; the
review workstation refuses an export bundle that gives the source another reply
key, so a compromised server cannot redirect replies to a key of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto import constants as C
from crypto.encoding import b64decode, b64encode
from crypto.errors import FormatError
from crypto.fields import exact_object, string
from crypto.keys import PublicKey, SigningKey, VerifyKey

_FIELDS = {"reply_key", "signer", "signature"}


@dataclass(frozen=True, slots=True)
class SourceBinding:
    """A reply key and the codename signing key's signature over it."""

    reply_key: PublicKey
    signer: VerifyKey
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.signature) != C.SIGNATURE_BYTES:
            raise FormatError("a source binding's signature is 64 bytes")

    @classmethod
    def make(cls, reply_key: PublicKey, signing_key: SigningKey) -> SourceBinding:
        """Sign `reply_key` with the codename's signing key, on the source's device."""
        signature = signing_key.sign(C.SIG_CONTEXT_SOURCE_BINDING, _message(reply_key))
        return cls(reply_key, signing_key.verify_key, signature)

    def verify(self) -> None:
        """Check the signature; raises `VerificationError` if it does not hold."""
        self.signer.verify(C.SIG_CONTEXT_SOURCE_BINDING, _message(self.reply_key), self.signature)

    def to_json(self) -> dict[str, str]:
        """The record as it sits in an envelope's metadata."""
        return {
            "reply_key": self.reply_key.to_text(),
            "signer": self.signer.to_text(),
            "signature": b64encode(self.signature),
        }

    @classmethod
    def from_json(cls, value: Any) -> SourceBinding:
        """Parse the record (its signature is checked by `verify`)."""
        obj = exact_object(value, _FIELDS, "source binding")
        return cls(
            PublicKey.from_text(string(obj["reply_key"], "reply key")),
            VerifyKey.from_text(string(obj["signer"], "signer")),
            b64decode(string(obj["signature"], "signature"), length=C.SIGNATURE_BYTES),
        )


def _message(reply_key: PublicKey) -> bytes:
    return reply_key.to_text().encode("ascii")
