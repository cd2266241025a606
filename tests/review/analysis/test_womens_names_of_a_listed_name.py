"""A woman's name the lists lack that is a listed name with the vowel "a" after it is keyed
as that name and the vowel.

The attack (session 42): such a name ("Ameera", "Ammara", "امیرہ", "عمارہ") was keyed by
its consonants and the open "a" (`OPEN_A`) alone, so two women of two names were one:
Ameera (امیرہ, of Amir) and Ammara (عمارہ, of Ammar) were both `~mra`; Karima (of Karim)
and Ikrama (of Ikram) both `~krma`; Shamima (of Shamim) and Hashima (of Hashim) both
`~sma`. Two lady ASIs of one station so named were one woman, linked strongly: one
report against each counted as two witnesses against either. A probe over every listed
given name with "a" after it found 245 keys shared by two names or more; its first half,
a listed name, says which name it is.
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
URDU = "تھانہ صدر قصور کی اے ایس آئی {} کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "ASI {} Khosa of Thana Saddar Kasur beat my sister at the thana."


def _text(name: str, template: str) -> str:
    return (URDU if not name.isascii() else template).format(name)


# Two women's names, each a listed name and "a", sharing their consonants.
TWO_WOMEN = [
    ("Ameera", "Ammara"),
    ("امیرہ", "عمارہ"),
    ("Ameera", "عمارہ"),
    ("Karima", "Ikrama"),
    ("Shamima", "Hashima"),
]


@pytest.mark.parametrize(("a", "b"), TWO_WOMEN)
def test_womens_names_of_two_listed_names_are_two_women(a: str, b: str) -> None:
    assert_two_people(_text(a, LATIN), _text(b, BEAT))


# One woman's name in either script, and with the "h" Latin may end it with: one key,
# linked strongly.
ONE_WOMAN = [
    ("Ameera", "Amira", "amira khosa"),
    ("Ameera", "امیرہ", "amira khosa"),
    ("Ameerah", "Amira", "amira khosa"),
    ("Ammara", "عمارہ", "ammara khosa"),
    ("Karima", "Kareema", "kareema khosa"),
    ("Kareema", "کریمہ", "kareema khosa"),
]


@pytest.mark.parametrize(("a", "b", "key"), ONE_WOMAN)
def test_one_womans_name_written_any_way_is_one_woman(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, LATIN), _text(b, BEAT)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG


# A man's name stays the man's, and a listed woman's name keeps its key.
@pytest.mark.parametrize(
    ("name", "key"),
    [("Amir", "amir khosa"), ("Saleema", "saleema khosa"), ("Sadia", "sadia khosa")],
)
def test_a_listed_name_keeps_its_key(name: str, key: str) -> None:
    assert person_keys(_text(name, LATIN)) == {key}
