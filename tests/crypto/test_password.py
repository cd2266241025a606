"""Staff password hashing (Argon2id) and diceware passphrases."""

from __future__ import annotations

import pytest

from crypto import (
    PASSWORD_COST,
    FormatError,
    KdfParams,
    generate_passphrase,
    hash_password,
    needs_rehash,
    unmatchable_hash,
    verify_password,
)
from crypto.codename import wordlist
from crypto.password import hash_cost

PASSWORD = "correct horse battery staple"


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$")
    assert verify_password(encoded, PASSWORD)
    assert not verify_password(encoded, PASSWORD + " ")
    assert not verify_password(encoded, PASSWORD.upper())


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_the_hash_does_not_contain_the_password() -> None:
    assert PASSWORD.split()[0] not in hash_password(PASSWORD)


@pytest.mark.parametrize(
    "encoded",
    ["", "plain", "$argon2i$v=19$m=65536,t=2,p=1$AAAA$BBBB", "$argon2id$garbage", "\udcff"],
)
def test_a_malformed_hash_never_matches(encoded: str) -> None:
    assert not verify_password(encoded, PASSWORD)


def test_a_tampered_hash_does_not_match() -> None:
    encoded = hash_password(PASSWORD)
    flipped = encoded[:-2] + ("A" if encoded[-2] != "A" else "B") + encoded[-1]
    assert not verify_password(flipped, PASSWORD)


@pytest.mark.parametrize("password", ["short", "x" * 11, "x" * 1025])
def test_passwords_out_of_bounds_are_refused(password: str) -> None:
    with pytest.raises(FormatError):
        hash_password(password)


def test_an_overlong_candidate_is_refused_without_hashing() -> None:
    assert not verify_password(hash_password(PASSWORD), "x" * 1025)


def test_todays_costs_need_no_rehash_and_weaker_ones_do() -> None:
    assert not needs_rehash(hash_password(PASSWORD))
    assert needs_rehash("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43)


def test_a_hash_at_another_cost_names_it_and_is_rehashed_at_the_one_asked() -> None:
    cheap = hash_password(PASSWORD, KdfParams.TESTING)
    assert "$m=8,t=1,p=1$" in cheap
    assert verify_password(cheap, PASSWORD)
    assert not verify_password(cheap, PASSWORD + "!")
    assert needs_rehash(cheap)  # at today's cost
    assert not needs_rehash(cheap, KdfParams.TESTING)
    assert needs_rehash(hash_password(PASSWORD), KdfParams.TESTING)
    # A name without an account costs what the instance's own hashes cost.
    assert not needs_rehash(unmatchable_hash(KdfParams.TESTING), KdfParams.TESTING)
    assert not needs_rehash(unmatchable_hash(), PASSWORD_COST)


def test_a_passphrase_is_seven_words_from_the_eff_list() -> None:
    words = generate_passphrase().split(" ")
    assert len(words) == 7
    assert set(words) <= set(wordlist())
    assert generate_passphrase() != generate_passphrase()
    assert len(generate_passphrase(3).split(" ")) == 3


def test_an_unmatchable_hash_matches_no_password_and_costs_a_check() -> None:
    encoded = unmatchable_hash()
    assert encoded.startswith("$argon2id$")
    assert not needs_rehash(encoded)
    assert unmatchable_hash() != encoded
    assert not verify_password(encoded, PASSWORD)
    assert not verify_password(encoded, "")


def test_a_hash_names_the_costs_it_was_made_at() -> None:
    """What a login reads to check a stand-in at each cost in use (`hash_cost`)."""
    assert hash_cost(hash_password(PASSWORD, KdfParams.TESTING)) == KdfParams.TESTING
    assert hash_cost(unmatchable_hash()) == PASSWORD_COST
    assert hash_cost("not a hash") is None
    # Costs below what libsodium takes name no cost this module would hash at.
    assert hash_cost("$argon2id$v=19$m=0,t=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43) is None
