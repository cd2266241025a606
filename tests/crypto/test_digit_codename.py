"""Codenames of digits for Urdu pages: 28 random digits and a Damm check digit, in groups."""

from __future__ import annotations

import math

import pytest

from crypto import CodenameError, check_codename
from crypto.codename import (
    DIGIT_CODENAME_DIGITS,
    generate_digit_codename,
    normalize_codename,
)

URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_its_entropy_is_at_least_that_of_the_words() -> None:
    bits = DIGIT_CODENAME_DIGITS * math.log2(10)
    print(f"digit codename: {DIGIT_CODENAME_DIGITS} random digits = {bits:.1f} bits")
    assert bits >= 90


def test_a_new_digit_codename_checks_as_itself() -> None:
    codename = generate_digit_codename()
    digits = codename.replace(" ", "")
    assert len(digits) == DIGIT_CODENAME_DIGITS + 1
    assert digits.isdigit()
    assert digits.isascii()
    assert all(len(g) <= 5 for g in codename.split(" "))
    assert check_codename(codename) == codename


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.translate(URDU_DIGITS),
        lambda c: c.translate(ARABIC_DIGITS),
        lambda c: c.replace(" ", ""),
        lambda c: c.replace(" ", "-"),
        lambda c: "  " + c.replace(" ", "   ") + "\n",
        lambda c: c.translate(URDU_DIGITS).replace(" ", ""),
        # Mixed: a keyboard switched mid-way, with Urdu's invisible letter mark.
        lambda c: c[:10].translate(URDU_DIGITS) + "\u061c" + c[10:],
    ],
    ids=["urdu", "arabic-indic", "no-spaces", "hyphens", "loose", "urdu-no-spaces", "mixed"],
)
def test_it_is_accepted_however_it_is_typed(typed: object) -> None:
    codename = generate_digit_codename()
    assert callable(typed)
    assert check_codename(typed(codename)) == codename
    assert normalize_codename(typed(codename)) == codename


def test_every_single_mistyped_digit_is_caught() -> None:
    codename = generate_digit_codename()
    digits = codename.replace(" ", "")
    for i, d in enumerate(digits):
        for other in "0123456789":
            if other == d:
                continue
            wrong = digits[:i] + other + digits[i + 1 :]
            with pytest.raises(CodenameError):
                check_codename(wrong)


def test_every_swap_of_neighbours_is_caught() -> None:
    digits = generate_digit_codename().replace(" ", "")
    for i in range(len(digits) - 1):
        if digits[i] == digits[i + 1]:
            continue
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        with pytest.raises(CodenameError):
            check_codename(swapped)


@pytest.mark.parametrize("length", [DIGIT_CODENAME_DIGITS, DIGIT_CODENAME_DIGITS + 2])
def test_a_digit_codename_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(CodenameError):
        check_codename("1" * length)


def test_word_codenames_still_work() -> None:
    from crypto import generate_codename

    codename = generate_codename()
    assert check_codename(codename.upper()) == codename


def test_the_check_digit_is_damms() -> None:
    from crypto.codename import _damm

    # The worked example of the Damm algorithm: 572 has check digit 4.
    assert _damm("572") == 4
    assert _damm("5724") == 0
