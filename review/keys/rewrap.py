"""Re-encrypting the workspace under a fresh key, and retiring reviewer keys for good.

Decrypted content is sealed to the workspace key, and that key is wrapped to each
enrolled reviewer key. Deleting a retired key's wrapped copy is not enough: a
backup of the workspace taken earlier still holds that copy, and with the old
reviewer key it would open everything added since. So a rewrap makes a new
workspace key, re-seals every blob and every sealed record under it, wraps it
only to the keys still in service, and destroys the retired keys' files. The
audit log is the one exception: its sealed details are covered by signatures,
so earlier workspace keys are kept, sealed under the new one, to read them. A
reviewer left with no key in service loses their weekly subkey store too.

It is one transaction: new blob files are written first and removed if anything
fails; the old files are destroyed only after the commit.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Final, cast

from crypto import (
    HybridPublicKey,
    KeyFile,
    KeyPair,
    Metadata,
    PublicKey,
    SealingWriter,
    VerifyKey,
    open_envelope,
    read_header,
)
from crypto.encoding import b64decode, b64encode
from crypto.envelope.version import V2
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey
from review import escalation
from review.analysis import links, records
from review.casework import conflicts, notices, reports, triage
from review.errors import ReviewError
from review.escalation import bodies
from review.keys import subkeys
from review.workspace import HISTORY, Unlocked, Workspace, audit, marks, roster, search
from review.workspace.blobs import (
    INSERT_INLINE,
    create_file,
    inline_row,
    open_blob,
    remove_files,
    writing,
)
from review.workspace.erase import destroy
from review.workspace.noatime import read_quietly
from review.workspace.schema import transaction
from review.workspace.state import state_context

_BLOB_METADATA: Final = Metadata("blob")


@dataclass(frozen=True)
class Sealed:
    """A column of sealed records: its table, key columns and each row's context."""

    table: str
    column: str
    keys: tuple[str, ...]
    context: Callable[..., bytes]


# Every column sealed under the workspace key, with the context its module seals
# it under (the modules' own functions, so a context is defined once). The audit
# log's details are not here: signatures cover them. A test checks that every
# BLOB column of the schema is either here or known to hold no workspace record.
SEALED: Final = (
    Sealed("reports", "state", ("num",), state_context),
    Sealed("items", "info", ("id",), reports.item_context),
    Sealed("notes", "sealed", ("seq", "report"), triage._note_context),
    Sealed("replies", "sealed", ("id",), reports.reply_context),
    Sealed("search_segments", "sealed", ("seq",), search._context),
    Sealed("conflicts", "sealed", ("seq", "reviewer"), conflicts.declaration_context),
    Sealed("routings", "sealed", ("seq", "report"), conflicts.routing_context),
    Sealed("report_entities", "sealed", ("report",), records.entities_context),
    Sealed("link_decisions", "sealed", ("seq",), links.decision_context),
    Sealed("bodies", "sealed", ("id",), bodies.body_context),
    Sealed("escalations", "sealed", ("id",), escalation.escalation_context),
    Sealed("notices", "sealed", ("source",), notices.notice_context),
)


@dataclass(frozen=True)
class Blobs:
    """A column naming blobs sealed to the workspace key: its table, key and which rows."""

    table: str
    key: str
    column: str
    where: str


# Every column that names a blob sealed to the workspace key. Items not yet read
# (pending, damaged) keep the ciphertext they came with, sealed to reviewer keys.
BLOBS: Final = (
    Blobs("items", "id", "blob", "status = 'filed'"),
    Blobs("escalations", "id", "blob", "1"),
    Blobs("replies", "id", "envelope", "1"),  # each reply's envelope, wrapped (workspace.outbox)
)


_ABANDON: Final = (
    "a reviewer who will not come back (or whose key leaked) is retired all the same with "
    "--abandon-unread, and those items are given up"
)


class RewrapError(ReviewError):
    """A rewrap or retirement was refused."""


@dataclass(frozen=True)
class RewrapSummary:
    """What a rewrap re-sealed and which keys it retired."""

    blobs: int
    records: int
    retired: tuple[str, ...]
    # The new key's acknowledgement key: a real server takes it only from an administrator.
    ack_key: VerifyKey
    # Items waiting to be read that only the retired keys opened, given up (`abandon`).
    abandoned: int = 0


def rewrap(
    u: Unlocked,
    retire: Collection[int] = (),
    *,
    abandon: bool = False,
    then: Callable[[Unlocked], None] | None = None,
) -> tuple[Unlocked, RewrapSummary]:
    """Re-seal the workspace under a new key; retire the reviewer keys numbered `retire`.

    An item waiting to be read that only a retiring key opens refuses the
    retirement, unless `abandon` gives it up: a reviewer who never comes back
    to import it (or whose key leaked) must not stay in service for it, and an
    item sealed to them alone is one anyone with the server's key can export.
    `then` runs last inside the rewrap's transaction, on the workspace under its new key.
    Returns the workspace unlocked under its new key, and what was done.
    """
    _refuse_moved(u)
    # Only to the keys this tool enrolled: a row added on the disk gets no wrap (`roster`).
    roster.check(u.conn, u.key)
    retiring, abandoned = _check_retire(u, set(retire), abandon)
    hybrid = hybrid_keys(u.workspace, retiring)
    if u.key.is_hybrid and None in hybrid.values():
        # Never back to X25519: enrolment refuses such keys in a hybrid workspace.
        raise RewrapError(
            "a key in service has no X-Wing half: the workspace key stays X-Wing",
            hint="retire that key too (`keys show` numbers them; `keys rewrap --retire N`)",
        )
    subkeys.load(u)  # re-seals the reviewer's subkey store to every key kept, before any retires
    # Post-quantum as soon as every key kept can be wrapped to post-quantum.
    pq = None not in hybrid.values()
    new = WorkspaceKey.generate() if pq else WorkspaceKey.generate_classical()
    written: list[Path] = []
    superseded: list[Path] = []
    with writing(u.workspace):  # no reap takes a new blob before its row commits
        try:
            blobs = [r for b in BLOBS for r in _reseal_blobs(u, b, new, written)]
            with transaction(u.conn) as conn:
                _refuse_moved(u)  # again, under the write lock
                roster.check(conn, u.key)
                for b, key, old_name, new_name, data in blobs:
                    if data is not None:
                        conn.execute(INSERT_INLINE, inline_row(new_name, data))
                    conn.execute(
                        f"UPDATE {b.table} SET {b.column} = ? WHERE {b.key} = ?",  # noqa: S608 - names from BLOBS
                        (new_name, key),
                    )
                    cursor = conn.execute("DELETE FROM blob_data WHERE name = ?", (old_name,))
                    if not cursor.rowcount:
                        superseded.append(u.workspace.blobs / old_name)
                records = sum(_reseal_records(u, new, s) for s in SEALED)
                records += _reseal_subkey_records(u, new)
                history = (u.key, *u.history)
                sealed = new.seal_record(_secrets(history), HISTORY.encode("ascii"))
                conn.execute(
                    "INSERT INTO meta VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (HISTORY, b64encode(sealed)),
                )
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'workspace_key'",
                    (new.public_key.to_text(),),
                )
                key_files: list[Path] = []
                # The acting reviewer's keys mark the new key; the others' marks follow it
                # through the earlier keys it keeps (`review.workspace.marks`).
                own = {
                    k.encryption.public_key.to_text(): k for k in u.keys if k.encryption is not None
                }
                for seq, encryption, key_file in conn.execute(
                    "SELECT seq, encryption_key, key_file FROM reviewer_keys WHERE NOT retired"
                ).fetchall():
                    if seq in retiring:
                        conn.execute(
                            "UPDATE reviewer_keys SET wrapped = x'', retired = 1 WHERE seq = ?",
                            (seq,),
                        )
                        marks.forget(conn, seq)
                        key_files.append(u.workspace.keys / key_file)
                    else:
                        to = hybrid[seq] if pq else None
                        wrapped = new.wrap_for(to or PublicKey.from_text(encryption))
                        conn.execute(
                            "UPDATE reviewer_keys SET wrapped = ? WHERE seq = ?", (wrapped, seq)
                        )
                        if encryption in own:
                            marks.put(conn, seq, own[encryption], new)
                after = replace(u, key=new, history=history)
                summary = RewrapSummary(
                    len(blobs),
                    records,
                    tuple(sorted(retiring.values())),
                    new.ack_key().verify_key,
                    abandoned,
                )
                detail: dict[str, object] = {
                    "blobs": summary.blobs,
                    "records": summary.records,
                    "retired": list(summary.retired),
                }
                if pq and not u.key.is_hybrid:
                    detail["key"] = "x-wing"  # the step from X25519 (`upgrade_key`)
                if abandoned:
                    detail["abandoned"] = abandoned
                if u.second is not None:
                    detail["second"] = u.second
                audit.append(after, "rewrap", None, detail)
                if then is not None:
                    then(after)
                roster.put(conn, new)  # the keys retired, and any role `then` changed
        except BaseException as exc:
            remove_files(written)
            if isinstance(exc, OSError):
                raise _not_done(exc, retiring) from exc
            raise
        for path in superseded + key_files:
            destroy(path)
    kept = tuple(k for k in u.keys if _fingerprint(k) not in retiring.values())
    done = replace(after, keys=kept)
    if retiring:
        # Re-sealed to the keys kept only, and the stores of reviewers left with none
        # destroyed: no copy of a retired key opens a store, nor the weeks in it.
        subkeys.load(done)
    return done, summary


def _not_done(exc: OSError, retiring: dict[int, str]) -> RewrapError:
    """A rewrap the disk stopped (full, failing): say that nothing changed, and what stays."""
    numbers = ", ".join(map(str, sorted(retiring)))
    staying = f"; key(s) {numbers} stay in service" if retiring else ""
    return RewrapError(
        f"the rewrap failed ({exc.strerror or exc}): nothing was changed{staying}",
        hint="free space on the workspace's disk (a rewrap writes a new copy of every blob"
        " file before it removes the old ones) and run it again",
    )


def upgrade_key(u: Unlocked) -> Unlocked:
    """Re-seal an X25519 workspace under a hybrid (X-Wing) key, once every key in service can
    hold it; otherwise, or when it is hybrid already, return `u` as it is.

    A rewrap that retires nothing: every blob re-sealed v2 and every record under
    the new record key in one transaction, the old blob files destroyed after it,
    the X25519 key kept sealed among the earlier keys for old audit details. The
    review tool runs it at each unlock (`review.cli.base.Ctx.unlock`).
    """
    if u.key.is_hybrid or None in hybrid_keys(u.workspace).values():
        return u
    done, _ = rewrap(u)
    return done


def _refuse_moved(u: Unlocked) -> None:
    """Refuse to rewrap a workspace another process re-sealed since `u` unlocked it.

    What `u` reads is then sealed under a key no longer in use; a second rewrap
    would replace the key the other process goes on writing under.
    """
    if moved(u):
        raise RewrapError(
            "the workspace was re-sealed by another raazdar-review since this one unlocked it",
            hint="run the command again",
        )


def moved(u: Unlocked) -> bool:
    """Say whether the workspace key is no longer the one `u` unlocked (another rewrapped it)."""
    return not u.current


def hybrid_keys(
    workspace: Workspace, retiring: Collection[int] = ()
) -> dict[int, HybridPublicKey | None]:
    """Each key kept in service (seq) and its X-Wing key, from its key file (None: it has none)."""
    found: dict[int, HybridPublicKey | None] = {}
    for seq, encryption, signing, key_file in workspace.conn.execute(
        "SELECT seq, encryption_key, signing_key, key_file FROM reviewer_keys WHERE NOT retired"
    ).fetchall():
        if seq in retiring:
            continue
        try:
            file = KeyFile.from_bytes(read_quietly(workspace.keys / key_file))
        except (OSError, CryptoError) as exc:
            raise RewrapError(f"the enrolled key file {key_file} does not read") from exc
        # Its X-Wing key is bound by its Ed25519 key: that one must be the key enrolled, or
        # a copy swapped for someone's own key file would get the new workspace key.
        held = (file.encryption_public, file.signing_public)
        if held != (PublicKey.from_text(encryption), VerifyKey.from_text(signing)):
            raise RewrapError(
                f"the enrolled key file {key_file} holds other keys than key {seq}: it was"
                " replaced on this disk",
                hint="nothing was changed; restore the workspace from a copy you trust and"
                " have the disk examined",
            )
        found[seq] = file.hybrid_public
    return found


def _check_retire(
    u: Unlocked, retire: set[int], abandon: bool = False
) -> tuple[dict[int, str], int]:
    """The keys to retire (seq to fingerprint), refused when that would lose a report.

    With `abandon`, such reports are given up instead: the second value counts them.
    """
    rows = u.conn.execute(
        "SELECT seq, reviewer, encryption_key, key_file FROM reviewer_keys WHERE NOT retired"
    ).fetchall()
    live = {seq: (reviewer, PublicKey.from_text(key)) for seq, reviewer, key, _ in rows}
    # A pending item may be sealed (v2) to a key's X-Wing half: its key id counts too.
    key_ids = {seq: _key_ids(u, PublicKey.from_text(key), name) for seq, _, key, name in rows}
    unknown = retire - live.keys()
    if unknown:
        raise RewrapError(f"no key in service is numbered {min(unknown)}")
    others = {live[seq][0] for seq in retire} - {u.reviewer}
    if others & _listed(u):
        u.require_second_admin("retire the keys of another reviewer the keyring in force lists")
    mine = [seq for seq, (reviewer, _) in live.items() if reviewer == u.reviewer]
    if mine and set(mine) <= retire:
        raise RewrapError(
            "that would retire every key of the reviewer acting",
            hint="rotate to a new key first (`keys rotate`), then retire the old one",
        )
    retiring = {seq: str(live[seq][1].fingerprint) for seq in retire}
    kept = {i for seq in live.keys() - retire for i in key_ids[seq]}
    gone = {i for seq in retire for i in key_ids[seq]}
    staying = {live[seq][0] for seq in live.keys() - retire}
    held, lost, unrecorded = _subkey_ids(u, staying, {live[seq][0] for seq in retire} - staying)
    kept |= held
    gone |= lost
    # An item still waiting for its reviewer must stay openable by some key kept.
    stranded = unplaced = 0
    for (blob,) in u.conn.execute("SELECT blob FROM items WHERE status = 'pending'").fetchall():
        with suppress(CryptoError), open_blob(u.workspace, blob) as src:
            header = read_header(src)
            ids = {s.key_id for s in header.stanzas}
            if ids & kept:
                continue
            if ids & gone:
                stranded += 1
            elif unrecorded and header.version is V2:
                unplaced += 1
    if abandon:
        return retiring, stranded + unplaced
    if stranded:
        raise RewrapError(
            f"{stranded} item(s) waiting to be read are sealed only to a key being retired",
            hint="import their bundle again unlocked as that key's reviewer, then retire it; "
            f"{_ABANDON}",
        )
    if unplaced:
        raise RewrapError(
            f"{unplaced} item(s) waiting to be read may be sealed only to the weekly subkeys"
            f" of {', '.join(unrecorded)}, which go with their last key",
            hint=f"import their bundle again unlocked as each reviewer, then retire the keys; "
            f"{_ABANDON}",
        )
    return retiring, 0


def _listed(u: Unlocked) -> set[str]:
    """The reviewers the keyring in force lists (every reviewer here, without a keyring).

    Once the authorities' keyring drops a reviewer, any other may retire their keys.
    """
    signed = u.workspace.keyring()
    if signed is None:
        return {r for (r,) in u.conn.execute("SELECT id FROM reviewers")}
    return {r.id for r in signed.manifest.recipients}


def _subkey_ids(
    u: Unlocked, staying: set[str], leaving: set[str]
) -> tuple[set[bytes], set[bytes], list[str]]:
    """Weekly subkey ids kept and lost when `leaving` have no key left, and whose are unknown.

    A reviewer left with no key loses their subkey store (`subkeys.destroy_retired`);
    only the acting reviewer's store opens here, the others' ids are as recorded.
    """
    kept = {k.public_key.fingerprint.key_id for k in subkeys.held_keys(u)}
    for reviewer in staying:
        kept |= subkeys.recorded_key_ids(u, reviewer) or frozenset()
    lost: set[bytes] = set()
    unrecorded = []  # their record predates key ids: an unplaced item may be theirs
    for reviewer in sorted(leaving):
        theirs = subkeys.recorded_key_ids(u, reviewer)
        if theirs is None:
            unrecorded.append(reviewer)
        else:
            lost |= theirs
    return kept, lost, unrecorded


def _key_ids(u: Unlocked, encryption: PublicKey, key_file: str) -> set[bytes]:
    """The stanza key ids of an enrolled key: its X25519 key's, and its X-Wing key's if any."""
    ids = {encryption.fingerprint.key_id}
    with suppress(OSError, CryptoError):
        hybrid = KeyFile.from_bytes(read_quietly(u.workspace.keys / key_file)).hybrid_public
        if hybrid is not None:
            ids.add(hybrid.fingerprint.key_id)
    return ids


def _reseal_blobs(
    u: Unlocked, b: Blobs, new: WorkspaceKey, written: list[Path]
) -> list[tuple[Blobs, str, str, str, bytes | None]]:
    """Re-seal one column's blobs to the new key: (column, row key, old, new name, inline data)."""
    out: list[tuple[Blobs, str, str, str, bytes | None]] = []
    rows = u.conn.execute(
        f"SELECT t.{b.key}, t.{b.column}, blob_data.name IS NOT NULL FROM {b.table} AS t"  # noqa: S608 - names from BLOBS
        f" LEFT JOIN blob_data ON blob_data.name = t.{b.column} WHERE {b.where}"
    ).fetchall()
    for key, blob, inline in rows:
        name = f"{secrets.token_hex(16)}.rze"
        with open_blob(u.workspace, blob) as src:
            # An escalation an older version kept as a file goes into the database: a new
            # file's birth time would date the rewrap, and the old one's, its escalation.
            if inline or b.table == "escalations":
                buffer = io.BytesIO()
                _reseal(src, buffer, u.key, new.public_key)
                out.append((b, key, blob, name, buffer.getvalue()))
                continue
            path, dst = create_file(u.workspace, name)
            written.append(path)
            with dst:
                _reseal(src, dst, u.key, new.public_key)
                dst.flush()
                os.fsync(dst.fileno())
            out.append((b, key, blob, name, None))
    return out


def _reseal(
    src: BinaryIO, dst: BinaryIO, old: WorkspaceKey, new: PublicKey | HybridPublicKey
) -> None:
    writer = SealingWriter(dst, [new], _BLOB_METADATA)
    try:
        open_envelope(src, cast(BinaryIO, writer), [old.identity])
    except BaseException:
        writer.abort()
        raise
    writer.finish()


def _reseal_records(u: Unlocked, new: WorkspaceKey, s: Sealed) -> int:
    keys = ", ".join(s.keys)
    rows = u.conn.execute(
        f"SELECT {keys}, {s.column} FROM {s.table} WHERE {s.column} IS NOT NULL"  # noqa: S608 - names from SEALED
    ).fetchall()
    where = " AND ".join(f"{k} = ?" for k in s.keys)
    for row in rows:
        context = s.context(*row[:-1])
        plain = u.key.open_record(row[-1], context)
        u.conn.execute(
            f"UPDATE {s.table} SET {s.column} = ? WHERE {where}",  # noqa: S608 - names from SEALED
            (new.seal_record(plain, context), *row[:-1]),
        )
    return len(rows)


def _reseal_subkey_records(u: Unlocked, new: WorkspaceKey) -> int:
    """Re-seal each reviewer's subkey record (`meta`, context its key) under the new key.

    Read as `subkeys` reads it, under whichever key of the workspace sealed it:
    left under an earlier key, it would open to whoever breaks that key alone.
    """
    rows = u.conn.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1", (subkeys.RECORD,)
    ).fetchall()
    for key, value in rows:
        plain = u.open_old_record(b64decode(value), key.encode("utf-8"))
        u.conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?",
            (b64encode(new.seal_record(plain, key.encode("utf-8"))), key),
        )
    return len(rows)


def _secrets(keys: tuple[WorkspaceKey, ...]) -> bytes:
    return json.dumps([k.export_secret() for k in keys]).encode("ascii")


def _fingerprint(pair: KeyPair) -> str:
    return str(pair.encryption.public_key.fingerprint) if pair.encryption is not None else ""
