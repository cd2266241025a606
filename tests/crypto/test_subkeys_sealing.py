"""Which keys a format-3 keyring seals to, rule D2 on uploads, and installing a list.

The attacks: a reviewer's list missing, expired, someone else's or naming a
long-term key, where a sealer might fall back to the long-term keys; an upload
sealed to a closed week, to long-term keys, v1, or to an extra key of the
attacker's; a list that disagrees with the one installed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Sequence

import pytest

from crypto import (
    FormatError,
    HybridPrivateKey,
    Metadata,
    PrivateKey,
    PublicKey,
    SigningKey,
    read_header,
    seal_bytes,
)
from crypto.envelope import Header
from crypto.hybrid import HybridPublicKey
from crypto.manifest import AuthorityKey, Manifest, Recipient
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyError,
    SubkeyList,
    check_install,
    check_sealed_to_keyring,
    check_sealed_to_subkeys,
    replaced,
    requires_subkeys,
    sealing_keys,
    sign_subkeys,
    verified_lists,
)
from tests.crypto.test_manifest_instance import V2_SECTIONS

AUTHORITY = SigningKey(bytes([0x01]) * 32)
SIGNERS = {"alice": SigningKey(bytes([0x31]) * 32), "bilal": SigningKey(bytes([0x32]) * 32)}
LONG_TERM = {
    "alice": HybridPrivateKey(bytes([0x41]) * 32),
    "bilal": HybridPrivateKey(bytes([0x42]) * 32),
}
X25519 = {"alice": PrivateKey(bytes([0x21]) * 32), "bilal": PrivateKey(bytes([0x22]) * 32)}
FIRST = Period(2026, 49)
WEDNESDAY = dt.date(2026, 12, 2)  # in 2026-W49
META = Metadata(kind="file")


def seed(rid: str, week: int) -> HybridPrivateKey:
    """The secret subkey of reviewer `rid` for the `week`-th week of the list (fixed seeds)."""
    return HybridPrivateKey(bytes([0x60 + 0x10 * sorted(SIGNERS).index(rid) + week]) * 32)


def subkey(rid: str, period: Period) -> HybridPublicKey:
    """The public subkey of `rid` for `period`."""
    return seed(rid, (period.first_day - FIRST.first_day).days // 7).public_key


def keyring(*, hybrid: bool = True) -> Manifest:
    """A keyring of two reviewers listing the instance: format 3 (long-term hybrid keys),
    or format 2 if `hybrid` is False."""
    return Manifest(
        version=1,
        previous=None,
        issued=dt.date(2026, 11, 1),
        expires=dt.date(2027, 11, 1),
        threshold=1,
        authorities=(AuthorityKey("Admin", AUTHORITY.verify_key),),
        recipients=tuple(
            Recipient(
                id=rid,
                name=rid.title(),
                encryption_key=X25519[rid].public_key,
                signing_key=SIGNERS[rid].verify_key,
                hybrid_key=LONG_TERM[rid].public_key if hybrid else None,
            )
            for rid in sorted(SIGNERS)
        ),
        **V2_SECTIONS,
    )


def signed_list(
    rid: str,
    first: Period = FIRST,
    count: int = 8,
    *,
    issued: dt.date | None = None,
    under: Manifest | None = None,
    sequence: int | None = None,
) -> SignedSubkeyList:
    """`rid`'s list of `count` weeks from `first`, signed by `rid` (bound to `under`'s instance,
    numbered `sequence`)."""
    entries = tuple((first.after(i), subkey(rid, first.after(i))) for i in range(count))
    instance = under.instance.id if under is not None and under.instance is not None else None
    version = under.version if under is not None else None
    body = SubkeyList(
        SIGNERS[rid].verify_key, issued or first.first_day, entries, instance, version, sequence
    )
    return sign_subkeys(body, SIGNERS[rid])


LISTS = {rid: signed_list(rid) for rid in SIGNERS}


def header(keys: Sequence[HybridPublicKey | PublicKey]) -> Header:
    """The header of an envelope sealed to `keys`."""
    return read_header(io.BytesIO(seal_bytes(b"report", keys, META)))


def week_keys(period: Period) -> list[HybridPublicKey]:
    """Every reviewer's subkey for `period`, in keyring order."""
    return [subkey(rid, period) for rid in sorted(SIGNERS)]


def test_a_format_3_keyring_seals_to_each_reviewers_subkey_of_the_week() -> None:
    for offset in range(8 * 7):
        day = FIRST.first_day + dt.timedelta(days=offset)
        assert sealing_keys(keyring(), LISTS, day) == week_keys(Period.of(day))


def test_only_a_keyring_with_hybrid_reviewers_requires_subkeys() -> None:
    assert (keyring().format, keyring(hybrid=False).format) == (3, 2)
    assert requires_subkeys(keyring())
    assert not requires_subkeys(keyring(hybrid=False))


def test_sealing_keys_never_returns_a_long_term_key() -> None:
    long_term = {k.public_key for k in LONG_TERM.values()}
    for offset in range(8 * 7):
        day = FIRST.first_day + dt.timedelta(days=offset)
        assert not long_term & set(sealing_keys(keyring(), LISTS, day))


def test_a_reviewer_without_a_list_stops_all_sealing() -> None:
    with pytest.raises(SubkeyError) as caught:
        sealing_keys(keyring(), {"alice": LISTS["alice"]}, WEDNESDAY)
    assert caught.value.rule == "missing"


@pytest.mark.parametrize(
    ("day", "rule"),
    [(FIRST.after(8).first_day, "expired"), (FIRST.after(-1).last_day, "missing")],
)
def test_a_day_outside_a_list_fails_closed(day: dt.date, rule: str) -> None:
    with pytest.raises(SubkeyError) as caught:
        sealing_keys(keyring(), LISTS, day)
    assert caught.value.rule == rule


def test_one_reviewers_expired_list_stops_all_sealing() -> None:
    lists = {**LISTS, "bilal": signed_list("bilal", count=1)}
    assert sealing_keys(keyring(), lists, WEDNESDAY)
    with pytest.raises(SubkeyError) as caught:
        sealing_keys(keyring(), lists, FIRST.after(1).first_day)
    assert caught.value.rule == "expired"


def test_a_keyring_without_hybrid_keys_has_no_sealing_keys() -> None:
    with pytest.raises(SubkeyError) as caught:
        sealing_keys(keyring(hybrid=False), LISTS, WEDNESDAY)
    assert caught.value.rule == "format"


def one_week(rid: str, key: HybridPublicKey) -> SignedSubkeyList:
    """A list of `rid`'s, signed by them, giving `key` for the first week."""
    return sign_subkeys(
        SubkeyList(SIGNERS[rid].verify_key, WEDNESDAY, ((FIRST, key),)), SIGNERS[rid]
    )


ROGUE: dict[str, tuple[Callable[[], dict[str, SignedSubkeyList]], str]] = {
    "filed-under-another": (lambda: {"alice": LISTS["bilal"], "bilal": LISTS["bilal"]}, "signer"),
    "own-long-term-key": (
        lambda: {**LISTS, "alice": one_week("alice", LONG_TERM["alice"].public_key)},
        "long-term",
    ),
    "others-long-term-key": (
        lambda: {**LISTS, "alice": one_week("alice", LONG_TERM["bilal"].public_key)},
        "long-term",
    ),
    "two-reviewers-one-subkey": (
        lambda: {**LISTS, "bilal": one_week("bilal", subkey("alice", FIRST))},
        "duplicate",
    ),
    "forged": (
        lambda: {**LISTS, "alice": dataclasses.replace(LISTS["alice"], signature=bytes(64))},
        "signature",
    ),
}


@pytest.mark.parametrize("case", ROGUE)
def test_a_rogue_list_stops_all_sealing(case: str) -> None:
    lists, rule = ROGUE[case]
    with pytest.raises(SubkeyError) as caught:
        sealing_keys(keyring(), lists(), WEDNESDAY)
    assert caught.value.rule == rule


# Rule D2: what the server accepts from a client that sealed on its own device.


def test_d2_accepts_an_envelope_sealed_to_this_weeks_subkeys() -> None:
    check_sealed_to_subkeys(header(week_keys(FIRST)), keyring(), LISTS, WEDNESDAY)


def test_d2_accepts_the_stanzas_in_any_order() -> None:
    check_sealed_to_subkeys(header(week_keys(FIRST)[::-1]), keyring(), LISTS, WEDNESDAY)


def test_d2_accepts_last_week_until_it_closes_and_refuses_it_after() -> None:
    last_week = header(week_keys(FIRST))
    monday = FIRST.after().first_day
    check_sealed_to_subkeys(last_week, keyring(), LISTS, monday)
    with pytest.raises(SubkeyError) as caught:
        check_sealed_to_subkeys(last_week, keyring(), LISTS, monday + dt.timedelta(days=1))
    assert caught.value.rule == "stanzas"


def test_d2_accepts_next_week_from_a_clock_a_day_ahead_but_no_further() -> None:
    sunday = FIRST.last_day
    check_sealed_to_subkeys(header(week_keys(FIRST.after())), keyring(), LISTS, sunday)
    with pytest.raises(SubkeyError):
        check_sealed_to_subkeys(header(week_keys(FIRST.after())), keyring(), LISTS, WEDNESDAY)
    with pytest.raises(SubkeyError):
        check_sealed_to_subkeys(header(week_keys(FIRST.after(2))), keyring(), LISTS, sunday)


def test_d2_refuses_an_envelope_sealed_to_the_long_term_hybrid_keys() -> None:
    keys = [LONG_TERM[rid].public_key for rid in sorted(SIGNERS)]
    with pytest.raises(SubkeyError) as caught:
        check_sealed_to_subkeys(header(keys), keyring(), LISTS, WEDNESDAY)
    assert caught.value.rule == "stanzas"


def test_d2_refuses_a_v1_envelope_to_the_long_term_x25519_keys() -> None:
    keys = [X25519[rid].public_key for rid in sorted(SIGNERS)]
    with pytest.raises(SubkeyError) as caught:
        check_sealed_to_subkeys(header(keys), keyring(), LISTS, WEDNESDAY)
    assert caught.value.rule == "version"


def test_d2_refuses_an_envelope_that_leaves_a_reviewer_out() -> None:
    with pytest.raises(SubkeyError):
        check_sealed_to_subkeys(header(week_keys(FIRST)[:1]), keyring(), LISTS, WEDNESDAY)


def test_d2_refuses_an_extra_stanza_for_the_attacker() -> None:
    extra = HybridPrivateKey(bytes([0x99]) * 32).public_key
    with pytest.raises(SubkeyError):
        check_sealed_to_subkeys(header([*week_keys(FIRST), extra]), keyring(), LISTS, WEDNESDAY)


def test_d2_refuses_two_weeks_of_one_reviewer_in_place_of_the_other() -> None:
    keys = [subkey("alice", FIRST), subkey("alice", FIRST.after())]
    with pytest.raises(SubkeyError):
        check_sealed_to_subkeys(header(keys), keyring(), LISTS, FIRST.last_day)


def test_d2_refuses_when_a_reviewers_list_is_gone() -> None:
    with pytest.raises(SubkeyError) as caught:
        check_sealed_to_subkeys(
            header(week_keys(FIRST)), keyring(), {"alice": LISTS["alice"]}, WEDNESDAY
        )
    assert caught.value.rule == "missing"


# Installing a list on the server.


def test_a_reviewers_list_installs_and_says_whose_it_is() -> None:
    assert check_install(keyring(), LISTS["bilal"], None, WEDNESDAY).id == "bilal"


def test_a_list_signed_by_no_reviewer_is_not_installed() -> None:
    stranger = SigningKey(bytes([0x77]) * 32)
    entries = ((FIRST, subkey("alice", FIRST)),)
    rogue = sign_subkeys(SubkeyList(stranger.verify_key, WEDNESDAY, entries), stranger)
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), rogue, None, WEDNESDAY)
    assert caught.value.rule == "signer"


def test_a_list_naming_a_long_term_key_is_not_installed() -> None:
    rogue = one_week("alice", LONG_TERM["bilal"].public_key)
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), rogue, None, WEDNESDAY)
    assert caught.value.rule == "long-term"


def test_a_newer_list_that_agrees_replaces_the_installed_one() -> None:
    newer = signed_list("alice", FIRST.after(4), 8)
    assert check_install(keyring(), newer, LISTS["alice"], FIRST.after(4).first_day).id == "alice"


def test_a_list_that_disagrees_on_a_shared_week_is_refused() -> None:
    entries = tuple((FIRST.after(i), seed("bilal", i).public_key) for i in range(4, 6))
    other = sign_subkeys(
        SubkeyList(SIGNERS["alice"].verify_key, FIRST.after(4).first_day, entries), SIGNERS["alice"]
    )
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), other, LISTS["alice"], FIRST.after(4).first_day)
    assert caught.value.rule == "disagrees"


def _rekeyed_alice() -> SignedSubkeyList:
    """Alice's list re-keyed the day it was issued: bilal's seeds for weeks 4-5, hers after."""
    entries = tuple((FIRST.after(i), seed("bilal", i).public_key) for i in range(4, 6))
    entries += tuple((FIRST.after(i), subkey("alice", FIRST.after(i))) for i in range(6, 8))
    return sign_subkeys(
        SubkeyList(SIGNERS["alice"].verify_key, LISTS["alice"].subkeys.issued, entries),
        SIGNERS["alice"],
    )


def test_a_list_rekeyed_the_same_day_replaces_the_installed_one_on_the_installers_word() -> None:
    rekeyed = _rekeyed_alice()
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), rekeyed, LISTS["alice"], WEDNESDAY)
    assert caught.value.rule == "disagrees"
    assert check_install(keyring(), rekeyed, LISTS["alice"], WEDNESDAY, rekeyed=True).id == "alice"
    assert replaced(rekeyed.subkeys, LISTS["alice"].subkeys) == tuple(
        (FIRST.after(i), subkey("alice", FIRST.after(i))) for i in range(4, 6)
    )
    assert replaced(LISTS["alice"].subkeys, LISTS["alice"].subkeys) == ()


def test_a_list_naming_a_superseded_key_is_refused_whatever_the_installer_says() -> None:
    gone = frozenset({subkey("alice", FIRST.after(5)).fingerprint.key_id})
    for installed in (None, _rekeyed_alice()):
        with pytest.raises(SubkeyError) as caught:
            check_install(
                keyring(), LISTS["alice"], installed, WEDNESDAY, rekeyed=True, superseded=gone
            )
        assert caught.value.rule == "superseded"
        assert str(FIRST.after(5)) in str(caught.value)
    other = frozenset({subkey("bilal", FIRST).fingerprint.key_id})
    assert check_install(keyring(), LISTS["alice"], None, WEDNESDAY, superseded=other).id == "alice"


def test_a_rekeyed_list_issued_earlier_is_still_older() -> None:
    newer = signed_list("alice", issued=WEDNESDAY)
    earlier = signed_list("alice", issued=WEDNESDAY - dt.timedelta(days=1))
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), earlier, newer, WEDNESDAY, rekeyed=True)
    assert caught.value.rule == "older"


def test_an_older_list_does_not_replace_a_newer_one() -> None:
    newer = signed_list("alice", FIRST.after(2), 6)
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), LISTS["alice"], newer, WEDNESDAY)
    assert caught.value.rule == "older"


def test_installing_the_same_list_again_is_accepted() -> None:
    assert check_install(keyring(), LISTS["alice"], LISTS["alice"], WEDNESDAY).id == "alice"


# A consultant reviewer (one signing key) serving instances A and B; rollback of the format.


def at_version(manifest: Manifest, version: int) -> Manifest:
    """`manifest` as if it were keyring version `version` (its chain is not checked here)."""
    return dataclasses.replace(manifest, version=version, previous=bytes(32))


def other_instance(manifest: Manifest) -> Manifest:
    """`manifest` as the keyring of another instance (another id)."""
    assert manifest.instance is not None
    listing = dataclasses.replace(manifest.instance, id="b" * 32)
    return dataclasses.replace(manifest, instance=listing)


def test_a_bound_list_round_trips_and_seals_under_its_own_instance() -> None:
    bound = signed_list("alice", under=keyring())
    assert SignedSubkeyList.from_bytes(bound.to_bytes()) == bound
    assert bound.subkeys.format == 2
    lists = {"alice": bound, "bilal": signed_list("bilal", under=keyring())}
    assert sealing_keys(keyring(), lists, WEDNESDAY) == week_keys(FIRST)
    assert check_install(keyring(), bound, LISTS["alice"], WEDNESDAY).id == "alice"


def test_a_list_signed_for_instance_a_is_refused_by_instance_b() -> None:
    a_list = signed_list("alice", under=keyring())
    b = other_instance(keyring())
    lists = {"alice": a_list, "bilal": signed_list("bilal", under=b)}
    with pytest.raises(SubkeyError) as sealing:
        sealing_keys(b, lists, WEDNESDAY)
    assert sealing.value.rule == "instance", "B sealed its reports to A's subkeys"
    with pytest.raises(SubkeyError) as installing:
        check_install(b, a_list, None, WEDNESDAY)
    assert installing.value.rule == "instance", "B installed A's subkey list"
    with pytest.raises(SubkeyError) as d2:
        check_sealed_to_subkeys(header(week_keys(FIRST)), b, lists, WEDNESDAY)
    assert d2.value.rule == "instance"


def test_a_list_for_another_instance_does_not_verify_as_one_for_this() -> None:
    a_list = signed_list("alice", under=keyring())
    relabelled = dataclasses.replace(a_list.subkeys, instance="b" * 32)
    with pytest.raises(SubkeyError) as caught:
        check_install(
            other_instance(keyring()),
            SignedSubkeyList(relabelled, a_list.signature),
            None,
            WEDNESDAY,
        )
    assert caught.value.rule == "signature"


def test_an_unbound_body_does_not_verify_under_a_bound_signature() -> None:
    bound = signed_list("alice", under=keyring())
    stripped = dataclasses.replace(bound.subkeys, instance=None, keyring=None)
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), SignedSubkeyList(stripped, bound.signature), None, WEDNESDAY)
    assert caught.value.rule == "signature"


def test_a_list_issued_under_a_later_keyring_than_the_one_in_force_is_refused() -> None:
    later = signed_list("alice", under=at_version(keyring(), 3))
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), later, None, WEDNESDAY)
    assert caught.value.rule == "keyring", "a list from a withheld newer keyring was installed"


def test_a_list_issued_under_an_earlier_keyring_still_seals() -> None:
    now = at_version(keyring(), 4)
    lists = {rid: signed_list(rid, under=keyring()) for rid in SIGNERS}
    assert sealing_keys(now, lists, WEDNESDAY) == week_keys(FIRST)


def test_an_unbound_list_does_not_replace_a_bound_one() -> None:
    bound = signed_list("alice", under=keyring())
    unbound_later = signed_list("alice", FIRST.after(1), 7)
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), unbound_later, bound, FIRST.after(1).first_day)
    assert caught.value.rule == "older"


@pytest.mark.parametrize(
    ("field", "value"),
    [("instance", "B" * 32), ("instance", 7), ("keyring", 0), ("keyring", True), ("keyring", "1")],
)
def test_a_malformed_binding_is_refused(field: str, value: object) -> None:
    body = signed_list("alice", under=keyring()).subkeys.to_body()
    body[field] = value
    with pytest.raises(FormatError):
        SubkeyList.from_body(body)


def test_a_bound_list_has_both_fields_or_neither() -> None:
    body = signed_list("alice", under=keyring()).subkeys.to_body()
    del body["keyring"]
    with pytest.raises(FormatError):
        SubkeyList.from_body(body)
    unbound = LISTS["alice"].subkeys.to_body()
    unbound["instance"] = "a" * 32
    with pytest.raises(FormatError):
        SubkeyList.from_body(unbound)


def test_verified_lists_gives_only_the_lists_that_verify_for_this_instance() -> None:
    lists = {
        "alice": signed_list("alice", under=keyring()),
        "bilal": one_week("alice", subkey("bilal", FIRST)),
    }
    found = verified_lists(keyring(), lists, WEDNESDAY)
    assert found == {SIGNERS["alice"].verify_key: lists["alice"].subkeys}
    assert verified_lists(other_instance(keyring()), lists, WEDNESDAY) == {}


def test_a_list_of_a_reviewer_the_keyring_in_force_dropped_is_never_sealed_to() -> None:
    # bilal's list is still served, but the keyring in force lists alice only.
    only_alice = dataclasses.replace(
        keyring(), recipients=tuple(r for r in keyring().recipients if r.id == "alice")
    )
    assert sealing_keys(only_alice, LISTS, WEDNESDAY) == [subkey("alice", FIRST)]
    assert set(verified_lists(only_alice, LISTS, WEDNESDAY)) == {SIGNERS["alice"].verify_key}
    with pytest.raises(SubkeyError) as caught:
        check_install(only_alice, LISTS["bilal"], None, WEDNESDAY)
    assert caught.value.rule == "signer"
    # Nor under a new reviewer given the dropped one's id: the list is looked up by id
    # and verified under the key the keyring in force gives that id.
    taken = tuple(
        dataclasses.replace(r, signing_key=SigningKey(bytes([0x33]) * 32).verify_key)
        if r.id == "bilal"
        else r
        for r in keyring().recipients
    )
    with pytest.raises(SubkeyError) as reused:
        sealing_keys(dataclasses.replace(keyring(), recipients=taken), LISTS, WEDNESDAY)
    assert reused.value.rule == "signer"


# Format 3: a numbered list, so two lists of one day are ordered (a re-key after a leak).


def _numbered_rekey() -> tuple[SignedSubkeyList, SignedSubkeyList]:
    """Alice's list, and her re-keyed one of the same day numbered after it."""
    leaked = signed_list("alice", under=keyring(), sequence=5)
    fresh = tuple(
        (p, seed("bilal", i).public_key) for i, (p, _) in enumerate(leaked.subkeys.subkeys)
    )
    rekeyed = dataclasses.replace(leaked.subkeys, subkeys=fresh, sequence=6)
    return leaked, sign_subkeys(rekeyed, SIGNERS["alice"])


def test_a_numbered_list_round_trips_as_format_3_and_seals() -> None:
    leaked, rekeyed = _numbered_rekey()
    assert SignedSubkeyList.from_bytes(rekeyed.to_bytes()) == rekeyed
    assert (rekeyed.subkeys.format, rekeyed.subkeys.sequence) == (3, 6)
    lists = {"alice": leaked, "bilal": signed_list("bilal", under=keyring(), sequence=1)}
    assert sealing_keys(keyring(), lists, WEDNESDAY) == week_keys(FIRST)


def test_the_same_days_list_numbered_before_is_older_and_not_installed() -> None:
    leaked, rekeyed = _numbered_rekey()
    assert leaked.subkeys.issued == rekeyed.subkeys.issued
    assert leaked.subkeys.older_than(rekeyed.subkeys) == "numbered 6, after 5"
    assert rekeyed.subkeys.older_than(leaked.subkeys) is None
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), leaked, rekeyed, WEDNESDAY, rekeyed=True)
    assert caught.value.rule == "older"


def test_two_lists_of_one_number_are_an_equivocation_neither_follows() -> None:
    leaked, rekeyed = _numbered_rekey()
    twin = sign_subkeys(dataclasses.replace(rekeyed.subkeys, sequence=5), SIGNERS["alice"])
    assert leaked.subkeys.older_than(twin.subkeys) == "another list numbered 5"
    assert twin.subkeys.older_than(leaked.subkeys) == "another list numbered 5"
    assert leaked.subkeys.older_than(leaked.subkeys) is None
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), twin, leaked, WEDNESDAY, rekeyed=True)
    assert caught.value.rule == "older"


def test_a_list_of_an_earlier_format_does_not_follow_a_numbered_one() -> None:
    _, rekeyed = _numbered_rekey()
    bound = signed_list("alice", FIRST.after(1), 7, under=keyring())
    assert bound.subkeys.older_than(rekeyed.subkeys) == "of format 3, after format 2"
    with pytest.raises(SubkeyError) as caught:
        check_install(keyring(), bound, rekeyed, FIRST.after(1).first_day)
    assert caught.value.rule == "older"


def test_a_numbered_body_does_not_verify_unnumbered_or_renumbered() -> None:
    _, rekeyed = _numbered_rekey()
    for body in (
        dataclasses.replace(rekeyed.subkeys, sequence=None),
        dataclasses.replace(rekeyed.subkeys, sequence=7),
    ):
        with pytest.raises(SubkeyError) as caught:
            check_install(keyring(), SignedSubkeyList(body, rekeyed.signature), None, WEDNESDAY)
        assert caught.value.rule == "signature"


@pytest.mark.parametrize("value", [0, -1, True, "6", 2**53, None])
def test_a_malformed_sequence_is_refused(value: object) -> None:
    body = _numbered_rekey()[1].subkeys.to_body()
    body["sequence"] = value
    with pytest.raises(FormatError):
        SubkeyList.from_body(body)


def test_a_number_needs_the_instance_and_format_3_needs_a_number() -> None:
    with pytest.raises(FormatError):
        dataclasses.replace(LISTS["alice"].subkeys, sequence=1)
    body = _numbered_rekey()[1].subkeys.to_body()
    del body["sequence"]
    with pytest.raises(FormatError):
        SubkeyList.from_body(body)


def test_what_a_resumed_send_sealed_before_must_be_what_the_keyring_in_force_seals() -> None:
    old = keyring(hybrid=False)
    both = [X25519[rid].public_key for rid in sorted(SIGNERS)]
    check_sealed_to_keyring(header(both), old, {}, WEDNESDAY)
    for stale in (both[:1], [*both, PrivateKey(bytes([0x23]) * 32).public_key]):
        with pytest.raises(SubkeyError) as caught:
            check_sealed_to_keyring(header(stale), old, {}, WEDNESDAY)
        assert caught.value.rule == "stanzas"
    check_sealed_to_keyring(header(week_keys(FIRST)), keyring(), LISTS, WEDNESDAY)
    with pytest.raises(SubkeyError):
        check_sealed_to_keyring(header(both), keyring(), LISTS, WEDNESDAY)
