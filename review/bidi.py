"""Urdu on a terminal that does not lay out right-to-left text: wrap, then reorder each line.

Most terminals draw characters left to right in the order they receive them,
so an Urdu sentence sent as it is stored (logical order) reads backwards. Here
each paragraph's direction comes from its first strong character (Unicode's
rules P2-P3); its characters are given embedding levels by a subset of the
Unicode Bidirectional Algorithm (rules W1-W7, N1-N2, I1-I2, without explicit
embeddings); it is wrapped to the width in logical order; and each line is
reversed by levels (L1-L2) with mirrored brackets (L4), so what reaches the
terminal is visual order. Combining marks stay after the letter they sit on.
One rule is not Unicode's: a number written in groups (0300-1234567, +92 300
1234567) is drawn as written, where the algorithm would swap its groups after
Urdu letters.
Letters are not joined (shaped): a terminal that does not shape shows them in
their isolated forms. Explicit embedding, override and isolate characters are
dropped, so a report cannot make the screen show text in an order that hides
what it says.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

from rich.cells import cell_len

# Explicit embeddings, overrides and isolates: dropped rather than obeyed.
EXPLICIT: Final = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
# Zero-width marks whose only job is to steer the algorithm: used, then not drawn.
_MARKS: Final = frozenset({"\u200e", "\u200f", "\u061c"})
_JOINERS: Final = frozenset({"\u200c", "\u200d"})
_MIRROR: Final = dict(zip("()[]{}<>«»\u2039\u203a", ")(][}{><»«\u203a\u2039", strict=True))
_NEUTRAL: Final = frozenset({"B", "S", "WS", "ON", "BN", "ES", "ET", "CS", "NSM"})
# Between two digits, what writes one number in groups: a phone number (0300-1234567,
# +92 300 1234567), an identity card's (35202-1234567-1), a date (12/03/2024).
_NUMBER_JOINERS: Final = frozenset("-+/. \u00a0\u2010\u2011\u2012\u2013")


@dataclass(frozen=True)
class Line:
    """One line as it should be drawn, and whether it belongs to a right-to-left paragraph."""

    text: str
    rtl: bool


def clean(text: str) -> str:
    """Drop explicit directional formatting characters, and tabs become spaces."""
    return "".join(
        "    " if ch == "\t" else ch for ch in text if unicodedata.bidirectional(ch) not in EXPLICIT
    )


def is_rtl(paragraph: str) -> bool:
    """Say whether a paragraph is right-to-left: its first strong character is (rules P2-P3)."""
    for ch in paragraph:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def has_rtl(text: str) -> bool:
    """Say whether any character of the text is a right-to-left letter."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def layout(text: str, width: int, *, reorder: bool = True) -> list[Line]:
    """Wrap text to `width` cells; each line in visual order, or logical for a bidi terminal."""
    width = max(width, 1)
    out: list[Line] = []
    for paragraph in clean(text).split("\n"):
        rtl = is_rtl(paragraph)
        clusters = _clusters(paragraph)
        levels = _levels(clusters, rtl)
        for start, end in _wrap(clusters, width):
            line, line_levels = clusters[start:end], levels[start:end]
            if reorder:
                line = _reorder(line, _trailing_space_at_base(line, line_levels, rtl))
            out.append(Line("".join(c for c in line if c not in _MARKS), rtl))
    return out


def visual(text: str, *, rtl: bool | None = None) -> str:
    """One line of text in visual order, as `layout` would draw it unwrapped."""
    direction = is_rtl(text) if rtl is None else rtl
    clusters = _clusters(clean(text))
    levels = _levels(clusters, direction)
    line = _reorder(clusters, _trailing_space_at_base(clusters, levels, direction))
    return "".join(c for c in line if c not in _MARKS)


def _clusters(text: str) -> list[str]:
    """Split text into a base character and the marks and joiners drawn with it."""
    clusters: list[str] = []
    for ch in text:
        attached = unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me")
        if clusters and (attached or ch in _JOINERS):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _levels(clusters: list[str], rtl: bool) -> list[int]:
    """Resolve each character's embedding level within one paragraph (W1-W7, N1-N2, I1-I2),
    a number's groups kept together (`_NUMBER_JOINERS`)."""
    base = 1 if rtl else 0
    sos = "R" if rtl else "L"
    types = [unicodedata.bidirectional(c[0]) for c in clusters]
    # W1: a mark with nothing before it takes the paragraph's direction.
    types = [sos if t == "NSM" and i == 0 else t for i, t in enumerate(types)]
    for i, t in enumerate(types):
        if t == "NSM":
            types[i] = types[i - 1]
    # W2, W3: European digits after Arabic letters are Arabic numbers; AL is R.
    last = sos
    for i, t in enumerate(types):
        if t in ("L", "R", "AL"):
            last = t
        elif t == "EN" and last == "AL":
            types[i] = "AN"
    types = ["R" if t == "AL" else t for t in types]
    # W4: one separator between two numbers of a kind joins them.
    for i in range(1, len(types) - 1):
        before, here, after = types[i - 1], types[i], types[i + 1]
        if here == "ES" and before == after == "EN":
            types[i] = "EN"
        elif here == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    _join_numbers(clusters, types)
    # W5: terminators (%, currency signs) next to European numbers join them.
    for i, t in enumerate(types):
        if t != "EN":
            continue
        j = i - 1
        while j >= 0 and types[j] == "ET":
            types[j] = "EN"
            j -= 1
        j = i + 1
        while j < len(types) and types[j] == "ET":
            types[j] = "EN"
            j += 1
    # W6: other separators and terminators are neutral.
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]
    # W7: European numbers in a left-to-right context are left-to-right.
    last = sos
    for i, t in enumerate(types):
        if t in ("L", "R"):
            last = t
        elif t == "EN" and last == "L":
            types[i] = "L"
    # N1, N2: neutrals between two of one direction take it; others take the paragraph's.
    i = 0
    while i < len(types):
        if types[i] not in _NEUTRAL:
            i += 1
            continue
        j = i
        while j < len(types) and types[j] in _NEUTRAL:
            j += 1
        before = _strong(types[i - 1]) if i > 0 else sos
        after = _strong(types[j]) if j < len(types) else sos
        fill = before if before == after else sos
        types[i:j] = [fill] * (j - i)
        i = j
    # I1, I2.
    if base == 0:
        return [{"L": 0, "R": 1}.get(t, 2) for t in types]
    return [1 if t == "R" else 2 for t in types]


def _join_numbers(clusters: list[str], types: list[str]) -> None:
    """Not Unicode's rule: one of `_NUMBER_JOINERS` between two digits of a kind, or a plus
    just before one, is of its number. Digits after Urdu letters are Arabic numbers (W2),
    and W4 joins no hyphen nor space between those: "0300-1234567" would be drawn
    "1234567-0300", and a reviewer copy another person's phone number from the screen."""
    numbers = ("EN", "AN")
    for i in range(1, len(types) - 1):
        before, after = types[i - 1], types[i + 1]
        if clusters[i] in _NUMBER_JOINERS and before == after and before in numbers:
            types[i] = before
    for i in range(len(types) - 1):
        if clusters[i] == "+" and types[i + 1] in numbers and (i == 0 or types[i - 1] == "WS"):
            types[i] = types[i + 1]


def _strong(kind: str) -> str:
    """The direction a resolved type counts as when resolving neutrals (numbers count as R)."""
    return "L" if kind == "L" else "R"


def _trailing_space_at_base(clusters: list[str], levels: list[int], rtl: bool) -> list[int]:
    """Rule L1: whitespace at the end of a line goes to the paragraph's level."""
    out = list(levels)
    i = len(clusters) - 1
    while i >= 0 and unicodedata.bidirectional(clusters[i][0]) in ("WS", "S", "B", "BN"):
        out[i] = 1 if rtl else 0
        i -= 1
    return out


def _reorder(clusters: list[str], levels: list[int]) -> list[str]:
    """Rules L2 and L4: reverse each run at or above every odd level; mirror brackets in RTL."""
    line = [
        _MIRROR.get(c, c) if level % 2 else c for c, level in zip(clusters, levels, strict=True)
    ]
    order = list(range(len(line)))
    # Levels here are 0, 1 or 2, so the lowest odd level is always 1.
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j
    return [line[k] for k in order]


def _wrap(clusters: list[str], width: int) -> list[tuple[int, int]]:
    """Break a paragraph into lines of at most `width` cells, at spaces where possible."""
    if not clusters:
        return [(0, 0)]
    lines: list[tuple[int, int]] = []
    start, used, space = 0, 0, -1
    i = 0
    while i < len(clusters):
        cells = cell_len(clusters[i])
        if clusters[i] == " ":
            space = i
        if used + cells > width and i > start:
            if clusters[i] == " ":
                lines.append((start, i))
                start, used, space = i + 1, 0, -1
                i += 1
                continue
            if space > start:
                lines.append((start, space))
                start, space = space + 1, -1
            else:
                lines.append((start, i))
                start = i
            used = sum(cell_len(c) for c in clusters[start:i])
        used += cells
        i += 1
    lines.append((start, len(clusters)))
    return lines
