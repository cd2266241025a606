"""Forward-secret period subkeys: weeks, the signed list, fail-closed selection, destruction.

The attacks: a list altered in any byte, signed by someone else, or for
another reviewer; a sealer asked for a week the list does not cover; a secret
destroyed before everything sealed to it is imported; and, end to end, an
adversary holding every long-term key and every copy of an envelope after its
week's secret is gone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    FormatError,
    HybridPrivateKey,
    Metadata,
    Period,
    PrivateKey,
    SignedSubkeyList,
    SigningKey,
    SubkeyError,
    SubkeyList,
    SubkeySecrets,
    UnsupportedVersionError,
    VerificationError,
    open_bytes,
    open_with_subkeys,
    read_header,
    seal_bytes,
    sign_subkeys,
    verify_subkeys,
)
from crypto import constants as C
from crypto.encoding import canonical_json
from crypto.subkeys import (
    closed_through,
    current,
    days_left,
    destroy,
    destroyable,
    generate,
)
from tests.crypto.support import flip, secret_renderings
from tests.crypto.test_errors import _mutate, json_values, only_crypto_errors

REVIEWER = SigningKey(bytes([0x31]) * 32)
OTHER = SigningKey(bytes([0x32]) * 32)
# 2026-W49 to 2027-W03: eight weeks over a year end whose ISO year has 53 weeks.
FIRST = Period(2026, 49)
SECRETS = SubkeySecrets(
    tuple((FIRST.after(i), HybridPrivateKey(bytes([0x50 + i]) * 32)) for i in range(8))
)
DAY = dt.date(2026, 12, 2)  # a Wednesday in 2026-W49
LIST = SECRETS.public_list(REVIEWER.verify_key, FIRST.first_day)
SIGNED = sign_subkeys(LIST, REVIEWER)
META = Metadata(kind="message", content_type="text/plain; charset=utf-8")
TEXT = "Report of the week. راز دار".encode()


def weeks(first: Period, count: int, seed: int = 0x50) -> SubkeyList:
    """A list of `count` weeks from `first`, keys from fixed seeds."""
    keys = [HybridPrivateKey(bytes([seed + i]) * 32).public_key for i in range(count)]
    return SubkeyList(
        REVIEWER.verify_key,
        first.first_day,
        tuple(zip((first.after(i) for i in range(count)), keys, strict=True)),
    )


def doc(signed: SignedSubkeyList = SIGNED) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(signed.to_bytes())
    return parsed


# Weeks.


def test_iso_week_53_exists_in_2026_and_spans_the_new_year() -> None:
    w53 = Period.parse("2026-W53")
    assert (w53.first_day, w53.last_day) == (dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert Period.of(dt.date(2027, 1, 1)) == w53
    assert w53.after() == Period(2027, 1)
    assert Period(2027, 1).after(-1) == w53


def test_a_year_without_week_53_refuses_it() -> None:
    with pytest.raises(FormatError):
        Period.parse("2025-W53")
    assert Period(2025, 52).after() == Period(2026, 1)
    # ISO 2025-W01 begins on 30 December 2024.
    assert Period.of(dt.date(2024, 12, 30)) == Period(2025, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2026-W1",
        "2026-w49",
        "2026W49",
        "2026-W00",
        "2026-W54",
        "0000-W01",
        "\uff12\uff10\uff12\uff16-W49",  # full-width digits
        " 2026-W49",
        "2026-W49\n",
        "2026-W49-1",
        202649,
        None,
    ],
)
def test_a_malformed_period_is_refused(text: object) -> None:
    with pytest.raises(FormatError):
        Period.parse(text)


@pytest.mark.parametrize(
    ("period", "weeks"), [(Period(9999, 51), 1), (Period(2026, 1), 10**6), (Period(1, 1), -1)]
)
def test_a_week_past_the_calendars_ends_is_a_format_error(period: Period, weeks: int) -> None:
    with pytest.raises(FormatError):
        period.after(weeks)


def test_a_period_is_not_made_of_booleans() -> None:
    with pytest.raises(FormatError):
        Period(True, 1)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(9000, 1, 1)))
def test_every_day_falls_in_one_week_that_reads_back(day: dt.date) -> None:
    period = Period.of(day)
    assert period.first_day <= day <= period.last_day
    assert period.first_day.weekday() == 0
    assert Period.parse(str(period)) == period
    assert period.after().first_day == period.last_day + dt.timedelta(days=1)
    assert period.after() > period > period.after(-1)


# The signed list: round trips and strict parsing.


def test_a_signed_list_round_trips_and_verifies() -> None:
    parsed = SignedSubkeyList.from_bytes(SIGNED.to_bytes())
    assert parsed == SIGNED
    assert verify_subkeys(parsed, REVIEWER.verify_key, DAY) == LIST
    assert (LIST.first, LIST.last) == (Period(2026, 49), Period(2027, 3))


def test_the_signature_is_over_the_canonical_body_under_the_subkey_context() -> None:
    REVIEWER.verify_key.verify(
        b"raazdar subkey list v1", canonical_json(doc()["subkeys"]), SIGNED.signature
    )
    assert C.SIG_CONTEXT_SUBKEYS == b"raazdar subkey list v1"


def test_a_signed_list_with_one_byte_flipped_anywhere_is_refused() -> None:
    data = SIGNED.to_bytes()
    accepted = []
    for position in range(len(data)):
        try:
            parsed = SignedSubkeyList.from_bytes(flip(data, position, position % 8))
            verify_subkeys(parsed, REVIEWER.verify_key, DAY)
        except (FormatError, SubkeyError):
            continue
        accepted.append(position)
    assert accepted == []


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_bit_flipped_in_a_signed_list_is_refused(data: st.DataObject) -> None:
    raw = sign_subkeys(weeks(FIRST, 1), REVIEWER).to_bytes()
    position = data.draw(st.integers(0, len(raw) - 1))
    changed = flip(raw, position, data.draw(st.integers(0, 7)))
    with pytest.raises((FormatError, SubkeyError)):
        verify_subkeys(SignedSubkeyList.from_bytes(changed), REVIEWER.verify_key, DAY)


@settings(max_examples=25, deadline=None)
@given(
    first=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(9000, 1, 1)),
    count=st.integers(1, 4),
    seed=st.integers(0, 200),
    late=st.integers(0, 27),
)
def test_encoding_then_parsing_gives_the_same_list(
    first: dt.date, count: int, seed: int, late: int
) -> None:
    made = weeks(Period.of(first), count, seed)
    issued = min(made.first.first_day + dt.timedelta(days=late), made.last.last_day)
    made = dataclasses.replace(made, issued=issued)
    assert SubkeyList.from_body(json.loads(made.canonical_bytes())) == made
    signed = sign_subkeys(made, REVIEWER)
    again = SignedSubkeyList.from_bytes(signed.to_bytes())
    assert again == signed
    assert again.to_bytes() == signed.to_bytes()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), document=st.sampled_from(["list", "secrets"]))
def test_mutated_documents_raise_only_crypto_errors(data: st.DataObject, document: str) -> None:
    if document == "list":
        mutated = _mutate(sign_subkeys(weeks(FIRST, 2), REVIEWER).to_bytes(), data)
        only_crypto_errors(
            lambda: verify_subkeys(SignedSubkeyList.from_bytes(mutated), REVIEWER.verify_key, DAY)
        )
    else:
        mutated = _mutate(generate(FIRST, 2).to_bytes(), data)
        only_crypto_errors(lambda: SubkeySecrets.from_bytes(mutated))


@given(value=json_values)
def test_readers_raise_only_crypto_errors_on_any_json(value: Any) -> None:
    only_crypto_errors(lambda: SubkeyList.from_body(value))
    only_crypto_errors(lambda: Period.parse(value))
    encoded = json.dumps(value).encode()
    only_crypto_errors(lambda: SignedSubkeyList.from_bytes(encoded))
    only_crypto_errors(lambda: SubkeySecrets.from_bytes(encoded))


@given(st.integers(-(2**20), 2**20), st.integers(-100, 100))
def test_any_year_and_week_make_a_period_or_a_format_error(year: int, week: int) -> None:
    only_crypto_errors(lambda: Period(year, week).after(week))


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("type", "raazdar-keyring", FormatError),
        ("format", 3, FormatError),  # a numbered list lacks its instance and number
        ("format", 4, UnsupportedVersionError),
        ("format", True, UnsupportedVersionError),
        ("issued", "2026-12-2", FormatError),
        (
            "reviewer",
            "rz-x25519-public:j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF_74THb",
            FormatError,
        ),
        ("subkeys", {}, FormatError),
        ("subkeys", [], FormatError),
        ("extra", 1, FormatError),
    ],
)
def test_a_malformed_list_is_refused(field: str, value: object, error: type[Exception]) -> None:
    document = doc()
    document["subkeys"][field] = value
    with pytest.raises(error):
        SignedSubkeyList.from_bytes(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("period", "2026-W53 "),
        ("period", 49),
        ("key", "rz-x25519-public:j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF_74THb"),
        ("key", None),
    ],
)
def test_a_malformed_entry_is_refused(field: str, value: object) -> None:
    document = doc()
    document["subkeys"]["subkeys"][0][field] = value
    with pytest.raises(FormatError):
        SignedSubkeyList.from_bytes(json.dumps(document).encode())


def test_an_oversized_list_is_refused_before_parsing() -> None:
    padded = SIGNED.to_bytes()[:-1] + b" " * C.SUBKEYS_MAX_BYTES + b"}"
    with pytest.raises(FormatError, match="too large"):
        SignedSubkeyList.from_bytes(padded)


def test_a_list_longer_than_half_a_year_is_refused() -> None:
    with pytest.raises(FormatError):
        weeks(FIRST, C.SUBKEYS_MAX_PERIODS + 1)
    assert weeks(FIRST, C.SUBKEYS_MAX_PERIODS).last == FIRST.after(C.SUBKEYS_MAX_PERIODS - 1)


def test_a_document_of_too_many_weeks_is_refused_before_its_keys_are_read() -> None:
    document = doc()
    document["subkeys"]["subkeys"] *= 4
    with pytest.raises(FormatError, match="covers 1-26"):
        SignedSubkeyList.from_bytes(json.dumps(document).encode())


def test_a_list_with_a_gap_or_out_of_order_is_refused() -> None:
    entries = LIST.subkeys
    for broken in (entries[:2] + entries[3:], (entries[1], entries[0]), (entries[0], entries[0])):
        with pytest.raises(FormatError):
            dataclasses.replace(LIST, subkeys=broken)


def test_one_key_for_two_periods_is_refused() -> None:
    # Destroying one week's copy of the secret would leave the other's.
    (p0, k0), (p1, _) = LIST.subkeys[:2]
    with pytest.raises(FormatError, match="two periods"):
        dataclasses.replace(LIST, subkeys=((p0, k0), (p1, k0)))


def test_a_list_issued_after_its_last_week_is_refused() -> None:
    with pytest.raises(FormatError):
        dataclasses.replace(LIST, issued=LIST.last.last_day + dt.timedelta(days=1))


# Whose list it is.


def test_a_list_for_another_reviewer_is_refused() -> None:
    theirs = sign_subkeys(dataclasses.replace(LIST, reviewer=OTHER.verify_key), OTHER)
    with pytest.raises(SubkeyError) as caught:
        current(theirs, REVIEWER.verify_key, DAY)
    assert caught.value.rule == "signer"


def test_a_list_naming_the_reviewer_but_signed_by_another_key_is_refused() -> None:
    forged = SignedSubkeyList(LIST, OTHER.sign(C.SIG_CONTEXT_SUBKEYS, LIST.canonical_bytes()))
    with pytest.raises(SubkeyError) as caught:
        current(forged, REVIEWER.verify_key, DAY)
    assert caught.value.rule == "signature"


@pytest.mark.parametrize(
    "context", [C.SIG_CONTEXT_MANIFEST, C.SIG_CONTEXT_TIMESTAMP, C.SIG_CONTEXT_ENVELOPE_V2]
)
def test_the_reviewers_signature_made_for_another_purpose_is_refused(context: bytes) -> None:
    replayed = SignedSubkeyList(LIST, REVIEWER.sign(context, LIST.canonical_bytes()))
    with pytest.raises(SubkeyError) as caught:
        verify_subkeys(replayed, REVIEWER.verify_key, DAY)
    assert caught.value.rule == "signature"


def test_only_the_named_reviewer_signs_a_list() -> None:
    with pytest.raises(FormatError):
        sign_subkeys(LIST, OTHER)


def test_a_list_dated_in_the_future_is_refused() -> None:
    later = sign_subkeys(dataclasses.replace(LIST, issued=DAY + dt.timedelta(days=2)), REVIEWER)
    with pytest.raises(SubkeyError) as caught:
        verify_subkeys(later, REVIEWER.verify_key, DAY)
    assert caught.value.rule == "issued"
    assert verify_subkeys(later, REVIEWER.verify_key, DAY + dt.timedelta(days=1))


# Choosing the subkey: this week's, or nothing.


def test_each_day_gets_its_own_weeks_subkey() -> None:
    day = LIST.first.first_day
    while day <= LIST.last.last_day:
        assert current(SIGNED, REVIEWER.verify_key, day) == LIST.key_for(Period.of(day))
        day += dt.timedelta(days=1)


def test_new_years_day_2027_seals_to_week_53_of_2026() -> None:
    key = current(SIGNED, REVIEWER.verify_key, dt.date(2027, 1, 1))
    assert key == SECRETS.get(Period(2026, 53)).public_key  # type: ignore[union-attr]
    monday = current(SIGNED, REVIEWER.verify_key, dt.date(2027, 1, 4))
    assert monday == SECRETS.get(Period(2027, 1)).public_key  # type: ignore[union-attr]


def test_the_day_after_the_list_ends_fails_closed() -> None:
    with pytest.raises(SubkeyError) as caught:
        current(SIGNED, REVIEWER.verify_key, LIST.last.last_day + dt.timedelta(days=1))
    assert caught.value.rule == "expired"
    # The 503 page catches CryptoError: an unusable list is never a silent success.
    assert isinstance(caught.value, VerificationError)
    assert isinstance(caught.value, CryptoError)


def test_a_week_before_the_list_begins_fails_closed() -> None:
    with pytest.raises(SubkeyError) as caught:
        current(SIGNED, REVIEWER.verify_key, LIST.first.first_day - dt.timedelta(days=1))
    assert caught.value.rule == "missing"


def test_days_left_counts_today_through_the_last_sunday() -> None:
    # Wednesday 2 December 2026 to Sunday 24 January 2027, both counted.
    assert days_left(SIGNED, REVIEWER.verify_key, DAY) == 54
    assert days_left(SIGNED, REVIEWER.verify_key, LIST.last.last_day) == 1
    with pytest.raises(SubkeyError):
        days_left(SIGNED, REVIEWER.verify_key, LIST.last.last_day + dt.timedelta(days=1))


@given(st.integers(0, 8 * 7 - 1))
def test_days_left_says_exactly_when_sealing_stops(offset: int) -> None:
    today = LIST.first.first_day + dt.timedelta(days=offset)
    left = days_left(SIGNED, REVIEWER.verify_key, today)
    current(SIGNED, REVIEWER.verify_key, today + dt.timedelta(days=left - 1))
    with pytest.raises(SubkeyError):
        current(SIGNED, REVIEWER.verify_key, today + dt.timedelta(days=left))


def test_days_left_refuses_a_forged_list() -> None:
    forged = dataclasses.replace(SIGNED, signature=bytes(64))
    with pytest.raises(SubkeyError):
        days_left(forged, REVIEWER.verify_key, DAY)


# The workstation's secrets.


def test_a_batch_is_fresh_consecutive_and_distinct() -> None:
    batch = generate(FIRST)
    assert batch.periods == tuple(FIRST.after(i) for i in range(C.SUBKEYS_PERIODS_AHEAD))
    again = generate(FIRST)
    keys = [k for _, k in batch.keys] + [k for _, k in again.keys]
    assert len(set(keys)) == len(keys)
    signed = sign_subkeys(batch.public_list(REVIEWER.verify_key, DAY), REVIEWER)
    assert current(signed, REVIEWER.verify_key, DAY) == batch.get(FIRST).public_key  # type: ignore[union-attr]


@pytest.mark.parametrize("count", [0, C.SUBKEYS_MAX_PERIODS + 1])
def test_a_batch_of_no_weeks_or_too_many_is_refused(count: int) -> None:
    with pytest.raises(FormatError):
        generate(FIRST, count)


def test_the_list_to_sign_leaves_out_weeks_that_have_passed() -> None:
    later = dt.date(2027, 1, 1)
    public = SECRETS.public_list(REVIEWER.verify_key, later)
    assert (public.first, public.last, public.issued) == (Period(2026, 53), LIST.last, later)
    with pytest.raises(FormatError):
        SECRETS.public_list(REVIEWER.verify_key, LIST.last.last_day + dt.timedelta(days=1))


def test_the_secret_store_round_trips_and_is_strict() -> None:
    data = SECRETS.to_bytes()
    assert SubkeySecrets.from_bytes(data) == SECRETS
    document = json.loads(data)
    document["secrets"].reverse()
    with pytest.raises(FormatError):
        SubkeySecrets.from_bytes(json.dumps(document).encode())
    document = json.loads(data)
    document["secrets"][1]["key"] = document["secrets"][0]["key"]
    with pytest.raises(FormatError):  # one key under two weeks
        SubkeySecrets.from_bytes(json.dumps(document).encode())
    document = json.loads(data)
    document["secrets"][1]["period"] = document["secrets"][0]["period"]
    twice = SubkeySecrets.from_bytes(json.dumps(document).encode())  # a week re-keyed
    assert twice.periods == SECRETS.periods[:1] + SECRETS.periods[2:]
    assert twice.get(FIRST) == SECRETS.get(FIRST.after())
    document = json.loads(data)
    document["format"] = 2
    with pytest.raises(UnsupportedVersionError):
        SubkeySecrets.from_bytes(json.dumps(document).encode())


def test_stores_merge_but_never_hold_two_secrets_for_one_week() -> None:
    extra = generate(LIST.last.after(), 2)
    merged = SECRETS.merged(extra)
    assert merged.periods == SECRETS.periods + extra.periods
    with pytest.raises(FormatError):
        SECRETS.merged(generate(FIRST, 1))


def test_a_rekeyed_week_lists_its_new_secret_and_keeps_the_replaced_one() -> None:
    weeks = SECRETS.periods[1:3]
    rekeyed = SECRETS.rekeyed(weeks)
    assert rekeyed.periods == SECRETS.periods
    for p in SECRETS.periods:
        old = SECRETS.get(p)
        assert old is not None
        if p in weeks:
            assert rekeyed.all_of(p)[0] == old
            assert rekeyed.get(p) == rekeyed.all_of(p)[1] != old
        else:
            assert rekeyed.all_of(p) == (old,)
    listed = rekeyed.public_list(REVIEWER.verify_key, FIRST.first_day)
    assert [k for _, k in listed.subkeys] == [
        k.public_key for p in rekeyed.periods if (k := rekeyed.get(p)) is not None
    ]
    again = SubkeySecrets.from_bytes(rekeyed.to_bytes())
    assert again == rekeyed
    # Merging keeps the replaced secrets, and still refuses another newest one.
    extra = generate(LIST.last.after(), 1)
    assert rekeyed.merged(extra).keys == rekeyed.keys + extra.keys
    assert rekeyed.merged(rekeyed) == rekeyed
    assert SECRETS.merged(SubkeySecrets()) == SECRETS
    for one, other in ((SECRETS, rekeyed), (rekeyed, SECRETS)):
        with pytest.raises(FormatError):
            one.merged(other)
    assert SubkeySecrets().merged(rekeyed) == rekeyed
    with pytest.raises(FormatError):
        SECRETS.rekeyed([LIST.last.after()])
    gone = destroy(rekeyed, weeks[:1], imported_through=weeks[0], today=weeks[0].after(2).first_day)
    assert gone.all_of(weeks[0]) == ()


# Destruction.

W49, W50 = Period(2026, 49), Period(2026, 50)


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        (dt.date(2026, 12, 7), Period(2026, 48)),  # Monday of W50: W49 ended yesterday
        (dt.date(2026, 12, 8), W49),  # Tuesday of W50: past the one-day allowance
        (dt.date(2026, 12, 13), W49),  # Sunday of W50
        (dt.date(2027, 1, 5), Period(2026, 53)),  # Tuesday of 2027-W01
    ],
)
def test_a_week_is_closed_once_a_full_day_has_passed_after_it(day: dt.date, closed: Period) -> None:
    assert closed_through(day) == closed


def test_nothing_is_destroyable_before_anything_is_imported() -> None:
    assert destroyable(SECRETS, None, dt.date(2027, 6, 1)) == ()


def test_imported_weeks_that_are_closed_are_destroyable() -> None:
    assert destroyable(SECRETS, W50, dt.date(2026, 12, 20)) == (W49, W50)


def test_a_week_not_yet_imported_is_kept() -> None:
    assert destroyable(SECRETS, W49, dt.date(2027, 1, 20)) == (W49,)


def test_the_current_week_is_kept_even_if_the_caller_claims_it_imported() -> None:
    # A client with a wrong clock may still seal to W50 on Monday of W51.
    assert destroyable(SECRETS, W50, dt.date(2026, 12, 14)) == (W49,)
    assert destroyable(SECRETS, Period(2027, 3), dt.date(2026, 12, 9)) == (W49,)


@given(
    today=st.dates(min_value=dt.date(2026, 11, 1), max_value=dt.date(2027, 3, 1)),
    imported=st.integers(-3, 12),
)
def test_no_destroyable_week_could_still_be_sealed_to_or_be_unimported(
    today: dt.date, imported: int
) -> None:
    through = FIRST.after(imported)
    for period in destroyable(SECRETS, through, today):
        assert period <= through
        assert period.last_day + dt.timedelta(days=C.SUBKEYS_GRACE_DAYS) < today


def test_the_secret_stores_repr_shows_no_secret() -> None:
    shown = repr(SECRETS)
    assert all(r not in shown for p in SECRETS.periods for r in _renderings(p))


def test_destroy_removes_only_the_weeks_named() -> None:
    left = destroy(SECRETS, [W49], imported_through=W50, today=dt.date(2026, 12, 20))
    assert left.periods == SECRETS.periods[1:]
    assert all(r not in left.to_bytes().decode() for r in _renderings(W49))


def test_destroying_a_week_still_needed_is_refused() -> None:
    with pytest.raises(SubkeyError) as caught:
        destroy(SECRETS, [W49, W50], imported_through=W49, today=dt.date(2026, 12, 20))
    assert caught.value.rule == "needed"
    with pytest.raises(SubkeyError):
        destroy(SECRETS, [W49], imported_through=None, today=dt.date(2027, 6, 1))


def _renderings(period: Period) -> list[str]:
    key = SECRETS.get(period)
    assert key is not None
    return [key.to_text(), *secret_renderings(key.secret_bytes())]


# Opening, and forward secrecy end to end.


def _seal_on(day: dt.date, signer: SigningKey | None = None) -> bytes:
    key = current(SIGNED, REVIEWER.verify_key, day)
    return seal_bytes(TEXT, [key], META, signer=signer)


def test_the_stanza_names_the_weeks_subkey_and_the_opener_says_which_week() -> None:
    envelope = _seal_on(dt.date(2027, 1, 2))
    week = Period(2026, 53)
    stanza = read_header(io.BytesIO(envelope)).stanzas[0]
    assert stanza.key_id == LIST.key_for(week).fingerprint.key_id  # type: ignore[union-attr]
    out = io.BytesIO()
    period, opened = open_with_subkeys(io.BytesIO(envelope), out, SECRETS)
    assert (period, out.getvalue(), opened.metadata) == (week, TEXT, META)


def test_the_opener_checks_the_signer_it_is_told_to_trust() -> None:
    envelope = _seal_on(DAY, signer=REVIEWER)
    _, opened = open_with_subkeys(
        io.BytesIO(envelope), io.BytesIO(), SECRETS, trusted_signers=[REVIEWER.verify_key]
    )
    assert opened.signer == REVIEWER.verify_key
    with pytest.raises(VerificationError):
        open_with_subkeys(
            io.BytesIO(envelope), io.BytesIO(), SECRETS, trusted_signers=[OTHER.verify_key]
        )


def test_an_envelope_to_no_held_week_does_not_open() -> None:
    v1 = seal_bytes(TEXT, [PrivateKey(bytes(range(32))).public_key], META)
    stranger = seal_bytes(TEXT, [HybridPrivateKey(bytes([0x99]) * 32).public_key], META)
    for envelope in (v1, stranger):
        with pytest.raises(DecryptionError):
            open_with_subkeys(io.BytesIO(envelope), io.BytesIO(), SECRETS)


def test_after_its_week_is_destroyed_nothing_the_reviewer_holds_opens_it() -> None:
    # Week 49: a report is sealed to the subkey, exported, imported.
    envelope = _seal_on(DAY)
    copies = [envelope, bytes(envelope)]  # the server's copy, a USB stick's, a backup's
    assert open_with_subkeys(io.BytesIO(envelope), io.BytesIO(), SECRETS)[0] == W49
    # An export made on Tuesday of W50 covers W49; the workstation destroys it.
    imported = closed_through(dt.date(2026, 12, 8))
    left = destroy(SECRETS, [W49], imported_through=imported, today=dt.date(2026, 12, 8))
    # The adversary now takes the reviewer's long-term keys (key file and passphrase),
    # the sealed store of the remaining subkeys, and every copy of the envelope.
    long_term: list[Any] = [
        PrivateKey(bytes([0x41]) * 32),
        HybridPrivateKey(bytes([0x42]) * 32),
    ]
    seized = SubkeySecrets.from_bytes(left.to_bytes())
    every_key = long_term + [k for _, k in seized.keys]
    for copy in copies:
        with pytest.raises(DecryptionError):
            open_with_subkeys(io.BytesIO(copy), io.BytesIO(), seized)
        with pytest.raises(DecryptionError):
            open_bytes(copy, every_key)
    # The week after still opens: destruction took one week only.
    later = _seal_on(dt.date(2026, 12, 9))
    assert open_with_subkeys(io.BytesIO(later), io.BytesIO(), seized)[0] == W50


# Known answer (docs/PROTOCOL.md §5A.8): a one-week list from fixed seeds.

KAT_SIGNATURE = (
    "oujSIke4nfnz838LO-puDWW6llfZQvEoDTeGErRj8a2VW9CueSyG48RDqfrjIyfuOF6pBgdCWUQcN0vpknonBw"
)
KAT_SHA256 = "2ddb0a3149bc99681dd733b302ed24c06d790b0da95933ba9e7c36a11a136817"


def test_known_answer_one_week_list_built_as_the_protocol_writes_it() -> None:
    subkey = HybridPrivateKey(bytes([0x50]) * 32).public_key
    made = sign_subkeys(
        SubkeyList(REVIEWER.verify_key, dt.date(2026, 12, 28), ((Period(2026, 53), subkey),)),
        REVIEWER,
    )
    body = (
        '{"format":1,"issued":"2026-12-28",'
        f'"reviewer":"{REVIEWER.verify_key.to_text()}",'
        f'"subkeys":[{{"key":"{subkey.to_text()}","period":"2026-W53"}}],'
        '"type":"raazdar-subkeys"}'
    )
    REVIEWER.verify_key.verify(b"raazdar subkey list v1", body.encode(), made.signature)
    expected = f'{{"signature":"{KAT_SIGNATURE}","subkeys":{body}}}'.encode()
    assert made.to_bytes() == expected
    assert hashlib.sha256(expected).hexdigest() == KAT_SHA256
    assert str(subkey.fingerprint) == "WKXT WLA2 Q3GX 3MBM G4KW WRSN UIII QUAC"
