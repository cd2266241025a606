"""A source who says two men bear a name makes every link on it a question.

A probe of session 19, not from any corpus: "There are two ASIs named Gul Zaman at Thana
Pirabad". The sentence read as nothing ("Named" for a rank), so this report's Gul Zaman,
and every other report's ASI Gul Zaman of Pirabad, linked strongly to each other, though
the writer had said there are two of them and nothing tells which a report means.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

GUL = "gul zaman"
TWO_EN = "There are two ASIs named Gul Zaman at Thana Pirabad. The one who took money is tall."
ONE = "At Thana Pirabad, ASI Gul Zaman threatened my father."
AGAIN = "ASI Gul Zaman of Thana Pirabad took Rs 20,000 from us for the boat."


@pytest.mark.parametrize(
    "text",
    [
        TWO_EN,
        "Two constables called Gul Zaman sit at Thana Pirabad.",
        "pirabad thane mein do gul zaman hain, paise wala lamba hai",
        "pirabad thane mein do asi gul zaman hain",
        "thana pirabad mein gul zaman naam ke do asi hain",
        "تھانہ پیرآباد میں دو گل زمان ہیں، پیسے لینے والا لمبا ہے۔",
        "تھانہ پیرآباد میں گل زمان نام کے دو اے ایس آئی ہیں۔",
        "In 2024 a new SHO came to Thana Pirabad, also named Gul Zaman.",
        "The new SHO of Thana Pirabad is also called Gul Zaman.",
        "Another Gul Zaman is now the SHO of Thana Pirabad.",
        "This is not the same Gul Zaman who was SHO in 2021.",
        "The other Gul Zaman, the ASI, is honest.",
        "naya sho bhi gul zaman hai, magar woh dusra banda hai",
        "dusra gul zaman raat ki duty karta hai",
        "ye wo gul zaman nahi jo 2021 me sho tha",
        "نیا ایس ایچ او بھی گل زمان ہے مگر وہ دوسرا آدمی ہے۔",
        "یہ وہ گل زمان نہیں جو ۲۰۲۱ میں ایس ایچ او تھا۔",
        "دوسرا گل زمان رات کی ڈیوٹی کرتا ہے۔",
    ],
)
def test_two_men_of_a_name_are_read(text: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert found.key == GUL
    said = designations.parse(found.designation)
    assert said.two
    assert said.namesake


@pytest.mark.parametrize(
    "text",
    [
        "Thana Pirabad has two ASIs named Gul Zaman and Sher Ali.",  # two men, two names
        "gul zaman ko paise do",  # "give Gul Zaman money"
        "ASI Gul Zaman took two lakh rupees.",
        "The FIR of 18 March 2024 also named Gul Zaman of Pirabad.",  # the verb: listed
        "My father also called Gul Zaman that night.",  # the verb: phoned
    ],
)
def test_two_names_or_a_verb_are_not_two_of_a_name(text: str) -> None:
    people = [e for e in extract(text) if e.kind == "person" and e.key == GUL]
    assert people
    assert not any(designations.parse(e.designation).two for e in people)


def test_the_writers_own_man_joins_no_one() -> None:
    evidence = person_evidence(corpus_of([TWO_EN, ONE]), 1, 2, GUL)
    assert evidence.strength.level == links.WEAK


def test_once_said_two_other_reports_join_only_when_they_tell_which() -> None:
    corpus = corpus_of([TWO_EN, ONE, AGAIN])
    evidence = person_evidence(corpus, 2, 3, GUL)
    assert evidence.strength.level == links.WEAK
    assert (
        "which reports give two men where a report here is set, and it does not say which"
        in evidence.strength.why
    )
    assert not evidence.counts


def test_without_the_sentence_the_two_reports_join() -> None:
    evidence = person_evidence(corpus_of([ONE, AGAIN]), 1, 2, GUL)
    assert evidence.strength.level == links.STRONG


def test_reports_that_both_say_the_senior_still_join() -> None:
    senior = "ASI Gul Zaman Senior of Thana Pirabad took money."
    again = "thana pirabad ke asi gul zaman senior ne paise liye"
    corpus = corpus_of([TWO_EN, senior, again])
    assert person_evidence(corpus, 2, 3, GUL).strength.level == links.STRONG


def test_the_two_part_of_a_designation_round_trips() -> None:
    written = designations.compose("ASI", two=True)
    assert written == "ASI, one of two of this name"
    assert designations.parse(written) == designations.Designation("ASI", True, two=True)


def test_two_men_said_at_one_station_leave_another_stations_links_alone() -> None:
    elsewhere = [t.replace("Pirabad", "Mominabad") for t in (ONE, AGAIN)]
    corpus = corpus_of([TWO_EN, *elsewhere])
    assert person_evidence(corpus, 2, 3, GUL).strength.level == links.STRONG


# From heldout60.txt (session 19's second development set, written blind: men of one full
# name at one station): notes that name both men, and say so before or after naming them.
NOTES = (
    "CAREFUL: Saddar police station, Phalia has had two officers with the identical name."
    "\n(a) SI Ghulam Murtaza: enquiry officer in 2019, retired 2021."
    "\n(b) Inspector Ghulam Murtaza, SHO since January 2024, is pushing a compromise."
)
FILE_NOTE = (
    "1. FIR registered by the SHO, Inspector Mir Zaman Khan, posted at the station since"
    " March 2024.\n2. The present SHO is NOT the Inspector Mir Zaman Khan who was SHO of the"
    " same station in 2021; that officer was transferred to Karak."
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (NOTES, "ghulam murtaza"),
        (FILE_NOTE, "mir zaman khan"),
        (
            "تھانہ ڈومیل: دو ایس ایچ او، ایک نام۔ ۲۰۲۱ والے میر زمان خان نے درخواست نہیں لی۔"
            " موجودہ ایس ایچ او میر زمان خان نے ایف آئی آر کاٹی۔",
            "mir zaman khan",
        ),
        ("یہ وہ پرانے میر زمان خان نہیں جو ۲۰۲۱ میں تھے۔", "mir zaman khan"),
        (
            "تھانہ صدر پھالیہ کے موجودہ ایس ایچ او غلام مرتضیٰ صلح کا دباؤ ڈال رہے ہیں۔ ۲۰۱۹ والا"
            " ایس آئی غلام مرتضیٰ الگ آدمی ہے۔",
            "ghulam murtaza",
        ),
    ],
)
def test_a_report_naming_both_men_says_two_bear_the_name(text: str, key: str) -> None:
    people = [e for e in extract(text) if e.kind == "person" and e.key == key]
    assert people
    assert all(designations.parse(e.designation).two for e in people)


def test_one_man_named_twice_beside_a_warning_is_no_count() -> None:
    # heldout9.txt: the exchange man is "NOT the SHO from Kohat"; "This Gulzar Khan" again
    # is the same man, under no second rank.
    text = (
        "The man called Gulzar Khan who runs the money exchange is NOT the SHO from Kohat,"
        " people confuse them. This Gulzar Khan in Swat does the hawala for the agents."
    )
    people = [e for e in extract(text) if e.kind == "person"]
    assert people
    assert not any(designations.parse(e.designation).two for e in people)


def test_once_a_note_names_both_the_two_shos_reports_join_weakly() -> None:
    earlier = "In 2021 the SHO of Thana Domel, Inspector Mir Zaman Khan, threw away my application."
    later = "Thana Domel ke SHO Mir Zaman Khan ne 2024 me FIR kaati magar driver chhod diya."
    corpus = corpus_of([earlier, later])
    assert person_evidence(corpus, 1, 2, "mir zaman khan").strength.level == links.STRONG
    corpus = corpus_of([earlier, later, FILE_NOTE.replace("the station", "Thana Domel")])
    evidence = person_evidence(corpus, 1, 2, "mir zaman khan")
    assert evidence.strength.level == links.WEAK
    assert not evidence.counts


def test_once_said_two_a_short_form_meets_a_full_name_only_weakly() -> None:
    """Session 20: a report says two ASIs of Pirabad are named Gul Zaman; another's bare "ASI
    Gul Zaman" and a third's "ASI Gul Zaman Marwat" were joined strongly as a short form of
    one name, though either Gul Zaman may be the Marwat."""
    full = "ASI Gul Zaman Marwat of Thana Pirabad beat my brother."
    corpus = corpus_of([TWO_EN, ONE, full])
    evidence = person_evidence(corpus, 2, 3, "gul zaman < gul zaman marwat")
    assert evidence.strength.level == links.WEAK
    assert "which reports give two men where a report here is set" in evidence.strength.why
    assert person_evidence(corpus_of([ONE, full]), 1, 2, "gul zaman < gul zaman marwat").counts
