"""A city's localities (Orangi, Baldia, Sohrab Goth) set a report in their city.

The attack, from heldout43.txt (Karachi, session 13): Karachi's localities were in no
list, so a report of "boys from Shangla" in "the factories of Baldia" named one district,
Shangla, and its bare "Thana Saddar" was keyed as Shangla's, strongly: it met every
report of Thana Saddar Shangla as one station. And "Baldia police station", "Orangi Town
police station" took the migrants' home districts ("orangi town/jacobabad"), so two
reports of one Karachi station written by families from two districts never met.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import shared_link

SHANGLA = "I went to Thana Saddar Shangla about my son."
BALDIA = {
    "en": "Boys from Shangla work in the factories of Baldia. Thana Saddar took Rs 20,000.",
    "ru": "shangla ke larke baldia ki factoriyon mein kaam karte hain. saddar thane walon ne "
    "20 hazar liye.",
    "ur": "شانگلہ کے لڑکے بلدیہ کی فیکٹریوں میں کام کرتے ہیں۔ تھانہ صدر والوں نے بیس ہزار لیے۔",
}


@pytest.mark.parametrize("register", sorted(BALDIA))
def test_a_locality_sets_its_report_in_its_city(register: str) -> None:
    # Set in Karachi by Baldia as well as in Shangla, the report names two districts: its
    # bare Saddar is a guess, and does not count as Shangla's station.
    key, strength = shared_link(BALDIA[register], SHANGLA, "police_station")
    assert key == "saddar/shangla"
    assert strength.level == links.WEAK
    assert "names several districts" in strength.why


@pytest.mark.parametrize(
    "text",
    [
        "Inspector Zafar Iqbal, the SHO of Orangi Town police station, takes a share.",
        "تھانہ اورنگی ٹاؤن کے ایس ایچ او نے پیسے لیے",
        "orangi town thane wale paise lete hain, larkiyan jacobabad se aati hain",
    ],
)
def test_a_station_named_after_a_locality_is_its_citys(text: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "police_station"] == ["orangi/karachi"]


def test_a_locality_is_no_district_entity() -> None:
    found = extract("A water tanker contractor in Orangi brings girls from Jacobabad.")
    assert [e.key for e in found if e.kind == "district"] == ["jacobabad"]
