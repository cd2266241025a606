"""Folding a report's text for matching, with each folded character's place in the text.

Folding is `review.workspace.search.normalize` applied character by character, so
every folded character still knows where it came from. Most texts hold no
character whose fold is other than its `str.lower()` (a check made in C), and are
folded by `str.lower()`; the others go through one `str.translate` table (each
character's fold computed the first time it is met). Either way a text is folded
in C, with no Python step per character.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from itertools import chain, repeat
from typing import Final

from review.workspace.search import BLANKS, normalize

_SPACES: Final = re.compile(r"\s{2,}")
_FOLD_CACHE_MAX: Final = 65536


def _fold_char(ch: str) -> str:
    return " " if ch.isspace() or ch in BLANKS else normalize(ch)


class _FoldTable(dict[int, str]):
    """Each code point's fold (whitespace to one space), computed when first met."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < _FOLD_CACHE_MAX:  # rare characters cannot grow it forever
            self[code] = folded
        return folded


class _KeepSpaces(_FoldTable):
    """Each code point's fold, whitespace kept as it is."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = ch if ch.isspace() else " " if ch in BLANKS else normalize(ch)
        if len(self) < _FOLD_CACHE_MAX:
            self[code] = folded
        return folded


_TABLE: Final = _FoldTable()
_KEEPING: Final = _KeepSpaces()
# ASCII whitespace but the space, which `str.lower()` keeps and folding makes a space.
_ASCII_SPACES: Final = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f]")
# "ΑΣ".lower() is "ας": the one mapping of `str.lower()` that looks at its neighbours.
_CONTEXTUAL: Final = (0x03A3,)


@functools.cache
def _unlike_lower() -> re.Pattern[str]:
    """Any character whose fold is not its `str.lower()`, one for one, in every text.

    Found once by trying every character of the Basic Multilingual Plane; characters
    beyond it are all taken as unlike (they go the general way).
    """
    odd = [
        cp
        for cp in range(0x80, 0x10000)
        if len(low := chr(cp).lower()) != 1 or _fold_char(chr(cp)) != low
    ]
    spans: list[list[int]] = []
    for cp in sorted({*odd, *_CONTEXTUAL}):
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    ranges = "".join(
        re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in spans
    )
    return re.compile(f"[{ranges}\U00010000-\U0010ffff]")


def fold(text: str) -> tuple[str, Sequence[int]]:
    """Fold like `normalize`, in one pass, with each folded character's offset in `text`."""
    if _unlike_lower().search(text) is None:  # each character folds to its lower case
        folded = _ASCII_SPACES.sub(" ", text.lower())
    else:
        folded = text.translate(_TABLE)
    where: Sequence[int] = range(len(text) + 1)
    if len(folded) != len(text):  # a mark dropped or a ligature expanded: count each share
        lengths = map(len, map(_TABLE.__getitem__, map(ord, text)))
        where = [*chain.from_iterable(map(repeat, range(len(text)), lengths)), len(text)]
    if "  " not in folded:
        return folded, where
    parts, kept, last = [], [], 0  # runs of spaces become one, so phrases match across them
    for m in _SPACES.finditer(folded):
        parts.append(folded[last : m.start() + 1])
        kept.append(where[last : m.start() + 1])
        last = m.end()
    parts.append(folded[last:])
    kept.append(where[last:])
    return "".join(parts), [*chain.from_iterable(kept)]


def fold_letters(text: str) -> tuple[str, Sequence[int]]:
    """`fold`, but every whitespace character kept as written (line breaks, runs of spaces),
    for rules that read how far apart words are or where a line ends."""
    if _unlike_lower().search(text) is None:
        return text.lower(), range(len(text) + 1)
    folded = text.translate(_KEEPING)
    if len(folded) == len(text):
        return folded, range(len(text) + 1)
    lengths = map(len, map(_KEEPING.__getitem__, map(ord, text)))
    return folded, [*chain.from_iterable(map(repeat, range(len(text)), lengths)), len(text)]
