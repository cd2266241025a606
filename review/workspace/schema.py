"""The workspace database: what is stored in the clear, and what only as sealed records.

In the clear are only facts the server already holds (opaque ids, source
designations and public keys, the day an item arrived) and the workspace's own
bookkeeping. Everything a report says and everything a reviewer writes about it
(status, fields, tags, notes, links, replies, notices, the search index, what
each audit entry did and when) is a sealed record, padded and bound to its row
so that records cannot be swapped between rows. docs/REVIEW.md lists what is
left in the clear, and a test holds the two to each other.

A workspace made by an earlier version is upgraded when opened, one step per
version in `UPGRADES`, all in one transaction; a step that needs the workspace
key (sealing what an earlier version kept in the clear) leaves its rows in a
holding table that the first unlock seals and drops (`review.casework.notices`),
or its files where they were (`review.workspace.outbox`).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from review.errors import WorkspaceError
from review.workspace.erase import destroy, discard
from review.workspace.noatime import open_quietly

SCHEMA_VERSION: Final = 16
# Beside the database, its copy while it is rebuilt (`rebuild`), a random suffix after.
REBUILD_SUFFIX: Final = "-rebuild-"
# Where an upgraded version-2 workspace keeps its clear notices until the first unlock.
LEGACY_NOTICES: Final = "notices_v2"

SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reviewers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    added TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'reviewer' CHECK (role IN ('admin', 'reviewer'))
);
CREATE TABLE reviewer_keys (
    seq INTEGER PRIMARY KEY,
    reviewer TEXT NOT NULL REFERENCES reviewers(id),
    encryption_key TEXT NOT NULL UNIQUE,
    signing_key TEXT NOT NULL,
    key_file TEXT NOT NULL UNIQUE,
    wrapped BLOB NOT NULL,
    retired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE keyrings (version INTEGER PRIMARY KEY, signed BLOB NOT NULL);
CREATE TABLE bundles (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    imported TEXT NOT NULL,
    keyring_version INTEGER NOT NULL
);
CREATE TABLE sources (
    designation TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    disputed INTEGER NOT NULL DEFAULT 0 CHECK (disputed IN (0, 1))
);
CREATE TABLE reports (
    num INTEGER PRIMARY KEY,
    submission TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES sources(designation),
    day TEXT NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    report INTEGER NOT NULL REFERENCES reports(num),
    bundle TEXT NOT NULL REFERENCES bundles(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('filed', 'pending', 'damaged')),
    problem TEXT,
    blob TEXT,
    info BLOB,
    acked_in TEXT
);
CREATE INDEX items_report ON items(report);
CREATE TABLE notes (
    seq INTEGER PRIMARY KEY,
    report INTEGER NOT NULL REFERENCES reports(num),
    sealed BLOB NOT NULL
);
CREATE INDEX notes_report ON notes(report);
CREATE TABLE replies (
    id TEXT PRIMARY KEY,
    report INTEGER NOT NULL REFERENCES reports(num),
    source TEXT NOT NULL REFERENCES sources(designation),
    signer TEXT NOT NULL,
    envelope TEXT NOT NULL,
    sealed BLOB NOT NULL,
    exported_in TEXT
);
CREATE TABLE notices (
    source TEXT PRIMARY KEY REFERENCES sources(designation),
    sealed BLOB NOT NULL
);
CREATE TABLE reply_bundles (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    signer TEXT NOT NULL,
    confirmed TEXT,
    taken_back TEXT,
    carried TEXT
);
CREATE TABLE reply_voids (
    bundle TEXT NOT NULL REFERENCES reply_bundles(id),
    carried_in TEXT NOT NULL REFERENCES reply_bundles(id),
    PRIMARY KEY (bundle, carried_in)
);
CREATE TABLE blob_data (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE search_segments (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    record TEXT NOT NULL,
    link TEXT NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE conflicts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL REFERENCES reviewers(id),
    sealed BLOB NOT NULL
);
CREATE TABLE routings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    report INTEGER NOT NULL REFERENCES reports(num),
    sealed BLOB NOT NULL
);
CREATE TABLE bodies (id INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE escalations (id INTEGER PRIMARY KEY, blob TEXT NOT NULL, sealed BLOB NOT NULL);
CREATE TABLE report_entities (
    report INTEGER PRIMARY KEY REFERENCES reports(num),
    sealed BLOB NOT NULL
);
CREATE TABLE link_decisions (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE reply_prekeys (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL REFERENCES sources(designation),
    report INTEGER NOT NULL REFERENCES reports(num),
    signer TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX reply_prekeys_report ON reply_prekeys(report);
CREATE TABLE envelopes (digest BLOB PRIMARY KEY, item TEXT NOT NULL) WITHOUT ROWID;
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the database in autocommit mode; `transaction` groups writes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows must not linger in free pages (sealed, but still not theirs to keep).
    conn.execute("PRAGMA secure_delete = ON")
    # The rollback journal holds every page a transaction changes, as it was. Unlinked at
    # the commit (SQLite's default), its blocks would keep them on the disk, the old
    # wrapped keys of a rewrap among them; kept, it is overwritten by `scrub_journal`.
    conn.execute("PRAGMA journal_mode = PERSIST")
    # A big sort or a statement journal (a rewrap's) would spill pages to a temporary file in
    # $TMPDIR, on another disk, unlinked but its blocks not overwritten: in memory instead.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one write transaction: all of it is committed, or none."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        # Inside the `try`: a COMMIT refused busy (another process reading) leaves the
        # transaction open, its changes read as saved and every later write refused.
        conn.execute("COMMIT")
    except BaseException:
        # A full disk (SQLITE_FULL) or an I/O error has rolled it back already: a
        # ROLLBACK then would raise, and hide the error that says what happened.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # Nor may the scrub hide it: what it cannot do now, the command's end does.
        with suppress(sqlite3.Error, OSError):
            scrub_journal(conn)
        raise
    scrub_journal(conn)


def scrub_journal(conn: sqlite3.Connection) -> None:
    """Overwrite the rollback journal with zeros, then remove it, holding the write lock.

    Nothing is done while another connection writes: it scrubs after its own commit.
    """
    (_seq, _name, database) = conn.execute("PRAGMA database_list").fetchone()
    journal = Path(f"{database}-journal")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    try:
        destroy(journal)
    finally:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            # Refused busy (a reader came), it stays open, and every later write is refused:
            # it wrote nothing, so it is rolled back, and the next commit scrubs.
            conn.execute("ROLLBACK")


def rebuild(conn: sqlite3.Connection) -> bool:
    """Rewrite the database file in the order of its rows' keys (`VACUUM`); False if it could
    not be (a full disk, another process reading), the file then as it was.

    SQLite gives a row larger than a page its overflow pages from the free list or the end of
    the file, as it is written: read in page order, the file placed an escalated packet after
    one import's blobs and before the next's, and each import's day is in the clear. Rebuilt,
    `blob_data` lies in the order of its rowids, which are drawn at random (`blobs.inline_row`).

    The copy is made in a file beside the database, then copied back over it page by page
    (SQLite's backup, in one transaction): `VACUUM` in place made its copy where temporary
    data goes, in memory here (`temp_store`), as large as the database.
    """
    database = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    _sweep_copies(database)
    try:
        with _copy_beside(database) as copy:
            conn.execute("VACUUM INTO ?", (str(copy),))
            source = sqlite3.connect(copy)
            try:
                source.backup(conn)
            finally:
                source.close()
        # Marked as rebuilt (`rebuilt`): the write of the mark counts one more transaction.
        counter = int.from_bytes(_header(database)[24:28], "big")
        conn.execute(f"PRAGMA user_version = {(counter + 1) & 0xFFFFFFFF}")
    except (sqlite3.Error, OSError):
        return False
    finally:
        # The journal held every page as it was, in the order of writing.
        with suppress(sqlite3.Error, OSError):
            scrub_journal(conn)
    return True


@contextmanager
def _copy_beside(database: Path) -> Iterator[Path]:
    """An empty file beside the database for its rebuilt copy, locked while it is used, and
    destroyed after: it held every page (a later rewrap or deletion would leave them as they
    are now in the disk's free blocks)."""
    copy = database.with_name(f"{database.name}{REBUILD_SUFFIX}{secrets.token_hex(8)}")
    fd = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield copy
    finally:
        discard(copy)
        os.close(fd)


def _sweep_copies(database: Path) -> None:
    """Destroy the copies rebuilds killed halfway left, never one another process is making."""
    for copy in database.parent.glob(f"{database.name}{REBUILD_SUFFIX}*"):
        try:
            fd = os.open(copy, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            discard(copy)
        except OSError:
            pass  # being made
        finally:
            os.close(fd)


def rebuild_unless_rebuilt(path: Path) -> bool:
    """Rebuild the database at `path` unless nothing was written since it last was (by an
    import, say, or a command of this tool cut off before its end); False if it could not be.

    Each write puts what it wrote out of the rebuilt order, where a seizer reads it (a
    report triaged, a note written since the last rebuild): every command ends so.
    """
    if not path.is_file() or rebuilt(path):
        return True
    conn = connect(path)
    try:
        return rebuild(conn)
    finally:
        conn.close()


def rebuilt(path: Path) -> bool:
    """Whether nothing was written to the database since its last rebuild: the header's user
    version (bytes 60-63) is what `rebuild` left, its change counter."""
    header = _header(path)
    return len(header) == 100 and header[24:28] == header[60:64]


def _header(path: Path) -> bytes:
    """The database file's header (its first 100 bytes), read without dating the read."""
    try:
        with open_quietly(path) as f:
            return f.read(100)
    except FileNotFoundError:
        return b""


def scrub_journal_at(path: Path) -> None:
    """`scrub_journal` for the database at `path`, on a connection of its own."""
    conn = connect(path)
    try:
        scrub_journal(conn)
    finally:
        conn.close()


def create(conn: sqlite3.Connection) -> None:
    """Create the tables of a new workspace."""
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))


def _to_version_2(conn: sqlite3.Connection) -> None:
    """Add reviewer roles (the creator administers), the keyring, conflicts, entities, bodies."""
    conn.execute(
        "ALTER TABLE reviewers ADD COLUMN role TEXT NOT NULL DEFAULT 'reviewer'"
        " CHECK (role IN ('admin', 'reviewer'))"
    )
    conn.execute(
        "UPDATE reviewers SET role = 'admin'"
        " WHERE id = (SELECT json_extract(record, '$.actor') FROM audit WHERE seq = 1)"
    )
    _create_missing(conn, SCHEMA)


def _create_missing(conn: sqlite3.Connection, script: str) -> None:
    """Create the tables and indexes of `script` that the workspace does not have yet."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(
                statement.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ").replace(
                    "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS "
                )
            )


def _to_version_3(conn: sqlite3.Connection) -> None:
    """Notices sealed: the clear table waits aside for the key (`notices.seal_legacy`).

    Records are padded and audit entries sealed from now on; older ones stay as
    they were written (`keys rewrap` re-seals records; signatures cover the log).
    """
    conn.execute(f"ALTER TABLE notices RENAME TO {LEGACY_NOTICES}")
    conn.execute(
        "CREATE TABLE notices ("
        " source TEXT PRIMARY KEY REFERENCES sources(designation), sealed BLOB NOT NULL)"
    )


def _to_version_4(conn: sqlite3.Connection) -> None:
    """Reviewers' decisions on links between reports, each a sealed record.

    A version-1 workspace has it already: the step to version 2 makes every missing table.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS link_decisions (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL)"
    )


def _to_version_5(conn: sqlite3.Connection) -> None:
    """One-time reply prekeys of `raazdar-submit` sources, and whether each is used.

    Older workspaces have none: their replies go to codename keys, as before. A
    version-1 workspace has the table already: the step to version 2 makes every missing one.
    """
    _create_missing(conn, SCHEMA[SCHEMA.index("CREATE TABLE reply_prekeys") :])


def _to_version_6(conn: sqlite3.Connection) -> None:
    """Reply envelopes are blobs wrapped to the workspace key, no longer files in `outbox/`.

    No table changes: `replies.envelope` names a blob from now on. Wrapping needs
    the key, so the files wait in `outbox/` for the first unlock
    (`review.workspace.outbox.seal_legacy`); the version keeps an older tool,
    which would look for them there and queue new ones in the clear, away.
    """


def _to_version_7(conn: sqlite3.Connection) -> None:
    """Reply bundles the server confirmed, and those taken back that later bundles void.

    Bundles exported before stay unconfirmed until an export bundle with receipts names
    them; those taken back before were forgotten then, and cannot be voided now.
    """
    have = {row[1] for row in conn.execute("PRAGMA table_info(reply_bundles)")}
    for column in ("confirmed", "taken_back", "carried"):
        if column not in have:  # a version-1 workspace got them with the table, in step 2
            conn.execute(f"ALTER TABLE reply_bundles ADD COLUMN {column} TEXT")
    _create_missing(conn, SCHEMA[SCHEMA.index("CREATE TABLE reply_voids") :])


def _to_version_8(conn: sqlite3.Connection) -> None:
    """Mark sources whose reply key is disputed: no reply goes to them (`review.intake.importer`).

    Older workspaces refused a bundle with such a source whole, so none of theirs is disputed.
    """
    conn.execute(
        "ALTER TABLE sources ADD COLUMN disputed INTEGER NOT NULL DEFAULT 0"
        " CHECK (disputed IN (0, 1))"
    )


def _to_version_9(conn: sqlite3.Connection) -> None:
    """The workspace key may be X-Wing (`rz-xwing-public:` in `meta.workspace_key`).

    No table changes: re-sealing under an X-Wing key needs the key, so the first
    unlock by the tool does it once every key in service has an X-Wing half
    (`review.keys.rewrap.upgrade_key`); the version keeps an older tool, which
    would read such a workspace as damaged, away.
    """


def _to_version_10(conn: sqlite3.Connection) -> None:
    """Keys in service are checked against the roster (`meta:roster`, `review.workspace.roster`).

    No table changes: the roster is tagged under the workspace key, so the first
    unlock writes it, and re-wraps the key to each key in service in the form
    that says a roster is kept. The version keeps an older tool away: it opens
    no such wrap, and would re-wrap without keeping the roster.
    """


def _to_version_11(conn: sqlite3.Connection) -> None:
    """The audit log's head is tagged (`meta:audit_head_tag`, `review.workspace.head`).

    No table changes: the tag is made under the workspace key, so the first unlock
    writes it. The version keeps an older tool away: it would append entries
    without the tag, which this tool then refuses at unlock as a log cut.
    """


def _to_version_12(conn: sqlite3.Connection) -> None:
    """Each filed envelope's bundle item hash, so a copy under another id is named
    (`review.intake.copies`); envelopes filed before are not known, their ciphertext gone."""
    _create_missing(conn, SCHEMA[SCHEMA.index("CREATE TABLE envelopes") :])


def _to_version_13(conn: sqlite3.Connection) -> None:
    """The audit head's tag covers the pins and the keyrings (`review.workspace.head`).

    No table changes: the first unlock tags them. The version keeps an older tool
    away: it would tag the head without them, and this tool take that on trust again.
    """


def _to_version_14(conn: sqlite3.Connection) -> None:
    """The audit head's tag covers the escalation rule, bodies, sources and reply prekeys, and
    the roster says which form the head is tagged in (`review.workspace.head`).

    No table changes: the first unlock tags them. The version keeps an older tool away: it
    would read the roster's word for the form as no tag kept, and tag the head anew unchecked.
    """


def _to_version_15(conn: sqlite3.Connection) -> None:
    """The audit head's tag covers every column of items, the export bundles' rows and each
    reviewer's subkey record (`review.workspace.head`, form 4).

    No table changes: the first unlock checks the form-3 tag the roster names and tags them.
    The version keeps an older tool away: it would tag the head in form 3 beside a roster
    that says 4, and refuse the workspace at its next unlock.
    """


def _to_version_16(conn: sqlite3.Connection) -> None:
    """Each escalation's body and author are sealed in its record, no longer clear columns
    (`review.workspace.escalations`), and the audit head's tag covers the record (form 5).

    No table changes now: sealing needs the key, so the first unlock seals them, rebuilds
    the table without the two columns and tags the head in form 5, in one transaction. The
    version keeps an older tool away: it would read escalations without a body or author.
    """


# Each step takes a workspace from the version before it to its own: (version, step).
UPGRADES: Final[tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...]] = (
    (2, _to_version_2),
    (3, _to_version_3),
    (4, _to_version_4),
    (5, _to_version_5),
    (6, _to_version_6),
    (7, _to_version_7),
    (8, _to_version_8),
    (9, _to_version_9),
    (10, _to_version_10),
    (11, _to_version_11),
    (12, _to_version_12),
    (13, _to_version_13),
    (14, _to_version_14),
    (15, _to_version_15),
    (16, _to_version_16),
)


def upgrade(conn: sqlite3.Connection) -> None:
    """Bring a workspace made by an earlier version to this schema, in one transaction."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    version = int(row[0]) if row is not None else 0
    if version == SCHEMA_VERSION:
        return
    if not 1 <= version < SCHEMA_VERSION:
        raise WorkspaceError(
            f"this workspace has schema version {version}; this tool reads 1-{SCHEMA_VERSION}",
            hint="use the version of raazdar-review that made it",
        )
    try:
        with transaction(conn):
            for target, step in UPGRADES:
                if target > version:
                    step(conn)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
    except sqlite3.OperationalError as exc:
        # A step meeting what it would add: the number was written back, not the tables.
        if not any(s in str(exc) for s in ("duplicate column", "already exists")):
            raise
        raise WorkspaceError(
            f"this workspace says schema version {version}, but its tables are of a later one:"
            " its settings were altered (nothing was changed)",
            hint="someone with write access to this disk changed it: restore the workspace"
            " from a copy you trust and have the disk examined",
        ) from exc
