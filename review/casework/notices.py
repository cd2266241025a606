"""Status notices for sources, sealed: the status a source will be shown waits as a record.

One row per source (`notices`), holding a sealed `{status, exported_in}`: which
sources have a notice is as visible as the sources themselves, but not what it
says nor whether it has gone out yet. Workspaces from before schema version 3
kept notices in the clear; `seal_legacy` seals them at the first unlock.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from crypto.encoding import canonical_json
from crypto.workspace import WorkspaceKey
from review.workspace.schema import LEGACY_NOTICES, transaction

if TYPE_CHECKING:
    from review.workspace import Unlocked


def notice_context(source: str) -> bytes:
    """The context a source's notice is sealed under."""
    return f"notice:{source}".encode()


def _seal(key: WorkspaceKey, source: str, status: str, exported_in: str | None) -> bytes:
    record = {"status": status, "exported_in": exported_in}
    return key.seal_record(canonical_json(record), notice_context(source))


def _open(key: WorkspaceKey, source: str, sealed: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(key.open_record(sealed, notice_context(source)))
    return record


def post(u: Unlocked, source: str, status: str, *, replace: bool = True) -> None:
    """Queue `status` for the source; with `replace` false, keep one already there."""
    row = u.conn.execute("SELECT 1 FROM notices WHERE source = ?", (source,)).fetchone()
    if row is not None and not replace:
        return
    u.conn.execute(
        "INSERT INTO notices VALUES (?, ?)"
        " ON CONFLICT(source) DO UPDATE SET sealed = excluded.sealed",
        (source, _seal(u.key, source, status, None)),
    )


def pending(u: Unlocked) -> list[tuple[str, str]]:
    """Notices not yet exported: (source, status), in source order."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    out = []
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] is None:
            out.append((source, str(record["status"])))
    return out


def mark_exported(u: Unlocked, sent: list[tuple[str, str]], bundle_id: str) -> None:
    """Record that these notices went out in a bundle (inside the caller's transaction)."""
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [(_seal(u.key, source, status, bundle_id), source) for source, status in sent],
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


def in_bundle(u: Unlocked, bundle_id: str) -> dict[str, str]:
    """The notices that went out in `bundle_id`: source -> status."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    found = {}
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] == bundle_id:
            found[source] = str(record["status"])
    return found


def take_back(u: Unlocked, bundle_id: str, drop: set[str]) -> int:
    """Queue a refused bundle's notices again, dropping those in `drop`; return how many stay.

    Runs inside the caller's transaction.
    """
    sent = in_bundle(u, bundle_id)
    u.conn.executemany("DELETE FROM notices WHERE source = ?", [(s,) for s in sorted(drop)])
    kept = [(s, status) for s, status in sent.items() if s not in drop]
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [(_seal(u.key, source, status, None), source) for source, status in kept],
    )
    return len(kept)
