"""Keyring format 2: the instance listing, codename parameters, timestamp key, and duplicates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from crypto import (
    AuthorityKey,
    CodenameParams,
    FormatError,
    InstanceListing,
    KdfParams,
    Manifest,
    PrivateKey,
    Recipient,
    SignedManifest,
    SigningKey,
    TimestampPolicy,
    VerificationError,
    check_lifetime,
    make_timestamp,
    verify_chain,
    verify_successor,
    verify_timestamp,
)
from crypto import constants as C
from crypto.onion import OnionServiceKey

AUTHORITIES = [SigningKey(bytes([0x10 + i]) * 32) for i in range(2)]
SIGNING = [SigningKey(bytes([0x40 + i]) * 32) for i in range(2)]
ENCRYPTION = [PrivateKey(bytes([0x30 + i]) * 32).public_key for i in range(2)]
ONIONS = [OnionServiceKey.generate().address for _ in range(2)]
SERVER = SigningKey(bytes([0x50]) * 32)
STAMPER = SigningKey(bytes([0x51]) * 32)
ISSUED = dt.date(2025, 1, 6)
EXPIRES = dt.date(2026, 1, 6)
LISTING = InstanceListing("ab" * 16, (ONIONS[0],), (SERVER.verify_key,))
CODENAME = CodenameParams(bytes(range(16)), KdfParams.INTERACTIVE)
POLICY = TimestampPolicy(STAMPER.verify_key, 7)


def reviewer(i: int, *, signing: int | None = None, encryption: int | None = None) -> Recipient:
    return Recipient(
        f"reviewer-{i}",
        f"Reviewer {i}",
        ENCRYPTION[i if encryption is None else encryption],
        SIGNING[i if signing is None else signing].verify_key,
    )


def manifest(recipients: tuple[Recipient, ...] = (), **kw: Any) -> Manifest:
    return Manifest(
        version=1,
        previous=None,
        issued=ISSUED,
        expires=EXPIRES,
        threshold=2,
        authorities=tuple(AuthorityKey(f"A{i}", k.verify_key) for i, k in enumerate(AUTHORITIES)),
        recipients=recipients or (reviewer(0), reviewer(1)),
        **kw,
    )


def signed(m: Manifest) -> SignedManifest:
    s = SignedManifest(m)
    for key in AUTHORITIES:
        s = s.sign(key)
    return s


V2_SECTIONS: dict[str, Any] = {"instance": LISTING, "codename": CODENAME, "timestamp": POLICY}


# Point 7: one person's key can't stand for two reviewers.


def test_one_signing_key_under_two_reviewer_ids_is_refused() -> None:
    with pytest.raises(FormatError, match="signing key is listed twice"):
        manifest((reviewer(0), reviewer(1, signing=0)))


def test_one_encryption_key_under_two_reviewer_ids_is_refused() -> None:
    with pytest.raises(FormatError, match="recipient key is listed twice"):
        manifest((reviewer(0), reviewer(1, encryption=0)))


def test_a_signed_document_listing_one_signing_key_twice_is_refused() -> None:
    doc = json.loads(signed(manifest()).to_bytes())
    doc["manifest"]["recipients"][1]["signing_key"] = SIGNING[0].verify_key.to_text()
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(json.dumps(doc).encode())


# Format 2.


def test_format_two_round_trips_with_its_sections() -> None:
    original = signed(manifest(**V2_SECTIONS))
    again = SignedManifest.from_bytes(original.to_bytes())
    assert again == original
    assert again.manifest.format == C.MANIFEST_FORMAT_INSTANCE
    assert json.loads(original.to_bytes())["manifest"]["format"] == 2


def test_format_one_stays_byte_for_byte_what_it_was() -> None:
    body = manifest().to_body()
    assert body["format"] == 1
    assert not {"instance", "codename", "timestamp"} & set(body)


@pytest.mark.parametrize("missing", ["instance", "codename", "timestamp"])
def test_a_format_two_manifest_needs_all_three_sections(missing: str) -> None:
    sections = {k: v for k, v in V2_SECTIONS.items() if k != missing}
    with pytest.raises(FormatError):
        manifest(**sections)


@pytest.mark.parametrize("missing", ["instance", "codename", "timestamp"])
def test_a_format_two_document_missing_a_section_is_refused(missing: str) -> None:
    doc = json.loads(signed(manifest(**V2_SECTIONS)).to_bytes())
    del doc["manifest"][missing]
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(json.dumps(doc).encode())


def test_a_format_one_document_with_format_two_sections_is_refused() -> None:
    doc = json.loads(signed(manifest(**V2_SECTIONS)).to_bytes())
    doc["manifest"]["format"] = 1
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "AB" * 16),
        ("onions", []),
        ("onions", ["example.com"]),
        ("onions", [ONIONS[0].upper()]),
        ("onions", [ONIONS[0], ONIONS[0]]),
        ("onions", [ONIONS[0][:-7] + "x.onion"]),
        ("server_keys", []),
        ("server_keys", ["rz-ed25519-public:AAAA"]),
    ],
)
def test_a_malformed_instance_listing_is_refused(field: str, value: Any) -> None:
    obj = LISTING.to_dict() | {field: value}
    with pytest.raises(FormatError):
        InstanceListing.from_dict(obj)


@pytest.mark.parametrize("days", [0, C.TIMESTAMP_MAX_DAYS + 1])
def test_a_timestamp_policy_holds_a_bounded_number_of_days(days: int) -> None:
    with pytest.raises(FormatError):
        TimestampPolicy(STAMPER.verify_key, days)


def test_the_listing_matches_an_onion_and_its_subdomains_only() -> None:
    assert LISTING.lists_onion(ONIONS[0])
    assert LISTING.lists_onion("www." + ONIONS[0].upper())
    assert not LISTING.lists_onion(ONIONS[1])
    assert not LISTING.lists_onion(ONIONS[0] + ".evil.example")


def test_a_format_one_chain_is_followed_into_format_two() -> None:
    v1 = signed(manifest())
    v2 = signed(v1.manifest.successor(issued=ISSUED, expires=EXPIRES, **V2_SECTIONS))
    pins = v1.manifest.authority_fingerprints
    assert verify_chain(pins, [v1, v2], ISSUED).instance == LISTING


def test_a_successor_may_not_drop_the_instance_listing() -> None:
    v2 = manifest(**V2_SECTIONS)
    back = dataclasses.replace(
        v2.successor(issued=ISSUED, expires=EXPIRES), instance=None, codename=None, timestamp=None
    )
    with pytest.raises(VerificationError) as caught:
        verify_successor(v2, signed(back), ISSUED)
    assert caught.value.rule == "format"


def test_a_successor_carries_the_sections_over() -> None:
    v2 = manifest(**V2_SECTIONS)
    assert v2.successor(issued=ISSUED, expires=EXPIRES).instance == LISTING


# One key, one role: the server's key, a reviewer's, an authority's and the
# timestamp key are held by different parties, and a key listed in two roles
# hands its holder both.


def _freshened_by_the_server() -> None:
    stale = manifest(
        instance=LISTING, codename=CODENAME, timestamp=TimestampPolicy(SERVER.verify_key, 7)
    )
    verify_timestamp(make_timestamp(stale, SERVER, issued=EXPIRES, days=7), stale, EXPIRES)


def test_the_server_cannot_freshen_a_keyring_whose_timestamp_key_is_its_own() -> None:
    # The server holds SERVER: as the timestamp key too, it would vouch on its own
    # for a keyring whose successor (a revocation, say) it withholds (§8.8).
    with pytest.raises(FormatError, match="two roles"):
        _freshened_by_the_server()


def test_the_server_cannot_sign_as_a_reviewer_the_keyring_lists_with_its_key() -> None:
    # A reviewer's signing key signs their subkey lists and replies: listed as a
    # server key as well, whoever holds the server signs them, and reports are
    # sealed to keys of its choosing (§5A.8).
    with pytest.raises(FormatError, match="two roles"):
        manifest(
            instance=InstanceListing("ab" * 16, (ONIONS[0],), (SIGNING[0].verify_key,)),
            codename=CODENAME,
            timestamp=POLICY,
        )


ROLE_KEYS = {
    "authority": AUTHORITIES[0].verify_key,
    "reviewer": SIGNING[0].verify_key,
    "server": SERVER.verify_key,
    "timestamp": STAMPER.verify_key,
}


def in_roles(first: str, second: str) -> dict[str, Any]:
    """Sections that list `ROLE_KEYS[first]` in the role `second` as well."""
    key = ROLE_KEYS[first]
    kw: dict[str, Any] = dict(V2_SECTIONS)
    if second == "reviewer":
        kw["recipients"] = (
            dataclasses.replace(reviewer(0), signing_key=key),
            reviewer(1),
        )
    elif second == "server":
        kw["instance"] = InstanceListing("ab" * 16, (ONIONS[0],), (SERVER.verify_key, key))
    elif second == "timestamp":
        kw["timestamp"] = TimestampPolicy(key, 7)
    return kw


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("authority", "reviewer"),
        ("authority", "server"),
        ("reviewer", "server"),
        ("server", "timestamp"),
    ],
)
def test_a_key_in_two_roles_is_refused(first: str, second: str) -> None:
    kw = in_roles(first, second)
    recipients = kw.pop("recipients", ())
    with pytest.raises(FormatError, match="two roles"):
        manifest(recipients, **kw)


@pytest.mark.parametrize("first", ["authority", "reviewer"])
def test_a_keyring_whose_timestamp_key_is_a_holders_own_stays_readable(first: str) -> None:
    # `keys list-instance --timestamp-key` took any key file: a keyring drafted so must
    # not stop verifying (the review tool drafts no more of them).
    kw = in_roles(first, "timestamp")
    assert manifest(**kw).timestamp == TimestampPolicy(ROLE_KEYS[first], 7)


def test_a_signed_document_listing_the_server_key_as_timestamp_key_is_refused() -> None:
    doc = json.loads(signed(manifest(**V2_SECTIONS)).to_bytes())
    doc["manifest"]["timestamp"]["key"] = SERVER.verify_key.to_text()
    with pytest.raises(FormatError, match="two roles"):
        SignedManifest.from_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize(("days", "refused"), [(1, False), (366, False), (367, True), (3650, True)])
def test_a_new_keyring_is_valid_for_a_leap_year_at_most(days: int, refused: bool) -> None:
    m = dataclasses.replace(manifest(), expires=ISSUED + dt.timedelta(days=days))
    if not refused:
        check_lifetime(m)
        return
    with pytest.raises(VerificationError) as caught:
        check_lifetime(m)
    assert caught.value.rule == "lifetime"
