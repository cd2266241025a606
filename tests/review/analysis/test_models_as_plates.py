"""A vehicle's model written with its engine size or year ("Honda CD 70", "Corolla GLI 2018") is
no number plate, and links no reports.

The attack (session 39): a number plate links two reports strongly by itself, and a
model's letters and number have a plate's shape, beside a vehicle's word. Two families in
two districts, each saying the men came on a Honda CD 70 (the motorcycle half of Pakistan
rides), were one strong link, counted as corroboration; so were any two reports of a
Corolla GLI 2018 or a Cultus VXR 2017. A plate written beside the model is still a plate.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of


def _plates(text: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == "vehicle"]


@pytest.mark.parametrize(
    "text",
    [
        "Two men on a Honda CD 70 motorcycle took the boy.",
        "Do aadmi CD 70 motorcycle par aaye aur bacha utha le gaye.",
        "Honda CD-70 bike par aaye.",
        "They came on a Honda CG 125 bike.",
        "Yamaha YBR 125 par aaya tha.",
        "a Suzuki GS 150 bike stood at the gate",
        "Suzuki GD 110 motorcycle wala munshi",
        "The SHO drives a Corolla GLI 2018.",
        "A white Corolla XLI 2015 model was parked at the kiln.",
        "agent ki gari Cultus VXR 2017 thi",
        "Mehran VX 2010 mein le gaye",
        "A Honda Civic VTI 2019 stood outside.",
        "Toyota Hilux Revo GR 2021 mein aaye",
    ],
)
def test_a_vehicles_model_is_no_plate(text: str) -> None:
    assert _plates(text) == [], text


@pytest.mark.parametrize(
    ("text", "plates"),
    [
        ("A Honda CD 70, number LHR 4455, took him.", ["LHR4455"]),
        ("Corolla GLI 2018, LEB 1234, was the agent's car.", ["LEB1234"]),
        ("The car LEA 2018 was the SHO's.", ["LEA2018"]),
        ("Corolla LEB 1234 was the agent's car.", ["LEB1234"]),
    ],
)
def test_a_plate_beside_a_model_is_still_a_plate(text: str, plates: list[str]) -> None:
    assert _plates(text) == plates, text


def test_two_families_naming_one_model_are_not_linked_by_it() -> None:
    corpus = corpus_of(
        [
            "In Kasur two men on a CD 70 motorcycle took my son from the kiln; ASI Rafiq knew"
            " them.",
            "At Thana City Mardan, SHO Gul Zaman's men came on a CD 70 motorcycle for my husband.",
        ]
    )
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "vehicle" for e in found.evidence), found
    assert corpus.related(1).corroborating == 0
