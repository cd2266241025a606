"""What the development sets of session 17 (heldout55.txt, Karachi's west and centre;
heldout56.txt, Bannu to Tank) labelled and the extractor missed.

- A plate of two lower-case letters right after its vehicle, as Roman Urdu writes Karachi's
  and the provinces' plates: "pickup cp 2290", "hiace kn-7719", "mazda js 4018"; and مزدا
  (a Mazda truck) as a vehicle. Two-letter words of Roman Urdu and SMS ("car se 5000",
  "bus ek 1500") stay money.
- Ibrahim Hyderi is Karachi's ("ابراہیم حیدری تھانے والوں نے"); Mandan is a town of Bannu;
  "taank" is Tank beside a cue, as "tank" is.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract


def _keys(text: str, kind: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == kind]


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("ulta agent ko bata diya. pickup cp 2290 raat 2 bje aati hai.", "CP2290"),
        ("sohrab goth se hiace kn-7719 me aate hain.", "KN7719"),
        ("gul zaman ki mazda js 4018 hai.", "JS4018"),
        ("گروہ کا آدمی گل زمان مزدا JS-4018 چلاتا ہے۔", "JS4018"),
        ("gari ka number pr 6617", "PR6617"),
    ],
)
def test_two_lower_case_letters_after_a_vehicle_are_a_plate(text: str, plate: str) -> None:
    assert _keys(text, "vehicle") == [plate]


@pytest.mark.parametrize(
    "text",
    [
        "car se 5000 liye",
        "gari me 1200 ka petrol dala",
        "bus ek 1500 ka ticket",
        "rickshaw wala 500 leta hai",
        "taxi kr 2000 me mili",
        "van ko 3000 diye",
    ],
)
def test_two_letter_words_after_a_vehicle_stay_words(text: str) -> None:
    assert _keys(text, "vehicle") == []


@pytest.mark.parametrize(
    "text",
    [
        "ابراہیم حیدری تھانے والوں نے کہا یہ ہمارا کیس نہیں۔",
        "The SHO of Ibrahim Hyderi police station let the boat's agent go.",
    ],
)
def test_ibrahim_hyderi_is_karachis(text: str) -> None:
    assert _keys(text, "police_station") == ["ibrahim hyderi/karachi"]


def test_mandan_is_a_town_of_bannu() -> None:
    found = extract("The agent, Rehmat Ullah of Mandan, sat in front.")
    assert [e.designation for e in found if e.kind == "person"] == ["of mandan"]
    assert _keys("Thana Mandan ke ASI ne paise liye", "police_station") == ["mandan/bannu"]


def test_taank_is_tank_beside_a_cue() -> None:
    assert _keys("zila taank me agent ka dafter hai", "district") == ["tank"]
