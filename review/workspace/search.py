"""Search across decrypted content, Urdu and English, without plaintext at rest.

The index is a list of sealed segments, each mapping report numbers to the
normalised text of what was filed in one step (an import, a note). Segments
are written once and never edited, so adding to the index is cheap; searching
decrypts them into memory once and then scans plain strings, which keeps a
search over 100,000 reports within the time of a substring scan. Normalisation
folds case and the spelling variants that Urdu typed on different keyboards
produces (Arabic and Urdu yeh, kaf and heh; diacritics; tatweel; digits).
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from typing import Final

from review.workspace import Unlocked

# Harakat and other combining marks are optional in written Urdu: drop them all
# (the Basic Multilingual Plane holds every mark that Urdu and English use).
_MARKS: dict[int, str | None] = {
    cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))
}
_FOLD: Final[dict[int, str | None]] = {
    **_MARKS,
    0x064A: "\u06cc",  # Arabic yeh -> Farsi/Urdu yeh
    0x0649: "\u06cc",  # alef maksura -> Urdu yeh
    0x0643: "\u06a9",  # Arabic kaf -> keheh
    0x0647: "\u06c1",  # Arabic heh -> heh goal
    0x06C0: "\u06c1",  # heh with yeh above -> heh goal
    0x0640: None,  # tatweel
    0x200C: None,  # zero-width non-joiner
    0x200D: None,  # zero-width joiner
    **{0x0660 + d: str(d) for d in range(10)},  # Arabic-Indic digits
    **{0x06F0 + d: str(d) for d in range(10)},  # Urdu (extended) digits
}


# Past this many segments, the small ones are merged into one.
MAX_SEGMENTS: Final = 32


# `_FOLD` in two parts, for speed: str.translate looks every character up in a dict,
# while a regular expression finds the few that fold in C. The parts are disjoint and
# no letter the second makes is in the first, so doing one after the other is `_FOLD`.
_DROPPED: Final = re.compile(
    "[" + "".join(re.escape(chr(cp)) for cp, to in _FOLD.items() if to is None) + "]+"
)
_SWAPPED: Final = {cp: to for cp, to in _FOLD.items() if to is not None}
_SWAP_ANY: Final = re.compile("[" + "".join(re.escape(chr(cp)) for cp in _SWAPPED) + "]")


def normalize(text: str) -> str:
    """Fold text for matching: NFKC, case, Urdu letter variants, no marks, single spaces."""
    if text.isascii():  # NFKC keeps ASCII as it is, and nothing ASCII is in `_FOLD`
        return " ".join(text.lower().split())
    folded = _DROPPED.sub("", unicodedata.normalize("NFKC", text).casefold())
    if _SWAP_ANY.search(folded):
        folded = folded.translate(_SWAPPED)
    return " ".join(folded.split())


def add_segment(u: Unlocked, texts: Mapping[int, str]) -> None:
    """Seal a new segment of normalised texts (inside the caller's transaction)."""
    if not texts:
        return
    _write(u, {num: normalize(text) for num, text in texts.items()})
    count = u.conn.execute("SELECT count(*) FROM search_segments").fetchone()[0]
    if count > MAX_SEGMENTS:
        _merge_small(u)


def _write(u: Unlocked, texts: Mapping[int, str]) -> None:
    body = json.dumps({str(num): text for num, text in texts.items()}, ensure_ascii=False)
    row = u.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM search_segments").fetchone()
    seq = int(row[0])
    # Level 1: a fifth of level 6's time on an import's segment for a half more bytes
    # (10,000 bench reports: 0.05 s and 2.0 MB against 0.29 s and 1.4 MB); any level reads alike.
    sealed = u.key.seal_record(zlib.compress(body.encode("utf-8"), 1), _context(seq))
    u.conn.execute("INSERT INTO search_segments VALUES (?, ?)", (seq, sealed))


def _merge_small(u: Unlocked) -> None:
    """Merge every segment but the largest into one, so loading opens few records.

    Notes add one small segment each; the imports' segments are large. Leaving
    the largest alone keeps a merge cheap, and a merged segment that grows past
    it is left alone in its turn, so each text is merged a few times at most.
    """
    rows = u.conn.execute(
        "SELECT seq, sealed FROM search_segments ORDER BY length(sealed) DESC, seq"
    ).fetchall()
    merged: dict[int, list[str]] = {}
    for seq, sealed in sorted(rows[1:]):
        body = zlib.decompress(u.key.open_record(sealed, _context(seq)))
        for num, text in json.loads(body).items():
            merged.setdefault(int(num), []).append(text)
        u.conn.execute("DELETE FROM search_segments WHERE seq = ?", (seq,))
    _write(u, {num: "\n".join(parts) for num, parts in merged.items()})


class SearchIndex:
    """Every segment decrypted into memory: report number to its searchable text."""

    def __init__(self, texts: Mapping[int, str]) -> None:
        self._texts = dict(texts)

    @classmethod
    def load(cls, u: Unlocked) -> SearchIndex:
        """Decrypt every segment (once per process)."""
        texts: dict[int, list[str]] = {}
        for seq, sealed in u.conn.execute("SELECT seq, sealed FROM search_segments ORDER BY seq"):
            body = zlib.decompress(u.key.open_record(sealed, _context(seq)))
            for num, text in json.loads(body).items():
                texts.setdefault(int(num), []).append(text)
        return cls({num: "\n".join(parts) for num, parts in texts.items()})

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, num: int) -> str:
        """One report's normalised text ("" if it has none)."""
        return self._texts.get(num, "")

    def search(self, query: str, among: Iterable[int] | None = None) -> list[int]:
        """Report numbers whose text holds every word of the query, in number order."""
        terms = normalize(query).split()
        if not terms:
            return []
        nums = self._texts.keys() if among is None else set(among) & self._texts.keys()
        return sorted(n for n in nums if all(t in self._texts[n] for t in terms))


def _context(seq: int) -> bytes:
    return f"search:{seq}".encode("ascii")
