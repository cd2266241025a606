"""Telling copies apart: hashed word 5-grams of what a source wrote, and who shares them.

One source must not look like three. Besides the same source designation, two
reports are likely one source's when their texts are near-duplicates (Jaccard
similarity of word 5-grams at least `NEAR_DUPLICATE`), whatever the designation,
since a source who lost a codename and wrote again is one source; or when they
share rare phrasing (at least `RARE_PHRASES` 5-grams, with the entities masked
out, that no more than `RARE_DF` reports hold), since independent witnesses
describe the same event in their own words while one author reuses theirs; or
a passage (at least `LONG_PASSAGE` such 5-grams, however many reports hold them):
one author who reuses a paragraph in a fourth report made it common, so the
first three, one source until then, counted as four. A witness quotes a line or
a slogan; a passage that long is one author's. Words a report puts in quotation
marks (`entity_text.quotations`) are another's, an FIR's or a notice's, that two
writers can each quote word for word: they count towards no rare phrasing or passage.
A printed form's labels, heading and footer (`forms.printed`) are an NGO's, and a forwarded appeal
(`forwards.forwarded`, and a pasted news report) whoever's wrote it: neither is the
writer's, and they count towards nothing (`records.read` reads them as blanks).

Only hashes of the 5-grams are kept (in each report's sealed record,
`review.analysis.records`), under a scheme a record names (`HASHING`): hashes
of two schemes never match.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, combinations, compress, pairwise
from typing import Final

from review.analysis import entities
from review.workspace.search import normalize

# How a record's 5-grams are hashed. Hashes of two schemes never compare, so a record
# of an older one is hashed again from its report before it meets any other (`rehash`).
# 1: blake2b of each 5-gram's text. 2: blake2b of each word, 5 of them combined.
# 3: as 2, each word folded with what a reader cannot see dropped and letters that look
# like Latin ones read as Latin (`review.workspace.search.normalize`): a copy disguised so
# had other hashes under 2. 4: as 3, the masked 5-grams leave out words in quotation marks
# (`entity_text.quotations`): two writers quoting one FIR's line were one writer under 3;
# and an Arabic keyboard's alef with hamza read as alef (`normalize`). 5: as 4, a printed
# form's labels and heading (`forms.printed`), and a forwarded appeal
# (`forwards.forwarded`), left out of both sets of 5-grams: two families filling one NGO's
# form, or pasting one appeal, were one writer under 4. 6: as 5, a printed form's footer
# (its NGO's confidentiality line, office, helpline, disclaimer) left out of both too: two
# families typing one form's footer were one writer under 5. 7: as 6, every reference
# number (an FIR's "245/2024", a challan's, an account's, an IBAN: `entity_patterns`)
# masked like any entity: under 6 only thirteen digits were, so two families citing one
# FIR's number shared its 5-grams as one writer's words. 8: as 7, a short reference number
# in groups ("challan no 1234-5678") or a few words after its word ("FIR ka number 245 hai",
# "The FIR number for the case is 245") masked too: under 7 it was no entity, and two
# families citing it shared its 5-grams; and each line after a printed form's last blank kept
# with the 5-grams holding its words (`forms.tail`), left out where forms of two sources
# hold it: two families typing a footer with no printer's word were one writer under 7; and
# a pasted news report (`forwards.news`) left out as a forward is.
HASHING: Final = 8
NEAR_DUPLICATE: Final = 0.5
RARE_DF: Final = 3
RARE_PHRASES: Final = 4
LONG_PASSAGE: Final = 12
_SHINGLE: Final = 5
# A letter or a digit (what str.isalnum accepts): a word without one is punctuation.
_WORDY: Final = re.compile(r"[^\W_]")
# Shingles held by more reports than this are boilerplate: no use for finding copies.
_CANDIDATE_DF: Final = 50


def likely_copies(
    shingles: Mapping[int, set[int]], phrases: Mapping[int, set[int]]
) -> tuple[dict[int, dict[int, float]], dict[int, dict[int, int]]]:
    """Near-duplicates (each pair's similarity) and shared rare phrasing (each pair's count).

    `shingles` and `phrases` are each report's 5-gram hashes, the second with its
    entities masked. Only reports sharing an uncommon 5-gram are compared, so this
    stays far from comparing every pair of reports.
    """
    near: dict[int, dict[int, float]] = defaultdict(dict)
    phrasing: dict[int, dict[int, int]] = defaultdict(dict)
    for (a, b), _count in _sharing(shingles, _CANDIDATE_DF).items():
        sa, sb = shingles[a], shingles[b]
        score = len(sa & sb) / len(sa | sb)
        if score >= NEAR_DUPLICATE:
            near[a][b] = near[b][a] = score
    for (a, b), count in _sharing(phrases, RARE_DF).items():
        if count >= RARE_PHRASES:
            phrasing[a][b] = phrasing[b][a] = count
    for (a, b), count in _sharing(phrases, _CANDIDATE_DF).items():
        if count >= LONG_PASSAGE and b not in phrasing[a]:
            phrasing[a][b] = phrasing[b][a] = count
    return near, phrasing


def _sharing(hashes: Mapping[int, Iterable[int]], max_df: int) -> Counter[tuple[int, int]]:
    """Pairs of reports, with how many 5-grams they share that at most `max_df` reports hold."""
    index: dict[int, list[int]] = defaultdict(list)
    for num, held in hashes.items():
        for h in held:
            index[h].append(num)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if 2 <= len(holders) <= max_df:
            for a, b in combinations(sorted(holders), 2):
                shared[(a, b)] += 1
    return shared


# A 5-gram's hash is sum(word * _K**(4 - i)) mod 2**64, top 48 bits (_K odd, so each
# position's term stays a bijection of its word); fewer than 5 words fold the same way.
_K: Final = 0x9E3779B97F4A7C15
_MASK64: Final = 2**64 - 1
_POWERS: Final = tuple(pow(_K, _SHINGLE - 1 - i, 2**64) for i in range(_SHINGLE))
# A word's terms: its hash times each power above, mod 2**64 (the hash itself last).
_Terms = tuple[int, ...]


class WordHashes:
    """Each folded word's hash terms, kept for one run: most words recur across reports.

    With each word's terms worked out once, a 5-gram's hash is four additions.
    """

    def __init__(self) -> None:
        # () for a word of punctuation only, which no 5-gram holds.
        self._known: dict[str, _Terms] = {}
        # Each whitespace-separated token as written: the terms of its folded words.
        self._tokens: dict[str, tuple[_Terms, ...]] = {}
        self.masks: set[int] = set()

    def of_text(self, text: str) -> list[_Terms]:
        """The terms of the words of `text` folded: `of(normalize(text).split())`.

        Folding never joins or moves characters across whitespace, so each token as
        written is folded once per run, and a text already seen is only looked up.
        """
        tokens = self._tokens
        raw = text.split()
        found = list(map(tokens.get, raw))
        if None in found:
            for i, t in enumerate(found):
                if t is None:
                    found[i] = tokens[raw[i]] = tuple(self.of(normalize(raw[i]).split()))
        return list(chain.from_iterable(found))  # type: ignore[arg-type]

    def of(self, words: list[str]) -> list[_Terms]:
        """The terms of `words` in order, punctuation-only words left out."""
        known = self._known
        terms = list(map(known.get, words))
        if None in terms:
            for i, t in enumerate(terms):
                if t is None:
                    terms[i] = known[words[i]] = self._terms(words[i])
        return list(filter(None, terms))

    def _terms(self, word: str) -> _Terms:
        masked = "\x00" in word
        if not masked and not _WORDY.search(word):
            return ()
        # blake2b, not hash(): the hashes are kept, and str hashes change per process.
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big") | 1
        if masked:
            self.masks.add(h)
        return tuple(h * k & _MASK64 for k in _POWERS)


def shingles(text: str, masked: Sequence[entities.Entity], words: WordHashes) -> set[int]:
    """Hashed word 5-grams of normalised text, with the given entities masked out.

    Each masked entity stands as one word (`\x00kind`), put in its place between spaces
    before the text is folded (token by token, each once per run: `WordHashes.of_text`).
    """
    pieces: list[str] = []
    at = 0
    for ent in sorted(masked, key=lambda e: e.start):
        pieces += (text[at : ent.start], f" \x00{ent.kind} ")
        at = max(at, ent.end)
    pieces.append(text[at:])
    terms = words.of_text("".join(pieces))
    if not terms:
        return set()
    p4, p3, p2, p1, hs = zip(*terms, strict=True)
    n = len(hs)
    if n < _SHINGLE:
        if masked and sum(x in words.masks for x in hs) > 1:
            return set()  # a phrase is the source's own words: not one made of entities
        h = 0
        for x in hs:
            h = (h * _K + x) & _MASK64
        return {h >> 16}
    grams = zip(p4, p3[1:], p2[2:], p1[3:], hs[4:], strict=False)
    hashes = [((a + b + c + d + e) & _MASK64) >> 16 for a, b, c, d, e in grams]
    if not masked:
        return set(hashes)
    # A phrase is the source's own words: the 5-grams starting from q - 4 to p hold both
    # the masked words at p and q (and so are left out) when q - p < 5.
    held = list(compress(range(n), map(words.masks.__contains__, hs)))
    out: set[int] = set()
    start = 0
    for p, q in pairwise(held):
        if q - p < _SHINGLE:
            out.update(hashes[start : max(q - _SHINGLE + 1, start)])
            start = max(start, p + 1)
    out.update(hashes[start:])
    return out
