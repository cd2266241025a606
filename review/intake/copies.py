"""Envelopes exported again under another item id: copies the server made, never filed twice.

Every envelope is sealed with fresh randomness (an ephemeral key, a random
payload key), so a source's device, or the server's form, sealing the same words
twice makes two different envelopes. The same bytes under two item ids were
copied: by the server, which holds every envelope it has not been told to delete.
Filed as it came, a copy under a new submission and today's day would show a
source's old words as a new report sent today, or one source's report as
another designation's (PROTOCOL §13.1). The workspace keeps each filed
envelope's bundle item hash (`envelopes`, schema 12) and files a copy nowhere:
it names it, and leaves it unacknowledged, so the server keeps it in sight. An
envelope filed before schema 12 gets its hash when the server exports it again
under its own id (`backfill`); until then, a copy of it is not known.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

HINT: Final = (
    "a source never sends the same envelope twice: the server holds it under two ids (an "
    "upload it took twice) or exported it again as if new, as a server in other hands would "
    "to make old words look new, or another source's; the copy is not acknowledged, so the "
    "server keeps it, and staff can ask why it holds it twice"
)


@dataclass(frozen=True)
class Copy:
    """An item whose envelope is, byte for byte, that of an item filed before it."""

    item: str
    original: str
    report: int | None = None

    def message(self) -> str:
        """Say which item it copies and that it was not filed."""
        where = f" (report {self.report})" if self.report is not None else ""
        return (
            f"item {self.item} is a copy, byte for byte, of item {self.original}{where}, "
            "exported again under another id: not filed again"
        )


def original(conn: sqlite3.Connection, digest: bytes) -> str | None:
    """The item filed here whose envelope has this bundle item hash, if one is."""
    row = conn.execute("SELECT item FROM envelopes WHERE digest = ?", (digest,)).fetchone()
    return None if row is None else str(row[0])


def record(conn: sqlite3.Connection, filed: Iterable[tuple[bytes, str]]) -> None:
    """Keep the envelope hash of each item filed (hash, item id); the first item keeps it."""
    conn.executemany("INSERT OR IGNORE INTO envelopes (digest, item) VALUES (?, ?)", filed)


def backfill(conn: sqlite3.Connection, resent: Iterable[tuple[bytes, str]]) -> None:
    """Keep the hash of each envelope exported again under the id it was filed with, when
    none is kept for that item: one filed before schema 12, whose ciphertext is gone (its
    blob is sealed again to the workspace key). A copy of it under another id is then
    named, as a copy of one filed since is. Not for an item holding one already: the
    server chooses what it sends under an id, and a hash kept is never replaced."""
    hashed = {str(item) for (item,) in conn.execute("SELECT item FROM envelopes")}
    record(conn, ((digest, item) for digest, item in resent if item not in hashed))


def numbered(conn: sqlite3.Connection, found: Iterable[Copy]) -> list[Copy]:
    """The copies, each with the report its original was filed in."""
    out = []
    for c in found:
        row = conn.execute("SELECT report FROM items WHERE id = ?", (c.original,)).fetchone()
        out.append(Copy(c.item, c.original, None if row is None else int(row[0])))
    return out
