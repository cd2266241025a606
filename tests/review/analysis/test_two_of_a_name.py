"""A source who says two men bear a name makes every link on it a question.

A probe of session 19, not from any corpus: "There are two ASIs named Gul Zaman at Thana
Pirabad". The sentence read as nothing ("Named" for a rank), so this report's Gul Zaman,
and every other report's ASI Gul Zaman of Pirabad, linked strongly to each other, though
the writer had said there are two of them and nothing tells which a report means.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

GUL = "gul zaman"
TWO_EN = "There are two ASIs named Gul Zaman at Thana Pirabad. The one who took money is tall."
ONE = "At Thana Pirabad, ASI Gul Zaman threatened my father."
AGAIN = "ASI Gul Zaman of Thana Pirabad took Rs 20,000 from us for the boat."


@pytest.mark.parametrize(
    "text",
    [
        TWO_EN,
        "Two constables called Gul Zaman sit at Thana Pirabad.",
        "pirabad thane mein do gul zaman hain, paise wala lamba hai",
        "pirabad thane mein do asi gul zaman hain",
        "thana pirabad mein gul zaman naam ke do asi hain",
        "تھانہ پیرآباد میں دو گل زمان ہیں، پیسے لینے والا لمبا ہے۔",
        "تھانہ پیرآباد میں گل زمان نام کے دو اے ایس آئی ہیں۔",
    ],
)
def test_two_men_of_a_name_are_read(text: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert found.key == GUL
    said = designations.parse(found.designation)
    assert said.two
    assert said.namesake


@pytest.mark.parametrize(
    "text",
    [
        "Thana Pirabad has two ASIs named Gul Zaman and Sher Ali.",  # two men, two names
        "gul zaman ko paise do",  # "give Gul Zaman money"
        "ASI Gul Zaman took two lakh rupees.",
    ],
)
def test_two_names_or_a_verb_are_not_two_of_a_name(text: str) -> None:
    people = [e for e in extract(text) if e.kind == "person" and e.key == GUL]
    assert people
    assert not any(designations.parse(e.designation).two for e in people)


def test_the_writers_own_man_joins_no_one() -> None:
    evidence = person_evidence(corpus_of([TWO_EN, ONE]), 1, 2, GUL)
    assert evidence.strength.level == links.WEAK


def test_once_said_two_other_reports_join_only_when_they_tell_which() -> None:
    corpus = corpus_of([TWO_EN, ONE, AGAIN])
    evidence = person_evidence(corpus, 2, 3, GUL)
    assert evidence.strength.level == links.WEAK
    assert "say two men bear, and a report here does not say which" in evidence.strength.why
    assert not evidence.counts


def test_without_the_sentence_the_two_reports_join() -> None:
    evidence = person_evidence(corpus_of([ONE, AGAIN]), 1, 2, GUL)
    assert evidence.strength.level == links.STRONG


def test_reports_that_both_say_the_senior_still_join() -> None:
    senior = "ASI Gul Zaman Senior of Thana Pirabad took money."
    again = "thana pirabad ke asi gul zaman senior ne paise liye"
    corpus = corpus_of([TWO_EN, senior, again])
    assert person_evidence(corpus, 2, 3, GUL).strength.level == links.STRONG


def test_the_two_part_of_a_designation_round_trips() -> None:
    written = designations.compose("ASI", two=True)
    assert written == "ASI, one of two of this name"
    assert designations.parse(written) == designations.Designation("ASI", True, two=True)
