"""The outbox: each queued reply's envelope, kept only wrapped to the workspace key.

A reply envelope is sealed to its source: to a one-time prekey, or, for a
browser source, to the key the codename derives, which anyone who later learns
the codename (a coerced source, a notebook found) derives too. So the workspace
never keeps it as it is: it is a blob sealed to the workspace key (kind `blob`,
a row of the database: a reply is at most 20,000 characters), and `envelope`
gives back the very bytes sealed to the source, for the reply bundle. It stays
after export, since `take_back` queues a refused or lost bundle's replies again;
withdrawing a reply drops it with its row, and `keys rewrap` re-seals it.

Workspaces before schema version 6 kept each envelope as it was, a file in
`outbox/`; `seal_legacy` wraps them at the first unlock, then destroys the files.
"""

from __future__ import annotations

import secrets
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Final

from crypto import HybridPublicKey, Metadata, PublicKey, open_bytes, seal_bytes
from crypto.workspace import WorkspaceKey
from review.workspace import head
from review.workspace.blobs import drop, put_inline, put_inline_many, read_blob
from review.workspace.erase import destroy
from review.workspace.schema import transaction

if TYPE_CHECKING:
    from review.workspace import Unlocked, Workspace

_BLOB: Final = Metadata("blob")


def keep(u: Unlocked, envelope: bytes) -> str:
    """Store a reply envelope wrapped to the workspace key (inside the caller's transaction).

    Returns the name of its blob, for `replies.envelope`.
    """
    name = _name()
    put_inline(u.workspace, name, _wrap(u.key.public_key, envelope))
    return name


def envelope(u: Unlocked, name: str) -> bytes:
    """A queued reply's envelope, byte for byte as it was sealed to its source."""
    data, _ = open_bytes(read_blob(u.workspace, name), [u.key.identity])
    return data


def forget(u: Unlocked, name: str) -> None:
    """Drop a withdrawn reply's envelope (inside the caller's transaction)."""
    # Always a row (never a file of `blobs/`), so the transaction removes it whole.
    drop(u.workspace, name)


def seal_legacy(workspace: Workspace, key: WorkspaceKey) -> int:
    """Wrap the envelopes an earlier version left in `outbox/`, then destroy every file there.

    One transaction wraps every reply's file; the files are destroyed only after
    it commits, so a failure on the way loses nothing and the next unlock starts
    again. A file no reply names (a reply withdrawn, or one whose writing failed)
    would never be sent, and is destroyed too. Returns how many were wrapped.
    """
    folder = workspace.outbox
    if not folder.is_dir():
        return 0
    rows = workspace.conn.execute(
        "SELECT id, envelope FROM replies WHERE envelope NOT IN (SELECT name FROM blob_data)"
        " ORDER BY rowid"
    ).fetchall()
    wrapped = []
    for reply_id, name in rows:
        path = folder / name
        # A name is the tool's own `<id>.rze`: never a path out of the outbox.
        if Path(name).name == name and path.is_file() and not path.is_symlink():
            wrapped.append((reply_id, _name(), _wrap(key.public_key, path.read_bytes())))
    with transaction(workspace.conn) as conn:
        put_inline_many(workspace, [(name, data) for _, name, data in wrapped])
        conn.executemany(
            "UPDATE replies SET envelope = ? WHERE id = ?", [(n, r) for r, n, _ in wrapped]
        )
        if wrapped:
            # Each reply's envelope is under the head's tag: untagged, the next unlock refused.
            head.put(conn, key)
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            path.unlink()
        elif path.is_file():
            destroy(path)
    with suppress(OSError):  # something else in it: kept, and looked at again next time
        folder.rmdir()
    return len(wrapped)


def _name() -> str:
    return f"{secrets.token_hex(16)}.rze"


def _wrap(key: PublicKey | HybridPublicKey, envelope: bytes) -> bytes:
    return seal_bytes(envelope, [key], _BLOB)
