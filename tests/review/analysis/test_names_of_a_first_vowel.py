"""Two names the lists lack whose consonants agree, one beginning with a vowel, link weakly.

The attack (session 41's red team): a word no list holds is keyed by its consonants, its
vowels dropped, and so is a first vowel: "Asad Ullah" (اسد اللہ) and "Saad Ullah" (سعد اللہ)
are both `~sdla`, in Latin letters and in Urdu. Two ASIs of one station, an Asadullah
Khosa and a Saadullah Khosa (brothers often serve together), were one man, linked
strongly: one report against each counted as two witnesses against either. A first
vowel is written in both scripts (Latin a, e, i, o, u; Urdu alif, alif madda or ain), so
a name one report begins with a vowel and the other with none is two names: the link is
weak, for a reviewer to confirm. One spelled alike, or with a vowel first in both, links
as before.

Asad and Saad are listed names, and a compound of a listed name is now keyed as that name
("asadullah", "saadullah": `test_compounds_of_a_listed_name.py`), so the two no longer
meet at all; the rule is tested here on a compound whose first half no list holds.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence

ASAD = "ASI Ashfan Ullah Khosa of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
ASAD_UR = "تھانہ صدر قصور کے اے ایس آئی اشفان اللہ کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
SAAD = "ASI Shafan Ullah Khosa of Thana Saddar Kasur beat my brother at the thana."
SAAD_UR = "تھانہ صدر قصور کے اے ایس آئی شفان اللہ کھوسہ نے میرے بھائی کو مارا۔"


@pytest.mark.parametrize(
    ("a", "b"), [(ASAD, SAAD), (ASAD_UR, SAAD_UR), (ASAD, SAAD_UR), (SAAD, ASAD_UR)]
)
def test_names_apart_by_a_first_vowel_link_weakly(a: str, b: str) -> None:
    corpus = corpus_of([a, b])
    evidence = person_evidence(corpus, 1, 2, "~sfnla khosa")
    assert evidence.strength.level == links.WEAK, evidence
    assert "begins with a vowel" in evidence.strength.why
    assert corpus.related(1).corroborating == 1  # the station alone


@pytest.mark.parametrize(("a", "b"), [(ASAD, ASAD_UR), (SAAD, SAAD_UR), (ASAD, ASAD)])
def test_one_name_in_either_script_still_links_strongly(a: str, b: str) -> None:
    corpus = corpus_of([a, b.replace("took", "took again")])
    evidence = person_evidence(corpus, 1, 2, "~sfnla khosa")
    assert evidence.strength.level == links.STRONG, evidence


def test_a_first_vowel_is_read_after_the_names_before_it() -> None:
    corpus = corpus_of([f"SHO Muhammad {ASAD[4:]}", f"SHO Muhammad {SAAD[4:]}"])
    evidence = person_evidence(corpus, 1, 2, "muhammad ~sfnla khosa")
    assert evidence.strength.level == links.WEAK, evidence
