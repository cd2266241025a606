"""Proof of possession: before a key is enrolled, its holder shows they hold both halves.

The enrolling side seals a random challenge to the X25519 key; the holder opens
it (so they hold the X25519 secret) and signs it, together with a statement
naming the instance, their reviewer id and both public keys, with the Ed25519
key (so they hold that too, and vouch for the pair). A public key edited in
transit, or a key someone else holds, cannot answer.

A key with an X-Wing half (format-3 key files) gets a second nonce, sealed in
an envelope v2 to the X-Wing key; the statement names that key too, and the
answer signs both nonces, so the holder shows they hold all three secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nacl.utils

from crypto import constants as C
from crypto.encoding import canonical_json, parse_json_object
from crypto.envelope import Metadata, open_bytes, seal_bytes
from crypto.errors import DecryptionError, FormatError, VerificationError
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.keyfile import KeyPair
from crypto.keys import PrivateKey, PublicKey, VerifyKey

_METADATA = Metadata("possession")
# A statement is a few key texts, an X-Wing key's 1.6 KB the largest.
_STATEMENT_MAX_BYTES = 16 * 1024


def statement(
    encryption: PublicKey,
    signing: VerifyKey,
    *,
    instance: str,
    holder: str,
    hybrid: HybridPublicKey | None = None,
) -> bytes:
    """What the holder's answer binds: the instance, their id and every public key."""
    said = {
        "type": C.POSSESSION_TYPE,
        "instance": instance,
        "holder": holder,
        "x25519": encryption.to_text(),
        "ed25519": signing.to_text(),
    }
    if hybrid is not None:
        said["xwing"] = hybrid.to_text()
    return canonical_json(said)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A fresh challenge for one pair of public keys; keep it to check the answer."""

    encryption: PublicKey
    signing: VerifyKey
    statement: bytes
    sealed: bytes = field(repr=False)
    _nonce: bytes = field(repr=False)
    sealed_hybrid: bytes | None = field(default=None, repr=False)
    _hybrid_nonce: bytes = field(default=b"", repr=False)

    @classmethod
    def issue(
        cls,
        encryption: PublicKey,
        signing: VerifyKey,
        *,
        instance: str,
        holder: str,
        hybrid: HybridPublicKey | None = None,
    ) -> Challenge:
        """Make a random challenge sealed to `encryption` (and one to `hybrid`, if given)."""
        nonce = nacl.utils.random(C.POSSESSION_NONCE_BYTES)
        said = statement(encryption, signing, instance=instance, holder=holder, hybrid=hybrid)
        sealed = seal_bytes(nonce, [encryption], _METADATA)
        if hybrid is None:
            return cls(encryption, signing, said, sealed, nonce)
        second = nacl.utils.random(C.POSSESSION_NONCE_BYTES)
        sealed_hybrid = seal_bytes(second, [hybrid], _METADATA)
        return cls(encryption, signing, said, sealed, nonce, sealed_hybrid, second)

    def check(self, answer: bytes) -> None:
        """Accept only a signature, by the Ed25519 key, over the statement and the opened nonces."""
        message = self.statement + self._nonce + self._hybrid_nonce
        try:
            self.signing.verify(C.SIG_CONTEXT_POSSESSION, message, answer)
        except VerificationError as exc:
            raise VerificationError(
                "possession", "the key's holder did not answer the challenge"
            ) from exc


def answer(keys: KeyPair, sealed: bytes, said: bytes, sealed_hybrid: bytes | None = None) -> bytes:
    """As the holder: open the challenge(s) with the X25519 (and X-Wing) key, sign with Ed25519."""
    if keys.encryption is None or keys.signing is None:
        raise FormatError("proof of possession needs an X25519 and an Ed25519 key")
    _check_own(keys, said)
    nonce = _open(sealed, keys.encryption)
    if sealed_hybrid is not None:
        if keys.hybrid is None:
            raise VerificationError("possession", "the challenge is sealed to an X-Wing key")
        nonce += _open(sealed_hybrid, keys.hybrid)
    return keys.signing.sign(C.SIG_CONTEXT_POSSESSION, said + nonce)


def _check_own(keys: KeyPair, said: bytes) -> None:
    """Refuse to sign a statement that names keys other than the holder's own.

    The nonce proves only that *some* key opened it: a challenge for someone else's
    X25519 key beside this holder's Ed25519 key, its nonce sealed again to this holder,
    would otherwise be answered, and that pair enrolled as this holder's.
    """
    obj = parse_json_object(said, max_bytes=_STATEMENT_MAX_BYTES)
    own: dict[str, str | None] = {
        "type": C.POSSESSION_TYPE,
        "x25519": keys.encryption_public.to_text() if keys.encryption_public else None,
        "ed25519": keys.signing_public.to_text() if keys.signing_public else None,
    }
    if "xwing" in obj:
        own["xwing"] = keys.hybrid_public.to_text() if keys.hybrid_public else None
    if any(obj.get(name) != value for name, value in own.items()):
        raise VerificationError("possession", "the statement names keys that are not this holder's")


def _open(sealed: bytes, key: PrivateKey | HybridPrivateKey) -> bytes:
    try:
        nonce, opened = open_bytes(sealed, [key])
    except DecryptionError as exc:
        raise VerificationError("possession", "the challenge is not sealed to this key") from exc
    if opened.metadata != _METADATA or len(nonce) != C.POSSESSION_NONCE_BYTES:
        raise FormatError("not a proof-of-possession challenge")
    return nonce
