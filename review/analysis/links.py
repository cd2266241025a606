"""Links between reports: the shared entities behind each, how strong each is, reviewers' word.

A link between two reports is made of the entity keys they share. Each key is
strong (a CNIC, a phone number, a vehicle; a person's name of two or more words
that is not a common name; a police station keyed with its district,
`<station>/<district>`) or weak (a one-word name, a name made only of the
common name words in `data/common_names.txt`, a station without its district).
A district, an agency or a date is context: it never links two reports alone.
Between two particular reports a strong name is weak unless they also share a
place (`pair_strength`).
A weak key counts as corroboration between two reports only once a reviewer
confirms it for that pair; a rejected one never counts again. Decisions are
sealed records in `link_decisions`, one per pair and key, audited by the caller.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

from review.workspace import Unlocked
from review.workspace.search import normalize

STRONG: Final = "strong"
WEAK: Final = "weak"
CONTEXT: Final = "context"
CONFIRMED: Final = "confirmed"
REJECTED: Final = "rejected"
DECISIONS: Final = (CONFIRMED, REJECTED)

_STRONG_KINDS: Final = {
    "cnic": "a CNIC",
    "phone": "a phone number",
    "vehicle": "a vehicle registration",
}
_CONTEXT_KINDS: Final = {
    "district": "a district alone",
    "agency": "an agency alone",
    "date": "a date alone",
}

# One reviewer decision's identity: the pair of reports (lower first), the kind and the key.
Ident = tuple[int, int, str, str]


@dataclass(frozen=True)
class Strength:
    """How much a shared key says that two reports name the same thing, and why."""

    level: str  # strong, weak or context
    why: str


@functools.cache
def common_words() -> frozenset[str]:
    """Every spelling (folded) of the name words too common to tell people apart."""
    text = resources.files("review").joinpath("data", "common_names.txt").read_text("utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0]
        for variant in entry.split("|"):
            words.update(normalize(variant).split())
    return frozenset(words)


def strength(kind: str, key: str) -> Strength:
    """How strong a link on this key is, by its kind and form alone."""
    if kind in _STRONG_KINDS:
        return Strength(STRONG, _STRONG_KINDS[kind])
    if kind in _CONTEXT_KINDS:
        return Strength(CONTEXT, _CONTEXT_KINDS[kind])
    if kind == "police_station":
        station, _, district = key.partition("/")
        if station.strip() and district.strip():
            return Strength(STRONG, "a police station with its district")
        return Strength(WEAK, "a police station without its district")
    if kind == "person":
        words = key.split()
        if len(words) < 2:
            return Strength(WEAK, "a one-word name")
        if all(w in common_words() for w in words):
            return Strength(WEAK, "a common name")
        return Strength(STRONG, "a name of two or more words, not a common one")
    return Strength(WEAK, f"a {kind}")


def places(keys: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Where a report is set, from its (kind, key) pairs: districts and police stations.

    A station keyed with its district (`saddar/kasur`) sets the report in that district too.
    """
    found: set[str] = set()
    for kind, key in keys:
        if kind == "district":
            found.add(f"district:{key}")
        elif kind == "police_station":
            found.add(f"station:{key}")
            district = key.partition("/")[2]
            if district:
                found.add(f"district:{district}")
    return frozenset(found)


def pair_strength(
    kind: str, strength: Strength, places_a: frozenset[str], places_b: frozenset[str]
) -> Strength:
    """How strong a link on a key of `strength` is between two reports set in these places.

    A person's full, uncommon name is still only a name: "Tariq Mehmood" the SHO in
    Kasur and "Tariq Mehmood" the agent in Gujrat are two men. So a name links two
    reports strongly only when they are also set in the same place (a district or a
    police station both name); elsewhere it is weak until a reviewer confirms it.
    """
    if kind == "person" and strength.level == STRONG and not places_a & places_b:
        return Strength(WEAK, "the same name, but no district or police station in common")
    return strength


@dataclass(frozen=True)
class Evidence:
    """One shared key behind a link: how each report writes it, its strength, any decision."""

    kind: str
    key: str
    strength: Strength
    written: Mapping[int, tuple[str, ...]]
    decision: str | None = None

    @property
    def counts(self) -> bool:
        """Say whether this key makes the two reports corroborate each other."""
        if self.strength.level == CONTEXT or self.decision == REJECTED:
            return False
        return self.decision == CONFIRMED or self.strength.level == STRONG

    @property
    def state(self) -> str:
        """strong, weak or context; or the reviewer's decision when there is one."""
        return self.decision or self.strength.level


@dataclass(frozen=True)
class Link:
    """Two reports and the shared keys that join them (rejected ones left out)."""

    reports: tuple[int, int]
    evidence: tuple[Evidence, ...]

    @property
    def corroborates(self) -> bool:
        """Say whether some key of it is strong or confirmed: corroboration, not a guess."""
        return any(e.counts for e in self.evidence)

    @property
    def level(self) -> str:
        """strong (a strong key), confirmed (a reviewer's word), weak, or context only."""
        if any(e.counts and e.strength.level == STRONG for e in self.evidence):
            return STRONG
        if any(e.counts for e in self.evidence):
            return CONFIRMED
        if any(e.strength.level == WEAK for e in self.evidence):
            return WEAK
        return CONTEXT


def ident(a: int, b: int, kind: str, key: str) -> Ident:
    """A decision's identity: the pair in order, the kind and the key."""
    return (min(a, b), max(a, b), kind, key)


def load_decisions(u: Unlocked) -> dict[Ident, str]:
    """Every reviewer decision on a link, unsealed."""
    return {i: d for _seq, i, d in _rows(u)}


def store_decision(u: Unlocked, which: Ident, decision: str) -> None:
    """Record a decision (replacing any earlier one on the same pair and key), in a transaction."""
    for seq, i, _d in _rows(u):
        if i == which:
            u.conn.execute("DELETE FROM link_decisions WHERE seq = ?", (seq,))
    row = u.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM link_decisions").fetchone()
    seq = int(row[0])
    a, b, kind, key = which
    record = {"reports": [a, b], "kind": kind, "key": key, "decision": decision}
    sealed = u.key.seal_record(
        json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        decision_context(seq),
    )
    u.conn.execute("INSERT INTO link_decisions VALUES (?, ?)", (seq, sealed))


def decision_context(seq: int) -> bytes:
    """The context a link decision is sealed under (for `review.keys.rewrap`)."""
    return f"link-decision:{seq}".encode("ascii")


def _rows(u: Unlocked) -> list[tuple[int, Ident, str]]:
    out = []
    for seq, sealed in u.conn.execute("SELECT seq, sealed FROM link_decisions ORDER BY seq"):
        obj = json.loads(u.key.open_record(sealed, decision_context(seq)))
        a, b = obj["reports"]
        out.append((seq, ident(int(a), int(b), obj["kind"], obj["key"]), str(obj["decision"])))
    return out
