"""A forwarded appeal two families pasted into their reports joins and links neither.

The attack (session 39): a WhatsApp appeal ("*Forwarded as received* ... a boy went
missing ... call 0300-... Please share maximum") reaches every family of a district, and
families paste it before their own story. Two who did shared 38 of its rare phrases and
were grouped as one writer, surely, and its helpline linked their reports strongly. What
they forwarded is no one's own words or knowledge: only what each wrote beside it counts.
"""

from __future__ import annotations

import time

from review.analysis import forwards
from tests.review.analysis.person_links import corpus_of

FORWARD = (
    "*Forwarded as received* URGENT: a boy of 12, Bilal son of Akram, went missing near the"
    " Kasur bus stand on Friday evening wearing a blue shalwar kameez. If anyone sees him"
    " please call 0300-1112223 at once. Please share maximum, it may save a life."
)
URDU_FORWARD = (
    "فارورڈ: قصور بس اسٹینڈ کے قریب جمعہ کی شام بارہ سال کا لڑکا بلال ولد اکرم لاپتہ ہو گیا۔"
    " نیلی شلوار قمیض پہنی ہوئی تھی۔ کسی کو نظر آئے تو فوراً 0300-1112223 پر رابطہ کریں۔"
    " زیادہ سے زیادہ شیئر کریں۔"
)
OWN = [
    "My own son was taken the same week from the kiln, and ASI Rafiq of Thana Saddar Kasur"
    " refused to write the FIR.",
    "Meri beti ko agent le gaya tha, SHO Gul Zaman of Thana City Mardan ne paise liye.",
]


def test_two_families_pasting_one_forward_are_two_writers() -> None:
    corpus = corpus_of(
        [f"{FORWARD}\n{OWN[0]}", f"This came on our family group:\n{FORWARD}\n{OWN[1]}"]
    )
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source
    found = corpus.related(1).links.get(2)
    assert found is None or not any(e.kind == "phone" for e in found.evidence), found
    assert corpus.related(1).corroborating == 0


def test_two_families_pasting_one_urdu_forward_are_two_writers() -> None:
    corpus = corpus_of([f"{URDU_FORWARD}\n{OWN[0]}", f"{URDU_FORWARD}\n{OWN[1]}"])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_what_a_family_wrote_beside_a_forward_still_counts() -> None:
    corpus = corpus_of([f"{FORWARD}\n{OWN[0]}", f"{OWN[0]} {FORWARD}"])
    assert corpus.source_group(1) == corpus.source_group(2)


def test_a_mark_with_no_plea_forwards_nothing() -> None:
    assert forwards.forwarded("The SHO forwarded my application to the DSP in Kasur.") == []
    # nor is a word of prose a mark: "please share" after it ends no forward
    said = "I forwarded the FIR to the DPO. Please share it with the SHO, he said."
    assert forwards.forwarded(said) == []


def test_a_text_of_marks_and_no_plea_is_read_in_linear_time() -> None:
    text = "*forwarded* " * 20_000 + "please share"
    began = time.perf_counter()
    assert len(forwards.forwarded(text)) == 1
    assert time.perf_counter() - began < 0.5
