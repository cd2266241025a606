"""A police station's name: where it ends, and its key.

Found on heldout44.txt (Lahore, session 14):
- "the SHO of Green Town thana. Bashir Ahmed of Jacobabad is still looking for his wife"
  made a station "Thana Bashir Ahmed" of Jacobabad: the name ran on past the full stop
  that ends the sentence, as it rightly does after "P.S." or "PS.";
- "Misri Shah" keyed "misri shah shah": its first word is listed as the whole name and
  its second as a word of its own, and both were kept.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract


def _stations(text: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == "police_station"]


def test_a_stations_name_does_not_run_past_the_end_of_its_sentence() -> None:
    text = "The warning came from the SHO of Green Town thana. Bashir Ahmed is still looking."
    assert [k.partition("/")[0] for k in _stations(text)] == ["green town"]
    assert "bashir ahmed" in {e.key for e in extract(text) if e.kind == "person"}
    assert _stations("They took him to the police station. Saddar Kasur police did nothing.") == []


@pytest.mark.parametrize("text", ["He went to P.S. Saddar Kasur.", "He went to PS. Saddar Kasur."])
def test_a_full_stop_after_a_short_keyword_is_no_sentence_end(text: str) -> None:
    assert _stations(text) == ["saddar/kasur"]


@pytest.mark.parametrize(
    "text",
    [
        "hc sajjad aur misri shah thana dono ko hissa milta hai",
        "Thana Misri Shah ke SHO ne kaha",
        "تھانہ مصری شاہ کے ایس ایچ او",
    ],
)
def test_a_listed_name_of_two_words_is_keyed_once(text: str) -> None:
    assert _stations(text) == ["misri shah/lahore"]


def test_a_listed_name_of_three_words_is_keyed_once() -> None:
    assert _stations("تھانہ حجرہ شاہ مقیم") == _stations("Thana Hujra Shah Muqeem")
    assert _stations("Thana Hujra Shah Muqeem")[0].partition("/")[0] == "hujra shah muqeem"
