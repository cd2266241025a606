"""Entity extraction across Pakistan's regions: places and names of Sindh, Khyber
Pakhtunkhwa, Balochistan, Azad Kashmir and Gilgit-Baltistan, one key in every script."""

from __future__ import annotations

import pytest

from review.analysis.entities import Entity, extract
from review.analysis.entity_names import names
from review.analysis.entity_text import data, fold_phrase
from review.workspace.search import normalize


def _only(text: str, kind: str) -> list[Entity]:
    return [e for e in extract(text) if e.kind == kind]


def _keys(text: str, kind: str) -> list[str]:
    return [e.key for e in _only(text, kind)]


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Sent to Larkana.", "لاڑکانہ سے آیا۔", "larkana se aya"], "larkana"),
        (["From Naushero Feroz.", "نوشہرو فیروز سے آیا۔"], "naushahro feroze"),
        (["Held in Umarkot.", "عمرکوٹ سے آیا۔", "umerkot se aya"], "umerkot"),
        (["A boy from Hangu.", "ہنگو سے آیا۔", "hangu se aya"], "hangu"),
        (["Kept in Battagram.", "بٹگرام سے آیا۔"], "battagram"),
        (["From North Waziristan.", "شمالی وزیرستان سے آیا۔"], "north waziristan"),
        (["Taken to Dera Bugti.", "ڈیرہ بگٹی لے گئے۔"], "dera bugti"),
        (["Sent from Barkhan.", "بارکھان سے آیا۔"], "barkhan"),
        (["In Jhal Magsi.", "جھل مگسی میں۔"], "jhal magsi"),
        (["Families from Hunza.", "ہنزہ سے آئے۔"], "hunza"),
        (["Held in Ghizer.", "غذر میں۔"], "ghizer"),
        (["Agents in Sudhnoti.", "سدھنوتی میں۔"], "sudhnoti"),
        (["From Gawadar.", "Boats at Gwadar.", "گوادر سے۔"], "gwadar"),
        (["Via DIK.", "dik se aaye", "D I Khan se", "ڈیرہ اسماعیل خان سے"], "dera ismail khan"),
    ],
)
def test_districts_of_every_region_key_alike_in_every_script(
    spellings: list[str], key: str
) -> None:
    for text in spellings:
        assert _keys(text, "district") == [key], text


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Boys from Mingora.", "منگورہ سے۔", "mingora se"], "mingora"),
        (["At Landi Kotal.", "لنڈی کوتل میں۔"], "landi kotal"),
        (["Near Torkham.", "طورخم کے پاس۔"], "torkham"),
        (["From Turbat.", "تربت سے۔", "turbat se"], "turbat"),
        (["To Mand.", "مند کی سرحد پر۔"], "mand"),
        (["From Rawalakot.", "راولاکوٹ سے۔"], "rawalakot"),
        (["At Dadyal.", "ڈڈیال میں۔"], "dadyal"),
        (["From Chilas.", "چلاس سے۔"], "chilas"),
        (["In Jhuddo.", "جھڈو میں۔"], "jhuddo"),
        (["In Mithi city.", "مٹھی میں۔"], "mithi"),  # "mithi" is "sweet" too: a cue
        (["At Sehwan.", "سیہون میں۔"], "sehwan"),
        (["To Kandhkot.", "کندھ کوٹ سے۔"], "kandhkot"),
    ],
)
def test_towns_and_border_crossings_key_as_themselves(spellings: list[str], key: str) -> None:
    for text in spellings:
        assert _keys(text, "district") == [key], text


@pytest.mark.parametrize(
    ("one", "other", "key"),
    [
        ("SHO of Thana Mingora took money.", "تھانہ منگورہ کا ایس ایچ او", "mingora/swat"),
        ("The ASI of Thana Dadyal.", "thana dadyal ka asi", "dadyal/mirpur"),
        ("Matli police station took money.", "تھانہ ماتلی کا منشی", "matli/badin"),
    ],
)
def test_a_station_named_after_its_town_keys_as_the_town_in_every_script(
    one: str, other: str, key: str
) -> None:
    assert _keys(one, "police_station") == _keys(other, "police_station") == [key]


@pytest.mark.parametrize(
    ("text", "written", "key"),
    [
        ("Ghulam Qadir Junejo SHO took the money.", "Ghulam Qadir Junejo", "ghulam qadir junejo"),
        ("Junejo SHO kept the CNICs.", "Junejo", "junejo"),
        ("جونیجو ایس ایچ او نے کارڈ رکھ لیے۔", "جونیجو", "junejo"),
        ("ایس ایچ او ممتاز علی چانڈیو نے کہا", "ممتاز علی چانڈیو", "mumtaz ali chandio"),
        ("Mumtaz Ali Chandio SHO said so.", "Mumtaz Ali Chandio", "mumtaz ali chandio"),
        ("ASI Hayatullah Achakzai stamped it.", "Hayatullah Achakzai", "hayatullah achakzai"),
        ("اے ایس آئی حیات اللہ اچکزئی نے مہر لگائی", "حیات اللہ اچکزئی", "hayatullah achakzai"),
        ("The agent Naseeb Ullah Kakar came.", "Naseeb Ullah Kakar", "naseebullah kakar"),
        ("ایجنٹ نصیب اللہ کاکڑ آیا", "نصیب اللہ کاکڑ", "naseebullah kakar"),
        ("Zamindar Mir Hassan Talpur pays.", "Mir Hassan Talpur", "mir hassan talpur"),
        ("زمیندار میر حسن ٹالپر نے", "میر حسن ٹالپر", "mir hassan talpur"),
        ("kamdar allah dino khoso ne kaha", "allah dino khoso", "allah dino khoso"),
        ("کامدار اللہ ڈنو کھوسو نے کہا", "اللہ ڈنو کھوسو", "allah dino khoso"),
        ("Naib risaldar Dostain Baloch took it.", "Dostain Baloch", "dostain baloch"),
        ("ASI Rahimullah Bangash of Hangu", "Rahimullah Bangash", "rahimullah bangash"),
        ("SHO Zarin Khan Yousafzai", "Zarin Khan Yousafzai", "zarin khan yousafzai"),
        ("ایس ایچ او زرین خان یوسفزئی نے", "زرین خان یوسفزئی", "zarin khan yousafzai"),
    ],
)
def test_names_of_every_region_with_rank_before_or_after(text: str, written: str, key: str) -> None:
    people = _only(text, "person")
    assert [(p.text, p.key) for p in people] == [(written, key)]


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("SI Saifullah Khan came.", "سب انسپکٹر سیف اللہ خان نے کہا"),
        ("ASI Naseebullah said so.", "اے ایس آئی نصیب اللہ نے کہا"),
        ("SHO Nizamuddin said so.", "ایس ایچ او نظام الدین نے کہا"),
        ("SHO Rahmatullah said so.", "ایس ایچ او رحمت اللہ نے کہا"),
    ],
)
def test_a_compound_name_written_apart_keys_as_the_one_word(text: str, joined: str) -> None:
    one, apart = _only(text, "person"), _only(joined, "person")
    assert len(one) == len(apart) == 1
    assert one[0].key == apart[0].key
    assert " " not in one[0].key.removesuffix(" khan")


def test_allah_before_a_name_is_no_compound() -> None:
    assert _keys("ASI Muhammad Allah Ditta came.", "person") == ["muhammad allah ditta"]
    assert _keys("اے ایس آئی اللہ بخش نے کہا", "person") == ["allah bakhsh"]


@pytest.mark.parametrize(
    "text",
    [
        "The haris of the Kolhi community were held.",
        "The Afridi tribe elders met the DC.",
        "مری قبیلہ کے لوگ آئے۔",
        "Khoso qabeela ke log aaye.",
        "SHO Darra Adam Khel knows.",
        "DPO Hangu knows about it.",
        "SSP Larkana was told.",
        "The Mir sahib said nothing.",
        "صلاح الدین نے کہا",  # a compound's half alone is no name: "uddin" would link anyone
    ],
)
def test_tribes_offices_and_half_names_are_no_person(text: str) -> None:
    keys = [e.key for e in _only(text, "person")]
    assert all(k not in ("kolhi", "afridi", "marri", "khoso", "mir", "uddin") for k in keys)
    assert not any(e.text.startswith(("Darra", "Hangu", "Larkana")) for e in _only(text, "person"))


@pytest.mark.parametrize(
    "text",
    [
        "larkiyan karachi bheji jati hain",  # "jati": goes, not the town Jati
        "اونٹ دوڑ کے لیے بچے بھیجے",  # "race", not a place
        "یہ کام بہت دیر سے ہو رہا ہے",  # "late", not Dir
        "وہ مند کی طرح بیٹھا رہا",  # no cue: an everyday word
    ],
)
def test_everyday_words_that_spell_a_town_are_no_place(text: str) -> None:
    assert _keys(text, "district") == [] or "karachi" in _keys(text, "district")
    assert not any(k in ("jati", "dir", "mand") for k in _keys(text, "district"))


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("Nakhuda Ismail took the boat out.", "Nakhuda"),
        ("کامدار اللہ بخش نے کہا", "Kamdar"),
        ("kamdar ali gul mallah ne kaha", "Kamdar"),
        ("Dafadar Gul Khan of the Levies took it.", "Dafadar, with levies"),
        ("Dr. Nadeem Akhtar signed the age certificate.", "Doctor"),
    ],
)
def test_overseers_boatmen_and_levies_ranks_are_designations(text: str, designation: str) -> None:
    (person,) = _only(text, "person")
    assert person.designation == designation
    assert designation.partition(",")[0].lower() not in person.key


@pytest.mark.parametrize(
    ("one", "other", "key"),
    [
        ("Haji Sakhi Muhammad runs the kiln.", "حاجی سخی محمد نے کہا", "haji sakhi muhammad"),
        ("ASI Dawood Khan", "اے ایس آئی داؤد خان نے", "daud khan"),
        ("Agent Masood Ahmed", "ایجنٹ مسعود احمد نے", "masood ahmed"),
        ("Inspector Qayyum Shah", "انسپکٹر قیوم شاہ نے", "qayyum shah"),
        ("The maid Tahira Bibi", "ملازمہ طاہرہ بی بی نے", "tahira bibi"),
        ("Patras Masih was beaten.", "پطرس مسیح کو مارا گیا۔", "patras masih"),
    ],
)
def test_common_given_names_key_alike_in_both_scripts(one: str, other: str, key: str) -> None:
    assert _keys(one, "person") == _keys(other, "person") == [key]


@pytest.mark.parametrize(
    "text",
    [
        "تھانیدار سخی ہے، سب کو چھوڑ دیتا ہے۔",  # "generous", not the name Sakhi
        "ایجنٹ رئیس ہو گیا ہے۔",  # "rich"
        "wakeel ne case dekha",  # "the lawyer"
    ],
)
def test_names_that_are_everyday_words_need_another_name_word(text: str) -> None:
    assert _only(text, "person") == []


@pytest.mark.parametrize(
    ("texts", "key"),
    [
        (
            [
                "A-Section police station Sukkur",
                "sukkur a-section thana ka sho",
                "تھانہ اے سیکشن سکھر کا ایس ایچ او",
            ],
            "a section/sukkur",
        ),
        (["B-Section police station, Larkana", "تھانہ بی سیکشن لاڑکانہ"], "b section/larkana"),
    ],
)
def test_stations_named_by_a_letter_key_alike_in_every_script(texts: list[str], key: str) -> None:
    for text in texts:
        assert _keys(text, "police_station") == [key], text


def test_a_letter_station_in_two_cities_is_two_stations() -> None:
    assert _keys("A-Section police station Sukkur", "police_station") != _keys(
        "A-Section police station Larkana", "police_station"
    )


@pytest.mark.parametrize(
    ("text", "written", "key"),
    [
        ("سٹی تھانے مردان میں بند کیا", "سٹی تھانے", "city/mardan"),
        ("city thane mardan mein band kiya", "city thane", "city/mardan"),
        ("صدر تھانے بدین کا منشی", "صدر تھانے", "saddar/badin"),
    ],
)
def test_the_oblique_keyword_follows_its_stations_name_and_a_place_after_it_is_its_district(
    text: str, written: str, key: str
) -> None:
    (station,) = _only(text, "police_station")
    assert (station.text, station.key) == (written, key)


def test_no_word_of_a_listed_name_of_two_words_stands_for_the_whole_name() -> None:
    # "رحمت اللہ" listed apart would key every "رحمت" (Rehmat) as Rahmatullah: compounds
    # are listed as one word, and joined when written apart (`entity_names._compounds`).
    listed = names()
    for line in data("names.txt"):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        whole = normalize(variants[0])
        for variant in variants:
            tokens = fold_phrase(variant)
            if len(tokens) > 1 and whole != normalize("Bibi"):  # "بی بی" is one word
                assert all(listed[t] != whole or t == whole for t in tokens), variant


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ASI Rehmat Ali said so.", "اے ایس آئی رحمت علی نے کہا"),
        ("SHO Amin Khan said so.", "ایس ایچ او امین خان نے کہا"),
        ("Agent Sher Khan Achakzai", "ایجنٹ شیر خان اچک زئی نے کہا"),
        ("Zahid Mehmood alias Kaka came.", "زاہد محمود عرف کاکا آیا۔"),
    ],
)
def test_a_word_of_a_compound_name_alone_keys_as_itself(one: str, other: str) -> None:
    keys, others = _keys(one, "person"), _keys(other, "person")
    assert keys[0] == others[0]
    assert not any(k.endswith(("ullah", "khel")) for k in keys + others)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("soomro sahib ne paise liye", "soomro"),
        ("chandio ne haris ko wapas bheja", "chandio"),
        ("aslam sb ka banda aya", "aslam"),
    ],
)
def test_one_roman_urdu_name_before_ne_or_sahib_is_a_person(text: str, key: str) -> None:
    assert _keys(text, "person") == [key]


@pytest.mark.parametrize(
    "text",
    [
        "sher ne hamla kiya",  # "the lion"
        "khan ne kaha",  # too common to name anyone
        "bhatte ke malik ne kaha",  # "the owner"
        "haji ne kaha",  # a title
        "kamal ne kar diya",  # "wonder"
    ],
)
def test_an_everyday_common_or_title_word_before_ne_is_no_person(text: str) -> None:
    assert _only(text, "person") == []


@pytest.mark.parametrize(
    "text", ["ziarat karne gaye", "haveli mein rakha", "mithi baatein karke le gaya"]
)
def test_roman_urdu_words_that_name_a_place_need_a_cue(text: str) -> None:
    assert _only(text, "district") == []


@pytest.mark.parametrize(
    ("one", "other", "key"),
    [
        ("تھانہ سمن آباد لاہور", "Thana Samanabad Lahore", "samanabad/lahore"),
        ("تھانہ غازی آباد لاہور", "Ghaziabad police station Lahore", "ghaziabad/lahore"),
        ("تھانہ اسلام پورہ لاہور", "Islampura police station, Lahore", "islampura/lahore"),
    ],
)
def test_a_stations_place_ending_written_apart_keys_as_one_word(
    one: str, other: str, key: str
) -> None:
    assert _keys(one, "police_station") == _keys(other, "police_station") == [key]


@pytest.mark.parametrize(
    ("one", "other", "key"),
    [
        (
            "Thana Khanpur, Rahim Yar Khan",
            "تھانہ خان پور رحیم یار خان میں",
            "khanpur/rahim yar khan",
        ),
        ("Thana Islamkot, Tharparkar", "تھانہ اسلام کوٹ تھرپارکر میں", "islamkot/tharparkar"),
    ],
)
def test_towns_stations_key_alike_however_the_ending_is_written(
    one: str, other: str, key: str
) -> None:
    assert _keys(one, "police_station") == _keys(other, "police_station") == [key]


def test_a_word_of_a_listed_station_is_not_that_station_alone() -> None:
    # "خان" of "خان پور" is Khan, not Khanpur: "تھانہ خان" is no "Thana Khanpur"
    assert _keys("تھانہ خان پور رحیم یار خان میں", "police_station") != _keys(
        "تھانہ خان رحیم یار خان میں", "police_station"
    )
