"""A surname of descent the lists lack that is a listed given name with "i" after it (a nisba:
Karimi, Akrami, کریمی) is keyed as that name and the "i".

The attack (session 43): such a surname was keyed by its consonants alone, so two men of
two names were one: Karimi (of Karim) and Akrami (of Akram), کریمی and اکرمی, were both
`~krm`; Saeedi and Asadi both `~sd`; Hashimi and Waseemi both `~sm`. Two ASIs of one
station so named were one man, linked strongly: one report against each counted as two
witnesses against either. A probe over every listed given name with "i" after it, in
Latin and Urdu letters, found 134 keys shared by two names or more; the name before the
"i" says which name it is (18 shared keys after, most a compound of Allah and "i" that no
one writes, "Saifullahi"). A surname the list holds keeps its spellings together
(Qureshi, Quraishi, قریشی; Gilani, Jilani, گیلانی; Hashmi, Hashimi, ہاشمی).
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

LATIN = "ASI Imran {} of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
URDU = "تھانہ صدر قصور کے اے ایس آئی عمران {} نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "ASI Imran {} of Thana Saddar Kasur beat my brother at the thana."


def _text(name: str, template: str) -> str:
    return (URDU if not name.isascii() else template).format(name)


# Two surnames, each a listed given name and "i", sharing their consonants.
TWO_MEN = [
    ("Karimi", "Akrami"),
    ("Karimi", "Ikrami"),
    ("کریمی", "اکرمی"),
    ("Karimi", "اکرمی"),
    ("Saeedi", "Asadi"),
    ("Shahidi", "Saeedi"),
    ("Hashimi", "Waseemi"),
]


@pytest.mark.parametrize(("a", "b"), TWO_MEN)
def test_nisbas_of_two_listed_names_are_two_men(a: str, b: str) -> None:
    assert_two_people(_text(a, LATIN), _text(b, BEAT))


# One surname in either script, and a listed one's usual spellings: one key, linked strongly.
ONE_MAN = [
    ("Karimi", "کریمی", "imran kareemi"),
    ("Kareemi", "Karimi", "imran kareemi"),
    ("Akrami", "اکرمی", "imran akrami"),
    ("Qureshi", "Quraishi", "imran qureshi"),
    ("Quraishi", "قریشی", "imran qureshi"),
    ("Gilani", "Jilani", "imran gilani"),
    ("Jilani", "گیلانی", "imran gilani"),
    ("Hashmi", "Hashimi", "imran hashmi"),
    ("Hashimi", "ہاشمی", "imran hashmi"),
    ("Qasmi", "Qasimi", "imran qasmi"),
    ("Qasmi", "قاسمی", "imran qasmi"),
]


@pytest.mark.parametrize(("a", "b", "key"), ONE_MAN)
def test_one_surname_written_any_way_is_one_man(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, LATIN), _text(b, BEAT)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG


# A listed name ending in "i", and a tribe in "-oi" (Urdu "-ئی"), keep their keys: no nisba
# is read into them.
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Ali", "imran ali"),
        ("Sami", "imran sami"),
        ("Bukhari", "imran bukhari"),
        ("Kaloi", "imran ~kl"),
        ("کلوئی", "imran ~kl"),
    ],
)
def test_a_listed_name_or_a_tribe_in_oi_keeps_its_key(name: str, key: str) -> None:
    assert person_keys(_text(name, LATIN)) == {key}
