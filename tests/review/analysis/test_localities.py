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


# The attacks of session 14, from heldout44.txt (Lahore) and heldout45.txt (Rawalpindi,
# Islamabad, Peshawar): those cities' localities were in no list either. "kot lakhpat
# thana" in a report of "shangla walay larkay" was Shangla's Kot Lakhpat; a hotel in Raja
# Bazar holding "the boys of Bagh" made its bare "Thana City" Bagh's City station, strongly.
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("kot lakhpat thana me bhi koi nahi sunta. shangla walay larkay band hain", "kot lakhpat"),
        ("Thana Ratta Amral ASI Muhammad Riaz refused to write an FIR", "ratta amral"),
        ("تھانہ رتہ امرال کا محمد ریاض گھر آیا، اصل میں ضلع مظفر گڑھ سے ہیں", "ratta amral"),
        ("At Thana Waris Khan the munshi took the money; the boys are from Sanghar.", "waris khan"),
    ],
)
def test_a_station_named_after_a_locality_of_lahore_or_rawalpindi_is_its_citys(
    text: str, key: str
) -> None:
    city = "lahore" if key == "kot lakhpat" else "rawalpindi"
    assert [e.key for e in extract(text) if e.kind == "police_station"] == [f"{key}/{city}"]


RAJA_BAZAR = {
    "en": "The boys of Bagh are kept in a hotel in Raja Bazar. A constable of Thana City comes "
    "every Thursday.",
    "ru": "raja bazar hotel mein 9 larke bagh walay band hain, thana city ka sipahi bahar khara.",
    "ur": "راجہ بازار کے ہوٹل میں باغ کے لڑکے رکھے جاتے ہیں۔ تھانہ سٹی کا سپاہی ہر جمعرات کو "
    "آتا ہے۔",
}


@pytest.mark.parametrize("register", sorted(RAJA_BAZAR))
def test_a_bare_station_by_a_locality_is_not_the_boys_homes(register: str) -> None:
    assert _stations(RAJA_BAZAR[register]) == ["city/rawalpindi"]


def _stations(text: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == "police_station"]


def test_a_bare_station_set_by_a_locality_alone_is_its_citys_own() -> None:
    # A town has stations of its district's names (Saddar Depalpur beside Saddar Okara), so
    # a station keyed by a town is a guess; a city's locality has none of its own.
    key, strength = shared_link(
        "We work in Raja Bazar. Thana City takes Rs 500 a week from each hotel.",
        "Thana City Rawalpindi registered no case.",
        "police_station",
    )
    assert (key, strength.level) == ("city/rawalpindi", links.STRONG)
