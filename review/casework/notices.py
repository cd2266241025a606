"""Status notices for sources, sealed: the status a source will be shown waits as a record.

One row per source (`notices`), holding a sealed `{status, exported_in, seq}`:
which sources have a notice is as visible as the sources themselves, but not
what it says nor whether it has gone out yet. `seq` counts the notices issued
to the source, this one included: it goes out with the notice (reply bundle
format 3), and the server lets no notice of a lower number replace one it
shows, so a bundle kept back and handed in late cannot show the source an
older status. A record sealed before numbering counts as 0. Each export
bundle (format 5) says the number of the notice the server shows each source;
a record keeps the highest it has seen (`floor`), and no notice is numbered at
or below it, so a workspace put back from an older copy goes on from the
server's count instead of from its own past one. Workspaces from
before schema version 3 kept notices in the clear; `seal_legacy` seals them at
the first unlock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from crypto.encoding import canonical_json
from crypto.exchange import NOTICE_SEQ_MAX, Notice
from crypto.workspace import WorkspaceKey
from review.workspace import head
from review.workspace.schema import LEGACY_NOTICES, transaction

if TYPE_CHECKING:
    from review.workspace import Unlocked


# What a dropped notice's `exported_in` says, before the bundle's id: it went nowhere.
_DROPPED: Final = "dropped:"
# What `exported_in` says of a record made only to keep the server's count: no notice.
_LEARNED: Final = "learned:"


def notice_context(source: str) -> bytes:
    """The context a source's notice is sealed under."""
    return f"notice:{source}".encode()


def _seal(
    key: WorkspaceKey,
    source: str,
    status: str,
    exported_in: str | None,
    seq: int = 0,
    floor: int = 0,
) -> bytes:
    record: dict[str, Any] = {"status": status, "exported_in": exported_in, "seq": seq}
    if floor:  # the number the server was last seen showing, when above this one's
        record["floor"] = floor
    return key.seal_record(canonical_json(record), notice_context(source))


def _floor(record: dict[str, Any] | None) -> int:
    """The highest number the server was seen showing the source (0 if none said)."""
    return int(record.get("floor", 0)) if record is not None else 0


def _past(*numbers: int) -> int:
    """The number after all of these (the highest a bundle can carry, at most)."""
    return min(max(numbers) + 1, NOTICE_SEQ_MAX)


def _notice(source: str, record: dict[str, Any]) -> Notice:
    """A record as the notice a bundle carries (a record from before numbering: number 0)."""
    seq = int(record.get("seq", 0))
    return Notice(source, str(record["status"]), seq or None)


def _open(key: WorkspaceKey, source: str, sealed: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(key.open_record(sealed, notice_context(source)))
    return record


def post(u: Unlocked, source: str, status: str, *, replace: bool = True) -> None:
    """Queue `status` for the source; with `replace` false, keep one already there."""
    row = u.conn.execute("SELECT sealed FROM notices WHERE source = ?", (source,)).fetchone()
    record = _open(u.key, source, row[0]) if row is not None else None
    if record is not None and not replace and not str(record["exported_in"]).startswith(_LEARNED):
        return
    # One past the last notice issued to the source, whether it went out or not, and
    # past the one the server was seen showing.
    last = int(record.get("seq", 0)) if record is not None else 0
    floor = _floor(record)
    u.conn.execute(
        "INSERT INTO notices VALUES (?, ?)"
        " ON CONFLICT(source) DO UPDATE SET sealed = excluded.sealed",
        (source, _seal(u.key, source, status, None, _past(last, floor), floor)),
    )


def pending(u: Unlocked) -> list[Notice]:
    """Notices not yet exported, numbered, in source order."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    out = []
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] is None:
            out.append(_notice(source, record))
    return out


def mark_exported(u: Unlocked, sent: list[Notice], bundle_id: str) -> None:
    """Record that these notices went out in a bundle (inside the caller's transaction)."""
    floors = {source: _floor(record) for source, record in _records(u).items()}
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [
            (_seal(u.key, n.source, n.status, bundle_id, n.seq or 0, floors[n.source]), n.source)
            for n in sent
        ],
    )


def _records(u: Unlocked) -> dict[str, dict[str, Any]]:
    """Every source's notice record, opened."""
    rows = u.conn.execute("SELECT source, sealed FROM notices").fetchall()
    return {source: _open(u.key, source, sealed) for source, sealed in rows}


@dataclass(frozen=True)
class Behind:
    """Sources the server shows a notice numbered past any this workspace issued them."""

    counts: tuple[tuple[str, int, int], ...]  # designation, this workspace's count, the server's

    def message(self) -> str:
        """Say what the server's counts show of this workspace."""
        listed = ", ".join(f"{s} ({mine} here, {theirs} there)" for s, mine, theirs in self.counts)
        return (
            f"the server shows {len(self.counts)} source(s) a notice numbered past any this"
            f" workspace issued them: {listed}. This workspace was put back from an older copy"
            " (what it issued since is gone from it), or the server's counts were changed;"
            " their next notices are numbered past the server's, so it shows them"
        )


def catch_up(u: Unlocked, counts: Mapping[str, int]) -> Behind | None:
    """Go on from the server's count of each source's notices, where it is past this one's.

    A notice waiting here numbered at or below the server's would be skipped there as
    older: it is numbered past it. Runs inside the caller's transaction.
    """
    records = _records(u)
    # A source not filed here has no notice to number yet: a later import catches it up.
    known = {row[0] for row in u.conn.execute("SELECT designation FROM sources")}
    behind = []
    for source, theirs in sorted(counts.items()):
        if source not in known:
            continue
        record = records.get(source)
        floor = _floor(record)
        if theirs <= floor:
            continue
        if record is None:
            # Nothing issued here: keep the count alone, with no notice to send.
            u.conn.execute(
                "INSERT INTO notices VALUES (?, ?)",
                (source, _seal(u.key, source, "", _LEARNED, 0, theirs)),
            )
            behind.append((source, 0, theirs))
            continue
        seq = int(record.get("seq", 0))
        waiting = record["exported_in"] is None
        issued = seq - 1 if waiting else seq
        if waiting and seq <= theirs:
            seq = _past(theirs)
        u.conn.execute(
            "UPDATE notices SET sealed = ? WHERE source = ?",
            (_seal(u.key, source, record["status"], record["exported_in"], seq, theirs), source),
        )
        if theirs > issued:
            behind.append((source, issued, theirs))
    return Behind(tuple(behind)) if behind else None


def seal_legacy(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Seal the clear notices a version-2 workspace kept, then drop their table."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEGACY_NOTICES,)
    ).fetchone()
    if found is None:
        return
    with transaction(conn):
        rows = conn.execute(f"SELECT source, status, exported_in FROM {LEGACY_NOTICES}").fetchall()  # noqa: S608 - a constant
        conn.executemany(
            "INSERT OR REPLACE INTO notices VALUES (?, ?)",
            [(s, _seal(key, s, status, exported)) for s, status, exported in rows],
        )
        conn.execute(f"DROP TABLE {LEGACY_NOTICES}")
        head.put(conn, key)  # the notices are under the head's tag


def in_bundle(u: Unlocked, bundle_id: str) -> dict[str, Notice]:
    """The notices that went out in `bundle_id`, by source."""
    rows = u.conn.execute("SELECT source, sealed FROM notices ORDER BY source").fetchall()
    found = {}
    for source, sealed in rows:
        record = _open(u.key, source, sealed)
        if record["exported_in"] == bundle_id:
            found[source] = _notice(source, record)
    return found


def _again(notice: Notice, floor: int) -> int:
    """A notice's number when queued again: past the server's count, if one was learned since
    (at or below it, the server would skip it as older)."""
    seq = notice.seq or 0
    return _past(floor) if 0 < floor >= seq else seq


def take_back(u: Unlocked, bundle_id: str, drop: set[str]) -> int:
    """Queue a refused bundle's notices again, dropping those in `drop`; return how many stay.

    A notice queued again keeps its number: the server may have applied it after all.
    A dropped notice is kept as spent (never pending, in no bundle), not deleted: the
    source's next notice is numbered past it, else the server, which may have applied
    it, would take every later one for an older one.
    Runs inside the caller's transaction.
    """
    sent = in_bundle(u, bundle_id)
    floors = {source: _floor(record) for source, record in _records(u).items()}
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [
            (
                _seal(u.key, n.source, n.status, _DROPPED + bundle_id, n.seq or 0, floors[s]),
                n.source,
            )
            for s, n in sorted(sent.items())
            if s in drop
        ],
    )
    kept = [n for s, n in sent.items() if s not in drop]
    u.conn.executemany(
        "UPDATE notices SET sealed = ? WHERE source = ?",
        [
            (
                _seal(
                    u.key, n.source, n.status, None, _again(n, floors[n.source]), floors[n.source]
                ),
                n.source,
            )
            for n in kept
        ],
    )
    return len(kept)
