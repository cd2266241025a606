"""Who is one writer: reports grouped into likely sources, and why two are or are not one.

Corroboration counts writers, not reports, so the groups decide what counts; and what a
hostile report can say must not decide them. The rule (docs/REVIEW.md, "One writer"):

1. Reports of one source designation are one writer's, always.
2. The writer's own words (near-duplicate text, shared rare phrasing or passage,
   `review.analysis.copies`) and a reviewer's "one writer" join reports, transitively,
   except two a reviewer said are not one writer.
3. A phone number, CNIC or telling name given as the writer's own
   (`review.analysis.contacts`) is a claim anyone can write, so it joins only what it does
   not contradict: never two groups that other contacts each gives as its own tell apart
   (two CNICs, two phone numbers, two names), never two a reviewer parted, and never
   through a group that gives as its own the contacts of two writers who share none
   between them (one report's claim joins no two other writers).
4. A file two reports hold byte for byte is shared evidence (an e-FIR, a notice, a
   forwarded photo), not shared authorship: it joins no one unless a reviewer says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from review.analysis import links

Claim = tuple[str, str]  # (kind, key) of a contact or name given as the writer's own

# Kinds of which a writer has one: two of a kind tell two writers apart.
_TELLING: Final = ("cnic", "phone", "person")


@dataclass(frozen=True)
class Reports:
    """What grouping needs of each report: its designation, own claims and files."""

    source: Mapping[int, str]
    own: Mapping[int, frozenset[Claim]]
    files: Mapping[int, Mapping[str, str]]


class _Sets:
    """Disjoint sets, each known by its lowest member."""

    def __init__(self, items: Iterable[int]) -> None:
        self._up = {n: n for n in items}
        self._of = {n: [n] for n in self._up}

    def __contains__(self, n: int) -> bool:
        return n in self._up

    def find(self, n: int) -> int:
        while self._up[n] != n:
            self._up[n] = self._up[self._up[n]]
            n = self._up[n]
        return n

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = min(ra, rb), max(ra, rb)
            self._up[high] = low
            self._of[low] += self._of.pop(high)

    def of(self, n: int) -> list[int]:
        """The members of `n`'s set."""
        return self._of[self.find(n)]

    def members(self) -> dict[int, list[int]]:
        """Each set by its lowest member, its members in order."""
        return {root: sorted(members) for root, members in sorted(self._of.items())}


class Writers:
    """Reports grouped into likely writers by the rule above."""

    def __init__(
        self,
        reports: Reports,
        copies: Iterable[tuple[int, int]],
        decisions: Mapping[tuple[int, int], str],
    ) -> None:
        self._reports = reports
        nums = sorted(reports.source)
        self._parted = {p for p, d in decisions.items() if d == links.REJECTED}
        self.joined_by_reviewer = {p for p, d in decisions.items() if d == links.CONFIRMED}
        # 1. One designation.
        words = _Sets(nums)
        by_source: dict[str, int] = {}
        for num in nums:
            words.union(num, by_source.setdefault(reports.source[num], num))
        # 2. A reviewer's "one writer", then the writer's own words.
        for a, b in sorted(self.joined_by_reviewer) + sorted(copies):
            if a in reports.source and b in reports.source:
                self._join(words, a, b)
        self._words = words
        # 3. Claims, between the groups so far.
        groups = words.members()
        self._claims = {
            root: frozenset(c for n in members for c in reports.own.get(n, ()))
            for root, members in groups.items()
        }
        holders: dict[Claim, list[int]] = defaultdict(list)
        for root in sorted(groups):
            for claim in self._claims[root]:
                holders[claim].append(root)
        self.bridges = frozenset(r for r in groups if _bridges(r, self._claims[r], holders))
        final = _Sets(groups)
        for claim in sorted(holders):
            held = [r for r in holders[claim] if r not in self.bridges]
            for i, r in enumerate(held[1:], start=1):
                for earlier in held[:i]:
                    if self._claims_may_join(final, earlier, r):
                        final.union(earlier, r)
                        break
        self._root = {n: final.find(words.find(n)) for n in nums}

    def root(self, num: int) -> int:
        """The likely writer of report `num`, as the lowest report number of its group."""
        return self._root[num]

    def apart_reason(self, a: int, b: int) -> str | None:
        """Why reports a and b, which share a writer's claim or a file, are counted apart
        (None when they share neither, or are counted as one writer)."""
        if self.root(a) == self.root(b):
            return None
        shared = self._reports.own.get(a, frozenset()) & self._reports.own.get(b, frozenset())
        if shared:
            return f"{own_reason(shared)}, but {self._why_apart(a, b)}: counted apart"
        mine, theirs = self._reports.files.get(a, {}), self._reports.files.get(b, {})
        if files := sorted(mine[d] for d in mine.keys() & theirs.keys()):
            return (
                f"{file_reason(files)}: shared evidence (a document many hold, a forwarded"
                " photo), not a sign of one writer, counted apart"
                f" (`links writer {a} {b} same` if a reviewer knows it is)"
            )
        return None

    def _why_apart(self, a: int, b: int) -> str:
        ga, gb = self._words.find(a), self._words.find(b)
        if not self._may_join(self._words, ga, gb):
            return "a reviewer said they are not one writer"
        if ga in self.bridges or gb in self.bridges:
            return (
                "one of them gives as its own the contacts of two writers who share none,"
                " which joins it to neither"
            )
        return "other contacts each gives as its own tell the writers apart"

    def _join(self, sets: _Sets, a: int, b: int) -> None:
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb and self._may_join(sets, ra, rb):
            sets.union(ra, rb)

    def _may_join(self, sets: _Sets, ra: int, rb: int) -> bool:
        """Whether no reviewer parted a report of the group `ra` from one of `rb`."""
        return not any({sets.find(x), sets.find(y)} == {ra, rb} for x, y in self._parted)

    def _claims_may_join(self, final: _Sets, x: int, y: int) -> bool:
        """Whether the claim groups of x and y (groups of step 2) may become one: no two of
        their groups told apart by their own contacts, or parted by a reviewer."""
        if final.find(x) == final.find(y):
            return False
        return not any(
            _told_apart(self._claims[g], self._claims[h]) or not self._may_join(self._words, g, h)
            for g in final.of(x)
            for h in final.of(y)
        )


def _told_apart(a: frozenset[Claim], b: frozenset[Claim]) -> bool:
    """Whether two groups each give as their own a contact of one kind, and none in common."""
    for kind in _TELLING:
        ka = {key for k, key in a if k == kind}
        kb = {key for k, key in b if k == kind}
        if ka and kb and not ka & kb:
            return True
    return False


def _bridges(root: int, claims: frozenset[Claim], holders: Mapping[Claim, list[int]]) -> bool:
    """Whether the group `root` gives as its own the claims of two or more other groups
    that share no claim between them: it alone would make them one writer."""
    partners = sorted({r for c in claims for r in holders[c]} - {root})
    if len(partners) < 2:
        return False
    sets = _Sets(partners)
    for held in holders.values():
        among = [r for r in held if r in sets]
        for r in among[1:]:
            sets.union(among[0], r)
    return len({sets.find(r) for r in partners}) > 1


def own_reason(shared: Iterable[Claim]) -> str:
    """Why two reports are said to be one writer's: the contacts both give as their own."""
    kinds = {"phone": "phone number", "cnic": "CNIC", "person": "name"}
    said = ", ".join(f"{kinds[kind]} {key}" for kind, key in sorted(shared))
    return f"gives the same {said} as the writer's own"


def file_reason(names: list[str]) -> str:
    """What two reports hold: a file both were sent, byte for byte."""
    named = ", ".join(repr(n) for n in names if n)
    return f"holds the same attached file, byte for byte{f' ({named})' if named else ''}"
