"""Importing an export bundle: verify it whole, decrypt each item, file it, all at once.

The bundle's signature (by the pinned server key) and instance are checked
before any item is read, and each item's hash before it is used; nothing is
committed until the last item and the end of the bundle have verified, so a
damaged or forged bundle imports nothing (blob files written on the way are
removed). Each envelope is decrypted with whichever of the reviewer's keys, old
ones included, it was sealed to, and re-sealed to the workspace key as it
streams: plaintext never touches the disk. Items that cannot be read here (sealed
to no key enrolled in this workspace, or to another reviewer's key, or damaged
inside a valid bundle) are kept as ciphertext and reported, never skipped in
silence. Rows, blobs and the audit entry become visible together in one
transaction, and items already filed are left alone, so importing twice changes
nothing. Numbered bundles may come in any order; one that contradicts the chain
seen here is refused, and a gap is reported (`review.intake.exports`). Receipts
of reply bundles confirm them in the same transaction (`review.intake.receipts`).

Replies go to the key the first bundle gave a source's designation: a bundle
that gives a known designation another key is refused. An item whose binding
(`crypto.binding`, sealed by `raazdar-submit` on the source's device) does not
verify, names a reply key other than the bundle's, or whose record's reply
prekeys are malformed or not the ones signed, disputes its designation for good
(`sources.disputed`): the item and the rest of the bundle are filed, but no
reply ever goes to that designation, nor are its prekeys filed, so a compromised
server cannot redirect replies. Refusing the bundle instead would let one source
(whose device seals what it will) stop every import, since the server exports
an unacknowledged item again and again. Prekeys that are the ones signed are
filed for replies (`review.casework.prekeys`).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import io
import json
import os
import secrets
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final, NamedTuple, cast

from crypto import (
    HybridPrivateKey,
    HybridPublicKey,
    Metadata,
    Opened,
    PrivateKey,
    PublicKey,
    SealingWriter,
)
from crypto.binding import ReplyPrekeys, SourceBinding
from crypto.bundle import BundleReader
from crypto.envelope import HeldEnvelope
from crypto.envelope.metadata import KeyringSeen
from crypto.envelope.version import V2
from crypto.errors import CryptoError, FormatError, UnsupportedVersionError, VerificationError
from crypto.exchange import ExportEntry, ExportManifest, manifest_digest, read_export
from crypto.manifest import format_digest
from review.analysis import corroboration
from review.analysis.records import FileSent
from review.casework import conflicts, notices, prekeys, triage
from review.casework.reports import Content, item_context, parse_report
from review.errors import ImportRefused
from review.intake import acks, copies, exports, receipts, unheld
from review.intake.ahead import Ahead
from review.intake.forks import Fork, Stale, forked, stale
from review.keys import subkeys
from review.keys.keyring import server_keys
from review.workspace import Unlocked, Workspace, audit, head, scratch, search
from review.workspace.blobs import INLINE_MAX, create_file, drop, put_inline_many, remove_files
from review.workspace.schema import rebuild, transaction
from review.workspace.state import State, read_state, seal_state

# A report record is a form's worth of text; anything larger is filed, not indexed.
_MAX_INDEXED: Final = 4 * 1024 * 1024
# Called with (items done, items in all) while an import runs.
Progress = Callable[[int, int], None]
# Items up to this size are checked in memory; larger ones are spooled to scratch.
_BUFFER_MAX: Final = 8 * 1024 * 1024
_INLINE_BUDGET: Final = 64 * 1024 * 1024
_BLOB_METADATA: Final = Metadata("blob")
# Attachments whose words go into the search index (and the entity extractor).
_TEXT_TYPES: Final = frozenset(
    {"text/plain", "text/csv", "text/markdown", "text/tab-separated-values", "application/json"}
)


@dataclass
class ImportSummary:
    """What an import filed, what it had already, and every item it could not read."""

    bundle_id: str
    filed: int = 0
    # What the bundle names to anyone who reads it: its sources and its items.
    sources: int = 0
    items: int = 0
    already: int = 0
    new_reports: int = 0
    problems: list[str] = field(default_factory=list)
    # Its number in the export chain; None for a bundle from before the chain.
    sequence: int | None = None
    # Reply bundles taken back that its receipts show the server had applied.
    applied_after_all: list[receipts.AppliedAfterAll] = field(default_factory=list)
    # Reply bundles the server had confirmed and no longer names: put back from a backup.
    forgotten: list[receipts.Forgotten] = field(default_factory=list)
    # Items filed whose source's reply key is disputed: their sources get no reply.
    disputes: list[Dispute] = field(default_factory=list)
    # The keyring version the server says it seals to, when later than the one here.
    keyring_behind: KeyringBehind | None = None
    # The same, when older than the one here: the server's keyring was rolled back.
    keyring_older: KeyringOlder | None = None
    # The server's keyring of the version in force here, with another digest (format 9).
    keyring_swapped: KeyringSwapped | None = None
    # False if the database could not be rewritten after (`schema.rebuild`): its pages then
    # say in which order this import's blobs and the packets before it were written.
    rebuilt: bool = True
    # Items a source's device sealed to a keyring forking from the one installed here.
    forks: list[Fork] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    # Reply bundles the receipts confirm that this workspace never wrote: an older copy.
    unknown_receipts: receipts.Unknown | None = None
    # Items filed that were sealed to a weekly subkey a re-keying replaced (a leaked one).
    replaced: list[Replaced] = field(default_factory=list)
    # Sources the server shows a notice numbered past this workspace's count: an older copy.
    notices_behind: notices.Behind | None = None
    # Replies their sources' devices say, signed, they cannot open: never to be read.
    unread: list[unheld.Unread] = field(default_factory=list)
    # Such statements the source's key did not sign: the server's own.
    forged_unheld: unheld.Forged | None = None
    # Items the server kept though a bundle this workspace's key did not seal acknowledged them.
    held: acks.Held | None = None
    # The server takes acknowledgements sealed by another key than this workspace's.
    other_ack_key: acks.OtherKey | None = None
    # The server was put back from a backup since the bundle imported here before this one.
    restored: receipts.Restored | None = None
    # Items whose envelope is one filed here under another id: not filed again.
    copies: list[copies.Copy] = field(default_factory=list)


@dataclass(frozen=True)
class Replaced:
    """Items filed that were sealed to a weekly subkey replaced after a compromise."""

    items: tuple[tuple[str, str], ...]  # each item's id and the day it came to the server

    def message(self) -> str:
        """Say what the items cost their sources, and what a late one shows of the server."""
        named = ", ".join(f"{item} (came {day})" for item, day in self.items)
        return (
            f"{len(self.items)} item(s) filed here were sealed to a weekly subkey replaced"
            f" after a compromise (`keys subkeys new --rekey`): {named}. Whoever holds the"
            " leaked store can read them. One that came after the re-keyed list was installed"
            " on the server shows the server sealing to a list it must refuse: its list files"
            " and the audit log's record of the replaced keys were put back or rewritten"
        )


REPLACED_HINT: Final = (
    "tell the administrators and the oversight body, not through the server: have the"
    " re-keyed list installed again (`raazdar keyring subkeys install --rekeyed`) and the"
    " server examined, and warn these items' sources through the reviewers' replies"
)


@dataclass(frozen=True)
class KeyringBehind:
    """The server's export names a later keyring than the one in force here."""

    server: int
    here: int

    def message(self) -> str:
        """Say that a keyring is missing here, and what trusting the old one means."""
        return (
            f"the server's keyring in force is v{self.server}, this workspace's v{self.here}: "
            "until the later keyrings are installed here it believes the server keys and "
            "reviewers they may have dropped. Ask the administrators for them and install "
            "each in turn (`keys install`)"
        )


@dataclass(frozen=True)
class KeyringSwapped:
    """The server's export names the version in force here, with another keyring's digest."""

    version: int
    server: bytes
    here: bytes

    def message(self) -> str:
        """Say that the server holds a keyring the authorities did not give this workspace."""
        return (
            f"the server's keyring in force v{self.version} (digest {format_digest(self.server)})"
            f" is not the v{self.version} installed here ({format_digest(self.here)}): a keyring"
            " the authorities did not give this workspace was installed on the server, and it "
            "may seal reports to, or trust, keys of someone else's. Tell the administrators and "
            "the oversight body, not through the server, and compare both with the authorities'"
            " record (`keys show`)"
        )


@dataclass(frozen=True)
class KeyringOlder:
    """The server's export names an older keyring than the one in force here."""

    server: int
    here: int

    def message(self) -> str:
        """Say that the server went back to a keyring a later one replaced, and what it costs."""
        return (
            f"the server's keyring in force is v{self.server}, older than this workspace's "
            f"v{self.here}: it still seals browser reports to the reviewers, and signs with "
            "the server keys, that later keyrings may have dropped. Either they were never "
            "installed there (install each: `raazdar keyring install`), or someone removed "
            "them from its instance directory or restored an old backup: if they had been "
            "installed, tell the administrators and the oversight body, not through the server"
        )


@dataclass
class _Filed:
    entry: ExportEntry
    status: str
    blob: str
    data: bytes | None = None  # the blob itself when small enough to be a row
    info: dict[str, object] | None = None
    problem: str | None = None
    content: Content | None = None
    binding: SourceBinding | None = None
    prekeys: ReplyPrekeys | None = None
    malformed: str | None = None  # why the record's reply prekeys do not parse
    sent: FileSent | None = None  # a file's plaintext digest, name and length
    keyring: KeyringSeen | None = None  # the keyring its sealer verified, if it says
    leaked: bool = False  # opened only by subkeys a re-keying replaced
    envelope: bytes | None = None  # the bundle item hash of its envelope


@dataclass(frozen=True)
class Dispute:
    """An item whose source's reply key is disputed: filed, but no reply goes to its source."""

    item: str
    designation: str
    why: str

    def message(self) -> str:
        """Say what happened, what it means for replies, and the two things it may be."""
        return (
            f"item {self.item}: {self.why}. Source {self.designation} is DISPUTED from now on: "
            "the item is filed and can be read, but NO reply can go to them, by any key. "
            "Either their device is broken or hostile, or the server gave a reply key the "
            f"source did not make: {prekeys.SERVER_HINT}"
        )


def import_bundle(u: Unlocked, bundle: Path, progress: Progress | None = None) -> ImportSummary:
    """Verify an export bundle and file every item it holds that is not filed yet.

    `progress`, if given, is called with (items done, items in all) as items pass.
    """
    ws = u.workspace
    try:
        with _regular_file(bundle) as src, scratch(ws) as tmp, _collector_paused():
            reader, manifest = read_export(src, server_keys(ws), ws.pinned.instance_id)
            digest = manifest_digest(reader.manifest)
            exports.check(u.conn, manifest, digest)
            _check_known_sources(u, manifest)
            # A bundle numbered before one imported here (a stick kept back) names the keyring,
            # the workspace key and the held items the server had then: the later one told now's.
            # Its sources' signed word that they cannot open a reply (`unheld`) is as true late.
            newest = _newest(u, manifest)
            items = _verified_items(reader, tmp)
            summary = _file_all(u, manifest, items, progress, digest, newest=newest)
            summary.sequence = manifest.chain.sequence if manifest.chain else None
            if newest:
                summary.keyring_behind = _keyring_behind(ws, manifest.keyring_version)
                summary.keyring_older = _keyring_older(ws, manifest.keyring_version)
            summary.keyring_swapped = _keyring_swapped(ws, manifest)
            summary.sources, summary.items = len(manifest.sources), len(manifest.entries)
            if summary.filed:
                # Else its blobs lay after every packet escalated since the import before, in
                # the order of writing: that each went before this import came.
                summary.rebuilt = rebuild(u.conn)
            return summary
    except VerificationError as exc:
        raise ImportRefused(f"bundle refused: {exc}", hint=_HINTS.get(exc.rule)) from exc
    except UnsupportedVersionError as exc:
        raise ImportRefused(
            f"bundle refused: {exc}",
            hint="the server runs a newer release than this review tool, and its bundle says "
            "what this tool cannot read (a restore, say): install the review tool of the "
            "server's release (docs/review-workstation.md), then import it; it stays on the "
            "server until then",
        ) from exc
    except CryptoError as exc:
        raise ImportRefused(
            f"bundle refused: {exc}", hint="the bundle is damaged: copy it again"
        ) from exc
    except FileNotFoundError as exc:
        raise ImportRefused(f"no bundle at {bundle}") from exc


def _regular_file(path: Path) -> BinaryIO:
    """Open a bundle for reading, refusing what a stick can hold in its place: a named pipe
    (opened as a file, one no one writes to blocks for ever) or a device, linked or not."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ImportRefused(
                f"{path} is not a file (a pipe, a device, or a link to one)",
                hint="a bundle is a plain file: copy it onto the stick again",
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _catch_up(u: Unlocked, manifest: ExportManifest) -> notices.Behind | None:
    """Number the next notices past the server's counts (a bundle of format 5 says them)."""
    if manifest.notice_counts is None:
        return None
    return notices.catch_up(u, manifest.notice_counts)


def _newest(u: Unlocked, manifest: ExportManifest) -> bool:
    """Whether no bundle numbered after this one has been imported here."""
    if manifest.chain is None:
        return True  # unnumbered: imported only before the chain began
    return all(n <= manifest.chain.sequence for n in exports.seen(u.conn))


def _keyring_behind(ws: Workspace, server: int) -> KeyringBehind | None:
    """The server's word that it seals to a later keyring than this workspace's, if it is."""
    signed = ws.keyring()
    if signed is None or server <= signed.manifest.version:
        return None
    return KeyringBehind(server, signed.manifest.version)


def _keyring_swapped(ws: Workspace, manifest: ExportManifest) -> KeyringSwapped | None:
    """The server's word that its keyring of this workspace's version is another one."""
    signed = ws.keyring()
    server = manifest.keyring_digest
    if signed is None or server is None or manifest.keyring_version != signed.manifest.version:
        return None
    here = signed.manifest.digest()
    return (
        None
        if hmac.compare_digest(server, here)
        else KeyringSwapped(manifest.keyring_version, server, here)
    )


def _keyring_older(ws: Workspace, server: int) -> KeyringOlder | None:
    """The server's word that it seals to an older keyring than this workspace's, if it is."""
    signed = ws.keyring()
    if signed is None or server >= signed.manifest.version:
        return None
    return KeyringOlder(server, signed.manifest.version)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for an import, as `entities.extract` does.

    An import keeps every item's rows, contents and readings until it commits: tens of
    thousands of objects that live to its end, which each of the collector's passes
    walked to free next to nothing (3 % of a large import's CPU). What an import makes
    holds almost no reference cycles; the collector runs again once it is over.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_HINTS: Final = {
    "signer": "the bundle is not signed by the server key pinned at `init`",
    "instance": "the bundle is for another Raazdar instance",
    "hash": "the bundle was altered or damaged: copy it again",
    "signature": "the bundle was altered or damaged: copy it again",
}


def _verified_items(reader: BundleReader, tmp: Path) -> Iterator[tuple[bytes, bytes | Path]]:
    """Each item in order with its hash, whole and checked, before anyone reads it.

    Small items stay in memory and large ones go to scratch (ciphertext either
    way); bytes after the last item raise when the iteration ends, before the
    caller commits anything.
    """
    for index, (item, blocks) in enumerate(reader.iter_items()):
        if item.size <= _BUFFER_MAX:
            yield item.hash, b"".join(blocks)
            continue
        path = tmp / f"{index:06d}.item"
        with path.open("xb") as out:
            for block in blocks:
                out.write(block)
        yield item.hash, path


def _file_all(
    u: Unlocked,
    manifest: ExportManifest,
    envelopes: Iterator[tuple[bytes, bytes | Path]],
    progress: Progress | None,
    digest: bytes,
    *,
    newest: bool,
) -> ImportSummary:
    summary = ImportSummary(manifest.bundle_id)
    known = dict(u.conn.execute("SELECT id, status FROM items").fetchall())
    # v2 envelopes are sealed to a week's subkey (its key id is the subkey's), v1 to long-term keys.
    store = subkeys.load(u)
    held: list[PrivateKey | HybridPrivateKey] = [*u.identities, *(k for _, k in store.keys)]
    mine = {key.public_key.fingerprint.key_id: key for key in held}
    # A week's secrets before its newest were replaced by a re-keying: their store leaked.
    replaced = frozenset(
        key.public_key.fingerprint.key_id for p, key in store.keys if key is not store.get(p)
    )
    others = {
        PublicKey.from_text(text).fingerprint.key_id: reviewer
        for reviewer, text in u.conn.execute("SELECT reviewer, encryption_key FROM reviewer_keys")
    }
    # Worked out once: each derivation of a public key costs a scalar multiplication.
    workspace_key = u.key.public_key
    keys = _Keys(mine, others, workspace_key, _listed(u), replaced)
    written: list[Path] = []
    superseded: list[Path] = []
    # Inline blobs wait in memory for the transaction; past this, blobs are files.
    inline_left = _INLINE_BUDGET
    ahead = Ahead(len(manifest.entries))
    seen: dict[bytes, str] = {}  # envelope hash to the item filed with it, in this bundle
    found: list[copies.Copy] = []
    resent: list[tuple[bytes, str]] = []  # (hash, item) of envelopes filed here already
    try:
        filed = []
        for done, entry in enumerate(manifest.entries, start=1):
            if progress is not None:
                progress(done, len(manifest.entries))
            hashed, envelope = next(envelopes)
            if known.get(entry.id) == "filed":
                summary.already += 1
                resent.append((hashed, entry.id))
                continue
            first = seen.get(hashed) or copies.original(u.conn, hashed)
            if first is not None and first != entry.id:
                found.append(copies.Copy(entry.id, first))
                continue
            inline = inline_left > 0
            result = _file_one(u, entry, envelope, keys, written, inline=inline)
            if result.content is not None:
                ahead.add(result.content)
            if result.problem is not None:
                summary.problems.append(f"item {entry.id}: {result.problem}")
            if result.status == "filed":
                seen[hashed], result.envelope = entry.id, hashed
            if result.status == "filed" or entry.id not in known:
                filed.append(result)
                inline_left -= len(result.data or b"")
            else:
                # Still unreadable: the copy kept the first time stands.
                remove_files([u.workspace.blobs / result.blob])
        for _ in envelopes:  # the end of the bundle is checked here
            raise FormatError("more items than entries")
        summary.disputes = _disputes(u, manifest, filed)
        summary.forks = forked(u.conn, ((f.entry.id, f.entry.source, f.keyring) for f in filed))
        summary.stale = stale(
            u.conn, ((f.entry.id, f.entry.source, f.keyring, f.entry.day) for f in filed)
        )
        summary.unknown_receipts = receipts.unknown(u.conn, manifest)
        leaked = tuple((f.entry.id, f.entry.day.isoformat()) for f in filed if f.leaked)
        if leaked:
            summary.replaced.append(Replaced(leaked))
        if not filed:
            remove_files(written)
            with transaction(u.conn):
                audit.require_current(u)
                exports.record(u.conn, manifest, digest)
                copies.backfill(u.conn, resent)
                summary.forgotten = receipts.forgotten(u.conn, manifest)
                summary.applied_after_all = receipts.confirm(u.conn, manifest)
                summary.restored = receipts.restored(u.conn, manifest)
                summary.notices_behind = _catch_up(u, manifest)
                summary.unread, summary.forged_unheld = unheld.settle(u, manifest.unheld or ())
                if newest:
                    summary.held = acks.settle(u, manifest.acks)
                    summary.other_ack_key = acks.other_key(u, manifest.acks)
                summary.copies = copies.numbered(u.conn, found)
                # Last: the record, and the prekeys `unheld` marked used, are under the head's tag.
                head.put(u.conn, u.key)
                if found:
                    audit.append(u, "import", None, _copied(manifest, found))
            return summary
        with transaction(u.conn):
            exports.record(u.conn, manifest, digest)
            summary.forgotten = receipts.forgotten(u.conn, manifest)
            summary.applied_after_all = receipts.confirm(u.conn, manifest)
            summary.restored = receipts.restored(u.conn, manifest)
            disputed = {d.designation for d in summary.disputes}
            summary.new_reports = _record(u, manifest, filed, superseded, ahead, disputed)
            # After the filing: a source new here has its row, and its "received" notice.
            summary.notices_behind = _catch_up(u, manifest)
            summary.unread, summary.forged_unheld = unheld.settle(u, manifest.unheld or ())
            if newest:
                summary.held = acks.settle(u, manifest.acks)
                summary.other_ack_key = acks.other_key(u, manifest.acks)
            summary.filed = sum(1 for f in filed if f.status == "filed")
            copies.record(u.conn, ((f.envelope, f.entry.id) for f in filed if f.envelope))
            copies.backfill(u.conn, resent)
            summary.copies = copies.numbered(u.conn, found)
            detail: dict[str, object] = {
                "bundle": manifest.bundle_id,
                "filed": summary.filed,
                "already": summary.already,
                "unreadable": len(summary.problems),
            }
            if disputed:
                detail["disputed"] = sorted(disputed)
            if summary.forks:
                detail["forked"] = sorted({f.item for f in summary.forks})
            if summary.stale:
                detail["stale"] = sorted({f.item for f in summary.stale})
            if leaked:
                detail["replaced_subkey"] = sorted(item for item, _ in leaked)
            if found:
                detail["copies"] = sorted(c.item for c in found)
            audit.append(u, "import", None, detail)
            conflicts.route(u)  # new reports naming a reviewer's declaration go to others
    except BaseException:
        remove_files(written)
        raise
    finally:
        ahead.close()
    remove_files(superseded)
    return summary


def _file_one(
    u: Unlocked,
    entry: ExportEntry,
    envelope: bytes | Path,
    keys: _Keys,
    written: list[Path],
    *,
    inline: bool,
) -> _Filed:
    """Re-seal one item to `keys`' workspace key with whichever of mine opens it."""
    mine, workspace_key = keys.mine, keys.workspace
    with _source(envelope) as src:
        try:
            # The header is parsed once: its recipients choose the keys, then it is opened.
            held = HeldEnvelope(src)
        except CryptoError as exc:
            return _keep(u, entry, envelope, written, f"damaged envelope ({exc})", inline=inline)
        key_ids = [s.key_id for s in held.header.stanzas]
        usable = [mine[k] for k in key_ids if k in mine]
        if not usable:
            problem = _unheld(u, keys, key_ids, held.header.version is V2)
            return _keep(u, entry, envelope, written, problem, status="pending", inline=inline)
        blob = _blob_name()
        # Reports are indexed, and so are attachments that turn out to be plain text;
        # what a file is shows only once it is open, so every item is captured (bounded).
        capture = True
        try:
            if inline and _size(envelope) <= INLINE_MAX:
                out = io.BytesIO()
                opened, text, digest = _reseal(held, out, usable, workspace_key, capture)
                data: bytes | None = out.getvalue()
            else:
                path, dst = create_file(u.workspace, blob)
                written.append(path)
                with dst:
                    opened, text, digest = _reseal(held, dst, usable, workspace_key, capture)
                    dst.flush()
                    os.fsync(dst.fileno())
                data = None
        except CryptoError as exc:
            partial = u.workspace.blobs / blob
            if partial in written:
                remove_files([partial])
                written.remove(partial)
            return _keep(u, entry, envelope, written, f"damaged envelope ({exc})", inline=inline)
    info: dict[str, object] = {
        "kind": opened.metadata.kind,
        "type": opened.metadata.content_type,
        "name": opened.metadata.filename,
        "length": opened.length,
    }
    content = None
    found = None
    malformed = None
    if opened.metadata.kind == "report" and text is not None:
        content = parse_report(text)
        try:
            found = prekeys.in_report(text)
        except CryptoError as exc:
            malformed = str(exc)  # disputes its source (`_disputes`), loses nothing
    elif opened.metadata.filename or text is not None:
        content = Content(message=_file_text(opened.metadata, text))
    return _Filed(
        ExportEntry(entry.id, entry.submission, entry.source, opened.metadata.kind, entry.day),
        "filed",
        blob,
        data=data,
        info=info,
        content=content,
        binding=opened.metadata.source,
        prekeys=found,
        malformed=malformed,
        sent=(
            FileSent(digest, opened.metadata.filename, opened.length)
            if opened.metadata.kind != "report"
            else None
        ),
        keyring=opened.metadata.keyring,
        leaked=all(k in keys.replaced for k in key_ids if k in mine),
    )


class _Keys(NamedTuple):
    """The keys an import opens and re-seals with, and what it knows of others' keys."""

    mine: dict[bytes, PrivateKey | HybridPrivateKey]  # the unlocked reviewer's, by key id
    others: dict[bytes, str]  # reviewers' keys enrolled here: their names, by key id
    workspace: PublicKey | HybridPublicKey  # X-Wing, or X25519 in a workspace not upgraded yet
    listed: dict[bytes, str]  # reviewers' keys in the keyring in force, by key id
    replaced: frozenset[bytes]  # the reviewer's subkeys a re-keying replaced, by key id


def _listed(u: Unlocked) -> dict[bytes, str]:
    """Every long-term key the keyring in force lists (X25519 and X-Wing): its reviewer."""
    signed = u.workspace.keyring()
    listed: dict[bytes, str] = {}
    for r in signed.manifest.recipients if signed is not None else ():
        listed[r.encryption_key.fingerprint.key_id] = r.id
        if r.hybrid_key is not None:
            listed[r.hybrid_key.fingerprint.key_id] = r.id
    return listed


def _unheld(u: Unlocked, keys: _Keys, key_ids: list[bytes], v2: bool) -> str:
    """Why an item sealed to none of the unlocked reviewer's keys is kept unread, and what to do."""
    holders = sorted({keys.others[k] for k in key_ids if k in keys.others})
    if holders:
        return f"sealed to reviewer {', '.join(holders)}: import it unlocked as them"
    listed = sorted({keys.listed[k] for k in key_ids if k in keys.listed})
    if listed:
        return (
            f"sealed to reviewer {', '.join(listed)}'s key in the keyring, not enrolled in this"
            " workspace: enrol it, then import it unlocked as them"
        )
    if v2:
        # Sealers seal v2 only to weekly subkeys (keyring format 3, docs/PROTOCOL.md §8.9),
        # which only their reviewer's workstation knows: none of this reviewer's opens it.
        return (
            f"sealed to a weekly subkey {u.reviewer} does not hold: another reviewer's"
            " (import it unlocked as them), or of a week destroyed here"
        )
    return "sealed to no key enrolled in this workspace"


def _info_json(info: dict[str, object]) -> bytes:
    """An item's info as `canonical_json` writes it, without its walk over the value's types.

    The info is made in `_file_one` of strings, one string or None and one length, all
    of types canonical JSON takes: the walk, most of `canonical_json`'s time on so small
    a value, could refuse nothing here. Text that is not valid Unicode is refused alike.
    """
    text = json.dumps(info, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FormatError("text is not valid Unicode (lone surrogate)") from exc


_SERVER_HINT: Final = prekeys.SERVER_HINT


def _check_known_sources(u: Unlocked, manifest: ExportManifest) -> None:
    """Refuse a bundle that gives a designation known here another reply key."""
    known = dict(u.conn.execute("SELECT designation, public_key FROM sources").fetchall())
    for designation, key in sorted(manifest.sources.items()):
        if designation in known and known[designation] != key.to_text():
            raise ImportRefused(
                f"bundle refused: it gives source {designation} a reply key other than "
                "the one an earlier bundle gave them (replies would go to someone else)",
                hint=_SERVER_HINT,
            )


def _disputes(u: Unlocked, manifest: ExportManifest, filed: list[_Filed]) -> list[Dispute]:
    """Each item whose source's device disagrees with the bundle's key; its prekeys are dropped.

    A source's device seals what it will, and a compromised server can make items of
    its own: either can dispute a designation, so neither may stop the rest of a bundle
    (which the server exports again until it is acknowledged), and no reply goes to it.
    """
    submissions = list({f.entry.submission for f in filed if f.prekeys is not None})
    signers: dict[str, str] = _column(u.conn, _PREKEY_SIGNERS, submissions)
    disputes = []
    for f in filed:
        why = _disputed(f, manifest, signers)
        if why is not None:
            disputes.append(Dispute(f.entry.id, f.entry.source, why))
    disputed = {d.designation for d in disputes}
    disputed.update(r[0] for r in u.conn.execute("SELECT designation FROM sources WHERE disputed"))
    for f in filed:
        if f.entry.source in disputed:
            f.prekeys = None  # a disputed source's prekeys are neither filed nor sealed to
    return disputes


# The signer of each report's prekeys on file here, by submission.
_PREKEY_SIGNERS: Final = (
    "SELECT r.submission, p.signer FROM reply_prekeys p JOIN reports r ON r.num = p.report"
    " WHERE r.submission IN (SELECT value FROM json_each(?))"
)


def _disputed(f: _Filed, manifest: ExportManifest, signers: dict[str, str]) -> str | None:
    """Why an item's binding or prekeys dispute its source's reply key; None if they agree."""
    if f.malformed is not None:
        return f"its reply prekeys are malformed ({f.malformed})"
    binding = f.binding
    if binding is None:
        return None  # from the browser form: the server derived the key (see PROTOCOL.md)
    try:
        binding.verify()
    except VerificationError as exc:
        return f"the reply key sealed in it is not signed by its source ({exc})"
    if binding.reply_key != manifest.sources[f.entry.source]:
        return (
            "the bundle gives its source a reply key other than the one sealed into the "
            "report by their device"
        )
    if f.prekeys is None:
        if f.entry.kind == "report" and binding.prekeys is not None:
            return "it lacks the reply prekeys its source signed"
        return None
    try:
        binding.check(f.prekeys)
    except VerificationError:
        return "its reply prekeys are not the ones its source signed"
    signer = binding.signer.to_text()
    if signers.setdefault(f.entry.submission, signer) != signer:
        return "its report has reply prekeys signed by a second key"
    return None


def _file_text(metadata: Metadata, text: bytes | None) -> str:
    """What an attachment is found by: its name, and its words when it is plain text."""
    name = metadata.filename or ""
    if text is None or metadata.content_type.split(";")[0].strip() not in _TEXT_TYPES:
        return name
    return f"{name}\n{text.decode('utf-8', errors='replace')}"


def _keep(
    u: Unlocked,
    entry: ExportEntry,
    envelope: bytes | Path,
    written: list[Path],
    problem: str,
    status: str = "damaged",
    *,
    inline: bool,
) -> _Filed:
    """Keep an unreadable envelope as it came (ciphertext), to retry or inspect later."""
    blob = _blob_name()
    if inline and isinstance(envelope, bytes) and len(envelope) <= INLINE_MAX:
        return _Filed(entry, status, blob, data=envelope, problem=problem)
    path, dst = create_file(u.workspace, blob)
    written.append(path)
    with dst, _source(envelope) as src:
        shutil.copyfileobj(src, dst)
        # On the disk before the import's record: the server deletes its copy once acked.
        dst.flush()
        os.fsync(dst.fileno())
    return _Filed(entry, status, blob, problem=problem)


def _source(envelope: bytes | Path) -> BinaryIO:
    return io.BytesIO(envelope) if isinstance(envelope, bytes) else envelope.open("rb")


def _size(envelope: bytes | Path) -> int:
    return len(envelope) if isinstance(envelope, bytes) else envelope.stat().st_size


def _blob_name() -> str:
    return f"{secrets.token_hex(16)}.rze"


class _Tee:
    """Pass plaintext on to the re-sealing writer, keeping a bounded copy for the index and
    the plaintext's SHA-256 (one file sent under two codenames is one writer's)."""

    def __init__(self, writer: SealingWriter, capture: bool) -> None:
        self._writer = writer
        self._copy: io.BytesIO | None = io.BytesIO() if capture else None
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        if self._copy is not None:
            if self._copy.tell() + len(data) > _MAX_INDEXED:
                self._copy = None
            else:
                self._copy.write(data)
        return self._writer.write(data)

    def copy(self) -> bytes | None:
        return self._copy.getvalue() if self._copy is not None else None


def _reseal(
    src: HeldEnvelope,
    dst: BinaryIO,
    identities: Iterable[PrivateKey | HybridPrivateKey],
    workspace_key: PublicKey | HybridPublicKey,
    capture: bool,
) -> tuple[Opened, bytes | None, str]:
    """Decrypt `src` (its header read) straight into an envelope sealed to the workspace key;
    what it captured of the plaintext, and the plaintext's SHA-256."""
    writer = SealingWriter(dst, [workspace_key], _BLOB_METADATA)
    tee = _Tee(writer, capture)
    try:
        opened = src.open(cast(BinaryIO, tee), identities)
    except BaseException:
        writer.abort()
        raise
    writer.finish()
    return opened, tee.copy(), tee.digest.hexdigest()


def _copied(manifest: ExportManifest, found: list[copies.Copy]) -> dict[str, object]:
    """The audit entry of an import that filed nothing but copies."""
    return {
        "bundle": manifest.bundle_id,
        "filed": 0,
        "copies": sorted(c.item for c in found),
    }


def _record(
    u: Unlocked,
    manifest: ExportManifest,
    filed: list[_Filed],
    superseded: list[Path],
    ahead: Ahead,
    disputed: set[str],
) -> int:
    """Write the rows of one import, marking `disputed` sources; returns how many reports are new.

    Blob files that the new rows replace are listed in `superseded`, for the
    caller to remove only once the transaction has committed. `ahead` reads each
    content for its report's entity record, those its workers have read first.
    """
    conn = u.conn
    conn.execute(
        "INSERT OR IGNORE INTO bundles VALUES (?, ?, date('now'), ?)",
        (manifest.bundle_id, manifest.created.isoformat(), manifest.keyring_version),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO sources (designation, public_key) VALUES (?, ?)",
        [(designation, key.to_text()) for designation, key in manifest.sources.items()],
    )
    # For good: a later bundle (the server can make browser-form items) never clears it.
    conn.executemany(
        "UPDATE sources SET disputed = 1 WHERE designation = ?", [(d,) for d in sorted(disputed)]
    )
    nums, fresh = _reports(u, filed)
    # Each item's blob as filed before this row: read at once, kept current as rows pass.
    blobs = _column(conn, _ITEM_BLOBS, [f.entry.id for f in filed])
    texts: dict[int, str] = {}
    contents: dict[int, list[Content]] = {}
    files: dict[int, list[FileSent]] = {}
    rows = []
    for f in filed:
        e = f.entry
        num = nums[e.submission]
        sealed_info = (
            u.key.seal_record(_info_json(f.info), item_context(e.id))
            if f.info is not None
            else None
        )
        rows.append(
            (e.id, num, manifest.bundle_id, e.kind, f.status, f.problem, f.blob, sealed_info)
        )
        old, blobs[e.id] = blobs.get(e.id), f.blob
        if old and (path := drop(u.workspace, old)) is not None:
            superseded.append(path)
        if f.prekeys is not None and f.binding is not None:
            prekeys.file(conn, e.source, num, f.binding.signer, f.prekeys)
        if f.content is not None and e.kind == "report":
            if num in fresh:
                fresh[num] = triage.from_source(fresh[num], f.content.fields)
            else:
                _source_answers(u, num, f.content)
        if f.content is not None:
            texts[num] = f"{texts.get(num, '')}\n{f.content.searchable()}"
            contents.setdefault(num, []).append(f.content)
        if f.sent is not None:
            files.setdefault(num, []).append(f.sent)
    put_inline_many(u.workspace, [(f.blob, f.data) for f in filed if f.data is not None])
    conn.executemany(
        "INSERT INTO items (id, report, bundle, kind, status, problem, blob, info)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
        " status = excluded.status, problem = excluded.problem, blob = excluded.blob,"
        " info = excluded.info, kind = excluded.kind",
        rows,
    )
    conn.executemany(
        "UPDATE reports SET state = ? WHERE num = ?",
        [(seal_state(u, num, state), num) for num, state in fresh.items()],
    )
    search.add_segment(u, texts)
    corroboration.file_contents(u, contents, ahead.read, ahead.ready_first, files=files)
    return len(fresh)


def _reports(u: Unlocked, filed: list[_Filed]) -> tuple[dict[str, int], dict[int, State]]:
    """Each submission's report number, making the reports new here; and the new ones' states.

    A new report takes its source and day from its first item, and its number in
    the order its first item comes, as if the rows were written one by one.
    """
    conn = u.conn
    first: dict[str, ExportEntry] = {}
    for f in filed:
        first.setdefault(f.entry.submission, f.entry)
    nums = _column(conn, _REPORT_NUMS, list(first))
    new = [e for e in first.values() if e.submission not in nums]
    conn.executemany(
        "INSERT INTO reports (submission, source, day, state) VALUES (?, ?, ?, x'')",
        [(e.submission, e.source, e.day.isoformat()) for e in new],
    )
    made = _column(conn, _REPORT_NUMS, [e.submission for e in new])
    # The source learns that reviewers have it, unless told more already.
    for source in dict.fromkeys(e.source for e in new):
        notices.post(u, source, triage.NOTICES["new"], replace=False)
    nums.update(made)
    return nums, {num: State() for num in sorted(made.values())}


# Rows for many keys at once: the keys go in as one JSON array, bound like any value.
_REPORT_NUMS: Final = (
    "SELECT submission, num FROM reports WHERE submission IN (SELECT value FROM json_each(?))"
)
_ITEM_BLOBS: Final = "SELECT id, blob FROM items WHERE id IN (SELECT value FROM json_each(?))"


def _column(conn: sqlite3.Connection, query: str, keys: list[str]) -> dict[str, Any]:
    """Run `query` for all of `keys` at once: its two columns as a dict."""
    if not keys:
        return {}
    return dict(conn.execute(query, (json.dumps(keys),)).fetchall())


def _source_answers(u: Unlocked, num: int, content: Content) -> None:
    """Fill a report's agency and district from its form, whichever bundle or order it came in."""
    state = read_state(u, num)
    filled = triage.from_source(state, content.fields)
    if filled != state:
        u.conn.execute(
            "UPDATE reports SET state = ? WHERE num = ?", (seal_state(u, num, filled), num)
        )
