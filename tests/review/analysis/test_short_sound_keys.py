"""A word the lists lack, keyed by two consonants or fewer, tells no two names apart."""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence

AT = "At Thana Saddar Kasur, ASI {} took the boys to the kiln at night."
AGAIN = "The kiln owner pays ASI {} of Thana Saddar Kasur every month, my brother saw it."


@pytest.mark.parametrize(
    ("one", "other", "key"),
    [
        ("Hamna Gondal", "Humna Gondal", "~mna gondal"),  # two women
        ("Mani Gondal", "مانی گوندل", "~mn gondal"),  # one in Urdu: a reviewer says
        ("Sabih Gondal", "Sabeeh Gondal", "~sb gondal"),  # one name, maybe: a reviewer says
    ],
)
def test_a_name_keyed_by_two_consonants_spelt_two_ways_links_weakly(
    one: str, other: str, key: str
) -> None:
    corpus = corpus_of([AT.format(one), AGAIN.format(other)])
    evidence = person_evidence(corpus, 1, 2, key)
    # The attack: "ASI Hamna Gondal" and "ASI Humna Gondal" of one station, keyed alike by
    # the consonants m and n (and the last "a"), corroborated each other as one woman.
    assert evidence.strength.level == links.WEAK, "two names keyed by two consonants linked"
    assert "too few to tell two names apart" in evidence.strength.why


def test_the_same_spelling_still_links_strongly() -> None:
    corpus = corpus_of([AT.format("Mani Gondal"), AGAIN.format("Mani Gondal")])
    assert person_evidence(corpus, 1, 2, "~mn gondal").strength.level == links.STRONG
