"""Words a report puts in quotation marks are another's (an FIR, a notice): they join no writers.

The attack (session 38): a mother and her nephew each wrote of the boy's abduction, and
each quoted the FIR's line word for word. The line gave their reports eleven rare phrases
in common, and the two were grouped as one writer, surely: their two voices counted as
one, and each shown to a reviewer as the other's. The police wrote the FIR, so an accused
officer could do the same on purpose: write its words into a report of his own and be
grouped with the family that quoted it, and learn from what the reviewer does who wrote.
"""

from __future__ import annotations

import pytest

from tests.review.analysis.person_links import corpus_of

FIR = (
    "the accused persons forcibly entered the house at night and took away the"
    " complainant's son at gunpoint in a white car"
)
URDU_FIR = (
    "ملزمان رات کو زبردستی گھر میں داخل ہوئے اور مدعی کے بیٹے کو اسلحہ کے زور پر"
    " سفید گاڑی میں اغوا کر کے لے گئے"
)
MARKS = [('"', '"'), ("\u201c", "\u201d"), ("\u00ab", "\u00bb")]


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
