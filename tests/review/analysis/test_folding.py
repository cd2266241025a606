"""Folding a text once for the extractor: each character folds as it would alone."""

from __future__ import annotations

import pytest

from review.analysis.folding import fold, fold_letters
from review.workspace.search import BLANKS, normalize


def _one_by_one(text: str) -> tuple[str, list[int]]:
    """The fold, a character at a time (runs of spaces made one): what `fold` must equal."""
    out: list[str] = []
    where: list[int] = []
    for k, ch in enumerate(text):
        for c in " " if ch.isspace() or ch in BLANKS else normalize(ch):
            if not (c == " " and out and out[-1] == " "):
                out.append(c)
                where.append(k)
    return "".join(out), [*where, len(text)]


TEXTS = [
    "",
    "SHO Rana Tariq\nthana   Saddar\t\tKasur",
    "\u0391\u03a3 \u039f\u0394\u039f\u03a3",  # lower() makes a final sigma; alone, not
    "\u0130stanbul \ufb01le STRASSE \u00df \u13a0 \u01c5",  # two-letter lower cases; ligatures
    "تھانہ صدر كيه ى ۀ ١٢٣ ۴۵",  # Arabic letters and digits that fold to Urdu and ASCII
    "قَصُور\u200c\u0640ـ",  # marks, joiners and tatweel dropped
    "\U0001d412\U0001d407\U0001d40e \U0001f600 Rana",  # beyond the Basic Multilingual Plane
    "a\u00a0b\u2028c\x1cd\x85e",  # spaces other than ASCII's
]


@pytest.mark.parametrize("text", TEXTS)
def test_fold_is_each_characters_own_fold_with_its_offsets(text: str) -> None:
    folded, where = fold(text)
    assert (folded, list(where)) == _one_by_one(text)


def test_every_character_folds_as_it_does_alone_wherever_it_stands() -> None:
    """Whichever way `fold` takes (lower case, or the table), it is the table's fold."""
    for cp in range(0x10000):
        ch = chr(cp)
        for text in (ch, f"Sa{ch}b", f"\u0391\u03a3{ch}", f"{ch}\u03a3 "):
            assert fold(text)[0] == _one_by_one(text)[0], hex(cp)


@pytest.mark.parametrize(
    "text", [*TEXTS, "ولـد\u200b  گل\n\nشیر", "ميري\tنمبر", "Tariq\u2800Mehmood"]
)
def test_fold_letters_folds_each_letter_and_keeps_every_space(text: str) -> None:
    folded, where = fold_letters(text)
    expected = [
        (c, k)
        for k, ch in enumerate(text)
        for c in (ch if ch.isspace() else " " if ch in BLANKS else normalize(ch))
    ]
    assert folded == "".join(c for c, _ in expected)
    assert list(where) == [*(k for _, k in expected), len(text)]
