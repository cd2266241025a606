"""Status notices for sources, sealed: the status a source will be shown waits as a record.

One row per source (`notices`), holding a sealed `{status, exported_in, seq}`:
which sources have a notice is as visible as the sources themselves, but not
what it says nor whether it has gone out yet. `seq` counts the notices issued
to the source, this one included: it goes out with the notice (reply bundle
format 3), and the server lets no notice of a lower number replace one it
shows, so a bundle kept back and handed in late cannot show the source an
older status. A record sealed before numbering counts as 0. Workspaces from
before schema version 3 kept notices in the clear; `seal_legacy` seals them at
the first unlock.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, Final

from crypto.encoding import canonical_json
from crypto.exchange import Notice
from crypto.workspace import WorkspaceKey
from review.workspace.schema import LEGACY_NOTICES, transaction

if TYPE_CHECKING:
    from review.workspace import Unlocked


# What a dropped notice's `exported_in` says, before the bundle's id: it went nowhere.
_DROPPED: Final = "dropped:"


def notice_context(source: str) -> bytes:
    """The context a source's notice is sealed under."""
    return f"notice:{source}".encode()


def _seal(
    key: WorkspaceKey, source: str, status: str, exported_in: str | None, seq: int = 0
) -> bytes:
    record = {"status": status, "exported_in": exported_in, "seq": seq}
    return key.seal_record(canonical_json(record), notice_context(source))


def _notice(source: str, record: dict[str, Any]) -> Notice:
    """A record as the notice a bundle carries (a record from before numbering: number 0)."""
    seq = int(record.get("seq", 0))
    return Notice(source, str(record["status"]), seq or None)


def _open(key: WorkspaceKey, source: str, sealed: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(key.open_record(sealed, notice_context(source)))
    return record


def post(u: Unlocked, source: str, status: str, *, replace: bool = True) -> None:
    """Queue `status` for the source; with `replace` false, keep one already there."""
    row = u.conn.execute("SELECT sealed FROM notices WHERE source = ?", (source,)).fetchone()
    if row is not None and not replace:
        return
    # One past the last notice issued to the source, whether it went out or not.
    seq = int(_open(u.key, source, row[0]).get("seq", 0)) + 1 if row is not None else 1
    u.conn.execute(
        "INSERT INTO notices VALUES (?, ?)"
        " ON CONFLICT(source) DO UPDATE SET sealed = excluded.sealed",
        (source, _seal(u.key, source, status, None, seq)),
    )


def pending(u: Unlocked) -> list[Notice]:
    """Notices not yet exported, numbered, in source order."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    out = []
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] is None:
            out.append(_notice(source, record))
    return out


def mark_exported(u: Unlocked, sent: list[Notice], bundle_id: str) -> None:
    """Record that these notices went out in a bundle (inside the caller's transaction)."""
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [(_seal(u.key, n.source, n.status, bundle_id, n.seq or 0), n.source) for n in sent],
    )


def seal_legacy(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Seal the clear notices a version-2 workspace kept, then drop their table."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEGACY_NOTICES,)
    ).fetchone()
    if found is None:
        return
    with transaction(conn):
        rows = conn.execute(f"SELECT source, status, exported_in FROM {LEGACY_NOTICES}").fetchall()  # noqa: S608 - a constant
        conn.executemany(
            "INSERT OR REPLACE INTO notices VALUES (?, ?)",
            [(s, _seal(key, s, status, exported)) for s, status, exported in rows],
        )
        conn.execute(f"DROP TABLE {LEGACY_NOTICES}")


def in_bundle(u: Unlocked, bundle_id: str) -> dict[str, Notice]:
    """The notices that went out in `bundle_id`, by source."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    found = {}
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] == bundle_id:
            found[source] = _notice(source, record)
    return found


def take_back(u: Unlocked, bundle_id: str, drop: set[str]) -> int:
    """Queue a refused bundle's notices again, dropping those in `drop`; return how many stay.

    A notice queued again keeps its number: the server may have applied it after all.
    A dropped notice is kept as spent (never pending, in no bundle), not deleted: the
    source's next notice is numbered past it, else the server, which may have applied
    it, would take every later one for an older one.
    Runs inside the caller's transaction.
    """
    sent = in_bundle(u, bundle_id)
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [
            (_seal(u.key, n.source, n.status, _DROPPED + bundle_id, n.seq or 0), n.source)
            for s, n in sorted(sent.items())
            if s in drop
        ],
    )
    kept = [n for s, n in sent.items() if s not in drop]
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [(_seal(u.key, n.source, n.status, None, n.seq or 0), n.source) for n in kept],
    )
    return len(kept)
