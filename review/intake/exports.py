"""The export chain as this workspace has seen it: which numbered bundles arrived, which did not.

Each export bundle (format 2) carries its sequence number and the digest of the
bundle before it. The workspace keeps one `meta` row per bundle imported
(`export-chain:NNNNNNNNNN`), so it can name a bundle that never arrived ("bundle
7 is missing: bundles 5, 6, 8 imported") and refuse one that contradicts the
chain it has seen: a server restored from a backup, or one that rewrote its past.
Bundles may arrive in any order (a lost stick must not hold back later reports);
a gap stays reported until the missing bundle is imported, or a later `resend`
bundle (every item the server still holds unacknowledged) is.

A bundle of format 4 also carries the server's audit log head; the workspace
keeps it with the bundle and names a log that shrank, or whose link at the
length the neighbouring bundle saw is not the one that bundle carried: entries
removed and the chain written again between the two exports (PROTOCOL §13.5).
A bundle of format 8 names the server's last restore; the workspace keeps it too,
and names a restore between two bundles (`restored_before`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from dataclasses import dataclass
from typing import Final

from crypto import GENESIS
from crypto.encoding import b64decode, b64encode, canonical_json, parse_json_object
from crypto.exchange import AuditProof, ChainLink, ExportManifest, RestoreSeen, RestoreState
from review.errors import ImportRefused
from review.workspace import head

_PREFIX: Final = head.CHAIN
_RESEND_HINT: Final = (
    "ask the server's staff for `raazdar export --resend`: it holds every item "
    "not yet acknowledged, and fills every gap below its number"
)


@dataclass(frozen=True)
class Seen:
    """A bundle of the chain that this workspace imported."""

    sequence: int
    bundle_id: str
    digest: bytes
    previous: bytes
    resend: bool
    # The day the server made it; None for a bundle recorded before the day was kept.
    created: dt.date | None = None
    # Whether it carried receipts of reply bundles (format 3, `review.intake.receipts`).
    receipts: bool = False
    # The server's audit log head it carried (format 4).
    audit: AuditProof | None = None
    # The restores the server had finished when it made it (format 8).
    restore: RestoreState | None = None


@dataclass(frozen=True)
class Gaps:
    """The numbers of bundles not imported here that no later resend covers."""

    missing: tuple[int, ...]
    imported: tuple[int, ...]
    # Not imported here, below a resend that carried their reports again: their sticks
    # went somewhere else (a staff login's holder kept one, or one was lost).
    elsewhere: tuple[int, ...] = ()

    def message(self) -> str | None:
        """Say which bundles are missing and which arrived, or None if none is missing."""
        if not self.missing:
            return None
        noun = "bundle" if len(self.missing) == 1 else "bundles"
        verb = "is" if len(self.missing) == 1 else "are"
        return (
            f"{noun} {_ranges(self.missing)} {verb} missing: "
            f"bundles {_ranges(self.imported)} imported"
        )

    def elsewhere_message(self) -> str | None:
        """Name the bundles a resend made up for, which never came here; None if none."""
        if not self.elsewhere:
            return None
        noun, its, it = (
            ("bundle", "its", "it") if len(self.elsewhere) == 1 else ("bundles", "their", "them")
        )
        return (
            f"{noun} {_ranges(self.elsewhere)} never came here: a later resend carried {its} "
            f"reports again, but the server made {it}, and whoever holds {its} stick(s) holds "
            "those reports, sealed to the reviewers"
        )

    @staticmethod
    def elsewhere_hint() -> str:
        """What to ask about a bundle that went elsewhere."""
        return (
            "ask the staff who made it and where its stick went (the staff dashboard's list of "
            "exports names who made each); if nobody knows, tell the administrators and the "
            "oversight body, not through the server"
        )

    @staticmethod
    def hint() -> str:
        """What to do about a gap."""
        return (
            "import the missing bundle if it turns up; otherwise the reports it held are "
            f"neither here nor acknowledged to the server: {_RESEND_HINT}"
        )


def seen(conn: sqlite3.Connection) -> dict[int, Seen]:
    """Every chained bundle imported here, by sequence number."""
    found = {}
    for key, value in conn.execute(
        "SELECT key, value FROM meta WHERE key LIKE ? ORDER BY key", (f"{_PREFIX}%",)
    ):
        obj = parse_json_object(value.encode("utf-8"), max_bytes=4096)
        sequence = int(key.removeprefix(_PREFIX))
        found[sequence] = Seen(
            sequence,
            str(obj["bundle"]),
            b64decode(obj["digest"], length=32),
            b64decode(obj["previous"], length=32),
            bool(obj["resend"]),
            dt.date.fromisoformat(obj["created"]) if "created" in obj else None,
            obj.get("receipts") is True,
            AuditProof.from_json(obj["audit"]) if "audit" in obj else None,
            RestoreState.from_json(obj["restore"]) if "restore" in obj else None,
        )
    return found


@dataclass(frozen=True)
class Backdated:
    """A bundle dated before one numbered before it: a server that dates exports in the past."""

    later: Seen
    earlier: Seen

    def message(self) -> str:
        """Say which bundle is dated before which."""
        return (
            f"bundle {self.later.sequence} is dated {self.later.created}, before bundle "
            f"{self.earlier.sequence} ({self.earlier.created}) imported here"
        )


def backdated(conn: sqlite3.Connection) -> tuple[Backdated, ...]:
    """The bundles imported here dated before a bundle numbered before them.

    A server exports on the day it runs, so each bundle's day is that of the
    one before it or later. Rule D1 (`review.keys.subkeys`) trusts that day.
    """
    found = []
    newest: tuple[dt.date, Seen] | None = None
    for _, s in sorted(seen(conn).items()):
        if s.created is None:  # recorded before the day was kept
            continue
        if newest is not None and s.created < newest[0]:
            found.append(Backdated(s, newest[1]))
        else:
            newest = (s.created, s)
    return tuple(found)


def gaps(conn: sqlite3.Connection) -> Gaps:
    """The bundles of the chain missing here; a resend fills every gap below it, and the
    numbers it filled stay named as never imported (`Gaps.elsewhere`)."""
    have = seen(conn)
    if not have:
        return Gaps((), ())
    resends = [n for n, s in have.items() if s.resend]
    filled_below = max(resends, default=0)
    absent = [n for n in range(1, max(have) + 1) if n not in have]
    missing = tuple(n for n in absent if n > filled_below)
    elsewhere = tuple(n for n in absent if n < filled_below)
    return Gaps(missing, tuple(sorted(have)), elsewhere)


def complete_through(conn: sqlite3.Connection) -> int:
    """The newest bundle number through which the chain is complete here (0 before any).

    Every bundle up to it imported, or filled by a later resend. A reply bundle says it
    under the workspace's seal (reply format 5): until it does, the server carries every
    item of a later export again, so a bundle taken on the way loses no report.
    """
    have = seen(conn)
    filled_below = max((n for n, s in have.items() if s.resend), default=0)
    through = 0
    while through + 1 in have or through + 1 <= filled_below:
        through += 1
    return through


def last_restore(conn: sqlite3.Connection) -> RestoreSeen:
    """The server's last restore as the newest bundle imported here names it (None: none).

    A reply bundle names it under the workspace's seal (reply format 6): a server put
    back from a backup since has drawn another id, and refuses the bundle rather than
    apply again what it may have applied before the restore.
    """
    have = seen(conn)
    newest = have[max(have)] if have else None
    return RestoreSeen(newest.restore.epoch if newest and newest.restore else None)


def check(conn: sqlite3.Connection, manifest: ExportManifest, digest: bytes) -> None:
    """Refuse a bundle that contradicts the chain seen here (or is unchained after it)."""
    have = seen(conn)
    link = manifest.chain
    if link is None:
        if have:
            raise ImportRefused(
                "bundle refused: it is an export from before the export chain, and bundles "
                f"{_ranges(tuple(sorted(have)))} of the chain were imported here already",
                hint=f"an old stick? its items are still on the server: {_RESEND_HINT}",
            )
        return
    same = have.get(link.sequence)
    if same is not None:
        if same.digest != digest:
            _forked(have, f"it is not the bundle {link.sequence} imported here before")
        return
    before = have.get(link.sequence - 1)
    if before is not None and before.digest != link.previous:
        _forked(
            have, f"bundle {link.sequence} does not follow bundle {link.sequence - 1} imported here"
        )
    after = have.get(link.sequence + 1)
    if after is not None and after.previous != digest:
        _forked(
            have, f"bundle {link.sequence + 1} imported here does not follow bundle {link.sequence}"
        )


def audit_rewritten(conn: sqlite3.Connection) -> str | None:
    """Say how the server's audit log was cut or written again, by the bundles seen here.

    Two bundles with audit heads: the later one's log may not be shorter; and
    when they are consecutive, the later one's link at the earlier one's length
    must be the earlier one's head. A resumed chain's log put back at an earlier
    bundle's is `audit_restored`'s, not this.
    """
    have = seen(conn)
    restored = {r.resumed for r in audit_restored(conn)}
    heads = sorted((n, s.audit) for n, s in have.items() if s.audit is not None)
    for (number, earlier), (following, later) in itertools.pairwise(heads):
        if following == number + 1 and following in restored:
            continue
        if later.entries < earlier.entries:
            return (
                f"bundle {number} saw {earlier.entries} audit entries, "
                f"bundle {following} only {later.entries}"
            )
        if following == number + 1 and (later.since, later.link) != (earlier.entries, earlier.head):
            return (
                f"the first {earlier.entries} audit entries bundle {number} saw are not "
                f"the first {earlier.entries} of bundle {following}"
            )
    return None


@dataclass(frozen=True)
class Restored:
    """A resend that resumed the chain with the audit log an earlier bundle saw: a restore.

    A server put back from a backup has its log (and its export head) as they were
    then; `raazdar export --resume-chain` makes its next bundle follow the one imported
    here last, linking its log to the length its own head remembers. When that
    length and link are an earlier bundle's, the log went back to that bundle's and
    the entries seen after it were lost with the restore, not written again.
    """

    resumed: int
    after: int
    back_at: int | None  # the bundle whose log it is back at; None: before the first
    entries: int
    lost: int  # entries bundle `after` saw beyond `entries`

    def message(self) -> str:
        """Say which bundle resumed the chain, where the log went back to and what it lost."""
        where = (
            f"back at bundle {self.back_at}'s {self.entries} entries"
            if self.back_at is not None
            else "back at its start, before any bundle imported here"
        )
        return (
            f"the server's audit log went back with a restore: bundle {self.resumed} resumed "
            f"the chain after bundle {self.after} (`raazdar export --resume-chain`) with its "
            f"log {where}; the {self.lost} entries bundle {self.after} saw after them, and "
            "any written between that export and the restore, are gone from the server's log"
        )

    def hint(self) -> str:
        """What to do: expected after a restore the administrators made, a rewrite otherwise."""
        made = (
            f"a backup made after bundle {self.back_at}"
            if self.back_at is not None
            else "a backup made before its first export"
        )
        return (
            f"expected if the administrators put the server back from {made}: ask them, not "
            "through the server, which staff actions those entries were, and tell the "
            "oversight body of the restore; if no one restored it, its log was rewritten: "
            "tell the administrators and the oversight body"
        )


def audit_restored(conn: sqlite3.Connection) -> tuple[Restored, ...]:
    """The resends imported here whose audit log is back at an earlier bundle's (a restore)."""
    have = seen(conn)
    found = []
    for number, later in sorted(have.items()):
        before = have.get(number - 1)
        if not later.resend or later.audit is None or before is None or before.audit is None:
            continue
        proof, earlier = later.audit, before.audit
        if (proof.since, proof.link) == (earlier.entries, earlier.head):
            continue  # it follows bundle `before`'s log: nothing went back
        if proof.since == 0 and proof.link == GENESIS:
            back_at: int | None = None
        else:
            back_at = next(
                (
                    n
                    for n, s in sorted(have.items(), reverse=True)
                    if n < number - 1
                    and s.audit is not None
                    and (s.audit.entries, s.audit.head) == (proof.since, proof.link)
                ),
                None,
            )
            if back_at is None:
                continue  # back at no log seen here: rewritten, not put back
        if proof.since > earlier.entries:
            continue
        found.append(
            Restored(number, number - 1, back_at, proof.since, earlier.entries - proof.since)
        )
    return tuple(found)


def audit_unchecked(conn: sqlite3.Connection) -> tuple[tuple[int, int], ...]:
    """The pairs of bundles with audit heads between which no bundle here links the log.

    Only consecutive bundles link one log to the other (`audit_rewritten`): across
    a bundle that never came, even one a resend made up for, a rewrite passes.
    """
    numbers = sorted(n for n, s in seen(conn).items() if s.audit is not None)
    return tuple((a, b) for a, b in itertools.pairwise(numbers) if b != a + 1)


def restored_before(conn: sqlite3.Connection, manifest: ExportManifest) -> int | None:
    """The bundle imported here that the server made before a restore this one follows.

    Each bundle of format 8 names the server's last restore by a random id
    (`RestoreState`); compared with the nearest bundle numbered before it that
    names one, another id is a restore in between, even one that forked no chain
    and rewound no log seen here (a backup made after the last export).
    """
    if manifest.chain is None or manifest.restore is None:
        return None
    earlier = [
        (n, s.restore)
        for n, s in seen(conn).items()
        if n < manifest.chain.sequence and s.restore is not None
    ]
    if not earlier:
        return None
    number, restore = max(earlier, key=lambda e: e[0])
    return number if restore.epoch != manifest.restore.epoch else None


def record(conn: sqlite3.Connection, manifest: ExportManifest, digest: bytes) -> None:
    """Remember a chained bundle (inside the import's transaction)."""
    link: ChainLink | None = manifest.chain
    if link is None:
        return
    value = canonical_json(
        {
            "bundle": manifest.bundle_id,
            "digest": b64encode(digest),
            "previous": b64encode(link.previous),
            "resend": link.resend,
            "created": manifest.created.isoformat(),
        }
        | ({"receipts": True} if manifest.receipts is not None else {})
        | ({"audit": manifest.audit.to_json()} if manifest.audit is not None else {})
        | ({"restore": manifest.restore.to_json()} if manifest.restore is not None else {})
    ).decode("utf-8")
    conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
        (f"{_PREFIX}{link.sequence:010d}", value),
    )


def _forked(have: dict[int, Seen], what: str) -> None:
    """Refuse a fork, naming the link a server put back from a backup must follow."""
    last = max(have)
    raise ImportRefused(
        f"bundle refused: {what}: the server's chain of exports forked",
        hint="the server may have been restored from a backup, or tampered with: "
        "tell the administrators before importing anything more from it; if they put it "
        "back from a backup, they run `raazdar export --resume-chain "
        f"{last}:{have[last].digest.hex()} --out FILE` on it and carry FILE here",
    )


def _ranges(numbers: tuple[int, ...]) -> str:
    """Write 1, 2, 3, 5, 7, 8 as `1-3, 5, 7-8`."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(
            str(start)
            if start == prev
            else f"{start}, {prev}"
            if prev == start + 1
            else f"{start}-{prev}"
        )
        if n is not None:
            start = prev = n
    return ", ".join(parts)
