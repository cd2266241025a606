"""X-Wing (draft-connolly-cfrg-xwing-kem-10): the draft's known answers, and what the KEM refuses.

pyca exposes no derandomized ML-KEM encapsulation, so the vectors check key
generation and decapsulation in full, and encapsulation in everything but
ML-KEM's own `Encaps_internal`: the vector's ML-KEM ciphertext (whose secret
its decapsulation recovers), finished with the vector's X25519 randomness,
must give the vector's ciphertext and shared secret exactly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import DecryptionError, FormatError, xwing

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "xwing-vectors.json").read_text("utf-8")
)["vectors"]
IDS = [v["seed"][:16] for v in VECTORS]
KEY = xwing.DecapsulationKey(bytes(range(32)))
Q = 3329


def _hex(vector: dict[str, Any], name: str) -> bytes:
    return bytes.fromhex(vector[name])


def test_the_label_is_the_drafts() -> None:
    assert xwing.LABEL.hex() == "5c2e2f2f5e5c"
    assert xwing.LABEL.decode("ascii") == "\\./" + "/^\\"


def test_there_are_the_published_vectors() -> None:
    assert len(VECTORS) == 3
    assert all(v["sk"] == v["seed"] for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_key_generation_matches_the_vectors(vector: dict[str, Any]) -> None:
    key = xwing.DecapsulationKey(_hex(vector, "seed"))

    assert key.public_key.raw == _hex(vector, "pk")
    assert key.seed == _hex(vector, "sk")


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_decapsulation_matches_the_vectors(vector: dict[str, Any]) -> None:
    key = xwing.DecapsulationKey(_hex(vector, "sk"))

    assert key.decapsulate(_hex(vector, "ct")) == _hex(vector, "ss")


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_encapsulation_matches_the_vectors_given_the_ml_kem_half(vector: dict[str, Any]) -> None:
    key = xwing.DecapsulationKey(_hex(vector, "seed"))
    ct, eseed = _hex(vector, "ct"), _hex(vector, "eseed")
    ct_m = ct[: xwing.MLKEM_CIPHERTEXT_BYTES]
    ss_m = key._mlkem.decapsulate(ct_m)

    shared, ciphertext = key.public_key.finish_encapsulation(ss_m, ct_m, eseed[32:64])

    assert (shared, ciphertext) == (_hex(vector, "ss"), ct)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_the_seed_expands_with_shake256_into_d_z_and_the_x25519_secret(
    vector: dict[str, Any],
) -> None:
    key = xwing.DecapsulationKey(_hex(vector, "seed"))
    expanded = hashlib.shake_256(_hex(vector, "seed")).digest(96)

    assert key._mlkem.private_bytes_raw() == expanded[:64]
    assert key._sk_x == expanded[64:]


def test_the_combiner_hashes_in_the_drafts_order() -> None:
    parts = [bytes([i]) * 32 for i in range(1, 5)]

    expected = hashlib.sha3_256(b"".join(parts) + bytes.fromhex("5c2e2f2f5e5c")).digest()

    assert xwing.combiner(*parts) == expected


@settings(max_examples=20, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_encapsulation_round_trips(seed: bytes) -> None:
    key = xwing.DecapsulationKey(seed)

    shared, ciphertext = key.public_key.encapsulate()

    assert len(shared) == 32
    assert len(ciphertext) == 1120
    assert key.decapsulate(ciphertext) == shared


def test_encapsulation_is_randomised() -> None:
    first, second = KEY.public_key.encapsulate(), KEY.public_key.encapsulate()

    assert first[0] != second[0]
    assert first[1] != second[1]


@pytest.mark.parametrize("position", [0, 500, 1087, 1088, 1100, 1119], ids=str)
def test_an_altered_ciphertext_gives_another_secret(position: int) -> None:
    """ML-KEM rejects implicitly, and the X25519 half is hashed in: no error, no secret."""
    shared, ciphertext = KEY.public_key.encapsulate()
    altered = bytearray(ciphertext)
    altered[position] ^= 0x01

    assert KEY.decapsulate(bytes(altered)) != shared


def test_another_key_gets_another_secret() -> None:
    shared, ciphertext = KEY.public_key.encapsulate()

    assert xwing.DecapsulationKey(bytes(32)).decapsulate(ciphertext) != shared


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_seed_of_the_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(FormatError):
        xwing.DecapsulationKey(bytes(size))


@pytest.mark.parametrize("size", [0, 1184, 1215, 1217])
def test_a_public_key_of_the_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(FormatError):
        xwing.EncapsulationKey(bytes(size))


@pytest.mark.parametrize("size", [0, 1088, 1119, 1121])
def test_a_ciphertext_of_the_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(DecryptionError):
        KEY.decapsulate(bytes(size))


def _with_first_coefficient(public: bytes, value: int) -> bytes:
    """Set the first 12-bit coefficient of pk_M's vector t (FIPS 203 ByteEncode_12)."""
    out = bytearray(public)
    out[0] = value & 0xFF
    out[1] = (out[1] & 0xF0) | (value >> 8)
    return bytes(out)


def test_an_encapsulation_key_with_a_coefficient_of_q_is_refused() -> None:
    """FIPS 203 §7.2's modulus check: otherwise one key would have several encodings."""
    public = KEY.public_key.raw

    xwing.EncapsulationKey(_with_first_coefficient(public, Q - 1))
    with pytest.raises(FormatError):
        xwing.EncapsulationKey(_with_first_coefficient(public, Q))
    with pytest.raises(FormatError):
        xwing.EncapsulationKey(_with_first_coefficient(public, 4095))


def test_a_low_order_x25519_half_is_refused_when_used() -> None:
    low_order = KEY.public_key.raw[:1184] + bytes(32)
    _shared, ciphertext = KEY.public_key.encapsulate()

    with pytest.raises(FormatError):
        xwing.EncapsulationKey(low_order).encapsulate()
    with pytest.raises(DecryptionError):
        KEY.decapsulate(ciphertext[:1088] + bytes(32))
