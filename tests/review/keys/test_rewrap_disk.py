"""A revoked reviewer's key and the seized disk's blocks: what a rewrap left behind opens nothing.

A reviewer is revoked because their key file and passphrase may be in other
hands. The workspace is then re-sealed under a new key and the old key's
wrapped copy is gone from the database, whose freed space SQLite zeroes
(`secure_delete`). The attack: SQLite wrote every page the rewrap changed, as
it was before, to its rollback journal, and unlinked the journal at the
commit; the filesystem frees those blocks without overwriting them. A seizer
who reads the disk's blocks (not its files) finds the old wrapped workspace
key and the reports sealed under it, and the revoked key opens them.

The workspace lives on an ext4 image of its own (tests/app/operations/test_journal.py's).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto import KeyPair, open_bytes
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey, public_key_from_text
from review import workspace as ws
from review.intake.importer import import_bundle
from review.keys.rewrap import rewrap
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.review.support import (
    Server,
    enrol_second_reviewer,
    init_workspace,
)

CANARY = "canary-J0URNAL-revoked"


# A rollback journal header starts with these (sqlite.org/fileformat.html, "rollback journal").
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")


def _rolled_back(disk: bytes, database: bytes) -> Iterator[sqlite3.Connection]:
    """The database as each journal found in the disk's blocks would roll it back, as a seizer
    rebuilds it: every page the journal holds, put back where it was."""
    at = disk.find(_JOURNAL_MAGIC)
    while at >= 0:
        records, _nonce, _pages, sector, size = struct.unpack(">IIIII", disk[at + 8 : at + 28])
        if size in {512 << n for n in range(8)} and 0 < records < 100_000:
            pages = bytearray(database)
            offset = at + sector
            for _ in range(records):
                (number,) = struct.unpack(">I", disk[offset : offset + 4])
                page = disk[offset + 4 : offset + 4 + size]
                start = (number - 1) * size
                if 0 < number < 100_000 and len(page) == size:
                    pages[start : start + size] = page.ljust(size, b"\0")
                offset += size + 8
            conn = sqlite3.connect(":memory:")
            with suppress(sqlite3.DatabaseError):
                conn.deserialize(bytes(pages))
                yield conn
            conn.close()
        at = disk.find(_JOURNAL_MAGIC, at + 1)


def _carve(disk: bytes, database: bytes, pair: KeyPair) -> list[str]:
    """What the revoked key opens of the disk's blocks: each report it finds there."""
    assert pair.encryption is not None
    opened = []
    for conn in _rolled_back(disk, database):
        with suppress(sqlite3.DatabaseError, CryptoError, TypeError, ValueError):
            public = public_key_from_text(
                conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0]
            )
            # An X-Wing workspace key is wrapped to the X-Wing key, an X25519 one to X25519.
            for (wrapped,) in conn.execute("SELECT wrapped FROM reviewer_keys"):
                for identity in pair.decryption_keys:
                    with suppress(CryptoError):
                        old = WorkspaceKey.unwrap(wrapped, identity, public)
                        for (blob,) in conn.execute("SELECT data FROM blob_data"):
                            with suppress(CryptoError):
                                opened.append(open_bytes(blob, [old.identity])[0].decode())
    return opened


def test_a_revoked_reviewers_key_opens_nothing_in_the_seized_disks_blocks(
    server: Server,
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    image, mount = ext4
    root = init_workspace(server, mount / "workspace")
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    revoked = enrol_second_reviewer(u)
    server.submit(f"The SHO took the money. {CANARY}")
    assert import_bundle(u, server.export(tmp_path / "e.rzb")).filed == 1
    (seq,) = u.conn.execute("SELECT seq FROM reviewer_keys WHERE reviewer = 'second'").fetchone()
    u, _ = rewrap(u, retire=[seq])
    u.workspace.close()
    os.sync()
    disk, database = image.read_bytes(), (root / ws.DB_NAME).read_bytes()
    opened = _carve(disk, database, revoked)
    assert not any(CANARY in text for text in opened), "the revoked key opens the report"
