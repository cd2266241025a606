"""Proof of possession: only the holder of both secret keys answers a challenge."""

from __future__ import annotations

import pytest

from crypto import KeyPair, VerificationError
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
    opened_by_mallory = answer(MALLORY, challenge.sealed, challenge.statement)
    with pytest.raises(VerificationError):
        challenge.check(opened_by_mallory)


def test_an_answer_to_another_challenge_or_statement_is_refused() -> None:
    first, second = _challenge(ALICE), _challenge(ALICE)
    other_instance = _challenge(ALICE, instance="i2")

    with pytest.raises(VerificationError):
        second.check(answer(ALICE, first.sealed, first.statement))
    with pytest.raises(VerificationError):
        first.check(answer(ALICE, first.sealed, other_instance.statement))
