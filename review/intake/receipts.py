"""Which reply bundles the server applied, which it never confirmed, and which are voided.

Each export bundle of format 3 carries receipts: the ids of every reply bundle the
server has applied. Importing one marks each reply bundle written here that it
names as confirmed (`reply_bundles.confirmed`, the export bundle's id). A reply
bundle that an export bundle made on a later day does not name was not applied
when that bundle was made: lost on the way, or still waiting at the server. So
is one that an export bundle of the same day leaves out while it names a reply
bundle written here after it: that one was applied before the export was made,
and sticks go in the order they were written. It is reported, like a missing
export bundle (`review.intake.exports`), at each import and each `list`, until
a receipt names it or it is taken back.

Every reply bundle written here keeps its row, so a receipt naming one this
workspace has no record of writing shows a later state of this workspace than
the one on the disk: its database put back from an older copy (`unknown`),
which no signature or tag inside it can tell. Each import says so.

A reply bundle confirmed by one export bundle and missing from the receipts of a
later one (by number) was forgotten by the server: put back from a backup made
before it was applied (deploy/README.md, "Restore"). The reports it acknowledged
are back on the server, unacknowledged, and its replies are gone from it. The
import acknowledges those reports again in the next reply bundle, so the server
deletes them again, and names the bundle (`forgotten`), whose replies
`exchange take-back` sends again.

Taking a bundle back keeps its row (`taken_back`, and the replies it `carried`);
every later reply bundle voids it (`crypto.exchange.Void`) until one that did
is confirmed (`reply_voids`): the server then refuses the voided bundle if it is
handed in, or, if it had applied it after all, posts none of its replies twice.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from crypto.exchange import ExportManifest, Void
from review.errors import ReviewError
from review.intake import exports

_SAFE: Final = (
    "ask the carrier first: a bundle still on its way, or waiting to be applied, needs "
    "nothing; taking it back is safe either way: the next reply bundle voids it, so the "
    "server refuses it if it turns up, and posts nothing twice that it had posted"
)


@dataclass(frozen=True)
class Unconfirmed:
    """A reply bundle written here that a later export bundle does not confirm."""

    bundle_id: str
    replies: int
    acks: int
    written: dt.date
    # The newest export bundle made on a later day, which should have named it.
    sequence: int
    made: dt.date

    def message(self) -> str:
        """Say which bundle the server has not confirmed, and what to do if it was lost."""
        return (
            f"reply bundle {self.bundle_id} ({self.replies} replies, {self.acks} acks) "
            f"written on {self.written.isoformat()} is not confirmed by the server in bundle "
            f"{self.sequence} made on {self.made.isoformat()}: if it was lost, "
            f"`exchange take-back {self.bundle_id}` and export replies again"
        )

    @staticmethod
    def hint() -> str:
        """What to do about a bundle not confirmed."""
        return _SAFE


@dataclass(frozen=True)
class AppliedAfterAll:
    """A bundle taken back that a receipt shows the server had applied."""

    bundle_id: str
    # Replies withdrawn from it at take-back: they reached their sources all the same.
    withdrawn: int

    def message(self) -> str:
        """Say that the bundle was applied, and what that means for what was withdrawn."""
        reached = (
            f"the {self.withdrawn} reply(ies) withdrawn from it reached their sources"
            if self.withdrawn
            else "nothing was withdrawn from it"
        )
        return (
            f"reply bundle {self.bundle_id}, taken back, had been applied by the server: "
            f"{reached}; the server posts none of its replies twice"
        )


@dataclass(frozen=True)
class Unknown:
    """Reply bundles the server confirms that this workspace has no record of writing."""

    bundle_ids: tuple[str, ...]

    def message(self) -> str:
        """Say what the receipts show of this workspace, and the other thing they may be."""
        return (
            "the server confirms reply bundle(s) this workspace has no record of writing"
            f" ({', '.join(self.bundle_ids)}): this workspace's database was put back from an"
            " older copy, and what was done here since (replies, notes, decisions, imports) is"
            " gone from it; or a reviewer's key signed a reply bundle outside this workspace"
            " (a key file used elsewhere, a colleague about to be revoked): unsealed by this"
            " workspace's key, the server applied it only while it held no workspace key, and"
            " its acknowledgements deleted nothing (the server keeps what they named and an"
            " export names it), unless the server took another workspace key's seal; or the"
            " server names bundles nobody wrote here"
        )

    @staticmethod
    def hint() -> str:
        """What to do about it."""
        return _ROLLED_BACK


_ROLLED_BACK: Final = (
    "unless this workspace was started again or restored from a backup on purpose (then"
    " this repeats at each import), import and write nothing here: restore it from a copy"
    " you trust, have the disk examined, and tell the administrators and the oversight body;"
    " if nothing was put back, ask the administrators which reviewer's key signed that bundle"
    ' (docs/REVIEW.md, "Reply bundles the server has not confirmed")'
)


@dataclass(frozen=True)
class Forgotten:
    """A reply bundle the server had confirmed and no longer names: put back from a backup."""

    bundle_id: str
    replies: int
    acks: int
    # The export bundle that had confirmed it, and the later one that does not.
    confirmed_by: int
    sequence: int

    def message(self) -> str:
        """Say what the server forgot, and what the next exchange does about it."""
        return (
            f"the server no longer confirms reply bundle {self.bundle_id}, which its bundle "
            f"{self.confirmed_by} confirmed (bundle {self.sequence} does not): it was put back "
            "from a backup, or its records undone; the "
            f"{self.acks} report item(s) that bundle acknowledged are back on it, and the next"
            f" `exchange export` acknowledges them again; its {self.replies} reply(ies) are gone"
            f" from it: `exchange take-back {self.bundle_id}` and export to send them again"
        )

    @staticmethod
    def hint() -> str:
        """What to ask before sending the replies again."""
        return _FORGOTTEN


_FORGOTTEN: Final = (
    "ask the administrators whether the server was restored; a reply its source had read and"
    " deleted is back for whoever logs in with the codename if sent again, so send again only"
    " what the source still needs"
)


@dataclass(frozen=True)
class Restored:
    """A restore of the server between two exports imported here (export format 8)."""

    after: int
    sequence: int
    count: int
    # The reply bundles written here this export does not confirm: (id, replies, acks).
    unconfirmed: tuple[tuple[str, int, int], ...]

    def message(self) -> str:
        """Say that the server was restored, and what written here it may have lost."""
        said = (
            f"the server was put back from a backup between bundle {self.after} and bundle "
            f"{self.sequence} (its restore {self.count}): whatever it applied after that "
            "backup was made is gone from it, and the replies the backup held were deleted "
            "(one a source had deleted since would be back, readable with the codename): "
            "write again only what a source still needs"
        )
        if not self.unconfirmed:
            return (
                f"{said}; every reply bundle written here that is not taken back is confirmed "
                f"by bundle {self.sequence}, so nothing sent from here is missing from it"
            )
        lost = "; ".join(
            f"reply bundle {bundle} ({replies} reply(ies), {acks} ack(s))"
            for bundle, replies, acks in self.unconfirmed
        )
        commands = " and ".join(f"`exchange take-back {b}`" for b, _, _ in self.unconfirmed)
        return (
            f"{said}. Not confirmed by bundle {self.sequence}, lost with the restore if they "
            f"were handed in before it, and refused by the server now: {lost}. To send their "
            f"replies and acknowledgements again: {commands}, then `exchange export`"
        )

    @staticmethod
    def hint() -> str:
        """What to ask before sending again."""
        return _RESTORED


_RESTORED: Final = (
    "ask the administrators, not through the server, when they restored it and from which"
    " day's backup: a bundle written here before this import names the server's restore"
    " before that one, and the server refuses it whether or not it was handed in (reply"
    " format 6), so take each one named back; the next reply bundle voids it, so the server"
    " posts nothing twice"
)


def restored(conn: sqlite3.Connection, manifest: ExportManifest) -> Restored | None:
    """A restore between this export and the one before it here, and what it may have lost.

    After `confirm` (inside the import's transaction): what stays unconfirmed is named.
    """
    after = exports.restored_before(conn, manifest)
    if after is None or manifest.chain is None or manifest.restore is None:
        return None
    rows = conn.execute(
        "SELECT id FROM reply_bundles WHERE confirmed IS NULL AND taken_back IS NULL ORDER BY rowid"
    ).fetchall()
    unconfirmed = tuple(
        (
            bundle,
            _count(conn, "SELECT count(*) FROM replies WHERE exported_in = ?", bundle),
            _count(conn, "SELECT count(*) FROM items WHERE acked_in = ?", bundle),
        )
        for (bundle,) in rows
    )
    return Restored(after, manifest.chain.sequence, manifest.restore.count, unconfirmed)


def forgotten(conn: sqlite3.Connection, manifest: ExportManifest) -> list[Forgotten]:
    """Re-queue the acks of reply bundles an earlier export confirmed and this one does not.

    Inside the import's transaction. Only an export numbered after the one that
    confirmed a bundle judges it: an older export imported late never named it.
    A server that drops receipts on purpose gains nothing: the acks it makes the
    workstation send again delete ciphertext the workspace already holds.
    """
    if manifest.receipts is None or manifest.chain is None:
        return []
    numbers = {s.bundle_id: s.sequence for s in exports.seen(conn).values()}
    named = set(manifest.receipts)
    rows = conn.execute(
        "SELECT id, confirmed FROM reply_bundles WHERE confirmed IS NOT NULL"
        " AND taken_back IS NULL ORDER BY rowid"
    ).fetchall()
    found = []
    for bundle_id, confirmed in rows:
        by = numbers.get(confirmed)
        if bundle_id in named or by is None or by >= manifest.chain.sequence:
            continue
        acks = conn.execute("UPDATE items SET acked_in = NULL WHERE acked_in = ?", (bundle_id,))
        conn.execute("UPDATE reply_bundles SET confirmed = NULL WHERE id = ?", (bundle_id,))
        replies = _count(conn, "SELECT count(*) FROM replies WHERE exported_in = ?", bundle_id)
        found.append(Forgotten(bundle_id, replies, acks.rowcount, by, manifest.chain.sequence))
    return found


def unknown(conn: sqlite3.Connection, manifest: ExportManifest) -> Unknown | None:
    """The receipts naming a reply bundle this workspace never wrote, if any.

    Every reply bundle written here keeps its row (taken back or not), so one the
    server applied and this workspace does not know was written by a later state
    of this workspace than the one on the disk: an older copy put back.
    """
    if not manifest.receipts:
        return None
    rows = conn.execute(
        "SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM reply_bundles)"
        " ORDER BY value",
        (json.dumps(list(manifest.receipts)),),
    ).fetchall()
    return Unknown(tuple(r[0] for r in rows)) if rows else None


def confirm(conn: sqlite3.Connection, manifest: ExportManifest) -> list[AppliedAfterAll]:
    """Mark the reply bundles the receipts name as confirmed (inside the import's transaction).

    Returns those among them that had been taken back.
    """
    if not manifest.receipts:
        return []
    named = json.dumps(list(manifest.receipts))
    rows = conn.execute(
        "SELECT id, carried FROM reply_bundles WHERE confirmed IS NULL"
        " AND taken_back IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
        (named,),
    ).fetchall()
    conn.execute(
        "UPDATE reply_bundles SET confirmed = ? WHERE confirmed IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        (manifest.bundle_id, named),
    )
    return [AppliedAfterAll(bundle, _withdrawn(conn, carried)) for bundle, carried in rows]


def unconfirmed(conn: sqlite3.Connection) -> list[Unconfirmed]:
    """Reply bundles written here that an export bundle made on a later day does not confirm,
    or one that confirms a reply bundle written here after them."""
    with_receipts = [s for s in exports.seen(conn).values() if s.receipts and s.created]
    rows = conn.execute(
        "SELECT rowid, id, created, confirmed, taken_back FROM reply_bundles ORDER BY rowid"
    ).fetchall()
    sequences = {s.bundle_id: s.sequence for s in with_receipts}
    found = []
    for rowid, bundle_id, written_text, confirmed, taken_back in rows:
        if confirmed is not None or taken_back is not None:
            continue
        written = dt.date.fromisoformat(written_text)
        # The export that confirmed a bundle written after this one was made once that one
        # was applied, and this one not: the same day tells nothing, this order does.
        after = [sequences[r[3]] for r in rows if r[0] > rowid and r[3] in sequences]
        later = [
            (s.sequence, s.created)
            for s in with_receipts
            if s.created and (s.created > written or (after and s.sequence >= min(after)))
        ]
        if not later:
            continue
        sequence, made = max(later)
        replies = _count(conn, "SELECT count(*) FROM replies WHERE exported_in = ?", bundle_id)
        acks = _count(conn, "SELECT count(*) FROM items WHERE acked_in = ?", bundle_id)
        found.append(Unconfirmed(bundle_id, replies, acks, written, sequence, made))
    return sorted(found, key=lambda u: (u.written, u.bundle_id))


def check_take_back(conn: sqlite3.Connection, bundle_id: str) -> None:
    """Refuse to take back a bundle the server confirmed, or one taken back already."""
    row = conn.execute(
        "SELECT confirmed, taken_back FROM reply_bundles WHERE id = ?", (bundle_id,)
    ).fetchone()
    if row is None:
        return
    confirmed, taken_back = row
    if confirmed is not None:
        raise ReviewError(
            f"reply bundle {bundle_id} was applied by the server (export bundle {confirmed} "
            "confirmed it): there is nothing to take back",
            hint="its replies reached their sources; write a new reply to correct one",
        )
    if taken_back is not None:
        raise ReviewError(f"reply bundle {bundle_id} was taken back on {taken_back} already")


def taken_back(conn: sqlite3.Connection, bundle_id: str, replies: Sequence[str]) -> None:
    """Remember a bundle taken back, and the replies it carried, for later bundles to void."""
    conn.execute(
        "UPDATE reply_bundles SET taken_back = date('now'), carried = ? WHERE id = ?",
        (json.dumps(sorted(replies)), bundle_id),
    )


def pending_voids(conn: sqlite3.Connection) -> tuple[Void, ...]:
    """Bundles taken back that no reply bundle the server confirmed has voided yet."""
    rows = conn.execute(
        "SELECT b.id, b.carried FROM reply_bundles b WHERE b.taken_back IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM reply_voids v JOIN reply_bundles c"
        " ON c.id = v.carried_in WHERE v.bundle = b.id AND c.confirmed IS NOT NULL)"
        " ORDER BY b.taken_back, b.id"
    ).fetchall()
    return tuple(Void(bundle, tuple(json.loads(carried or "[]"))) for bundle, carried in rows)


def voided_in(conn: sqlite3.Connection, voids: Sequence[Void], bundle_id: str) -> None:
    """Record that a reply bundle voids these (inside its export's transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO reply_voids VALUES (?, ?)", [(v.bundle, bundle_id) for v in voids]
    )


def _withdrawn(conn: sqlite3.Connection, carried: str | None) -> int:
    """How many of the replies a bundle carried were withdrawn (deleted) when taken back."""
    ids = json.loads(carried or "[]")
    query = "SELECT count(*) FROM replies WHERE id IN (SELECT value FROM json_each(?))"
    kept = _count(conn, query, json.dumps(ids))
    return len(ids) - kept


def _count(conn: sqlite3.Connection, query: str, value: str) -> int:
    return int(conn.execute(query, (value,)).fetchone()[0])
