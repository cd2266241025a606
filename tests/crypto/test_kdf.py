"""Argon2id parameters: named sets, strict (de)serialisation, passphrase normalisation."""

from __future__ import annotations

from typing import Any

import pytest

from crypto import FormatError, KdfParams
from crypto.kdf import normalize_passphrase


def test_named_parameter_sets_are_as_specified() -> None:
    assert (KdfParams.INTERACTIVE.ops, KdfParams.INTERACTIVE.mem) == (4, 128 * 1024**2)
    assert (KdfParams.SENSITIVE.ops, KdfParams.SENSITIVE.mem) == (4, 256 * 1024**2)
    assert (KdfParams.TESTING.ops, KdfParams.TESTING.mem) == (1, 8 * 1024)


def test_only_the_testing_set_counts_as_testing() -> None:
    assert KdfParams.TESTING.is_testing
    assert not KdfParams.INTERACTIVE.is_testing
    assert not KdfParams.SENSITIVE.is_testing
    assert KdfParams(ops=4, mem=128 * 1024**2 - 1024).is_testing


@pytest.mark.parametrize("params", [KdfParams.TESTING, KdfParams.SENSITIVE, KdfParams(3, 65536)])
def test_parameters_round_trip_through_their_dict(params: KdfParams) -> None:
    assert KdfParams.from_dict(params.to_dict()) == params
    assert params.to_dict()["alg"] == "argon2id13"


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {"alg": "argon2id13", "ops": 1},
        {"alg": "argon2id13", "ops": 1, "mem": 8192, "extra": 0},
        {"alg": "argon2i13", "ops": 1, "mem": 8192},
        {"alg": "scrypt", "ops": 1, "mem": 8192},
        {"alg": "argon2id13", "ops": "1", "mem": 8192},
        {"alg": "argon2id13", "ops": True, "mem": 8192},
        {"alg": "argon2id13", "ops": 1.0, "mem": 8192},
        {"alg": "argon2id13", "ops": 0, "mem": 8192},
        {"alg": "argon2id13", "ops": 17, "mem": 8192},
        {"alg": "argon2id13", "ops": 1, "mem": 8191},
        {"alg": "argon2id13", "ops": 1, "mem": 4 * 1024**3 + 1},
    ],
    ids=[
        "none",
        "list",
        "missing-mem",
        "extra-field",
        "argon2i",
        "other-kdf",
        "ops-string",
        "ops-bool",
        "ops-float",
        "ops-zero",
        "ops-too-many",
        "mem-too-little",
        "mem-too-much",
    ],
)
def test_malformed_parameters_are_refused(value: Any) -> None:
    with pytest.raises(FormatError):
        KdfParams.from_dict(value)


def test_derive_gives_the_size_asked_for_and_depends_on_every_input() -> None:
    salt = bytes(16)
    base = KdfParams.TESTING.derive(b"secret", salt, 32)

    assert len(base) == 32
    assert KdfParams.TESTING.derive(b"secret", salt, 32) == base
    assert KdfParams.TESTING.derive(b"secret!", salt, 32) != base
    assert KdfParams.TESTING.derive(b"secret", bytes([1]) + bytes(15), 32) != base
    assert KdfParams(ops=2, mem=8192).derive(b"secret", salt, 32) != base


def test_passphrases_are_compared_after_nfc() -> None:
    composed, decomposed = "caf\u00e9 \u0622", "cafe\u0301 \u0627\u0653"

    assert composed != decomposed
    assert normalize_passphrase(composed) == normalize_passphrase(decomposed)
