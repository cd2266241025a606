"""A name the lists lack that has a listed name's consonants but not its vowels is not that name.

The attack (session 43): a word the lists lack whose consonants are one listed name's was
keyed as that name, whatever vowels it wrote. "Kashaf" (کشف, a woman's name) was the
listed Kashif (کاشف), and so was "کشف" in Urdu letters; "ظافر" (Zafir) was Zafar (ظفر).
A lady ASI Kashaf Khosa and an ASI Kashif Khosa of one station were one person, linked
strongly: one report against each counted as two witnesses against either.

Urdu writes a name's long vowels (alif, vav, ye), so an Urdu word whose written vowels no
Latin spelling of the listed name fits, or that writes more of them than its Urdu spellings
do, keeps a key of its own (as `_by_vowels` already held where two names share the
consonants). Fewer is allowed, as writers drop one ("چھٹو" for "چھوٹو", Chhotu: held-out
corpus 34), and Latin letters do not say which vowels are long, while Roman spellings of
one name differ in them ("Bisharat", "Basharat"; "Ehtesham", "Ehtisham"): Kashaf, in
either script, is told apart by the names list holding it.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import (
    assert_two_people,
    corpus_of,
    person_evidence,
)

LATIN = "ASI {} Khosa of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
URDU = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "ASI {} Khosa of Thana Saddar Kasur beat my brother at the thana."


def _text(name: str, template: str) -> str:
    return (URDU if not name.isascii() else template).format(name)


TWO_PEOPLE = [
    ("Kashaf", "Kashif"),
    ("کشف", "کاشف"),
    ("Kashaf", "کاشف"),
    ("کشف", "Kashif"),
    ("ظافر", "ظفر"),
    ("ظافر", "Zafar"),
]


@pytest.mark.parametrize(("a", "b"), TWO_PEOPLE)
def test_a_name_with_another_names_consonants_is_another_person(a: str, b: str) -> None:
    assert_two_people(_text(a, LATIN), _text(b, BEAT))


# One name written any way the lists know: one key, linked strongly.
ONE_PERSON = [
    ("Kashaf", "کشف", "kashaf khosa"),
    ("Kashif", "کاشف", "kashif khosa"),
    ("Zafar", "ظفر", "zafar khosa"),
    ("Bisharat", "Basharat", "basharat khosa"),
    ("Ehtesham", "احتشام", "ehtisham khosa"),
]


@pytest.mark.parametrize(("a", "b", "key"), ONE_PERSON)
def test_one_name_written_any_way_is_one_person(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, LATIN), _text(b, BEAT)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG
