"""Reading across reports: every entity's reports and independent sources, and what links them.

Reports are grouped into likely sources by `review.analysis.writers`: the same source
designation, the writer's own words (the likely copies `review.analysis.copies` finds:
near-duplicate text, shared rare phrasing) and a reviewer's word, transitively; a phone
number, CNIC or name given as the writer's own (`review.analysis.contacts`) only where
nothing contradicts it and no one report would join two other writers; a file held byte
for byte never by itself (shared evidence, not authorship). An entity's independent
sources are the groups its reports fall in.

Not every shared key is corroboration (`review.analysis.links`): a weak one (a common
name, a station without its district) joins two reports only once a reviewer
confirms that pair, a rejected one never, and a district, agency or date never
alone. An entity's `corroborating` count, which ranking uses first, counts only
the sources that strong or confirmed links join.

Two reports can be linked by a person's name written in two forms, a short form in
one and the full name in the other (`links.short_form_links`), and by an agency named
bare in one and its wing in the other (`links.wing_links`, context only): `related`
shows them beside the shared keys, with their evidence, strength and reviewers' word.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations, islice, pairwise
from typing import Final

from review.analysis import contacts, entities, entity_names, forms, links, writers
from review.analysis.copies import likely_copies
from review.analysis.links import CONTEXT, STRONG, WEAK, Evidence, Ident, Link, Strength
from review.analysis.records import LIST_HINT, Mention, Record, entities_context, rehash
from review.analysis.writers import Writers
from review.casework import conflicts
from review.errors import NotFound
from review.workspace import Unlocked
from review.workspace.search import normalize

_MUHAMMAD: Final = "muhammad"
# A consonant skeleton this long tells names apart; a shorter one does not ("~mn", "~mna":
# Mani, Hamna, Humna), whether or not its word ends in "a".
_SHORT_SOUND: Final = 3
# A word's first letter that is a vowel, in Latin letters or Urdu's (alif, alif madda, ain):
# a sound key drops it (`Corpus._vowel_apart`).
_FIRST_VOWELS: Final = frozenset("aeiou\u0627\u0622\u0639")
# A name written with its Muhammad as an initial: "M. Aslam Gondal", "m aslam".
_INITIAL: Final = re.compile(r"m(?:\.\s*|\s+)(?=\w)", re.IGNORECASE)


def _less(hashes: set[int], printed: set[int] | None) -> set[int]:
    """`hashes` without the printed ones: the same set where none are (most reports)."""
    return hashes - printed if printed else hashes


@dataclass(frozen=True)
class ReportFacts:
    """What corroboration needs of a report: its source designation, its day, its record."""

    num: int
    source: str
    day: dt.date
    record: Record


@dataclass(frozen=True)
class Group:
    """One entity across the workspace: every report naming it, and its independent sources."""

    kind: str
    key: str
    name: str
    designations: tuple[str, ...]
    reports: tuple[int, ...]
    designations_of_sources: int  # distinct source designations
    sources: int  # independent sources: likely-same-source reports count once
    first: dt.date
    last: dt.date
    confirmed: bool
    texts: dict[int, tuple[str, ...]]
    strength: Strength  # of a link on this key, before any reviewer's decision
    # Independent sources that strong or confirmed links join (the most any set of such
    # reports reaches); 0 for a district, agency or date, which never corroborate alone.
    corroborating: int


@dataclass(frozen=True)
class SameSource:
    """Why two reports are likely from one source."""

    other: int
    reason: str
    # False where only a contact given as the writer's own joins them: a line anyone who
    # knows the contact can write, so no reviewer should take one's words for the other's.
    sure: bool = True


@dataclass(frozen=True)
class Related:
    """Reports linked to one report with their evidence, and those likely copies or its source's.

    `corroborating` counts the independent sources (other than the report's own) that
    strong or confirmed links reach; `weak_only` those that only weak links reach;
    `context_only` the reports that share nothing but a district, agency or date.
    """

    num: int
    links: dict[int, Link]
    near_duplicates: list[tuple[int, float]]
    same_source: list[SameSource]
    # Reports that share a writer's claim or a file with it but are counted apart, and why.
    apart: list[SameSource]
    corroborating: int
    weak_only: int
    context_only: int


@dataclass(frozen=True)
class Pending:
    """Weak links on one entity that no reviewer has decided and that would join sources.

    `pairs` are the first of them in report order; `more` says there are others. Each
    pair joins two reports of different likely sources that no strong or confirmed
    link on this key has joined yet, so confirming it adds to `group.corroborating`
    or to what one of the reports' own corroboration counts.
    """

    group: Group
    pairs: tuple[tuple[int, int, Evidence], ...]
    more: bool
    # Short-form links to `group`'s full name (the short form's report first in each pair).
    short: bool = False


class Corpus:
    """Every report's entities, unsealed into memory, with likely sources worked out."""

    def __init__(
        self, facts: Mapping[int, ReportFacts], decisions: Mapping[Ident, str] | None = None
    ) -> None:
        self.facts = dict(facts)
        # Reviewers' decisions on links by kind and key, then by pair of reports.
        self._decided: dict[tuple[str, str], dict[tuple[int, int], str]] = defaultdict(dict)
        for (a, b, kind, key), decision in (decisions or {}).items():
            self._decided[(kind, key)][(a, b)] = decision
        # A line after a form's last blank that forms of two sources hold is print.
        printed = forms.printed_tails(
            {num: f.record.tails for num, f in self.facts.items()},
            {num: f.source for num, f in self.facts.items()},
        )
        self.near, self.phrasing = likely_copies(
            {num: _less(f.record.shingles, printed.get(num)) for num, f in self.facts.items()},
            {num: _less(f.record.phrases, printed.get(num)) for num, f in self.facts.items()},
        )
        self._places = {
            num: links.places(
                links.setting(m.kind, m.key, m.designations)
                for m in f.record.mentions()
                if m.status != "rejected"
            )
            for num, f in self.facts.items()
        }
        # The ranks each report writes beside each name: two that no one man holds split it.
        # A mention a reviewer rejected splits nothing: a report planted to say two men bear
        # a name must not keep other sources' reports apart once it is seen for what it is.
        self._roles = {
            (num, m.kind, m.key): m.designations
            for num, f in self.facts.items()
            for m in f.record.mentions()
            if m.designations and m.status != "rejected"
        }
        # Each name's reports with their ranks, and whether it is spread (`links.spread`).
        self._ranked: dict[str, list[tuple[frozenset[str], tuple[str, ...]]]] = defaultdict(list)
        for (num, kind, key), roles in self._roles.items():
            if kind == "person":
                self._ranked[key].append((self._places[num], tuple(roles)))
        self._spread: dict[str, links.Spread] = {}
        # Each name's reports' places, and the names holding each telling word (`_crowded_of`).
        self._named_at: dict[str, list[frozenset[str]]] = defaultdict(list)
        for num, f in self.facts.items():
            named = f.record.mentions()
            for person in {m.key for m in named if m.kind == "person" and m.status != "rejected"}:
                self._named_at[person].append(self._places[num])
        self._holding: dict[str, set[str]] = defaultdict(set)
        for person in self._named_at:
            for word in person.split():
                if links.telling(word):
                    self._holding[word].add(person)
        # How each report writes each name, and each name by the words after its first.
        self._texts = {
            (num, m.key): m.texts
            for num, f in self.facts.items()
            for m in f.record.mentions()
            if m.kind == "person" and m.status != "rejected"
        }
        self._tails: dict[str, set[str]] = defaultdict(set)
        for person in self._named_at:
            rest = person.partition(" ")[2]
            if rest:
                self._tails[rest].add(person)
        self._crowded: dict[str, frozenset[str]] = {}
        self._posted: dict[str, frozenset[str]] = {}
        self._ranks: dict[str, Mapping[str, frozenset[links.Ranks]]] = {}
        # The contacts (and telling names) each report's writer gives as their own, which
        # may make reports one writer's, whatever the designation (`writers`): only grouped
        # for counting; each report keeps what it says.
        self._own = {
            num: frozenset(
                (m.kind, m.key)
                for m in f.record.mentions()
                if m.status != "rejected" and contacts.own(m.kind, m.key, m.designations)
            )
            for num, f in self.facts.items()
        }
        self._writers = Writers(
            writers.Reports(
                {num: f.source for num, f in self.facts.items()},
                self._own,
                {num: f.record.files for num, f in self.facts.items()},
            ),
            [
                *((a, b) for a in self.near for b in self.near[a]),
                *((a, b) for a in self.phrasing for b in self.phrasing[a]),
            ],
            self._decided[(links.WRITER, "")],
        )
        self._groups = self._build_groups()
        # A short form of a name in one report, the full name in another: links of their own
        # (and an agency's wing, below); kept by report, both ways, for `related`.
        self._short_found = [
            (
                a,
                b,
                replace(e, decision=self._decided[("person", e.key)].get((min(a, b), max(a, b)))),
            )
            for a, b, e in links.short_form_links(self._people(), self._places)
        ]
        # An agency bare in one report, its wing in another set in the same district: context.
        wings = links.wing_links(self._agencies(), self._places)
        self._by_form: dict[int, dict[int, list[Evidence]]] = defaultdict(lambda: defaultdict(list))
        for a, b, e in [*self._short_found, *wings]:
            self._by_form[a][b].append(e)
            self._by_form[b][a].append(e)

    def _people(self) -> dict[int, list[links.Named]]:
        """Each report's people as `links.short_form_links` reads them: key, ranks, texts."""
        return {
            num: [
                links.Named(m.key, m.designations, m.texts)
                for m in f.record.mentions()
                if m.kind == "person" and m.status != "rejected"
            ]
            for num, f in self.facts.items()
        }

    def _agencies(self) -> dict[int, dict[str, tuple[str, ...]]]:
        """Each report's agencies: key to how the report writes it."""
        return {
            num: {
                m.key: m.texts
                for m in f.record.mentions()
                if m.kind == "agency" and m.status != "rejected"
            }
            for num, f in self.facts.items()
        }

    @classmethod
    def load(cls, u: Unlocked, hidden: Collection[int] = ()) -> Corpus:
        """Unseal every report's entity record (hashing old ones again first: `rehash`), but
        those of the `hidden` reports (a reviewer's conflicts of interest): read as absent."""
        records = rehash(
            u,
            {
                num: Record.decode(u.key.open_record(sealed, entities_context(num)))
                for num, sealed in u.conn.execute("SELECT report, sealed FROM report_entities")
                if num not in hidden
            },
        )
        facts = {
            num: ReportFacts(num, source, dt.date.fromisoformat(day), records.get(num, Record()))
            for num, source, day in u.conn.execute("SELECT num, source, day FROM reports")
            if num not in hidden
        }
        return cls(facts, links.load_decisions(u))

    def surely_grouped(self, num: int) -> bool:
        """Whether report `num` is in its source group by more than a contact it or another
        report gives as the writer's own (which anyone who knows it can write)."""
        return self._writers.by_words(num, self.source_group(num))

    def source_group(self, num: int) -> int:
        """The likely source a report belongs to, as the lowest report number in its group."""
        return self._find_root(num)

    def groups(self, kind: str | None = None, *, min_sources: int = 1) -> list[Group]:
        """Entities ranked by independent sources, then by reports, then by name."""
        return [
            g for g in self._groups if (kind is None or g.kind == kind) and g.sources >= min_sources
        ]

    def lookup(self, name: str, kind: str | None = None) -> list[Group]:
        """The entities a reviewer's spelling names: by key, else by a part of their name."""
        kinds = [kind] if kind is not None else list(entities.KINDS)
        keys = {(k, entities.key_for(k, name)) for k in kinds}
        exact = [g for g in self._groups if (g.kind, g.key) in keys]
        if exact:
            return exact
        folded = normalize(name)
        return [
            g
            for g in self._groups
            if g.kind in kinds
            and folded
            and (folded in g.key or any(folded in normalize(t) for t in _all_texts(g)))
        ]

    def related(self, num: int) -> Related:
        """Reports linked to `num`, with evidence; near-duplicates and same-source ones apart."""
        if num not in self.facts:
            raise NotFound(f"no report {num}", hint=LIST_HINT)
        evidence: dict[int, list[Evidence]] = defaultdict(list)
        for g in self._groups:
            if num in g.texts:
                for other in g.reports:
                    e = self.evidence(g, num, other) if other != num else None
                    if e is not None and e.decision != links.REJECTED:
                        evidence[other].append(e)
        for other, es in self._by_form.get(num, {}).items():
            evidence[other].extend(e for e in es if e.decision != links.REJECTED)
        found = {o: Link((num, o), tuple(es)) for o, es in sorted(evidence.items())}
        shown = {o: link for o, link in found.items() if link.level != CONTEXT}
        mine = self._find_root(num)
        strong = {self._find_root(o) for o, k in shown.items() if k.corroborates} - {mine}
        weak = {self._find_root(o) for o, k in shown.items() if k.level == WEAK} - {mine}
        return Related(
            num,
            shown,
            *self._copies(num),
            corroborating=len(strong),
            weak_only=len(weak - strong),
            context_only=len(found) - len(shown),
        )

    def evidence(self, g: Group, a: int, b: int) -> Evidence | None:
        """What `g` says about reports a and b being linked (None unless both name it)."""
        if a not in g.texts or b not in g.texts:
            return None
        decision = self._decided[(g.kind, g.key)].get((min(a, b), max(a, b)))
        written = {a: g.texts[a], b: g.texts[b]}
        return Evidence(
            g.kind, g.key, self.pair_strength(g.kind, g.key, g.strength, a, b), written, decision
        )

    def short_links(self, key: str) -> list[tuple[int, int, Evidence]]:
        """Short-form links with person `key` as the short form or the full name.

        Each is (report writing the short form, report writing the full name, evidence).
        """
        return [(a, b, e) for a, b, e in self._short_found if key in e.key.split(" < ")]

    def pair_strength(self, kind: str, key: str, strength: Strength, a: int, b: int) -> Strength:
        """How strong a link on a key is between reports a and b (see `links.pair_strength`),
        and weak where one report writes the name's Muhammad as an initial that another name
        the archive holds begins with too (`_initialled`)."""
        found = self._pair_strength(kind, key, strength, a, b)
        if found.level == STRONG and kind == "person" and self._initialled(key, a, b):
            return Strength(
                WEAK,
                "the same name, but a report gives its Muhammad as an initial, and another"
                " name here begins with it too",
            )
        if found.level == STRONG and kind == "person" and self._spelt_apart(key, a, b):
            return Strength(
                WEAK,
                "the same name by its consonants, too few to tell two names apart, and the"
                " reports spell it differently",
            )
        if found.level == STRONG and kind == "person" and self._vowel_apart(key, a, b):
            return Strength(
                WEAK,
                "the same name by its consonants, but one report's begins with a vowel where"
                " the other's has none (Asad, Saad)",
            )
        if found.level == STRONG and kind == "person" and self._latin_apart(a, b, key):
            return Strength(
                WEAK,
                "the same name in Urdu letters, but the reports spell it in Latin letters as"
                " two names (Gill, Gul)",
            )
        if found.level == STRONG and kind == "person" and self._urdu_apart(a, b, key):
            return Strength(
                WEAK,
                "the same name in Latin letters, but the reports spell it in Urdu letters as"
                " two names (نذیر, نظیر)",
            )
        return found

    def _urdu_apart(self, a: int, b: int, key: str) -> bool:
        """Whether reports a and b write a word of person `key` that Latin letters write as
        one name in Urdu letters as two (`entity_names.URDU_APART`): "نذیر کھوسہ" and "نظیر
        کھوسہ" are two men's names, though both are keyed "nazir khosa"."""
        if entity_names.urdu_apart_keys().isdisjoint(key.split()):
            return False

        def written(num: int) -> dict[str, set[str]]:
            texts = self._texts.get((num, key), ())
            out: dict[str, set[str]] = {}
            for w in (w for t in texts for w in normalize(t).split()):
                if w in entity_names.URDU_APART:
                    out.setdefault(entity_names.canonical_word(w), set()).add(w)
            return out

        in_a, in_b = written(a), written(b)
        return any(in_b.get(word) and not spelt & in_b[word] for word, spelt in in_a.items())

    def _latin_apart(self, a: int, b: int, key: str) -> bool:
        """Whether reports a and b write a word of person `key` that Urdu writes as two names
        in Latin letters as the two (`entity_names.LATIN_APART`): "Shahbaz Gill" and
        "Shahbaz Gul" are two men's names, though both are keyed "shahbaz gul"."""
        if not any(w in entity_names.LATIN_APART.values() for w in key.split()):
            return False

        def written(num: int) -> set[str]:
            texts = self._texts.get((num, key), ())
            words = (w for t in texts for w in normalize(t).split())
            return {entity_names.LATIN_APART[w] for w in words if w in entity_names.LATIN_APART}

        in_a, in_b = written(a), written(b)
        return bool(in_a and in_b and not in_a & in_b)

    def _spelt_apart(self, key: str, a: int, b: int) -> bool:
        """Whether a word of person `key` the lists lack, keyed by two consonants or fewer
        ("~mn": Mani, Hamna, Humna, Amna's skeleton), is spelt differently in reports a and
        b: many names share so short a key, so only one spelling in both tells one name."""
        sounds = (w[1:].removesuffix(entity_names.OPEN_A) for w in key.split() if w[:1] == "~")
        short = {s for s in sounds if len(s) < _SHORT_SOUND}
        if not short:
            return False

        def spellings(num: int) -> set[str]:
            texts = self._texts.get((num, key), ())
            return {
                w for t in texts for w in normalize(t).split() if entity_names.sound(w) in short
            }

        return not spellings(a) & spellings(b)

    def _vowel_apart(self, key: str, a: int, b: int) -> bool:
        """Whether a word of person `key` the lists lack, keyed by its consonants, begins
        with a vowel in every spelling of one of reports a and b and with none in the
        other's: a sound key drops a first vowel, which both scripts write ("Asad Ullah",
        "اسد اللہ" and "Saad Ullah", "سعد اللہ" are all `~sdla`), so the two are two names.

        The word is read in each spelling where the key has it, the key's words before it
        taken as one word each ("Muhammad Asad Ullah Khosa": `muhammad ~sdla khosa`)."""
        at = [i for i, w in enumerate(key.split()) if w[:1] == "~"]
        if not at:
            return False

        def firsts(num: int, i: int) -> set[bool]:
            texts = (normalize(t).split() for t in self._texts.get((num, key), ()))
            return {words[i][:1] in _FIRST_VOWELS for words in texts if len(words) > i}

        for i in at:
            in_a, in_b = firsts(a, i), firsts(b, i)
            if len(in_a) == 1 and len(in_b) == 1 and in_a != in_b:
                return True
        return False

    def _initialled(self, key: str, a: int, b: int) -> bool:
        """Whether report a or b writes person `key`'s leading Muhammad only as "M." where
        another name the archive holds differs from it in that word alone, which begins
        with an M too ("M. Aslam Gondal", and a Mehboob Aslam Gondal named elsewhere)."""
        first, _, rest = key.partition(" ")
        if first != _MUHAMMAD or not rest:
            return False
        if not any(
            all(_INITIAL.match(t) for t in self._texts.get((n, key), ("",))) for n in (a, b)
        ):
            return False
        return any(
            other != key and other.split()[0].lstrip("~").startswith("m")
            for other in self._tails.get(rest, ())
        )

    def _pair_strength(self, kind: str, key: str, strength: Strength, a: int, b: int) -> Strength:
        return links.pair_strength(
            kind,
            strength,
            self._places[a],
            self._places[b],
            self._roles.get((a, kind, key), ()),
            self._roles.get((b, kind, key), ()),
            key=key,
            spread=kind == "person" and self._spread_of(key),
            crowded=self._crowded_of(key) if kind == "person" else frozenset(),
            stations=self._posted_of(key) if kind == "person" else frozenset(),
            ranks=self._ranks_of(key) if kind == "person" else None,
        )

    def _spread_of(self, key: str) -> links.Spread:
        """Whether reports give person `key` to posted men at stations apart, or place men
        of it at home in towns apart (`links.spread`)."""
        if key not in self._spread:
            self._spread[key] = links.spread(self._ranked.get(key, ()))
        return self._spread[key]

    def _posted_of(self, key: str) -> frozenset[str]:
        """The police stations at which reports give person `key` a posted man
        (`links.posted_at`)."""
        if key not in self._posted:
            self._posted[key] = links.posted_at(self._ranked.get(key, ()))
        return self._posted[key]

    def _ranks_of(self, key: str) -> Mapping[str, frozenset[links.Ranks]]:
        """Where reports give person `key` ranks no one man holds (`links.ranked_apart`)."""
        if key not in self._ranks:
            self._ranks[key] = links.ranked_apart(self._ranked.get(key, ()))
        return self._ranks[key]

    def _crowded_of(self, key: str) -> frozenset[str]:
        """Where reports give two men's full names person `key` is a short form of
        (`links.crowded`), or say two men bear it (`links.said_two`)."""
        if key not in self._crowded:
            fulls = links.longer_names(key, self._holding)
            self._crowded[key] = links.crowded(
                key, ((full, at) for full in fulls for at in self._named_at[full])
            ) | links.said_two(self._ranked.get(key, ()))
        return self._crowded[key]

    def pairs(self, g: Group, limit: int) -> tuple[list[tuple[int, int, Evidence]], int]:
        """Up to `limit` pairs naming `g` with evidence, decided ones first; and how many in all."""
        decided = sorted(p for p in self._decided[(g.kind, g.key)] if set(p) <= g.texts.keys())
        rest = (p for p in combinations(g.reports, 2) if p not in self._decided[(g.kind, g.key)])
        out = []
        for a, b in [*decided[:limit], *islice(rest, max(limit - len(decided), 0))]:
            e = self.evidence(g, a, b)
            if e is not None:
                out.append((a, b, e))
        return out, len(g.reports) * (len(g.reports) - 1) // 2

    def _copies(
        self, num: int
    ) -> tuple[list[tuple[int, float]], list[SameSource], list[SameSource]]:
        me, mine = self.facts[num], self._find_root(num)
        same = [
            SameSource(other, "same source designation")
            for other, f in sorted(self.facts.items())
            if other != num and f.source == me.source
        ]
        # A copy a reviewer parted from this report is no longer its writer's.
        for other, score in sorted(self.near[num].items()):
            if self.facts[other].source != me.source and self._find_root(other) == mine:
                same.append(SameSource(other, f"near-duplicate text ({score:.0%} alike)"))
        for other, count in sorted(self.phrasing[num].items()):
            if (
                self.facts[other].source != me.source
                and other not in self.near[num]
                and self._find_root(other) == mine
            ):
                same.append(SameSource(other, f"shares {count} rare phrases"))
        for pair in sorted(self._writers.joined_by_reviewer):
            said = set(pair) - {num}
            if len(said) == 1 and num in pair and not said & {s.other for s in same}:
                same.append(SameSource(said.pop(), "a reviewer said they are one writer"))
        listed = {s.other for s in same}
        for other in sorted(self.facts):
            shared = self._own[num] & self._own[other]
            if other not in listed and other != num and shared and self._find_root(other) == mine:
                sure = self._writers.by_words(num, other)
                reason = writers.own_reason(shared) + ("" if sure else writers.CLAIMED)
                same.append(SameSource(other, reason, sure))
        grouped = {s.other for s in same}
        for other in sorted(self.facts):
            if other != num and other not in grouped and self._find_root(other) == mine:
                if self._writers.by_words(num, other):
                    same.append(SameSource(other, "linked through other likely copies"))
                else:
                    via = "linked through a contact another report gives as its writer's own"
                    same.append(SameSource(other, via + writers.CLAIMED, sure=False))
        near = sorted(self.near[num].items(), key=lambda item: (-item[1], item[0]))
        apart = [
            SameSource(other, why)
            for other in sorted(self.facts)
            if other != num and (why := self._writers.apart_reason(num, other))
        ]
        return near, same, apart

    def pending(self, kind: str | None = None, limit: int = 30) -> list[Pending]:
        """The weak links waiting for a reviewer's word, at most `limit` pairs in all.

        Entities come first by how many independent sources confirming could add to
        their corroboration (`sources - corroborating`), then by sources. A pair is
        left out when a reviewer decided it, when its key is strong or context for
        it, when both reports are likely one source, or when strong or confirmed
        links on the key already join the two: confirming those would add nothing.

        After them, for people, the weak short-form links no reviewer has decided (a
        short form in one report, the full name in another: `links.short_form_links`),
        under the full name's entity, those named by most sources first. Each pair is
        (the report writing the short form, the one writing the full name, evidence).
        """
        waiting = sorted(
            (
                g
                for g in self._groups
                if (kind is None or g.kind == kind)
                and g.strength.level != CONTEXT
                and g.corroborating < g.sources
            ),
            key=lambda g: (g.corroborating - g.sources, -g.sources, g.kind, g.name, g.key),
        )
        out: list[Pending] = []
        left = limit
        for g in waiting:
            if left <= 0:
                break
            together = self._together(g)
            pairs: list[tuple[int, int, Evidence]] = []
            more = False
            for a, b in combinations(g.reports, 2):
                if together[a] == together[b]:
                    continue
                e = self.evidence(g, a, b)
                if e is None or e.decision is not None or e.strength.level != WEAK:
                    continue
                if len(pairs) == left:
                    more = True
                    break
                pairs.append((a, b, e))
            if pairs:
                out.append(Pending(g, tuple(pairs), more))
                left -= len(pairs)
        if kind in (None, "person") and left > 0:
            out += self._pending_short(left)
        return out

    def _pending_short(self, limit: int) -> list[Pending]:
        """The undecided weak short-form links between reports of different likely
        sources, at most `limit` pairs, grouped under their full name's entity."""
        by_full: dict[str, list[tuple[int, int, Evidence]]] = defaultdict(list)
        for a, b, e in self._short_found:
            undecided = e.decision is None and e.strength.level == WEAK
            if undecided and self._find_root(a) != self._find_root(b):
                by_full[e.key.partition(" < ")[2]].append((a, b, e))
        fulls = sorted(
            (g for g in self._groups if g.kind == "person" and g.key in by_full),
            key=lambda g: (-g.sources, g.name, g.key),
        )
        out: list[Pending] = []
        for g in fulls:
            if limit <= 0:
                break
            pairs = sorted(by_full[g.key], key=lambda p: (p[0], p[1], p[2].key))
            shown = tuple(pairs[:limit])
            out.append(Pending(g, shown, len(pairs) > len(shown), short=True))
            limit -= len(shown)
        return out

    def _together(self, g: Group) -> dict[int, int]:
        """Each report naming `g` to one of the reports it counts as one with: those strong
        or confirmed links on the key join, and those of one likely source, transitively."""
        joined = self._joined(g.kind, g.key, g.strength, g.reports)
        root: dict[tuple[str, int], tuple[str, int]] = {}

        def find(x: tuple[str, int]) -> tuple[str, int]:
            while root.setdefault(x, x) != x:
                root[x] = root[root[x]]
                x = root[x]
            return x

        for n in g.reports:
            a, b = find(("joined", joined[n])), find(("source", self._find_root(n)))
            root[max(a, b)] = min(a, b)
        return {n: find(("joined", joined[n]))[1] for n in g.reports}

    def shared(self, nums: Sequence[int]) -> list[Group]:
        """Entities named by at least two of `nums`, counted over those reports only."""
        wanted = set(nums)
        for num in wanted:
            if num not in self.facts:
                raise NotFound(f"no report {num}")
        return [
            g
            for g in (self._restrict(g, wanted) for g in self._groups)
            if g is not None and len(g.reports) >= 2
        ]

    # -- internals --

    def _find_root(self, num: int) -> int:
        return self._writers.root(num)

    def _build_groups(self) -> list[Group]:
        by_key: dict[tuple[str, str], dict[int, Mention]] = defaultdict(dict)
        for num, f in self.facts.items():
            for m in f.record.mentions():
                if m.status != "rejected":
                    by_key[(m.kind, m.key)][num] = m
        groups = [
            g for g in (self._group(kind, key, ms) for (kind, key), ms in by_key.items()) if g
        ]
        groups.sort(
            key=lambda g: (-g.corroborating, -g.sources, -len(g.reports), g.kind, g.name, g.key)
        )
        return groups

    def _group(self, kind: str, key: str, mentions: Mapping[int, Mention]) -> Group | None:
        if not mentions:
            return None
        nums = sorted(mentions)
        days = [self.facts[n].day for n in nums]
        spellings: Counter[str] = Counter(t for m in mentions.values() for t in m.texts)
        designations: Counter[str] = Counter(d for m in mentions.values() for d in m.designations)
        strength = links.strength(kind, key)
        return Group(
            kind=kind,
            key=key,
            name=max(spellings, key=lambda t: (spellings[t], t.isascii(), -len(t), t)),
            designations=tuple(d for d, _ in designations.most_common()),
            reports=tuple(nums),
            designations_of_sources=len({self.facts[n].source for n in nums}),
            sources=len({self._find_root(n) for n in nums}),
            first=min(days),
            last=max(days),
            confirmed=any(m.status in ("confirmed", "added") for m in mentions.values()),
            texts={n: mentions[n].texts for n in nums},
            strength=strength,
            corroborating=self._corroborating(kind, key, strength, nums),
        )

    def _restrict(self, g: Group, nums: set[int]) -> Group | None:
        keep = [n for n in g.reports if n in nums]
        if not keep:
            return None
        days = [self.facts[n].day for n in keep]
        return replace(
            g,
            reports=tuple(keep),
            designations_of_sources=len({self.facts[n].source for n in keep}),
            sources=len({self._find_root(n) for n in keep}),
            first=min(days),
            last=max(days),
            texts={n: g.texts[n] for n in keep},
            corroborating=self._corroborating(g.kind, g.key, g.strength, keep),
        )

    def _corroborating(self, kind: str, key: str, strength: Strength, nums: Sequence[int]) -> int:
        """The most independent sources that strong or confirmed links join among `nums`.

        Reports are joined by each pair's link on this key: every pair for a strong key
        but those a reviewer rejected, only confirmed pairs for a weak one. Each set of
        reports joined that way counts its likely sources once; the largest set counts.
        """
        if strength.level == CONTEXT:
            return 0
        joined = self._joined(kind, key, strength, nums)
        sets: dict[int, set[int]] = defaultdict(set)
        for n in nums:
            sets[joined[n]].add(self._find_root(n))
        return max((len(v) for v in sets.values()), default=0)

    def _joined(
        self, kind: str, key: str, strength: Strength, nums: Sequence[int]
    ) -> dict[int, int]:
        """Each of `nums` to the lowest report that strong or confirmed links on the key
        join it to (see `_corroborating`)."""
        decided = self._decided[(kind, key)]
        root = {n: n for n in nums}

        def find(n: int) -> int:
            while root[n] != n:
                root[n] = root[root[n]]
                n = root[n]
            return n

        def join(a: int, b: int) -> None:
            root[max(find(a), find(b))] = min(find(a), find(b))

        rejected = {p for p, d in decided.items() if d == links.REJECTED}
        if strength.level == STRONG and not rejected and kind != "person":
            # A station whose district a report guessed links that report weakly to any
            # other (`links.pair_strength`, weak if either side guessed): the rest join.
            sure = [n for n in nums if self._sure(kind, key, strength, n)]
            for a, b in pairwise(sure):
                join(a, b)
        elif strength.level == STRONG:
            for a, b in combinations(nums, 2):
                if (min(a, b), max(a, b)) not in rejected and (
                    self.pair_strength(kind, key, strength, a, b).level == STRONG
                ):
                    join(a, b)
        for (a, b), decision in decided.items():
            if decision == links.CONFIRMED and a in root and b in root:
                join(a, b)
        return {n: find(n) for n in nums}

    def _sure(self, kind: str, key: str, strength: Strength, num: int) -> bool:
        """Whether report `num` links strongly on a key, not a person's, to any report naming it."""
        return self.pair_strength(kind, key, strength, num, num).level == STRONG


def shared_entities(u: Unlocked, nums: Sequence[int]) -> list[dict[str, object]]:
    """The entities that two or more of `nums` name, for an escalation packet.

    Each is {kind, key, name, reports, sources, first, last}: the report numbers among
    `nums` naming it, how many independent sources strong or confirmed links join
    among those (likely-same-source reports count once; a weak link a reviewer has
    not confirmed joins none), and the first and last day those reports arrived (ISO).
    """
    return [
        {
            "kind": g.kind,
            "key": g.key,
            "name": g.name,
            "reports": list(g.reports),
            # A district, agency or date corroborates nothing alone: its count is plain.
            "sources": g.sources if g.strength.level == CONTEXT else g.corroborating,
            "first": g.first.isoformat(),
            "last": g.last.isoformat(),
        }
        for g in visible_corpus(u).shared(nums)
    ]


def _all_texts(g: Group) -> Iterable[str]:
    for texts in g.texts.values():
        yield from texts


def visible_corpus(u: Unlocked, num: int | None = None) -> Corpus:
    """The corpus the acting reviewer may read: without the reports their conflicts of
    interest hide (`conflicts.hidden`), which no count, link or spelling shown may reveal;
    report `num`, if hidden, is refused as every view refuses it."""
    hidden = conflicts.hidden(u)
    if num in hidden:
        raise NotFound(f"report {num} is not available to you")
    return Corpus.load(u, hidden)
