"""Each reviewer key's mark on the workspace key it opened, so that a swapped key is refused.

The workspace key's public half and its wrapped copies are in the clear, and so
are the reviewers' public keys: whoever can write to the disk can wrap a key of
their own to a reviewer key, or put back the X25519 key the workspace had before
its step to X-Wing, and an unwrap alone cannot tell. Whatever the reviewer then
imported or wrote would be sealed under a key the writer knows (or that a later
quantum computer breaks). So each key in service keeps a mark on the workspace
key it last opened (`crypto.workspace.mark`, in `meta` as `mark:<seq>`), which
only its holder's secret makes. At unlock the key opened must be the one marked,
or one that replaced it in a rewrap (the marked key is then among the earlier
keys the new one keeps sealed). A key with no mark yet (enrolled since, or from
before marks) must open what the workspace holds sealed: one of its newest reports.
"""

from __future__ import annotations

import hmac
import sqlite3
from contextlib import suppress
from typing import Final

from crypto import KeyPair
from crypto.encoding import b64decode, b64encode
from crypto.errors import DecryptionError
from crypto.workspace import WorkspaceKey, mark
from review.errors import UnlockError
from review.workspace.schema import transaction
from review.workspace.state import state_context

MARK: Final = "mark:"
# How many of the newest reports a key with no mark yet may try to open.
_TRIED: Final = 5


def replaced() -> UnlockError:
    """The error of a workspace key that is not the one its reviewers' keys opened."""
    return UnlockError(
        "the workspace key on this disk was replaced: it is not the key this reviewer's key"
        " opened before, nor one a rewrap put in its place",
        hint="someone with write access to this disk changed it: import and write nothing"
        " here; restore the workspace from a copy you trust and have the disk examined",
    )


def check(
    conn: sqlite3.Connection,
    seq: int,
    pair: KeyPair,
    key: WorkspaceKey,
    history: tuple[WorkspaceKey, ...],
) -> None:
    """Refuse `key`, opened by the reviewer key numbered `seq`, unless it is the workspace's."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"{MARK}{seq}",)).fetchone()
    if row is None:
        if not _opens_newest_report(conn, key):
            raise replaced()
        return
    stored = b64decode(row[0])
    for known in (key, *history):
        for identity in pair.decryption_keys:
            if hmac.compare_digest(stored, mark(identity, known.public_key)):
                return
    raise replaced()


def record(conn: sqlite3.Connection, seq: int, pair: KeyPair, key: WorkspaceKey) -> None:
    """Mark `key` as the one the reviewer key numbered `seq` opened (a read-only disk: later)."""
    value = b64encode(_mark(pair, key))
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"{MARK}{seq}",)).fetchone()
    if row is not None and row[0] == value:
        return
    with suppress(sqlite3.OperationalError), transaction(conn):
        put(conn, seq, pair, key)


def put(conn: sqlite3.Connection, seq: int, pair: KeyPair, key: WorkspaceKey) -> None:
    """Write the mark, in the caller's transaction."""
    conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (f"{MARK}{seq}", b64encode(_mark(pair, key))),
    )


def forget(conn: sqlite3.Connection, seq: int) -> None:
    """Drop a retired key's mark, in the caller's transaction."""
    conn.execute("DELETE FROM meta WHERE key = ?", (f"{MARK}{seq}",))


def _mark(pair: KeyPair, key: WorkspaceKey) -> bytes:
    # The X-Wing key when the file has one: a later quantum computer cannot make its mark.
    identity = pair.hybrid if pair.hybrid is not None else pair.encryption
    if identity is None:
        raise UnlockError("a reviewer key file must hold an X25519 key")
    return mark(identity, key.public_key)


def _opens_newest_report(conn: sqlite3.Connection, key: WorkspaceKey) -> bool:
    """Say whether `key` opens one of the newest reports (all of them, when there are none).

    A few, not one: a single damaged record must not lock its reviewers out.
    """
    rows = conn.execute(
        "SELECT num, state FROM reports ORDER BY num DESC LIMIT ?", (_TRIED,)
    ).fetchall()
    for num, state in rows:
        with suppress(DecryptionError):
            key.open_record(state, state_context(num))
            return True
    return not rows
