"""An FIA man and a police station's man of one name and rank are two men; boats' numbers.

heldout68.txt (development, written blind in session 21: Lahore, Sheikhupura, Kasur,
Nankana Sahib) gave "FIA Sub-Inspector Imran Haider" at the airport and "SI Imran Haider"
of Thana Township one name and one rank: four false links on every rule before, both men
set in Lahore. The agency written onto a man's rank is his service now ("SI, with fia
immigration"; `homes`), and a man of one service does not meet a man of another, nor an
FIA man one whose report writes a police station onto his post (`links.pair_strength`).
heldout69.txt (Karachi to Badin) wrote its launches' numbers after "boat" and "لانچ", which
were no vehicle's words. These texts are written for this test; no corpus sentence is in
them.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

FIA = "At the Lahore airport the FIA Sub-Inspector Nadeem Anwar lets the agent's boys through."
POLICE = "Thana Gulberg, Lahore (SI Nadeem Anwar) sent the girl back to the employer's house."
NADEEM = "nadeem anwar"
FEDERAL = "federal investigation agency"


def _said(text: str, key: str = NADEEM) -> designations.Designation:
    (said,) = {e.designation for e in extract(text) if e.kind == "person" and e.key == key}
    return designations.parse(said)


@pytest.mark.parametrize(
    ("text", "service"),
    [
        (FIA, "fia immigration"),
        (
            "ایف آئی اے کا سب انسپکٹر ندیم انور ایجنٹ کا دوست ہے، لاہور",
            "federal investigation agency",
        ),
        (
            "Inspector Nadeem Anwar of the FIA took Rs 50,000, Lahore.",
            "federal investigation agency",
        ),
        ("Levies havaldar Nadeem Anwar stops no vehicle at Nokkundi.", "levies"),
        ("Punjab Police ka ASI Nadeem Anwar paise leta hai, lahore", "punjab police"),
    ],
)
def test_the_agency_written_onto_a_rank_is_his_service(text: str, service: str) -> None:
    assert _said(text).service == service


@pytest.mark.parametrize(
    "text",
    [
        "The police took Inspector Nadeem Anwar away from the FIA office, Lahore.",
        "Inspector Nadeem Anwar and the FIA team came to Lahore.",
    ],
)
def test_an_agency_near_a_name_is_not_always_his(text: str) -> None:
    assert _said(text).service is None


def test_an_fia_man_meets_no_police_stations_man_of_his_name() -> None:
    again = "ایف آئی اے کا سب انسپکٹر ندیم انور ہر لڑکے کے پچاس ہزار لیتا ہے، لاہور"
    corpus = corpus_of([FIA, POLICE, again])
    assert person_evidence(corpus, 1, 2, NADEEM).strength.level == links.WEAK
    assert person_evidence(corpus, 2, 3, NADEEM).strength.level == links.WEAK
    # The FIA's man meets himself, and a man whose report says nothing of his service.
    assert person_evidence(corpus, 1, 3, NADEEM).strength.level == links.STRONG
    bare = "SI Nadeem Anwar took money from the agent in Lahore."
    assert person_evidence(corpus_of([FIA, bare]), 1, 2, NADEEM).strength.level == links.STRONG


def test_every_provincial_force_is_one_service() -> None:
    punjab = "Punjab Police ka ASI Nadeem Anwar paise leta hai, lahore"
    posted = "ASI Nadeem Anwar of Thana Gulberg, Lahore, takes money."
    assert person_evidence(corpus_of([punjab, posted]), 1, 2, NADEEM).strength.level == (
        links.STRONG
    )


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("The boat KB-4471 left the fish harbour at night with 31 men.", "KB4471"),
        ("عبدالرزاق کی لانچ KB-4471 پر لڑکے چھپائے گئے", "KB4471"),
        ("launch KX 4490 raat ko nikli", "KX4490"),
    ],
)
def test_a_boats_number_is_a_vehicles(text: str, plate: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "vehicle"] == [plate]
