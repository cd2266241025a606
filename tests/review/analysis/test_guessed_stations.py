"""A station written bare, in a report that names several districts, is a guess.

The attack: a report says "the boys were taken from Bannu to Karachi; at Thana Saddar the
SHO took Rs 50,000", and another is of Thana Saddar, Bannu. The first report's Saddar was
keyed with the first district it names, Bannu, and the two were joined as one station,
counted as corroboration, though Karachi's Saddar is as likely. Issue 18: a link on a
station without its district is weak until a reviewer confirms it; a district the report
leaves the reader to choose among several is no district.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, shared_link

BANNU = "I went to Thana Saddar Bannu on 3 May; the moharrir would not write the FIR."
GUESSED = {
    "en": "The boys were taken from Bannu to Karachi. At Thana Saddar the SHO took Rs 50,000.",
    "ru": "larkon ko bannu se karachi le gaye. saddar thane ka sho 50 hazar le gaya.",
    "ur": "لڑکوں کو بنوں سے کراچی لے گئے۔ تھانہ صدر کے ایس ایچ او نے پچاس ہزار لیے۔",
}


@pytest.mark.parametrize("register", sorted(GUESSED))
def test_a_bare_station_among_several_districts_is_weak(register: str) -> None:
    key, strength = shared_link(GUESSED[register], BANNU, "police_station")
    assert key == "saddar/bannu"
    assert strength.level == links.WEAK
    assert "names several districts" in strength.why


def test_a_bare_station_in_a_report_of_one_district_still_links() -> None:
    one = "The boys were taken from Domel in Bannu. At Thana Saddar the SHO took Rs 50,000."
    assert shared_link(one, BANNU, "police_station")[1].level == links.STRONG


def test_a_station_the_report_writes_in_full_once_is_no_guess() -> None:
    full = (
        "The boys were taken from Bannu to Karachi. I went to Thana Saddar Bannu first; at "
        "Thana Saddar the SHO took Rs 50,000."
    )
    assert shared_link(full, BANNU, "police_station")[1].level == links.STRONG


KARACHI = "At Thana City Karachi the SHO keeps the passports of the boys from the north."
ELSEWHERE = {
    "en": "We are from Sibi. The moharrir at Thana City said the boys were already in Karachi.",
    "ru": "hum sibi se hain. city thane ke moharrir ne kaha larke karachi pohanch gaye.",
    "ur": "ہم سبی کے ہیں۔ تھانہ سٹی کے محرر نے کہا کہ لڑکے کراچی پہنچ چکے ہیں۔",
}


@pytest.mark.parametrize("register", sorted(ELSEWHERE))
def test_a_district_elsewhere_in_the_stations_sentence_is_a_guess(register: str) -> None:
    # The sentence's other district is where the boys went, not where the station is: a
    # Sibi family's Thana City was keyed Karachi's and met Karachi's City station.
    key, strength = shared_link(ELSEWHERE[register], KARACHI, "police_station")
    assert key == "city/karachi"
    assert strength.level == links.WEAK
    assert "names several districts" in strength.why


def test_a_district_written_beside_the_station_is_no_guess() -> None:
    beside = "We are from Sibi. At Thana City Karachi the moharrir took the money."
    assert shared_link(beside, KARACHI, "police_station")[1].level == links.STRONG


@pytest.mark.parametrize("register", sorted(GUESSED))
def test_a_guessed_station_is_not_counted_as_corroboration(register: str) -> None:
    """The pair showed weak, yet the station's count of independent sources joined both
    reports (as `names list` and an escalation packet give it), and `links pending` never
    put the pair before a reviewer: counted and hidden at once."""
    corpus = corpus_of([BANNU, GUESSED[register]])
    (group,) = [g for g in corpus.groups("police_station") if g.key == "saddar/bannu"]
    assert corpus.evidence(group, 1, 2).strength.level == links.WEAK  # type: ignore[union-attr]
    assert group.corroborating == 1
    waiting = [p for p in corpus.pending("police_station") if p.group.key == "saddar/bannu"]
    assert [(a, b) for a, b, _e in waiting[0].pairs] == [(1, 2)]
