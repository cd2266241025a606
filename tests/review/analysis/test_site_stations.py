"""Karachi's trading estate (SITE) has three police stations: its letter and road are their names.

A probe of session 19 on the ground of heldout32.txt (Karachi's west), grouping the forms of
its stations in the three registers by key: "thana site a" and "thana site superhighway"
were both keyed "site/karachi" (the letter read as an article, the road dropped), so a
report of the SITE-A station and one of the SITE Super Highway station linked strongly on
a station neither shares.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of

SITE_A = "Mera bhai thana site a le jaya gaya, Karachi."
SUPERHIGHWAY = "Karachi mein thana site superhighway ke SHO ne paise liye."


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (SITE_A, "site a/karachi"),
        ("I live in Karachi. My brother was taken to SITE-A police station.", "site a/karachi"),
        ("I live in Karachi. My brother was taken to SITE A thana.", "site a/karachi"),
        ("میں کراچی سے ہوں۔ تھانہ سائٹ اے گیا۔", "site a/karachi"),
        ("main karachi se hun. thana site b gaya.", "site b/karachi"),
        (SUPERHIGHWAY, "site superhighway/karachi"),
        ("In Karachi, the SITE Super Highway police station.", "site superhighway/karachi"),
    ],
)
def test_site_stations_keep_their_letter_or_road(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "police_station"] == [key]


def test_two_site_stations_share_no_key() -> None:
    related = corpus_of([SITE_A, SUPERHIGHWAY]).related(1)
    stations = [
        e for link in related.links.values() for e in link.evidence if e.kind == "police_station"
    ]
    assert stations == []


def test_site_alone_is_any_of_them() -> None:
    strength = links.strength("police_station", "site/karachi")
    assert strength.level == links.WEAK
    assert links.strength("police_station", "site a/karachi").level == links.STRONG
