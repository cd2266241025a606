"""One author's passage reused across reports groups them, however many reports reuse it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.review.analysis.person_links import corpus_of

# The author's own distinctive passage, reused in every report under a new codename.
PASSAGE = (
    "Whoever tries to leave the kiln is chained at night behind the drying sheds and the "
    "munshi writes their debt again in the green register."
)
# What each report says besides, in other words each time: no two are near-duplicates.
OWN_WORDS = [
    "SHO Rana Tariq Mehmood of Thana Saddar Kasur came on Friday with two constables in a "
    "white van and took the money from the owner.",
    "Yesterday the SHO Rana Tariq Mehmood of Thana Saddar Kasur again visited, drank tea with "
    "the owner, and left with an envelope of cash.",
    "On the first of the month SHO Rana Tariq Mehmood of Thana Saddar Kasur sends his driver; "
    "the owner pays twenty thousand rupees each time.",
    "When a family complained, SHO Rana Tariq Mehmood of Thana Saddar Kasur tore up the "
    "application and threatened to book the father.",
    "My cousin says SHO Rana Tariq Mehmood of Thana Saddar Kasur is a partner of the owner and "
    "shares the profit of the kiln every season.",
]


@pytest.mark.parametrize("reports", [2, 3, 4, 5])
def test_one_authors_passage_in_many_reports_is_one_source(reports: int) -> None:
    corpus = corpus_of([f"{own} {PASSAGE}" for own in OWN_WORDS[:reports]])
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    # The attack: a fourth report reusing the passage made it common, so no report shared
    # rare phrasing any more, and three reports counted as one source became four.
    assert (sho.sources, sho.corroborating) == (1, 1), f"{reports} reports of one author"
    assert all(corpus.source_group(n) == 1 for n in range(1, reports + 1))


def test_a_short_phrase_many_reports_quote_joins_no_sources() -> None:
    # A slogan or a notice's line many witnesses quote is no one author's passage.
    slogan = "Pay the debt or the family stays at the kiln."
    corpus = corpus_of([f"{own} They all say: {slogan}" for own in OWN_WORDS])
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert sho.sources == len(OWN_WORDS)


# What a reader cannot see (Unicode's default-ignorable characters) and letters of other
# scripts that look like Latin ones (confusables.txt), a few to each copy.
DISGUISES: list[Callable[[str], str]] = [
    lambda s: s.replace("the ", "the\u200b ").replace("kiln", "ki\u00adln"),
    lambda s: s.replace("e", "\u0435").replace("o", "\u043e"),  # Cyrillic e and o
    lambda s: s.replace("a", "\u0430").replace("t", "t\u2060"),  # Cyrillic a, word joiner
    lambda s: s.replace("i", "\u0456").replace("r", "r\ufeff"),  # Cyrillic i, a BOM
    lambda s: s.replace("o", "\u03bf").replace(" ", " \u034f"),  # Greek omicron, a CGJ
]


def test_one_authors_passage_disguised_in_each_copy_is_still_one_source() -> None:
    texts = [
        f"{own} {disguise(PASSAGE)}" for own, disguise in zip(OWN_WORDS, DISGUISES, strict=True)
    ]
    corpus = corpus_of(texts)
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    # The attack: five copies of one passage, each read the same, counted as five sources.
    assert (sho.sources, sho.corroborating) == (1, 1), "one author counted as five sources"


def test_a_near_duplicate_disguised_is_still_a_near_duplicate() -> None:
    text = f"{OWN_WORDS[0]} {PASSAGE}"
    corpus = corpus_of([text, DISGUISES[1](text)])
    assert corpus.source_group(2) == corpus.source_group(1), "one text counted as two sources"
