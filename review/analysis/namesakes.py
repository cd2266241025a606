"""A report that tells its man apart from another of his name: the source's own warning.

Sources who know two men of one name often say so: "the Gulzar Khan who runs the money
exchange is NOT the SHO from Kohat"; "I am Tariq Mehmood. Not the policeman, I am a
plumber"; "یہ چکوال والا بھٹہ مالک نہیں"; "pindi wala asi nahi hun". A link on that name
alone, between this report and another, is exactly the confusion the source warned of:
the name is shared, the man may not be. So a person named in or just before such a
sentence is marked (`NAMESAKE`, in the mention's designation, where a reviewer sees it),
and `links.pair_strength` makes every link on the name from this report weak until a
reviewer confirms it.

What counts as a warning is narrow on purpose, and errs towards weak links (a right link
shown weak costs a reviewer a confirmation; a false one counted costs an innocent man):
- English: "not the / that / a ..." then, within four words, a man, a person, a rank or a
  trade ("is not the Chakwal kiln man", "NOT the SHO from Kohat", "Not the policeman"),
  two men "with the same name", or people who "confuse them" or "mix them up";
- Roman Urdu and Urdu: a "-wala" (a man of a place or a trade) or a rank, denied at the
  end of a clause ("kohat ka sho nahi hai,", "chakwal wala nahi", "پولیس والا نہیں،").
  An infinitive before wala is no man ("koi sunne wala nahi": nobody to listen).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M

NAMESAKE: Final = designations.NAMESAKE

# Men, ranks and trades a writer tells a namesake apart by (English, Roman Urdu).
_MEN: Final = (
    r"man|men|one|person|guy|fellow|namesake|policeman|cop|officer|constable|sho|asi|si|dsp"
    r"|sp|inspector|munshi|moharrir|muharrir|agent|owner|dealer|transporter|driver|clerk"
)
_NOT_THE: Final = re.compile(
    rf"\bnot\s+(?:the|that|this|a|an)\s+(?:(?!the\b)[^\s.!?,;]+\s+){{0,3}}?(?:{_MEN})\b"
    r"|\b(?:two|2|another|different)\s+(?:\w+\s+){0,3}?(?:with|of|by)\s+the\s+same\s+name\b"
    r"|\b(?:confuse[sd]?|mix(?:es|ed)?)\s+(?:them|him|the\s+two)\b",
    re.IGNORECASE,
)
# "<place or trade> wala ... nahi" and "<rank> nahi", at a clause's end.
_CLAUSE_END: Final = r"(?:\s+(?:hai|hain|hun|hoon|hu|he|hy|tha))?\s*(?:[,.;:!?،۔]|$)"
_ROMAN: Final = re.compile(
    rf"\b(\w+)\s+wal(?:a|e|i|ay)\s+(?:\w+\s+){{0,2}}nahi?n?{_CLAUSE_END}"
    rf"|\b(?:{_MEN}|police\s+wala)\s+nahi?n?{_CLAUSE_END}",
    re.IGNORECASE | re.MULTILINE,
)
_URDU_RANKS: Final = "ایس ایچ او|اے ایس آئی|تھانیدار|منشی|محرر|انسپکٹر|ایجنٹ|سپاہی|کانسٹیبل"
_URDU_END: Final = r"(?:\s+(?:ہے|ہوں|ہیں|تھا))?\s*(?:[،,.۔!؟?]|$)"
_URDU: Final = re.compile(
    rf"(?<!\S)(\S+)\s+وال[اےی]\s+(?:\S+\s+){{0,3}}?نہیں{_URDU_END}|(?:{_URDU_RANKS})\s+نہیں{_URDU_END}",
    re.MULTILINE,
)
_SENTENCE_END: Final = re.compile(r"[.!?۔\n]+")
# What every match of each pattern holds, found far faster than the pattern's own scan (which
# tries every position): a text without it is not scanned. Same flags, so no match is lost.
# "nah" in the text lower-cased: ignoring case, n, a and h match only themselves and their
# capitals, and no other character lowers to them (so the test is `re.IGNORECASE`'s).
_ROMAN_HOLDS: Final = "nah"
_URDU_HOLDS: Final = "نہیں"
# Of `_NOT_THE`'s matches, in the text lower-cased: "not", "name", "conf" or the x of "mix"
# (ignoring case, these letters match only themselves, and no other letter lowers to them).
_NOT_THE_HOLDS: Final = ("not", "name", "conf", "x")


def warnings(text: str) -> list[int]:
    """Where `text` tells a man apart from another of his name (offsets, in order)."""
    lowered = text.lower()
    denial = any(h in lowered for h in _NOT_THE_HOLDS)
    found = [m.start() for m in _NOT_THE.finditer(text)] if denial else []
    scanned = (_ROMAN_HOLDS in lowered, _URDU_HOLDS in text)
    for pattern in (p for p, held in zip((_ROMAN, _URDU), scanned, strict=True) if held):
        for m in pattern.finditer(text):
            before = m.group(1)
            if before is not None and (before.lower().endswith("ne") or before.endswith("نے")):
                continue  # an infinitive: "sunne wala nahi", "سننے والا نہیں"
            found.append(m.start())
    return sorted(found)


def mark(text: str, mentions: Sequence[M], ranked: Callable[[str], bool]) -> list[M]:
    """`mentions`, with the people a warning follows marked `NAMESAKE`.

    A warning covers the people named before it in its own sentence and in the sentence
    before ("I am Tariq Mehmood from Dina. Not the policeman."). A mention keeps a rank
    or trade (`ranked`) that the warning does not itself deny, beside the mark: "SHO
    Ghulam Rasool, not the ASI" is "SHO, another of this name", which meets another
    report's SHO of the name and no one else; "Gulzar Khan ... is NOT the SHO" loses the
    SHO read after the name, and "my name is Tariq" its "named", which say nothing.
    """
    at = warnings(text)
    if not at:
        return list(mentions)
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    spans: list[list[int]] = []  # merged, in order: bounded in time however many warnings
    for w in at:
        own = bisect.bisect_right(starts, w) - 1
        lo = starts[max(own - 1, 0)]  # the sentence before the warning's own
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], w)
        else:
            spans.append([lo, w])
    los = [lo for lo, _ in spans]
    out = []
    for mention in mentions:
        k = bisect.bisect_right(los, mention.start) - 1
        if mention.kind == "person" and k >= 0 and mention.start < spans[k][1]:
            rank = mention.designation
            if rank is None or not ranked(rank) or _denied(text, at, mention.start, rank):
                rank = None
            marked = designations.compose(rank, namesake=True)
            mention = dataclasses.replace(mention, designation=marked)  # type: ignore[type-var]
        out.append(mention)
    return out


def _denied(text: str, at: list[int], start: int, rank: str) -> bool:
    """Whether a warning after `start`, in the next 80 characters of it, names `rank`."""
    i = bisect.bisect_right(at, start)
    return any(rank.casefold() in text[w : w + 80].casefold() for w in at[i : i + 3])
