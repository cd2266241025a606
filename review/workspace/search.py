"""Search across decrypted content, Urdu and English, without plaintext at rest.

The index is a list of sealed segments, each mapping report numbers to the
normalised text of what was filed in one step (an import, a note). Segments
are written once and never edited, so adding to the index is cheap; searching
decrypts them into memory once and then scans plain strings, which keeps a
search over 100,000 reports within the time of a substring scan. Normalisation
folds case and the spelling variants that Urdu typed on different keyboards
produces (Arabic and Urdu yeh, kaf and heh; diacritics; tatweel; digits), and drops
what a reader cannot see or tell apart (invisible characters; Cyrillic and Greek letters
that look like Latin ones; Latin diacritics), so a disguised word is the word it reads as.
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
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, 15.1): nothing on a
# screen, so a source can put them inside a word to make it another word to a machine.
_IGNORABLE: Final = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner (a mark of class 0: `_MARKS` misses it)
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner; LRM, RLM
    (0x202A, 0x202E),  # directional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, directional isolates
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (a byte order mark)
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)
# Letters of other scripts that look like Latin ones (Unicode's confusables.txt), as
# `str.casefold` leaves them: "Tariq" with a Cyrillic capital te, or "Mehmood" with a
# Greek capital mu, reads as Latin. Where a Greek capital and its small letter look like
# two Latin ones (eta H and n, mu M and u, nu N and v), the capital's wins: capitals are
# the letters written alike.
_LOOKALIKE: Final = {
    # Cyrillic a ve ie i je ka em en o er es te u ha dze shha komi-de qa we palochka ue io
    **dict(
        zip(
            "\u0430\u0432\u0435\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442"
            "\u0443\u0445\u0455\u04bb\u0501\u051b\u051d\u04cf\u04af\u0451",
            "abeijkmhopctyxshdqwlye",
            strict=True,
        )
    ),
    # Greek alpha beta epsilon zeta eta iota kappa mu nu omicron rho tau upsilon chi,
    # lunate sigma, yot
    **dict(
        zip(
            "\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba\u03bc\u03bd\u03bf\u03c1\u03c4"
            "\u03c5\u03c7\u03f2\u03f3",
            "abezhikmnoptyxcj",
            strict=True,
        )
    ),
    # Armenian oh and seh; Latin dotless i and j, alpha, script g
    **dict(zip("\u0585\u057d\u0131\u0237\u0251\u0261", "ouijag", strict=True)),
    # Slashes and hyphens that look like "/" and "-": a record's "s/o", a number's dashes.
    # Fraction slash, division slash, big solidus, box drawing diagonal; hyphen bullet,
    # modifier minus, heavy minus; heh goal with hamza (an izafat) as heh goal.
    **dict.fromkeys("\u2044\u2215\u29f8\u2571", "/"),
    **dict.fromkeys("\u2043\u02d7\u2796", "-"),
    "\u06c2": "\u06c1",
    # Pashto letters for the Urdu ones of the same sound, as a Pashto keyboard types a
    # name of Khyber Pakhtunkhwa: teh with ring, dal with ring, reh with ring, kaf with
    # ring, noon with ring, yeh with two dots below, yeh with tail.
    **dict(
        zip(
            "\u067c\u0689\u0693\u06ab\u06bc\u06d0\u06cd",
            "\u0679\u0688\u0691\u06af\u0646\u06cc\u06cc",
            strict=True,
        )
    ),
}
# Latin letters with diacritics, as their base letters: "Ṭāriq Maḥmūd" is Tariq Mahmud.
_LATIN_BASE: Final = {
    cp: base
    for cp in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))
    if (
        base := "".join(
            c
            for c in unicodedata.normalize("NFKD", chr(cp).casefold())
            if not unicodedata.combining(c)
        )
    )
    and base.isascii()
    and base != chr(cp)
}
_FOLD: Final[dict[int, str | None]] = {
    **_MARKS,
    **{cp: None for a, b in _IGNORABLE for cp in range(a, b + 1)},
    **{ord(ch): latin for ch, latin in _LOOKALIKE.items()},
    **_LATIN_BASE,
    0x064A: "\u06cc",  # Arabic yeh -> Farsi/Urdu yeh
    0x0649: "\u06cc",  # alef maksura -> Urdu yeh
    0x0643: "\u06a9",  # Arabic kaf -> keheh
    0x0647: "\u06c1",  # Arabic heh -> heh goal
    0x06C0: "\u06c1",  # heh with yeh above -> heh goal
    # Alef with hamza above or below, and alef wasla, as an Arabic keyboard types a name
    # Urdu writes with a bare alef (أحمد, إسحاق): one name, one key
    0x0623: "\u0627",
    0x0625: "\u0627",
    0x0671: "\u0627",
    0x0640: None,  # tatweel
    0x200C: None,  # zero-width non-joiner
    0x200D: None,  # zero-width joiner
    **{0x0660 + d: str(d) for d in range(10)},  # Arabic-Indic digits
    **{0x06F0 + d: str(d) for d in range(10)},  # Urdu (extended) digits
    0x2800: " ",  # braille pattern blank (`BLANKS`)
}


# Characters shown as a blank that are not whitespace to `str.split`: a space between
# words to a reader, so one to matching too ("Tariq<braille blank>Mehmood").
BLANKS: Final = "\u2800"


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
