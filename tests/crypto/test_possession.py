"""Proof of possession: only the holder of both secret keys answers a challenge."""

from __future__ import annotations

import json

import pytest

from crypto import KeyPair, Metadata, VerificationError, open_bytes, seal_bytes
from crypto import constants as C
from crypto.encoding import canonical_json
from crypto.possession import Challenge, answer

ALICE = KeyPair.generate()
MALLORY = KeyPair.generate()


def _challenge(keys: KeyPair, *, instance: str = "i1", holder: str = "alice") -> Challenge:
    assert keys.encryption_public is not None
    assert keys.signing_public is not None
    return Challenge.issue(
        keys.encryption_public, keys.signing_public, instance=instance, holder=holder
    )


def test_the_holder_of_both_keys_answers() -> None:
    challenge = _challenge(ALICE)

    challenge.check(answer(ALICE, challenge.sealed, challenge.statement))


def test_someone_else_cannot_open_a_challenge_sealed_to_a_key_they_do_not_hold() -> None:
    challenge = _challenge(ALICE)

    with pytest.raises(VerificationError):
        answer(MALLORY, challenge.sealed, challenge.statement)


def test_an_x25519_key_edited_in_transit_cannot_answer() -> None:
    """Mallory lists her X25519 key beside Alice's Ed25519 key: she cannot sign as Alice,
    and Alice cannot open what is sealed to Mallory."""
    assert MALLORY.encryption_public is not None
    assert ALICE.signing_public is not None
    challenge = Challenge.issue(
        MALLORY.encryption_public, ALICE.signing_public, instance="i1", holder="alice"
    )
    with pytest.raises(VerificationError):
        answer(ALICE, challenge.sealed, challenge.statement)
    # Her own tool will not sign a statement naming Alice's key; signed by hand, it fails.
    with pytest.raises(VerificationError, match="not this holder's"):
        answer(MALLORY, challenge.sealed, challenge.statement)
    assert MALLORY.encryption is not None
    assert MALLORY.signing is not None
    nonce, _ = open_bytes(challenge.sealed, [MALLORY.encryption])
    by_hand = MALLORY.signing.sign(C.SIG_CONTEXT_POSSESSION, challenge.statement + nonce)
    with pytest.raises(VerificationError):
        challenge.check(by_hand)


def test_an_answer_to_another_challenge_or_statement_is_refused() -> None:
    first, second = _challenge(ALICE), _challenge(ALICE)
    other_instance = _challenge(ALICE, instance="i2")

    with pytest.raises(VerificationError):
        second.check(answer(ALICE, first.sealed, first.statement))
    with pytest.raises(VerificationError):
        first.check(answer(ALICE, first.sealed, other_instance.statement))


def test_a_challenge_for_mallorys_x25519_key_relayed_to_alice_is_not_signed() -> None:
    """Mallory lists her X25519 key beside Alice's Ed25519 key, opens the challenge sealed
    to her own key, seals its nonce to Alice and hands Alice that with the statement
    naming Mallory's key: Alice's answer must not vouch for a pair that is not hers."""
    assert MALLORY.encryption is not None
    assert MALLORY.encryption_public is not None
    assert ALICE.encryption_public is not None
    assert ALICE.signing_public is not None
    challenge = Challenge.issue(
        MALLORY.encryption_public, ALICE.signing_public, instance="i1", holder="alice"
    )
    nonce, _ = open_bytes(challenge.sealed, [MALLORY.encryption])
    relayed = seal_bytes(nonce, [ALICE.encryption_public], Metadata("possession"))
    try:
        signed: bytes | None = answer(ALICE, relayed, challenge.statement)
    except VerificationError:
        signed = None
    if signed is not None:
        challenge.check(signed)  # passes: the pair would be enrolled as Alice's
    assert signed is None, "Alice signed a statement naming Mallory's X25519 key as hers"


@pytest.mark.parametrize("field", ["x25519", "ed25519", "xwing", "type"])
def test_a_statement_naming_other_keys_than_the_holders_is_not_signed(field: str) -> None:
    keys = KeyPair.generate()
    other = KeyPair.generate()
    assert keys.encryption_public is not None
    assert keys.signing_public is not None
    challenge = Challenge.issue(
        keys.encryption_public,
        keys.signing_public,
        instance="i1",
        holder="alice",
        hybrid=keys.hybrid_public,
    )
    said = json.loads(challenge.statement)
    said[field] = "raazdar-something-else" if field == "type" else other._public()[field]
    with pytest.raises(VerificationError, match="not this holder's"):
        answer(keys, challenge.sealed, canonical_json(said), challenge.sealed_hybrid)
    challenge.check(answer(keys, challenge.sealed, challenge.statement, challenge.sealed_hybrid))
