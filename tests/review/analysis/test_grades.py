"""Senior and junior written onto a name tell two posted men of that name apart.

A probe of session 19, not from any corpus: two ASIs named Gul Zaman at one police
station, called "senior" and "junior" as their colleagues call them, in English, Roman
Urdu and Urdu. English "Senior" was keyed into the name by sound ("gul zaman ~snr"), Urdu's
"سینئر" and "چھوٹے" were dropped, so the Urdu reports of the senior and of the junior
linked strongly on "gul zaman", and a report naming neither joined both.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.designations import JUNIOR, SENIOR
from review.analysis.entities import extract
from tests.review.analysis.person_links import assert_joins_neither, corpus_of, person_evidence

GUL = "gul zaman"
SENIOR_EN = "ASI Gul Zaman Senior of Thana Pirabad took Rs 50,000 from the agent."
JUNIOR_EN = "ASI Gul Zaman Junior of Thana Pirabad registered no FIR for my brother."
SENIOR_UR = "تھانہ پیرآباد کے اے ایس آئی گل زمان (سینئر) نے پیسے لیے۔"
JUNIOR_UR = "تھانہ پیرآباد کے چھوٹے گل زمان اے ایس آئی نے دھمکی دی۔"
BARE = "At Thana Pirabad, ASI Gul Zaman threatened my father."


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        (SENIOR_EN, SENIOR),
        (JUNIOR_EN, JUNIOR),
        (SENIOR_UR, SENIOR),
        (JUNIOR_UR, JUNIOR),
        ("ASI Gul Zaman Jr. took money at the checkpost.", JUNIOR),
        ("Constable Gul Zaman (junior) hit him.", JUNIOR),
        ("ASI Gul Zaman, the junior one, said there is no case.", JUNIOR),
        ("the senior ASI Gul Zaman took money", SENIOR),
        ("The younger Gul Zaman took money.", JUNIOR),
        ("asi gul zaman senior ne paise liye", SENIOR),
        ("bade gul zaman asi ne dhamki di", SENIOR),
        ("asi chota gul zaman ne paise liye", JUNIOR),
        ("gul zaman chota wala asi hai", JUNIOR),
        ("اے ایس آئی گل زمان سینئر نے پیسے لیے", SENIOR),
        ("بڑے گل زمان نے پیسے لیے", SENIOR),
    ],
)
def test_seniority_written_onto_a_name_is_kept_out_of_its_key(text: str, grade: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert found.key == GUL
    assert designations.parse(found.designation).grade == grade
    assert found.text.lower().split()[-1] in ("zaman", "زمان")


@pytest.mark.parametrize(
    "text",
    [
        "asi gul zaman bara zalim hai",  # "a great tyrant": an everyday word after a name
        "ASI Gul Zaman took money from the senior citizens of the mohalla.",
        "SSP Gul Zaman came to the thana.",
        "Senior Superintendent of Police Gul Zaman came",
    ],
)
def test_an_everyday_word_or_a_rank_is_no_seniority(text: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert found.key == GUL
    assert designations.parse(found.designation).grade is None


@pytest.mark.parametrize(("senior", "junior"), [(SENIOR_EN, JUNIOR_EN), (SENIOR_UR, JUNIOR_UR)])
def test_the_senior_and_the_junior_are_two_men(senior: str, junior: str) -> None:
    evidence = person_evidence(corpus_of([senior, junior]), 1, 2, GUL)
    assert evidence.strength.level == links.WEAK
    assert "the senior, the other's the junior" in evidence.strength.why
    assert not evidence.counts


def test_the_senior_in_two_scripts_is_one_man() -> None:
    evidence = person_evidence(corpus_of([SENIOR_EN, SENIOR_UR]), 1, 2, GUL)
    assert evidence.strength.level == links.STRONG


def test_once_both_are_known_a_report_saying_neither_joins_neither() -> None:
    corpus = corpus_of([SENIOR_UR, JUNIOR_UR, BARE])
    why = "the senior and another the junior, and a report here says neither"
    assert_joins_neither(corpus, 3, (1, 2), GUL, why)


def test_with_one_man_known_a_report_saying_neither_joins_him() -> None:
    evidence = person_evidence(corpus_of([SENIOR_UR, BARE]), 1, 2, GUL)
    assert evidence.strength.level == links.STRONG


def test_a_short_form_takes_its_full_names_seniority() -> None:
    text = "ASI Gul Zaman Senior of Thana Pirabad took money. Later Zaman came back."
    grades = {
        e.text: designations.parse(e.designation).grade for e in extract(text) if e.kind == "person"
    }
    assert grades == {"Gul Zaman": SENIOR, "Zaman": SENIOR}


def test_the_grade_part_of_a_designation_round_trips() -> None:
    written = designations.compose("ASI", grade=JUNIOR, home="pirabad")
    assert written == "ASI, the junior, of pirabad"
    said = designations.parse(written)
    assert said == designations.Designation("ASI", home="pirabad", grade=JUNIOR)
    assert designations.render(said) == written
