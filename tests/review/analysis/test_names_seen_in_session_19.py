"""Names session 19's corpora and probes found read wrongly: each keeps its own key.

- heldout60.txt's agent Qadeer Wazir: قدیر was in no list (his Urdu reports named no one),
  and in Latin letters Qadeer was a spelling of Qadir (قادر), another name.
- Tribes of Bannu and Dera Ismail Khan that lower-case Roman Urdu left off a name ("asi gul
  nawaz surani" was "gul nawaz", one key with every other Gul Nawaz).
- Hizbullah was keyed as Zabihullah by its sound.
- heldout61.txt: Inayatullah was keyed by its sound, Zahidullah in lower case not found, and
  Ghazni Khel (Lakki Marwat) was no town.
"""

from __future__ import annotations

import pytest

from review.analysis.entities import extract


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("قدیر وزیر نے لڑکے بھیجے۔", "qadeer wazir"),
        ("Qadeer Wazir sent the boys.", "qadeer wazir"),
        ("qadeer wazir ne larke bheje", "qadeer wazir"),
        ("ASI Abdul Qadir of Thana Domel took money.", "abdul qadir"),
        ("اے ایس آئی عبدالقادر تھانہ ڈومیل میں ہے۔", "abdul qadir"),
        ("اے ایس آئی عبدالقدیر تھانہ ڈومیل میں ہے۔", "abdul qadeer"),
        ("asi gul nawaz surani thana domel me hai.", "gul nawaz surani"),
        ("asi gul nawaz jalalzai thana domel me hai.", "gul nawaz jalalzai"),
        ("asi gul nawaz utmanzai thana domel me hai.", "gul nawaz utmanzai"),
        ("asi gul nawaz mirali thana domel me hai.", "gul nawaz mirali"),
        ("asi gul nawaz jappa thana domel me hai.", "gul nawaz jappa"),
        ("ASI Hizbullah of Thana Domel took money.", "hizbullah"),
        ("ASI Zabihullah of Thana Domel took money.", "zabihullah"),
        ("ASI Inayatullah Khattak took money.", "inayatullah khattak"),
        ("ایجنٹ عنایت اللہ خٹک نے پیسے لیے۔", "inayatullah khattak"),
        ("agent zahidullah ne paise liye", "zahidullah"),
    ],
)
def test_the_name_keeps_its_own_key(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "person"] == [key]


@pytest.mark.parametrize("text", ["غزنی خیل میں بھٹہ ہے۔", "ghazni khel wala agent aya"])
def test_ghazni_khel_is_a_town_of_lakki_marwat(text: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "district"] == ["ghazni khel"]
