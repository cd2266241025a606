"""A reviewer's work on entities: extraction at import and again, decisions on entities and links.

Extraction runs at import, inside the import's transaction (the plaintext is in
memory then, and nothing else needs to decrypt the blobs again), and can be re-run
with `reextract` after the gazetteers change; reviewers' decisions survive it.
Reviewers confirm, reject, add or correct a report's entities, and confirm or
reject the link two reports' shared entity makes.

What each report's record holds is `review.analysis.records`; how copies are told
apart, `review.analysis.copies`; how entities, sources and links are read across
every report, `review.analysis.corpus`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from review.analysis import entities, links
from review.analysis.copies import WordHashes
from review.analysis.links import CONTEXT, Evidence
from review.analysis.records import (
    EXTRACTOR_VERSION,
    LIST_HINT,
    FileSent,
    Mention,
    Reader,
    Record,
    ident,
    load_record,
    outdated,
    rehashed,
    report_parts,
    seal,
    store_record,
    store_records,
    store_sealed,
)
from review.casework import conflicts
from review.casework.reports import Content
from review.errors import InvalidValue, NotFound, ReviewError
from review.workspace import Unlocked, audit
from review.workspace.schema import transaction
from review.workspace.search import normalize

# A reviewer's decision on an entity the extractor found.
DECISIONS: Final = ("confirmed", "rejected")


def file_contents(
    u: Unlocked,
    contents: Mapping[int, Sequence[Content]],
    reader: Reader | None = None,
    order: Order | None = None,
    files: Mapping[int, Sequence[FileSent]] | None = None,
) -> None:
    """Extract the entities of newly filed contents into their reports' records (in the import).

    A report filed earlier whose record is of an older hashing scheme or extractor is read
    again whole (its new items are in the workspace by now), so its hashes are all of one scheme.
    `reader`, if given, reads the new contents (`review.analysis.records.read`, done ahead);
    `order`, if given, is the order the reports are read and sealed in (those whose readings
    are waiting first, `review.intake.ahead`); they are stored in the order of `contents`.
    `files`, if given, are the files each report was sent (`Record.add_files`).
    """
    words = WordHashes()
    known = {
        num for (num,) in u.conn.execute("SELECT report FROM report_entities") if num in contents
    }
    files = files or {}
    known |= {
        num for (num,) in u.conn.execute("SELECT report FROM report_entities") if num in files
    }
    sealed: dict[int, bytes] = {}
    only_files = [num for num in files if num not in contents]
    for num in [*(contents if order is None else order(contents)), *only_files]:
        record = load_record(u, num) if num in known else None
        if record is None:
            record = Record()
        elif outdated(record):
            record = rehashed(u, num, record, words)
        record.merge(contents.get(num, ()), words, reader)
        record.add_files(files.get(num, ()))
        sealed[num] = seal(u, num, record)
    store_sealed(u, [(num, sealed[num]) for num in [*contents, *only_files]])


# The order in which `file_contents` reads reports: every key of its mapping, once.
Order = Callable[[Mapping[int, Sequence[Content]]], Iterable[int]]


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
        parts = report_parts(u, num)
        old = load_record(u, num) or Record()
        # the files' digests were taken as they were imported: kept, not read again
        record = Record(decisions=old.decisions, added=old.added, files=old.files)
        record.merge(parts, words)
        records[num] = record
    with transaction(u.conn):
        store_records(u, records.items())
        audit.append(u, "entities-extract", None, {"reports": wanted, "version": EXTRACTOR_VERSION})
    return len(records)


def report_mentions(u: Unlocked, num: int) -> list[Mention]:
    """One report's entities, rejected ones included (with that status)."""
    _exists(u, num)
    record = load_record(u, num)
    return record.mentions() if record is not None else []


def decide(u: Unlocked, num: int, name: str, decision: str, kind: str | None = None) -> Mention:
    """Confirm or reject an entity of a report, named as a reviewer would write it."""
    if decision not in DECISIONS:
        raise InvalidValue(f"unknown decision {decision!r}", hint=" or ".join(DECISIONS))
    with transaction(u.conn):
        record = load_record(u, num) or Record()
        mention = _find(record, num, name, kind)
        record.decisions[ident(mention.kind, mention.key)] = decision
        store_record(u, num, record)
        action = "entity-confirm" if decision == "confirmed" else "entity-reject"
        audit.append(u, action, num, {"kind": mention.kind, "key": mention.key})
    return Mention(mention.kind, mention.key, mention.texts, mention.designations, decision)


def add(u: Unlocked, num: int, kind: str, text: str, designation: str | None = None) -> Mention:
    """Add an entity the extractor missed; it counts as confirmed."""
    with transaction(u.conn):
        _exists(u, num)
        record = load_record(u, num) or Record()
        mention = _add(record, kind, text, designation)
        store_record(u, num, record)
        audit.append(u, "entity-add", num, {"kind": kind, "key": mention.key, "text": text})
    return mention


def correct(u: Unlocked, num: int, name: str, text: str, kind: str | None = None) -> Mention:
    """Replace an entity the extractor got wrong (a name cut short, say) with the right one."""
    with transaction(u.conn):
        record = load_record(u, num) or Record()
        old = _find(record, num, name, kind)
        designation = old.designations[0] if old.designations else None
        new = _add(record, old.kind, text, designation)
        if (new.kind, new.key) != (old.kind, old.key):
            record.decisions[ident(old.kind, old.key)] = "rejected"
        store_record(u, num, record)
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


def decide_writer(u: Unlocked, a: int, b: int, same: bool) -> None:
    """Say that reports a and b are one writer's (`same`) or not: it overrides what the
    tool groups them by, but never parts one designation (`review.analysis.writers`)."""
    if a == b:
        raise InvalidValue("a writer's decision is on two different reports")
    with transaction(u.conn):
        _exists(u, a)
        _exists(u, b)
        decision = links.CONFIRMED if same else links.REJECTED
        links.store_decision(u, links.ident(a, b, links.WRITER, ""), decision)
        action = "writer-same" if same else "writer-apart"
        audit.append(u, action, min(a, b), {"other": max(a, b)})


def _shared_evidence(u: Unlocked, a: int, b: int, name: str | None, kind: str | None) -> Evidence:
    """The one entity both reports name that NAME (or, without one, the only linking one) is."""
    ra, rb = load_record(u, a) or Record(), load_record(u, b) or Record()
    theirs = {(m.kind, m.key): m for m in rb.mentions() if m.status != "rejected"}
    if name is not None:
        short = _short_form(ra, rb, a, b, name) if kind in (None, "person") else None
        try:
            mine = _find(ra, a, name, kind)
        except NotFound:
            if short is None:
                raise
            return short
        if mine.status == "rejected" or (mine.kind, mine.key) not in theirs:
            if short is not None:
                return short
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


def _short_form(ra: Record, rb: Record, a: int, b: int, name: str) -> Evidence | None:
    """The short-form link between a and b that NAME (the short form, the full name, or
    "short < full") is, if there is one (`links.short_form_links`)."""
    short, _, full = name.partition("<")
    keys = {k for part in (short, full) if (k := entities.key_for("person", part))}
    records = {a: ra, b: rb}
    people = {
        n: [
            links.Named(m.key, m.designations, m.texts)
            for m in r.mentions()
            if m.kind == "person" and m.status != "rejected"
        ]
        for n, r in records.items()
    }
    where = {
        n: links.places(
            links.setting(m.kind, m.key, m.designations)
            for m in r.mentions()
            if m.status != "rejected"
        )
        for n, r in records.items()
    }
    found = [
        e for _x, _y, e in links.short_form_links(people, where) if keys <= set(e.key.split(" < "))
    ]
    return found[0] if len(found) == 1 else None


def _exists(u: Unlocked, num: int) -> None:
    """Refuse a report that is not there, or that the acting reviewer's conflicts hide."""
    if u.conn.execute("SELECT 1 FROM reports WHERE num = ?", (num,)).fetchone() is None:
        raise NotFound(f"no report {num}", hint=LIST_HINT)
    if num in conflicts.hidden(u):
        raise NotFound(f"report {num} is not available to you")


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
        record.decisions[ident(kind, key)] = "confirmed"  # found already: now confirmed
    else:
        record.decisions.pop(ident(kind, key), None)  # an earlier rejection no longer holds
    return Mention(kind, key, (text,), (designation,) if designation else (), "added")


_KIND_HINTS: Final = {
    "cnic": "write it as #####-#######-#",
    "phone": "write it as 03xx-xxxxxxx or +92 …",
    "date": "write it as YYYY-MM-DD or 12 March 2024",
}


def _station_named(m: Mention, keys: set[tuple[str, str | None]], folded: str) -> bool:
    station = m.key.partition("/")[0]
    return (m.kind, station) in keys or station == folded
