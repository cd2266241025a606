"""A key enrolled in a workspace is on the disk, bytes and all, before its row says so.

The workspace keeps its own copy of each enrolled key file in `keys/`, and unlocking reads
every one of the reviewer's copies. The copy was written in the enrolment's transaction but
never flushed: ext4 allocates a new file's blocks only when it writes them back, seconds
later, so a power cut after the commit (of `keys rotate`, an enrolment, `init`) left the
row and an empty file, and the reviewer could unlock no more, old keys and all. The test
notes each file's size at each flush, then cuts the power as ext4 would: every file not
flushed whole is left empty.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams
from review import workspace as ws
from review.keys.enrolment import rotate


def test_a_key_rotated_in_survives_a_power_cut_after_and_the_reviewer_still_unlocks(
    unlocked: ws.Unlocked, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set((workspace / "keys").iterdir())  # the copies the fixture made, not the test
    flushed: dict[int, int] = {}
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            flushed[info.st_ino] = info.st_size

    monkeypatch.setattr(os, "fsync", recorded)
    rotate(unlocked, "new passphrase of the demo reviewer", kdf=KdfParams.TESTING)
    monkeypatch.undo()
    unlocked.workspace.close()
    for path in set((workspace / "keys").iterdir()) - before:
        info = path.stat()
        if flushed.get(info.st_ino) != info.st_size:
            path.write_bytes(b"")  # the power cut: its blocks were never written
    again = ws.Workspace.open(workspace).unlock(
        "demo-reviewer",
        lambda label: (
            DEMO_PASSPHRASE if "from" not in label else "new passphrase of the demo reviewer"
        ),
    )
    try:
        assert len(again.keys) == 2
    finally:
        again.workspace.close()


def test_a_key_whose_enrolment_is_refused_leaves_no_copy_and_the_next_try_enrols_it(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    before = set((workspace / "keys").iterdir())
    unlocked.conn.execute("PRAGMA busy_timeout = 50")
    reader = sqlite3.connect(workspace / "workspace.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM reviewer_keys").fetchone()  # a reader's lock
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            rotate(unlocked, "new passphrase", kdf=KdfParams.TESTING)
        reader.execute("COMMIT")
    finally:
        reader.close()
    left = set((workspace / "keys").iterdir()) - before
    assert left == set(), f"a refused enrolment left {sorted(p.name for p in left)}"
    rotate(unlocked, "new passphrase", kdf=KdfParams.TESTING)
    assert len(set((workspace / "keys").iterdir()) - before) == 1
