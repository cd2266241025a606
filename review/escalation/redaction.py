"""Redaction: identifying details in report text replaced by consistent pseudonyms.

Candidates come from entity extraction (`review.analysis.entities.extract`); the
reviewer confirms each one, and may add terms of their own. Every spelling of
a confirmed term becomes the same pseudonym ("Person A", "Phone 1") in every
text of a packet, so a body can still follow who did what across reports.
Matching is forgiving in the ways Urdu and phone numbers are written: case,
Arabic and Urdu letter variants, diacritics and tatweel, zero-width joiners,
Urdu and Arabic-Indic digits, and separators between digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from review.analysis.entities import extract, key_for
from review.errors import InvalidValue
from review.present.text import HIDDEN
from review.workspace.search import normalize

# Letters that Urdu keyboards and Arabic ones write differently.
_VARIANTS: Final = {
    "\u064a": "\u064a\u06cc\u0649",  # yeh
    "\u06cc": "\u064a\u06cc\u0649",
    "\u0649": "\u064a\u06cc\u0649",
    "\u0643": "\u0643\u06a9",  # kaf
    "\u06a9": "\u0643\u06a9",
    "\u0647": "\u0647\u06c1\u06c0",  # heh
    "\u06c1": "\u0647\u06c1\u06c0",
    "\u06c0": "\u0647\u06c1\u06c0",
}
# Marks, tatweel and zero-width characters that may sit between any two letters.
_OPTIONAL: Final = "[\u064b-\u065f\u0670\u0640\u200b-\u200f]*"
_DIGIT_SEPARATORS: Final = " -./"
# Characters no one sees (Unicode's default-ignorable code points, but the directional
# marks and the tags `HIDDEN` marks): a source can string them into bits a reviewer would
# vouch for unseen. A packet drops them, but an emoji's joiner or selector (`_needed`).
_UNSEEN: Final = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2065"
    "\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e01f0-\U000e0fff]"
)
_JOINERS: Final = "\u200c\u200d"
# Spacing within a line (after NFKC, which makes the other spaces these).
_HORIZONTAL: Final = " \t\v\f"
_SPACES: Final = re.compile(f"[{_HORIZONTAL}]+")
# Letters of other scripts drawn as a Latin one (Unicode's confusables, those drawn alike
# in small or capital form), which a packet carries as the Latin letter inside a word that
# has Latin letters: one such letter in a canary copy of a text marks it unseen.
_AS_LATIN: Final = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u04bb\u0501\u051b\u051d\u04cf"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408\u04ae"
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
    "\u03bf\u03b1\u03bd\u03f2\u03f3\u0585\u057d\u0251\u0261",
    "aeopcyxsijhdqwlABEKMHOPCTXSIJYABEZHIKMNOPTYXoavcjouag",
)
# Arabic letters and digits Urdu draws as its own (inside a word, the same shapes): they
# go as Urdu's, for the same reason. Heh is not among them: Urdu draws Arabic's apart.
_AS_URDU: Final = str.maketrans(
    {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"}
    | {chr(0x0660 + d): chr(0x06F0 + d) for d in range(10)}
)
# Quotes and dashes drawn nearly as the ASCII ones, which a reader takes them for: a
# canary copy's curly quote or en dash goes as the straight quote or hyphen.
_AS_ASCII: Final = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'")
    | dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"')
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
)
_WORD: Final = re.compile(r"[^\W\d_]+")
_LATIN_LETTER: Final = re.compile("[A-Za-z]")
_PRESENTATION: Final = "\ufe0e\ufe0f"  # text or emoji presentation of the character before
_LABELS: Final = {
    "person": "Person",
    "cnic": "CNIC",
    "reference": "Reference number",
    "phone": "Phone",
    "vehicle": "Vehicle",
    "place": "Place",
    "source": "Source",
    "detail": "Detail",
}


@dataclass(frozen=True)
class Candidate:
    """A detail that extraction found: one entity, in every spelling it was seen in."""

    kind: str
    key: str
    forms: tuple[str, ...]
    count: int

    def names(self, text: str) -> bool:
        """Say whether `text` (as a reviewer typed it) is this candidate, in any spelling."""
        wanted = normalize(text)
        if wanted == normalize(self.key) or any(normalize(f) == wanted for f in self.forms):
            return True
        return bool(wanted) and key_for(self.kind, text) == self.key


@dataclass(frozen=True)
class Term:
    """A confirmed redaction: every spelling of one detail, and what kind it is."""

    kind: str
    forms: tuple[str, ...]
    key: str | None = None  # the entity key, when the term was a suggestion


def candidates(texts: Iterable[str]) -> list[Candidate]:
    """Every entity found in `texts`, grouped by kind and key, in order of first appearance."""
    forms: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for text in texts:
        for entity in extract(text):
            group = (entity.kind, entity.key)
            seen = forms.setdefault(group, [])
            if entity.text not in seen:
                seen.append(entity.text)
            counts[group] = counts.get(group, 0) + 1
    return [Candidate(kind, key, tuple(f), counts[(kind, key)]) for (kind, key), f in forms.items()]


def parse_term(text: str) -> Term:
    """A reviewer's own term: `[KIND:]spelling[|spelling…]`, e.g. `person:Shazia|شازیہ`.

    The spellings of one term share one pseudonym; without a known kind it is a detail.
    """
    kind, sep, rest = text.partition(":")
    if not (sep and kind.strip().casefold() in _LABELS and rest.strip()):
        kind, rest = "detail", text
    forms = tuple(f.strip() for f in rest.split("|") if f.strip())
    if not forms:
        raise InvalidValue("a redaction term cannot be empty")
    return Term(kind.strip().casefold(), forms)


class Redactor:
    """Replace each term's every spelling with its pseudonym, numbered per kind."""

    def __init__(self, terms: Sequence[Term]) -> None:
        numbers: dict[str, int] = {}
        self._pseudonyms: list[tuple[str, Term]] = []
        for term in terms:
            if not any(f.strip() for f in term.forms):
                raise InvalidValue("a redaction term cannot be empty")
            numbers[term.kind] = numbers.get(term.kind, 0) + 1
            self._pseudonyms.append((_pseudonym(term.kind, numbers[term.kind]), term))
        forms = [
            (form, index)
            for index, (_name, term) in enumerate(self._pseudonyms)
            for form in {
                _drawn_alike(unicodedata.normalize("NFKC", f.strip()))
                for f in term.forms
                if f.strip()
            }
        ]
        # Longest first, so "Ali Khan" is replaced whole before "Ali" is.
        forms.sort(key=lambda pair: (-len(pair[0]), pair[0]))
        self._patterns = [(_pattern(form), index) for form, index in forms]

    @property
    def pseudonyms(self) -> list[tuple[str, str]]:
        """(pseudonym, kind) for each term, in order."""
        return [(name, term.kind) for name, term in self._pseudonyms]

    def pseudonym_for(self, kind: str, key: str | None) -> str | None:
        """The pseudonym of a confirmed suggestion, found by its entity key."""
        if key is None:
            return None
        for name, term in self._pseudonyms:
            if term.kind == kind and term.key == key:
                return name
        return None

    @property
    def mapping(self) -> list[tuple[str, str]]:
        """(spelling, pseudonym) pairs: for the workspace's own record, never a packet."""
        return [(form, name) for name, term in self._pseudonyms for form in term.forms]

    def apply(self, text: str) -> str:
        """The text with every spelling of every term replaced by its pseudonym."""
        # Placeholders in a private-use range first, so that a pseudonym is never
        # itself matched by a shorter term.
        # What no one reading it sees goes as the marks the reviewer was shown.
        out = HIDDEN.sub("\ufffd", unicodedata.normalize("NFKC", text))
        out = _UNSEEN.sub(lambda m: m[0] if _needed(m.string, m.start()) else "", out)
        out = _spaced_plainly(out)
        out = _drawn_alike(out)
        for pattern, index in self._patterns:
            out = pattern.sub(f"\ue000{index}\ue001", out)
        return re.sub("\ue000([0-9]+)\ue001", lambda m: self._pseudonyms[int(m.group(1))][0], out)

    def leaks(self, text: str) -> list[str]:
        """The pseudonyms whose terms still occur in `text` (none, after `apply`)."""
        folded = _drawn_alike(unicodedata.normalize("NFKC", text))
        return sorted(
            {self._pseudonyms[i][0] for pattern, i in self._patterns if pattern.search(folded)}
        )


def _spaced_plainly(text: str) -> str:
    """`text` with one space between words and none at a line's end, and Unix line ends:
    a reader passes over a second space, a tab or a trailing one, which a canary copy of
    a text can place differently for each suspect."""
    lines = re.sub(r"\r\n?", "\n", text).split("\n")
    return "\n".join(_SPACES.sub(" ", line).strip(_HORIZONTAL) for line in lines)


def _drawn_alike(text: str) -> str:
    """`text` with letters drawn as Latin ones, in words with Latin letters, as the Latin
    letters, Arabic letters and digits drawn as Urdu's as Urdu's (a word all of another
    script, a Russian name, stays as written), and curly quotes and dashes as ASCII's."""
    if text.isascii():
        return text
    text = text.translate(_AS_ASCII).translate(_AS_URDU)
    return _WORD.sub(
        lambda m: m[0].translate(_AS_LATIN) if _LATIN_LETTER.search(m[0]) else m[0], text
    )


def _needed(text: str, i: int) -> bool:
    """Whether the unseen character at text[i] is one a reader would miss: an emoji
    sequence's ZWJ, or one presentation selector after a symbol ("❤️"). A run of them is no
    such thing, nor a joiner between letters: Urdu reads "نوٹ‌بک" as "نوٹبک", and where one
    sits in a word is a bit a canary copy of a text can carry to a leaked packet's reader."""
    ch = text[i]
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if not before or (not after and ch not in _PRESENTATION):
        return False
    if _UNSEEN.fullmatch(before) and not (ch == "\u200d" and before == "\ufe0f"):
        return False
    kind_before = unicodedata.category(before)
    if ch in _JOINERS and after and not _UNSEEN.fullmatch(after):
        kind_after = unicodedata.category(after)
        return (
            ch == "\u200d"
            and kind_after == "So"
            and (kind_before in ("So", "Sk") or before == "\ufe0f")
        )
    return ch in _PRESENTATION and kind_before in ("So", "Sm")


def _pseudonym(kind: str, number: int) -> str:
    if kind == "person":
        return f"Person {_letters(number)}"
    label = _LABELS.get(kind) or kind.replace("-", " ").replace("_", " ").capitalize()
    return f"{label} {number}"


def _letters(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: as spreadsheets number columns."""
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _pattern(form: str) -> re.Pattern[str]:
    """A pattern for one spelling, forgiving of how it may be written elsewhere."""
    parts: list[str] = []
    chars = list(form)
    for i, ch in enumerate(chars):
        if ch in _DIGIT_SEPARATORS and _between_digits(chars, i):
            continue
        if ch.isspace():
            if parts and parts[-1] != r"\s+":
                parts.append(r"\s+")
            continue
        digit = unicodedata.digit(ch, None)
        if digit is not None:
            if parts and parts[-1] == "DIGIT":
                parts.append(r"[\s\-./]{0,3}")
            parts.append(f"[{digit}{chr(0x0660 + digit)}{chr(0x06F0 + digit)}]")
            parts.append("DIGIT")
            continue
        variants = _VARIANTS.get(ch)
        parts.append(f"[{variants}]" if variants else re.escape(ch))
        parts.append(_OPTIONAL)
    body = "".join(p for p in parts if p != "DIGIT")
    start = r"(?<!\w)" if form[:1].isalnum() else ""
    end = r"(?!\w)" if form[-1:].isalnum() else ""
    return re.compile(start + body + end, re.IGNORECASE)


def _between_digits(chars: list[str], i: int) -> bool:
    before = next((c for c in reversed(chars[:i]) if c not in _DIGIT_SEPARATORS), "")
    after = next((c for c in chars[i + 1 :] if c not in _DIGIT_SEPARATORS), "")
    return before.isdigit() and after.isdigit()
