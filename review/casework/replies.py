"""Replies to sources, and the reply bundle that carries them back with acks and notices.

A reply is sealed at once, with the day it was written (`crypto.reply`), and
signed by the reviewer who wrote it: to the
newest unused one-time prekey the source's device gave (an envelope v2, marked
used in the same transaction, `review.casework.prekeys`), or, for a source with
no prekeys, to the source's codename key (from the export bundle that brought
the report), which is not forward-secret. When a source's prekeys are all
used, the codename key is taken only if the reviewer says so
(`allow_codename_key`); a reply withdrawn later does not free its prekey. The
envelope waits in the outbox wrapped to the workspace key (`review.workspace.outbox`:
as it is, the source's codename would open it from a seized disk), and the
workspace keeps a sealed copy of the text for the report's history.
`export_replies` writes a bundle signed by the unlocked reviewer with that
reviewer's replies, unwrapped in memory, every pending status notice and an
acknowledgement of every item filed since the last bundle, sealed by the
workspace's own key so that the server deletes that ciphertext (and nothing a
reviewer's key file alone acknowledges, `review.intake.acks`). The bundle is
written beside its target and renamed into place only once the workspace has
recorded it.

The server applies a reply bundle whole or not at all. When it refuses one
(a reply to a source that has expired there, say), or it never arrived,
`take_back` returns the bundle's replies, notices and acknowledgements to the
queue, less the replies and notices the reviewer withdraws, so that the next
bundle carries them, and voids the bundle taken back (`review.intake.receipts`):
so the wrapped envelopes stay after export, and go only with a withdrawn reply.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crypto import HybridPublicKey, PublicKey, VerifyKey, seal_bytes
from crypto.envelope.metadata import KeyringSeen
from crypto.errors import CryptoError
from crypto.exchange import (
    ReplyEntry,
    ReplyManifest,
    new_bundle_id,
    read_replies,
    seal_replies,
    write_replies,
)
from crypto.reply import reply_content
from review.casework import notices, prekeys, triage
from review.casework.reports import reply_context
from review.errors import InvalidValue, NotFound, ReviewError
from review.intake import acks as acks_held
from review.intake import exports, receipts
from review.workspace import Unlocked, audit, flush_names, outbox
from review.workspace.erase import destroy, discard
from review.workspace.schema import transaction

_MAX_REPLY_CHARS = 20_000


@dataclass(frozen=True)
class ExportSummary:
    """What a reply bundle carries."""

    bundle_id: str
    replies: int
    notices: int
    acks: int
    waiting: int
    held: int = 0  # this reviewer's replies to disputed sources: kept here, never sent
    # The sources it answers or sends a notice to, named in it to anyone who reads it.
    sources: int = 0
    # Bundles recorded here that an export cut short left under their `.part` name.
    left: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Queued:
    """A reply sealed and queued: its id, and whether it went to a one-time prekey."""

    reply_id: str
    forward_secret: bool
    # Prekeys a further reply to this report could still use; None if it brought none.
    prekeys_left: int | None
    # The day sealed in it as the day it was written: this workstation's UTC day.
    written: dt.date | None = None
    # The newest export bundle's day, when it is after `written`: this clock is behind.
    clock_behind: dt.date | None = None


def _keyring_here(u: Unlocked) -> KeyringSeen | None:
    """The keyring in force here, as a reply names it; None before the first is installed."""
    signed = u.workspace.keyring()
    if signed is None:
        return None
    return KeyringSeen(signed.manifest.version, signed.manifest.digest())


def queue_reply(u: Unlocked, num: int, text: str, *, allow_codename_key: bool = False) -> Queued:
    """Seal and sign a reply to the source of report `num`, to a prekey if there is one.

    Raises `NoPrekeyLeft` when the source gave prekeys and all are used, unless
    `allow_codename_key`: then it is sealed to the codename key, not forward-secret.
    """
    text = text.strip()
    if not text:
        raise InvalidValue("a reply cannot be empty")
    if len(text) > _MAX_REPLY_CHARS:
        raise InvalidValue(f"a reply is at most {_MAX_REPLY_CHARS} characters")
    triage.load_state(u, num)
    source, key_text = refuse_disputed(u.conn, num)
    reply_id = new_bundle_id()
    # When it was written, sealed: the order the report's replies are shown in. Its row's
    # rowid is drawn at random, as blobs' are: counted up, read beside each reply's report in
    # the clear, it said in which order the sources were answered.
    body = json.dumps(
        {"author": u.reviewer, "text": text, "written_ns": time.time_ns()}, ensure_ascii=False
    ).encode("utf-8")
    # Sealed with the text, the day (UTC, as the server's days) lets the source tell an
    # old reply a server lists again under a later day; a day only, never a time of day.
    written = dt.datetime.now(dt.UTC).date()
    # And the keyring in force here: a device its server showed another sees it (format 3).
    content, metadata = reply_content(text, written, _keyring_here(u))
    # The prekey is chosen, sealed to and marked used under one write lock, and the
    # envelope is kept (wrapped) in the same transaction: all of it, or nothing.
    with transaction(u.conn) as conn:
        prekey = _prekey(conn, num, allow_codename_key)
        recipient: PublicKey | HybridPublicKey = prekey or PublicKey.from_text(key_text)
        envelope = seal_bytes(content, [recipient], metadata, signer=u.signing)
        conn.execute(
            "INSERT INTO replies (rowid, id, report, source, signer, envelope, sealed, exported_in)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                secrets.randbits(62) + 1,
                reply_id,
                num,
                source,
                u.signing.verify_key.to_text(),
                outbox.keep(u, envelope),
                u.key.seal_record(body, reply_context(reply_id)),
            ),
        )
        detail = {"reply": reply_id, "text": text, "forward_secret": prekey is not None}
        audit.append(u, "reply", num, detail)
    left = prekeys.left(u.conn, num)
    return Queued(reply_id, prekey is not None, left, written, clock_behind(u.conn, written))


def clock_behind(conn: sqlite3.Connection, today: dt.date) -> dt.date | None:
    """The newest export bundle's day if it is after `today`: this workstation's clock is behind.

    A reply is sealed as written on this clock's day, and its source told when the server
    lists it more than days later; an offline clock that lags makes honest replies look old.
    """
    (newest,) = conn.execute("SELECT max(created) FROM bundles").fetchone()
    if newest is None or dt.date.fromisoformat(newest) <= today:
        return None
    return dt.date.fromisoformat(newest)


def clock_warning(written: dt.date, behind: dt.date) -> str:
    """What the reviewer is told of a reply sealed while this clock lags (CLI and UI alike)."""
    return (
        f"this workstation's clock says {written} (UTC), before {behind}, the day the server"
        f" made the newest export bundle imported here: the reply is sealed as written on"
        f" {written}, and its source will be told the server listed it later than a reply takes"
    )


def refuse_disputed(conn: sqlite3.Connection, num: int) -> tuple[str, str]:
    """Report `num`'s source and reply key; refuse if the source's reply key is disputed."""
    row = conn.execute(
        "SELECT r.source, s.public_key, s.disputed FROM reports r"
        " JOIN sources s ON s.designation = r.source WHERE r.num = ?",
        (num,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no report {num}", hint="`raazdar-review list --all` shows every report")
    source, key_text, disputed = row
    if disputed:
        raise ReviewError(
            f"report {num}: no reply can go to its source {source}: their reply key is "
            "disputed (a report of theirs carried a key or prekeys that disagree with the "
            "server's), so no key for them is trusted, now or later",
            hint="the import that disputed it said why; their reports can still be read, "
            "triaged and escalated",
        )
    return str(source), str(key_text)


def sharing_key(conn: sqlite3.Connection, num: int) -> list[str]:
    """The other designations that hold the reply key of report `num`'s source (normally none).

    One codename is one account: two designations with one reply key are a source who came
    back after their account was deleted, or a server that made a report of its own under a
    new designation with a real source's key, so that a reply to it reaches that source.
    """
    rows = conn.execute(
        "SELECT o.designation FROM reports r JOIN sources s ON s.designation = r.source"
        " JOIN sources o ON o.public_key = s.public_key AND o.designation != s.designation"
        " WHERE r.num = ? ORDER BY o.designation",
        (num,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def shared_key_warning(num: int, others: list[str]) -> str:
    """What the reviewer is told before writing to a source whose reply key another holds."""
    return (
        f"report {num}: its source shares their reply key with source(s) {', '.join(others)}, "
        "so a reply to it opens for the codename of both: either that source came back after "
        "the server deleted their account, or the server wrote one of these reports to have "
        "you answer it and pass your reply, genuine and signed, to the other source"
    )


SHARED_KEY_HINT: Final = (
    "read the reports of both sources (`raazdar-review list --all`) before you reply: "
    "a reply to a report the server wrote reaches the real source as if written to them"
)


def _prekey(conn: sqlite3.Connection, num: int, allow_codename_key: bool) -> HybridPublicKey | None:
    """The prekey to seal to, or None for the codename key (only if there are none, or allowed)."""
    try:
        return prekeys.take(conn, num)
    except prekeys.NoPrekeyLeft:
        if allow_codename_key:
            return None
        raise


def export_replies(u: Unlocked, out: Path) -> ExportSummary:
    """Write a reply bundle: this reviewer's queued replies, notices, and acks."""
    if out.exists() or out.is_symlink():
        raise ReviewError(f"{out} already exists", hint="choose a new file name")
    if u.workspace.holds(out.parent):
        # Its manifest names, in the clear, the sources answered and what each is shown.
        raise ReviewError(
            f"{out} is in the workspace (a folder there, or a link to it): a reply bundle"
            " goes on the stick, and names in the clear the sources it answers",
            hint="write it to a folder of the stick that is no link; if the stick holds a"
            " link to the workspace, its carrier put it there: tell the administrators",
        )
    left = _left_over(u, out.parent)
    signer = u.signing.verify_key.to_text()
    replies = u.conn.execute(
        "SELECT id, source, envelope FROM replies WHERE exported_in IS NULL AND signer = ?"
        # A reply queued before its source was disputed is held, never sent.
        " AND source NOT IN (SELECT designation FROM sources WHERE disputed) ORDER BY rowid",
        (signer,),
    ).fetchall()
    waiting = u.conn.execute(
        "SELECT count(*) FROM replies WHERE exported_in IS NULL AND signer != ?", (signer,)
    ).fetchone()[0]
    held = u.conn.execute(
        "SELECT count(*) FROM replies WHERE exported_in IS NULL AND signer = ?"
        " AND source IN (SELECT designation FROM sources WHERE disputed)",
        (signer,),
    ).fetchone()[0]
    waiting_notices = notices.pending(u)
    acks = [
        row[0]
        for row in u.conn.execute(
            "SELECT id FROM items WHERE status = 'filed' AND acked_in IS NULL ORDER BY rowid"
        )
    ]
    voids = receipts.pending_voids(u.conn)
    if not (replies or waiting_notices or acks or voids):
        hints = [f"{waiting} reply(ies) signed by other reviewers wait for them"] if waiting else []
        if held:
            hints.append(held_back(held))
        raise ReviewError(
            "nothing to export: no replies, notices or new items to acknowledge",
            hint="; ".join(hints) or None,
        )
    bundle_id, instance_id = new_bundle_id(), u.workspace.pinned.instance_id
    # Sealed whole by the workspace's own key: a server holding it applies nothing a
    # reviewer's key file alone signs (`review.intake.acks`).
    seal_key, earlier = acks_held.ack_keys(u)
    unsealed = ReplyManifest(
        bundle_id=bundle_id,
        instance_id=instance_id,
        created=dt.date.today(),
        acks=tuple(acks),
        replies=tuple(ReplyEntry(r[0], r[1]) for r in replies),
        notices=tuple(waiting_notices),
        voids=voids,
    )
    # Unwrapped in memory only: on disk the envelopes open for the workspace key alone.
    envelopes = [outbox.envelope(u, r[2]) for r in replies]
    # Which exports arrived, sealed too: the server carries a later one's items again.
    imported = exports.complete_through(u.conn)
    # And which restore of the server it knows of: one put back since refuses the bundle.
    manifest = seal_replies(
        unsealed,
        envelopes,
        u.signing.verify_key,
        seal_key,
        earlier,
        imported=imported,
        restore=exports.last_restore(u.conn),
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as dst:
            write_replies(dst, manifest, envelopes, u.signing)
            dst.flush()
            os.fsync(dst.fileno())
        # The part file's name on the stick before the record: a power cut after it took
        # the bundle, its replies out of the queue and in no bundle.
        flush_names(out.parent)
        with transaction(u.conn) as conn:
            conn.execute(
                "INSERT INTO reply_bundles (id, created, signer) VALUES (?, date('now'), ?)",
                (bundle_id, signer),
            )
            receipts.voided_in(conn, voids, bundle_id)
            conn.executemany(
                "UPDATE replies SET exported_in = ? WHERE id = ?",
                [(bundle_id, r[0]) for r in replies],
            )
            notices.mark_exported(u, waiting_notices, bundle_id)
            conn.executemany(
                "UPDATE items SET acked_in = ? WHERE id = ?", [(bundle_id, a) for a in acks]
            )
            detail = {
                "bundle": bundle_id,
                "replies": len(replies),
                "notices": len(waiting_notices),
                "acks": len(acks),
            }
            audit.append(u, "export-replies", None, detail)
    except BaseException:
        # Overwritten, not only unlinked: on the stick an unlinked file's blocks keep what
        # was written of it (the sources answered), and a full stick is how an export fails.
        discard(Path(tmp_name))
        raise
    # Only once the export is recorded: a bundle in place that the workspace never
    # recorded would leave its replies queued, and the next bundle would carry them again.
    try:
        os.replace(tmp_name, out)
    except OSError as exc:
        raise ReviewError(
            f"reply bundle {bundle_id} was recorded as written but could not be put at {out} "
            f"({exc.strerror})",
            hint=f"rename {tmp_name} to {out} and carry it, or `exchange take-back {bundle_id}` "
            "and export again",
        ) from exc
    try:
        # The new name too, before the answer: cut after it, the stick held the part file.
        flush_names(out.parent)
    except OSError as exc:
        raise ReviewError(
            f"reply bundle {bundle_id} was written to {out}, but its name could not be forced "
            f"to the disk ({exc.strerror})",
            hint="run `sync` and check the bundle is there before you take the stick out",
        ) from exc
    named = {r[1] for r in replies} | {n.source for n in waiting_notices}
    return ExportSummary(
        bundle_id,
        len(replies),
        len(waiting_notices),
        len(acks),
        waiting,
        held,
        len(named),
        left,
    )


def held_back(held: int) -> str:
    """What an export says of the replies it holds back for disputed sources."""
    return (
        f"{held} reply(ies) to disputed sources held back: they are never sent"
        " (`show` marks them; their source's reply key is not trusted)"
    )


def _left_over(u: Unlocked, directory: Path) -> tuple[Path, ...]:
    """Destroy the reply bundles of this workspace that an export killed before its record
    left in `directory`; return those it recorded.

    An unrecorded one's replies are still queued: carried, they would go twice, and
    its envelopes lie there unwrapped, open to a codename a source may give up.
    """
    trusted = [VerifyKey.from_text(k) for (k,) in u.conn.execute(_SIGNING_KEYS)]
    recorded = []
    for path in sorted(directory.glob(".*.part")):
        if path.is_symlink() or not path.is_file():
            continue  # not one an export left: a pipe there would hold the export for ever
        try:
            with path.open("rb") as src:
                _, manifest = read_replies(src, trusted, u.workspace.pinned.instance_id)
        except (CryptoError, OSError):
            continue  # not a reply bundle of ours, or cut before its manifest (no envelope)
        known = u.conn.execute(
            "SELECT 1 FROM reply_bundles WHERE id = ?", (manifest.bundle_id,)
        ).fetchone()
        if known is None:
            destroy(path)
        else:
            recorded.append(path)
    return tuple(recorded)


_SIGNING_KEYS: Final = "SELECT signing_key FROM reviewer_keys"


@dataclass(frozen=True)
class TakenBack:
    """What a refused reply bundle gave back to the queue, and what was withdrawn."""

    bundle_id: str
    replies: int
    notices: int
    acks: int
    withdrawn: int


def take_back(
    u: Unlocked,
    bundle_id: str,
    *,
    withdraw_replies: Collection[str] = (),
    drop_notices: Collection[str] = (),
) -> TakenBack:
    """Return a reply bundle the server refused, or that was lost, to the queue,
    withdrawing what it refused; later bundles void it."""
    row = u.conn.execute("SELECT signer FROM reply_bundles WHERE id = ?", (bundle_id,)).fetchone()
    if row is None:
        raise NotFound(
            f"no reply bundle {bundle_id} was written here",
            hint="give the bundle id the server printed when it refused it",
        )
    if not _signed_by(u, row[0]):
        # It withdraws their replies and voids their bundle, as retiring their keys would.
        u.require_admin("take back a reply bundle another reviewer wrote")
    receipts.check_take_back(u.conn, bundle_id)
    in_bundle = {
        row[0]: row[1]
        for row in u.conn.execute(
            "SELECT id, envelope FROM replies WHERE exported_in = ?", (bundle_id,)
        )
    }
    # A reply is named by its id or the first eight characters the tool prints.
    withdrawn = {_match(reply, in_bundle) for reply in withdraw_replies}
    sent_notices = notices.in_bundle(u, bundle_id)
    unknown = set(drop_notices) - set(sent_notices)
    if unknown:
        raise InvalidValue(f"bundle {bundle_id} carries no notice for {', '.join(sorted(unknown))}")
    with transaction(u.conn) as conn:
        replies = conn.execute(
            "UPDATE replies SET exported_in = NULL WHERE exported_in = ?", (bundle_id,)
        ).rowcount
        conn.executemany("DELETE FROM replies WHERE id = ?", [(r,) for r in sorted(withdrawn)])
        for reply in withdrawn:
            outbox.forget(u, in_bundle[reply])
        kept_notices = notices.take_back(u, bundle_id, set(drop_notices))
        acks = conn.execute(
            "UPDATE items SET acked_in = NULL WHERE acked_in = ?", (bundle_id,)
        ).rowcount
        receipts.taken_back(conn, bundle_id, list(in_bundle))
        detail = {
            "bundle": bundle_id,
            "withdrawn": sorted(withdrawn),
            "dropped_notices": sorted(drop_notices),
        }
        audit.append(u, "reply-bundle-refused", None, detail)
    return TakenBack(
        bundle_id, replies - len(withdrawn), kept_notices, acks, len(withdrawn) + len(drop_notices)
    )


def _signed_by(u: Unlocked, signer: str) -> bool:
    """Say whether `signer` is one of the acting reviewer's signing keys, old ones included."""
    found = u.conn.execute(
        "SELECT 1 FROM reviewer_keys WHERE reviewer = ? AND signing_key = ?", (u.reviewer, signer)
    ).fetchone()
    return found is not None


def _match(given: str, replies: dict[str, str]) -> str:
    found = [r for r in replies if r == given or (len(given) >= 8 and r.startswith(given))]
    if len(found) != 1:
        raise InvalidValue(f"the bundle carries no reply {given}")
    return found[0]
