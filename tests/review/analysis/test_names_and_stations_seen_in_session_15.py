"""Names, places and stations two blind development corpora of session 15 showed missed or
keyed apart: heldout47.txt (Bannu, Lakki Marwat, Dera Ismail Khan, Tank) and heldout48.txt
(Karachi's east and south, its port).

- "Shah Faisal" is a man's name and Karachi's locality (Shah Faisal Colony). After a rank
  the locality swallowed the man ("agent Shah Faisal", "ایجنٹ شاہ فیصل" found no one);
  now the locality is one only by a cue (a station word), and "Thana Shah Faisal" and
  "Shah Faisal Colony police station" are one station.
- "Lakki" and "لکی" are how Lakki Marwat is written in its own district: "thana city
  lakki" was keyed by its sound.
- "Agha" (آغا), "Badshah" (بادشاہ) and "Lal" written لعل were no name words, so Urdu names
  of them ("ٹھیکیدار حاجی لعل بادشاہ", "گل آغا") were not found.
- A car dealer is a trade of its own, not a smuggling agent's: "car dealer naseebullah"
  and "agent Naseebullah" of one district are two men until a reviewer says otherwise.
- Karachi's Docks and Boat Basin police stations were keyed by their sounds, and with
  the district a report named beside them (Keamari) rather than the city.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link, shared_link


def _found(text: str, kind: str) -> list[tuple[str, str | None]]:
    return [(e.key, e.designation) for e in extract(text) if e.kind == kind]


@pytest.mark.parametrize(
    "text",
    [
        "In Serai Naurang the agent Shah Faisal sends young men to Turkey.",
        "naurang wala SHO aur agent shah faisal dono mile hue hain",
        "سرائے نورنگ میں ایجنٹ شاہ فیصل لڑکوں کو ایران بھیجتا ہے۔",
    ],
)
def test_a_man_named_as_karachis_locality_is_found_after_his_rank(text: str) -> None:
    assert ("shah faisal", "Agent") in _found(text, "person")
    assert _found(text, "police_station") == []


@pytest.mark.parametrize(
    "text",
    [
        "Thana Shah Faisal took money from the agent.",
        "The boys were held behind Shah Faisal Colony police station.",
        "شاہ فیصل کالونی تھانے کا اے ایس آئی پیسے لیتا ہے۔",
        "shah faisal colony thane ka ASI paise leta hai",
    ],
)
def test_shah_faisal_colony_is_one_station_however_written(text: str) -> None:
    assert _found(text, "police_station") == [("shah faisal colony/karachi", None)]


@pytest.mark.parametrize(
    ("text", "station"),
    [
        ("thana city lakki me ab koi nahi sunta", "city/lakki marwat"),
        ("ہم نے تھانہ صدر لکی میں بھی درخواست دی۔", "saddar/lakki marwat"),
        ("We went to Thana Saddar Lakki Marwat first.", "saddar/lakki marwat"),
    ],
)
def test_lakki_is_lakki_marwat(text: str, station: str) -> None:
    assert [k for k, _ in _found(text, "police_station")] == [station]
    assert [k for k, _ in _found(text, "district")] == ["lakki marwat"]


@pytest.mark.parametrize(
    ("text", "key", "rank"),
    [
        (
            "بچوں کو بھٹوں پر لے جانے والا ٹھیکیدار حاجی لعل بادشاہ ہے۔",
            "haji lal badshah",
            "Contractor",
        ),
        ("لعل بادشاہ کا نمبر 0347-9612208 ہے۔", "lal badshah", "phone +923479612208"),
        ("افغان خاندانوں کو لانے والا گل آغا ہے۔", "gul agha", None),
        ("gul agha ki pickup aaj bhi checkpost se guzri", "gul agha", None),
        (
            "Bannu Township wala car dealer naseebullah, ghalat gaariyan bechta hai",
            "naseebullah",
            "Car Dealer",
        ),
    ],
)
def test_names_the_lists_lacked_are_found(text: str, key: str, rank: str | None) -> None:
    assert (key, rank) in _found(text, "person")


def test_a_car_dealer_and_an_agent_of_one_name_are_two_men_until_confirmed() -> None:
    dealer = "In Bannu the car dealer Naseebullah Wazir sells cars on the agents' money."
    agent = "In Bannu the agent Naseebullah Wazir took three boys to Iran."
    key, strength = person_link(dealer, agent)
    assert key == "naseebullah wazir"
    assert strength.level == links.WEAK
    assert "ranks or trades one person would not hold both" in strength.why


@pytest.mark.parametrize(
    ("english", "urdu", "key"),
    [
        (
            "Head constable Abdul Ghafoor of the Docks police station in Keamari takes Rs 10,000.",
            "کیماڑی میں تھانہ ڈاکس کا ہیڈ کانسٹیبل ہر آدمی سے دس ہزار لیتا ہے۔",
            "docks/karachi",
        ),
        (
            "In Karachi, the Boat Basin police station refused to enter the house.",
            "کراچی میں بوٹ بیسن تھانے والوں نے کچھ نہیں کیا۔",
            "boat basin/karachi",
        ),
    ],
)
def test_karachis_port_stations_link_across_scripts(english: str, urdu: str, key: str) -> None:
    found, strength = shared_link(english, urdu, "police_station")
    assert (found, strength.level) == (key, links.STRONG)


# The most frequent names the development sets' writers labelled and no rule found, after
# the fixes above (heldout44.txt, heldout37.txt, heldout48.txt, heldout41.txt, heldout35.txt).
@pytest.mark.parametrize(
    ("text", "key", "rank"),
    [
        ("کوٹ لکھپت تھانے میں فضل ربی کے بھائی کی درخواست جمع ہوئی۔", "fazal rabbi", None),
        ("mingora thana city walon ne fazal rabi ke khilaf report nahi likhi", "fazal rabbi", None),
        ("Fazal Rabbi's brother went to Rahimabad police station.", "fazal rabbi", None),
        ("malik jehangir councilor bol raha tha paisay do", "malik jahangir", "Councillor"),
        ("مالک ہارون لاکھانی ہر مہینے تھانے کو پیسے دیتا ہے۔", "haroon lakhani", None),
        (
            "saddar thana jhelum ka moharrar arshad paisay le kar",
            "arshad",
            "Moharrir, of jhelum, posted at saddar/jhelum",
        ),
        (
            "عبدالغفور اے ایس آئی تھانہ ترنول والا پیسے لیتا ہے۔",
            "abdul ghafoor",
            "ASI, posted at tarnol/islamabad",
        ),
        ("عبدالستار اے ایس آئی نے پیسے لیے۔", "abdul sattar", "ASI"),
    ],
)
def test_names_the_development_sets_labelled_most_are_found(
    text: str, key: str, rank: str | None
) -> None:
    assert (key, rank) in _found(text, "person")


@pytest.mark.parametrize("text", ["is saal rabi ki fasal achi hai", "ربی کی فصل اچھی ہوئی۔"])
def test_the_spring_harvest_is_no_man(text: str) -> None:
    # "rabi" is the spring harvest too: a name only beside another name's word
    assert _found(text, "person") == []
