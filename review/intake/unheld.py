"""Replies a source's device cannot open: its signed word, carried by an export (format 6).

`raazdar-submit` signs, with the codename's key, that its state holds no secret
of the one-time prekey a reviewer's reply is sealed to (a phone wiped or a state
put back from a copy): that reply will never be read. The server cannot sign
this for the source and cannot open the reply, so a statement counts only if
its signer is the one that signed that prekey here. Each one names the reply,
and retires every unused prekey of the source filed with it or before it: the
state that lost one lost those too, and a reply sealed to one would be lost the
same way, in silence.

A reply the server held before it was put back from a backup (its bundle
confirmed by an export bundle before the one that resumed the chain,
`exports.audit_restored`) and that the device now cannot open is most likely
one its source read and deleted since the backup: the device forgets a reply's
key when the reply is deleted, and the restore brought the reply back. That is
said instead of "write it again", which would send again what the source chose
not to keep (sealed to their codename's key, if no one-time key is left).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from crypto import read_header
from crypto.binding import UnheldPrekey
from crypto.errors import CryptoError
from crypto.hybrid import HybridPublicKey
from review.intake import exports
from review.workspace import Unlocked, outbox


@dataclass(frozen=True)
class Unread:
    """A reply to report `report` that its source's device says it cannot open."""

    report: int
    source: str
    key_id: str
    replies: tuple[str, ...]  # the replies here sealed to that prekey
    retired: int  # unused prekeys of the source retired with it
    # The bundle that resumed the chain after a restore that brought the reply back, if any.
    restored: int | None = None

    def message(self) -> str:
        """Say what is lost, and what to do."""
        which = ", ".join(self.replies) if self.replies else "not found here"
        retired = (
            f"; {self.retired} unused one-time key(s) given with it or before are retired"
            if self.retired
            else ""
        )
        if self.restored is not None:
            return (
                f"report {self.report}'s source says, signed with their key, that their device"
                f" cannot open the reply sealed to one-time key {self.key_id} (reply {which}),"
                " which the server held before it was put back from a backup (bundle"
                f" {self.restored} resumed the chain): most likely the source read it and"
                " deleted it since the backup, their device forgot its key when they deleted"
                " it, and the restore brought it back to the server, where no one can open it"
                f"{retired}. Do not write it again unless the source asks, or you know they"
                " never read it: they chose not to keep it (a device wiped or put back from a"
                " copy since the restore says the same, and then the reply is lost)"
            )
        return (
            f"report {self.report}'s source says, signed with their key, that their device"
            f" cannot open the reply sealed to one-time key {self.key_id} (reply {which}): its"
            f" state was wiped or put back from a copy, or they read on another device. That"
            f" reply will never be read{retired}. If it still matters, write it again: `reply"
            f" {self.report}` takes a newer key of theirs, if any; a reply sealed to their"
            " codename's key (`--allow-codename-key`) is NOT forward-secret"
        )


@dataclass(frozen=True)
class Forged:
    """Statements naming a prekey filed here that its source's key did not sign."""

    key_ids: tuple[str, ...]

    def message(self) -> str:
        """Say what the server passed on."""
        return (
            f"the server passes on {len(self.key_ids)} statement(s) that a source cannot open a"
            f" reply ({', '.join(self.key_ids)}) not signed by the key that gave that one-time"
            " key: they are ignored; the server, or whoever wrote its database, made them"
        )


def settle(u: Unlocked, statements: Iterable[UnheldPrekey]) -> tuple[list[Unread], Forged | None]:
    """Name each reply a verified statement says is lost; retire the prekeys lost with it.

    Runs inside the caller's transaction. A statement naming no prekey filed here
    (another workspace's, or one gone) says nothing.
    """
    wanted = {s.key_id: s for s in statements}
    if not wanted:
        return [], None
    rows = u.conn.execute("SELECT source, report, signer, key FROM reply_prekeys").fetchall()
    unread, forged = [], []
    for source, report, signer, key in rows:
        key_id = HybridPublicKey.from_text(key).fingerprint.key_id
        statement = wanted.get(key_id)
        if statement is None:
            continue
        try:
            statement.verify()
            if statement.signer.to_text() != signer:
                raise CryptoError("another signer")
        except CryptoError:
            forged.append(key_id.hex())
            continue
        retired = u.conn.execute(
            "UPDATE reply_prekeys SET used = 1"
            " WHERE source = ? AND signer = ? AND used = 0 AND seq <= ("
            "  SELECT max(seq) FROM reply_prekeys WHERE report = ? AND signer = ?)",
            (source, signer, report, signer),
        ).rowcount
        sealed = _sealed_to(u, source, key_id)
        unread.append(Unread(report, source, key_id.hex(), sealed, retired, _restored(u, sealed)))
    return unread, Forged(tuple(sorted(forged))) if forged else None


def _restored(u: Unlocked, replies: tuple[str, ...]) -> int | None:
    """The bundle that resumed the chain after a restore that brought one of `replies` back.

    A reply whose bundle an export bundle numbered before the resumed one confirmed, and
    that no later export forgot (`receipts.forgotten` clears the confirmation), was on the
    server when its backup was made, so the restore put it back.
    """
    resumed = [r.resumed for r in exports.audit_restored(u.conn)]
    if not resumed or not replies:
        return None
    numbers = {s.bundle_id: s.sequence for s in exports.seen(u.conn).values()}
    confirmed = [
        numbers[row[0]]
        for reply_id in replies
        for row in u.conn.execute(
            "SELECT b.confirmed FROM replies r JOIN reply_bundles b ON r.exported_in = b.id"
            " WHERE r.id = ? AND b.confirmed IS NOT NULL AND b.taken_back IS NULL",
            (reply_id,),
        )
        if row[0] in numbers
    ]
    after = [n for n in resumed if any(c < n for c in confirmed)]
    return max(after) if after else None


def _sealed_to(u: Unlocked, source: str, key_id: bytes) -> tuple[str, ...]:
    """The replies here to `source` sealed to the prekey with this key id."""
    found = []
    for reply_id, name in u.conn.execute(
        "SELECT id, envelope FROM replies WHERE source = ? ORDER BY id", (source,)
    ):
        try:
            header = read_header(io.BytesIO(outbox.envelope(u, name)))
        except CryptoError:
            continue
        if any(stanza.key_id == key_id for stanza in header.stanzas):
            found.append(reply_id)
    return tuple(found)
