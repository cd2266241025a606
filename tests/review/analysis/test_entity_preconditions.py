"""Each pattern the extractor skips in a text that lacks what its matches hold: never wrongly.

A scan that tries every position of a text is skipped when a cheaper test shows that no
match can be there (a date's separator, a phone's digits, "nah" before a Roman Urdu
denial). Each such test must hold wherever its pattern matches, or a mention is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.analysis import entities, entity_patterns, namesakes

Holds = Callable[[str], bool]


def _found(holds: re.Pattern[str]) -> Holds:
    return lambda text: holds.search(text) is not None


def _digits(fewest: int) -> Holds:
    return lambda text: len(re.findall(r"\d", text)) >= fewest


P, E, N = entity_patterns, entities, namesakes
# Each pattern, what every match of it holds (tested on the match alone), and a text with one.
CASES: list[tuple[str, re.Pattern[str], Holds, str]] = [
    ("sector", P._SECTOR_STATION, _found(P._SECTOR_HOLDS), "thana i-8/3 ne"),
    ("two letters", P._LOWER_TWO, _found(P._LOWER_TWO_HOLDS), "van no. ba 7731"),
    ("urdu plate", P._URDU_PLATE, _found(P._URDU_PLATE_HOLDS), "گاڑی ایل ای 1234 تھی"),
    ("lower plate", P._LOWER_PLATE, _found(P._LOWER_PLATE_HOLDS), "car number lea 1234"),
    ("capitals plate", P._VEHICLE, _found(P._VEHICLE_HOLDS), "a van LEA-1234 came"),
    ("date", P._DATES[0], _found(P._DATE_HOLDS), "on 12/03/2024 he"),
    ("iso date", P._DATES[1], _found(P._DATE_HOLDS), "on 2024-03-12 he"),
    ("year", P._YEAR_ALONE, _found(P._YEAR_HOLDS), "since 2019 he"),
    ("year in", P._YEAR_IN, _found(P._YEAR_HOLDS), "2019 mein gaya"),
    ("cnic", P._CNIC, _digits(P._CNIC_DIGITS), "35202-1234567-1"),
    ("cued cnic", P._CUED_CNIC, _digits(P._CNIC_DIGITS), "cnic 05202-1234567-1"),
    ("mobile", P._MOBILE, _digits(P._MOBILE_DIGITS), "92 (0) 300 123 45 67"),
    ("landline", P._LANDLINE, _digits(P._LANDLINE_DIGITS), "(042) 3576 1234"),
    ("run landline", P._RUN_LANDLINE, _digits(P._RUN_LANDLINE_DIGITS), "ptcl 04235761234"),
    ("foreign", P._FOREIGN, _digits(P._FOREIGN_DIGITS), "+1 5512345"),
    ("long vowel", E._LONG_VOWEL, E._long_vowel_in, "from chakwaal"),
    ("urdu place", E._URDU_PLACE_SHAPED, E._urdu_place_ending_in, "گجرنوالہ سے"),
    (
        "airport",
        E._AIRPORT,
        lambda text: any(h in text.lower() for h in E._AIRPORT_HOLDS),
        "FIA at the Air Port",
    ),
    ("roman denial", N._ROMAN, lambda text: N._ROMAN_HOLDS in text.lower(), "pindi wala NAHI hai,"),
    ("urdu denial", N._URDU, lambda text: N._URDU_HOLDS in text, "چکوال والا نہیں،"),
    (
        "english denial",
        N._NOT_THE,
        lambda text: any(h in text.lower() for h in N._NOT_THE_HOLDS),
        "He is NOT the SHO",
    ),
]
_IDS = [name for name, *_ in CASES]

# Pieces near every pattern's shape, so that generated texts match them often.
_PIECES = st.sampled_from(
    [
        *("thana", "ps", "sector", "i-8", "g-9/1", "van", "no.", "number", "car", "ba", "lea"),
        *("LEA", "ICT", "-", "/", ".", " ", "  ", "\n", ",", "ء", "in", "since", "mein", "میں"),
        *("2019", "1990", "12", "03", "2024", "0300", "92", "+", "00", "(0)", "(042)", "1234567"),
        *("35202", "cnic", "ptcl", "971", "aa", "oo", "chakwaal", "گجرنوالہ", "آباد", "پور"),
        *("AiR PoRT", "OFFLOAD", "Off-Load", "آف لوڈ", "ہوائی اڈہ", "NaH"),
        *("air", "port", "off-load", "ایئرپورٹ", "wala", "nahi", "hai", "نہیں", "والا", "ہے"),
        *("not", "the", "a", "man", "sho", "same", "name", "two", "with", "confused", "mix"),
        # whole shapes, written every way the patterns take them
        *("12.03.2024", "1-3-24", "2024/3/12", "0300-1234567", "+92 300 1234567", "03001234567"),
        *("92 (0) 300 123 45 67", "(042) 3576 1234", "042-35761234", "04235761234", "+1 5512345"),
        *("00971 50 123 4567", "35202-1234567-1", "35202 1234567 1", "LEA-1234", "ICT-AB-123"),
        *(
            "van no. ba 7731",
            "car number lea 1234",
            "ایل ای 1234",
            "بی ایل-1234",
            "thana G-9",
            "F-6 police station",
        ),
        *("since 2019", "2019 mein", "pindi wala nahi hai,", "والا نہیں،", "not the SHO"),
        *("people mixed them up", "with the same name", "thana i-8/3"),
        # letters that match another one ignoring case: long s, dotless i, dotted I, Kelvin
        *("them", "ایل", "ای", "بی", "\u017fame", "m\u0131x", "\u0130", "\u212a"),
    ]
)


@pytest.mark.parametrize(("name", "pattern", "holds", "text"), CASES, ids=_IDS)
def test_each_precondition_is_met_by_a_text_its_pattern_matches(
    name: str, pattern: re.Pattern[str], holds: Holds, text: str
) -> None:
    match = pattern.search(text)
    assert match is not None, name
    assert holds(match.group())


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(_PIECES | st.text(max_size=4), max_size=24),
    joint=st.sampled_from(["", " ", "\n", "-"]),
)
def test_no_pattern_matches_a_text_that_fails_its_precondition(
    pieces: list[str], joint: str
) -> None:
    text = joint.join(pieces)
    for name, pattern, holds, _ in CASES:
        for match in pattern.finditer(text):
            assert holds(match.group()), (name, match.group())


# Patterns tried only a few characters before each run of three digits or more
# (`entity_patterns._before_runs`), how far before (with a separator, and without), and a text
# each matches twice, once each way.
BEFORE_RUNS: list[tuple[str, re.Pattern[str], tuple[int, int], str]] = [
    ("lower any", P._LOWER_ANY, (4, 3), "uski pickup chalti hai, tbt 4417 aur lrt7003"),
    ("lower plate", P._LOWER_PLATE_HOLDS, (5, 4), "car number lea 1234, van no lrt-7003"),
    ("two letters beside", P._LOWER_TWO_BESIDE_HOLDS, (4, 3), "pickup cp 2290, hiace kn7719"),
]
_RUN_PIECES = st.sampled_from(
    [
        *("lea", "lrt", "tbt", "ba", "kn", "pr", "abcd", "x", "-", " ", "  ", "\t", "\n", "/"),
        *("1234", "123", "12", "7", "12345", "0300", "7003", "٤٥٦", "१२३", "1\u06612", "LEA"),
        *("lea 1234", "lea-1234", "lea1234", " pr 6617", "hiace kn-7719", "van no. ba 7731"),
        *("tbt 4417,", "abc-123-4", "ref 2231", "a1b 123", "_ab 123", "ab_ 123", "Lea 123"),
    ]
)


@pytest.mark.parametrize(
    ("name", "pattern", "reaches", "text"), BEFORE_RUNS, ids=[n for n, *_ in BEFORE_RUNS]
)
def test_a_plate_before_a_digit_run_is_found_there(
    name: str, pattern: re.Pattern[str], reaches: tuple[int, int], text: str
) -> None:
    runs = [m.start() for m in P._RUN.finditer(text)]
    near = [m.span() for m in P._before_runs(pattern, text, runs, reaches)]
    assert near == [m.span() for m in pattern.finditer(text)]
    assert len(near) == 2, name


@settings(max_examples=500, deadline=None)
@given(
    pieces=st.lists(_RUN_PIECES | _PIECES | st.text(max_size=4), max_size=24),
    joint=st.sampled_from(["", " ", "\n", "-"]),
)
def test_a_scan_before_digit_runs_finds_what_a_scan_of_the_text_finds(
    pieces: list[str], joint: str
) -> None:
    text = joint.join(pieces)
    runs = [m.start() for m in P._RUN.finditer(text)]
    for name, pattern, reaches, _ in BEFORE_RUNS:
        near = [(m.span(), m.groups()) for m in P._before_runs(pattern, text, runs, reaches)]
        scanned = [(m.span(), m.groups()) for m in pattern.finditer(text)]
        if pattern.groups:  # a plate's pattern: every match, in order
            assert near == scanned, (name, text)
        else:  # a precondition: whether the text holds one
            assert bool(near) == bool(scanned), (name, text)


# Preconditions asked of the runs of digits of a text (`entity_patterns._DIGIT_RUN`), not
# by a scan of it: each answers as its pattern's search does.
RUN_HOLDS: list[tuple[str, re.Pattern[str], Callable[[str, P._Runs], bool], str]] = [
    ("sector", P._SECTOR_HOLDS, P._holds_sector, "thana i-8/3 ne"),
    ("date", P._DATE_HOLDS, P._holds_date, "on 12/03/2024 he"),
    ("year", P._YEAR_HOLDS, P._holds_year, "since 2019 he"),
]


def _runs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in P._DIGIT_RUN.finditer(text)]


@pytest.mark.parametrize(
    ("name", "pattern", "holds", "text"), RUN_HOLDS, ids=[n for n, *_ in RUN_HOLDS]
)
def test_a_precondition_asked_of_digit_runs_holds_where_its_pattern_does(
    name: str, pattern: re.Pattern[str], holds: Callable[[str, P._Runs], bool], text: str
) -> None:
    assert pattern.search(text) is not None
    assert holds(text, _runs(text)), name
    unlike = text.replace("/", " ").replace("-", "").replace("1", "x").replace("2", "z")
    assert holds(unlike, _runs(unlike)) == (pattern.search(unlike) is not None), name


@settings(max_examples=500, deadline=None)
@given(
    pieces=st.lists(_RUN_PIECES | _PIECES | st.text(max_size=4), max_size=24),
    joint=st.sampled_from(["", " ", "\n", "-", "/", "."]),
)
def test_preconditions_asked_of_digit_runs_answer_as_a_search_does(
    pieces: list[str], joint: str
) -> None:
    text = joint.join(pieces)
    for name, pattern, holds, _ in RUN_HOLDS:
        assert holds(text, _runs(text)) == (pattern.search(text) is not None), (name, text)
