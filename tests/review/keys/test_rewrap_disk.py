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
    review,
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


def _fill(mount: Path, leave: int) -> Path:
    """Fill the filesystem but for about `leave` bytes; the filler file, to free it again."""
    filler = mount / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb") as out:
        with suppress(OSError):
            while True:
                out.write(chunk)
                out.flush()
        with suppress(OSError):
            while True:
                out.write(chunk[:4096])
                out.flush()
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    os.sync()
    return filler


def test_a_rewrap_on_a_nearly_full_disk_fails_whole_and_leaves_no_copy_behind(
    server: Server,
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """The new blob files do not fit: the rewrap must fail with an error, keep every report
    readable under the key it had, keep the key it was to retire in service (nothing half
    done), leave no new blob file, scratch file or rollback journal, and put no plaintext on
    the disk; run again with room, it succeeds."""
    image, mount = ext4
    root = init_workspace(server, mount / "workspace")
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    enrol_second_reviewer(u)
    ledger = (CANARY + " ledger line\n").encode() * 200_000  # a blob file of its own, ~6 MiB
    server.submit(f"The SHO took the money. {CANARY}", [("files", "l.txt", ledger, "text/plain")])
    assert import_bundle(u, server.export(tmp_path / "e.rzb")).filed == 2
    (seq,) = u.conn.execute("SELECT seq FROM reviewer_keys WHERE reviewer = 'second'").fetchone()
    key = u.key.public_key
    u.workspace.close()
    before = {p.name for p in (root / "blobs").iterdir()}
    assert before
    filler = _fill(mount, 1 << 20)

    failed = review(root, "--as", "demo-reviewer", "keys", "rewrap", "--retire", str(seq))
    assert failed.exit_code == 1, failed.output
    assert "Traceback" not in failed.output
    # Retiring a revoked reviewer's key: the administrator must know it is still in service.
    assert f"nothing was changed; key(s) {seq} stay in service" in failed.output, failed.output
    assert "free space on the workspace's disk" in failed.output
    assert {p.name for p in (root / "blobs").iterdir()} == before, "a new blob file is left"
    assert list((root / "tmp").iterdir()) == []
    journal = root / f"{ws.DB_NAME}-journal"
    assert not journal.exists() or not journal.read_bytes().strip(b"\0")
    filler.unlink()
    os.sync()
    assert CANARY.encode() not in image.read_bytes(), "plaintext reached the disk"
    shown = review(root, "--as", "demo-reviewer", "show", "1")
    assert CANARY in shown.output, shown.output
    again = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert again.key.public_key == key
        retired = again.conn.execute(
            "SELECT retired FROM reviewer_keys WHERE seq = ?", (seq,)
        ).fetchone()
        assert retired == (0,)
    finally:
        again.workspace.close()
    assert review(root, "audit", "verify").exit_code == 0
    done = review(root, "--as", "demo-reviewer", "keys", "rewrap", "--retire", str(seq))
    assert done.exit_code == 0, done.output
    assert CANARY in review(root, "--as", "demo-reviewer", "show", "1").output
