"""A reviewer's weekly subkey secrets: kept sealed in the workspace, issued, and destroyed.

Each reviewer's store (`crypto.subkeys.SubkeySecrets`) is one envelope in
`subkeys/<reviewer>.rze`, sealed to that reviewer's long-term keys and signed
by them, so only their key file and passphrase open it, and a store planted by
someone without them (whose secrets the planter would know) is refused before
its keys are used or published. It never touches a disk in the clear.

A week's secret is destroyed once everything sealed to it has been imported
(docs/PROTOCOL.md §5A.8, rule D1): the store is written again without it and
the old file replaced by a rename, and the audit log says which weeks went and
why. A sealed record of the weeks held and destroyed (a `meta` row) is changed
in the same transaction as the audit entry; if a crash falls between the
rename and that commit, the next use of the store finds the weeks the record
still holds but the store does not, and writes the entry then. So the log may
be late, never wrong: it never says a week is gone while its secret is kept.

Once a reviewer has no key in service here (revoked, or every key retired),
nobody can unlock as them, so their store serves no one but a kept copy of a
retired key file: it is destroyed then, and the audit log says so.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from crypto import (
    HybridPrivateKey,
    HybridPublicKey,
    Metadata,
    Period,
    PublicKey,
    SignedSubkeyList,
    SubkeyError,
    SubkeySecrets,
    open_bytes,
    read_header,
    seal_bytes,
    sign_subkeys,
)
from crypto import constants as C
from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.errors import CryptoError
from crypto.subkeys import closed_through, destroy, destroyable, generate, verify_subkeys
from review.errors import ReviewError, WorkspaceError
from review.intake import exports
from review.keys.keyring import in_force
from review.workspace import Unlocked, Workspace, audit, flush_names, head
from review.workspace.blobs import open_blob
from review.workspace.erase import destroy as destroy_file
from review.workspace.noatime import read_quietly
from review.workspace.schema import transaction

STORE_DIR: Final = "subkeys"
_METADATA: Final = Metadata("subkey-secrets", "application/vnd.raazdar.subkey-secrets+json")
# Each reviewer's sealed record of weeks held and destroyed is the meta row `subkeys:<id>`,
# under the head's tag: one of an older copy, put back, is refused at unlock.
RECORD: Final = head.SUBKEYS
RULE_D1: Final = "D1"
RULE_REVOKED: Final = "revoked"
# Days after a week ends by this workstation's clock past which a secret still held is
# warned of: weekly exports and imports destroy it within about eight.
OVERDUE_DAYS: Final = 14
# A day's lists are numbered from its ordinal times this; a reviewer issues far fewer a day.
SEQUENCES_PER_DAY: Final = 1000


class SubkeyRefused(ReviewError):
    """A subkey action that the rules forbid (a week still needed) or the store cannot do."""


@dataclass(frozen=True)
class Status:
    """A reviewer's subkeys as the workspace sees them on a given day."""

    held: tuple[Period, ...]
    destroyed: tuple[Period, ...]
    imported_through: Period | None
    destroyable: tuple[Period, ...]
    waiting: tuple[Period, ...]  # closed and imported, but an item sealed to them is pending
    days_left: int  # days from today on which the store holds this week's subkey
    # Ended over OVERDUE_DAYS ago by this workstation's clock, held, and neither destroyable
    # nor waiting: what D1 keeps if the server dates its bundles in the past.
    overdue: tuple[Period, ...] = ()
    newest_export: dt.date | None = None  # E of rule D1: the day imported_through comes from
    backdated: tuple[exports.Backdated, ...] = ()


def store_path(u: Unlocked, reviewer: str | None = None) -> Path:
    """Where a reviewer's sealed store is kept (default: the unlocked reviewer's)."""
    return u.workspace.root / STORE_DIR / f"{reviewer or u.reviewer}.rze"


def load(u: Unlocked) -> SubkeySecrets:
    """Open the reviewer's store (empty if none yet), recording any destruction a crash hid."""
    destroy_retired(u)
    store = _read(u)
    _reconcile(u, store)
    return store


def held_keys(u: Unlocked) -> list[HybridPrivateKey]:
    """The secret subkeys the reviewer holds, to open envelopes sealed to them."""
    return [key for _, key in load(u).keys]


def issue(
    u: Unlocked, weeks: int, today: dt.date, *, rekey: bool = False
) -> tuple[SignedSubkeyList, tuple[Period, ...]]:
    """Hold a subkey for each of `weeks` weeks from this one; return the list to publish.

    Weeks already held keep their secrets (a new list repeats their keys), so
    lists issued one after another never disagree. With `rekey` (a copy of the
    store leaked) every held week from this one on gets a new secret, listed
    from now on; the replaced one is kept, since reports may already be sealed
    to it, and goes with its week. Returns the list and the weeks made (or re-keyed).
    """
    if not 1 <= weeks <= C.SUBKEYS_MAX_PERIODS:
        raise SubkeyRefused(f"a list covers 1-{C.SUBKEYS_MAX_PERIODS} weeks")
    store = load(u)
    this_week = Period.of(today)
    last = this_week.after(weeks - 1)
    start = max(this_week, store.periods[-1].after() if store.periods else this_week)
    fresh = SubkeySecrets()
    if start <= last:
        fresh = generate(start, _count(start, last))
        store = store.merged(fresh)
        with transaction(u.conn):
            audit.append(u, "subkeys-new", None, {"weeks": [str(p) for p in fresh.periods]})
            _record(u, store, destroyed=())
            _write(u, store)
    made = fresh.periods
    if rekey:
        doomed = tuple(p for p in store.periods if this_week <= p < start)
        if doomed:
            store = store.rekeyed(doomed)
            with transaction(u.conn):
                audit.append(u, "subkeys-rekey", None, {"weeks": [str(p) for p in doomed]})
                _record(u, store, destroyed=())
                _write(u, store)
        made = doomed + made
    # Bound to the pinned instance and the keyring in force (1 before any is
    # installed): a reviewer of two instances signs lists neither server can serve
    # as the other's (docs/PROTOCOL.md §5A.8). Numbered after every list before it,
    # so a device that saw this one refuses an earlier one of the same day.
    manifest = in_force(u.workspace)
    sequence = next_sequence(_recorded_sequence(u), today)
    listed = store.public_list(
        u.signing.verify_key,
        today,
        u.workspace.pinned.instance_id,
        manifest.version if manifest is not None else 1,
        sequence,
    )
    with transaction(u.conn):
        _record(u, store, destroyed=(), sequence=sequence)
    return sign_subkeys(listed, u.signing), made


def next_sequence(recorded: int, today: dt.date) -> int:
    """The number of the next list: past the last recorded, and past any of an earlier day.

    The day's floor keeps a workspace restored from an older backup from giving
    a number already spent to another list (which devices refuse as equivocation).
    """
    return max(recorded + 1, today.toordinal() * SEQUENCES_PER_DAY)


def adopt(u: Unlocked, sealed: bytes, listed: bytes, today: dt.date) -> tuple[Period, ...]:
    """Take into the store secret subkeys made elsewhere (the demo's); return the weeks added.

    `sealed` is the secrets sealed to the reviewer's keys, `listed` the public
    list they signed for those secrets. Only weeks whose secret matches a list
    signed by this reviewer's own key are taken: secrets someone else made (and
    knows) never enter the store, so no list issued from it can carry them.
    """
    try:
        plain, _ = open_bytes(sealed, u.identities)
        offered = SubkeySecrets.from_bytes(plain)
        signed = verify_subkeys(SignedSubkeyList.from_bytes(listed), u.signing.verify_key, today)
    except CryptoError as exc:
        raise SubkeyRefused(f"not adopted: {exc}") from exc
    if any(signed.key_for(p) != k.public_key for p, k in offered.keys):
        raise SubkeyRefused("not adopted: the secrets are not those of a list this reviewer signed")
    store = load(u)
    destroyed = set(_read_record(u)[1])
    fresh = SubkeySecrets(
        tuple((p, k) for p, k in offered.keys if p not in store.periods and p not in destroyed)
    )
    if not fresh.keys:
        return ()
    store = store.merged(fresh)  # no week twice: held ones were left out
    with transaction(u.conn):
        audit.append(u, "subkeys-new", None, {"weeks": [str(p) for p in fresh.periods]})
        _record(u, store, destroyed=())
        _write(u, store)
    return fresh.periods


def imported_through(u: Unlocked) -> Period | None:
    """Rule D1: the newest week of which every envelope is here, or None if unknown.

    That is `closed_through(E)` for E the day of the newest export bundle
    imported with its chain complete: every bundle numbered before it imported
    too (or covered by a resend). A bundle recorded before its day was kept
    gives the day of its `bundles` row, if it filed anything.
    """
    newest = newest_export(u)
    return closed_through(newest) if newest is not None else None


def newest_export(u: Unlocked) -> dt.date | None:
    """E of rule D1: the day of the newest export bundle imported with its chain complete."""
    seen = exports.seen(u.conn)
    first_missing = min(exports.gaps(u.conn).missing, default=None)
    complete = [s for n, s in seen.items() if first_missing is None or n < first_missing]
    filed = dict(u.conn.execute("SELECT id, created FROM bundles").fetchall())
    days = [
        s.created or dt.date.fromisoformat(filed[s.bundle_id])
        for s in complete
        if s.created is not None or s.bundle_id in filed
    ]
    return max(days) if days else None


def status(u: Unlocked, today: dt.date) -> Status:
    """What the reviewer holds and has destroyed, what could go today, and what is overdue.

    Rule D1 trusts the server's dates: a server that dates its bundles in the
    past keeps every week's secret here. This workstation's own clock tells:
    a week that ended over OVERDUE_DAYS ago and still cannot go is `overdue`.
    """
    store = load(u)
    newest = newest_export(u)
    through = closed_through(newest) if newest is not None else None
    allowed = destroyable(store, through, today)
    waiting = _waiting(u, store, allowed)
    late = today - dt.timedelta(days=OVERDUE_DAYS)
    return Status(
        held=store.periods,
        destroyed=tuple(_read_record(u)[1]),
        imported_through=through,
        destroyable=tuple(p for p in allowed if p not in waiting),
        waiting=waiting,
        days_left=_days_left(store, today),
        overdue=tuple(p for p in store.periods if p.last_day < late and p not in allowed),
        newest_export=newest,
        backdated=exports.backdated(u.conn),
    )


def destroy_weeks(
    u: Unlocked, today: dt.date, weeks: Iterable[Period] | None = None
) -> tuple[Period, ...]:
    """Destroy `weeks` (default: every destroyable week) under rule D1; return those destroyed.

    A week named that is not destroyable today refuses the whole call, and so
    does one that an item still waiting here (sealed to it, not yet opened) needs.
    """
    store = load(u)
    through = imported_through(u)
    allowed = destroyable(store, through, today)
    named = tuple(sorted(set(weeks))) if weeks is not None else None
    if named is not None:
        unheld = [p for p in named if p not in store.periods]
        if unheld:
            raise SubkeyRefused(f"no secret subkey is held for {unheld[0]}")
    doomed = named if named is not None else allowed
    waiting = _waiting(u, store, doomed)
    if named is not None and waiting:
        raise SubkeyRefused(
            f"{waiting[0]} is still needed: an item sealed to it is waiting here",
            hint="import that item's bundle again unlocked as this reviewer, then destroy",
        )
    doomed = tuple(p for p in doomed if p not in waiting)
    if not doomed:
        return ()
    try:
        kept = destroy(store, doomed, imported_through=through, today=today)
    except SubkeyError as exc:
        raise SubkeyRefused(
            f"not destroyed: {exc}",
            hint=_needed_hint(through, today),
        ) from exc
    detail = {
        "weeks": [str(p) for p in doomed],
        "rule": RULE_D1,
        "imported_through": str(through),
    }
    with transaction(u.conn):
        audit.append(u, "subkeys-destroy", None, detail)
        _record(u, kept, destroyed=doomed)
        _write(u, kept)  # the rename is the destruction; the commit records it
    return doomed


def after_import(u: Unlocked, today: dt.date) -> tuple[Period, ...]:
    """Destroy what an import made destroyable (nothing if the reviewer holds no store)."""
    if not store_path(u).exists():
        return ()
    return destroy_weeks(u, today)


def destroy_retired(u: Unlocked) -> tuple[str, ...]:
    """Destroy the stores of reviewers with no key in service here; return whose went.

    Only its reviewer's keys open a store, and once the last is retired nobody
    unlocks as them: what is left opens for a retired key file kept elsewhere,
    and every envelope of its weeks with it. The file goes before the audit
    entry is written, so a crash between them leaves the entry for the next call.
    """
    gone = []
    for (reviewer,) in u.conn.execute(
        "SELECT id FROM reviewers WHERE id NOT IN"
        " (SELECT reviewer FROM reviewer_keys WHERE NOT retired) ORDER BY id"
    ).fetchall():
        held, _ = _read_record(u, reviewer)
        path = store_path(u, reviewer)
        if not held and not path.exists():
            continue
        for stale in path.parent.glob(f".{reviewer}.*.part"):  # left by a crash before a rename
            destroy_file(stale)
        destroy_file(path)
        flush_names(path.parent)
        detail = {"reviewer": reviewer, "weeks": [str(p) for p in held or ()], "rule": RULE_REVOKED}
        with transaction(u.conn):
            audit.append(u, "subkeys-destroy", None, detail)
            _record(u, SubkeySecrets(), destroyed=held or (), reviewer=reviewer)
        gone.append(reviewer)
    return tuple(gone)


def recorded_key_ids(u: Unlocked, reviewer: str) -> frozenset[bytes] | None:
    """The key ids of the subkeys `reviewer` holds, as last recorded here (None: not recorded).

    Their store opens only for them; this is how the others see which envelopes
    need it. A record from before key ids were kept gives None until its
    reviewer next uses the store.
    """
    obj = _record_object(u, reviewer)
    if obj is None or not obj["held"]:
        return frozenset()
    if "keys" not in obj:
        return None
    return frozenset(b64decode(k) for k in obj["keys"])


def _needed_hint(through: Period | None, today: dt.date) -> str:
    if through is None:
        return "no export bundle with a complete chain is imported yet: import it first"
    limit = min(through, closed_through(today))
    return f"weeks up to {limit} can go today (rule D1, docs/PROTOCOL.md §5A.8)"


def _count(first: Period, last: Period) -> int:
    return (last.first_day - first.first_day).days // 7 + 1


def _days_left(store: SubkeySecrets, today: dt.date) -> int:
    if Period.of(today) not in store.periods:
        return 0
    last = Period.of(today)
    while last.after() in store.periods:
        last = last.after()
    return (last.last_day - today).days + 1


def _waiting(u: Unlocked, store: SubkeySecrets, weeks: Iterable[Period]) -> tuple[Period, ...]:
    """The weeks among `weeks` whose subkey an item kept unread here was sealed to."""
    ids = _pending_key_ids(u)
    return tuple(
        p for p in weeks if any(k.public_key.fingerprint.key_id in ids for k in store.all_of(p))
    )


def _pending_key_ids(u: Unlocked) -> set[bytes]:
    """The key ids that items kept as ciphertext, waiting for their reviewer, are sealed to."""
    ids: set[bytes] = set()
    for (blob,) in u.conn.execute("SELECT blob FROM items WHERE status = 'pending'"):
        with suppress(CryptoError, WorkspaceError), open_blob(u.workspace, blob) as src:
            ids.update(s.key_id for s in read_header(src).stanzas)
    return ids


def _read(u: Unlocked) -> SubkeySecrets:
    path = store_path(u)
    try:
        data = read_quietly(path)
    except FileNotFoundError:
        return SubkeySecrets()
    signers = [k.signing.verify_key for k in u.keys if k.signing is not None]
    try:
        plain, opened = open_bytes(data, u.identities, trusted_signers=signers)
        if opened.metadata != _METADATA:
            raise WorkspaceError(f"{path} is not a subkey store")
        store = SubkeySecrets.from_bytes(plain)
        sealed_to = {s.key_id for s in read_header(io.BytesIO(data)).stanzas}
    except CryptoError as exc:
        raise WorkspaceError(
            f"the subkey store {path} does not open with {u.reviewer}'s keys ({exc})",
            hint="it was altered or replaced: do not issue a subkey list from this workstation",
        ) from exc
    if sealed_to != {k.fingerprint.key_id for k in _sealed_to(u)}:
        # Keys rotated or gained an X-Wing half since: seal it to them now, before old ones retire.
        _write(u, store)
    return store


def _sealed_to(u: Unlocked) -> list[PublicKey] | list[HybridPublicKey]:
    """Every key of the reviewer's: X-Wing (v2, post-quantum at rest) if each has one, else X25519.

    An envelope is v1 or v2, never both: one X25519 stanza would undo the X-Wing ones.
    """
    hybrid = [k.hybrid_public for k in u.keys if k.hybrid_public is not None]
    if len(hybrid) == len(u.keys):
        return hybrid
    return [k.encryption_public for k in u.keys if k.encryption_public is not None]


def _write(u: Unlocked, store: SubkeySecrets) -> None:
    """Replace the store in one rename: a crash leaves the old store or the new, whole."""
    directory = u.workspace.root / STORE_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    data = seal_bytes(store.to_bytes(), _sealed_to(u), _METADATA, signer=u.signing)
    for stale in directory.glob(f".{u.reviewer}.*.part"):  # left by a crash before a rename
        destroy_file(stale)  # it may be a whole store: its weeks go as the old store's do
    part = directory / f".{u.reviewer}.{secrets.token_hex(8)}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # Held open across the rename, so the old store's bytes can be overwritten after it.
        with _old_store(store_path(u)) as old:
            os.replace(part, store_path(u))
            flush_names(directory)
            if old is not None:
                _overwrite(old)
    except BaseException:
        destroy_file(part)
        raise


@contextmanager
def _old_store(path: Path) -> Iterator[int | None]:
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _overwrite(fd: int) -> None:
    """Zero a replaced store's bytes in place: best effort (see docs/review-workstation.md)."""
    size = os.fstat(fd).st_size
    os.pwrite(fd, bytes(size), 0)
    os.fsync(fd)


def _record_key(u: Unlocked, reviewer: str | None = None) -> str:
    return f"{RECORD}{reviewer or u.reviewer}"


def _record_object(u: Unlocked, reviewer: str | None = None) -> dict[str, Any] | None:
    key = _record_key(u, reviewer)
    row = u.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    obj: dict[str, Any] = json.loads(u.open_old_record(b64decode(row[0]), key.encode("utf-8")))
    return obj


def _read_record(
    u: Unlocked, reviewer: str | None = None
) -> tuple[list[Period] | None, list[Period]]:
    """The weeks the workspace last recorded as held (None: never) and as destroyed."""
    obj = _record_object(u, reviewer)
    if obj is None:
        return None, []
    return [Period.parse(p) for p in obj["held"]], [Period.parse(p) for p in obj["destroyed"]]


def _recorded_sequence(u: Unlocked, reviewer: str | None = None) -> int:
    """The number of the last list the reviewer issued here (0: none numbered yet)."""
    obj = _record_object(u, reviewer)
    found = obj.get("sequence", 0) if obj is not None else 0
    if type(found) is not int or found < 0:
        raise WorkspaceError(f"the subkey record of {reviewer or u.reviewer} is damaged")
    return found


def check_newest_lists(u: Unlocked, numbers: Mapping[str, int]) -> None:
    """Refuse a list numbered below the last one its reviewer issued here: it is an older list.

    Lists reach `keys timestamp --subkeys` on a stick: the leaked list a re-key replaced,
    signed and numbered as well, put there in its place had the timestamp name its lower
    number, and every device without state took the leaked list again (PROTOCOL §8.8).
    """
    for rid, number in numbers.items():
        issued = _recorded_sequence(u, rid)
        if number < issued:
            raise SubkeyRefused(
                f"the subkey list of {rid} given is number {number}, but this workspace has "
                f"issued list number {issued} since: it is an older list, perhaps swapped",
                hint="give the list `keys subkeys new` wrote last, read from this workstation",
            )


def with_records(workspace: Workspace, reviewers: Iterable[str]) -> list[str]:
    """The reviewers of `reviewers` with a subkey record here (its row is named in the clear)."""
    keys = {f"{RECORD}{rid}": rid for rid in reviewers}
    rows = workspace.conn.execute("SELECT key FROM meta WHERE key LIKE ?", (f"{RECORD}%",))
    return sorted(keys[key] for (key,) in rows if key in keys)


def issued_numbers(u: Unlocked, reviewers: Iterable[str]) -> dict[str, int]:
    """The number of the last list each of `reviewers` issued here, for those that did."""
    numbers = {rid: _recorded_sequence(u, rid) for rid in reviewers}
    return {rid: number for rid, number in numbers.items() if number > 0}


def _record(
    u: Unlocked,
    store: SubkeySecrets,
    destroyed: Iterable[Period],
    reviewer: str | None = None,
    *,
    sequence: int | None = None,
) -> None:
    """Seal the weeks and key ids held, the weeks destroyed and the number of the last list
    issued into the row (in a transaction)."""
    obj = _record_object(u, reviewer) or {}
    gone = sorted({Period.parse(p) for p in obj.get("destroyed", [])} | set(destroyed))
    key = _record_key(u, reviewer)
    record: dict[str, Any] = {
        "held": [str(p) for p in store.periods],
        "destroyed": [str(p) for p in gone],
        "keys": [b64encode(k.public_key.fingerprint.key_id) for _, k in store.keys],
    }
    if sequence is not None or "sequence" in obj:
        record["sequence"] = sequence if sequence is not None else obj["sequence"]
    value = canonical_json(record)
    u.conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, b64encode(u.key.seal_record(value, key.encode("utf-8")))),
    )
    head.put(u.conn, u.key)  # the record is under the head's tag


def _reconcile(u: Unlocked, store: SubkeySecrets) -> None:
    """Record what a crash between a store's rename and its transaction's commit left out."""
    held, _ = _read_record(u)
    if held is None and not store.periods:
        return
    if held and not store_path(u).exists():
        # No crash removes the file (each write is a rename over it): this is no destruction.
        raise WorkspaceError(
            f"the subkey store of {u.reviewer} is missing from {store_path(u).parent}",
            hint="restore it; if it is lost, envelopes sealed to its weeks no longer open",
        )
    recorded = set(held or ())
    gone = sorted(recorded - set(store.periods))
    made = sorted(set(store.periods) - recorded)
    if not gone and not made:
        if recorded_key_ids(u, u.reviewer) is None:  # a record from before key ids were kept
            with transaction(u.conn):
                _record(u, store, destroyed=())
        return
    with transaction(u.conn):
        if made:
            audit.append(u, "subkeys-new", None, {"weeks": [str(p) for p in made]})
        if gone:
            detail = {"weeks": [str(p) for p in gone], "rule": RULE_D1, "late": True}
            audit.append(u, "subkeys-destroy", None, detail)
        _record(u, store, destroyed=gone)
