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

A workspace whose roster says it keeps the tag (`roster.keeps_head`) must have
it; one from before gets it at its first unlock by this tool (trust on that first
use), as the roster is adopted. What a tag cannot tell is a whole older copy of
the database put back: its head was tagged once too (docs/REVIEW.md).
"""

from __future__ import annotations

import hmac
import json
import sqlite3
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

    After each entry, each bundle recorded, at creation, or on first use.
    """
    conn.execute(_UPSERT, (TAG, b64encode(_tag(conn, key, stored(conn)))))


def _tag(conn: sqlite3.Connection, key: WorkspaceKey, value: str) -> bytes:
    """The tag over the head and every export bundle's record (`review.intake.exports`)."""
    rows = conn.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        (CHAIN,),
    ).fetchall()
    # JSON of strings only: unambiguous, and quick however many bundles came.
    return key.head_tag(json.dumps([value, *(f"{k}={v}" for k, v in rows)]).encode("utf-8"))


def check(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Refuse a head this tool did not tag, or a log that does not end at it."""
    value = stored(conn)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (TAG,)).fetchone()
    try:
        tag = b64decode(row[0]) if row is not None else b""
    except CryptoError:
        tag = b""
    if not hmac.compare_digest(tag, _tag(conn, key, value)):
        raise UnlockError(
            "the audit log on this disk was cut, or the export bundles it records were"
            " altered: what is on the disk is not what this workspace's tool last wrote"
            " (its newest audit entries, or what it saw of the server's bundles)",
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
