"""Drafts a command left when it locked: sealed in `meta`, opened again by the next one.

A command that waits too long for its reviewer (`review.cli.idle`) ends, and with it
the process holding what they were writing: a reply, a note, an escalation's summary.
So that ending loses nothing, what was written is sealed here under the workspace key,
one record for the whole workspace (`meta` row `drafts`: which reports have a draft is
not written in the clear), and the next command that opens the editor for the same
thing starts from it; once that command succeeds the draft is dropped. The key is
each reviewer's with the draft's slot (`reply:3`): one reviewer's draft is not
opened by another's command.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Final

from crypto.encoding import b64decode, b64encode
from crypto.errors import CryptoError
from review.errors import ReviewError
from review.workspace.schema import transaction

if TYPE_CHECKING:
    from review.workspace import Unlocked

DRAFTS: Final = "drafts"
_CONTEXT: Final = b"drafts"


def read(u: Unlocked, slot: str) -> str:
    """The acting reviewer's draft for `slot`, or "" when none was left."""
    return _load(u).get(_key(u, slot), "")


def keep(u: Unlocked, texts: Mapping[str, str]) -> None:
    """Seal the acting reviewer's drafts (slot to text) into the workspace, in one write."""
    with transaction(u.conn):
        drafts = _load(u)
        drafts.update({_key(u, slot): text for slot, text in texts.items()})
        _store(u, drafts)


def drop(u: Unlocked, slots: Collection[str]) -> None:
    """Forget the acting reviewer's drafts for `slots` (those a command has now used)."""
    drafts = _load(u)
    if not any(_key(u, slot) in drafts for slot in slots):
        return
    with transaction(u.conn):
        drafts = _load(u)
        for slot in slots:
            drafts.pop(_key(u, slot), None)
        _store(u, drafts)


def _key(u: Unlocked, slot: str) -> str:
    return f"{u.reviewer}/{slot}"


def _load(u: Unlocked) -> dict[str, str]:
    row = u.conn.execute("SELECT value FROM meta WHERE key = ?", (DRAFTS,)).fetchone()
    if row is None:
        return {}
    try:
        # Sealed before a rewrap, a draft still opens under the earlier key it keeps.
        found = json.loads(u.open_old_record(b64decode(row[0]), _CONTEXT))
    except (CryptoError, ValueError) as exc:
        raise ReviewError(
            "the drafts left in this workspace do not open",
            hint="the workspace may be damaged: run `raazdar-review audit verify`",
        ) from exc
    return {str(k): str(v) for k, v in found.items()}


def _store(u: Unlocked, drafts: Mapping[str, str]) -> None:
    if not drafts:
        u.conn.execute("DELETE FROM meta WHERE key = ?", (DRAFTS,))
        return
    sealed = u.key.seal_record(json.dumps(dict(drafts), ensure_ascii=False).encode(), _CONTEXT)
    u.conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (DRAFTS, b64encode(sealed)),
    )
