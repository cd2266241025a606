"""Who is one writer: reports grouped into likely sources, and why two are or are not one.

Corroboration counts writers, not reports, so the groups decide what counts; and what a
hostile report can say must not decide them. The rule (docs/REVIEW.md, "One writer"):

1. Reports of one source designation are one writer's, always.
2. A reviewer's "one writer" joins reports, transitively; so do the writer's own words
   (near-duplicate text, shared rare phrasing or passage, `review.analysis.copies`),
   but never through a report sharing words with two writers who share none between
   them (one who read two leaked packets can quote both), never two that give as their
   own CNICs or names telling them apart (clients of one lawyer's template), and never
   two a reviewer said are not one writer.
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

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Final

from review.analysis import links

Claim = tuple[str, str]  # (kind, key) of a contact or name given as the writer's own

# Kinds of which a writer has one: two of a kind tell two writers apart.
_TELLING: Final = ("cnic", "phone", "person")
# Kinds of which a writer has one for good: a phone may change with a codename, these not.
_FIXED: Final = ("cnic", "person")
# More contacts than a writer gives as their own (a phone or two, a CNIC, a name): a report
# listing more is no writer's word on who they are, and joins no one by them.
_MOST_CLAIMS: Final = 6
# The groups holding one claim that are each tried, when others are told apart from them:
# a claim a crowd of writers gives is no one writer's.
_TRIES: Final = 4


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
            kept, moved = self._of[low], self._of.pop(high)
            if len(kept) < len(moved):  # the shorter list moves: linear in all
                kept, moved = moved, kept
            kept += moved
            self._of[low] = kept

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
        # 2. A reviewer's "one writer", then the writer's own words but a bridge's.
        for a, b in sorted(self.joined_by_reviewer):
            if a in reports.source and b in reports.source:
                self._join(words, a, b)
        self._copied = {
            (min(a, b), max(a, b))
            for a, b in copies
            if a != b and a in reports.source and b in reports.source
        }
        base = {n: words.find(n) for n in nums}
        self.word_bridges = _bridging(
            (base[a], base[b]) for a, b in self._copied if base[a] != base[b]
        )
        self._base = base
        # What each group says it is for good (a CNIC, a name), merged as groups join.
        fixed: dict[int, dict[str, set[str]]] = defaultdict(dict)
        for n in nums:
            for kind, key in reports.own.get(n, ()):
                if kind in _FIXED:
                    fixed[base[n]].setdefault(kind, set()).add(key)
        self._worded_apart: set[tuple[int, int]] = set()
        for a, b in sorted(self._copied):
            if base[a] in self.word_bridges or base[b] in self.word_bridges:
                continue
            ra, rb = words.find(a), words.find(b)
            if ra != rb and _differ(fixed[ra], fixed[rb]):
                self._worded_apart.add((a, b))
                continue
            self._join(words, a, b)
            if ra != rb and (root := words.find(a)) == words.find(b):
                merged = fixed[root]
                for kind, keys in fixed.pop(rb if root == ra else ra, {}).items():
                    merged.setdefault(kind, set()).update(keys)
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
        self.crowded = frozenset(r for r in groups if len(self._claims[r]) > _MOST_CLAIMS)
        self.bridges = _bridges(
            {r: c for r, c in self._claims.items() if r not in self.crowded}, holders
        )
        final = _Sets(groups)
        # Each group's own contacts by kind, merged as groups join (the larger kept).
        self._kinds: dict[int, dict[str, set[str]]] = {
            r: _by_kind(c) for r, c in self._claims.items()
        }
        for claim in sorted(holders):
            anchors: list[int] = []  # groups holding it, none yet joining another
            for r in holders[claim]:
                if r in self.bridges or r in self.crowded:
                    continue
                if (
                    not any(self._claims_join(final, a, r) for a in anchors)
                    and len(anchors) < _TRIES
                ):
                    anchors.append(r)
        self._root = {n: final.find(words.find(n)) for n in nums}
        self._grouped: dict[int, list[int]] | None = None

    def by_words(self, a: int, b: int) -> bool:
        """Whether reports a and b are one writer's by designation, their own words or a
        reviewer's word: not by a contact alone, which anyone who knows it can write."""
        return self._words.find(a) == self._words.find(b)

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
        if (min(a, b), max(a, b)) in self._copied:
            return f"shares its writer's words, but {self._words_apart(a, b)}: counted apart"
        mine, theirs = self._reports.files.get(a, {}), self._reports.files.get(b, {})
        if files := sorted(mine[d] for d in mine.keys() & theirs.keys()):
            return (
                f"{file_reason(files)}: shared evidence (a document many hold, a forwarded"
                " photo), not a sign of one writer, counted apart"
                f" (`links writer {a} {b} same` if a reviewer knows it is)"
            )
        return None

    def _words_apart(self, a: int, b: int) -> str:
        if (min(a, b), max(a, b)) in self._worded_apart:
            return (
                "other contacts each gives as its own (a CNIC, a name) tell the writers apart,"
                " as when clients fill in one lawyer's template"
                f" (`links writer {min(a, b)} {max(a, b)} same` if a reviewer knows they are one)"
            )
        if self._base[a] in self.word_bridges or self._base[b] in self.word_bridges:
            return (
                "one of them shares passages with two writers who share none, which joins"
                f" it to neither (`links writer {a} {b} same` if a reviewer knows it is)"
            )
        return "a reviewer said they are not one writer"

    def _why_apart(self, a: int, b: int) -> str:
        ga, gb = self._words.find(a), self._words.find(b)
        if not self._may_join(self._words, ga, gb):
            return "a reviewer said they are not one writer"
        if ga in self.crowded or gb in self.crowded:
            return f"one of them gives more than {_MOST_CLAIMS} contacts as its own"
        if ga in self.bridges or gb in self.bridges:
            return (
                "one of them gives as its own the contacts of two writers who share none,"
                " which joins it to neither"
            )
        return self._told_apart(a, b)

    def _told_apart(self, a: int, b: int) -> str:
        """Which reports' contacts tell the writers of a and b apart: a report counted with
        one by a claimed contact alone may be planted, so the reviewer is told which."""
        ra, rb = self._root[a], self._root[b]
        ka, kb = self._kinds.get(ra, {}), self._kinds.get(rb, {})
        for kind in _TELLING:
            if ka.get(kind) and kb.get(kind) and ka[kind].isdisjoint(kb[kind]):
                low, high = sorted((a, b))
                return (
                    "other contacts each gives as its own tell the writers apart ("
                    f"{self._giving(ra, kind, ka[kind])}; {self._giving(rb, kind, kb[kind])}:"
                    f" `links writer {low} {high} same` if a reviewer knows they are one,"
                    " `links writer ... apart` parts a planted one)"
                )
        return "other contacts each gives as its own tell the writers apart"

    def _giving(self, root: int, kind: str, keys: Iterable[str]) -> str:
        """'#2 gives CNIC ...': the reports of a group giving these contacts as their own."""
        said = sorted(keys)
        nums = [
            n
            for n in self._members(root)
            if any((kind, key) in self._reports.own.get(n, ()) for key in said)
        ]
        named = ", ".join(f"#{n}" for n in nums)
        contacts = ", ".join(f"{_KIND_NAMES[kind]} {key}" for key in said)
        return f"{named} {'gives' if len(nums) == 1 else 'give'} {contacts}"

    def _members(self, root: int) -> list[int]:
        if self._grouped is None:
            self._grouped = defaultdict(list)
            for n, r in sorted(self._root.items()):
                self._grouped[r].append(n)
        return self._grouped.get(root, [])

    def _join(self, sets: _Sets, a: int, b: int) -> None:
        ra, rb = sets.find(a), sets.find(b)
        if ra != rb and self._may_join(sets, ra, rb):
            sets.union(ra, rb)

    def _may_join(self, sets: _Sets, ra: int, rb: int) -> bool:
        """Whether no reviewer parted a report of the group `ra` from one of `rb`."""
        return not any({sets.find(x), sets.find(y)} == {ra, rb} for x, y in self._parted)

    def _claims_join(self, final: _Sets, x: int, y: int) -> bool:
        """Join the claim groups of x and y unless their own contacts tell them apart (of one
        kind, none in common) or a reviewer parted a report of one from one of the other;
        whether they are one now."""
        rx, ry = final.find(x), final.find(y)
        if rx == ry:
            return True
        kx, ky = self._kinds[rx], self._kinds[ry]
        if any(kx.get(k) and ky.get(k) and kx[k].isdisjoint(ky[k]) for k in _TELLING):
            return False
        if any(
            {final.find(self._words.find(a)), final.find(self._words.find(b))} == {rx, ry}
            for a, b in self._parted
        ):
            return False
        final.union(rx, ry)
        kept, moved = self._kinds.pop(max(rx, ry)), self._kinds.pop(min(rx, ry))
        for kind, keys in moved.items():
            if len(kept.setdefault(kind, set())) < len(keys):
                kept[kind], keys = keys, kept[kind]
            kept[kind] |= keys
        self._kinds[final.find(rx)] = kept
        return True


def _differ(mine: Mapping[str, set[str]], theirs: Mapping[str, set[str]]) -> bool:
    """Whether two groups give as their own CNICs none alike, or names neither of which
    holds the other ("Asif Iqbal" may be "Asif Iqbal Gondal"): two people, whatever words
    they share (clients of one lawyer's template)."""
    if (cnics := mine.get("cnic")) and (others := theirs.get("cnic")) and cnics.isdisjoint(others):
        return True
    names, other_names = mine.get("person", set()), theirs.get("person", set())
    return bool(names and other_names) and not any(
        set(x.split()) <= set(y.split()) or set(y.split()) <= set(x.split())
        for x in names
        for y in other_names
    )


def _by_kind(claims: Iterable[Claim]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for kind, key in claims:
        out[kind].add(key)
    return dict(out)


def _bridging(edges: Iterable[tuple[int, int]]) -> frozenset[int]:
    """The groups sharing words with two or more others that share none between them: a
    report quoting two leaked packets would make their sources one writer.

    Two of a group's neighbours are bound when they share words themselves; a group
    whose neighbours fall apart into two or more bound sets is a bridge."""
    near: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        near[a].add(b)
        near[b].add(a)
    out = []
    for root, others in near.items():
        if len(others) < 2:
            continue
        order = sorted(others)
        bound = _Sets(range(len(order)))
        for i, x in enumerate(order):
            for j in range(i + 1, len(order)):
                if order[j] in near[x]:
                    bound.union(i, j)
        if len(bound.members()) > 1:
            out.append(root)
    return frozenset(out)


def _bridges(
    claims: Mapping[int, frozenset[Claim]], holders: Mapping[Claim, list[int]]
) -> frozenset[int]:
    """The groups that give as their own the claims of two or more other groups that no
    other group's claims bind together: each alone would make them one writer.

    Read locally, in time linear in the groups: two of a group's claims are bound when
    another group gives both too."""
    both: Counter[tuple[Claim, Claim]] = Counter()
    for held in claims.values():
        for pair in combinations(sorted(held), 2):
            both[pair] += 1
    out = []
    for root, held in claims.items():
        shared = [c for c in sorted(held) if len(holders[c]) > 1]
        if len(shared) < 2:
            continue
        bound = _Sets(range(len(shared)))
        for (i, a), (j, b) in combinations(enumerate(shared), 2):
            if both[(a, b)] > 1:
                bound.union(i, j)
        if len(bound.members()) > 1:
            out.append(root)
    return frozenset(out)


_KIND_NAMES: Final = {"phone": "phone number", "cnic": "CNIC", "person": "name"}


def own_reason(shared: Iterable[Claim]) -> str:
    """Why two reports are said to be one writer's: the contacts both give as their own."""
    said = ", ".join(f"{_KIND_NAMES[kind]} {key}" for kind, key in sorted(shared))
    return f"gives the same {said} as the writer's own"


CLAIMED: Final = (
    " (weak: anyone who knows it can write it, as a source who lost a codename does;"
    " `links writer NUM OTHER same|apart` decides)"
)


def file_reason(names: list[str]) -> str:
    """What two reports hold: a file both were sent, byte for byte."""
    named = ", ".join(repr(n) for n in names if n)
    return f"holds the same attached file, byte for byte{f' ({named})' if named else ''}"
