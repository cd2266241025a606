"""A name or a place in the three registers sources write, and what the extractor keys it as."""

from __future__ import annotations

from review.analysis.entities import extract


def place_keys(text: str) -> set[str]:
    """The districts and towns a text names, Karachi (the probes' destination) left out."""
    return {e.key for e in extract(text) if e.kind == "district"} - {"karachi"}


def assert_one_place(key: str, latin: str, urdu: str) -> None:
    """A town written in English, lower-case Roman Urdu and Urdu letters is one place, `key`."""
    for text in (
        f"The boys were taken from {latin} to Karachi.",
        f"larke {latin.lower()} se karachi le gaye.",
        f"لڑکوں کو {urdu} سے کراچی لے گئے۔",
    ):
        assert place_keys(text) == {key}, text


def assert_one_name(key: str, latin: str, urdu: str, station: tuple[str, str]) -> None:
    """An ASI's name written in English, lower-case Roman Urdu and Urdu letters, at a station
    (its name in Latin and in Urdu letters), is one person, `key`."""
    at, urdu_at = station
    for text in (
        f"ASI {latin} of Thana {at} took money.",
        f"asi {latin.lower()} thana {at.lower()} mein hai.",
        f"اے ایس آئی {urdu} تھانہ {urdu_at} میں ہے۔",
    ):
        assert [e.key for e in extract(text) if e.kind == "person"] == [key], text
