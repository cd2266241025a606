"""A town named as a road's ("the Pindi Bhattian road") does not set a report there.

heldout57.txt (development, session 17) kept one false link to session 20: a kiln "on the
Pindi Bhattian road, district Hafizabad", whose SHO is Thana Saddar Hafizabad's Inspector,
was set in Pindi Bhattian too, so its Inspector linked strongly to another report's
Hafizabad inspector of the same name, whose report was set in Pindi Bhattian, where a
second man of the name commands. The road says where it goes, not where the kiln is.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

KILN = (
    "The brick kiln of Haji Anwar is on the Pindi Bhattian road, district Hafizabad. The SHO"
    " of Thana Saddar Hafizabad, Inspector Tariq Javed, refused to register the complaint."
)
CITY = "Inspector Tariq Javed of Thana City Pindi Bhattian took Rs 50,000 from the agent."
AGENT = (
    "The agent of Pindi Bhattian sends boys to Iran. Inspector Tariq Javed of the Hafizabad"
    " police is his partner and takes a share for every boy."
)


def test_a_road_sets_its_report_in_its_towns_district_only() -> None:
    assert links.setting("district", "pindi bhattian", (links.ROAD,)) == ("district", "hafizabad")


@pytest.mark.parametrize(
    "text",
    [
        KILN,
        "پنڈی بھٹیاں روڈ پر حاجی انور کا بھٹہ ہے۔",
        "bhatta pindi bhattian road par hai",
        "The kiln is on Jhang Rd, Faisalabad.",
    ],
)
def test_a_town_before_road_is_the_roads(text: str) -> None:
    road = [e for e in extract(text) if e.designation == links.ROAD]
    assert [e.kind for e in road] == ["district"]
    assert road[0].key in ("pindi bhattian", "jhang")


def test_a_town_named_alone_is_still_a_place() -> None:
    (town,) = [
        e for e in extract("I live in Pindi Bhattian. The road is bad.") if e.kind == "district"
    ]
    assert town.designation is None
    assert links.setting(town.kind, town.key, (town.designation,)) == ("district", "pindi bhattian")


def test_the_road_does_not_set_the_report_in_its_town() -> None:
    corpus = corpus_of([KILN, CITY, AGENT])
    evidence = person_evidence(corpus, 1, 3, "tariq javed")
    assert evidence.strength.level == links.WEAK
    assert person_evidence(corpus, 2, 3, "tariq javed").strength.level == links.STRONG
