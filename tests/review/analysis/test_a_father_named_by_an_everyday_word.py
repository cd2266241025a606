"""A father's name that is an everyday word too, written alone after the record's mark
("ولد اکرام", "son of Ikram"), is his name, and tells his son from another man's.

The attack (session 42): a name the list marks as an everyday word too ("?اکرام", honour;
"?امیر", rich) is a name alone only beside another name word, so after "ولد" it was no
name: the father was lost, and "ASI Imran Khosa s/o Akram" and "اے ایس آئی عمران کھوسہ ولد
اکرام" of one station, two men of two fathers, were one man, linked strongly: one report
against each counted as two witnesses against either. After the record's mark a word
the list holds as a name is a name.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

LATIN = "ASI Imran Khosa s/o {} of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
URDU = "تھانہ صدر قصور کے اے ایس آئی عمران کھوسہ ولد {} نے بھٹہ مالک سے پیسے لیے۔"
URDU_KA = "تھانہ صدر قصور کے اے ایس آئی عمران کھوسہ ولد {} کا بھٹہ مالک سے جھگڑا ہوا۔"
FATHERS = "the same name, but the reports give different fathers"


def _text(father: str, urdu: str = URDU) -> str:
    return (LATIN if father.isascii() else urdu).format(father)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Akram", "اکرام"), ("اکرم", "اکرام"), ("عمار", "امیر"), ("Ammar", "امیر")],
)
def test_sons_of_two_fathers_one_an_everyday_word_are_two_men(a: str, b: str) -> None:
    corpus = corpus_of([_text(a), _text(b)])
    evidence = person_evidence(corpus, 2, 1, "imran khosa")
    assert evidence.strength.level == links.WEAK
    assert FATHERS in evidence.strength.why
    assert not evidence.counts


@pytest.mark.parametrize("father", ["اکرام", "امیر"])
def test_a_father_named_by_an_everyday_word_is_kept(father: str) -> None:
    for template in (URDU, URDU_KA):
        (son,) = [e for e in extract(template.format(father)) if e.key == "imran khosa"]
        assert son.designation is not None
        assert "s/o" in son.designation, son.designation


def test_sons_of_one_father_so_named_are_one_man() -> None:
    corpus = corpus_of([_text("Ikram"), _text("اکرام")])
    assert person_evidence(corpus, 1, 2, "imran khosa").strength.level == links.STRONG


def test_an_everyday_word_with_no_mark_before_it_is_no_name() -> None:
    text = "تھانہ صدر قصور کے اے ایس آئی عمران کھوسہ نے اکرام کا خیال نہ کیا۔"
    assert "ikram" not in {e.key for e in extract(text) if e.kind == "person"}
