"""Padmé: known values, and the properties its leakage bound rests on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.padding import pad, padded_size, padme, unpad
from tests.crypto.support import reference_padme

lengths = st.integers(min_value=0, max_value=2**50)


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (9, 10),
        (100, 104),
        (129, 144),
        (1_000, 1_024),
        (4_096, 4_096),
        (4_097, 4_352),
        (65_536, 65_536),
        (65_537, 67_584),
        (65_544, 67_584),
        (1_000_000, 1_015_808),
        (10_000_000, 10_223_616),
    ],
)
def test_padme_known_values(length: int, padded: int) -> None:
    """The values of PROTOCOL.md §6 and the paper's worked examples."""
    assert padme(length) == padded


@settings(max_examples=300, deadline=None)
@given(length=lengths)
def test_padme_never_shrinks(length: int) -> None:
    assert padme(length) >= length


@settings(max_examples=300, deadline=None)
@given(length=st.integers(min_value=1, max_value=2**50))
def test_padme_overhead_is_at_most_twelve_percent(length: int) -> None:
    assert padme(length) - length <= 0.12 * length


@pytest.mark.parametrize(
    ("floor", "bound"),
    [(1, 0.1163), (1024, 1 / 16), (65_536, 1 / 32), (2**26, 1 / 32)],
)
def test_padme_overhead_shrinks_as_files_grow(floor: int, bound: float) -> None:
    worst = max(
        (padme(n) - n) / n for e in range(floor.bit_length() - 1, 40) for n in (2**e + 1, 2**e)
    )
    assert worst <= bound


def test_padme_worst_case_is_129() -> None:
    assert max(range(1, 70_000), key=lambda n: (padme(n) - n) / n) == 129


@settings(max_examples=300, deadline=None)
@given(a=lengths, b=lengths)
def test_padme_is_monotonic(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert padme(low) <= padme(high)


@settings(max_examples=300, deadline=None)
@given(length=lengths)
def test_padme_is_idempotent_and_matches_the_paper(length: int) -> None:
    assert padme(padme(length)) == padme(length)
    assert padme(length) == reference_padme(length)


@pytest.mark.parametrize("exponent", [4, 10, 16, 20, 30])
def test_padme_leaks_at_most_loglog_bits(exponent: int) -> None:
    """Lengths in [2^E, 2^(E+1)) pad to 2^S sizes below 2^(E+1), or to 2^(E+1) itself."""
    start = 2**exponent
    step = max(1, start // 4096)
    classes = {padme(n) for n in range(start, 2 * start, step)} | {padme(2 * start - 1)}

    assert max(classes) == 2 * start
    assert len(classes - {2 * start}) <= 2 ** exponent.bit_length()  # S = ⌊log2 E⌋ + 1


def test_padded_size_never_goes_below_the_floor() -> None:
    assert padded_size(0, 4096) == 4096
    assert padded_size(4000, 4096) == 4096
    assert padded_size(4097, 4096) == 4352


def test_padme_refuses_a_negative_length() -> None:
    with pytest.raises(ValueError, match="negative"):
        padme(-1)


@pytest.mark.parametrize("length", [0, 1, 255, 256, 1000, 5000])
def test_pad_reaches_the_padme_size_and_unpads(length: int) -> None:
    data = b"\x80\x00" * (length // 2) + b"x" * (length % 2)
    padded = pad(data, 256)
    assert len(padded) == padded_size(length + 1, 256)
    assert unpad(padded) == data


def test_unpad_refuses_a_missing_mark() -> None:
    with pytest.raises(ValueError, match="padding"):
        unpad(bytes(64))
