"""Proof of possession: before a key is enrolled, its holder shows they hold both halves.

The enrolling side seals a random challenge to the X25519 key; the holder opens
it (so they hold the X25519 secret) and signs it, together with a statement
naming the instance, their reviewer id and both public keys, with the Ed25519
key (so they hold that too, and vouch for the pair). A public key edited in
transit, or a key someone else holds, cannot answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nacl.utils

from crypto import constants as C
from crypto.encoding import canonical_json
from crypto.envelope import Metadata, open_bytes, seal_bytes
from crypto.errors import DecryptionError, FormatError, VerificationError
from crypto.keyfile import KeyPair
from crypto.keys import PublicKey, VerifyKey

_METADATA = Metadata("possession")


def statement(encryption: PublicKey, signing: VerifyKey, *, instance: str, holder: str) -> bytes:
    """What the holder's answer binds: the instance, their id and both public keys."""
    return canonical_json(
        {
            "type": C.POSSESSION_TYPE,
            "instance": instance,
            "holder": holder,
            "x25519": encryption.to_text(),
            "ed25519": signing.to_text(),
        }
    )


@dataclass(frozen=True, slots=True)
class Challenge:
    """A fresh challenge for one pair of public keys; keep it to check the answer."""

    encryption: PublicKey
    signing: VerifyKey
    statement: bytes
    sealed: bytes = field(repr=False)
    _nonce: bytes = field(repr=False)

    @classmethod
    def issue(
        cls, encryption: PublicKey, signing: VerifyKey, *, instance: str, holder: str
    ) -> Challenge:
        """Make a random challenge sealed to `encryption`."""
        nonce = nacl.utils.random(C.POSSESSION_NONCE_BYTES)
        said = statement(encryption, signing, instance=instance, holder=holder)
        return cls(encryption, signing, said, seal_bytes(nonce, [encryption], _METADATA), nonce)

    def check(self, answer: bytes) -> None:
        """Accept only a signature, by the Ed25519 key, over the statement and the opened nonce."""
        try:
            self.signing.verify(C.SIG_CONTEXT_POSSESSION, self.statement + self._nonce, answer)
        except VerificationError as exc:
            raise VerificationError(
                "possession", "the key's holder did not answer the challenge"
            ) from exc


def answer(keys: KeyPair, sealed: bytes, said: bytes) -> bytes:
    """As the holder: open the challenge with the X25519 key, sign it with the Ed25519 key."""
    if keys.encryption is None or keys.signing is None:
        raise FormatError("proof of possession needs an X25519 and an Ed25519 key")
    try:
        nonce, opened = open_bytes(sealed, [keys.encryption])
    except DecryptionError as exc:
        raise VerificationError("possession", "the challenge is not sealed to this key") from exc
    if opened.metadata != _METADATA or len(nonce) != C.POSSESSION_NONCE_BYTES:
        raise FormatError("not a proof-of-possession challenge")
    return keys.signing.sign(C.SIG_CONTEXT_POSSESSION, said + nonce)
