"""Conflicts of interest: reviewers declare agencies or districts they must not see.

A report names a declared agency or district when its triage field says so or
its text (message, form fields, file names, notes) mentions it, as whole words
after the search's Urdu and English folding, or as the same entity that
`review.analysis.entities` finds. Such a report is hidden from the reviewer who
declared it: `check` and `hidden` are the one screen that every path showing a
report passes through (`triage.load_state`, `triage.list_reports`,
`reports.open_attachment`), and it refuses in words that say nothing of why.

Each report routed away from a reviewer is recorded once (a sealed `routings`
row and a `route` audit entry naming the reviewer, sealed): a report assigned
to them is handed to the least-loaded reviewer free of the conflict, or to
nobody, loudly, when every reviewer has it. Routing runs in the transaction of
a declaration, a withdrawal and an import, and lazily when a reviewer lists
reports, which catches a report that came to name something later (a field
set, a note added); it is idempotent.

This is the tool's policy for honest reviewers, not cryptography: the workspace
key opens every record, so it keeps a conflicted reviewer from reading a report
by accident or by routine, not a reviewer set on reading the database by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from review.analysis import entities
from review.errors import InvalidValue, NotFound, ReviewError
from review.workspace import Unlocked, audit, head
from review.workspace.schema import transaction
from review.workspace.search import SearchIndex, normalize
from review.workspace.state import State, read_state, seal_state

# Routings' seqs are drawn below this, as notes' are (SQLite's integers are 64-bit; canonical
# JSON, which a record naming one would use, carries up to 2**53 - 1).
_SEQS: Final = 2**53 - 2

KINDS: Final = ("agency", "district")
_ARABIC: Final = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


@dataclass(frozen=True)
class Declaration:
    """An agency or district a reviewer must not see reports about."""

    id: int
    reviewer: str
    kind: str
    name: str
    declared: str


@dataclass(frozen=True)
class Routing:
    """One report routed away from a reviewer, and to whom it went if it was theirs."""

    report: int
    away_from: str
    unassigned: bool
    to: str | None


@dataclass
class Routed:
    """What a routing pass did, and the reports no reviewer is free to take."""

    routings: list[Routing] = field(default_factory=list)
    unroutable: list[int] = field(default_factory=list)


def declare(
    u: Unlocked, *, agencies: Iterable[str] = (), districts: Iterable[str] = ()
) -> tuple[list[Declaration], Routed]:
    """Declare, for the acting reviewer, agencies and districts they must not see.

    A name already declared is kept as it is. Reports naming a new one are routed
    away from the reviewer in the same transaction.
    """
    wanted = [("agency", _name(a)) for a in agencies] + [("district", _name(d)) for d in districts]
    if not wanted:
        raise InvalidValue("declare at least one agency or district")
    today = dt.date.today().isoformat()
    new: list[Declaration] = []
    with transaction(u.conn):
        have = {(d.kind, normalize(d.name)) for d in declarations(u, u.reviewer)}
        for kind, name in wanted:
            if (kind, normalize(name)) in have:
                continue
            have.add((kind, normalize(name)))
            body = {"kind": kind, "name": name, "declared": today}
            seq = _insert(u, "conflicts", u.reviewer, body, _declaration_of(u.reviewer))
            new.append(Declaration(seq, u.reviewer, kind, name, today))
            audit.append(u, "declare", None, {"declaration": seq, "kind": kind, "name": name})
        routed = route(u) if new else Routed()
    return new, routed


def withdraw(u: Unlocked, declaration: int) -> Declaration:
    """Withdraw a declaration: only an administrator other than the reviewer who made it.

    A recusal protects sources; the reviewer it binds must not be able to lift it
    alone, quietly, on the day a report about their old agency comes in.
    """
    u.require_admin("withdraw a conflict-of-interest declaration")
    found = [d for d in declarations(u) if d.id == declaration]
    if not found:
        raise NotFound(f"no declaration {declaration}", hint="`conflicts list` shows them")
    d = found[0]
    if d.reviewer == u.reviewer:
        raise ReviewError(
            "you cannot withdraw your own declaration",
            hint="another administrator must withdraw it",
        )
    with transaction(u.conn):
        u.conn.execute("DELETE FROM conflicts WHERE seq = ?", (d.id,))
        detail = {"declaration": d.id, "reviewer": d.reviewer, "kind": d.kind, "name": d.name}
        audit.append(u, "withdraw", None, detail)
        route(u)
    return d


def declarations(u: Unlocked, reviewer: str | None = None) -> list[Declaration]:
    """The declarations in force: one reviewer's, or everyone's."""
    rows = u.conn.execute(
        "SELECT seq, reviewer, sealed FROM conflicts WHERE ? IS NULL OR reviewer = ? ORDER BY seq",
        (reviewer, reviewer),
    ).fetchall()
    out = []
    for seq, who, sealed in rows:
        body = json.loads(u.key.open_record(sealed, declaration_context(seq, who)))
        out.append(Declaration(seq, who, body["kind"], body["name"], body["declared"]))
    return out


def check(u: Unlocked, num: int, state: State) -> None:
    """Refuse report `num` to the acting reviewer if it names one of their declarations."""
    mine = declarations(u, u.reviewer)
    if mine and _Matcher(SearchIndex.load(u)).names_any(mine, num, state):
        raise NotFound(f"report {num} is not available to you")


def check_assignee(u: Unlocked, num: int, reviewer: str, state: State) -> None:
    """Refuse to assign report `num` to a reviewer it is routed away from."""
    theirs = declarations(u, reviewer)
    if theirs and _Matcher(SearchIndex.load(u)).names_any(theirs, num, state):
        raise InvalidValue(f"report {num} cannot be assigned to {reviewer}: it is routed to others")


def hidden(u: Unlocked) -> set[int]:
    """The reports hidden from the acting reviewer, routing any not routed yet (outside writes)."""
    if not declarations(u, u.reviewer):
        return set()  # a withdrawal forgets the reviewer's routings in its own transaction
    picture = _Picture.take(u)
    if picture.pending(u.reviewer) and not u.conn.in_transaction:
        with transaction(u.conn):
            route(u)
    return set(picture.named.get(u.reviewer, set()))


def unroutable(u: Unlocked) -> list[int]:
    """Reports that every reviewer able to unlock has a declared conflict with."""
    if not declarations(u):
        return []
    return _Picture.take(u).unroutable()


def route(u: Unlocked) -> Routed:
    """Route away every report newly naming a reviewer's declaration (in the caller's transaction).

    A report assigned to the conflicted reviewer goes to the eligible reviewer with
    the fewest open reports assigned (ties by id): the rule is the same whoever
    runs it, and spreads the work. Routings that no longer hold are forgotten, so
    a report that comes to name the declaration again is routed, and logged, again.
    """
    picture = _Picture.take(u)
    done = Routed(unroutable=picture.unroutable())
    load = Counter(
        s.assignee for s in picture.states.values() if s.assignee and s.status != "closed"
    )
    for reviewer in sorted(picture.named.keys() | picture.recorded.keys()):
        named = picture.named.get(reviewer, set())
        recorded = picture.recorded.get(reviewer, {})
        for num in sorted(named):
            state = picture.states[num]
            theirs = state.assignee == reviewer
            if num in recorded and not theirs:
                continue
            to: str | None = None
            if theirs:
                to = min(picture.free(num), key=lambda r: (load[r], r), default=None)
                if to is not None and state.status != "closed":
                    load[to] += 1
                picture.states[num] = state = replace(state, assignee=to)
                u.conn.execute(
                    "UPDATE reports SET state = ? WHERE num = ?",
                    (seal_state(u, num, state), num),
                )
            if num not in recorded:
                _insert(u, "routings", num, {"reviewer": reviewer}, _routing_of(num))
            detail = {
                "reviewer": reviewer,
                "unassigned": theirs,
                "to": to,
                "unroutable": not picture.free(num),
            }
            audit.append(u, "route", num, detail)
            done.routings.append(Routing(num, reviewer, theirs, to))
        for num, seq in recorded.items():
            if num not in named:
                u.conn.execute("DELETE FROM routings WHERE seq = ?", (seq,))
    head.put(u.conn, u.key)  # the declarations and routings are under the head's tag
    return done


def names(declaration: Declaration, state: State, text: str) -> bool:
    """Say whether a report, by its triage field or its text, names a declaration."""
    return _Matcher(None).names(declaration, state, normalize(text))


def declaration_context(seq: int, reviewer: str) -> bytes:
    """The context a declaration is sealed under: its row and its reviewer."""
    return f"conflict:{seq}:{reviewer}".encode("ascii")


def routing_context(seq: int, report: int) -> bytes:
    """The context a routing is sealed under: its row and its report."""
    return f"routing:{seq}:{report}".encode("ascii")


@dataclass
class _Picture:
    """Who is routed away from what, as the workspace stands: computed once per pass."""

    states: dict[int, State]
    named: dict[str, set[int]]  # reviewer -> reports naming one of their declarations
    recorded: dict[str, dict[int, int]]  # reviewer -> report -> routing row
    active: list[str]  # reviewers who can unlock (a key not retired)

    @classmethod
    def take(cls, u: Unlocked) -> _Picture:
        decls = declarations(u)
        states: dict[int, State] = {}
        named: dict[str, set[int]] = {}
        if decls:
            nums = [row[0] for row in u.conn.execute("SELECT num FROM reports ORDER BY num")]
            states = {num: read_state(u, num) for num in nums}
            matcher = _Matcher(SearchIndex.load(u))
            for d in decls:
                hits = named.setdefault(d.reviewer, set())
                hits.update(
                    num
                    for num, state in states.items()
                    if num not in hits and matcher.names(d, state, matcher.text(num))
                )
        recorded: dict[str, dict[int, int]] = {}
        for seq, num, sealed in u.conn.execute("SELECT seq, report, sealed FROM routings"):
            body = json.loads(u.key.open_record(sealed, routing_context(seq, num)))
            recorded.setdefault(body["reviewer"], {})[num] = seq
        active = [
            row[0]
            for row in u.conn.execute(
                "SELECT DISTINCT reviewer FROM reviewer_keys WHERE NOT retired ORDER BY reviewer"
            )
        ]
        return cls(states, named, recorded, active)

    def free(self, num: int) -> list[str]:
        """The reviewers able to take report `num`: active, and free of any conflict with it."""
        return [r for r in self.active if num not in self.named.get(r, set())]

    def pending(self, reviewer: str) -> bool:
        """Say whether a routing pass would change anything for `reviewer`."""
        named = self.named.get(reviewer, set())
        recorded = self.recorded.get(reviewer, {}).keys()
        return named != recorded or any(self.states[n].assignee == reviewer for n in named)

    def unroutable(self) -> list[int]:
        """Reports no active reviewer is free to take."""
        conflicted = set().union(*self.named.values())
        return sorted(num for num in conflicted if not self.free(num))


class _Matcher:
    """Match declarations against reports, extracting each text's entities at most once."""

    def __init__(self, index: SearchIndex | None) -> None:
        self._index = index
        self._keys: dict[str, frozenset[str]] = {}
        self._wanted: dict[Declaration, frozenset[str]] = {}

    def text(self, num: int) -> str:
        """A report's folded text, as the search index holds it."""
        return self._index.text(num) if self._index is not None else ""

    def names_any(self, decls: Iterable[Declaration], num: int, state: State) -> bool:
        """Say whether report `num` names any of `decls`."""
        text = self.text(num)
        return any(self.names(d, state, text) for d in decls)

    def names(self, d: Declaration, state: State, text: str) -> bool:
        """Say whether the field of the declaration's kind, or folded `text`, names it."""
        wanted = self.wanted(d)
        value = (state.agency if d.kind == "agency" else state.district) or ""
        for written, folded in ((value, normalize(value)), (text, text)):
            if any(_words_in(w, folded) for w in wanted) or wanted & self.keys(written):
                return True
        return False

    def wanted(self, d: Declaration) -> frozenset[str]:
        """The declared name folded, and the entity key of each way a reviewer may type it."""
        if d not in self._wanted:
            typed = {d.name, d.name.title(), d.name.upper() if len(d.name) <= 6 else d.name}
            keys = {entities.key_for(d.kind, t) for t in typed}
            self._wanted[d] = frozenset(normalize(k) for k in {d.name, *keys} if k)
        return self._wanted[d]

    def keys(self, text: str) -> frozenset[str]:
        """The keys of the agencies and districts `review.analysis.entities` finds in a text.

        Its English rules need capitals, which folding removed from the index; so
        folded English is matched by the folded names and keys instead, and the
        extractor runs only on a field (as typed) or where there is Arabic script.
        """
        if not text or (not _ARABIC.search(text) and text == text.casefold()):
            return frozenset()
        if text not in self._keys:
            found = entities.extract(text)
            self._keys[text] = frozenset(normalize(e.key) for e in found if e.kind in KINDS)
        return self._keys[text]


def _words_in(name: str, text: str) -> bool:
    """Say whether `name` occurs in `text` as whole words ("fia" is not in "mafia")."""
    if not name:
        return False
    start = text.find(name)
    while start != -1:
        end = start + len(name)
        before = start == 0 or not text[start - 1].isalnum()
        after = end == len(text) or not text[end].isalnum()
        if before and after:
            return True
        start = text.find(name, start + 1)
    return False


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not (0 < len(value) <= 100) or not value.isprintable():
        raise InvalidValue("an agency or district is 1-100 printable characters")
    return value


def _declaration_of(reviewer: str) -> Callable[[int], bytes]:
    return lambda seq: declaration_context(seq, reviewer)


def _routing_of(num: int) -> Callable[[int], bytes]:
    return lambda seq: routing_context(seq, num)


def _insert(
    u: Unlocked,
    table: Literal["conflicts", "routings"],
    key: int | str,
    body: Mapping[str, object],
    context: Callable[[int], bytes],
) -> int:
    """Insert a sealed row whose context names its own sequence number; returns it."""
    column = "reviewer" if table == "conflicts" else "report"
    # A declaration's seq is the number its reviewer withdraws it by. A routing's is drawn at
    # random: counted up beside its report in the clear, the routings said in which order
    # they were made, so that a declaration came after the import of a report routed before.
    drawn = secrets.randbelow(_SEQS) + 1 if table == "routings" else None
    seq = int(
        u.conn.execute(
            f"INSERT INTO {table} (seq, {column}, sealed) VALUES (?, ?, x'') RETURNING seq",  # noqa: S608 - table is one of two constants
            (drawn, key),
        ).fetchone()[0]
    )
    sealed = u.key.seal_record(_encode(body), context(seq))
    u.conn.execute(f"UPDATE {table} SET sealed = ? WHERE seq = ?", (sealed, seq))  # noqa: S608
    return seq


def _encode(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
