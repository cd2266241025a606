"""A posted man's name that the archive gives men at two police stations apart does not
corroborate a report that names no station or town of its own.

The attack (a probe, written after session 16's blind corpora set posted namesakes at two
stations of one district): "SHO Tariq Mehmood" of Thana City Hafizabad and "SHO Tariq
Mehmood" of Thana Saddar Hafizabad are two men (or one, transferred), and each pair of
reports naming one of them at his station is already weak. A third report, "Hafizabad's
SHO Tariq Mehmood", set at neither, linked strongly to both: at least one of those two
links, counted as corroboration, was false, and nothing in the three reports says which.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import assert_joins_neither, corpus_of, person_evidence

CITY = "SHO Tariq Mehmood of Thana City Hafizabad takes Rs 20,000 for every boy sent abroad."
SADDAR = "SHO Tariq Mehmood of Thana Saddar Hafizabad let the dunki agent go the same night."
UNPLACED = {
    "en": "In Hafizabad the SHO Tariq Mehmood took Rs 50,000 from my father for the FIR.",
    "ru": "hafizabad ka sho tariq mehmood abba se 50 hazar le gaya, fir nahi kati.",
    "ur": "حافظ آباد کا ایس ایچ او طارق محمود ابو سے پچاس ہزار لے گیا، ایف آئی آر نہیں کاٹی۔",
}
KEY = "tariq mehmood"


@pytest.mark.parametrize("register", sorted(UNPLACED))
def test_a_report_set_at_no_station_does_not_corroborate_a_name_posted_at_two(
    register: str,
) -> None:
    corpus = corpus_of([CITY, SADDAR, UNPLACED[register]])
    assert_joins_neither(corpus, 3, (1, 2), KEY, "police stations apart")


def test_with_one_station_in_the_archive_the_unplaced_report_still_links() -> None:
    corpus = corpus_of([CITY, UNPLACED["en"]])
    evidence = person_evidence(corpus, 2, 1, KEY)
    assert evidence.strength.level == links.STRONG
    assert corpus.related(2).corroborating == 1


def test_two_reports_at_one_station_still_link_though_the_name_is_spread() -> None:
    again = "SHO Tariq Mehmood of Thana City Hafizabad sent the boys' families away."
    corpus = corpus_of([CITY, SADDAR, again])
    assert person_evidence(corpus, 3, 1, KEY).strength.level == links.STRONG


def test_an_agent_of_the_name_is_not_held_to_the_posted_mens_stations() -> None:
    agent = "In Hafizabad the agent Tariq Mehmood sends boys to Libya by dunki."
    other = "The agent Tariq Mehmood of Hafizabad took Rs 30 lakh for my brother."
    corpus = corpus_of([CITY, SADDAR, agent, other])
    assert person_evidence(corpus, 4, 3, KEY).strength.level == links.STRONG


def test_a_name_posted_at_many_places_is_spread_without_comparing_every_pair() -> None:
    many = [
        (frozenset({f"station:s{n}/hafizabad", "district:hafizabad"}), ("SHO",))
        for n in range(5000)
    ]
    assert links.spread(many)
    assert not links.spread(many[:1])
