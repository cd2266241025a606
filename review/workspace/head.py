"""The audit log's newest link, kept apart and tagged under the workspace key.

The log's entries are chained and signed, so an entry edited or removed in the
middle is found by anyone; but the last entries can be cut, and the head kept
apart (`meta` row `audit_head`, in the clear) written to match, by anyone with
write access to the disk: a seized workstation returned with its last actions
erased. So the head is tagged (`audit_head_tag`) with a key derived from the
workspace key (`WorkspaceKey.head_tag`), which nobody without a passphrase has,
and unlock refuses a log that does not end at a head so tagged.

A workspace whose roster says it keeps the tag (`roster.keeps_head`) must have
it; one from before gets it at its first unlock by this tool (trust on that first
use), as the roster is adopted. What a tag cannot tell is a whole older copy of
the database put back: its head was tagged once too (docs/REVIEW.md).
"""

from __future__ import annotations

import hmac
import sqlite3
from typing import Final

from crypto import GENESIS
from crypto.encoding import b64decode, b64encode
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey
from review.errors import UnlockError

HEAD: Final = "audit_head"
TAG: Final = "audit_head_tag"
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
    value = text(seq, link)
    conn.execute(_UPSERT, (HEAD, value))
    conn.execute(_UPSERT, (TAG, b64encode(key.head_tag(value.encode("ascii")))))


def stored(conn: sqlite3.Connection) -> str:
    """The head as kept (the chain's start when no entry was written)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (HEAD,)).fetchone()
    return str(row[0]) if row else text(0, GENESIS)


def put(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Tag the head as it is, in the caller's transaction: at creation, or on first use."""
    conn.execute(_UPSERT, (TAG, b64encode(key.head_tag(stored(conn).encode("ascii")))))


def check(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Refuse a head this tool did not tag, or a log that does not end at it."""
    value = stored(conn)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (TAG,)).fetchone()
    try:
        tag = b64decode(row[0]) if row is not None else b""
    except CryptoError:
        tag = b""
    if not hmac.compare_digest(tag, key.head_tag(value.encode("ascii"))):
        raise UnlockError(
            "the audit log on this disk was cut: its newest link is not the one this"
            " workspace's tool last wrote (the entries after it were removed)",
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
