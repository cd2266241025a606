"""A station bearing a town's name, in a report set in another district, is not the town's.

The attack (session 43): "Thana Sadiqabad" was keyed `sadiqabad/rahim yar khan` whatever
the report said, since Sadiqabad is a town of Rahim Yar Khan; but Rawalpindi has a Thana
Sadiqabad of its own. A report "We live in Rawalpindi. ASI Imran Khosa of Thana Sadiqabad
..." and one of Rahim Yar Khan naming an ASI Imran Khosa at its Thana Sadiqabad were one
man at one station, both links strong: two men a province apart counted as two witnesses.
A station of a city known to bear a town's name (`data/station_namesakes.txt`), in a
report that names the city and neither the town nor its district, is the city's. Another
district named alone is no sign: reports name where the boys came from and where they
went ("from Gujrat ... Thana Sambrial" is Sambrial's own); keyed by the other district
instead, 174 right strong links of the held-out corpora went weak.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of

PINDI = "We live in Rawalpindi. ASI Imran Khosa of Thana Sadiqabad took Rs 50,000 from us."
RYK = "ASI Imran Khosa of Thana Sadiqabad, Rahim Yar Khan, beat my brother at the thana."
PINDI_UR = "ہم راولپنڈی میں رہتے ہیں۔ تھانہ صادق آباد کے اے ایس آئی عمران کھوسہ نے پچاس ہزار لیے۔"
RYK_UR = "رحیم یار خان کے تھانہ صادق آباد کے اے ایس آئی عمران کھوسہ نے میرے بھائی کو مارا۔"
KARACHI = "In Baldia Town, Karachi, ASI Imran Khosa of Saeedabad police station took Rs 9,000."
MATIARI = "ASI Imran Khosa of Thana Saeedabad, Matiari, took the agent's money."
MULTAN = "We work in Multan. ASI Imran Khosa of Thana Kamoke kept my brother for a week."
KAMOKE = "ASI Imran Khosa of Thana Kamoke, Gujranwala, took the agent's money."


def _strong(a: str, b: str) -> list[tuple[str, str]]:
    linked = corpus_of([a, b]).related(1).links.get(2)
    if linked is None:
        return []
    return [(e.kind, e.key) for e in linked.evidence if e.strength.level == links.STRONG]


@pytest.mark.parametrize(
    ("a", "b"),
    [(PINDI, RYK), (PINDI_UR, RYK_UR), (PINDI, RYK_UR), (KARACHI, MATIARI)],
    ids=["latin", "urdu", "both scripts", "another city"],
)
def test_a_town_named_station_in_a_report_set_elsewhere_is_not_the_towns(a: str, b: str) -> None:
    assert _strong(a, b) == [], f"{a!r} and {b!r} linked strongly"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # both set in Rawalpindi: its own Thana Sadiqabad, one station
        (PINDI, "In Rawalpindi ASI Imran Khosa of Thana Sadiqabad beat my son."),
        # no district but the station's: the town's own
        ("ASI Imran Khosa of Thana Sadiqabad took Rs 50,000 from us.", RYK),
        # the town named apart as well as another district: still the town's
        (
            "The boys came from Lahore to a kiln in Sadiqabad. "
            "ASI Imran Khosa of Thana Sadiqabad took the owner's money.",
            RYK,
        ),
        (RYK_UR, "تھانہ صادق آباد کے اے ایس آئی عمران کھوسہ نے پیسے لیے۔"),
        # a town no city's station is known to share a name with: its own, wherever else
        (MULTAN, KAMOKE),
    ],
    ids=["both in rawalpindi", "bare", "the town named too", "urdu bare", "not a namesake"],
)
def test_one_station_still_links_strongly(a: str, b: str) -> None:
    strong = _strong(a, b)
    assert ("person", "imran khosa") in strong, strong
    assert [kind for kind, _key in strong].count("police_station") == 1, strong


def test_each_namesake_is_a_listed_town_or_district_and_each_city_a_district() -> None:
    from review.analysis.entities import extract
    from review.analysis.entity_text import station_namesakes, towns

    assert station_namesakes(), "no namesakes read"
    for name, cities in station_namesakes().items():
        places = {e.key for e in extract(f"We went to {name.title()}.") if e.kind == "district"}
        assert name in places or name in towns(), f"{name}: neither a town nor a district"
        for city in cities:
            found = {e.key for e in extract(f"We went to {city.title()}.")}
            assert city in found, f"{city} (of {name}) is not a district"
