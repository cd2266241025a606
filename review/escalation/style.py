"""Marks of a writer's own hand in a report's words, which a packet would carry as written.

The accused know how their insiders write: one stretches words ("nooo"), one
ends with "!!!", one puts a space before a comma, one signs off with "🙏".
Redaction leaves these, since they are what a reader sees and rewording is the
reviewer's (REVIEW.md: paraphrase in the summary, or leave the report out).
This only counts the marks a rule can find, so the reviewer is told where to
look; it finds no spelling of the writer's own, no word or turn of phrase, and
says so: it anonymises nothing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Kind, as the warning names it (never the words found), and how it is found. Letters
# only (digits repeat in any sum: "1000"); a letter three times, which no English, Urdu
# or Roman Urdu word has ("Allah" and "jee" have two).
_MARKS: Final = (
    ("a letter repeated three times or more (as in “nooo”)", re.compile(r"([^\W\d_])\1{2,}")),
    (
        "punctuation repeated (as in “!!”, “؟؟” or “....”)",
        re.compile(r"[!?؟]{2,}|\.{4,}|۔{2,}|[,،]{2,}"),
    ),
    ("a space before punctuation (as in “word ,”)", re.compile(r"(?<=\w) +[,.!?;:](?=\s|$)")),
)
# Emoji and other pictographs: which ones a writer reaches for is as personal as a spelling.
_EMOJI: Final = "emoji or other pictographs (as in “🙏”)"


def marks(text: str) -> dict[str, int]:
    """How many of each kind of mark `text` holds (only the kinds it holds)."""
    found = {kind: len(pattern.findall(text)) for kind, pattern in _MARKS}
    found[_EMOJI] = sum(1 for ch in text if unicodedata.category(ch) == "So")
    return {kind: count for kind, count in found.items() if count}


def warning(label: str, counted: dict[str, int]) -> str:
    """What the reviewer is told of one report's marks: their kinds and numbers, not the words
    (which would stay in the terminal's scrollback)."""
    kinds = "; ".join(f"{kind}: {count}" for kind, count in counted.items())
    return (
        f"{label}'s words carry marks of its writer's hand, as written: {kinds}. Whoever "
        "reads the packet, a body or whoever it leaks to, may know the writer by them: "
        "read it (`escalation show`), paraphrase in the summary, or leave the report out. "
        "This counts only these marks, not a spelling, word or turn of phrase of the "
        "writer's own"
    )
