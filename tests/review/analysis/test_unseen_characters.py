"""Characters a reader cannot see, and letters of other scripts that look like Latin ones,
neither split nor force a link: a name is keyed as it reads."""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_link, shared_link

PLAIN = "ASI Tariq Mehmood of Thana Saddar Kasur took the girls to the kiln at night."
URDU = "تھانہ صدر قصور کے اے ایس آئی طارق محمود نے لڑکیاں بھٹے پر پہنچا دیں۔"

# Default-ignorable characters (Unicode's DerivedCoreProperties.txt): nothing on a screen.
UNSEEN = {
    "zero width space": "\u200b",
    "soft hyphen": "\u00ad",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "combining grapheme joiner": "\u034f",
    "variation selector": "\ufe0f",
    "arabic letter mark": "\u061c",
    "left-to-right mark": "\u200e",
    "mongolian vowel separator": "\u180e",
    "invisible separator": "\u2063",
    "hangul filler": "\u3164",
}
# The same name with Cyrillic or Greek letters that look like the Latin ones
# (Unicode's confusables.txt): "Tariq Mehmood" to a reader.
LOOKALIKE = {
    "cyrillic a, e, o": "T\u0430riq M\u0435hm\u043eod",
    "cyrillic capital T, M": "\u0422ariq \u041cehmood",
    "greek omicrons": "Tariq Mehm\u03bf\u03bfd",
    "greek capitals": "\u03a4ariq \u039cehmood",
    "cyrillic i, j-less": "Tar\u0456q Mehmood",
}


@pytest.mark.parametrize("unseen", UNSEEN.values(), ids=UNSEEN.keys())
def test_an_unseen_character_in_a_name_does_not_split_its_link(unseen: str) -> None:
    for plain, name in ((PLAIN, "Tariq Mehmood"), (URDU, "طارق محمود")):
        hidden = plain.replace(name, name[:3] + unseen + name[3:-2] + unseen + name[-2:])
        # The attack: the same officer, read the same, keyed as another man ("~tr").
        key, strength = person_link(plain, hidden)
        assert key == "tariq mehmood"
        assert strength.level == links.STRONG


@pytest.mark.parametrize("name", LOOKALIKE.values(), ids=LOOKALIKE.keys())
def test_a_lookalike_letter_in_a_name_does_not_split_its_link(name: str) -> None:
    key, strength = person_link(PLAIN, PLAIN.replace("Tariq Mehmood", name))
    assert key == "tariq mehmood"
    assert strength.level == links.STRONG


def test_an_unseen_character_in_a_station_does_not_split_its_link() -> None:
    hidden = PLAIN.replace("Saddar", "Sad\u200bdar").replace("Kasur", "K\u0430sur")
    key, strength = shared_link(PLAIN, hidden, "police_station")
    assert (key, strength.level) == ("saddar/kasur", links.STRONG)


def test_an_unseen_character_in_a_number_does_not_hide_it() -> None:
    text = "Agent Noor Muhammad's phone is 0301-765\u200b4321 and his CNIC 35102-12345\u206067-1."
    found = {(e.kind, e.key) for e in extract(text)}
    assert {("phone", "+923017654321"), ("cnic", "35102-1234567-1")} <= found


def test_the_writers_own_number_with_an_unseen_character_is_still_one_writer() -> None:
    first = f"{PLAIN} My number is 0301-7654321, call after dark."
    again = (
        "Maine pehle bhi likha tha. Thana Saddar Kasur ke ASI Tariq Mehmood ne do larkiyan "
        "bhatta malik ko wapas kar di. Mera number 0301\u200b7654321 hai."
    )
    corpus = corpus_of([first, again])
    # The attack: one writer, two codenames, two sources of the ASI.
    assert corpus.source_group(2) == corpus.source_group(1), "one writer counted as two"


# A record's father, written with the Urdu mark for "son of" as another keyboard or a
# hostile hand types it: a tatweel, a joiner, harakat, Arabic letters for Urdu ones.
FATHER = "تھانہ صدر قصور کے اے ایس آئی محمد اقبال ولد {father} نے لڑکیاں بھٹے پر پہنچا دیں۔"
SON_OF = {
    "tatweel": "ولـد",
    "zero width non-joiner": "و\u200cلد",
    "harakat": "وَلَد",
    "zero width space": "ول\u200bد",
}


# Slashes of other blocks that look like "/" in "s/o" (confusables.txt).
SLASHES = {
    "fraction slash": "\u2044",
    "division slash": "\u2215",
    "big solidus": "\u29f8",
    "box drawing diagonal": "\u2571",
}
SON_OF_WRITTEN = "Constable Muhammad Iqbal s/o {father} of Thana Domel, Bannu, {did}."
DISGUISED_PARENTAGE = {
    **{
        name: (FATHER.format(father="گل خان"), FATHER.format(father="شیر خان").replace("ولد", mark))
        for name, mark in SON_OF.items()
    },
    **{
        name: (
            SON_OF_WRITTEN.format(father="Gul Khan", did="takes money from agents"),
            SON_OF_WRITTEN.format(father="Sher Ali", did="helped us").replace("/", slash),
        )
        for name, slash in SLASHES.items()
    },
}


@pytest.mark.parametrize("pair", DISGUISED_PARENTAGE.values(), ids=DISGUISED_PARENTAGE.keys())
def test_a_disguised_mark_of_parentage_still_tells_two_fathers_apart(
    pair: tuple[str, str],
) -> None:
    _, strength = person_link(*pair, "muhammad iqbal")
    # The attack: the father not read, two of one name and post but different fathers one
    # man, strongly.
    assert strength.level == links.WEAK, strength.why
    assert "different fathers" in strength.why


# The writer's own number, given with the Urdu words typed on an Arabic keyboard (Arabic
# yeh, kaf and heh for the Urdu letters) or with a tatweel or a joiner inside them.
OWN_URDU = {
    "arabic yeh": "ميرا نمبر ۰۳۰۱۷۶۵۴۳۲۱ ہے",
    "arabic heh": "میرا نمبر ۰۳۰۱۷۶۵۴۳۲۱ هے",
    "tatweel": "میـرا نمبر ۰۳۰۱۷۶۵۴۳۲۱ ہے",
    "zero width joiner": "میرا نم\u200dبر ۰۳۰۱۷۶۵۴۳۲۱ ہے",
    "arabic kaf": "مجھ سے اس نمبر پر رابطہ كریں ۰۳۰۱۷۶۵۴۳۲۱",
}


@pytest.mark.parametrize("own", OWN_URDU.values(), ids=OWN_URDU.keys())
def test_the_writers_own_number_in_urdu_typed_otherwise_is_still_one_writer(own: str) -> None:
    first = (
        "میں تھانہ صدر قصور میں کانسٹیبل ہوں۔ ایس ایچ او رانا طارق محمود بھٹہ مالک سے ہر ماہ "
        "بیس ہزار لیتا ہے۔ میرا نمبر ۰۳۰۱۷۶۵۴۳۲۱ ہے"
    )
    again = (
        "Maine pehle bhi likha tha. Thana Saddar Kasur ke SHO Rana Tariq Mehmood ne do "
        f"larkiyan wapas kar di. {own}"
    )
    corpus = corpus_of([first, again])
    # The attack: one writer, two codenames, counted as two sources of the SHO.
    assert corpus.source_group(2) == corpus.source_group(1), "one writer counted as two"


def test_a_disguised_home_still_places_the_man() -> None:
    plain = "تھانہ صدر قصور کے اے ایس آئی طارق محمود نے لڑکیاں لیں۔"
    arabic = plain.replace("کے", "كے")  # an Arabic kaf in the Urdu "of"
    designations = [e.designation for e in extract(arabic) if e.kind == "person"]
    # The attack: the ASI's post lost, so he met another station's ASI of his name.
    assert designations == ["ASI, of kasur, posted at saddar/kasur"]


# Hyphens of other blocks that look like "-" (confusables.txt).
@pytest.mark.parametrize("dash", ["\u2043", "\u02d7", "\u2796"])
def test_a_lookalike_hyphen_in_a_number_does_not_hide_it(dash: str) -> None:
    text = f"Agent Noor Muhammad's phone is 0301{dash}7654321, CNIC 35102{dash}1234567{dash}1."
    found = {(e.kind, e.key) for e in extract(text)}
    assert {("phone", "+923017654321"), ("cnic", "35102-1234567-1")} <= found


def test_an_izafat_heh_in_a_name_does_not_split_its_link() -> None:
    plain = "تھانہ صدر قصور کی لیڈی کانسٹیبل طاہرہ بانو نے لڑکیاں لیں۔"
    key, strength = person_link(plain, plain.replace("طاہرہ", "طاہر\u06c2"))
    assert (key, strength.level) == ("tahira bano", links.STRONG)


# A name of Khyber Pakhtunkhwa typed on a Pashto keyboard: its letters for Urdu's.
PASHTO = [
    ("ڈوگر خان", "\u0689وگر خان", "dogar khan"),  # dal with ring
    ("ٹیپو سلطان", "\u067cیپو سلطان", "tipu sultan"),  # teh with ring
    ("شیر علی", "ش\u06d0ر علی", "sher ali"),  # yeh with two dots below
    ("گل زمان", "\u06abل زمان", "gul zaman"),  # kaf with ring
]


@pytest.mark.parametrize(("urdu", "pashto", "key"), PASHTO)
def test_a_pashto_letter_for_the_urdu_one_does_not_split_a_link(
    urdu: str, pashto: str, key: str
) -> None:
    text = "تھانہ ڈومیل بنوں کے اے ایس آئی {name} نے پیسے لیے۔"
    # The attack: the same ASI of Domel, typed on another keyboard, no link at all.
    assert person_link(text.format(name=urdu), text.format(name=pashto))[0] == key


def test_a_blank_that_is_no_space_still_parts_a_names_words() -> None:
    blank = PLAIN.replace("Tariq Mehmood", "Tariq\u2800Mehmood")  # braille pattern blank
    # The attack: "Tariq" and "Mehmood" two men, the ASI's full name keyed nowhere.
    _, strength = person_link(PLAIN, blank, "tariq mehmood")
    assert strength.level == links.STRONG
