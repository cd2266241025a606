"""Namesakes a record tells apart: by the father's name, and by where the man resides.

Found by probing the ground of the held-out corpora still counting false links (Bannu to
Tank), session 18, with reports written for the probe, not read from any corpus:

- Pakistani records name a man by his father ("Constable Muhammad Iqbal s/o Gul Khan",
  "محمد اقبال ولد شیر علی", "muhammad iqbal walad gul khan", "Gul Khan's son, Constable
  Muhammad Iqbal"), precisely because the name alone does not tell namesakes apart. Two
  constables of one name and one police station, sons of different fathers, linked
  strongly on the name: the father was found as a person, and nothing was kept of whose
  son the constable was.
- A record's residence ("Agent Noor Muhammad resident of Pezu", "r/o Serai Naurang",
  "سکنہ پیزو", "sakna serai naurang", "pezu ka rehaishi noor muhammad") placed no one, so
  the two agents of session 17's Lakki Marwat towns linked again once written this way.
- "کانسٹیبل محمد اقبال تھانہ ڈومیل میں" keyed a station "Muhammad Iqbal" of Domel (both words
  are words of stations' names too: Gulshan-e-Iqbal) and lost the constable.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence, person_link

IQBAL = "muhammad iqbal"
SON_OF_GUL_KHAN = {
    "en": "Constable Muhammad Iqbal s/o Gul Khan of Thana Domel, Bannu, takes money from agents.",
    "ru": "thana domel bannu ka constable muhammad iqbal walad gul khan agenton se paise leta hai.",
    "ur": "گل خان کا بیٹا کانسٹیبل محمد اقبال تھانہ ڈومیل بنوں میں ایجنٹوں سے پیسے لیتا ہے۔",
}
SON_OF_SHER_ALI = {
    "en": "Constable Muhammad Iqbal son of Sher Ali, Thana Domel Bannu, helped us file the FIR.",
    "ru": "sher ali ka beta constable muhammad iqbal thana domel bannu mein madad karta tha.",
    "ur": "کانسٹیبل محمد اقبال ولد شیر علی تھانہ ڈومیل بنوں نے ایف آئی آر لکھنے میں مدد کی۔",
}


def _person(text: str, key: str) -> designations.Designation:
    (found,) = {e.designation for e in extract(text) if e.kind == "person" and e.key == key}
    return designations.parse(found)


@pytest.mark.parametrize(
    ("text", "kin_of"),
    [
        *((t, "s/o gul khan") for t in SON_OF_GUL_KHAN.values()),
        *((t, "s/o sher ali") for t in SON_OF_SHER_ALI.values()),
        ("Gul Khan's son, Constable Muhammad Iqbal, took it.", "s/o gul khan"),
        ("Constable Muhammad Iqbal (s/o Gul Khan) took it.", None),  # no record's shape
    ],
)
def test_a_record_says_whose_son_the_man_is(text: str, kin_of: str | None) -> None:
    said = _person(text, IQBAL)
    assert said.kin_of == kin_of
    assert said.rank == "Constable"


@pytest.mark.parametrize(
    ("text", "key", "kin_of"),
    [
        ("Razia d/o Allah Ditta was sold to a kiln at Pezu.", "razia", "d/o allah ditta"),
        ("رضیہ زوجہ محمد اسلم کو بھٹے پر بیچا گیا۔", "razia", "w/o muhammad aslam"),
        ("sher ali ki beti razia ko bhatte par becha.", "razia", "d/o sher ali"),
    ],
)
def test_a_daughter_and_a_wife_are_told_by_father_and_husband(
    text: str, key: str, kin_of: str
) -> None:
    assert _person(text, key).kin_of == kin_of


def test_only_the_mans_own_rank_stands_between_the_father_and_his_name() -> None:
    # Gul Khan's son saw the SHO: the SHO is not the son.
    said = _person("Gul Khan's son saw SHO Qayyum Khan at the thana.", "qayyum khan")
    assert said == designations.Designation("SHO")
    said = _person("Gul Khan's son, SHO Qayyum Khan, took the money.", "qayyum khan")
    assert said.kin_of == "s/o gul khan"


def test_the_kin_part_of_a_designation_round_trips() -> None:
    written = designations.compose("Constable", home="bannu", kin_of="s/o gul khan")
    assert written == "Constable, of bannu, s/o gul khan"
    assert designations.parse(written) == designations.Designation(
        "Constable", False, "bannu", "s/o gul khan"
    )
    assert links.ranked(written)
    assert not links.roles_conflict({written}, {"Constable"})


@pytest.mark.parametrize("a", SON_OF_GUL_KHAN)
@pytest.mark.parametrize("b", SON_OF_SHER_ALI)
def test_sons_of_different_fathers_at_one_station_link_weak(a: str, b: str) -> None:
    key, strength = person_link(SON_OF_GUL_KHAN[a], SON_OF_SHER_ALI[b], IQBAL)
    assert key == IQBAL
    assert strength.level == links.WEAK
    assert "different fathers" in strength.why


@pytest.mark.parametrize(
    "other",
    [
        "Constable Muhammad Iqbal s/o Gul Khan, Thana Domel Bannu, was seen at the bus stand.",
        "Constable Muhammad Iqbal s/o Haji Gul Khan, Thana Domel Bannu, took Rs 5,000.",
        "کانسٹیبل محمد اقبال ولد گل خان تھانہ ڈومیل بنوں نے پانچ ہزار لیے۔",
    ],
)
def test_one_father_in_two_reports_still_links_strong(other: str) -> None:
    key, strength = person_link(SON_OF_GUL_KHAN["en"], other, IQBAL)
    assert key == IQBAL
    assert strength.level == links.STRONG


def test_a_daughter_and_a_son_of_one_name_are_two_people() -> None:
    a = "Munshi Sabir Hussain d/o Ghulam Nabi keeps the kiln register at Pezu."
    b = "Munshi Sabir Hussain s/o Ghulam Nabi keeps the kiln register at Pezu."
    assert person_link(a, b, "sabir hussain")[1].level == links.WEAK
    # A woman's father and her husband say nothing of each other.
    c = "Agent Nasreen Akhtar d/o Ghulam Nabi of Pezu sends girls to Dubai."
    d = "Agent Nasreen Akhtar w/o Abdul Qadir of Pezu sends girls to Dubai."
    assert person_link(c, d, "nasreen akhtar")[1].level == links.STRONG


@pytest.mark.parametrize(
    ("child", "wife"),
    [
        ("d/o", "w/o"),
        ("daughter of", "wife of"),
        ("s/o", "widow of"),
    ],
)
def test_a_mans_daughter_and_his_wife_of_one_name_are_two_women(child: str, wife: str) -> None:
    a = f"Agent Nasreen Akhtar {child} Ghulam Nabi of Pezu sends girls to Dubai."
    b = f"Agent Nasreen Akhtar {wife} Ghulam Nabi of Pezu keeps the girls at her house."
    strength = person_link(a, b, "nasreen akhtar")[1]
    # The attack: Ghulam Nabi's daughter and his wife, both Nasreen Akhtar, one woman.
    assert strength.level == links.WEAK, "a daughter and a wife of one man linked as one woman"
    assert "as its father, the other as its husband" in strength.why


def test_a_mans_daughter_and_his_wife_in_urdu_are_two_women() -> None:
    a = "پیزو کی ایجنٹ نسرین اختر بنت غلام نبی لڑکیاں دبئی بھیجتی ہے۔"
    b = "پیزو کی ایجنٹ نسرین اختر زوجہ غلام نبی لڑکیاں دبئی بھیجتی ہے۔"
    assert person_link(a, b, "nasreen akhtar")[1].level == links.WEAK


def test_once_two_fathers_are_known_a_report_naming_none_joins_neither() -> None:
    # Reports 1 and 2 give the constable different fathers; report 3 names the constable of
    # the same station with no father: he may be either man.
    bare = "At Thana Domel Bannu constable Muhammad Iqbal refused to register our case."
    corpus = corpus_of([SON_OF_GUL_KHAN["en"], SON_OF_SHER_ALI["ur"], bare])
    assert person_evidence(corpus, 1, 2, IQBAL).strength.level == links.WEAK
    for other in (1, 2):
        evidence = person_evidence(corpus, 3, other, IQBAL)
        assert evidence.strength.level == links.WEAK
        assert (
            "men of different fathers, and a report here names no father" in evidence.strength.why
        )
        assert not evidence.counts


def test_a_single_father_known_leaves_a_fatherless_report_linked() -> None:
    bare = "At Thana Domel Bannu constable Muhammad Iqbal refused to register our case."
    corpus = corpus_of([SON_OF_GUL_KHAN["en"], bare])
    evidence = person_evidence(corpus, 1, 2, IQBAL)
    assert evidence.strength.level == links.STRONG
    assert evidence.counts


NOOR = "noor muhammad"
PEZU = (
    "Agent Noor Muhammad resident of Pezu takes boys to Karachi.",
    "ایجنٹ نور محمد سکنہ پیزو لڑکوں کو کراچی لے جاتا ہے۔",
    "pezu ka rehaishi noor muhammad larkon ko karachi le jata hai.",
    "Agent Noor Muhammad s/o Gul Khan r/o village Pezu, Lakki Marwat, took my son.",
)
NAURANG = (
    "Agent Noor Muhammad r/o Serai Naurang took my son to Karachi.",
    "agent noor muhammad sakna serai naurang ne mera beta karachi bech diya.",
    "سرائے نورنگ کے رہنے والے نور محمد نے میرا بیٹا کراچی بیچ دیا۔",
    "Noor Muhammad, a native of Serai Naurang, sold my son in Karachi.",
)


@pytest.mark.parametrize(
    ("text", "home"), [*((t, "pezu") for t in PEZU), *((t, "naurang") for t in NAURANG)]
)
def test_a_records_residence_places_the_man(text: str, home: str) -> None:
    assert _person(text, NOOR).home == home


@pytest.mark.parametrize("a", PEZU)
@pytest.mark.parametrize("b", NAURANG)
def test_residents_of_two_towns_of_one_district_link_weak(a: str, b: str) -> None:
    key, strength = person_link(a, b)
    assert key == NOOR
    assert strength.level == links.WEAK


def test_residents_of_one_town_still_link_strong() -> None:
    key, strength = person_link(PEZU[0], PEZU[1])
    assert key == NOOR
    assert strength.level == links.STRONG


@pytest.mark.parametrize(
    ("text", "person", "station"),
    [
        ("کانسٹیبل محمد اقبال تھانہ ڈومیل بنوں میں ہے۔", IQBAL, "domel/bannu"),
        ("محمد اقبال ولد شیر علی تھانہ ڈومیل میں ہے۔", "sher ali", "domel/bannu"),
    ],
)
def test_a_mans_name_before_a_towns_station_is_his(text: str, person: str, station: str) -> None:
    found = extract(text)
    assert person in {e.key for e in found if e.kind == "person"}
    assert [e.key for e in found if e.kind == "police_station"] == [station]


def test_a_stations_own_name_before_its_keyword_and_town_is_still_the_stations() -> None:
    # "سٹی تھانہ تربت": Turbat's City station, as before.
    found = extract("سٹی تھانہ تربت کے ایس ایچ او نے پیسے لیے۔")
    assert [e.key for e in found if e.kind == "police_station"] == ["city/turbat"]


# A record gives the man's rank after his father's name: "Naveed Akhtar s/o Tariq Mehmood,
# ASI of Thana Saddar Kasur" is the son's post. Read as the father's, the father (no ASI at
# all) linked strongly to another report's ASI Tariq Mehmood of that station.
RANK_AFTER_FATHER = (
    "Naveed Akhtar s/o Tariq Mehmood, ASI of Thana Saddar Kasur, took money from the kiln owner.",
    "Naveed Akhtar son of Tariq Mehmood, ASI at Thana Saddar Kasur, took money from the kilns.",
    "نوید اختر ولد طارق محمود، اے ایس آئی تھانہ صدر قصور، نے بھٹہ مالک سے پیسے لیے۔",
)


@pytest.mark.parametrize("text", RANK_AFTER_FATHER)
def test_a_rank_after_the_fathers_name_is_the_sons(text: str) -> None:
    assert _person(text, "naveed akhtar").rank == "ASI"
    assert _person(text, "tariq mehmood").rank == ""


@pytest.mark.parametrize("text", RANK_AFTER_FATHER)
def test_a_father_does_not_corroborate_an_officer_of_his_name(text: str) -> None:
    other = "ASI Tariq Mehmood of Thana Saddar Kasur beat the kiln labourers and took a bribe."
    if not text.isascii():
        other = "اے ایس آئی طارق محمود تھانہ صدر قصور نے مزدوروں کو مارا اور رشوت لی۔"
    corpus = corpus_of([text, other])
    assert person_evidence(corpus, 1, 2, "tariq mehmood").strength.level == links.WEAK


@pytest.mark.parametrize(
    ("written", "kin_of"),
    [
        # Marks a record writes that were read as nothing: the two constables, sons of
        # different fathers, linked strongly on their name.
        ("Constable Muhammad Iqbal bin Sher Ali of Thana Domel, Bannu, took it.", "s/o sher ali"),
        ("Constable Muhammad Iqbal ibn Sher Ali of Thana Domel, Bannu, took it.", "s/o sher ali"),
        ("Constable Muhammad Iqbal s.o Sher Ali of Thana Domel, Bannu, took it.", "s/o sher ali"),
        ("کانسٹیبل محمد اقبال بن شیر علی تھانہ ڈومیل بنوں نے پیسے لیے۔", "s/o sher ali"),
        ("کانسٹیبل محمد اقبال پسر شیر علی تھانہ ڈومیل بنوں نے پیسے لیے۔", "s/o sher ali"),
        ("کانسٹیبل محمد اقبال ابن شیر علی تھانہ ڈومیل بنوں نے پیسے لیے۔", "s/o sher ali"),
    ],
)
def test_every_mark_of_a_father_tells_sons_apart(written: str, kin_of: str) -> None:
    assert _person(written, IQBAL).kin_of == kin_of
    _, strength = person_link(SON_OF_GUL_KHAN["en"], written, IQBAL)
    assert strength.level == links.WEAK, "sons of two fathers linked strongly"
    assert "different fathers" in strength.why


@pytest.mark.parametrize(
    ("written", "kin_of"),
    [
        ("Nasreen Akhtar d.o Abdul Qadir was sold in Pezu.", "d/o abdul qadir"),
        ("نسرین اختر دختر عبدالقادر کو پیزو میں بیچا گیا", "d/o abdul qadir"),
        ("Nasreen Akhtar w.o Abdul Qadir was sold in Pezu.", "w/o abdul qadir"),
        ("نسرین اختر اہلیہ عبدالقادر کو پیزو میں بیچا گیا", "w/o abdul qadir"),
    ],
)
def test_a_daughters_and_a_wifes_other_marks(written: str, kin_of: str) -> None:
    (found,) = {e.designation for e in extract(written) if e.key == "nasreen akhtar"}
    assert designations.parse(found).kin_of == kin_of
