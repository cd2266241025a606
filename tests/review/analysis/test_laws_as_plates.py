"""A law cited by its letters and year ("ATA 1997") is no number plate, and links no reports.

The attack (session 38): the police book a family under the Anti-Terrorism Act to make it
withdraw a complaint, and reports say so as FIRs write it, "7 ATA 1997". "ATA 1997" had a
plate's shape (three capitals, a number) and was keyed as a vehicle, and a vehicle links
strongly by itself: two reports of two families, two districts and two sets of policemen
were one strong link, counted as corroboration, for citing one Act.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of


@pytest.mark.parametrize(
    "text",
    [
        "The SHO booked my brother under ATA 1997 so that we withdraw the complaint.",
        "FIR u/s 365-B PPC and 7 ATA-1997 was made against my father.",
        "us par ATA 1997 laga diya taake hum darkhwast wapas le lein",
        "ہم پر ATA 1997 لگا دیا تاکہ ہم درخواست واپس لیں۔",
        "He was detained under section 16 MPO-1960 for a month.",
        "The case was made under section 3 of BLA 1992 against the munshi.",
        "The Anti-Terrorism Act, ATA 1997, section 7, was put on us.",
    ],
)
def test_a_law_cited_by_its_letters_and_year_is_no_plate(text: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "vehicle"] == [], text


def test_two_reports_citing_one_act_are_not_linked_by_it() -> None:
    corpus = corpus_of(
        [
            "In Kasur, ASI Rafiq of Thana Saddar booked my brother under ATA 1997 when we"
            " complained about the kiln.",
            "SHO Gul Zaman of Thana City Mardan put 7 ATA-1997 on my father to make us quiet.",
        ]
    )
    found = corpus.related(1).links.get(2)
    assert found is None or not found.corroborates, found
    assert corpus.related(1).corroborating == 0


@pytest.mark.parametrize(
    "text",
    [
        "They came in a white Hilux, LEA 1997, and took the boys.",
        "گاڑی کا نمبر QAA 2019 ہے۔",
        "The car ATA-1997 took them to Thana Saddar.",
    ],
)
def test_a_plate_of_a_years_number_beside_its_vehicle_is_a_plate(text: str) -> None:
    assert [e.kind for e in extract(text)].count("vehicle") == 1, text


def test_a_plate_of_a_years_number_written_bare_again_is_the_same_plate() -> None:
    text = "They came in a white Hilux, LEA 1997. Later LEA 1997 was parked at the kiln."
    assert [e.key for e in extract(text) if e.kind == "vehicle"] == ["LEA1997", "LEA1997"]
    two = corpus_of([text, "A Corolla LEA 1997 waits outside Thana Saddar Kasur every Friday."])
    assert two.related(1).links[2].corroborates
    assert any(
        e.kind == "vehicle" and e.strength.level == links.STRONG
        for e in two.related(1).links[2].evidence
    )
