"""An amount after a cash machine's or a fuel's letters ("ATM 5000", "LPG 1500") is no plate.

The attack (session 39): three capitals and a number that are no rank's, party's, law's or
money's were read as a number plate, with no vehicle's word beside them, and a plate links
two reports strongly by itself. Two families who each wrote that they drew "ATM 5000" to
pay the agent were one strong link, counted as corroboration.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of


@pytest.mark.parametrize(
    "text",
    [
        "ATM 5000 nikale aur agent ko diye",
        "I drew ATM 9000 for the munshi.",
        "van mein LPG 1500 rupay ka cylinder tha",
        "bike CNG 70 rupay ki dalwai",
        "The CNG 2000 rupees was paid by the agent.",
    ],
)
def test_an_amount_after_a_cash_machines_or_a_fuels_letters_is_no_plate(text: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "vehicle"] == [], text


def test_two_families_drawing_one_sum_are_not_linked_by_it() -> None:
    corpus = corpus_of(
        [
            "In Kasur I drew ATM 5000 and gave it to ASI Rafiq for my son's release.",
            "Mardan mein SHO Gul Zaman ke liye ATM 5000 nikale.",
        ]
    )
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "vehicle" for e in found.evidence), found
    assert corpus.related(1).corroborating == 0
