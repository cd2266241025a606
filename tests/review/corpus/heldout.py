"""Score the extractor on a held-out corpus: mentions by span overlap, and cross-report links.

The held-out corpus is written apart from the extractor's rules and never used to
tune them. Format: `=== H01 en|ur|ru` starts a report, its text follows, `---`
starts its annotations, one a line: `kind: text as written => ID`, where ID names
the real-world entity (the same person, station, place in every report that names
it; `DT-…` ids are dates, left out of links). Mentions are listed in order of
appearance, so each gold text is located after the one listed before it
(`check_heldout.place`): a short form listed after a longer one that contains it
is found where it stands, not inside the longer one. `heldout4.txt`,
`heldout5.txt`, `heldout7.txt` and `heldout10.txt` are the held-out corpora;
`heldout.txt`, `heldout2.txt`, `heldout3.txt`, `heldout6.txt`, `heldout8.txt` and
`heldout9.txt`, seen and scored, are development sets (HELDOUT.md).

Figures, all aggregates (no mention is ever printed, so the corpus stays unseen):
precision, recall and F1 per kind and overall, where an extracted entity matches
a gold mention of the same kind whose span it overlaps (one to one); links made
out of expected, where an expected link is (report a, report b, ID) for an ID
annotated in both and it is made when the review tool links the two reports on it:
one key (of one kind) given to mentions of that ID in both, or a short form of a
name in one and the full name in the other (`links.short_form_links`, strong or
weak); links missed, by kind, as "not found" (a mention of the ID missed in one
report or both) or "keyed apart" (found in both, joined by nothing); and false
links, where a person's or station's key is shared by two reports whose mentions
under it match no common ID (or no gold mention), or a short-form link joins
mentions that share no ID.
False links are told apart by what the review tool makes of them
(`review.analysis.links.pair_strength`, from the key, the places both reports name and the
ranks they give a name):
those it counts as corroboration (strong) and those it shows as weak, which count
only once a reviewer confirms them.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from review.analysis import links
from review.analysis.entities import Entity
from tests.review.corpus import ANNOTATED as KINDS
from tests.review.corpus import Rates
from tests.review.corpus.check_heldout import place

LINKED_KINDS = ("person", "police_station")  # where a false link does harm
NOT_FOUND = "not found"
KEYED_APART = "keyed apart"


@dataclass(frozen=True)
class Mention:
    """One gold mention: kind, where it is, and the id of what it names."""

    kind: str
    start: int
    end: int
    ident: str


@dataclass(frozen=True)
class Report:
    """One held-out report: text, language and gold mentions (those found in the text)."""

    id: str
    language: str
    text: str
    gold: tuple[Mention, ...]
    unplaced: int  # annotations whose text was not found in the report
    other: int = 0  # annotations of a kind outside KINDS


def load(path: Path) -> list[Report]:
    """Read a held-out corpus file."""
    reports = []
    for chunk in path.read_text("utf-8").split("=== ")[1:]:
        head, _, rest = chunk.partition("\n")
        body, _, notes = rest.partition("\n---\n")
        ident, language = head.split()[:2]
        text = body.strip()
        gold, unplaced, other = [], 0, 0
        annotated = (_annotation(line) for line in notes.strip().splitlines())
        listed = [a for a in annotated if a is not None]
        starts = place(text, [written for _, written, _ in listed])
        for (kind, written, entity), start in zip(listed, starts, strict=True):
            if kind not in KINDS:
                other += 1  # a kind the extractor does not claim: counted apart, printed
                continue
            if start < 0:
                unplaced += 1
                continue
            gold.append(Mention(kind, start, start + len(written), entity))
        reports.append(Report(ident, language, text, tuple(gold), unplaced, other))
    return reports


def _annotation(line: str) -> tuple[str, str, str] | None:
    """Split `kind: text as written => ID`; None for a blank or `#` line."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    kind, _, value = line.partition(":")
    written, _, entity = value.rpartition("=>")
    return kind.strip(), written.strip(), entity.strip()


@dataclass
class Figures(Rates):
    """Mention and link figures over a corpus."""

    expected_links: int = 0
    made_links: int = 0
    false_links: Counter[str] = field(default_factory=Counter)  # counted as corroboration
    weak_false_links: Counter[str] = field(default_factory=Counter)  # shown weak, not counted
    # Right links (same key, same real entity) of a linked kind, and those counted as
    # corroboration without a reviewer: what the strength rules cost in missed support.
    right_links: int = 0
    right_strong_links: int = 0
    # Links made by a short form of a name in one report and the full name in another
    # (`links.short_form_links`), right ones and those counted as corroboration; false ones
    # counted as corroboration are in `false_links`, those shown weak are counted here.
    right_short_links: int = 0
    right_strong_short_links: int = 0
    weak_false_short_links: int = 0
    # Links between an agency named bare and one of its wings in one district
    # (`links.wing_links`, context only): right, and false (mentions sharing no gold id).
    right_wing_links: int = 0
    false_wing_links: int = 0
    # Expected links not made, by the kind of what they name and why: "not found" (a
    # mention of it missed in one report or both) or "keyed apart" (found in both, but no
    # key and no short-form link joins them).
    missed: Counter[tuple[str, str]] = field(default_factory=Counter)
    unplaced: int = 0
    other: int = 0
    reports: int = 0

    def link_share(self) -> float:
        """The share of expected links made."""
        return self.made_links / self.expected_links if self.expected_links else 1.0

    def table(self) -> str:
        """Every figure, printable; aggregates only."""
        false = ", ".join(f"{k} {n}" for k, n in sorted(self.false_links.items())) or "none"
        weak = ", ".join(f"{k} {n}" for k, n in sorted(self.weak_false_links.items())) or "none"
        return "\n".join(
            (
                super().table(),
                f"links made {self.made_links} of {self.expected_links} expected "
                f"({self.link_share():.1%}); false links counted as corroboration "
                f"{sum(self.false_links.values())} ({false}); false links shown as weak "
                f"{sum(self.weak_false_links.values())} ({weak}); right links of a person or "
                f"station counted as corroboration {self.right_strong_links} of {self.right_links}",
                f"short-form links of a person: right {self.right_short_links} (counted as "
                f"corroboration {self.right_strong_short_links}), false shown as weak "
                f"{self.weak_false_short_links}; an agency and its wing: right "
                f"{self.right_wing_links}, false {self.false_wing_links}",
                "links missed: "
                + (
                    "; ".join(
                        f"{kind} {self.missed[(kind, NOT_FOUND)]} not found, "
                        f"{self.missed[(kind, KEYED_APART)]} keyed apart"
                        for kind in KINDS
                        if self.missed[(kind, NOT_FOUND)] or self.missed[(kind, KEYED_APART)]
                    )
                    or "none"
                ),
                f"{self.reports} reports; annotations not found in the text: {self.unplaced}; "
                f"of other kinds: {self.other}",
            )
        )


def score(reports: Iterable[Report], extract: Callable[[str], list[Entity]]) -> Figures:
    """Run the extractor over every report and score it."""
    figures = Figures()
    # (kind, key) -> report -> ids its mentions under that key match (empty: none)
    keyed: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(dict)
    ids: dict[str, set[str]] = {}
    places: dict[str, frozenset[str]] = {}
    roles: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # designations by key
    kinds: dict[str, str] = {}  # a gold id: the kind of its mentions
    found_ids: dict[str, set[str]] = defaultdict(set)  # a report: gold ids it found
    for report in reports:
        figures.reports += 1
        figures.unplaced += report.unplaced
        figures.other += report.other
        ids[report.id] = {g.ident for g in report.gold if not g.ident.startswith("DT-")}
        kinds.update((g.ident, g.kind) for g in report.gold)
        pairs = _match(report, extract(report.text))
        places[report.id] = links.places(
            links.setting(e.kind, e.key, (e.designation,)) for e, _ in pairs
        )
        for entity, matched in pairs:
            seen = keyed[(entity.kind, entity.key)].setdefault(report.id, set())
            if entity.designation:
                roles[(report.id, entity.kind, entity.key)].add(entity.designation)
            if matched is not None:
                seen.add(matched.ident)
                found_ids[report.id].add(matched.ident)
        gold = Counter(g.kind for g in report.gold)
        found = Counter(e.kind for e, _ in pairs)
        hits = Counter(e.kind for e, m in pairs if m is not None)
        for kind in KINDS:
            figures.tp[kind] += hits[kind]
            figures.fp[kind] += found[kind] - hits[kind]
            figures.fn[kind] += gold[kind] - hits[kind]
    short = _short_form_links(figures, keyed, places, roles)
    for pair, made in _wing_links(figures, keyed, places).items():
        short.setdefault(pair, set()).update(made)
    for a, b in itertools.combinations(sorted(ids), 2):
        shared = ids[a] & ids[b]
        figures.expected_links += len(shared)
        made = set(short.get((a, b), ()))
        for by_report in keyed.values():
            if a in by_report and b in by_report:
                made |= by_report[a] & by_report[b] & shared
        figures.made_links += len(made & shared)
        for ident in shared - made:
            both = ident in found_ids[a] and ident in found_ids[b]
            figures.missed[(kinds[ident], KEYED_APART if both else NOT_FOUND)] += 1
    holding: dict[str, set[str]] = defaultdict(set)  # as the review tool finds full names
    for kind, key in keyed:
        if kind == "person":
            for word in (w for w in key.split() if links.telling(w)):
                holding[word].add(key)
    for (kind, key), by_report in keyed.items():
        if kind not in LINKED_KINDS:
            continue
        strength = links.strength(kind, key)
        crowded = (
            links.crowded(
                key,
                (
                    (full, places[r])
                    for full in links.longer_names(key, holding)
                    for r in keyed[("person", full)]
                ),
            )
            | links.said_two((places[r], tuple(roles[(r, kind, key)])) for r in by_report)
            if kind == "person"
            else frozenset()
        )
        spread = kind == "person" and links.spread(
            (places[r], tuple(roles[(r, kind, key)])) for r in by_report
        )
        stations = (
            links.posted_at((places[r], tuple(roles[(r, kind, key)])) for r in by_report)
            if kind == "person"
            else frozenset()
        )
        ranks = (
            links.ranked_apart((places[r], tuple(roles[(r, kind, key)])) for r in by_report)
            if kind == "person"
            else None
        )
        for a, b in itertools.combinations(sorted(by_report), 2):
            level = links.pair_strength(
                kind,
                strength,
                places[a],
                places[b],
                roles[(a, kind, key)],
                roles[(b, kind, key)],
                key=key,
                spread=spread,
                crowded=crowded,
                stations=stations,
                ranks=ranks,
            ).level
            if by_report[a] & by_report[b]:
                figures.right_links += 1
                figures.right_strong_links += level == links.STRONG
            else:
                tally = figures.false_links if level == links.STRONG else figures.weak_false_links
                tally[kind] += 1
    return figures


def _short_form_links(
    figures: Figures,
    keyed: dict[tuple[str, str], dict[str, set[str]]],
    places: dict[str, frozenset[str]],
    roles: dict[tuple[str, str, str], set[str]],
) -> dict[tuple[str, str], set[str]]:
    """The review tool's short-form links, scored: the ids each pair of reports they join.

    A link is right when the short form's mentions and the full name's share a gold id,
    false otherwise (strong: counted as corroboration; weak: shown, not counted).
    """
    number = {report: n for n, report in enumerate(sorted(places))}  # the tool's numbers
    people: dict[int, list[links.Named]] = defaultdict(list)
    for (kind, key), by_report in keyed.items():
        if kind == "person":
            for report in by_report:
                designations = tuple(sorted(roles[(report, kind, key)]))
                people[number[report]].append(links.Named(key, designations))
    where = {number[report]: p for report, p in places.items()}
    name = sorted(places)
    made: dict[tuple[str, str], set[str]] = defaultdict(set)
    for x, y, evidence in links.short_form_links(people, where):
        a, b = name[x], name[y]
        short, _, full = evidence.key.partition(" < ")
        right = keyed[("person", short)][a] & keyed[("person", full)][b]
        strong = evidence.strength.level == links.STRONG
        if right:
            made[(min(a, b), max(a, b))] |= right
            figures.right_short_links += 1
            figures.right_strong_short_links += strong
        elif strong:
            figures.false_links["person"] += 1
        else:
            figures.weak_false_short_links += 1
    return made


def _wing_links(
    figures: Figures,
    keyed: dict[tuple[str, str], dict[str, set[str]]],
    places: dict[str, frozenset[str]],
) -> dict[tuple[str, str], set[str]]:
    """The tool's links between an agency bare and its wing, scored as `_short_form_links`."""
    name = sorted(places)
    number = {report: n for n, report in enumerate(name)}
    agencies: dict[int, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for (kind, key), by_report in keyed.items():
        if kind == "agency":
            for report in by_report:
                agencies[number[report]][key] = ()
    made: dict[tuple[str, str], set[str]] = defaultdict(set)
    where = {number[report]: p for report, p in places.items()}
    for x, y, evidence in links.wing_links(agencies, where):
        a, b = name[x], name[y]
        agency, _, wing = evidence.key.partition(" < ")
        right = keyed[("agency", agency)][a] & keyed[("agency", wing)][b]
        if right:
            made[(min(a, b), max(a, b))] |= right
            figures.right_wing_links += 1
        else:
            figures.false_wing_links += 1
    return made


def _match(report: Report, found: list[Entity]) -> list[tuple[Entity, Mention | None]]:
    """Pair each entity with a gold mention of its kind that it overlaps, one to one, in order."""
    free = list(report.gold)
    out: list[tuple[Entity, Mention | None]] = []
    for entity in found:
        match = next(
            (
                g
                for g in free
                if g.kind == entity.kind and g.start < entity.end and entity.start < g.end
            ),
            None,
        )
        if match is not None:
            free.remove(match)
        out.append((entity, match))
    return out
