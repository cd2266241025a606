"""Keyring timestamps: a withheld successor shows within days, not when the keyring expires."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

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
    SignedTimestamp,
    SigningKey,
    TimestampPolicy,
    VerificationError,
    make_timestamp,
    verify_timestamp,
)
from crypto import constants as C
from crypto.encoding import canonical_json
from tests.crypto.test_manifest_instance import STAMPER, V2_SECTIONS, manifest

V1 = manifest(**V2_SECTIONS)
V2 = V1.successor(issued=dt.date(2025, 2, 1), expires=dt.date(2026, 1, 6))
DAY = dt.date(2025, 3, 1)


def stamp(days: int = 7, *, on: dt.date = DAY, key: SigningKey = STAMPER) -> SignedTimestamp:
    return make_timestamp(V2, key, issued=on, days=days)


def test_a_fresh_timestamp_for_the_keyring_is_accepted() -> None:
    assert verify_timestamp(stamp(), V2, DAY + dt.timedelta(days=7)).version == V2.version


def test_an_old_keyring_can_not_be_kept_alive_past_its_last_timestamp() -> None:
    # The withheld-successor attack: the server keeps serving v2 and its last timestamp.
    with pytest.raises(VerificationError) as caught:
        verify_timestamp(stamp(), V2, DAY + dt.timedelta(days=8))
    assert caught.value.rule == "stale"


def test_a_timestamp_for_another_version_does_not_vouch_for_this_one() -> None:
    old = make_timestamp(V1, STAMPER, issued=DAY, days=7)
    with pytest.raises(VerificationError) as caught:
        verify_timestamp(old, V2, DAY)
    assert caught.value.rule == "stale"


def test_a_timestamp_signed_by_another_key_is_refused() -> None:
    forged = dataclasses.replace(
        stamp(),
        signature=SigningKey.generate().sign(
            C.SIG_CONTEXT_TIMESTAMP, canonical_json(stamp().timestamp.to_body())
        ),
    )
    with pytest.raises(VerificationError) as caught:
        verify_timestamp(forged, V2, DAY)
    assert caught.value.rule == "signature"


def test_an_extended_expiry_breaks_the_signature() -> None:
    doc = json.loads(stamp().to_bytes())
    doc["timestamp"]["expires"] = "2025-03-20"
    with pytest.raises(VerificationError):
        verify_timestamp(SignedTimestamp.from_bytes(json.dumps(doc).encode()), V2, DAY)


def test_a_timestamp_dated_in_the_future_is_refused() -> None:
    with pytest.raises(VerificationError):
        verify_timestamp(stamp(on=DAY + dt.timedelta(days=3)), V2, DAY)


def test_only_the_keyrings_timestamp_key_makes_timestamps() -> None:
    with pytest.raises(FormatError):
        stamp(key=SigningKey.generate())


def test_a_timestamp_may_not_outlive_the_keyrings_policy() -> None:
    with pytest.raises(FormatError):
        stamp(days=8)


def test_a_signed_timestamp_round_trips() -> None:
    original = stamp()
    assert SignedTimestamp.from_bytes(original.to_bytes()) == original


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "raazdar-keyring"), ("format", 2), ("manifest", "AB" * 32), ("version", "2")],
)
def test_a_malformed_timestamp_is_refused(field: str, value: object) -> None:
    doc = json.loads(stamp().to_bytes())
    doc["timestamp"][field] = value
    with pytest.raises(FormatError):
        SignedTimestamp.from_bytes(json.dumps(doc).encode())


# Known answers: a format-2 manifest and its timestamp from fixed seeds (PROTOCOL.md §8.7-8.8).
KAT_ONION = "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqd.onion"
KAT_STAMPER = SigningKey(b"\x05" * 32)
KAT_MANIFEST = Manifest(
    version=1,
    previous=None,
    issued=dt.date(2025, 1, 6),
    expires=dt.date(2026, 1, 6),
    threshold=1,
    authorities=(AuthorityKey("Admin A", SigningKey(b"\x01" * 32).verify_key),),
    recipients=(
        Recipient(
            "reviewer-1",
            "Reviewer One",
            PrivateKey(b"\x02" * 32).public_key,
            SigningKey(b"\x03" * 32).verify_key,
        ),
    ),
    instance=InstanceListing("ab" * 16, (KAT_ONION,), (SigningKey(b"\x04" * 32).verify_key,)),
    codename=CodenameParams(bytes(range(16)), KdfParams.INTERACTIVE),
    timestamp=TimestampPolicy(KAT_STAMPER.verify_key, 7),
)
KAT_DIGEST = "b713f4df17baf84c6aa87b00f4746e1cbe91864a8ee65df07583cb82c10d6a95"
KAT_TIMESTAMP = (
    '{"signature":"ek3XjGYYGmkaMI7uBpzlAU7Q4kXnFyigWVuTtT8UHigLw98cl3UyFKaj0AzINm7bSGddFK51o5bp38Gy6EENBw",'
    '"timestamp":{"expires":"2025-01-13","format":1,"issued":"2025-01-06",'
    f'"manifest":"{KAT_DIGEST}","type":"raazdar-keyring-timestamp","version":1}}}}'
)


def test_known_answer_format_two_digest_and_timestamp() -> None:
    assert KAT_MANIFEST.digest().hex() == KAT_DIGEST
    made = make_timestamp(KAT_MANIFEST, KAT_STAMPER, issued=dt.date(2025, 1, 6), days=7)
    assert made.to_bytes().decode() == KAT_TIMESTAMP
    parsed = SignedTimestamp.from_bytes(KAT_TIMESTAMP.encode())
    assert verify_timestamp(parsed, KAT_MANIFEST, dt.date(2025, 1, 13)).version == 1


# Format 2: the lowest subkey list number of each named reviewer a sealer may take.


def test_a_timestamp_naming_list_numbers_round_trips_and_verifies() -> None:
    rid = V2.recipients[0].id
    named = make_timestamp(V2, STAMPER, issued=DAY, days=7, subkeys={rid: 739_000_002})
    assert named.timestamp.format == 2
    again = SignedTimestamp.from_bytes(named.to_bytes())
    assert again == named
    assert verify_timestamp(again, V2, DAY).subkeys == ((rid, 739_000_002),)
    assert stamp().timestamp.format == 1


def test_a_timestamp_names_only_reviewers_of_its_keyring() -> None:
    with pytest.raises(FormatError):
        make_timestamp(V2, STAMPER, issued=DAY, days=7, subkeys={"mallory": 1})


def test_a_list_number_lowered_or_dropped_does_not_verify() -> None:
    rid = V2.recipients[0].id
    named = make_timestamp(V2, STAMPER, issued=DAY, days=7, subkeys={rid: 6})
    for changed in ((), ((rid, 5),)):
        body = dataclasses.replace(named.timestamp, subkeys=changed)
        with pytest.raises(VerificationError):
            verify_timestamp(SignedTimestamp(body, named.signature), V2, DAY)


@pytest.mark.parametrize("floors", [{}, {"A": 1}, {"x": 0}, {"x": True}, {"x": "6"}, []])
def test_a_malformed_list_of_numbers_is_refused(floors: object) -> None:
    body = json.loads(stamp().to_bytes())
    body["timestamp"] |= {"format": 2, "subkeys": floors}
    with pytest.raises(FormatError):
        SignedTimestamp.from_json(body)
