"""A CNIC or a phone number written onto a name tells two men of that name apart.

A probe of session 18, not from any corpus: two reports name "Agent Noor Muhammad" of one
town, each with his identity card's number (or his phone's), and the numbers differ. They
linked strongly on the name; two men with two CNICs are two men, however alike the rest,
and so, as sources write them, are two men with two phone numbers.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence, person_link

NOOR = "noor muhammad"
ONE = "Agent Noor Muhammad, CNIC 11101-1234567-1, took Rs 300,000 at Pezu for Dubai visas."
OTHER = "ایجنٹ نور محمد کا شناختی کارڈ ۱۱۱۰۱-۷۶۵۴۳۲۱-۳ ہے، وہ پیزو سے لڑکے دبئی بھیجتا ہے۔"  # noqa: RUF001


@pytest.mark.parametrize(
    ("text", "key", "cnic"),
    [
        (ONE, NOOR, "11101-1234567-1"),
        (OTHER, NOOR, "11101-7654321-3"),
        (
            "Nadeem Akhtar (CNIC 34201-5673441-9) and his brother",
            "nadeem akhtar",
            "34201-5673441-9",
        ),
        ("Usman's CNIC 34402-1187729-3 is on the visa file.", "usman", "34402-1187729-3"),
        ("noor muhammad ka shanakhti card 11101-1234567-1 hai", NOOR, "11101-1234567-1"),
    ],
)
def test_a_cnic_written_onto_a_name_is_the_persons(text: str, key: str, cnic: str) -> None:
    (found,) = {e.designation for e in extract(text) if e.kind == "person" and e.key == key}
    assert designations.parse(found).cnic == cnic


def test_a_card_someone_took_is_not_his() -> None:
    # "Jani took his brother's card": neither Jani's nor a named man's number.
    text = "Jani ne Aslam se bhai ka shanakhti card 44103-6628104-7 chheen liya."
    assert all(
        designations.parse(e.designation).cnic is None for e in extract(text) if e.kind == "person"
    )


def test_two_cnics_make_two_men() -> None:
    key, strength = person_link(ONE, OTHER)
    assert key == NOOR
    assert strength.level == links.WEAK
    assert "different CNICs or phone numbers" in strength.why


def test_one_cnic_in_two_reports_is_one_man() -> None:
    again = "Agent Noor Muhammad (CNIC 11101-1234567-1) of Pezu sent twelve boys to Dubai."
    evidence = person_evidence(corpus_of([ONE, again]), 1, 2, NOOR)
    assert evidence.strength.level == links.STRONG


def test_once_two_cnics_are_known_a_report_giving_none_joins_neither() -> None:
    bare = "Agent Noor Muhammad of Pezu took Rs 250,000 from my father for a Dubai visa."
    corpus = corpus_of([ONE, OTHER, bare])
    for other in (1, 2):
        evidence = person_evidence(corpus, 3, other, NOOR)
        assert evidence.strength.level == links.WEAK
        assert "different CNICs or phone numbers, and a report here gives none" in (
            evidence.strength.why
        )
        assert not evidence.counts


def test_the_cnic_part_of_a_designation_round_trips() -> None:
    written = designations.compose("Agent", home="pezu", cnic="11101-1234567-1")
    assert written == "Agent, of pezu, CNIC 11101-1234567-1"
    assert designations.parse(written) == designations.Designation(
        "Agent", False, "pezu", None, "11101-1234567-1"
    )
    both = designations.compose("Agent", cnic="11101-1234567-1", phone="+923001234567")
    assert both == "Agent, CNIC 11101-1234567-1, phone +923001234567"
    assert designations.parse(both).phone == "+923001234567"
    assert not links.roles_conflict({written}, {"Agent"})


PHONED = "Agent Noor Muhammad (0300-1234567) of Pezu took Rs 300,000 for Dubai visas."
PHONED_OTHER = "pezu ka agent noor muhammad ka number 0333 7654321 hai, usne mera beta bheja."


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        (PHONED, "+923001234567"),
        (PHONED_OTHER, "+923337654321"),
        ("ایجنٹ نور محمد کا نمبر 03001234567 ہے، وہ پیزو میں رہتا ہے۔", "+923001234567"),
        ("Agent Noor Muhammad, phone 0300-1234567, took the money.", "+923001234567"),
    ],
)
def test_a_phone_number_written_onto_a_name_is_the_persons(text: str, phone: str) -> None:
    (found,) = {e.designation for e in extract(text) if e.kind == "person" and e.key == NOOR}
    assert designations.parse(found).phone == phone


def test_a_number_someone_called_is_not_his() -> None:
    text = "Aslam called 0300-1234567 from the thana and nobody answered."
    assert all(
        designations.parse(e.designation).phone is None for e in extract(text) if e.kind == "person"
    )


def test_two_phone_numbers_make_two_men_and_one_makes_one() -> None:
    key, strength = person_link(PHONED, PHONED_OTHER)
    assert key == NOOR
    assert strength.level == links.WEAK
    again = "Agent Noor Muhammad (0300-1234567) sent twelve boys from Pezu to Dubai."
    assert person_link(PHONED, again)[1].level == links.STRONG


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # The card's word after the name, with no comma: "CNIC" was read as a word of his name
        # ("noor muhammad ~knk"), so neither number was his, and the two men linked strongly.
        ("CNIC 11101-1234567-1", "CNIC 35202-7654321-3"),
        ("CNIC ۱۱۱۰۱-۱۲۳۴۵۶۷-۱", "NIC 35202-7654321-3"),  # noqa: RUF001
        # The phone's word after the name, with no colon: the numbers were nobody's.
        ("mobile 0300-1234567", "mobile no. 0333-7654321"),
        ("Cell 0300-1234567", "Cell 0333-7654321"),
        ("WhatsApp +92 300 1234567", "whatsapp number 0333 7654321"),
    ],
)
def test_a_number_after_its_word_alone_is_the_mans(one: str, other: str) -> None:
    first = f"The agent Noor Muhammad {one} took my son to Iran from Pezu."
    second = f"Agent Noor Muhammad {other} of Pezu sold the boys to a smuggler."
    for text in (first, second):
        keys = {e.key for e in extract(text) if e.kind == "person"}
        assert keys == {NOOR}, f"a number's word read as a name's: {keys}"
    evidence = person_evidence(corpus_of([first, second]), 1, 2, NOOR)
    assert evidence.strength.level == links.WEAK, "two men of two numbers linked strongly"
    assert "different CNICs or phone numbers" in evidence.strength.why
