"""Corroboration: which reports name the same people, places and numbers, and from how many sources.

Each report's entities are one sealed record (`report_entities`, bound to the
report number), rewritten whole on each change like its triage state: what the
extractor found, what reviewers confirmed, rejected or added, and two sets of
hashed word 5-grams of what the source wrote, for telling copies apart. Only
the report number is in the clear. A record names the scheme its 5-grams were
hashed with (`HASHING`); one of an older scheme is hashed again from its report
before it is compared with any other, since hashes of two schemes never match.

Extraction runs at import, inside the import's transaction (the plaintext is in
memory then, and nothing else needs to decrypt the blobs again), and can be re-run
with `reextract` after the gazetteers change; reviewers' decisions survive it.

One source must not look like three. Reports are grouped into likely sources:
the same source designation; near-duplicate text (Jaccard similarity of word
5-grams at least `NEAR_DUPLICATE`), whatever the designation, since a source who
lost a codename and wrote again is one source; and shared rare phrasing (at least
`RARE_PHRASES` 5-grams, with the entities masked out, that no more than
`RARE_DF` reports hold), since independent witnesses describe the same event in
their own words while one author reuses theirs. The groups are closed
transitively, which can only merge sources, never split them. An entity's
independent sources are the groups its reports fall in.

Not every shared key is corroboration (`review.analysis.links`): a weak one (a common
name, a station without its district) joins two reports only once a reviewer
confirms that pair, a rejected one never, and a district, agency or date never
alone. An entity's `corroborating` count, which ranking uses first, counts only
the sources that strong or confirmed links join.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain, combinations, compress, islice, pairwise
from typing import Any, Final

from review.analysis import entities, links
from review.analysis.links import CONTEXT, STRONG, WEAK, Evidence, Ident, Link, Strength
from review.casework.reports import Content, read_report
from review.errors import InvalidValue, NotFound, ReviewError
from review.workspace import Unlocked, audit
from review.workspace.schema import transaction
from review.workspace.search import normalize

# Bumped when the extractor's rules change enough that `reextract` is worth running.
EXTRACTOR_VERSION: Final = 1
# How a record's 5-grams are hashed. Hashes of two schemes never compare, so a record
# of an older one is hashed again from its report before it meets any other (`rehash`).
# 1: blake2b of each 5-gram's text. 2: blake2b of each word, 5 of them combined.
HASHING: Final = 2
NEAR_DUPLICATE: Final = 0.5
RARE_DF: Final = 3
RARE_PHRASES: Final = 4
_SHINGLE: Final = 5
# A letter or a digit (what str.isalnum accepts): a word without one is punctuation.
_WORDY: Final = re.compile(r"[^\W_]")
# Shingles held by more reports than this are boilerplate: no use for finding copies.
_CANDIDATE_DF: Final = 50

_LIST_HINT: Final = "`raazdar-review list --all` shows every report"
# A reviewer's decision on an entity the extractor found.
DECISIONS: Final = ("confirmed", "rejected")


@dataclass(frozen=True)
class Mention:
    """An entity as one report names it: every spelling, every designation, and its status."""

    kind: str
    key: str
    texts: tuple[str, ...]
    designations: tuple[str, ...] = ()
    status: str = "found"  # found, confirmed, rejected or added


@dataclass
class Record:
    """One report's sealed entity record."""

    version: int = EXTRACTOR_VERSION
    hashing: int = HASHING
    found: list[dict[str, Any]] = field(default_factory=list)
    decisions: dict[str, str] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    shingles: set[int] = field(default_factory=set)
    phrases: set[int] = field(default_factory=set)

    def encode(self) -> bytes:
        """Serialise for sealing."""
        obj = {
            "version": self.version,
            "hashing": self.hashing,
            "found": self.found,
            "decisions": self.decisions,
            "added": self.added,
            "shingles": sorted(self.shingles),
            "phrases": sorted(self.phrases),
        }
        return json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> Record:
        """Parse what `encode` wrote."""
        obj: dict[str, Any] = json.loads(data)
        return cls(
            version=int(obj["version"]),
            hashing=int(obj.get("hashing", 1)),  # records before the field are scheme 1
            found=list(obj["found"]),
            decisions=dict(obj["decisions"]),
            added=list(obj["added"]),
            shingles=set(obj["shingles"]),
            phrases=set(obj["phrases"]),
        )

    def mentions(self) -> list[Mention]:
        """Every entity of the report with its status; rejected ones included."""
        out = []
        for e in self.found:
            status = self.decisions.get(_ident(e["kind"], e["key"]), "found")
            out.append(
                Mention(e["kind"], e["key"], tuple(e["texts"]), tuple(e["designations"]), status)
            )
        seen = {(m.kind, m.key) for m in out}
        for e in self.added:
            if (e["kind"], e["key"]) not in seen:
                designations = (e["designation"],) if e.get("designation") else ()
                status = self.decisions.get(_ident(e["kind"], e["key"]), "added")
                out.append(Mention(e["kind"], e["key"], (e["text"],), designations, status))
        return out

    def merge(self, contents: Iterable[Content], words: WordHashes | None = None) -> None:
        """Add what the extractor finds in `contents` (a report's text, fields and file names).

        `words` carries word hashes from one report to the next within a run.
        """
        if self.hashing != HASHING:
            raise ValueError("hash the record again (`rehash`) before adding to it")
        words = WordHashes() if words is None else words
        found = {(e["kind"], e["key"]): e for e in self.found}
        for content in contents:
            text = content.searchable()
            ents = entities.extract(text)
            for ent in ents:
                entry = found.setdefault(
                    (ent.kind, ent.key),
                    {"kind": ent.kind, "key": ent.key, "texts": [], "designations": []},
                )
                if ent.text not in entry["texts"]:
                    entry["texts"].append(ent.text)
                if ent.designation and ent.designation not in entry["designations"]:
                    entry["designations"].append(ent.designation)
            message_ents = [e for e in ents if e.end <= len(content.message)]
            self.shingles |= _shingles(content.message, (), words)
            self.phrases |= _shingles(content.message, message_ents, words)
        self.found = list(found.values())


def file_contents(u: Unlocked, contents: Mapping[int, Sequence[Content]]) -> None:
    """Extract the entities of newly filed contents into their reports' records (in the import).

    A report filed earlier whose record is of an older hashing scheme is hashed again
    whole (its new items are in the workspace by now), so its hashes are all of one scheme.
    """
    words = WordHashes()
    known = {
        num for (num,) in u.conn.execute("SELECT report FROM report_entities") if num in contents
    }
    rows = []
    for num, parts in contents.items():
        record = _load(u, num) if num in known else None
        if record is None:
            record = Record()
        elif record.hashing != HASHING:
            record = _rehashed(u, num, record, words)
        record.merge(parts, words)
        rows.append((num, record))
    _store_all(u, rows)


def rehash(u: Unlocked, records: Mapping[int, Record]) -> dict[int, Record]:
    """`records` with those of an older hashing scheme hashed again from their reports.

    Those are stored too (inside the caller's transaction if there is one, with an audit
    entry), so copies among reports filed before and after a change of scheme are found.
    """
    old = {num: r for num, r in records.items() if r.hashing != HASHING}
    if not old:
        return dict(records)
    words = WordHashes()
    new = {num: _rehashed(u, num, record, words) for num, record in sorted(old.items())}
    with _transaction_unless_in_one(u):
        _store_all(u, new.items())
        audit.append(u, "entities-rehash", None, {"reports": sorted(new), "hashing": HASHING})
    return {**records, **new}


def _rehashed(u: Unlocked, num: int, old: Record, words: WordHashes) -> Record:
    """`old` with its 5-gram hashes made again from the report; nothing else changes."""
    fresh = Record()
    fresh.merge(_report_parts(u, num), words)
    return replace(old, hashing=HASHING, shingles=fresh.shingles, phrases=fresh.phrases)


def _report_parts(u: Unlocked, num: int) -> list[Content]:
    """What the extractor reads of a filed report: its contents and its files' names."""
    view = read_report(u, num)  # raises NotFound before anything changes
    return [*view.contents, *(Content(message=a.name) for a in view.attachments if a.name)]


@contextmanager
def _transaction_unless_in_one(u: Unlocked) -> Iterator[None]:
    if u.conn.in_transaction:
        yield
    else:
        with transaction(u.conn):
            yield


def reextract(u: Unlocked, nums: Iterable[int] | None = None) -> int:
    """Run the extractor again over reports (all if None), keeping reviewers' decisions."""
    wanted = (
        sorted(set(nums))
        if nums is not None
        else [r[0] for r in u.conn.execute("SELECT num FROM reports ORDER BY num")]
    )
    records = {}
    words = WordHashes()
    for num in wanted:
        parts = _report_parts(u, num)
        old = _load(u, num) or Record()
        record = Record(decisions=old.decisions, added=old.added)
        record.merge(parts, words)
        records[num] = record
    with transaction(u.conn):
        _store_all(u, records.items())
        audit.append(u, "entities-extract", None, {"reports": wanted, "version": EXTRACTOR_VERSION})
    return len(records)


def report_mentions(u: Unlocked, num: int) -> list[Mention]:
    """One report's entities, rejected ones included (with that status)."""
    _exists(u, num)
    record = _load(u, num)
    return record.mentions() if record is not None else []


def decide(u: Unlocked, num: int, name: str, decision: str, kind: str | None = None) -> Mention:
    """Confirm or reject an entity of a report, named as a reviewer would write it."""
    if decision not in DECISIONS:
        raise InvalidValue(f"unknown decision {decision!r}", hint=" or ".join(DECISIONS))
    with transaction(u.conn):
        record = _load(u, num) or Record()
        mention = _find(record, num, name, kind)
        record.decisions[_ident(mention.kind, mention.key)] = decision
        _store(u, num, record)
        action = "entity-confirm" if decision == "confirmed" else "entity-reject"
        audit.append(u, action, num, {"kind": mention.kind, "key": mention.key})
    return Mention(mention.kind, mention.key, mention.texts, mention.designations, decision)


def add(u: Unlocked, num: int, kind: str, text: str, designation: str | None = None) -> Mention:
    """Add an entity the extractor missed; it counts as confirmed."""
    with transaction(u.conn):
        _exists(u, num)
        record = _load(u, num) or Record()
        mention = _add(record, kind, text, designation)
        _store(u, num, record)
        audit.append(u, "entity-add", num, {"kind": kind, "key": mention.key, "text": text})
    return mention


def correct(u: Unlocked, num: int, name: str, text: str, kind: str | None = None) -> Mention:
    """Replace an entity the extractor got wrong (a name cut short, say) with the right one."""
    with transaction(u.conn):
        record = _load(u, num) or Record()
        old = _find(record, num, name, kind)
        designation = old.designations[0] if old.designations else None
        new = _add(record, old.kind, text, designation)
        if (new.kind, new.key) != (old.kind, old.key):
            record.decisions[_ident(old.kind, old.key)] = "rejected"
        _store(u, num, record)
        detail = {"kind": old.kind, "key": old.key, "new_key": new.key, "text": text}
        audit.append(u, "entity-correct", num, detail)
    return new


def decide_link(
    u: Unlocked, a: int, b: int, name: str | None, decision: str, kind: str | None = None
) -> Evidence:
    """Confirm or reject the link between reports a and b on one shared entity (NAME).

    Without a name, the only entity they share that can link them is meant. The
    decision holds for this pair and this key only, and survives re-extraction.
    """
    if decision not in links.DECISIONS:
        raise InvalidValue(f"unknown decision {decision!r}", hint=" or ".join(links.DECISIONS))
    if a == b:
        raise InvalidValue("a link joins two different reports")
    with transaction(u.conn):
        _exists(u, a)
        _exists(u, b)
        evidence = _shared_evidence(u, a, b, name, kind)
        links.store_decision(u, links.ident(a, b, evidence.kind, evidence.key), decision)
        action = "link-confirm" if decision == links.CONFIRMED else "link-reject"
        detail = {"other": max(a, b), "kind": evidence.kind, "key": evidence.key}
        audit.append(u, action, min(a, b), detail)
    return replace(evidence, decision=decision)


def _shared_evidence(u: Unlocked, a: int, b: int, name: str | None, kind: str | None) -> Evidence:
    """The one entity both reports name that NAME (or, without one, the only linking one) is."""
    ra, rb = _load(u, a) or Record(), _load(u, b) or Record()
    theirs = {(m.kind, m.key): m for m in rb.mentions() if m.status != "rejected"}
    if name is not None:
        mine = _find(ra, a, name, kind)
        if mine.status == "rejected" or (mine.kind, mine.key) not in theirs:
            raise NotFound(
                f"reports {a} and {b} do not both name {name!r}",
                hint=f"`raazdar-review links show {a}` shows what links them",
            )
        candidates = [mine]
    else:
        candidates = [
            m
            for m in ra.mentions()
            if m.status != "rejected"
            and (m.kind, m.key) in theirs
            and (kind is None or m.kind == kind)
            and links.strength(m.kind, m.key).level != CONTEXT
        ]
        hint = f"`raazdar-review links show {a}` shows what links them"
        candidates = [
            _only(
                candidates,
                NotFound(f"reports {a} and {b} share no entity that could link them", hint=hint),
                InvalidValue(
                    f"reports {a} and {b} share {len(candidates)} entities: name the one you mean",
                    hint=hint,
                ),
            )
        ]
    m = candidates[0]
    strength = links.strength(m.kind, m.key)
    if strength.level == CONTEXT:
        raise InvalidValue(
            f"{strength.why} never links two reports",
            hint="confirm or reject a person, police station, CNIC, phone or vehicle they share",
        )
    written = {a: m.texts, b: theirs[(m.kind, m.key)].texts}
    return Evidence(m.kind, m.key, strength, written)


# --- reading across reports -------------------------------------------------------------------


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
    corroborating: int
    weak_only: int
    context_only: int


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
        self.near: dict[int, dict[int, float]] = defaultdict(dict)
        self.phrasing: dict[int, dict[int, int]] = defaultdict(dict)
        self._pairs()
        self._root = {num: num for num in self.facts}
        # Where each report is set: its districts and police stations (a station's district too).
        self._places = {
            num: links.places(
                (m.kind, m.key) for m in f.record.mentions() if m.status != "rejected"
            )
            for num, f in self.facts.items()
        }
        # The ranks each report writes beside each name: two that no one man holds split it.
        self._roles = {
            (num, m.kind, m.key): m.designations
            for num, f in self.facts.items()
            for m in f.record.mentions()
            if m.designations
        }
        by_source: dict[str, int] = {}
        for num, f in sorted(self.facts.items()):
            self._union(num, by_source.setdefault(f.source, num))
        for a, others in self.near.items():
            for b in others:
                self._union(a, b)
        for a, counts in self.phrasing.items():
            for b in counts:
                self._union(a, b)
        self._groups = self._build_groups()

    @classmethod
    def load(cls, u: Unlocked) -> Corpus:
        """Unseal every report's entity record (hashing old ones again first: `rehash`)."""
        records = rehash(
            u,
            {
                num: Record.decode(u.key.open_record(sealed, entities_context(num)))
                for num, sealed in u.conn.execute("SELECT report, sealed FROM report_entities")
            },
        )
        facts = {
            num: ReportFacts(num, source, dt.date.fromisoformat(day), records.get(num, Record()))
            for num, source, day in u.conn.execute("SELECT num, source, day FROM reports")
        }
        return cls(facts, links.load_decisions(u))

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
            raise NotFound(f"no report {num}", hint=_LIST_HINT)
        evidence: dict[int, list[Evidence]] = defaultdict(list)
        for g in self._groups:
            if num in g.texts:
                for other in g.reports:
                    e = self.evidence(g, num, other) if other != num else None
                    if e is not None and e.decision != links.REJECTED:
                        evidence[other].append(e)
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

    def pair_strength(self, kind: str, key: str, strength: Strength, a: int, b: int) -> Strength:
        """How strong a link on a key is between reports a and b (see `links.pair_strength`)."""
        return links.pair_strength(
            kind,
            strength,
            self._places[a],
            self._places[b],
            self._roles.get((a, kind, key), ()),
            self._roles.get((b, kind, key), ()),
        )

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

    def _copies(self, num: int) -> tuple[list[tuple[int, float]], list[SameSource]]:
        me = self.facts[num]
        same = [
            SameSource(other, "same source designation")
            for other, f in sorted(self.facts.items())
            if other != num and f.source == me.source
        ]
        for other, score in sorted(self.near[num].items()):
            if self.facts[other].source != me.source:
                same.append(SameSource(other, f"near-duplicate text ({score:.0%} alike)"))
        for other, count in sorted(self.phrasing[num].items()):
            if self.facts[other].source != me.source and other not in self.near[num]:
                same.append(SameSource(other, f"shares {count} rare phrases"))
        grouped = {s.other for s in same}
        for other in sorted(self.facts):
            if (
                other != num
                and other not in grouped
                and self._find_root(other) == self._find_root(num)
            ):
                same.append(SameSource(other, "linked through other likely copies"))
        near = sorted(self.near[num].items(), key=lambda item: (-item[1], item[0]))
        return near, same

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

    def _pairs(self) -> None:
        """Find near-duplicates and shared rare phrasing through an index of 5-grams.

        Only reports sharing an uncommon 5-gram are compared, so this stays far from
        comparing every pair of reports.
        """
        for (a, b), _count in _sharing(self.facts, "shingles", _CANDIDATE_DF).items():
            sa, sb = self.facts[a].record.shingles, self.facts[b].record.shingles
            score = len(sa & sb) / len(sa | sb)
            if score >= NEAR_DUPLICATE:
                self.near[a][b] = self.near[b][a] = score
        for (a, b), count in _sharing(self.facts, "phrases", RARE_DF).items():
            if count >= RARE_PHRASES:
                self.phrasing[a][b] = self.phrasing[b][a] = count

    def _find_root(self, num: int) -> int:
        while self._root[num] != num:
            self._root[num] = self._root[self._root[num]]
            num = self._root[num]
        return num

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find_root(a), self._find_root(b)
        if ra != rb:
            self._root[max(ra, rb)] = min(ra, rb)

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
            for a, b in pairwise(nums):
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
        sets: dict[int, set[int]] = defaultdict(set)
        for n in nums:
            sets[find(n)].add(self._find_root(n))
        return max((len(v) for v in sets.values()), default=0)


def _sharing(facts: Mapping[int, ReportFacts], attr: str, max_df: int) -> Counter[tuple[int, int]]:
    """Pairs of reports, with how many 5-grams they share that at most `max_df` reports hold."""
    index: dict[int, list[int]] = defaultdict(list)
    for num, f in facts.items():
        for h in getattr(f.record, attr):
            index[h].append(num)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if 2 <= len(holders) <= max_df:
            for a, b in combinations(sorted(holders), 2):
                shared[(a, b)] += 1
    return shared


def shared_entities(u: Unlocked, nums: Sequence[int]) -> list[dict[str, object]]:
    """The entities that two or more of `nums` name, for an escalation packet.

    Each is {kind, name, reports, sources, first, last}: the report numbers among
    `nums` naming it, how many independent sources strong or confirmed links join
    among those (likely-same-source reports count once; a weak link a reviewer has
    not confirmed joins none), and the first and last day those reports arrived (ISO).
    """
    return [
        {
            "kind": g.kind,
            "name": g.name,
            "reports": list(g.reports),
            # A district, agency or date corroborates nothing alone: its count is plain.
            "sources": g.sources if g.strength.level == CONTEXT else g.corroborating,
            "first": g.first.isoformat(),
            "last": g.last.isoformat(),
        }
        for g in Corpus.load(u).shared(nums)
    ]


# --- storage ----------------------------------------------------------------------------------


def entities_context(num: int) -> bytes:
    """The context a report's entity record is sealed under (for `review.keys.rewrap`)."""
    return f"entities:{num}".encode("ascii")


def _load(u: Unlocked, num: int) -> Record | None:
    row = u.conn.execute("SELECT sealed FROM report_entities WHERE report = ?", (num,)).fetchone()
    return Record.decode(u.key.open_record(row[0], entities_context(num))) if row else None


def _store(u: Unlocked, num: int, record: Record) -> None:
    _store_all(u, [(num, record)])


def _store_all(u: Unlocked, records: Iterable[tuple[int, Record]]) -> None:
    u.conn.executemany(
        "INSERT INTO report_entities VALUES (?, ?) ON CONFLICT(report) DO UPDATE"
        " SET sealed = excluded.sealed",
        [
            (num, u.key.seal_record(record.encode(), entities_context(num)))
            for num, record in records
        ],
    )


def _exists(u: Unlocked, num: int) -> None:
    if u.conn.execute("SELECT 1 FROM reports WHERE num = ?", (num,)).fetchone() is None:
        raise NotFound(f"no report {num}", hint=_LIST_HINT)


def _find(record: Record, num: int, name: str, kind: str | None) -> Mention:
    kinds = [kind] if kind is not None else list(entities.KINDS)
    keys = {(k, entities.key_for(k, name)) for k in kinds}
    folded = normalize(name)
    mentions = [m for m in record.mentions() if kind is None or m.kind == kind]
    found = (
        [m for m in mentions if (m.kind, m.key) in keys]
        # "Saddar" names the report's station keyed `saddar/kasur`.
        or [m for m in mentions if "/" in m.key and _station_named(m, keys, folded)]
        or [
            m
            for m in mentions
            if folded and (folded == m.key or any(folded == normalize(t) for t in m.texts))
        ]
    )
    return _only(
        found,
        NotFound(
            f"report {num} names no entity {name!r}",
            hint=f"`raazdar-review names list --report {num}` lists them",
        ),
        InvalidValue(
            f"{name!r} names several entities of report {num}",
            hint="say which with --kind " + "|".join(sorted({m.kind for m in found})),
        ),
    )


def _only(found: list[Mention], none: ReviewError, several: ReviewError) -> Mention:
    """The one mention found, or the error for none or for several."""
    if not found:
        raise none
    if len(found) > 1:
        raise several
    return found[0]


def _add(record: Record, kind: str, text: str, designation: str | None) -> Mention:
    if kind not in entities.KINDS:
        raise InvalidValue(
            f"unknown kind {kind!r}", hint=f"choose one of {', '.join(entities.KINDS)}"
        )
    text = " ".join(text.split())
    if not (0 < len(text) <= 200) or not text.isprintable():
        raise InvalidValue("an entity is 1-200 printable characters")
    key = entities.key_for(kind, text)
    if not key:
        raise InvalidValue(
            f"{text!r} is not a {kind} the tool can match", hint=_KIND_HINTS.get(kind)
        )
    record.added = [e for e in record.added if (e["kind"], e["key"]) != (kind, key)]
    record.added.append({"kind": kind, "key": key, "text": text, "designation": designation})
    if any((e["kind"], e["key"]) == (kind, key) for e in record.found):
        record.decisions[_ident(kind, key)] = "confirmed"  # found already: now confirmed
    else:
        record.decisions.pop(_ident(kind, key), None)  # an earlier rejection no longer holds
    return Mention(kind, key, (text,), (designation,) if designation else (), "added")


_KIND_HINTS: Final = {
    "cnic": "write it as #####-#######-#",
    "phone": "write it as 03xx-xxxxxxx or +92 …",
    "date": "write it as YYYY-MM-DD or 12 March 2024",
}


def _station_named(m: Mention, keys: set[tuple[str, str | None]], folded: str) -> bool:
    station = m.key.partition("/")[0]
    return (m.kind, station) in keys or station == folded


def _ident(kind: str, key: str) -> str:
    return f"{kind}\t{key}"


def _all_texts(g: Group) -> Iterable[str]:
    for texts in g.texts.values():
        yield from texts


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
        found = list(map(tokens.get, text.split()))
        if None in found:
            raw = text.split()
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


def _shingles(text: str, masked: Sequence[entities.Entity], words: WordHashes) -> set[int]:
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
