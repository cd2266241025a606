"""Triage: each report's status, assignee, fields, severity, tags, links and notes.

A report's triage state is one sealed record (bound to its report number),
rewritten whole on each change, in the same transaction as the audit entry that
records the change. Listing decrypts the states; "imminent danger to life"
sorts first whatever else the list is sorted by.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from review.casework import conflicts, notices, taxonomy
from review.errors import InvalidValue
from review.workspace import Unlocked, audit
from review.workspace.schema import transaction
from review.workspace.search import add_segment
from review.workspace.state import State, read_state, seal_state, state_context

# Notes' seqs are drawn below this: the audit record names a note by its seq, and canonical
# JSON carries integers up to 2**53 - 1 only.
_SEQS: Final = 2**53 - 2
STATUSES: Final = ("new", "in-review", "needs-info", "corroborated", "escalated", "closed")
CLOSE_REASONS: Final = ("unfounded", "duplicate", "resolved", "out-of-scope")
SEVERITIES: Final = ("low", "medium", "high", "critical")
TEXT_FIELDS: Final = ("category", "agency", "district")
SORTS: Final = ("number", "day", "severity", "status")

# Where a report may go from each status; `closed` can be reopened for review.
MOVES: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"in-review", "needs-info", "closed"}),
    "in-review": frozenset({"needs-info", "corroborated", "escalated", "closed"}),
    "needs-info": frozenset({"in-review", "corroborated", "closed"}),
    "corroborated": frozenset({"in-review", "escalated", "closed"}),
    "escalated": frozenset({"in-review", "closed"}),
    "closed": frozenset({"in-review"}),
}

# What the source is told of each status: never more than that it moved.
NOTICES: Final = {
    "new": "received",
    "in-review": "under-review",
    "needs-info": "needs-info",
    "corroborated": "under-review",
    "escalated": "under-review",
    "closed": "closed",
}


@dataclass(frozen=True)
class ReportRow:
    """One line of the inbox: the report's clear facts and its unsealed state."""

    num: int
    submission: str
    source: str
    day: dt.date
    state: State
    items: int
    unreadable: int
    text_missing: bool = False  # the report's own text is among the unreadable items
    disputed: bool = False  # an item of its source disputed their reply key: no reply, ever


@dataclass
class Filters:
    """What `list` narrows the inbox to; None means any."""

    statuses: set[str] | None = None
    include_closed: bool = False
    category: str | None = None
    agency: str | None = None
    district: str | None = None
    severity: str | None = None
    danger: bool = False
    assignee: str | None = None
    tag: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    only: set[int] | None = field(default=None)

    def match(self, row: ReportRow) -> bool:
        """Say whether a report passes every filter."""
        s = row.state
        checks = [
            self.statuses is None or s.status in self.statuses,
            self.statuses is not None or self.include_closed or s.status != "closed",
            _same(self.category, s.category),
            taxonomy.same("agency", self.agency, s.agency),
            taxonomy.same("district", self.district, s.district),
            self.severity is None or s.severity == self.severity,
            not self.danger or s.danger,
            self.assignee is None or s.assignee == self.assignee,
            self.tag is None or self.tag in s.tags,
            self.since is None or row.day >= self.since,
            self.until is None or row.day <= self.until,
            self.only is None or row.num in self.only,
        ]
        return all(checks)


def load_state(u: Unlocked, num: int) -> State:
    """Unseal one report's state; refused when it is routed away from the acting reviewer."""
    state = read_state(u, num)
    conflicts.check(u, num, state)
    return state


def list_reports(u: Unlocked, filters: Filters, sort: str = "number") -> list[ReportRow]:
    """The reports that pass `filters`, danger first, then by `sort`."""
    if sort not in SORTS:
        raise InvalidValue(f"cannot sort by {sort!r}", hint=f"choose one of {', '.join(SORTS)}")
    counts = {
        num: (total, unreadable)
        for num, total, unreadable in u.conn.execute(
            "SELECT report, count(*), sum(status != 'filed') FROM items GROUP BY report"
        )
    }
    # A report whose only copies of its own text are unreadable.
    textless = {
        num
        for (num,) in u.conn.execute(
            "SELECT report FROM items WHERE kind = 'report' GROUP BY report"
            " HAVING sum(status = 'filed') = 0"
        )
    }
    disputed = {d for (d,) in u.conn.execute("SELECT designation FROM sources WHERE disputed")}
    rows = []
    hidden = conflicts.hidden(u)
    for num, submission, source, day, sealed in u.conn.execute(
        "SELECT num, submission, source, day, state FROM reports ORDER BY num"
    ):
        if num in hidden or (filters.only is not None and num not in filters.only):
            continue
        total, unreadable = counts.get(num, (0, 0))
        row = ReportRow(
            num=num,
            submission=submission,
            source=source,
            day=dt.date.fromisoformat(day),
            state=State.decode(u.key.open_record(sealed, state_context(num))),
            items=total,
            unreadable=unreadable,
            text_missing=num in textless,
            disputed=source in disputed,
        )
        if filters.match(row):
            rows.append(row)
    rows.sort(key=_sort_key(sort))
    return rows


def set_status(u: Unlocked, num: int, status: str, reason: str | None = None) -> State:
    """Move a report along the workflow; closing needs a reason; the source gets a notice."""
    with transaction(u.conn):
        return move(u, num, status, reason)


def move(u: Unlocked, num: int, status: str, reason: str | None = None) -> State:
    """Move a report as `set_status` does, inside the caller's transaction.

    For a change that moves reports with more: an escalation's first export commits its
    reports' moves with it, so that no kill leaves it sent and its reports as they were.
    """
    _choice(status, STATUSES, "status")
    if status == "closed":
        if reason is None:
            raise InvalidValue(
                "closing a report needs a reason", hint=f"--reason {'|'.join(CLOSE_REASONS)}"
            )
        _choice(reason, CLOSE_REASONS, "reason")
    elif reason is not None:
        raise InvalidValue("only closing takes a reason")

    def change(state: State) -> State:
        if status not in MOVES[state.status]:
            allowed = ", ".join(sorted(MOVES[state.status]))
            raise InvalidValue(
                f"report {num} cannot go from {state.status} to {status}",
                hint=f"from {state.status}: {allowed}",
            )
        return replace(state, status=status, reason=reason)

    state = _apply(u, num, change)
    source = u.conn.execute("SELECT source FROM reports WHERE num = ?", (num,)).fetchone()[0]
    notices.post(u, source, NOTICES[state.status])
    audit.append(u, "status", num, {"status": status, "reason": reason})
    return state


def assign(u: Unlocked, num: int, reviewer: str | None) -> State:
    """Assign a report to an enrolled reviewer, or to nobody."""
    if reviewer is not None and reviewer not in u.workspace.reviewer_ids():
        raise InvalidValue(f"{reviewer!r} is not a reviewer enrolled here")
    if reviewer is not None:
        conflicts.check_assignee(u, num, reviewer, load_state(u, num))
    return _update(
        u, num, "assign", {"assignee": reviewer}, lambda s: replace(s, assignee=reviewer)
    )


def set_field(u: Unlocked, num: int, name: str, value: str | None) -> State:
    """Set (or clear) the category, agency or district; a taxonomy term is kept by its name."""
    _choice(name, TEXT_FIELDS, "field")
    if value is not None:
        value = taxonomy.canonical(name, _text(value, name))
    changes: dict[str, Any] = {name: value}

    def change(state: State) -> State:
        kept = tuple(f for f in state.from_source if f != name)
        return replace(state, **changes, from_source=kept)

    return _update(u, num, name, changes, change)


def from_source(state: State, fields: dict[str, Any]) -> State:
    """Fill the agency and district the source chose, where no reviewer has set them."""
    changes: dict[str, Any] = {}
    for name in taxonomy.SOURCE_FIELDS:
        if getattr(state, name) is not None:
            continue
        text = " ".join(_answer(name, fields.get(name)).split())[:100]
        if text and text.isprintable():
            changes[name] = taxonomy.canonical(name, text)
    if not changes:
        return state
    return replace(state, **changes, from_source=(*state.from_source, *changes))


def _answer(name: str, value: Any) -> str:
    """A form answer as text: a term (code and English label) by its code if known here."""
    if isinstance(value, dict):
        code, label = str(value.get("code") or ""), str(value.get("label") or "")
        known = taxonomy.canonical(name, code) if code else code
        return known if known != code else label or code
    return value if isinstance(value, str) else ""


def set_severity(u: Unlocked, num: int, level: str | None, danger: bool | None = None) -> State:
    """Set the severity, and the "imminent danger to life" flag when given."""
    if level is not None:
        _choice(level, SEVERITIES, "severity")

    def change(state: State) -> State:
        return replace(state, severity=level, danger=state.danger if danger is None else danger)

    return _update(u, num, "severity", {"severity": level, "danger": danger}, change)


def tag(u: Unlocked, num: int, tags: Iterable[str], *, remove: bool = False) -> State:
    """Add tags to (or remove them from) a report."""
    wanted = [_tag(t) for t in tags]

    def change(state: State) -> State:
        if remove:
            return replace(state, tags=tuple(t for t in state.tags if t not in wanted))
        return replace(state, tags=tuple(sorted(set(state.tags) | set(wanted))))

    return _update(u, num, "untag" if remove else "tag", {"tags": wanted}, change)


def link(u: Unlocked, num: int, other: int, *, remove: bool = False) -> None:
    """Link two reports (both ways), or unlink them."""
    if num == other:
        raise InvalidValue("a report cannot be linked to itself")
    load_state(u, other)  # both must exist before anything changes

    def change_for(target: int) -> Callable[[State], State]:
        def change(state: State) -> State:
            links = set(state.links)
            links = links - {target} if remove else links | {target}
            return replace(state, links=tuple(sorted(links)))

        return change

    action = "unlink" if remove else "link"
    with transaction(u.conn):
        _apply(u, num, change_for(other))
        _apply(u, other, change_for(num))
        audit.append(u, action, num, {"other": other})


@dataclass(frozen=True)
class Note:
    """A reviewer's note on a report."""

    seq: int
    author: str
    at: str
    text: str


def add_note(u: Unlocked, num: int, text: str) -> None:
    """Add a note to a report; notes are searchable and never edited."""
    if not text.strip():
        raise InvalidValue("a note cannot be empty")
    load_state(u, num)
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with transaction(u.conn) as conn:
        # Its place among the report's notes is sealed; the clear seq is drawn at random, as
        # blobs' rowids are: counted up, read beside each note's report, it said in which
        # order the reports were annotated, and which notes came after a later import.
        (place,) = conn.execute(
            "SELECT count(*) + 1 FROM notes WHERE report = ?", (num,)
        ).fetchone()
        seq = secrets.randbelow(_SEQS) + 1
        body = json.dumps(
            {"author": u.reviewer, "at": at, "text": text, "place": place}, ensure_ascii=False
        )
        sealed = u.key.seal_record(body.encode("utf-8"), _note_context(seq, num))
        conn.execute("INSERT INTO notes VALUES (?, ?, ?)", (seq, num, sealed))
        add_segment(u, {num: text})
        audit.append(u, "note", num, {"note": seq})


def notes(u: Unlocked, num: int) -> list[Note]:
    """A report's notes, oldest first."""
    out = []
    for seq, sealed in u.conn.execute(
        "SELECT seq, sealed FROM notes WHERE report = ? ORDER BY seq", (num,)
    ):
        obj = json.loads(u.key.open_record(sealed, _note_context(seq, num)))
        # Notes from before session 41 have no place: their seqs counted up, first to last.
        out.append(((obj.get("place", 0), seq), Note(seq, obj["author"], obj["at"], obj["text"])))
    return [note for _, note in sorted(out, key=lambda pair: pair[0])]


def _update(
    u: Unlocked,
    num: int,
    action: str,
    detail: dict[str, Any],
    change: Callable[[State], State],
    after: Callable[[State], None] | None = None,
) -> State:
    with transaction(u.conn):
        state = _apply(u, num, change)
        if after is not None:
            after(state)
        audit.append(u, action, num, detail)
    return state


def _apply(u: Unlocked, num: int, change: Callable[[State], State]) -> State:
    state = change(load_state(u, num))
    u.conn.execute("UPDATE reports SET state = ? WHERE num = ?", (seal_state(u, num, state), num))
    return state


def _sort_key(sort: str) -> Callable[[ReportRow], tuple[Any, ...]]:
    def key(row: ReportRow) -> tuple[Any, ...]:
        s = row.state
        rank = SEVERITIES.index(s.severity) + 1 if s.severity else 0
        by: tuple[Any, ...] = {
            "number": (row.num,),
            "day": (row.day, row.num),
            "severity": (-rank, row.num),
            "status": (STATUSES.index(s.status), row.num),
        }[sort]
        return (not s.danger, *by)

    return key


def _same(wanted: str | None, value: str | None) -> bool:
    return wanted is None or (value is not None and value.casefold() == wanted.casefold())


def _choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise InvalidValue(f"unknown {what} {value!r}", hint=f"choose one of {', '.join(allowed)}")


def _text(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not (0 < len(value) <= 100) or not value.isprintable():
        raise InvalidValue(f"{what} must be 1-100 printable characters")
    return value


def _tag(value: str) -> str:
    value = value.strip().casefold()
    if not (0 < len(value) <= 40) or not value.isprintable() or any(c.isspace() for c in value):
        raise InvalidValue(f"bad tag {value!r}", hint="a tag is 1-40 characters without spaces")
    return value


def _note_context(seq: int, num: int) -> bytes:
    return f"note:{seq}:{num}".encode("ascii")
