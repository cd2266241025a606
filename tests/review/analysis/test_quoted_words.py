"""Words a report puts in quotation marks are another's (an FIR, a notice): they join no writers.

The attack (session 38): a mother and her nephew each wrote of the boy's abduction, and
each quoted the FIR's line word for word. The line gave their reports eleven rare phrases
in common, and the two were grouped as one writer, surely: their two voices counted as
one, and each shown to a reviewer as the other's. The police wrote the FIR, so an accused
officer could do the same on purpose: write its words into a report of his own and be
grouped with the family that quoted it, and learn from what the reviewer does who wrote.
"""

from __future__ import annotations

import time

import pytest

from review.analysis import entity_text
from tests.review.analysis.person_links import corpus_of

FIR = (
    "the accused persons forcibly entered the house at night and took away the"
    " complainant's son at gunpoint in a white car"
)
URDU_FIR = (
    "ملزمان رات کو زبردستی گھر میں داخل ہوئے اور مدعی کے بیٹے کو اسلحہ کے زور پر"
    " سفید گاڑی میں اغوا کر کے لے گئے"
)
CURLY = ("\u201c", "\u201d")
MARKS = [('"', '"'), CURLY, ("\u00ab", "\u00bb")]


def _mother(open_: str, close: str) -> str:
    return (
        f"I am the mother of the boy. The FIR says {open_}{FIR}{close}. But ASI Rafiq never"
        " arrested anyone and took Rs 30,000 from the kiln owner instead."
    )


def _nephew(open_: str, close: str) -> str:
    return (
        f"My cousin was taken in March. In the FIR it is written {open_}{FIR}{close}. The SHO"
        " of Thana Saddar Kasur refused to act for two months and now says the boy ran away."
    )


@pytest.mark.parametrize(("open_", "close"), MARKS)
def test_two_writers_quoting_one_fir_are_two_writers(open_: str, close: str) -> None:
    corpus = corpus_of([_mother(open_, close), _nephew(open_, close)])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_two_urdu_writers_quoting_one_fir_are_two_writers() -> None:
    corpus = corpus_of(
        [
            f"میں لڑکے کی ماں ہوں۔ ایف آئی آر میں لکھا ہے “{URDU_FIR}”۔ مگر اے ایس آئی رفیق نے"
            " کسی کو گرفتار نہیں کیا اور بھٹہ مالک سے تیس ہزار روپے لیے۔",
            f'میرا کزن مارچ میں اٹھایا گیا۔ ایف آئی آر کہتی ہے "{URDU_FIR}"۔ تھانہ صدر قصور کے'
            " ایس ایچ او نے دو مہینے کچھ نہیں کیا۔",
        ]
    )
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_the_firs_words_written_bare_join_no_one_to_a_report_that_quotes_them() -> None:
    # Whoever wrote the FIR knows its words, and needs no quotation marks to plant them.
    planted = (
        f"Nobody from the family came to us. {FIR[0].upper()}{FIR[1:]}, that is all that"
        " happened, and the investigation officer has closed the file."
    )
    corpus = corpus_of([_mother('"', '"'), planted])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_one_writers_report_sent_again_in_quotation_marks_is_still_one_writer() -> None:
    # No way out for one who would count twice: a near-duplicate is one writer's, quoted or not.
    text = _mother("", "")
    corpus = corpus_of([text, f'"{text}"'])
    assert corpus.source_group(1) == corpus.source_group(2)


# An agent gives every family his number, and families quote what he said or wrote.
AGENTS_WORDS = [
    (
        'Agent Bilal Ahmed took Rs 300,000 for my son. He told us: "Pay the rest on time.'
        ' My number is 0300-7654321. Call me when you reach Quetta." Then he vanished.'
    ),
    (
        "My husband went with agent Bilal Ahmed to Taftan. The agent wrote on a paper:"
        " \u201cDo not talk to the FIA. My number is 0300-7654321, call only on WhatsApp.\u201d"
        " We never saw him again."
    ),
    (
        'ایجنٹ بلال احمد نے کہا: "باقی پیسے وقت پر دو۔ میرا نمبر 0300-7654321 ہے۔ کوئٹہ'
        ' پہنچ کر فون کرنا۔" پھر وہ غائب ہو گیا۔'
    ),
    (
        f"میرا شوہر ایجنٹ بلال احمد کے ساتھ تفتان گیا۔ ایجنٹ نے کاغذ پر لکھا {CURLY[0]}ایف آئی"
        f" اے سے بات نہ کرنا۔ میرا نمبر 0300-7654321 ہے۔{CURLY[1]} پھر ہم نے اسے نہیں دیکھا۔"
    ),
]


@pytest.mark.parametrize(("first", "second"), [(0, 1), (2, 3), (0, 3)])
def test_two_families_quoting_the_agents_number_are_two_writers(first: int, second: int) -> None:
    # The quotation opens a sentence or more before "my number is": the agent's words, not
    # the writer's, though that sentence alone has no quotation mark or verb of saying.
    corpus = corpus_of([AGENTS_WORDS[first], AGENTS_WORDS[second]])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


def test_a_number_after_a_closed_quotation_is_still_the_writers_own() -> None:
    texts = [
        f'The agent said "go home". My number is 0301-7654321. {tail}'
        for tail in ("ASI Rafiq took money.", "The boys are at the kiln near Kasur.")
    ]
    corpus = corpus_of(texts)
    assert corpus.source_group(1) == corpus.source_group(2)


@pytest.mark.parametrize("mark", ['"', "\u201c", "\u00ab", "\u201e", "\u201c a "])
def test_a_line_of_opening_marks_is_read_in_linear_time(mark: str) -> None:
    # The attack: 20,000 opening marks closed by none; each was sought a close to the end of
    # the line, 3 to 14 s for this one report (quadratic), twice in every import (its words'
    # 5-grams, its writer's own numbers) and in `names extract`. Linear, it is 1 ms.
    text = mark * 20_000
    began = time.perf_counter()
    assert len(entity_text.quotations(text)) <= len(text) // 2
    assert time.perf_counter() - began < 0.5
