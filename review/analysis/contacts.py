"""A phone number, CNIC or name the writer gives as their own: one writer, whatever the designation.

A source who lost a codename and reports again under a new one often ends each report
the same way: "my number is 0301-7654321", "mera number ... hai", "میرا نمبر ... ہے",
"call me on ...", "... is my number"; or begins it so: "My name is ...", "main constable
... hun", "میں ... ہوں". Two reports giving one such number (or CNIC, or a name that tells
a man apart) as their writer's are one writer's (`review.analysis.corpus` groups them into
one likely source), never two independent sources of what both say. The number keeps the
mark `OWN` as its designation, the name "the writer" in its (`designations.WRITER`), where
reviewers see them.

Only what the writer calls their own counts: "my brother's number", "the SHO's number",
"I am SHO ...'s driver", and anything inside what someone else said ("he said: my number
is ...", or in quotation marks however many sentences before it they open: an agent's
"Pay on time. My number is ...", which every family he cheated can quote) do not. Each
cue is read within a fixed window beside its number or name, so marking is linear in the
text.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations, links
from review.analysis.designations import M
from review.analysis.entity_text import quotations, spells_rank

OWN: Final = "the writer's own"
KINDS: Final = ("phone", "cnic")

_NOUN: Final = (
    r"(?:phone|mobile|cell(?:\s*phone)?|contact|whats\s*app|number|nambar|numbar|no\.?|num|#"
    r"|cnic|nic|id\s+card|identity\s+card|shanakhti\s+card|card)"
)
_UR_NOUN: Final = (
    r"(?:موبائل|موبائیل|فون|رابطہ|رابطے|رابطے\s+کا|واٹس\s*ایپ|وٹس\s*ایپ|نمبر|شناختی\s+کارڈ|کارڈ)"
)
_NOUNS: Final = rf"{_NOUN}(?:\s+{_NOUN}){{0,3}}"
_UR_NOUNS: Final = rf"{_UR_NOUN}(?:\s+{_UR_NOUN}){{0,3}}"
# What stands right before a number the writer gives as theirs.
_BEFORE: Final = re.compile(
    r"(?:"
    rf"\b(?:my|our)\s+(?:own\s+|personal\s+)?{_NOUNS}(?:\s+(?:is|was))?"
    r"|\b(?:call|contact|reach|text|message|sms|whatsapp)\s+(?:me|us)(?:\s+(?:at|on))?"
    r"|\bi\s+can\s+be\s+reached\s+(?:at|on)"
    rf"|\b(?:mera|meri|mere|hamara|hamari)\s+(?:apna\s+|apni\s+)?{_NOUNS}(?:\s+(?:hai|he|ye|yeh))?"
    r"|\b(?:mujh\s*se|hum\s*se)\s+(?:is\s+number\s+(?:par|pe|per)\s+)?rabta(?:\s+(?:karein|karen|karain|kijiye|karo))?"
    rf"|(?:میرا|میری|ہمارا|ہماری)\s+(?:اپنا\s+)?{_UR_NOUNS}(?:\s+(?:یہ|ہے))?"
    r"|(?:مجھ|ہم)\s+سے\s+(?:اس\s+نمبر\s+پر\s+)?رابطہ(?:\s+(?:کریں|کیجیے|کیجئے|کرو))?"
    r")\s*[:=\-]?\s*\Z",
    re.IGNORECASE,
)
# What stands right after one: "0301-7654321 is my number", "... mera number hai".
_AFTER: Final = re.compile(
    r"\s*,?\s*(?:"
    rf"(?:is|was)\s+my\s+(?:own\s+)?{_NOUNS}"
    rf"|(?:mera|meri|hamara|hamari)\s+(?:apna\s+|apni\s+)?{_NOUNS}\s+(?:hai|he)"
    rf"|(?:میرا|میری|ہمارا|ہماری)\s+(?:اپنا\s+)?{_UR_NOUNS}\s+ہے"
    r"|(?:par|pe|per)\s+(?:mujh\s*se|hum\s*se)\s+rabta"
    r"|پر\s+(?:مجھ|ہم)\s+سے\s+رابطہ"
    r")(?!\w)",
    re.IGNORECASE,
)
# Someone else's words: a quotation opened, or a verb of saying, earlier in the sentence.
_SAID: Final = re.compile(
    r"[\"\u201c\u201d\u00ab\u00bb]|\b(?:said|says|saying|told|tells|asked|kaha|kehta|kehti|kehte"
    r"|bola|boli|bolta|likha)\b|کہا|کہتا|کہتی|کہتے|بولا|بولی",
    re.IGNORECASE,
)
# What stands right before a name the writer gives as theirs, and the rank they may write
# between: "My name is", "I am (Constable)", "mera naam", "میرا نام".
_NAME_BEFORE: Final = re.compile(
    r"(?:\bmy\s+name\s+is|\bmy\s+name\s*:|\bi\s+am|\bi['\u2019]m|\bmera\s+naa?m(?:\s+hai)?"
    r"|میرا\s+نام(?:\s+ہے)?)\s*:?\s+(?P<rank>(?:\S+\s+){0,3}?)\Z",
    re.IGNORECASE,
)
# "main (constable) ... hun", "میں (کانسٹیبل) ... ہوں": "I am ...", the verb after the name.
# میں is "in" too ("main", "mein"): "I" only where a clause begins, at the text's start, after
# a stop or a comma, or after a word that begins a clause ("aur", "اور", "salam"). After a
# place it is "in": "اگر تھانے میں ایس ایچ او طارق محمود ہوں تو" ("if SHO Tariq Mehmood is at
# the station", a respectful plural) made the SHO each such report's writer.
_CLAUSE_OPENS: Final = (
    "aur|or|ke|keh|kay|to|toh|lekin|magar|balke|balkay|jab|agar|ab|haan|han|ji|salam|salaam"
    "|alaikum|alaykum|janab|sir|اور|کہ|تو|لیکن|مگر|بلکہ|جب|اگر|اب|ہاں|جی|سلام|علیکم|جناب"
)
_AM_BEFORE: Final = re.compile(
    r"(?:^|(?<=[.!?,;:\n\u06d4\u060c\u061b(])\s*|(?<=\s)(?:" + _CLAUSE_OPENS + r")\s+)"
    r"(?:main|mein|mai|میں)\s+(?P<rank>(?:\S+\s+){0,3}?)\Z",
    re.IGNORECASE,
)
_AM_AFTER: Final = re.compile(r"\s+(?:hun|hoon|hon|houn|ہوں)(?!\w)", re.IGNORECASE)
# Whose: "I am SHO Tariq's driver" gives no name of the writer's.
_WHOSE: Final = re.compile(r"['\u2019]s\b|\s+(?:ka|ki|ke|کا|کی|کے)(?!\w)", re.IGNORECASE)
_SENTENCE_END: Final = re.compile(r"[.!?\u06d4\n](?=\s|\Z)|\n")
_WINDOW: Final = 60  # characters read before or after a number for its cue
_SENTENCE: Final = 200  # characters read back for the start of the number's sentence


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each phone number and CNIC the writer gives as their own designated `OWN`,
    and each name the writer gives as their own "the writer" in its designation."""
    out = []
    quoted = quotations(text)
    for m in mentions:
        if m.kind in KINDS and m.designation is None and _owned(text, m.start, m.end, quoted):
            m = dataclasses.replace(m, designation=OWN)  # type: ignore[type-var]
        elif m.kind == "person" and _named(text, m.start, m.end, m.designation, quoted):
            said = designations.parse(m.designation)._replace(writer=True)
            m = dataclasses.replace(m, designation=designations.render(said))  # type: ignore[type-var]
        out.append(m)
    return out


def _owned(text: str, start: int, end: int, quoted: Sequence[tuple[int, int]]) -> bool:
    """Whether the number at text[start:end] is cued as the writer's, in the writer's words
    (outside the `quoted` spans)."""
    cued = _BEFORE.search(text, max(start - _WINDOW, 0), start) is not None
    if not cued:
        after = _AFTER.match(text[end : end + _WINDOW])
        cued = after is not None
    return cued and _writers_words(text, start, quoted)


def _named(
    text: str, start: int, end: int, designation: str | None, quoted: Sequence[tuple[int, int]]
) -> bool:
    """Whether the name at text[start:end] is cued as the writer's, in the writer's words
    (outside the `quoted` spans)."""
    after = text[end : end + _WINDOW]
    if _WHOSE.match(after):
        return False
    window = max(start - _WINDOW, 0)
    cue = _NAME_BEFORE.search(text, window, start)
    if cue is None and _AM_AFTER.match(after):
        cue = _AM_BEFORE.search(text, window, start)
    if cue is None:
        return False
    between = cue.group("rank").strip()
    rank = designations.parse(designation).rank
    if between and not (rank and spells_rank(between, rank)):
        return False  # "I am told that ...": words between that are not the name's rank
    return _writers_words(text, start, quoted)


def _writers_words(text: str, start: int, quoted: Sequence[tuple[int, int]]) -> bool:
    """Whether text before `start`, in its sentence, is the writer's own, not another's words,
    and `start` is in none of the `quoted` spans (sorted, none overlapping)."""
    at = bisect.bisect_right(quoted, (start, len(text) + 1)) - 1
    if at >= 0 and start < quoted[at][1]:
        return False
    begun = max(start - _SENTENCE, 0)
    for m in _SENTENCE_END.finditer(text, begun, start):
        begun = m.end()
    return _SAID.search(text, begun, start) is None


def own(kind: str, key: str, written: Sequence[str]) -> bool:
    """Whether a mention (its kind, key and designations) is its writer's own contact, or a
    name of theirs that tells a man apart (two writers may bear "Muhammad Ali")."""
    if kind == "person":
        telling = links.strength(kind, key).level == links.STRONG
        return telling and any(designations.parse(d).writer for d in written)
    return kind in KINDS and OWN in written and not no_ones(kind, key)


# Seven digits no one person's mobile ends in: a form's example, or a filler written by
# one who would not give a number ("0300-0000000").
_FILLERS: Final = re.compile(r"(\d)\1{6}|1234567")


def no_ones(kind: str, key: str) -> bool:
    """Whether a phone number or CNIC (by its key) is no one person's: a filler or a form's
    example, which many write, or a landline, which a household or an office shares. Given
    as two writers' own, it joins no two writers."""
    digits = "".join(ch for ch in key if ch.isdigit())
    if kind == "phone":
        local = digits.removeprefix("92") if key.startswith("+92") else None
        return local is not None and (
            not local.startswith("3") or bool(_FILLERS.fullmatch(local[-7:]))
        )
    if kind == "cnic":
        return len(set(digits)) == 1 or digits.startswith("123451234567")
    return False
