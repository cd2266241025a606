"""The keyring manifest: k-of-n signatures, succession, rotation, chains, strict parsing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from crypto import (
    AuthorityKey,
    FormatError,
    Manifest,
    PrivateKey,
    Recipient,
    SignedManifest,
    SigningKey,
    UnsupportedVersionError,
    VerificationError,
    check_names,
    check_step,
    verify_chain,
    verify_initial,
    verify_successor,
)
from crypto import constants as C
from crypto.manifest import format_digest, parse_digest
from crypto.names import skeleton

OLD = [SigningKey(bytes([0x10 + i]) * 32) for i in range(3)]
NEW = [SigningKey(bytes([0x20 + i]) * 32) for i in range(3)]
OUTSIDER = SigningKey(bytes([0x2F]) * 32)
REVIEWER_SIGNING = [SigningKey(bytes([0x40 + i]) * 32) for i in range(3)]
REVIEWERS = [
    Recipient(
        id=f"reviewer-{i}",
        name=f"Reviewer {i}",
        encryption_key=PrivateKey(bytes([0x30 + i]) * 32).public_key,
        signing_key=REVIEWER_SIGNING[i].verify_key,
    )
    for i in range(3)
]
ISSUED = dt.date(2025, 1, 6)
EXPIRES = dt.date(2026, 1, 6)
TODAY = dt.date(2025, 6, 1)
LATER = dt.date(2025, 2, 1)


def _authorities(keys: list[SigningKey]) -> tuple[AuthorityKey, ...]:
    return tuple(AuthorityKey(name=f"Admin {i}", key=k.verify_key) for i, k in enumerate(keys))


def _signed(manifest: Manifest, *keys: SigningKey) -> SignedManifest:
    signed = SignedManifest(manifest)
    for key in keys:
        signed = signed.sign(key)
    return signed


V1 = Manifest(
    version=1,
    previous=None,
    issued=ISSUED,
    expires=EXPIRES,
    threshold=2,
    authorities=_authorities(OLD),
    recipients=tuple(REVIEWERS[:2]),
)
PINNED_OLD = V1.authority_fingerprints
PINNED_NEW = frozenset(k.verify_key.fingerprint for k in NEW)
# V2 rotates the authority set from OLD to NEW; V3 then adds a reviewer under NEW.
V2 = V1.successor(issued=LATER, expires=EXPIRES, authorities=_authorities(NEW))
V3 = V2.successor(issued=LATER, expires=EXPIRES, recipients=REVIEWERS)


def _rule(caught: pytest.ExceptionInfo[VerificationError]) -> str:
    return caught.value.rule


# k of n.


@pytest.mark.parametrize(
    "signers",
    [OLD[:2], OLD[1:], [OLD[0], OLD[2]], OLD, [OLD[2], OLD[0]]],
    ids=["a-b", "b-c", "a-c", "all-three", "reversed"],
)
def test_any_two_of_three_authorities_suffice(signers: list[SigningKey]) -> None:
    assert verify_initial(_signed(V1, *signers), PINNED_OLD, TODAY) == V1


@pytest.mark.parametrize("signers", [[], [OLD[0]], [OLD[2]]], ids=["none", "a", "c"])
def test_fewer_than_the_threshold_is_refused(signers: list[SigningKey]) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_initial(_signed(V1, *signers), PINNED_OLD, TODAY)
    assert _rule(caught) == "threshold"


def test_a_forged_signature_does_not_count() -> None:
    good = _signed(V1, OLD[0], OLD[1])
    (fp_a, sig_a), (fp_b, sig_b) = good.signatures
    forged = SignedManifest(
        V1, ((fp_a, sig_a), (fp_b, sig_b[:10] + bytes([sig_b[10] ^ 1]) + sig_b[11:]))
    )

    assert forged.valid_signers(V1.authorities) == {fp_a}
    with pytest.raises(VerificationError) as caught:
        verify_initial(forged, PINNED_OLD, TODAY)
    assert _rule(caught) == "threshold"


def test_a_signature_filed_under_another_key_does_not_count() -> None:
    ((fp_a, sig_a),) = _signed(V1, OLD[0]).signatures
    fp_b = OLD[1].verify_key.fingerprint
    mislabelled = SignedManifest(V1, ((fp_a, sig_a), (fp_b, sig_a)))

    assert mislabelled.valid_signers(V1.authorities) == {fp_a}
    with pytest.raises(VerificationError):
        verify_initial(mislabelled, PINNED_OLD, TODAY)


def test_one_key_counts_once_however_often_it_signs() -> None:
    (entry,) = _signed(V1, OLD[0]).signatures
    repeated = SignedManifest(V1, (entry, entry, entry))

    with pytest.raises(VerificationError) as caught:
        verify_initial(repeated, PINNED_OLD, TODAY)
    assert _rule(caught) == "threshold"


def test_signing_again_replaces_the_earlier_signature() -> None:
    assert len(_signed(V1, OLD[0], OLD[0], OLD[0]).signatures) == 1


def test_signatures_by_outsiders_are_ignored() -> None:
    signed = _signed(V1, OLD[0], OUTSIDER, *REVIEWER_SIGNING)

    assert signed.valid_signers(V1.authorities) == {OLD[0].verify_key.fingerprint}
    with pytest.raises(VerificationError):
        verify_initial(signed, PINNED_OLD, TODAY)


def test_signatures_of_another_manifest_do_not_count() -> None:
    borrowed = SignedManifest(V3, _signed(V2, *NEW).signatures)

    assert borrowed.valid_signers(V3.authorities) == frozenset()


def test_a_signature_for_another_purpose_does_not_count() -> None:
    """The same key, the same bytes, but the envelope context."""
    message = V1.canonical_bytes()
    entries = tuple(
        (k.verify_key.fingerprint, k.sign(C.SIG_CONTEXT_ENVELOPE, message)) for k in OLD
    )

    assert SignedManifest(V1, entries).valid_signers(V1.authorities) == frozenset()


@pytest.mark.parametrize(
    "pinned",
    [
        PINNED_NEW,
        PINNED_OLD - {OLD[0].verify_key.fingerprint},
        PINNED_OLD | {OUTSIDER.verify_key.fingerprint},
        frozenset(),
    ],
    ids=["other-set", "subset", "superset", "empty"],
)
def test_initial_manifest_must_have_exactly_the_pinned_authorities(pinned: frozenset[Any]) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_initial(_signed(V1, *OLD), pinned, TODAY)
    assert _rule(caught) == "authority"


# Dates.


def test_manifest_is_valid_through_its_expiry_day() -> None:
    signed = _signed(V1, *OLD)

    assert verify_initial(signed, PINNED_OLD, EXPIRES) == V1
    assert not V1.is_expired(EXPIRES)
    assert V1.is_expired(EXPIRES + dt.timedelta(days=1))
    with pytest.raises(VerificationError) as caught:
        verify_initial(signed, PINNED_OLD, EXPIRES + dt.timedelta(days=1))
    assert _rule(caught) == "expired"


def test_manifest_dated_in_the_future_is_refused_with_a_day_of_slack() -> None:
    signed = _signed(V1, *OLD)

    assert verify_initial(signed, PINNED_OLD, ISSUED - dt.timedelta(days=1)) == V1
    with pytest.raises(VerificationError) as caught:
        verify_initial(signed, PINNED_OLD, ISSUED - dt.timedelta(days=2))
    assert _rule(caught) == "issued"


def test_expired_successor_is_refused() -> None:
    v2 = V1.successor(issued=ISSUED, expires=dt.date(2025, 3, 1))

    with pytest.raises(VerificationError) as caught:
        verify_successor(V1, _signed(v2, *OLD), TODAY)
    assert _rule(caught) == "expired"


# Succession.


def test_successor_is_the_next_version_chained_by_digest() -> None:
    v2 = V1.successor(issued=LATER, expires=EXPIRES)

    assert v2.version == 2
    assert v2.previous == V1.digest()
    assert (v2.authorities, v2.threshold, v2.recipients) == (V1.authorities, 2, V1.recipients)
    assert verify_successor(V1, _signed(v2, OLD[0], OLD[2]), TODAY) == v2


def test_revoking_a_reviewer_is_a_successor_without_them() -> None:
    revoked = V1.successor(issued=LATER, expires=EXPIRES, recipients=[REVIEWERS[0]])

    accepted = verify_successor(V1, _signed(revoked, *OLD[:2]), TODAY)

    assert [r.id for r in accepted.recipients] == ["reviewer-0"]
    assert REVIEWERS[1].encryption_key not in {r.encryption_key for r in accepted.recipients}


@pytest.mark.parametrize(
    "signers",
    [[], [OLD[0]], REVIEWER_SIGNING, [OUTSIDER, OLD[1]], NEW],
    ids=["unsigned", "one-authority", "reviewers", "outsider-and-one", "keys-not-yet-in-force"],
)
def test_changing_recipients_without_the_authorities_is_refused(signers: list[SigningKey]) -> None:
    swapped = V1.successor(
        issued=LATER,
        expires=EXPIRES,
        recipients=[
            dataclasses.replace(REVIEWERS[0], encryption_key=PrivateKey.generate().public_key)
        ],
    )

    with pytest.raises(VerificationError) as caught:
        verify_successor(V1, _signed(swapped, *signers), TODAY)
    assert _rule(caught) == "threshold"


def test_recipients_edited_in_a_signed_document_are_refused() -> None:
    signed = _signed(V1.successor(issued=LATER, expires=EXPIRES), *OLD)
    doc = json.loads(signed.to_bytes())
    doc["manifest"]["recipients"][0]["encryption_key"] = PrivateKey.generate().public_key.to_text()
    edited = SignedManifest.from_bytes(json.dumps(doc).encode())

    with pytest.raises(VerificationError) as caught:
        verify_successor(V1, edited, TODAY)
    assert _rule(caught) == "threshold"


@pytest.mark.parametrize("version", [1, 2], ids=["older", "same"])
def test_replayed_or_repeated_version_is_refused(version: int) -> None:
    v2 = V1.successor(issued=LATER, expires=EXPIRES)
    replay = V1 if version == 1 else dataclasses.replace(v2, issued=TODAY)

    with pytest.raises(VerificationError) as caught:
        verify_successor(v2, _signed(replay, *OLD), TODAY)
    assert _rule(caught) == "version"


def test_a_later_version_may_skip_numbers() -> None:
    v5 = dataclasses.replace(V1.successor(issued=LATER, expires=EXPIRES), version=5)

    assert verify_successor(V1, _signed(v5, *OLD), TODAY).version == 5


@pytest.mark.parametrize("version", [3, 5, 2**53])
def test_an_installer_takes_only_the_next_version(version: int) -> None:
    """Readers take any higher version; installers only the next, so none runs out (§8.5)."""
    check_step(V1, V1.successor(issued=LATER, expires=EXPIRES))
    skipped = dataclasses.replace(V1.successor(issued=LATER, expires=EXPIRES), version=version)

    with pytest.raises(VerificationError) as caught:
        check_step(V1, skipped)
    assert _rule(caught) == "step"
    assert "version 2" in str(caught.value)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Admin 1", "Admin \u0031"),  # the same name twice
        ("Admin A", "Admin \u0410"),  # Cyrillic capital A
        ("Admin A", "admin a"),
        ("Admin A", "Admin-A."),
        ("Admin 0", "Admin O"),
        ("\u0646\u0627\u0638\u0645", "\u0646\u0627\u0638\u0645\u0640"),  # Urdu, a tatweel
    ],
)
@pytest.mark.parametrize("role", ["authorities", "reviewers"])
def test_an_installer_takes_no_keyring_naming_two_of_one_role_alike(
    role: str, one: str, other: str
) -> None:
    """A name read as a holder's gives whoever holds its key a second vote (§8.5, `names`)."""
    if role == "authorities":
        a, b = V1.authorities[:2]
        new = dataclasses.replace(
            V1,
            authorities=(
                dataclasses.replace(a, name=one),
                dataclasses.replace(b, name=other),
                *V1.authorities[2:],
            ),
        )
    else:
        r, s = V1.recipients[:2]
        new = dataclasses.replace(
            V1, recipients=(dataclasses.replace(r, name=one), dataclasses.replace(s, name=other))
        )

    with pytest.raises(VerificationError) as caught:
        check_names(new)
    assert _rule(caught) == "names"
    assert f"two {role}" in str(caught.value)
    assert ascii(other) in str(caught.value)


# Letters the session-40 rule did not know, each read as the Latin one on any screen:
# Armenian small oh, Cherokee capital hi, Latin small capitals, Malayalam ttha, Myanmar wa.
LETTERS_OF_OTHER_SCRIPTS = [
    ("Holder Two", "Holder Tw\u0585"),
    ("Holder Two", "\u13bbolder Two"),
    ("Holder Two", "Holder T\u1d21\u1d0f"),
    ("Holder Two", "Holder Tw\u0d20"),
    ("Holder Two", "Holder Tw\u101d"),
]


@pytest.mark.parametrize(("one", "other"), LETTERS_OF_OTHER_SCRIPTS)
def test_a_keyring_naming_a_second_holder_in_letters_of_another_script_is_not_installed(
    one: str, other: str
) -> None:
    """Unicode's list of look-alikes (UTS #39), not a hand-kept few, says what reads alike."""
    a, b = V1.authorities[:2]
    new = dataclasses.replace(
        V1,
        authorities=(
            dataclasses.replace(a, name=one),
            dataclasses.replace(b, name=other),
            *V1.authorities[2:],
        ),
    )

    with pytest.raises(VerificationError) as caught:
        check_names(new)
    assert _rule(caught) == "names", f"{other!a} was taken for a name apart from {one!a}"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Holder Two", "Holder Three"),
        ("Amna", "Hamna"),
        ("Reviewer 1", "Reviewer 7"),
        ("\u0646\u0627\u0638\u0645", "\u0646\u0627\u0638\u0631"),  # Urdu: nazim, nazir
    ],
)
def test_names_unicode_does_not_list_as_alike_stay_apart(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


def test_names_read_apart_and_one_name_in_two_roles_are_taken() -> None:
    """An administrator may also review, under her own name, with other keys."""
    both = dataclasses.replace(
        V1,
        authorities=(
            dataclasses.replace(V1.authorities[0], name="Reviewer 0"),
            *V1.authorities[1:],
        ),
    )
    check_names(V1)
    check_names(both)


@pytest.mark.parametrize(
    "previous",
    [lambda: V1.digest(), lambda: bytes(32), lambda: V2.digest()],
    ids=["skips-a-link", "made-up", "a-fork"],
)
def test_broken_chain_is_refused(previous: Any) -> None:
    v2 = V1.successor(issued=LATER, expires=EXPIRES)
    v3 = dataclasses.replace(v2, version=3, previous=previous())

    with pytest.raises(VerificationError) as caught:
        verify_successor(v2, _signed(v3, *OLD), TODAY)
    assert _rule(caught) == "chain"


# Rotation of the authority set.


def test_rotation_with_both_thresholds_is_accepted() -> None:
    signed = _signed(V2, OLD[0], OLD[1], NEW[1], NEW[2])

    assert verify_successor(V1, signed, TODAY).authority_fingerprints == PINNED_NEW


@pytest.mark.parametrize(
    ("signers", "rule"),
    [
        (NEW, "threshold"),
        ([OLD[0], *NEW], "threshold"),
        (OLD, "rotation"),
        ([*OLD, NEW[0]], "rotation"),
    ],
    ids=["new-set-only", "one-old-key", "old-set-only", "one-new-key"],
)
def test_rotation_needs_the_old_and_the_new_threshold(signers: list[SigningKey], rule: str) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_successor(V1, _signed(V2, *signers), TODAY)
    assert _rule(caught) == rule


def test_raising_the_threshold_is_a_rotation() -> None:
    stricter = V1.successor(issued=LATER, expires=EXPIRES, threshold=3)

    with pytest.raises(VerificationError) as caught:
        verify_successor(V1, _signed(stricter, *OLD[:2]), TODAY)
    assert _rule(caught) == "rotation"
    assert verify_successor(V1, _signed(stricter, *OLD), TODAY).threshold == 3


def test_after_a_rotation_only_the_new_set_signs() -> None:
    v3_by_old = _signed(V3, *OLD)
    v3_by_new = _signed(V3, NEW[0], NEW[2])

    assert verify_successor(V2, v3_by_new, TODAY) == V3
    with pytest.raises(VerificationError) as caught:
        verify_successor(V2, v3_by_old, TODAY)
    assert _rule(caught) == "threshold"


CHAIN = [_signed(V1, *OLD[:2]), _signed(V2, *OLD[:2], *NEW[:2]), _signed(V3, *NEW[1:])]


def test_chain_from_pinned_keys_crosses_a_rotation() -> None:
    assert verify_chain(PINNED_OLD, CHAIN, TODAY) == V3


def test_chain_starts_at_the_first_manifest_the_pinned_keys_sign() -> None:
    assert verify_chain(PINNED_NEW, CHAIN, TODAY) == V3
    assert verify_chain(PINNED_NEW, CHAIN[1:], TODAY) == V3
    assert verify_chain(PINNED_OLD, CHAIN[:1], TODAY) == V1


def test_a_start_needs_the_readers_count_of_pinned_signatures_whatever_it_states() -> None:
    # One holder of the pinned set writes it with a threshold of 1 and signs alone.
    forged = _signed(dataclasses.replace(V1, threshold=1), OLD[0])
    assert verify_chain(PINNED_OLD, [forged], TODAY).threshold == 1  # its own word alone
    with pytest.raises(VerificationError) as caught:
        verify_chain(PINNED_OLD, [forged], TODAY, signers=2)
    assert _rule(caught) == "threshold"
    assert verify_chain(PINNED_OLD, CHAIN, TODAY, signers=2) == V3
    with pytest.raises(VerificationError) as caught:
        verify_chain(PINNED_OLD, CHAIN, TODAY, signers=len(OLD))
    assert _rule(caught) == "threshold"


def test_chain_allows_expired_links_but_not_an_expired_end() -> None:
    v1 = dataclasses.replace(V1, expires=dt.date(2025, 1, 31))
    v2 = v1.successor(issued=LATER, expires=EXPIRES)
    chain = [_signed(v1, *OLD), _signed(v2, *OLD)]

    assert verify_chain(PINNED_OLD, chain, TODAY) == v2
    with pytest.raises(VerificationError) as caught:
        verify_chain(PINNED_OLD, chain, EXPIRES + dt.timedelta(days=1))
    assert _rule(caught) == "expired"


@pytest.mark.parametrize(
    ("pinned", "chain", "rule"),
    [
        (frozenset({OUTSIDER.verify_key.fingerprint}), CHAIN, "authority"),
        (PINNED_OLD, CHAIN[1:], "authority"),
        (PINNED_OLD, [CHAIN[0], CHAIN[2]], "chain"),
        (PINNED_OLD, [CHAIN[0], CHAIN[1], CHAIN[1]], "version"),
        (PINNED_OLD, [CHAIN[0], CHAIN[1], _signed(V3, *OLD)], "threshold"),
        (PINNED_OLD, [_signed(V1, OLD[0]), *CHAIN[1:]], "threshold"),
        (PINNED_OLD, [CHAIN[0], _signed(V2, *OLD), CHAIN[2]], "rotation"),
    ],
    ids=[
        "unknown-pins",
        "pinned-set-absent",
        "missing-link",
        "repeated-link",
        "signed-by-rotated-out-keys",
        "weak-start",
        "rotation-without-new-keys",
    ],
)
def test_broken_chain_names_the_rule_it_broke(
    pinned: frozenset[Any], chain: list[SignedManifest], rule: str
) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_chain(pinned, chain, TODAY)
    assert _rule(caught) == rule


# Serialisation.


def test_signed_manifest_round_trips_byte_for_byte() -> None:
    for signed in CHAIN:
        data = signed.to_bytes()
        parsed = SignedManifest.from_bytes(data)

        assert parsed == signed
        assert parsed.to_bytes() == data
        assert parsed.manifest.digest() == signed.manifest.digest()


def test_canonical_bytes_are_sorted_compact_json() -> None:
    body = V1.canonical_bytes()

    assert body == json.dumps(V1.to_body(), sort_keys=True, separators=(",", ":")).encode()
    assert body.startswith(b'{"authority":{"keys":[{"key":"rz-ed25519-public:')
    assert V1.canonical_bytes() == body
    assert V1.digest() != V2.digest()


def test_whitespace_and_key_order_in_the_input_do_not_matter() -> None:
    signed = CHAIN[2]
    pretty = json.dumps(json.loads(signed.to_bytes()), indent=2, sort_keys=False).encode()
    reordered = json.dumps(dict(reversed(json.loads(signed.to_bytes()).items()))).encode()

    for data in (pretty, reordered):
        parsed = SignedManifest.from_bytes(data)
        assert parsed.to_bytes() == signed.to_bytes()
        assert verify_successor(V2, parsed, TODAY) == V3


def test_signature_fingerprints_are_read_however_people_write_them() -> None:
    doc = json.loads(CHAIN[0].to_bytes())
    for sig in doc["signatures"]:
        key = sig["key"].lower()
        sig["key"] = " ".join(key[i : i + 4] for i in range(0, len(key), 4))

    parsed = SignedManifest.from_bytes(json.dumps(doc).encode())
    assert verify_initial(parsed, PINNED_OLD, TODAY) == V1


DELETE = object()


def _mutated(path: tuple[Any, ...], value: Any) -> bytes:
    doc = json.loads(CHAIN[1].to_bytes())
    target = doc
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(doc).encode()


MALFORMED = {
    "unknown-top-field": (("extra",), 1),
    "missing-signatures": (("signatures",), DELETE),
    "unknown-manifest-field": (("manifest", "comment"), "hi"),
    "missing-manifest-field": (("manifest", "expires"), DELETE),
    "unknown-authority-field": (("manifest", "authority", "note"), "x"),
    "missing-threshold": (("manifest", "authority", "threshold"), DELETE),
    "unknown-key-field": (("manifest", "authority", "keys", 0, "role"), "admin"),
    "missing-key-name": (("manifest", "authority", "keys", 0, "name"), DELETE),
    "unknown-recipient-field": (("manifest", "recipients", 0, "email"), "a@b"),
    "missing-signing-key": (("manifest", "recipients", 0, "signing_key"), DELETE),
    "unknown-signature-field": (("signatures", 0, "alg"), "ed25519"),
    "missing-signature": (("signatures", 0, "signature"), DELETE),
    "float-version": (("manifest", "version"), 2.0),
    "float-threshold": (("manifest", "authority", "threshold"), 2.0),
    "bool-version": (("manifest", "version"), True),
    "string-version": (("manifest", "version"), "2"),
    "wrong-type": (("manifest", "type"), "raazdar-keyfile"),
    "previous-upper-case": (("manifest", "previous"), "AB" * 32),
    "previous-short": (("manifest", "previous"), "ab" * 31),
    "previous-null-after-v1": (("manifest", "previous"), None),
    "date-unpadded": (("manifest", "issued"), "2025-2-1"),
    "date-impossible": (("manifest", "issued"), "2025-02-30"),
    "date-with-time": (("manifest", "issued"), "2025-02-01T00:00:00"),
    "date-arabic-indic-digits": (
        ("manifest", "issued"),
        "\u0662\u0660\u0662\u0665-\u0660\u0662-\u0660\u0661",
    ),
    "expires-before-issued": (("manifest", "expires"), "2024-01-01"),
    "keys-not-a-list": (("manifest", "authority", "keys"), {}),
    "no-authority-keys": (("manifest", "authority", "keys"), []),
    "recipients-not-a-list": (("manifest", "recipients"), None),
    "authority-key-is-x25519": (
        ("manifest", "authority", "keys", 0, "key"),
        REVIEWERS[0].encryption_key.to_text(),
    ),
    "encryption-key-is-ed25519": (
        ("manifest", "recipients", 0, "encryption_key"),
        REVIEWERS[0].signing_key.to_text(),
    ),
    "mangled-key": (("manifest", "recipients", 0, "signing_key"), "rz-ed25519-public:AAAA"),
    "recipient-id-upper-case": (("manifest", "recipients", 0, "id"), "Reviewer-0"),
    "name-not-printable": (("manifest", "recipients", 0, "name"), "Reviewer\u200b0"),
    "signature-short": (("signatures", 0, "signature"), "AAAA"),
    "signature-key-not-a-fingerprint": (("signatures", 0, "key"), "not a fingerprint"),
    "signatures-not-a-list": (("signatures",), {}),
    "manifest-not-an-object": (("manifest",), []),
}


@pytest.mark.parametrize(("path", "value"), MALFORMED.values(), ids=MALFORMED)
def test_malformed_signed_manifest_is_refused(path: tuple[Any, ...], value: Any) -> None:
    with pytest.raises(FormatError) as caught:
        SignedManifest.from_bytes(_mutated(path, value))
    assert not isinstance(caught.value, UnsupportedVersionError)


@pytest.mark.parametrize(
    "data",
    [
        b'{"manifest":{},"manifest":{},"signatures":[]}',
        CHAIN[0].to_bytes().replace(b'"threshold":2', b'"threshold":2,"threshold":1'),
        CHAIN[0].to_bytes().replace(b'"name":"Admin 0"', b'"name":"Admin 0","name":"Admin X"'),
        CHAIN[0].to_bytes().replace(b'"version":1', b'"version":1.0'),
        CHAIN[0].to_bytes().replace(b'"version":1', b'"version":1e0'),
        CHAIN[0].to_bytes()[:-1],
        b"[]",
        b'{"manifest":' + b" " * C.MANIFEST_MAX_BYTES + b'{},"signatures":[]}',
    ],
    ids=[
        "duplicate-top-key",
        "duplicate-threshold",
        "duplicate-name",
        "float",
        "exponent",
        "truncated",
        "not-an-object",
        "oversized",
    ],
)
def test_malformed_manifest_json_is_refused(data: bytes) -> None:
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(data)


@pytest.mark.parametrize(
    "fmt", [4, 0, "1", True, None, 1.5], ids=["four", "zero", "string", "true", "null", "float"]
)
def test_unknown_manifest_format_is_unsupported(fmt: Any) -> None:
    data = _mutated(("manifest", "format"), fmt)
    if isinstance(fmt, float):
        with pytest.raises(FormatError):
            SignedManifest.from_bytes(data)
        return

    with pytest.raises(UnsupportedVersionError):
        SignedManifest.from_bytes(data)


def test_unknown_format_wins_over_unknown_fields() -> None:
    doc = json.loads(CHAIN[0].to_bytes())
    doc["manifest"] = {"type": "raazdar-keyring", "format": 4, "anything": "new"}

    with pytest.raises(UnsupportedVersionError):
        SignedManifest.from_bytes(json.dumps(doc).encode())


def _invalid(**changes: Any) -> Any:
    return lambda: dataclasses.replace(V1, **changes)


INVALID_MANIFESTS = {
    "version-zero": _invalid(version=0),
    "v1-with-previous": _invalid(previous=bytes(32)),
    "v2-without-previous": _invalid(version=2),
    "previous-short": _invalid(version=2, previous=bytes(31)),
    "expires-on-issue-day": _invalid(expires=ISSUED),
    "no-authorities": _invalid(authorities=()),
    "seventeen-authorities": _invalid(
        authorities=_authorities([SigningKey(bytes([i]) * 32) for i in range(17)])
    ),
    "authority-twice": _invalid(authorities=(*_authorities(OLD), _authorities(OLD)[0])),
    "threshold-zero": _invalid(threshold=0),
    "threshold-above-n": _invalid(threshold=4),
    "no-recipients": _invalid(recipients=()),
    "recipient-id-twice": _invalid(
        recipients=(REVIEWERS[0], dataclasses.replace(REVIEWERS[1], id="reviewer-0"))
    ),
    "recipient-key-twice": _invalid(
        recipients=(
            REVIEWERS[0],
            dataclasses.replace(REVIEWERS[1], encryption_key=REVIEWERS[0].encryption_key),
        )
    ),
    "recipient-id-with-space": _invalid(recipients=(dataclasses.replace(REVIEWERS[0], id="a b"),)),
    "recipient-id-too-long": _invalid(recipients=(dataclasses.replace(REVIEWERS[0], id="a" * 65),)),
    "name-empty": _invalid(recipients=(dataclasses.replace(REVIEWERS[0], name=""),)),
    "name-too-long": _invalid(recipients=(dataclasses.replace(REVIEWERS[0], name="a" * 101),)),
    "name-with-newline": _invalid(
        authorities=(AuthorityKey(name="Admin\nA", key=OLD[0].verify_key),), threshold=1
    ),
}


@pytest.mark.parametrize("build", INVALID_MANIFESTS.values(), ids=INVALID_MANIFESTS)
def test_invalid_manifest_cannot_be_built(build: Any) -> None:
    with pytest.raises(FormatError):
        build()


def test_urdu_names_are_allowed() -> None:
    manifest = dataclasses.replace(
        V1, recipients=(dataclasses.replace(REVIEWERS[0], name="جائزہ کار ایک"),)
    )
    signed = _signed(manifest, *OLD)

    assert (
        SignedManifest.from_bytes(signed.to_bytes()).manifest.recipients[0].name == "جائزہ کار ایک"
    )


def test_a_digest_reads_back_as_people_copy_it() -> None:
    # §8.8's known format-2 manifest, as `raazdar-review keys show` writes its digest.
    digest = bytes.fromhex("b713f4df17baf84c6aa87b00f4746e1cbe91864a8ee65df07583cb82c10d6a95")
    shown = "W4J7 JXYX XL4E Y2VI PMAP I5DO DS7J DBSK R3TF 34DV QPFY FQIN NKKQ"
    assert format_digest(digest) == shown
    assert parse_digest(shown) == digest
    assert parse_digest(shown.lower().replace(" ", "-")) == digest


@pytest.mark.parametrize(
    "text", ["", "W4J7", "W4J7 JXYX XL4E Y2VI PMAP I5DO DS7J DBSK R3TF 34DV QPFY FQIN NKK1"]
)
def test_a_digest_of_another_length_or_alphabet_is_refused(text: str) -> None:
    with pytest.raises(FormatError, match="52 base32 characters"):
        parse_digest(text)
