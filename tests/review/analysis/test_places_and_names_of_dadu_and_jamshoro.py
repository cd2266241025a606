"""Towns, castes and given names of Dadu, Jamshoro and Naushahro Feroze, in every register.

Probed in session 18 on the ground of heldout34.txt (held out; the one held-out corpus
whose links made were under 85 %), with places and names written for the probe, not read
from any corpus. Towns the lists lacked placed no one ("from Phulji", "لکی شاہ صدر" was
Lakki Marwat, "دریا خان مری" Murree); castes the lists lacked were left off a name in Urdu
letters and lower-case Roman Urdu ("asi zulfiqar ali korejo": "zulfiqar ali"), and
"Waris Ali Chang" was "ali chung".
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract
from tests.review.analysis.registers import assert_one_name, assert_one_place

TOWNS = {
    "phulji": ("Phulji", "پھلجی"),
    "wahi pandhi": ("Wahi Pandhi", "واہی پاندھی"),
    "chhinni": ("Chhinni", "چھنی"),
    "bubak": ("Bubak", "بوبک"),
    "petaro": ("Petaro", "پیٹارو"),
    "nooriabad": ("Nooriabad", "نوری آباد"),
    "laki shah saddar": ("Laki Shah Saddar", "لکی شاہ صدر"),
    "halani": ("Halani", "ہالانی"),
    "darya khan mari": ("Darya Khan Mari", "دریا خان مری"),
    "kamal dero": ("Kamal Dero", "کمال ڈیرو"),
    "khairpur nathan shah": ("KN Shah", "کے این شاہ"),
}


@pytest.mark.parametrize("key", TOWNS)
def test_a_town_is_one_place_in_every_register(key: str) -> None:
    assert_one_place(key, *TOWNS[key])


PEOPLE = {
    "zulfiqar ali korejo": ("Zulfiqar Ali Korejo", "ذوالفقار علی کوریجو"),
    "altaf hussain mangnejo": ("Altaf Hussain Mangnejo", "الطاف حسین منگنیجو"),
    "hakim ali thebo": ("Hakim Ali Thebo", "حکیم علی ٹھیبو"),
    "nabi bakhsh gadehi": ("Nabi Bux Gadehi", "نبی بخش گاڈھی"),
    "lal bakhsh mirjat": ("Lal Bux Mirjat", "لال بخش میرجت"),
    "shafi muhammad kobhar": ("Shafi Muhammad Kubar", "شفیع محمد کوبر"),
    "waris ali chang": ("Waris Ali Chang", "وارث علی چانگ"),
    "manthar ali ujjan": ("Manthar Ali Ujjan", "منٹھار علی اجن"),
}


@pytest.mark.parametrize("key", PEOPLE)
def test_a_sindhi_name_is_one_key_in_every_register(key: str) -> None:
    assert_one_name(key, *PEOPLE[key], ("Johi", "جوہی"))


def test_an_heir_and_a_river_are_no_names_alone() -> None:
    # Waris and Darya are listed as everyday words too: no name without another beside.
    text = "وارث نے دریا کے کنارے زمین بیچ دی۔"
    assert not [e for e in extract(text) if e.kind == "person"]
