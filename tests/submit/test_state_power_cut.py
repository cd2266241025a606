"""A power cut while the client saves its state leaves the old state or the new, never none.

The state is written to a new file, flushed, renamed over the old one, and the old file
is then overwritten with zeros (its nonce first: `submit.state._zero`). ext4 (ordered
mode, and most phones' filesystems alike) writes a file's data before the journal commit
that holds the names changed since the last: a cut between the zeros' flush and that
commit left the zeros under the state's name, a state that reads as forgotten, and the
source's unfinished submission and reply keys with it. So the test keeps, at every flush
of a file, what a cut there could leave (the names as the last flush left them, each
file's bytes as they are now), and opens the state on each such disk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from crypto import HybridPrivateKey
from submit.state import State
from tests.submit.test_state import VAULT, full_state


class _Disk:
    """The state folder's names as last made durable, and the disks a power cut could leave."""

    def __init__(self, root: Path, kept: Path) -> None:
        self._root = root
        self._inodes = kept  # a link to every file named, so its bytes stay readable
        self._durable: dict[str, str] = {}
        self.images: list[dict[str, bytes]] = []

    def committed(self) -> None:
        """Every name now is on the disk (ext4 commits every change at any flush)."""
        names: dict[str, str] = {}
        for path in self._root.iterdir():
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                continue
            link = self._inodes / str(info.st_ino)
            if not link.exists():
                os.link(path, link)
            names[path.name] = link.name
        self._durable = names

    def cut(self) -> None:
        """A power cut now: the names last committed, every file's bytes as written since."""
        self.images.append(
            {name: (self._inodes / inode).read_bytes() for name, inode in self._durable.items()}
        )


def test_a_state_saved_over_another_is_whole_after_a_cut_at_any_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "state"
    old = full_state(root)
    old.prekeys = [HybridPrivateKey.generate()]
    old.save()
    before = old.to_json()
    (tmp_path / "inodes").mkdir()
    disk = _Disk(root, tmp_path / "inodes")
    disk.committed()
    fsync = os.fsync

    def recorded(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            disk.cut()  # the file's data goes first: a cut before the commit keeps it
        fsync(fd)
        disk.committed()

    monkeypatch.setattr(os, "fsync", recorded)
    old.forget_prekey(old.prekeys[0])
    monkeypatch.undo()
    after = old.to_json()
    assert disk.images
    for number, image in enumerate(disk.images):
        left = tmp_path / f"cut{number}"
        left.mkdir(mode=0o700)
        for name, content in image.items():
            (left / name).write_bytes(content)
            (left / name).chmod(0o600)
        found = State.load(left, VAULT).to_json()
        assert found in (before, after), (
            f"a cut at flush {number} of {len(disk.images)} left no state: {found}"
        )
