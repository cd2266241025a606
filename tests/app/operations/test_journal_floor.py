"""The files the sweep keeps for writing the journal anew never take the store's last inodes.

The first wrap (`app.fsjournal.wrap`) makes its files, an inode each, hundreds on a
4 KiB-block ext4: made whatever the floors said, they took the inodes the last share
keeps for the database (`app.store._SPACE_LAST`), which could then not make its WAL.
The filesystem here is the test's own; `os.statvfs` says what a nearly full one would,
each file made in the wrap's folder taking one of its free inodes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import fsjournal
from app.operations import sweep as sweep_module
from app.store import EnvelopeStore

# The inodes of the filesystem said, and how many above the last hundredth are free.
_FILES = 100_000
_ABOVE_FLOOR = 40


def test_the_journals_files_are_made_only_above_the_inode_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "store" / ".staging").mkdir(parents=True)
    store = EnvelopeStore(tmp_path / "store", tmp_path / "store" / ".staging")
    wrap = store.root / fsjournal.WRAP_NAME
    real = os.statvfs

    def nearly_full(path: os.PathLike[str] | str | int) -> os.statvfs_result:
        found = real(path)
        made = len(os.listdir(wrap)) if wrap.is_dir() else 0
        free = _FILES // 100 + _ABOVE_FLOOR - made
        return os.statvfs_result((*found[:5], _FILES, free, free, *found[8:]))

    monkeypatch.setattr(os, "statvfs", nearly_full)
    monkeypatch.setattr(fsjournal, "journal_of", lambda _path: fsjournal.Journal("x", 64, 4096))
    written, failed = sweep_module._wrap_journal(store)
    made = len(os.listdir(wrap))
    assert made <= _ABOVE_FLOOR - 1, f"the wrap made {made} files into the last inodes"
    assert store.store_above_floor(0)
    assert failed is None
    assert written > 64 * 4, "the journal was not written anew over its whole length"
