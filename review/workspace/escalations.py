"""Escalations' rows: who wrote each and which body it is for are sealed in its record.

Before schema 16 a row kept its body's number and its author's reviewer id in the clear
(`escalations.body`, `escalations.author`): to whoever held the disk, which reviewer
escalated, and to which body, the very news an accused officer wants. Since 16 both are
in the row's sealed record; `seal_legacy` moves an older workspace's into it at the first
unlock (the key is needed), in the transaction that tags the head in form 5
(`review.workspace.head`), and rebuilds the table without the two columns.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Final

from crypto.errors import DecryptionError
from crypto.workspace import WorkspaceKey
from review.errors import UnlockError
from review.workspace.schema import SCHEMA

# What an escalation's row keeps in the clear since schema 16: its number and its packet's blob.
_TABLE: Final = SCHEMA[SCHEMA.index("CREATE TABLE escalations") :].split(";", 1)[0]
_REBUILT: Final = "escalations_v16"


def context(esc_id: int) -> bytes:
    """The context an escalation's record is sealed under."""
    return f"escalation:{esc_id}".encode("ascii")


def is_legacy(conn: sqlite3.Connection) -> bool:
    """Whether the escalations table still has the clear columns of schema 15 and before."""
    return any(row[1] == "author" for row in conn.execute("PRAGMA table_info(escalations)"))


def seal_legacy(conn: sqlite3.Connection, key: WorkspaceKey) -> int:
    """Seal each escalation's body and author into its record, and drop the clear columns.

    In the caller's transaction, which tags the head after: a record that does not open
    leaves everything as it was (an escalation is never dropped to upgrade). Returns how
    many escalations were sealed.
    """
    if not is_legacy(conn):
        return 0
    rows = conn.execute("SELECT id, body, author, blob, sealed FROM escalations ORDER BY id")
    rebuilt = []
    for esc_id, body, author, blob, sealed in rows.fetchall():
        try:
            record = json.loads(key.open_record(sealed, context(esc_id)))
        except (DecryptionError, ValueError) as exc:
            raise UnlockError(
                f"escalation {esc_id}'s record does not open, so it could not be sealed as"
                " this version keeps it (nothing was changed)",
                hint="restore the workspace from a copy you trust and have the disk examined",
            ) from exc
        record.update(body=body, author=author)
        data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
        rebuilt.append((esc_id, blob, key.seal_record(data, context(esc_id))))
    conn.execute(_TABLE.replace("escalations", _REBUILT, 1))
    conn.executemany(f"INSERT INTO {_REBUILT} VALUES (?, ?, ?)", rebuilt)  # noqa: S608 - a constant
    # Freed pages are zeroed (`secure_delete`), the old rows' clear columns with them.
    conn.execute("DROP TABLE escalations")
    conn.execute(f"ALTER TABLE {_REBUILT} RENAME TO escalations")
    return len(rebuilt)
