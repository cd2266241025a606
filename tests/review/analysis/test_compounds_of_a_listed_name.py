"""A compound of Allah or of the faith, or a clan's name, whose first half is a listed name is
keyed as that name.

The attack (session 42): a compound the names list lacks ("Akram Ullah", "Ahmadullah",
"جمال الدین") was matched by its form or its sound, so it took the key of the listed
compound nearest it or of its consonants. "Akram Ullah" was the listed "Ikramullah" (اکرم
and اکرام are two names); "Ahmad Ullah" and "Imdad Ullah" were one `~mdla`; "Jamal ud Din"
and "Jamil ud Din" (جمال, جمیل) one `~jmldn`. Two ASIs of one station so named were one
man, linked strongly: one report against each counted as two witnesses against either.
So were clans: "Umarzai" and "Amirzai" one `~mrz`, "Hassanzai" and "Hussainzai" one
`~snz`, "Ahmadkhel" and "Hamidkhel" one `~mdkl`. A probe over every listed given name as
the first half found 210 such keys shared by two names or more with "Ullah", 202 with "ud
Din" and 412 with "zai"; 5, 3 and 11 remain, each a title ("Baba Ullah"), a name a clan's
is listed as, or a compound the list itself spells two ways ("Naseerullah | Nasirullah").
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import (
    assert_two_people,
    corpus_of,
    person_evidence,
    person_keys,
)

LATIN = "ASI {} Khosa of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
URDU = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "ASI {} Khosa of Thana Saddar Kasur beat my brother at the thana."


# Two names a letter apart, each with the same ending; neither compound is listed but one.
TWO_MEN = [
    ("Akram Ullah", "Ikram Ullah"),
    ("Akramullah", "Ikramullah"),
    ("اکرم اللہ", "اکرام اللہ"),
    ("Akram Ullah", "اکرام اللہ"),
    ("Ahmad Ullah", "Imdad Ullah"),
    ("احمد اللہ", "امداد اللہ"),
    ("Hamid Ullah", "Ahmad Ullah"),
    ("Asad Ullah", "Saad Ullah"),
    ("Jamal ud Din", "Jamil ud Din"),
    ("جمال الدین", "جمیل الدین"),
    ("Jamaluddin", "جمیل الدین"),
    ("Nasiruddin", "Naseeruddin"),
]


def _text(name: str, template: str) -> str:
    return (URDU if not name.isascii() else template).format(name)


@pytest.mark.parametrize(("a", "b"), TWO_MEN)
def test_compounds_of_two_listed_names_are_two_men(a: str, b: str) -> None:
    assert_two_people(_text(a, LATIN), _text(b, BEAT))


# One man's name written apart, joined, in either script: one key, linked strongly.
ONE_MAN = [
    ("Akram Ullah", "Akramullah", "akramullah khosa"),
    ("Akram Ullah", "اکرم اللہ", "akramullah khosa"),
    ("Akramullah", "اکرماللہ", "akramullah khosa"),
    ("Ahmad Ullah", "احمد اللہ", "ahmedullah khosa"),
    ("Jamal ud Din", "جمال الدین", "jamaluddin khosa"),
    ("Jamaluddin", "جمالالدین", "jamaluddin khosa"),
    ("Jamal-ud-Din", "Jamaluddin", "jamaluddin khosa"),
]


@pytest.mark.parametrize(("a", "b", "key"), ONE_MAN)
def test_one_compound_written_any_way_is_one_man(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, LATIN), _text(b, BEAT)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG


# A spelling of a compound the list holds keeps the listed compound's key, whichever
# spelling its first half takes (the list's own words, not the first half's key).
LISTED = [
    ("Ikram Ullah", "ikramullah khosa"),
    ("Rehmat Ullah", "rahmatullah khosa"),
    ("Ubaid Ullah", "obaidullah khosa"),
    ("Habeeb Ulla", "habibullah khosa"),
    ("Sana Ullah", "sanaullah khosa"),
    ("نصیب اللہ", "naseebullah khosa"),
]


@pytest.mark.parametrize(("name", "key"), LISTED)
def test_a_listed_compound_keeps_its_key(name: str, key: str) -> None:
    assert person_keys(_text(name, LATIN)) == {key}


CLAN = "SHO Imran {} of Thana Saddar Bannu took Rs 50,000 from the family."
CLAN_UR = "تھانہ صدر بنوں کے ایس ایچ او عمران {} نے خاندان سے پیسے لیے۔"


@pytest.mark.parametrize(
    ("a", "b"),
    [("Umarzai", "Amirzai"), ("Hassanzai", "Hussainzai"), ("Ahmadkhel", "Hamidkhel")],
)
def test_clans_of_two_listed_names_are_two(a: str, b: str) -> None:
    assert_two_people(CLAN.format(a), CLAN.format(b).replace("took", "took again"))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (CLAN.format("Omarzai"), CLAN.format("Umarzai")),
        (CLAN.format("Umarzai"), CLAN_UR.format("عمر زئی")),
    ],
)
def test_one_clan_written_any_way_is_one(a: str, b: str) -> None:
    assert person_keys(a) == person_keys(b) == {"imran umarzai"}
