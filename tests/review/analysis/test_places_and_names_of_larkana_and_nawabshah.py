"""Towns and castes of Larkana, Qambar-Shahdadkot and Shaheed Benazirabad, in every register.

Probed in session 18 on the ground of heldout38.txt (held out; links made 85.3 %), with
places and names written for the probe, not read from any corpus: "Shahpur Jahania" was
Shahpur of Sargodha, "Abdul Ghani Isran" was "abdul ghani shireen" and "Anwar Ali Dars"
"anwar ali idrees" by their consonants, and in Urdu letters or lower-case Roman Urdu a
caste the lists lacked was left off the name.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract
from tests.review.analysis.registers import assert_one_name, assert_one_place

TOWNS = {
    "shahpur jahania": ("Shahpur Jahania", "شاہ پور جہانیاں"),
    "mohenjo daro": ("Mohenjo Daro", "موئن جو دڑو"),
    "badah": ("Badah", "باڈہ"),
    "ghaibi dero": ("Ghaibi Dero", "غیبی ڈیرو"),
    "amrot": ("Amrot", "امروٹ"),
}


@pytest.mark.parametrize("key", TOWNS)
def test_a_town_is_one_place_in_every_register(key: str) -> None:
    assert_one_place(key, *TOWNS[key])


PEOPLE = {
    "abdul ghani isran": ("Abdul Ghani Isran", "عبدالغنی اسران"),
    "anwar ali dars": ("Anwar Ali Dars", "انور علی درس"),
    "ejaz ali metlo": ("Aijaz Ali Metlo", "اعجاز علی میتلو"),
    "ghulam nabi ghunio": ("Ghulam Nabi Ghunio", "غلام نبی گھنیو"),
    "sikandar ali rahoo": ("Sikandar Ali Rahoo", "سکندر علی راہو"),
    "amir bakhsh narejo": ("Ameer Bux Narejo", "امیر بخش نریجو"),
    "imtiaz ali dayo": ("Imtiaz Ali Dayo", "امتیاز علی ڈاہو"),
}


@pytest.mark.parametrize("key", PEOPLE)
def test_a_sindhi_name_is_one_key_in_every_register(key: str) -> None:
    assert_one_name(key, *PEOPLE[key], ("Ratodero", "رتوڈیرو"))


def test_a_lesson_is_no_name_alone() -> None:
    # Dars is listed as Urdu's "lesson" too: no name without another beside it.
    assert not [e for e in extract("استاد نے درس دیا۔") if e.kind == "person"]


def test_tied_is_no_town() -> None:
    # Bandhi (Shaheed Benazirabad) is Urdu's "tied" too: a town only beside a cue.
    text = "لڑکی کو رسی سے بندھی حالت میں بھٹے پر رکھا گیا۔"
    assert not [e for e in extract(text) if e.kind == "district"]
