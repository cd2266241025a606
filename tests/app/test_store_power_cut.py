"""A power cut during the arrival sweep loses no envelope (`EnvelopeStore.sweep`).

The sweep copies each held envelope, renames the copy into the store, and writes
zeros over the old file. ext4 (ordered mode, the instance's filesystem) flushes a
file's data before the journal commit that holds the names changed since the last
one: a power cut between the two leaves the zeros on the disk under the old names.
So each test here keeps, at every flush of a file, what a cut there could leave:
the names as the last flush left them, each file's bytes as they are now; then
runs the next sweep on that disk.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

import pytest

from app.store import EnvelopeStore


class _Disk:
    """The store's names as last made durable, and the disks a power cut could leave."""

    def __init__(self, top: Path) -> None:
        self._top = top
        self._inodes = top / "inodes"  # a link to every file named, so its bytes stay readable
        self._inodes.mkdir()
        self._durable: dict[str, str] = {}
        self.images: list[dict[str, bytes]] = []
        self.recording = True

    def committed(self) -> None:
        """Every name now is on the disk (ext4 commits every change at any flush)."""
        names: dict[str, str] = {}
        for part in ("store", "staging"):
            for directory, _dirs, found in os.walk(self._top / part):
                for name in found:
                    path = Path(directory, name)
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    kept = self._inodes / str(info.st_ino)
                    if not kept.exists():
                        os.link(path, kept)
                    names[str(path.relative_to(self._top))] = kept.name
        self._durable = names

    def cut(self) -> None:
        """A power cut now: the names last committed, every file's bytes as written since."""
        self.images.append(
            {name: (self._inodes / inode).read_bytes() for name, inode in self._durable.items()}
        )


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> _Disk:
    """The store's flushes, recorded as a power cut would meet them."""
    seen = _Disk(tmp_path)
    fsync = os.fsync

    def recorded_fsync(fd: int) -> None:
        if not seen.recording:
            fsync(fd)
            return
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen.cut()  # the file's data goes first: a cut before the commit keeps it
        fsync(fd)
        seen.committed()

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    return seen


def _store(top: Path) -> EnvelopeStore:
    (top / "store").mkdir(exist_ok=True)
    (top / "staging").mkdir(exist_ok=True)
    return EnvelopeStore(top / "store", top / "staging")


def _arrive(store: EnvelopeStore, data: bytes) -> str:
    envelope_id = secrets.token_hex(16)
    staged = store.staging / f"{envelope_id}.rze"
    staged.write_bytes(data)
    store.publish(envelope_id, staged)
    return envelope_id


def _boot(top: Path, image: dict[str, bytes]) -> EnvelopeStore:
    """Put a disk a power cut left in place, as the server finds it when it comes back."""
    for name, data in image.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return _store(top)


def test_a_power_cut_in_the_sweep_loses_no_envelope(tmp_path: Path, disk: _Disk) -> None:
    """The old file was overwritten before its copy's name was on the disk: cut there, the
    old name kept the zeros, and the next sweep destroyed the copy a sweep cut short left,
    then moved the zeros into the store in the envelope's place."""
    live = _store(tmp_path)
    envelopes = {_arrive(live, secrets.token_bytes(9000)): b"" for _ in range(2)}
    for envelope_id in envelopes:
        envelopes[envelope_id] = live.path(envelope_id).read_bytes()
    disk.committed()
    live.sweep(renew=lambda _id, _info: False)
    assert disk.images, "the sweep flushed nothing"
    disk.recording = False

    lost = []
    for number, image in enumerate(disk.images):
        booted = _boot(tmp_path / f"boot-{number}", image)
        booted.sweep(renew=lambda _id, _info: False)
        for envelope_id, data in envelopes.items():
            path = booted.path(envelope_id)
            kept = path.read_bytes() if path.exists() else b""
            if hashlib.sha256(kept).digest() != hashlib.sha256(data).digest():
                lost.append(f"cut {number}: {envelope_id} is {'zeros' if not any(kept) else '?'}")
    assert not lost, f"{len(lost)} envelope(s) lost of {len(disk.images)} power cuts: {lost[0]}"
