"""Places, stations, agencies and numbers written as reports write them: abbreviations,
capitals, dotted forms, towns of every province, station and agency words in any case."""

from __future__ import annotations

import pytest

from review.analysis.entities import Entity, extract


def _only(text: str, kind: str) -> list[Entity]:
    return [e for e in extract(text) if e.kind == kind]


def _keys(text: str, kind: str) -> list[str]:
    return [e.key for e in _only(text, kind)]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Taken from D.I.Khan to D.G.Khan.", ["dera ismail khan", "dera ghazi khan"]),
        ("He lives in R.Y.Khan, his brother in T.T.Singh.", ["rahim yar khan", "toba tek singh"]),
        ("woh lhr se khi gaya", ["lahore", "karachi"]),
        ("FIR lodged at LAHORE, accused of SHEIKHUPURA.", ["lahore", "sheikhupura"]),
        (
            "ham Ghakhar Mandi se aaye phir Nowshera Virkan gaye",
            ["ghakhar mandi", "nowshera virkan"],
        ),
        (
            "From Hub Chowki to Uthal, then Jhal Jhao in Awaran.",
            ["hub", "uthal", "jhal jhao", "awaran"],
        ),
        ("بھٹہ کوٹ رادھا کشن اور چک جھمرہ میں ہے", ["kot radha kishan", "chak jhumra"]),
    ],
)
def test_abbreviated_dotted_capital_and_town_spellings_are_places(
    text: str, keys: list[str]
) -> None:
    assert _keys(text, "district") == keys


@pytest.mark.parametrize(
    "text",
    [
        "The SWAT team raided the house.",  # a police team, four capitals
        "اونٹ دوڑ کے لیے بچے بھیجے",  # a race, not Daur
        "وہ بھاگ کے گھر گیا",  # ran, not Bhag
    ],
)
def test_capitals_and_everyday_words_of_short_names_are_no_place(text: str) -> None:
    assert _only(text, "district") == []
