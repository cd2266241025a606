"""The roster: the list of keys in service that this tool enrolled, tagged under the workspace key.

A rewrap (and the step to X-Wing at unlock) wraps the new workspace key to every
key in service, and `reviewer_keys` is in the clear: someone with write access to
the disk could add a row of their own keys, with their key file in `keys/`, and
read everything imported after the next rewrap. So each time the tool itself
enrols, retires or re-wraps, it writes the roster (`meta` row `roster`): each key
row (number, reviewer, public keys, key file, retired) and each reviewer's role,
tagged with a key derived from the workspace key (`WorkspaceKey.roster_tag`),
which nobody without a passphrase has. Unlock, and every enrolment and rewrap
under its write lock, refuse a table that is not the roster, naming the row.

Deleting the roster would make the workspace look like one an older tool left, so
a wrap this tool makes says, under the workspace key, that a roster is kept
(`WorkspaceKey.open_wrap`): a roster missing beside such a wrap was removed. A
workspace an older tool left gets its roster at its first unlock by this one
(trust on that first use), and every key in service a wrap that says so.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

from crypto import HybridPublicKey, KeyFile, PublicKey, VerifyKey
from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey
from review.errors import UnlockError
from review.workspace import escalations, head
from review.workspace.noatime import read_quietly
from review.workspace.schema import transaction

ROSTER: Final = "roster"
# The roster's word that the audit log's head is tagged (`review.workspace.head`), and in which
# form (`head.FORM`; True: form 1 or 2, as tools before schema 14 wrote it): under its tag, so
# the head's tag cannot be removed to make the workspace look like an older tool's, nor one of
# an earlier form put back to be taken as the first use of this one.
HEAD_KEPT: Final = "head"
_HINT: Final = (
    "nothing was changed; someone with write access to this disk changed it: import and"
    " write nothing here, restore the workspace from a copy you trust and have the disk examined"
)
_KEYS: Final = (
    "SELECT seq, reviewer, encryption_key, signing_key, key_file, retired FROM reviewer_keys"
    " ORDER BY seq"
)


def check(conn: sqlite3.Connection, key: WorkspaceKey, *, required: bool = True) -> bool:
    """Refuse keys in service, or roles, that are not the roster tagged under `key`.

    Returns False when there is no roster and none is `required` (a workspace an
    older tool left): the caller then writes one (`adopt`).
    """
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (ROSTER,)).fetchone()
    if row is None:
        if required:
            raise UnlockError(
                "this workspace's list of keys in service was removed from its database"
                " (its wrapped key says it keeps one)",
                hint=_HINT,
            )
        return False
    try:
        stored = json.loads(row[0])
        listed = {"keys": stored["keys"], "reviewers": stored["reviewers"]}
        if HEAD_KEPT in stored:
            listed[HEAD_KEPT] = stored[HEAD_KEPT]
        tag = b64decode(stored["tag"])
    except (ValueError, KeyError, TypeError, CryptoError) as exc:
        raise _altered() from exc
    if not hmac.compare_digest(tag, key.roster_tag(canonical_json(listed))):
        raise _altered()
    _compare(listed, _current(conn))
    return True


def put(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Write the roster of the tables as they are, tagged under `key`, in the caller's transaction.

    Only after `check`, or on rows this tool has just written itself. The head is tagged
    with it: the roster says the tag is of this tool's form, which must then be true.
    """
    head.put(conn, key)
    listed: dict[str, Any] = {**_current(conn), HEAD_KEPT: head.FORM}
    value = {**listed, "tag": b64encode(key.roster_tag(canonical_json(listed)))}
    conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (ROSTER, canonical_json(value).decode("utf-8")),
    )


def head_form(conn: sqlite3.Connection) -> int | None:
    """The form the roster (already `check`ed) says the head is tagged in; None: not tagged."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (ROSTER,)).fetchone()
    try:
        kept = json.loads(row[0]).get(HEAD_KEPT) if row is not None else None
    except (ValueError, AttributeError):
        return None
    if kept is True:
        return 1  # tools before schema 14 tagged it, in form 1 or 2
    return kept if type(kept) is int and kept >= 1 else None


def check_head(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Refuse a cut audit log (`review.workspace.head`); a head tagged by a tool before is
    tagged in this tool's form now, and the roster says so (no earlier form is taken again).
    An older workspace's escalations are sealed as form 5 covers them then, in the same
    transaction (`review.workspace.escalations`).

    Trust on first use, as for the roster: a disk that cannot be written is left as
    it is (the next unlock tries again).
    """
    kept = head_form(conn)
    if kept is not None:
        if head.check(conn, key, oldest=kept) < head.FORM or escalations.is_legacy(conn):
            with suppress(sqlite3.OperationalError), transaction(conn):
                # What form 5 covers in place of the clear columns the form checked covered.
                escalations.seal_legacy(conn, key)
                put(conn, key)  # and the head with it
        return
    with suppress(sqlite3.OperationalError), transaction(conn):
        if head_form(conn) is not None:
            return  # another process tagged it first
        escalations.seal_legacy(conn, key)
        put(conn, key)


def adopt(conn: sqlite3.Connection, keys_dir: Path, key: WorkspaceKey) -> None:
    """Give a workspace an older tool left its roster, and each key in service a wrap saying so.

    Trust on first use: the keys in service now are taken as enrolled. A disk that
    cannot be written is left as it is (the next unlock tries again).
    """
    with suppress(sqlite3.OperationalError), transaction(conn):
        if check(conn, key, required=False):
            return  # another process adopted it first
        rows = conn.execute(
            "SELECT seq, encryption_key, signing_key, key_file FROM reviewer_keys WHERE NOT retired"
        ).fetchall()
        for seq, encryption, signing, key_file in rows:
            to = _recipient(keys_dir, key, encryption, signing, key_file)
            if to is not None:
                conn.execute(
                    "UPDATE reviewer_keys SET wrapped = ? WHERE seq = ?",
                    (key.wrap_for(to), seq),
                )
        escalations.seal_legacy(conn, key)  # as the head is tagged in form 5
        put(conn, key)  # and the head with it


def _recipient(
    keys_dir: Path, key: WorkspaceKey, encryption: str, signing: str, key_file: str
) -> PublicKey | HybridPublicKey | None:
    """The key to wrap to for a row (its file's X-Wing key for a hybrid key), or None."""
    public = PublicKey.from_text(encryption)
    if not key.is_hybrid:
        return public
    try:
        file = KeyFile.from_bytes(read_quietly(keys_dir / key_file))
    except (OSError, CryptoError):
        return None
    if (file.encryption_public, file.signing_public) != (public, VerifyKey.from_text(signing)):
        return None  # not the key its row enrolled: it keeps the wrap it had
    return file.hybrid_public


def _current(conn: sqlite3.Connection) -> dict[str, list[list[Any]]]:
    keys = [list(r) for r in conn.execute(_KEYS).fetchall()]
    reviewers = [list(r) for r in conn.execute("SELECT id, role FROM reviewers ORDER BY id")]
    return {"keys": keys, "reviewers": reviewers}


def _compare(listed: dict[str, Any], current: dict[str, list[list[Any]]]) -> None:
    """Name the first row that differs from the roster."""
    known = {row[0]: row for row in listed["keys"]}
    for row in current["keys"]:
        seq, reviewer = row[0], row[1]
        if seq not in known:
            raise UnlockError(
                f"the key numbered {seq} (reviewer {reviewer!r}) is in the database but is not"
                " one this workspace's tool enrolled: it was added on this disk",
                hint=_HINT,
            )
        if known.pop(seq) != row:
            raise UnlockError(
                f"the key numbered {seq} (reviewer {reviewer!r}) is not as this workspace's tool"
                " enrolled it: it was altered on this disk",
                hint=_HINT,
            )
    for seq, row in sorted(known.items()):
        raise UnlockError(
            f"the key numbered {seq} (reviewer {row[1]!r}) was removed from the database",
            hint=_HINT,
        )
    roles = {row[0]: row[1] for row in listed["reviewers"]}
    for reviewer, role in current["reviewers"]:
        if reviewer not in roles:
            raise UnlockError(
                f"reviewer {reviewer!r} is in the database but is not one this workspace's"
                " tool enrolled: it was added on this disk",
                hint=_HINT,
            )
        if roles.pop(reviewer) != role:
            raise UnlockError(
                f"reviewer {reviewer!r} holds the role {role!r} on this disk, which this"
                " workspace's tool did not give: it was altered on this disk",
                hint=_HINT,
            )
    for reviewer in sorted(roles):
        raise UnlockError(f"reviewer {reviewer!r} was removed from the database", hint=_HINT)


def _altered() -> UnlockError:
    return UnlockError(
        "this workspace's list of keys in service was altered on this disk", hint=_HINT
    )
