"""Trades that tell two men of one name apart, in one city.

The attacks, false links counted as corroboration by blind corpora of session 14:
- heldout45.txt (Peshawar): the jamadar "Sher Zaman" of a kiln at Badaber and the hotel
  owner "Sher Zaman" of Qissa Khwani, whose hotel holds migrants on their way south. "the
  hotel owner" read as the kiln's "Owner", which a jamadar may be called, so the two
  trades agreed.
- heldout44.txt (Lahore): the property dealer "Imran Butt" of Township ("imran butt
  property wala") and the travel agent "Imran Butt" of Gulberg. "property wala" was no
  trade, so the broker's report gave his name none, and two bare names met in Lahore.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link

JAMADAR = (
    "At Haji Gul Rehman's kiln at Badaber, Peshawar, the jamadar Sher Zaman locks the women's "
    "quarters at night."
)
HOTEL = {
    "en": "In Qissa Khwani, Peshawar, Thana City takes money from the hotel owner, Sher Zaman.",
    "ur": "پشاور میں قصہ خوانی کے ہوٹل مالک شیر زمان کے ہاں باجوڑ کے لڑکے ٹھہرتے ہیں۔",
}


@pytest.mark.parametrize("register", sorted(HOTEL))
def test_a_kiln_jamadar_and_a_hotel_owner_of_one_name_are_two_men(register: str) -> None:
    key, strength = person_link(JAMADAR, HOTEL[register])
    assert key == "sher zaman"
    assert strength.level == links.WEAK
    assert "ranks or trades one person would not hold both" in strength.why


def test_a_hotel_owner_is_still_an_owner() -> None:
    owner = "In Qissa Khwani, Peshawar, the owner Sher Zaman keeps the boys upstairs."
    assert person_link(HOTEL["en"], owner)[1].level == links.STRONG


BROKER = "lahore: sajida ke abba kal phir gaye. imran butt property wala kehta hai larki khush hai."
AGENT = "Lahore: Imran Butt told him the officer at the airport counter was our man."


def test_a_property_wala_and_a_bare_name_are_not_corroboration() -> None:
    key, strength = person_link(BROKER, AGENT)
    assert key == "imran butt"
    assert strength.level == links.WEAK


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("imran butt property wala kehta hai larki khush hai", "Property Dealer"),
        ("ٹاؤن شپ کا پراپرٹی والا عمران بٹ کہتا ہے", "Property Dealer"),
        ("Thana City takes money from the hotel owner, Sher Zaman.", "Hotel Owner"),
        ("قصہ خوانی کے ہوٹل مالک شیر زمان کے ہاں لڑکے ٹھہرتے ہیں", "Hotel Owner"),
        ("raja bazar ka hotel wala shahid iqbal paise leta hai", "Hotel Owner"),
    ],
)
def test_trades_said_around_a_name(text: str, designation: str) -> None:
    people = [e for e in extract(text) if e.kind == "person" and e.designation]
    assert designation in {(e.designation or "").partition(",")[0] for e in people}
