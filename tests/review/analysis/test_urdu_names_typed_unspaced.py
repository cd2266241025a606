"""An Urdu name typed with no space after a letter that joins nothing after it ("محمداکرم") is
keyed as the same name typed with the space ("محمد اکرم").

The attack (session 43): Urdu's د, ر, ز, و (and alif) never join the letter after
them, so "محمداکرم" looks on the screen just as "محمد اکرم" does, and writers leave the
space out as often as not. The extractor read such a run as one word the lists lack and
keyed it by its consonants: "محمداکرم" (Muhammad Akram) and "محمداکرام" (Muhammad Ikram)
were both `~mdkrm`, "نذیراحمد" and "نذیرحامد" both `~nzrmd`. Two ASIs of one station so
named were one man, linked strongly: one report against each counted as two witnesses
against either. And "محمداکرم" met no "Muhammad Akram" in another report.
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

URDU = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے میرے بھائی کو مارا۔"
LATIN = "ASI {} Khosa of Thana Saddar Kasur beat my brother at the thana."


def _text(name: str, template: str) -> str:
    return (URDU if not name.isascii() else template).format(name)


TWO_MEN = [
    ("محمداکرم", "محمداکرام"),
    ("نذیراحمد", "نذیرحامد"),
    ("محمداکرم", "محمد اکرام"),
    ("محمدارشد", "محمدارشاد"),
]


@pytest.mark.parametrize(("a", "b"), TWO_MEN)
def test_unspaced_urdu_names_of_two_listed_names_are_two_men(a: str, b: str) -> None:
    assert_two_people(_text(a, URDU), _text(b, BEAT))


ONE_MAN = [
    ("محمداکرم", "محمد اکرم", "muhammad akram khosa"),
    ("محمداکرم", "Muhammad Akram", "muhammad akram khosa"),
    ("نذیراحمد", "Nazir Ahmed", "nazir ahmed khosa"),
    ("اللہ دتہ", "اللہ دتہ", "allah ditta khosa"),
]


@pytest.mark.parametrize(("a", "b", "key"), ONE_MAN)
def test_one_name_typed_with_or_without_its_space_is_one_man(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, URDU), _text(b, BEAT if not b.isascii() else LATIN)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG


# A listed name, or a compound the lists read, is left whole.
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ذوالفقار", "zulfiqar khosa"),
        ("نصراللہ", "nasrullah khosa"),
        ("عبدالستار", "abdul sattar khosa"),
    ],
)
def test_a_listed_or_compound_urdu_name_is_not_split(name: str, key: str) -> None:
    assert person_keys(_text(name, URDU)) == {key}
