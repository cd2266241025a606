"""Each report's entity record: sealed, bound to its report number, rewritten whole.

A record (`report_entities`) holds, like a report's triage state, what the
extractor found, what reviewers confirmed, rejected or added, and two sets of
hashed word 5-grams of what the source wrote, for telling copies apart
(`review.analysis.copies`). Only the report number is in the clear. A record
names the scheme its 5-grams were hashed with (`copies.HASHING`); one of an
older scheme is hashed again from its report (`rehash`) before it is compared
with any other, since hashes of two schemes never match.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

from review.analysis import entities, forms, forwards
from review.analysis.copies import HASHING, WordHashes, shingles
from review.analysis.entity_text import quotations
from review.casework.reports import Content, read_report
from review.workspace import Unlocked, audit
from review.workspace.schema import transaction

# Bumped when the extractor's rules change a key that links reports: a record of an older
# version is read again from its report (`rehash`) before it is compared with any other,
# as one of an older hashing scheme is, so no stale key links two reports. 2 (session 42):
# a compound or a clan's name of a listed name is keyed as that name ("Akram Ullah" was
# "ikramullah", "Umarzai" and "Amirzai" one "~mrz"); so is a woman's name that is a listed
# name and "a" ("Ameera" and "Ammara" were one "~mra"); Sameer is no Sami ("sami"); a
# father named by an everyday word after "ولد" is kept ("ولد اکرام" was lost). 3 (session
# 43): a surname that is a listed name and "i" is keyed as that name and the "i" ("Karimi"
# and "Akrami" were one "~krm"); an Urdu word writing more long vowels than a listed name of
# its consonants is not that name ("ظافر" was "zafar"); Kashaf is listed (was "kashif");
# Urdu names typed with no space after a letter that joins nothing are split ("محمداکرم"
# and "محمداکرام" were one "~mdkrm").
EXTRACTOR_VERSION: Final = 3
# The last lines after a form's last blank that are weighed as print (`forms.tail`): a
# footer is a few lines, and each costs a reading of the text.
_MOST_TAIL_LINES: Final = 8
# Where a reviewer who named a report that is not there can look.
LIST_HINT: Final = "`raazdar-review list --all` shows every report"


@dataclass(frozen=True)
class Mention:
    """An entity as one report names it: every spelling, every designation, and its status."""

    kind: str
    key: str
    texts: tuple[str, ...]
    designations: tuple[str, ...] = ()
    status: str = "found"  # found, confirmed, rejected or added


class FileSent(NamedTuple):
    """A file a report holds: its plaintext's SHA-256 (hex), its name, its length in bytes."""

    digest: str
    name: str | None
    length: int


# A file shorter than this ("ok", an empty photo) may be sent alike by two writers; one
# longer, byte for byte in two reports, is one writer's (`review.analysis.corpus`).
SAME_FILE_MIN: Final = 256


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
    # Each line after a form's last blank (`forms.tail`): its hash, and the hashes of the
    # 5-grams that hold a word of it, dropped where forms of two sources hold the line.
    tails: dict[int, set[int]] = field(default_factory=dict)
    # The files it holds of at least `SAME_FILE_MIN` bytes: SHA-256 to name ("" if none).
    files: dict[str, str] = field(default_factory=dict)

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
            "tails": {str(line): sorted(grams) for line, grams in sorted(self.tails.items())},
            "files": self.files,
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
            # records before the field are of a scheme before 8, and hashed again
            tails={int(line): set(grams) for line, grams in obj.get("tails", {}).items()},
            files=dict(obj.get("files", {})),  # records before the field hold none
        )

    def mentions(self) -> list[Mention]:
        """Every entity of the report with its status; rejected ones included."""
        out = []
        for e in self.found:
            status = self.decisions.get(ident(e["kind"], e["key"]), "found")
            out.append(
                Mention(e["kind"], e["key"], tuple(e["texts"]), tuple(e["designations"]), status)
            )
        seen = {(m.kind, m.key) for m in out}
        for e in self.added:
            if (e["kind"], e["key"]) not in seen:
                designations = (e["designation"],) if e.get("designation") else ()
                status = self.decisions.get(ident(e["kind"], e["key"]), "added")
                out.append(Mention(e["kind"], e["key"], (e["text"],), designations, status))
        return out

    def merge(
        self,
        contents: Iterable[Content],
        words: WordHashes | None = None,
        reader: Reader | None = None,
    ) -> None:
        """Add what the extractor finds in `contents` (a report's text, fields and file names).

        `words` carries word hashes from one report to the next within a run; `reader`,
        if given, reads each content instead of `read` (ahead: `review.intake.ahead`).
        """
        if self.hashing != HASHING:
            raise ValueError("hash the record again (`rehash`) before adding to it")
        words = WordHashes() if words is None else words
        found = {(e["kind"], e["key"]): e for e in self.found}
        for content in contents:
            reading = read(content, words) if reader is None else reader(content)
            for kind, key, texts, designations in reading.found:
                entry = found.get((kind, key))
                if entry is None:
                    found[kind, key] = {
                        "kind": kind,
                        "key": key,
                        "texts": list(texts),
                        "designations": list(designations),
                    }
                    continue
                entry["texts"] += [t for t in texts if t not in entry["texts"]]
                entry["designations"] += [d for d in designations if d not in entry["designations"]]
            self.shingles |= reading.shingles
            self.phrases |= reading.phrases
            for line, grams in reading.tails.items():
                self.tails.setdefault(line, set()).update(grams)
        self.found = list(found.values())

    def add_files(self, files: Iterable[FileSent]) -> None:
        """Keep the digests of the files long enough to tell one writer (`SAME_FILE_MIN`)."""
        for f in files:
            if f.length >= SAME_FILE_MIN:
                self.files.setdefault(f.digest, f.name or "")


# One entity of a reading: kind, key, every spelling and every designation, first seen first.
Found = tuple[str, str, tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Reading:
    """What one content gives its report's record: its entities, its words' 5-gram hashes.

    The entities are as a record keeps them, grouped by kind and key, in plain tuples:
    a reading made in a worker crosses a pipe, and plain tuples are what pickle fastest.
    """

    found: tuple[Found, ...]
    shingles: set[int]
    phrases: set[int]
    tails: dict[int, set[int]] = field(default_factory=dict)


# Reads a content as `read` does: the same reading, however it is come by.
Reader = Callable[[Content], Reading]


def read(content: Content, words: WordHashes) -> Reading:
    """Extract a content's entities and hash its words: a function of the content alone.

    `words` is a cache of word hashes: whichever is given, the reading is the same. A
    printed form's words (`forms.printed`) and a forwarded message (`forwards.forwarded`)
    are read as blanks: only what the writer wrote in the form's blanks, or beside what
    they forwarded, is theirs.
    """
    printed = sorted([*forms.printed(content.message), *forwards.forwarded(content.message)])
    # The message comes first in what is searched, so its printed spans are where they were.
    message = forms.blank(content.message, printed)
    ents = entities.extract(forms.blank(content.searchable(), printed))
    marks = [entities.Entity("form", "", "", a, b) for a, b in printed if b > a]

    def hashed(text: str, ents: list[entities.Entity]) -> tuple[set[int], set[int]]:
        masked = sorted([*_masked(text, ents), *marks], key=lambda e: e.start)
        return shingles(text, (), words), shingles(text, masked, words)

    whole, phrases = hashed(message, ents)
    tails = {}
    for a, b in forms.tail(content.message)[-_MOST_TAIL_LINES:]:
        # the 5-grams that hold a word of the line: those the text without it lacks
        left = [e for e in ents if e.end <= a or e.start >= b]
        without, fewer = hashed(forms.blank(message, [(a, b)]), left)
        tails[forms.line_key(content.message[a:b])] = (whole - without) | (phrases - fewer)
    return Reading(_grouped(ents), whole, phrases, tails)


def _masked(message: str, ents: Iterable[entities.Entity]) -> list[entities.Entity]:
    """What rare phrasing leaves out of a message: its entities, and each quotation whole
    (another's words, which two writers can each quote: `entity_text.quotations`)."""
    quoted = quotations(message)
    own = [
        e
        for e in ents
        if e.end <= len(message) and not any(a < e.end and e.start < b for a, b in quoted)
    ]
    marks = [entities.Entity("quote", message[a:b], "", a, b) for a, b in quoted]
    return sorted([*own, *marks], key=lambda e: e.start)


def _grouped(ents: Iterable[entities.Entity]) -> tuple[Found, ...]:
    """`ents` by kind and key, in the order first found, as `Record.merge` adds them."""
    texts: dict[tuple[str, str], list[str]] = {}
    designations: dict[tuple[str, str], list[str]] = {}
    for ent in ents:
        ident_ = (ent.kind, ent.key)
        seen = texts.setdefault(ident_, [])
        if ent.text not in seen:
            seen.append(ent.text)
        named = designations.setdefault(ident_, [])
        if ent.designation and ent.designation not in named:
            named.append(ent.designation)
    return tuple(
        (kind, key, tuple(spellings), tuple(designations[kind, key]))
        for (kind, key), spellings in texts.items()
    )


def outdated(record: Record) -> bool:
    """Whether a record was made by an older hashing scheme or an older extractor."""
    return record.hashing != HASHING or record.version != EXTRACTOR_VERSION


def rehash(u: Unlocked, records: Mapping[int, Record]) -> dict[int, Record]:
    """`records` with those of an older hashing scheme or extractor made again from their
    reports.

    Those are stored too (inside the caller's transaction if there is one, with an audit
    entry), so copies among reports filed before and after a change of scheme are found,
    and no key an older extractor gave links two reports the new one tells apart.
    """
    old = {num: r for num, r in records.items() if outdated(r)}
    if not old:
        return dict(records)
    words = WordHashes()
    new = {num: rehashed(u, num, record, words) for num, record in sorted(old.items())}
    with _transaction_unless_in_one(u):
        store_records(u, new.items())
        detail = {"reports": sorted(new), "hashing": HASHING, "version": EXTRACTOR_VERSION}
        audit.append(u, "entities-rehash", None, detail)
    return {**records, **new}


def rehashed(u: Unlocked, num: int, old: Record, words: WordHashes) -> Record:
    """`old` with its 5-gram hashes made again from the report; its entities too if an older
    extractor found them (reviewers' decisions, additions and the files' digests kept, as
    `reextract` keeps them)."""
    if old.version != EXTRACTOR_VERSION:
        fresh = Record(decisions=old.decisions, added=old.added, files=old.files)
        fresh.merge(report_parts(u, num), words)
        return fresh
    fresh = Record()
    fresh.merge(report_parts(u, num), words)
    return replace(
        old, hashing=HASHING, shingles=fresh.shingles, phrases=fresh.phrases, tails=fresh.tails
    )


def report_parts(u: Unlocked, num: int) -> list[Content]:
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


def entities_context(num: int) -> bytes:
    """The context a report's entity record is sealed under (for `review.keys.rewrap`)."""
    return f"entities:{num}".encode("ascii")


def load_record(u: Unlocked, num: int) -> Record | None:
    """A report's record, unsealed; None if it has none yet."""
    row = u.conn.execute("SELECT sealed FROM report_entities WHERE report = ?", (num,)).fetchone()
    return Record.decode(u.key.open_record(row[0], entities_context(num))) if row else None


def store_record(u: Unlocked, num: int, record: Record) -> None:
    """Seal a report's record in place of the one it had."""
    store_records(u, [(num, record)])


def store_records(u: Unlocked, records: Iterable[tuple[int, Record]]) -> None:
    """Seal each report's record in place of the one it had."""
    store_sealed(u, [(num, seal(u, num, record)) for num, record in records])


def seal(u: Unlocked, num: int, record: Record) -> bytes:
    """A report's record, sealed for its row (`store_sealed`)."""
    return u.key.seal_record(record.encode(), entities_context(num))


def store_sealed(u: Unlocked, rows: Iterable[tuple[int, bytes]]) -> None:
    """Store each report's sealed record (`seal`) in place of the one it had.

    The records are under the head's tag (`review.workspace.head`): every caller appends an
    audit entry in the same transaction, which tags the head again (a second tag here cost
    a quarter second an action at 10,000 reports).
    """
    u.conn.executemany(
        "INSERT INTO report_entities VALUES (?, ?) ON CONFLICT(report) DO UPDATE"
        " SET sealed = excluded.sealed",
        rows,
    )


def ident(kind: str, key: str) -> str:
    """How a record names an entity it holds a reviewer's decision on."""
    return f"{kind}\t{key}"
