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
`keys timestamp` vouches for. A tag made before it covered them (schema 12) is
taken once, at the first unlock by this tool, and replaced (trust on first use).

A workspace whose roster says it keeps the tag (`roster.keeps_head`) must have
it; one from before gets it at its first unlock by this tool (trust on that first
use), as the roster is adopted. What a tag cannot tell is a whole older copy of
the database put back: its head was tagged once too (docs/REVIEW.md).
"""

from __future__ import annotations

import hashlib
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
# What every keyring is verified against (`review.workspace.Pinned`), in the clear.
_PINS: Final = ("authorities", "authority_threshold", "instance_id", "server_key")
# First in what the tag covers since it covers the keyrings: never a head (`text`), so no
# tag of the tool before (schema 12) is one of this tool's.
_KEYRINGS: Final = "pins+keyrings"
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

    After each entry, each bundle recorded, at creation, or on first use.
    """
    conn.execute(_UPSERT, (TAG, b64encode(_tag(conn, key, stored(conn)))))


def _tag(conn: sqlite3.Connection, key: WorkspaceKey, value: str, *, pins: bool = True) -> bytes:
    """The tag over the head, every export bundle's record (`review.intake.exports`), and
    (unless `pins` is False, as the tool before wrote it) the pins and every keyring."""
    rows = conn.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        (CHAIN,),
    ).fetchall()
    covered = [value, *(f"{k}={v}" for k, v in rows)]
    if pins:
        pinned = conn.execute(_READ_PINS, _PINS).fetchall()
        keyrings = conn.execute("SELECT version, signed FROM keyrings ORDER BY version")
        covered = [
            _KEYRINGS,
            *(f"{k}={v}" for k, v in pinned),
            *(f"keyring:{v}={hashlib.blake2b(signed).hexdigest()}" for v, signed in keyrings),
            *covered,
        ]
    # JSON of strings only: unambiguous, and quick however many bundles came.
    return key.head_tag(json.dumps(covered).encode("utf-8"))


def check(conn: sqlite3.Connection, key: WorkspaceKey) -> bool:
    """Refuse a head this tool did not tag, or a log that does not end at it.

    True when the tag is the tool before's, which did not cover the pins and keyrings:
    the caller tags them now (`put`).
    """
    value = stored(conn)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (TAG,)).fetchone()
    try:
        tag = b64decode(row[0]) if row is not None else b""
    except CryptoError:
        tag = b""
    older = False
    if not hmac.compare_digest(tag, _tag(conn, key, value)):
        older = hmac.compare_digest(tag, _tag(conn, key, value, pins=False))
        if not older:
            raise UnlockError(
                "the audit log on this disk was cut, or the export bundles it records, the"
                " authorities it pins or the keyrings it installed were altered: what is on the"
                " disk is not what this workspace's tool last wrote (its newest audit entries,"
                " what it saw of the server's bundles, or who it trusts to name reviewers)",
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
    return older
