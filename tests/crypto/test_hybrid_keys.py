"""Hybrid (X-Wing) keys: text forms, fingerprints, both halves validated, no secret in a repr."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import FormatError, HybridPrivateKey, HybridPublicKey, PrivateKey, PublicKey
from crypto import constants as C
from tests.crypto.support import reference_key_text, secret_renderings
from tests.crypto.test_keys import LOW_ORDER_POINTS

VECTOR = json.loads((Path(__file__).parent / "data" / "xwing-vectors.json").read_text("utf-8"))[
    "vectors"
][0]
KEY = HybridPrivateKey(bytes.fromhex(VECTOR["seed"]))
P = (1 << 255) - 19


def test_a_key_from_the_drafts_seed_has_the_drafts_public_key() -> None:
    assert KEY.public_key.raw == bytes.fromhex(VECTOR["pk"])
    assert KEY.secret_bytes() == bytes.fromhex(VECTOR["sk"])


def test_key_text_matches_the_specification() -> None:
    public = KEY.public_key

    assert public.to_text() == reference_key_text("rz-xwing-public:", public.raw)
    assert KEY.to_text() == reference_key_text("rz-xwing-secret:", KEY.secret_bytes())
    assert len(public.to_text()) == len("rz-xwing-public:") + 1627
    assert len(KEY.to_text()) == len("rz-xwing-secret:") + 48


@settings(max_examples=10, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_hybrid_keys_round_trip_through_their_text(seed: bytes) -> None:
    key = HybridPrivateKey(seed)

    assert HybridPrivateKey.from_text(key.to_text()) == key
    assert HybridPublicKey.from_text(key.public_key.to_text()) == key.public_key
    assert HybridPublicKey.from_text("  " + key.public_key.to_text() + "\n") == key.public_key


def test_fingerprint_is_bound_to_the_xwing_type() -> None:
    public = KEY.public_key
    digest = hashlib.blake2b(
        b"xwing\x00" + public.raw, digest_size=20, person=C.PERSON_FINGERPRINT
    ).digest()

    assert public.fingerprint.raw == digest
    assert public.fingerprint.key_id == digest[:8]


@pytest.mark.parametrize(
    ("text", "reader"),
    [
        (PrivateKey(bytes(32)).public_key.to_text(), HybridPublicKey.from_text),
        (PrivateKey(bytes(32)).to_text(), HybridPrivateKey.from_text),
        (KEY.to_text(), PrivateKey.from_text),
        (KEY.to_text(), HybridPublicKey.from_text),
        (KEY.public_key.to_text(), HybridPrivateKey.from_text),
        (KEY.public_key.to_text(), PublicKey.from_text),
    ],
    ids=[
        "x25519-public-as-hybrid",
        "x25519-secret-as-hybrid",
        "hybrid-secret-as-x25519",
        "hybrid-secret-as-public",
        "hybrid-public-as-secret",
        "hybrid-public-as-x25519",
    ],
)
def test_a_key_text_is_never_read_as_another_kind(text: str, reader: object) -> None:
    with pytest.raises(FormatError):
        reader(text)  # type: ignore[operator]


def test_a_mistyped_character_is_refused() -> None:
    text = KEY.public_key.to_text()
    middle = len(text) // 2
    mistyped = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]

    with pytest.raises(FormatError):
        HybridPublicKey.from_text(mistyped)


@pytest.mark.parametrize("point", LOW_ORDER_POINTS, ids=lambda p: p[:8] + p[-2:])
def test_a_low_order_x25519_half_is_refused(point: str) -> None:
    with pytest.raises(FormatError):
        HybridPublicKey(KEY.public_key.raw[:1184] + bytes.fromhex(point))


@pytest.mark.parametrize("alias", ["own-plus-p", "base-point-plus-p"])
def test_a_non_canonical_x25519_half_is_refused(alias: str) -> None:
    """X25519 reduces mod p: without this one hybrid key would have several fingerprints."""
    pk_x = int.from_bytes(KEY.public_key.raw[1184:], "little")
    value = pk_x + P if alias == "own-plus-p" else 9 + P

    with pytest.raises(FormatError):
        HybridPublicKey(KEY.public_key.raw[:1184] + value.to_bytes(32, "little"))


def test_an_ml_kem_half_that_fails_the_modulus_check_is_refused() -> None:
    raw = bytearray(KEY.public_key.raw)
    raw[0], raw[1] = 0xFF, raw[1] | 0x0F  # first coefficient 4095 >= q

    with pytest.raises(FormatError):
        HybridPublicKey(bytes(raw))


@pytest.mark.parametrize("raw", [b"", bytes(32), bytes(1215), bytes(1217), "text"])
def test_a_public_key_of_the_wrong_size_or_type_is_refused(raw: object) -> None:
    with pytest.raises(FormatError):
        HybridPublicKey(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [b"", bytes(31), bytes(33), bytes(64)])
def test_a_seed_of_the_wrong_size_is_refused(raw: bytes) -> None:
    with pytest.raises(FormatError):
        HybridPrivateKey(raw)


def test_repr_never_shows_the_seed_and_names_the_fingerprint() -> None:
    shown = repr(KEY) + str(KEY) + repr(KEY.public_key)

    assert str(KEY.public_key.fingerprint) in repr(KEY)
    for rendering in secret_renderings(KEY.secret_bytes()):
        assert rendering not in shown


def test_keys_compare_by_value_and_kind() -> None:
    same = HybridPrivateKey(KEY.secret_bytes())
    classical = PrivateKey(KEY.secret_bytes())

    assert same == KEY
    assert hash(same) == hash(KEY)
    assert same.public_key == KEY.public_key
    assert classical != KEY
    assert KEY.public_key != classical.public_key
    assert HybridPrivateKey.generate() != HybridPrivateKey.generate()


def test_the_x25519_half_is_not_the_v1_key_of_the_same_seed() -> None:
    """The hybrid key's X25519 half comes from the X-Wing expansion, never from a v1 key."""
    assert KEY.public_key.raw[1184:] != PrivateKey(KEY.secret_bytes()).public_key.raw


def test_the_known_answers_printed_in_the_protocol_hold() -> None:
    """docs/PROTOCOL.md §5A.2's example: the first X-Wing vector's seed."""
    assert KEY.to_text() == "rz-xwing-secret:f5wrpOiPgn1hYEVQdgWFPtc7gJP277yI6xpurPpm7ybmCfFK"
    assert str(KEY.public_key.fingerprint) == "6VW3 S355 UMCO W4US SHXO 522P RVFA 7EHI"
    assert KEY.public_key.fingerprint.key_id.hex() == "f56db96fbda304eb"
