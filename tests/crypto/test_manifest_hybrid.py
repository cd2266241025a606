"""Keyring format 3: every reviewer's long-term X-Wing key, and the rules around it (§8.9)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from crypto import (
    FormatError,
    Manifest,
    PrivateKey,
    Recipient,
    SignedManifest,
    SigningKey,
    UnsupportedVersionError,
    VerificationError,
    verify_chain,
    verify_successor,
)
from crypto import constants as C
from crypto.encoding import canonical_json
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from tests.crypto.test_manifest_instance import (
    EXPIRES,
    ISSUED,
    V2_SECTIONS,
    manifest,
    reviewer,
    signed,
)
from tests.crypto.test_timestamp import KAT_MANIFEST

HYBRID = [HybridPrivateKey(bytes([0x60 + i]) * 32).public_key for i in range(3)]


def hybrid(i: int, key: int | None = None) -> Recipient:
    return dataclasses.replace(reviewer(i), hybrid_key=HYBRID[i if key is None else key])


def v3(**kw: Any) -> Manifest:
    return manifest((hybrid(0), hybrid(1)), **V2_SECTIONS, **kw)


def body(m: Manifest) -> dict[str, Any]:
    parsed = json.loads(m.canonical_bytes())
    assert isinstance(parsed, dict)
    return parsed


def test_format_three_round_trips_and_means_sealing_to_subkeys() -> None:
    m = v3()
    assert m.format == C.MANIFEST_FORMAT_HYBRID == 3
    assert m.seals_to_subkeys
    again = SignedManifest.from_bytes(signed(m).to_bytes())
    assert again.manifest == m
    assert [r.hybrid_key for r in again.manifest.recipients] == HYBRID[:2]
    assert body(m)["recipients"][0]["hybrid_key"] == HYBRID[0].to_text()


def test_formats_one_and_two_carry_no_hybrid_key_and_do_not_seal_to_subkeys() -> None:
    for m in (manifest(), manifest(**V2_SECTIONS)):
        assert not m.seals_to_subkeys
        assert all("hybrid_key" not in r for r in body(m)["recipients"])
        assert all(r.hybrid_key is None for r in m.recipients)


def test_a_hybrid_key_is_required_of_every_recipient() -> None:
    with pytest.raises(FormatError, match="every recipient"):
        manifest((hybrid(0), reviewer(1)), **V2_SECTIONS)


def test_hybrid_keys_need_the_instance_listing() -> None:
    with pytest.raises(FormatError, match="format 3"):
        manifest((hybrid(0), hybrid(1)))


def test_one_hybrid_key_under_two_reviewer_ids_is_refused() -> None:
    with pytest.raises(FormatError, match="hybrid key is listed twice"):
        manifest((hybrid(0), hybrid(1, key=0)), **V2_SECTIONS)


def test_a_signed_document_listing_one_hybrid_key_twice_is_refused() -> None:
    doc = json.loads(signed(v3()).to_bytes())
    doc["manifest"]["recipients"][1]["hybrid_key"] = HYBRID[0].to_text()
    with pytest.raises(FormatError, match="listed twice"):
        SignedManifest.from_bytes(canonical_json(doc))


def test_a_format_three_document_without_a_hybrid_key_is_refused() -> None:
    doc = json.loads(signed(v3()).to_bytes())
    del doc["manifest"]["recipients"][0]["hybrid_key"]
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(canonical_json(doc))


@pytest.mark.parametrize("form", [1, 2])
def test_a_hybrid_key_in_an_older_format_is_refused(form: int) -> None:
    base = manifest(**V2_SECTIONS) if form == 2 else manifest()
    doc = json.loads(signed(base).to_bytes())
    for r, key in zip(doc["manifest"]["recipients"], HYBRID, strict=False):
        r["hybrid_key"] = key.to_text()
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(canonical_json(doc))


def test_a_format_three_document_without_the_instance_is_refused() -> None:
    doc = json.loads(signed(v3()).to_bytes())
    for section in V2_SECTIONS:
        del doc["manifest"][section]
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(canonical_json(doc))


@pytest.mark.parametrize(
    "value",
    [
        None,
        7,
        "",
        "rz-x25519-public:zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVmkk9rM",
        HYBRID[0].to_text()[:-1],
        HYBRID[0].to_text() + "A",
    ],
)
def test_a_malformed_hybrid_key_is_refused(value: Any) -> None:
    doc = json.loads(signed(v3()).to_bytes())
    doc["manifest"]["recipients"][0]["hybrid_key"] = value
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(canonical_json(doc))


def test_a_format_four_document_is_unsupported() -> None:
    doc = json.loads(signed(v3()).to_bytes())
    doc["manifest"]["format"] = 4
    with pytest.raises(UnsupportedVersionError):
        SignedManifest.from_bytes(canonical_json(doc))


def test_a_swapped_hybrid_key_breaks_every_signature() -> None:
    m = v3()
    swapped = dataclasses.replace(
        m, recipients=(hybrid(0, key=2), m.recipients[1])
    )  # the attacker's own X-Wing key for reviewer-0
    forged = SignedManifest(swapped, signed(m).signatures)
    assert not forged.valid_signers(m.authorities)
    assert swapped.digest() != m.digest()


def test_every_byte_of_a_hybrid_key_is_covered_by_the_signatures() -> None:
    good = signed(v3())
    data = good.to_bytes()
    text = HYBRID[0].to_text().encode()
    start = data.index(text) + len(C.KEY_PREFIX_XWING_PUBLIC)
    for i in range(start, start + len(text) - len(C.KEY_PREFIX_XWING_PUBLIC), 97):
        flipped = bytearray(data)
        flipped[i] = ord("A") if data[i] != ord("A") else ord("B")
        try:
            parsed = SignedManifest.from_bytes(bytes(flipped))
        except FormatError:
            continue  # the checksum or the ML-KEM key check caught it
        assert not parsed.valid_signers(good.manifest.authorities)


def test_format_two_is_followed_into_format_three() -> None:
    v2 = signed(manifest(**V2_SECTIONS))
    nxt = signed(
        v2.manifest.successor(issued=ISSUED, expires=EXPIRES, recipients=(hybrid(0), hybrid(1)))
    )
    assert nxt.manifest.format == 3
    pins = v2.manifest.authority_fingerprints
    assert verify_chain(pins, [v2, nxt], ISSUED).seals_to_subkeys


def test_format_one_may_go_straight_to_format_three() -> None:
    v1 = signed(manifest())
    nxt = v1.manifest.successor(
        issued=ISSUED, expires=EXPIRES, recipients=(hybrid(0), hybrid(1)), **V2_SECTIONS
    )
    assert verify_successor(v1.manifest, signed(nxt), ISSUED).format == 3


def test_a_successor_may_not_go_from_format_three_back_to_two() -> None:
    m = v3()
    back = m.successor(issued=ISSUED, expires=EXPIRES, recipients=(reviewer(0), reviewer(1)))
    assert back.format == 2
    with pytest.raises(VerificationError) as caught:
        verify_successor(m, signed(back), ISSUED)
    assert caught.value.rule == "format"
    assert "hybrid" in str(caught.value)


def test_a_successor_may_not_go_from_format_three_back_to_one() -> None:
    m = v3()
    back = dataclasses.replace(
        m.successor(issued=ISSUED, expires=EXPIRES, recipients=(reviewer(0), reviewer(1))),
        instance=None,
        codename=None,
        timestamp=None,
    )
    with pytest.raises(VerificationError) as caught:
        verify_successor(m, signed(back), ISSUED)
    assert caught.value.rule == "format"


def test_a_format_three_successor_carries_hybrid_keys_and_may_change_one() -> None:
    m = v3()
    rotated = m.successor(issued=ISSUED, expires=EXPIRES, recipients=(hybrid(0), hybrid(1, key=2)))
    assert verify_successor(m, signed(rotated), ISSUED).recipients[1].hybrid_key == HYBRID[2]
    assert m.successor(issued=ISSUED, expires=EXPIRES).format == 3


def test_a_reviewer_without_a_hybrid_key_cannot_be_added_to_format_three() -> None:
    m = v3()
    extra = Recipient(
        "reviewer-9", "R9", PrivateKey(b"\x39" * 32).public_key, SigningKey(b"\x49" * 32).verify_key
    )
    with pytest.raises(FormatError, match="every recipient"):
        m.successor(issued=ISSUED, expires=EXPIRES, recipients=(*m.recipients, extra))


# Known answer (PROTOCOL.md §8.9): §8.7's format-2 manifest, with reviewer-1's
# X-Wing key from seed 06…06.
KAT_HYBRID = HybridPrivateKey(b"\x06" * 32).public_key
KAT_V3 = dataclasses.replace(
    KAT_MANIFEST,
    recipients=(dataclasses.replace(KAT_MANIFEST.recipients[0], hybrid_key=KAT_HYBRID),),
)
KAT_V3_DIGEST = "ed83ba766755eed95984a7b8aa05af99ea2881dabe895987a1e0b454974cd131"


def test_the_format_three_known_answer() -> None:
    assert KAT_V3.format == 3
    assert KAT_V3.digest().hex() == KAT_V3_DIGEST
    assert HybridPublicKey.from_text(KAT_HYBRID.to_text()) == KAT_HYBRID
