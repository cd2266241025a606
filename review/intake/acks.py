"""Acknowledgements the server held: a reply bundle this workspace's key did not seal.

Every reply bundle written here is sealed whole by the workspace's
acknowledgement key (`crypto.workspace.WorkspaceKey.ack_key`, reply format 5), and
each earlier workspace key hands over to it (which only a demonstration server
follows: a real one takes a new key from its administrators). A server holding that key refuses
any other bundle whole (a reviewer's key file used away from this workstation, a
colleague with an export stick nobody imported). Before it holds one (an
upgrade), what an unsealed bundle acknowledges it keeps, exports again and names
in every export (format 7: `AckState`). At import of the newest-numbered export (a
late one names what the server held then), the items it names are acknowledged
again here (the next bundle, sealed, deletes them), and those this workspace
never acknowledged are named: a bundle signed elsewhere tried to delete them. A
server holding another key than this workspace's (a workspace started again,
restored from a copy older than a rewrap, or a key given by another bundle
before this workstation's first), an earlier key of this workspace (a rewrap
the administrators have not given the server yet), or none yet, is named with
the key to give it (`raazdar set-ack-key`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

from crypto import SigningKey, VerifyKey
from crypto.exchange import AckState
from review.workspace import Unlocked


def ack_keys(u: Unlocked) -> tuple[SigningKey, tuple[SigningKey, ...]]:
    """The key that seals this workspace's acknowledgements, and those of its earlier keys."""
    return u.key.ack_key(), tuple(k.ack_key() for k in u.history)


@dataclass(frozen=True)
class Held:
    """Items the server kept though a reply bundle acknowledged them."""

    # Acknowledged by no bundle of this workspace: a bundle signed elsewhere did.
    foreign: tuple[str, ...]
    # Of those, the ones not here yet: the next export (or a resend) brings them.
    missing: int
    # Acknowledged here by a bundle the server did not take the seal of, or had not applied
    # yet (a second export before it came): acknowledged again, which deletes nothing twice.
    again: int

    def message(self) -> str:
        """Say what the server kept, and why that matters."""
        parts = []
        if self.foreign:
            parts.append(
                f"the server kept {len(self.foreign)} item(s) a reply bundle this workspace did "
                "not write acknowledged, to delete them ("
                + ", ".join(self.foreign)
                + "): a reviewer's key signed it away from this workstation (a key file used "
                "elsewhere, a colleague about to be revoked); unsealed by this workspace's key, "
                "it deleted nothing"
                + (
                    f"; {self.missing} of them are not here yet: the next export brings them"
                    if self.missing
                    else ""
                )
            )
        if self.again:
            parts.append(
                f"the server kept {self.again} item(s) this workspace acknowledged in a bundle "
                "it did not take the seal of (one written before the seal, or under a key it "
                "does not hold) or had not yet applied when it exported: the next reply bundle "
                "acknowledges them again"
            )
        return "; ".join(parts)

    def hint(self) -> str:
        """What to do about it."""
        if not self.foreign:
            return "export replies as usual: its seal deletes them"
        return _FOREIGN_HINT


_FOREIGN_HINT: Final = (
    "read the reports those items hold; ask the administrators which reviewer's key signed"
    " the reply bundle this workspace has no record of writing (the receipts name it), and"
    " have that key revoked; tell the oversight body, not through the server"
)


def settle(u: Unlocked, state: AckState | None) -> Held | None:
    """Acknowledge again what the server held and name what nobody here acknowledged.

    In the import's transaction, after its items are filed.
    """
    if state is None or not state.held:
        return None
    conn: sqlite3.Connection = u.conn
    foreign, missing, again = [], 0, 0
    for item_id in state.held:
        row = conn.execute("SELECT acked_in FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            foreign.append(item_id)
            missing += 1
        elif row[0] is None:
            foreign.append(item_id)
        else:
            again += 1
            conn.execute("UPDATE items SET acked_in = NULL WHERE id = ?", (item_id,))
    return Held(tuple(foreign), missing, again)


@dataclass(frozen=True)
class OtherKey:
    """The server deletes only what another workspace key seals than this workspace's."""

    # None: the server holds no key yet, and refuses every bundle until it is given one.
    server: VerifyKey | None
    ours: VerifyKey
    # The server's key is one of this workspace's from before a rewrap.
    earlier: bool = False

    def message(self) -> str:
        """Say what it means: this workspace's bundles are refused, or anyone's may speak."""
        if self.server is not None and self.earlier:
            return (
                f"the server still holds this workspace's key from before a rewrap "
                f"({self.server.fingerprint}), not its key now ({self.ours.fingerprint}): a "
                "real server refuses this workspace's reply bundles until the administrators "
                "give it the new key, and until then applies what the earlier key seals, "
                "whoever copied it (a reviewer the rewrap removed); a demonstration takes the "
                "new key from the next bundle"
            )
        if self.server is None:
            return (
                "the server holds no workspace key yet: it refuses every reply bundle until "
                "the administrators give it this workspace's key (a demonstration takes the "
                "key of the first sealed bundle to reach it, whoever sealed it)"
            )
        return (
            f"the server applies only what workspace key {self.server.fingerprint} seals, not "
            f"this workspace's ({self.ours.fingerprint}): it refuses this workspace's reply "
            "bundles whole; this workspace was started again or put back from a copy older "
            "than its key, or a bundle sealed by another key reached the server before this "
            "workstation's first"
        )

    def hint(self) -> str:
        """What the administrators do, with the key to give the server."""
        key = self.ours.to_text()
        if self.server is None:
            return (
                f"the administrators give it at the server's console: `raazdar set-ack-key {key}`"
            )
        if self.earlier:
            return (
                f"the administrators give it now, at the server's console: `raazdar set-ack-key "
                f"{key}`, and hand in again the reply bundles it refused"
            )
        return (
            "unless you know why, tell the oversight body; the administrators give the "
            f"server this workspace's key at its console: `raazdar set-ack-key {key}`, "
            "and hand in again the reply bundles it refused"
        )


def other_key(u: Unlocked, state: AckState | None) -> OtherKey | None:
    """The server's acknowledgement key, if it is none of this workspace's, or it holds none."""
    if state is None:
        return None  # an export older than format 7: a server older than the seal
    if state.key is None:
        return OtherKey(None, ack_keys(u)[0].verify_key)
    current, earlier = ack_keys(u)
    if state.key == current.verify_key:
        return None
    # An earlier key: a real server takes no handover, so it waits for the administrators.
    before = state.key in {k.verify_key for k in earlier}
    return OtherKey(state.key, current.verify_key, earlier=before)
