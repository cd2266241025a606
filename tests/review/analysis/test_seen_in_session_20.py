"""What session 20's development corpora (heldout62.txt, heldout64.txt) found unread.

- Towns of Mandi Bahauddin and Hafizabad: Kuthiala Sheikhan, Qadirabad, Kassoki.
- Tribes of Jhang and Chiniot, keyed by their consonants or left off in lower case.
- "Of this very name" said of a post's other holder ("pehle wala sho bhi isi naam ka
  tha"): once the towns were read, heldout60.txt's two SHOs of Kuthiala Sheikhan, of one
  name three years apart, linked strongly, though the 2023 SHO's report said so.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("The boys were held in a house in Kuthiala Sheikhan.", "kuthiala sheikhan"),
        ("لڑکے کٹھیالہ شیخاں کے ایک گھر میں تھے۔", "kuthiala sheikhan"),
        ("I served at Qadirabad until 2022.", "qadirabad"),
        ("میں قادرآباد میں تھا۔", "qadirabad"),
        ("kassoki se agent aya", "kassoki"),
        ("کسوکی کا ایجنٹ", "kassoki"),
    ],
)
def test_the_town_is_read(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "district"] == [key]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Kiln owner Haji Mukhtar Bharwana took the money.", "haji mukhtar bharwana"),
        ("bhatta malik haji mukhtar bharwana ne paise liye", "haji mukhtar bharwana"),
        ("بھٹہ مالک حاجی مختار بھروانہ نے پیسے لیے۔", "haji mukhtar bharwana"),
        ("asi mukhtar rajoa ne paise liye", "mukhtar rajoa"),
        ("ASI Mukhtar Maghiana took money.", "mukhtar maghiana"),
    ],
)
def test_the_tribe_stays_in_the_name(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "person"] == [key]


NEW_SHO = (
    "kuthiala sheikhan thane ka naya sho ch nadeem akhtar ne may 2023 mein agent ko pakra"
    " tha. pata nahi kaun sach bol raha. pehle wala sho bhi isi naam ka tha log kehte hain."
)
OLD_SHO = "کٹھیالہ شیخاں تھانے کے ایس ایچ او چوہدری ندیم اختر نے ہمیں رات تھانے میں رکھا۔"


@pytest.mark.parametrize(
    "text",
    [NEW_SHO, "نیا ایس ایچ او ندیم اختر ہے۔ وہ پیسے لیتا ہے۔ پرانا ایس ایچ او بھی اسی نام کا تھا۔"],
)
def test_the_post_holder_of_this_very_name_is_one_of_two(text: str) -> None:
    (man,) = [e for e in extract(text) if e.kind == "person" and "nadeem akhtar" in e.key]
    said = designations.parse(man.designation)
    assert (said.rank, said.two) == ("SHO", True)


def test_the_rank_is_read_as_ranks_txt_spells_it() -> None:
    """ "thanedar" is an SHO (ranks.txt): the report's SHO is the one of two."""
    text = "thanedar nadeem akhtar ne paise liye. pehle wala thanedar bhi isi naam ka tha"
    (man,) = [e for e in extract(text) if e.kind == "person"]
    assert man.designation == "SHO, one of two of this name"


def test_only_the_men_of_that_rank_are_marked() -> None:
    text = "SHO Nadeem Akhtar of Thana City. ASI Gul Zaman too. pehle wala asi bhi isi naam ka tha"
    marks = {
        e.key: designations.parse(e.designation).two for e in extract(text) if e.kind == "person"
    }
    assert marks == {"nadeem akhtar": False, "gul zaman": True}


def test_the_two_shos_reports_join_only_weakly() -> None:
    corpus = corpus_of([OLD_SHO, NEW_SHO])
    evidence = person_evidence(corpus, 1, 2, "chaudhry nadeem akhtar")
    assert evidence.strength.level == links.WEAK
    assert not evidence.counts


@pytest.mark.parametrize(
    ("text", "station"),
    [
        # heldout65.txt: Jatoi, a town of Muzaffargarh and a Sindhi tribe, keyed the station
        # beside "Ghulam Mustafa Jatoi" as Muzaffargarh's.
        ("Inspector Ghulam Mustafa Jatoi left Thana A-Section of Sukkur.", "a section/sukkur"),
        ("غلام مصطفیٰ جتوئی تھانہ پنوعاقل کا ایس ایچ او بنا ہے۔", "pano aqil/sukkur"),
    ],
)
def test_a_mans_surname_that_is_a_town_keys_no_station(text: str, station: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "police_station"] == [station]


def test_a_town_after_a_given_name_is_still_a_town() -> None:
    """Mand is no surname: "Imran from Mand" keeps the town."""
    assert [e.key for e in extract("عمران مند سے فون کر چکا ہے۔") if e.kind == "district"] == [
        "mand"
    ]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("thanedar ghulam mustafa jatoi sain khud baitha tha", "ghulam mustafa jatoi"),
        ("Sain Bux Mahar took the money.", "sain bakhsh mahar"),
        (
            "سردار یار محمد سندرانی کے فیصلے پر اسے ونی میں دے دیا گیا۔",
            "sardar yar muhammad sundrani",
        ),
        ("sain hum sardar yar muhammad sundrani ke haari hain", "sardar yar muhammad sundrani"),
        ("Sardar Yar Muhammad Sundrani decided it.", "sardar yar muhammad sundrani"),
        ("mumtaz ali phulpoto ne paise liye", "mumtaz ali phulpoto"),
    ],
)
def test_names_of_upper_sindh(text: str, key: str) -> None:
    assert [e.key for e in extract(text) if e.kind == "person"] == [key]


def test_yar_alone_is_friend() -> None:
    assert [e for e in extract("yar mujhe maaf karo") if e.kind == "person"] == []
