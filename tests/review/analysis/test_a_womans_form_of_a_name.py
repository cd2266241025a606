"""A woman's name made of a man's with a last "a" (Naushada of Naushad) is not his."""

from __future__ import annotations

import pytest

from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of

AT = "At Thana Saddar Kasur, ASI {} took the girls to the kiln at night."
AGAIN = "The kiln owner pays ASI {} of Thana Saddar Kasur every month, my brother saw it."


def _person(text: str) -> str:
    (key,) = {e.key for e in extract(text) if e.kind == "person"}
    return key


@pytest.mark.parametrize(
    ("his", "hers"),
    [
        ("Naushad Ali", "Naushada Ali"),
        ("نوشاد علی", "نوشادہ علی"),
        ("Naushad Ali", "نوشادہ علی"),
        ("نوشاد علی", "Naushadah Ali"),
    ],
)
def test_a_womans_name_keyed_by_sound_is_not_the_mans(his: str, hers: str) -> None:
    corpus = corpus_of([AT.format(his), AGAIN.format(hers)])
    link = corpus.related(1).links.get(2)
    people = [e.key for e in link.evidence if e.kind == "person"] if link else []
    # The attack: a report on a woman ASI and one on a man whose name is hers without
    # its "a", keyed alike by consonants, corroborated each other as one official.
    assert not people, "a man and a woman were linked as one"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Naushada Ali", "نوشادہ علی"),
        ("Naushadah Ali", "Naushada Ali"),
        ("Naushad Ali", "نوشاد علی"),
    ],
)
def test_one_name_in_two_scripts_still_has_one_key(one: str, other: str) -> None:
    # No wrong split: her name in Urdu and in Latin letters, his likewise, are one each.
    assert _person(AT.format(one)) == _person(AGAIN.format(other))
