"""Two names that the names list held on one line, as spellings of one, are two names.

The attack (session 42): the list's line "Sami | Sameer | سمیع" made Sameer (سمیر) a
spelling of Sami (سمیع): "ASI Sameer Khosa" and "ASI Sami Khosa" of one station were one
man, linked strongly, and so, once a woman's name of a listed name and "a" was keyed by
that name, were Samira (سمیرہ, of Sameer) and Samia (سامیہ, of Sami). Urdu writes the two
names with two letters apart (ع, ر); Latin letters apart too.
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


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sameer", "Sami"),
        ("Samir", "Sami"),
        ("سمیر", "سمیع"),
        ("Sameer", "سمیع"),
        ("Samira", "Samia"),
    ],
)
def test_two_names_the_list_held_as_one_are_two(a: str, b: str) -> None:
    assert_two_people(_text(a, LATIN), _text(b, BEAT))


@pytest.mark.parametrize(
    ("a", "b", "key"),
    [
        ("Sameer", "سمیر", "sameer khosa"),
        ("Samir", "Sameer", "sameer khosa"),
        ("Sami", "سمیع", "sami khosa"),
    ],
)
def test_each_name_written_either_way_is_one_man(a: str, b: str, key: str) -> None:
    corpus = corpus_of([_text(a, LATIN), _text(b, BEAT)])
    assert person_evidence(corpus, 1, 2, key).strength.level == links.STRONG
