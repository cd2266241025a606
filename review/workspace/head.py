"""The audit log's newest link, kept apart and tagged under the workspace key.

The log's entries are chained and signed, so an entry edited or removed in the
middle is found by anyone; but the last entries can be cut, and the head kept
apart (`meta` row `audit_head`, in the clear) written to match, by anyone with
write access to the disk: a seized workstation returned with its last actions
erased. So the head is tagged (`audit_head_tag`) with a key derived from the
workspace key (`WorkspaceKey.head_tag`), which nobody without a passphrase has,
and unlock refuses a log that does not end at a head so tagged.

The same tag covers the workspace's record of each export bundle imported
(`meta:export-chain:N`, in the clear): the server's audit head each carried is
what tells the workstation that the server's log was rewritten (PROTOCOL
§13.5), so whoever holds the server and this disk for a night could otherwise
write the rewritten log's head into that record, and the rewrite would pass.

It covers the pins `init` wrote (instance, server key, authorities, threshold)
and each keyring installed too. They are in the clear, and the workspace verified
each keyring once, as it installed it: a keyring of someone else's written into
`keyrings` (with authorities of theirs pinned, or without), on this disk or in a
backup of it, named the server keys exports are checked with, the reviewers'
keys, the digest `keys show` hands out for the sources' pins, and the keyring
`keys timestamp` vouches for.

And since schema 14 it covers what else, read from the disk, says who reads what
reviewers write: the escalation rule (how many must sign a packet), each body's
sealed record (a retired one put back from an older copy would take packets to its
name again), each report's source and each source's reply key, dispute mark and
one-time reply keys with which are used (whoever holds this disk and the server
would read replies sealed to a key of theirs, or a second reply to a prekey the
device has deleted), the hashes of the envelopes filed (removed, a copy the server
exports again under a new id is filed as a new report), and which reply bundles
were taken back and which later ones voided them (cleared, no later bundle voids a
lost stick's).

Since schema 15 (form 4) it covers the rest of each item's row (its sealed info, why it
is unread, the bundle it came in), each export bundle's row (the keyring version it named is
what keeps `keys timestamp` from vouching for a replaced keyring), each reviewer's sealed
subkey record (put back alone from an older copy, a retirement found no report waiting for the
reviewer's later weeks and destroyed their only key, and the next list took a number spent),
and the conflict-of-interest declarations and their routings (a declaration deleted on the
disk was lifted without the second administrator a withdrawal takes). Form 4 covers too the
other sealed rows, each of which an older copy's opens under the same key: each report's
triage state (rolled back from "closed" to "new", or to the assignee of then), the reviewers'
decisions on links (a rejection deleted, a weak link counted again as corroboration), each
report's entities and the search index (cut, a report was found by no search and linked to
no other), each source's notice (rolled back, a closed report's was never sent) and the
record of the earlier workspace keys (deleted, the audit details sealed under them opened
for nobody).

Since schema 16 (form 5) an escalation's body and author are in its sealed record, no
longer clear columns (`review.workspace.escalations`), so the tag covers the record: it
keeps covering who wrote the escalation and which body it is for, and now too its state
(put back from an older copy, a packet sent was "ready" to go out again, as new).

A tag of an earlier form (`FORM`: 1 before schema 13, 2 before 14, 3 before 15, 4 before
16) is taken at the first unlock by this tool and replaced (trust on first use), and the roster,
under its own tag, then says which form the head is tagged in (`roster.HEAD_KEPT`):
from then on no earlier form is taken. Else a copy of the disk from before the
upgrade held a tag that stayed good beside a planted keyring for as long as the log
did not grow. Putting that earlier tag back now takes putting back the roster of then
too, with the audit log, the bundles recorded and the keys in service as they were:
the whole older copy, which no tag can tell from the disk as it was (docs/REVIEW.md).
A workspace whose roster says it keeps the tag must have it; one from before gets
it at its first unlock by this tool (trust on that first use), as the roster is adopted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Final

from crypto import GENESIS
from crypto.encoding import b64decode, b64encode
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey
from review.errors import UnlockError

HEAD: Final = "audit_head"
TAG: Final = "audit_head_tag"
# The rows of what this workspace saw of the server's export bundles (`review.intake.exports`):
# their audit heads are what shows a rewrite of the server's log, so the tag covers them too.
CHAIN: Final = "export-chain:"
# What every keyring is verified against (`review.workspace.Pinned`), in the clear.
_PINS: Final = ("authorities", "authority_threshold", "instance_id", "server_key")
# The escalation rule (`review.escalation.POLICY_KEY`), in the clear: a packet's countersignatures.
RULE: Final = "escalation_countersignatures"
# The form of what the tag covers: 1 the head and bundles (schema 11-12), 2 also the pins and
# keyrings (13), 3 also the rule, bodies, reports' sources, sources, prekeys, envelopes filed,
# reply bundles, and which report each item and note is on, each escalation's packet and each
# reply's envelope and bundle (14), 4 also every other column of items, the export bundles'
# rows, each reviewer's subkey record, the conflict declarations and routings, and the sealed
# states, link decisions, entities, search segments, notices and key history (15), 5 each
# escalation's sealed record, which holds its body and author, in place of those columns (16).
FORM: Final = 5
# First in what forms 2 to 5 cover: never a head (`text`), nor one another, so no tag of
# one form is one of another.
_FIRST: Final = {2: "pins+keyrings", 3: "head-form:3", 4: "head-form:4", 5: "head-form:5"}
# Each a digest of the table's rows in order, its last column bytes: what a reply is sealed to
# (`review.casework`), and what tells old words from new. The prekeys' X-Wing keys (1.6 kB of
# text each) are most of the work.
_TABLES: Final = (
    # Each report's source (its replies go to that source's key), as the import wrote it.
    ("reports", "SELECT num, submission, day, CAST(source AS BLOB) FROM reports ORDER BY num"),
    (
        "sources",
        "SELECT designation, disputed, CAST(public_key AS BLOB) FROM sources ORDER BY designation",
    ),
    (
        "prekeys",
        "SELECT seq, source, report, signer, used, CAST(key AS BLOB) FROM reply_prekeys"
        " ORDER BY seq",
    ),
    # What names an envelope exported again under a new id a copy (`review.intake.copies`).
    ("envelopes", "SELECT item, digest FROM envelopes ORDER BY digest"),
    # Which reply bundles were taken back, and which later ones voided them: what the next
    # bundle voids, so the server refuses a lost stick's (`review.intake.receipts`).
    (
        "reply-bundles",
        "SELECT id, created, signer, confirmed, taken_back, CAST(carried AS BLOB)"
        " FROM reply_bundles ORDER BY id",
    ),
    (
        "reply-voids",
        "SELECT bundle, CAST(carried_in AS BLOB) FROM reply_voids ORDER BY bundle, carried_in",
    ),
)
# Each a digest of the table's rows in order, each row a JSON array SQLite writes (ids and
# names only, never the blobs' bytes): many short rows, four for each report or more, that
# `json.dumps` row by row in Python took 1.5 to 2 times as long over (0.3-0.5 s at 10,000).
# Each: what it is called in the tag, the table, the columns covered, their order.
_MAPPINGS: Final = (
    # Which report each item is filed under, where its blob is, whether it could be read and
    # in which reply bundle it was acknowledged: moved on the disk, a report showed (and an
    # escalation carried) another's evidence.
    ("items", "items", ("id", "report", "kind", "status", "blob", "acked_in"), "id"),
    # Which report each note is on (sealed to that report: moved, it opened for none).
    ("notes", "notes", ("seq", "report"), "seq"),
    # Which packet each escalation is: pointed at another's, it was written out as this one.
    ("escalations", "escalations", ("id", "body", "author", "blob"), "id"),
    # Each reply's envelope and the bundle that carried it: changed, a reply went out twice,
    # never, or with another's words.
    (
        "replies",
        "replies",
        ("id", "report", "source", "signer", "envelope", "exported_in"),
        "id",
    ),
)
# Form 4: every column of items, which form 3 covered all but three of: its sealed info
# (cleared, a report's own words were shown as nothing, and nothing said so), why it is
# unread (`problem`: the tool's word to the reviewer, in whoever's words held the disk) and
# the bundle it came in (read by nothing yet: covered so that no reader must recall it).
# Each row's values quoted as in `_MAPPINGS`, the info's type and length, then its bytes as
# they are: with the info quoted as hex text too, the tag took a fifth longer than form 3's at
# 10,000 reports, so a tenth (docs/benchmarks.md).
_ITEMS_4: Final = (
    "SELECT json_array(quote(id), quote(report), quote(bundle), quote(kind), quote(status),"
    " quote(problem), quote(blob), quote(acked_in), typeof(info),"
    " length(CAST(info AS BLOB))), CAST(info AS BLOB) FROM items ORDER BY id"
)
_MAPPINGS_4: Final = (
    *_MAPPINGS[1:],
    # Each export bundle filed from: the keyring version it named keeps `keys timestamp` from
    # vouching for an older one (`review.keys.keyring.check_newest`), and its day is what
    # rule D1 and the clock's warning read when no chain record holds one.
    ("bundles", "bundles", ("id", "created", "imported", "keyring_version"), "id"),
    # Each conflict-of-interest declaration, which only another administrator withdraws
    # (`review.casework.conflicts.withdraw`): deleted on the disk, its reviewer lifted it
    # alone, and the reports it hid were listed to them again. And each routing it made.
    ("conflicts", "conflicts", ("seq", "reviewer", "sealed"), "seq"),
    ("routings", "routings", ("seq", "report", "sealed"), "seq"),
)
# Form 5: an escalation's body and author are in its sealed record (`review.workspace.
# escalations`), no longer columns: its packet's blob, and the record under `_SEALED_5`.
_MAPPINGS_5: Final = tuple(
    ("escalations", "escalations", ("id", "blob"), "id") if m[0] == "escalations" else m
    for m in _MAPPINGS_4
)
# Form 4: the other sealed rows, each put back alone from an older copy of the disk (it opens
# under the same key and context) or deleted: a report's triage state (rolled back from
# "closed" to "new", or to the assignee of then), a reviewer's decision on a link (a rejection
# deleted, the weak link counted again as corroboration; a confirmation put back over it), a
# report's entities and the search index (derived from the reports, but cut, a report was
# found by no search and linked to no other, and nothing said so), a source's notice (rolled
# back, a closed report's was never sent). Each row's key and the length of its record, then
# the record's bytes as they are, as items' info (no hex text of a search segment's megabytes).
# Each: what it is called in the tag, the table, its key column, the sealed column.
_SEALED_4: Final = (
    ("states", "reports", "num", "state"),
    ("link-decisions", "link_decisions", "seq", "sealed"),
    ("entities", "report_entities", "report", "sealed"),
    ("search", "search_segments", "seq", "sealed"),
    ("notices", "notices", "source", "sealed"),
)
# Form 5: each escalation's record too, which names its body and author since schema 16, and
# says whether it was sent (put back from an older copy, a packet sent went out again as new).
_SEALED_5: Final = (*_SEALED_4, ("escalation-records", "escalations", "id", "sealed"))
# The earlier workspace keys, sealed under the current one (`review.keys.rewrap`): deleted, the
# audit details sealed under them opened for nobody. Under the tag in form 4.
HISTORY: Final = "workspace_key_history"
# Each reviewer's sealed subkey record (`review.keys.subkeys.RECORD`): sealed, so nobody
# without a passphrase writes one, but one of an older copy put back says the weeks and the
# list number of then (a retirement lost the reports waiting for later weeks, and the next
# list took a number spent).
SUBKEYS: Final = "subkeys:"
# The table each digest above reads (form 4): what a write must mark for it to be read again.
_READS: Final = {
    "reports": "reports",
    "sources": "sources",
    "prekeys": "reply_prekeys",
    "envelopes": "envelopes",
    "reply-bundles": "reply_bundles",
    "reply-voids": "reply_voids",
    "items": "items",
    **{name: table for name, table, *_ in _MAPPINGS_5},
    **{name: table for name, table, *_ in _SEALED_5},
}
_READ_PINS: Final = "SELECT key, value FROM meta WHERE key IN (?, ?, ?, ?) ORDER BY key"
_UPSERT: Final = (
    "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
_HINT: Final = (
    "someone with write access to this disk erased what was done here last: import and write"
    " nothing here, restore the workspace from a copy you trust and have the disk examined"
)


def text(seq: int, link: bytes) -> str:
    """The head as kept: the newest entry's number and link."""
    return f"{seq}:{link.hex()}"


def write(conn: sqlite3.Connection, key: WorkspaceKey, seq: int, link: bytes) -> None:
    """Keep the head after entry `seq`, tagged, in the caller's transaction."""
    conn.execute(_UPSERT, (HEAD, text(seq, link)))
    put(conn, key)


def stored(conn: sqlite3.Connection) -> str:
    """The head as kept (the chain's start when no entry was written)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD,)).fetchone()
    return str(row[0]) if row else text(0, GENESIS)


def put(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Tag the head and the bundles recorded as they are, in the caller's transaction.

    After each entry, each bundle recorded, at creation, or on first use. The tables this
    connection has not written since it last read them are not read again (`_Kept`).
    """
    kept = _Kept(conn)
    conn.execute(_UPSERT, (TAG, b64encode(_tag(conn, key, stored(conn), kept=kept))))
    kept.done()


def _tag(
    conn: sqlite3.Connection,
    key: WorkspaceKey,
    value: str,
    *,
    form: int = FORM,
    kept: _Kept | None = None,
) -> bytes:
    """The tag over the head, every export bundle's record (`review.intake.exports`), and
    what form `form` covers besides (`FORM`), as the tool of that form wrote it.

    With `kept`, each table's digest as this connection last read it, where it has not
    written the table since (`_Kept`); without, every table is read from the disk."""
    rows = conn.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        (CHAIN,),
    ).fetchall()
    covered = [value, *(f"{k}={v}" for k, v in rows)]
    if form >= 2:
        pinned = conn.execute(_READ_PINS, _PINS).fetchall()
        keyrings = conn.execute("SELECT version, signed FROM keyrings ORDER BY version")
        covered = [
            _FIRST[form],
            *(f"{k}={v}" for k, v in pinned),
            *(f"keyring:{v}={_digest(signed)}" for v, signed in keyrings),
            *(_settings(conn, form, kept) if form >= 3 else ()),
            *covered,
        ]
    # JSON of strings only: unambiguous, and quick however many bundles came.
    return key.head_tag(json.dumps(covered).encode("utf-8"))


def _settings(conn: sqlite3.Connection, form: int, kept: _Kept | None = None) -> list[str]:
    """What forms 3 and 4 cover besides: the rule, bodies, the tables `_TABLES` and
    `_MAPPINGS` (`_MAPPINGS_4`) name, and in form 4 the subkey records.

    `kept` (form 4 alone) gives each table's digest where this connection has not written
    the table since it last read it."""
    if form < FORM:
        kept = None
    rule = conn.execute("SELECT value FROM meta WHERE key = ?", (RULE,)).fetchone()
    bodies = conn.execute("SELECT id, sealed FROM bodies ORDER BY id")
    covered = [
        f"{RULE}={rule[0] if rule is not None else ''}",
        *(f"body:{n}={_digest(sealed)}" for n, sealed in bodies),
    ]

    def digest(name: str, read: Callable[[], str]) -> str:
        return read() if kept is None else kept.digest(name, read)

    for name, query in _TABLES:
        covered.append(f"{name}={digest(name, partial(_fields, conn, query))}")
    if form >= 4:
        covered.append(f"items={digest('items', partial(_raw, conn, _ITEMS_4))}")
    mappings = _MAPPINGS_5 if form >= 5 else _MAPPINGS_4 if form >= 4 else _MAPPINGS
    for name, table, columns, order in mappings:
        # Each value as an SQL literal (`quote`: its type too, and never an error, whatever
        # was written on the disk), a row a line: JSON holds no raw newline.
        values = ", ".join(f"quote({c})" for c in columns)
        query = f"SELECT json_array({values}) FROM {table} ORDER BY {order}"  # noqa: S608 - names from _MAPPINGS
        covered.append(f"{name}={digest(name, partial(_lines, conn, query))}")
    if form >= 4:
        records = (
            "SELECT json_array(quote(key), quote(value)) FROM meta"
            " WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key"
        )
        covered.append(f"subkey-records={_lines(conn, records, (SUBKEYS,))}")
        for name, table, column, sealed in _SEALED_5 if form >= 5 else _SEALED_4:
            query = (
                f"SELECT json_array(quote({column}), typeof({sealed}),"  # noqa: S608 - names from _SEALED_4
                f" length(CAST({sealed} AS BLOB))), CAST({sealed} AS BLOB)"
                f" FROM {table} ORDER BY {column}"
            )
            covered.append(f"{name}={digest(name, partial(_raw, conn, query))}")
        history = conn.execute("SELECT value FROM meta WHERE key = ?", (HISTORY,)).fetchone()
        covered.append(f"{HISTORY}={'' if history is None else _digest(str(history[0]).encode())}")
    return covered


class _Kept:
    """Each table's digest as this connection last read it for the tag, and which tables it
    has written since: an audit entry reads again only what its action wrote, not the whole
    workspace (at 10,000 reports a quarter of a second an entry, most of it the entities'
    records no entry but an import writes).

    Both live in the connection's temporary database (in memory: `temp_store`), the marks
    made by temporary triggers of its own on each table the tag covers, so both are in the
    connection's transaction: a write rolled back takes its mark, and the digests read after
    it, back with it. A commit by any other connection (another process of the tool, or
    whoever else writes the file) drops them all (`data_version`), as does a change of the
    schema (a table made anew loses its triggers): then every table is read again. Unlock
    (`check`) never takes them: it reads every table from the disk, and keeps what it read.
    """

    def __init__(self, conn: sqlite3.Connection, *, fresh: bool = False) -> None:
        self._conn = conn
        self._on = _track(conn)
        seen = (
            conn.execute("SELECT data, schema FROM temp.head_seen").fetchone() if self._on else None
        )
        self._versions = _versions(conn)
        self._stale = fresh or seen is None or tuple(seen) != self._versions
        if self._on and self._stale:
            conn.execute("DELETE FROM temp.head_kept")
        self._written = (
            {t for (t,) in conn.execute("SELECT name FROM temp.head_written")}
            if self._on
            else set()
        )

    def digest(self, name: str, read: Callable[[], str]) -> str:
        """The digest `read` gives, or the one kept if the table was not written since."""
        if not self._on:
            return read()
        if not self._stale and _READS[name] not in self._written:
            row = self._conn.execute(
                "SELECT digest FROM temp.head_kept WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                if VERIFY and row[0] != read():
                    raise AssertionError(f"the digest kept for {name} is not the table's")
                return str(row[0])
        value = read()
        self._conn.execute("INSERT OR REPLACE INTO temp.head_kept VALUES (?, ?)", (name, value))
        return value

    def done(self) -> None:
        """Every digest read since the marks: clear them, and note the versions read at."""
        if self._on:
            self._conn.execute("DELETE FROM temp.head_written")
            self._conn.execute("DELETE FROM temp.head_seen")
            self._conn.execute("INSERT INTO temp.head_seen VALUES (?, ?)", self._versions)

    def drop(self) -> None:
        """Keep nothing of what was read (a tag that did not match)."""
        if self._on:
            self._conn.execute("DELETE FROM temp.head_kept")
            self._conn.execute("DELETE FROM temp.head_seen")


# Tests set it: every kept digest is checked against the table's as read again.
VERIFY = False
_TRIGGERS: Final = tuple(
    (f"head_written_{table}_{event.lower()}", table, event)
    for table in sorted(set(_READS.values()))
    for event in ("INSERT", "UPDATE", "DELETE")
)


def _track(conn: sqlite3.Connection) -> bool:
    """Set this connection's temporary tables and triggers (`_Kept`) up, if not already.

    False where they cannot be (a table of the form missing: a workspace not upgraded yet).
    """
    present = conn.execute(
        "SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger'"
        " AND substr(name, 1, 13) = 'head_written_'"
    ).fetchone()[0]
    if present == len(_TRIGGERS):
        return True
    try:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS head_kept (name TEXT PRIMARY KEY, digest TEXT)"
        )
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS head_written (name TEXT PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS head_seen (data INTEGER, schema INTEGER)")
        conn.execute("DELETE FROM temp.head_seen")  # some triggers were lost: read all again
        for name, table, event in _TRIGGERS:
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {name} AFTER {event} ON main.{table}"  # noqa: S608 - names from _READS
                # No OR IGNORE: an upsert's conflict clause would override it (UNIQUE failed).
                f" BEGIN INSERT INTO head_written SELECT '{table}' WHERE NOT EXISTS"
                f" (SELECT 1 FROM head_written WHERE name = '{table}'); END"
            )
    except sqlite3.OperationalError:
        return False
    return True


def _versions(conn: sqlite3.Connection) -> tuple[int, int]:
    """What changes when another connection commits, and when the schema changes."""
    data = conn.execute("PRAGMA data_version").fetchone()[0]
    schema = conn.execute("PRAGMA main.schema_version").fetchone()[0]
    return int(data), int(schema)


def _fields(conn: sqlite3.Connection, query: str) -> str:
    """The digest of a query's rows, one digest for the table: a row each would grow the
    tag's input with every report."""
    digest = hashlib.blake2b()
    for *fields, last in conn.execute(query):
        # The fields as JSON, the last one's bytes after its length (None: NULL):
        # unambiguous, and no JSON escaping of kilobytes of key text.
        # A field of bytes (never the tool's: planted on the disk) is a list, no scalar.
        fields.append(None if last is None else len(last))
        digest.update(json.dumps(fields, default=_planted).encode())
        digest.update(last or b"")
    return digest.hexdigest()


def _raw(conn: sqlite3.Connection, query: str) -> str:
    """The digest of a query's rows, each its JSON text on a line, then its last field's bytes."""
    digest = hashlib.blake2b()
    for row, data in conn.execute(query):
        digest.update(f"{row}\n".encode())  # the JSON says how many bytes follow
        digest.update(data or b"")
    return digest.hexdigest()


def _lines(conn: sqlite3.Connection, query: str, args: tuple[str, ...] = ()) -> str:
    """The digest of a query's rows, each one JSON text, a row a line."""
    rows = "\n".join(row for (row,) in conn.execute(query, args))
    return _digest(rows.encode("utf-8"))


def _planted(value: object) -> list[str]:
    """A value the tool never writes in a field it reads as text or a number, written out."""
    return ["bytes", value.hex()] if isinstance(value, bytes) else ["other", repr(value)]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()


def _tags(
    conn: sqlite3.Connection, key: WorkspaceKey, value: str, form: int, kept: _Kept, tag: bytes
) -> bool:
    """Whether `tag` is the head's in `form`; never where the tables are not of that form's.

    A form before 5 reads the clear body and author of escalations, which schema 16 drops.
    """
    try:
        made = _tag(conn, key, value, form=form, kept=kept)
    except sqlite3.OperationalError as exc:
        if "no such column" not in str(exc):
            raise
        return False
    return hmac.compare_digest(tag, made)


def check(conn: sqlite3.Connection, key: WorkspaceKey, *, oldest: int = 1) -> int:
    """Refuse a head this tool did not tag, or a log that does not end at it.

    Returns the form the tag is in: one before `FORM` (and not before `oldest`, the form
    the roster says the head was tagged in) is the tools' before, and the caller tags
    what this form covers now (`put`).
    """
    value = stored(conn)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (TAG,)).fetchone()
    try:
        tag = b64decode(row[0]) if row is not None else b""
    except CryptoError:
        tag = b""
    # What this form reads of each table is kept for the tags after (`_Kept`), if it matches.
    kept = _Kept(conn, fresh=True)
    form = next(
        (f for f in range(FORM, oldest - 1, -1) if _tags(conn, key, value, f, kept, tag)),
        None,
    )
    if form == FORM:
        kept.done()
    else:
        kept.drop()
    if form is None:
        raise UnlockError(
            "the audit log on this disk was cut, or the export bundles it records, the"
            " authorities it pins, the keyrings it installed, the escalation rule, the bodies,"
            " the reports' sources and their reply keys, the envelopes filed and reply"
            " bundles sent, an attachment's record or which report it or a note is on, an"
            " escalation's packet or record, a reply's envelope and bundle, a reviewer's subkey"
            " record, a conflict declaration, a report's state or entities, a decision on a"
            " link, the search index, a source's notice or the earlier workspace keys were altered,"
            " deleted or put back: what is on the disk is not what this workspace's tool"
            " last wrote (its newest audit entries, what it saw of the server's bundles, who it"
            " trusts to name reviewers, or whom it seals to)",
            hint=_HINT,
        )
    last = conn.execute("SELECT seq, link FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if (f"{last[0]}:{last[1]}" if last else text(0, GENESIS)) != value:
        seq = value.split(":", 1)[0]
        raise UnlockError(
            f"the audit log on this disk was cut: this workspace's tool last wrote entry {seq},"
            " and the log does not end there",
            hint=_HINT,
        )
    return form
