"""ext4's fast commits: a journal area of its own that the sweep's wrap never wrote anew.

A filesystem made with `-O fast_commit` logs an `fsync` as a fast commit: the
changed inode (its creation time in it) and each name added to or removed from a
folder, written to the journal's last blocks (a 64th of it, by default), past the area full
commits go round. The sweep writes the journal anew with full commits only
(`app.fsjournal.wrap`), so whatever fast commits left there stayed.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.config import config_for
from app.models import Item
from app.operations.sweep import sweep
from tests.app.operations.test_journal import MKFS, MOUNT, UMOUNT, _journal, _run, instance_on
from tests.app.support import Visitor

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root"),
]


@pytest.fixture
def fast_ext4(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """An ext4 filesystem with fast commits, mounted `noatime`: (its image, its mount point)."""
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as out:
        out.truncate(96 * 1024 * 1024)
    _run(MKFS, "-q", "-F", "-O", "fast_commit", str(image))
    mounted = _run(MOUNT, "-o", "loop,noatime", str(image), str(mount), check=False)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a filesystem image needs root and a loop device: {mounted.stderr}")
    try:
        yield image, mount
    finally:
        if _run(UMOUNT, str(mount), check=False).returncode:
            _run(UMOUNT, "-l", str(mount))


def test_a_disk_with_fast_commits_copied_after_the_sweep_names_no_arrival(
    fast_ext4: tuple[Path, Path], tmp_path: Path
) -> None:
    image, mount = fast_ext4
    with instance_on(mount) as (instance, _paths, engine, store):
        sweep(engine, store, force=True)
        app = create_app(config_for(instance))
        time.sleep(1.1)
        arrived = time.time()
        for n in range(3):
            visitor = Visitor(app.test_client())
            visitor.filed(visitor.send(visitor.start(), f"report {n}"))
            time.sleep(0.3)
        app.extensions["raazdar.db"].engine.dispose()
        with Session(engine) as session:
            ids = list(session.scalars(select(Item.id)))
        time.sleep(1.1)
        started = time.time()
        assert sweep(engine, store, force=True).moved == len(ids)

    journal = _journal(image, tmp_path / "journal.bin")
    named = [(i, journal.find(i.encode())) for i in ids if i.encode() in journal]
    # An inode's times, as ext4 keeps them (seconds, little-endian), anywhere in the journal.
    words = struct.unpack(f"<{len(journal) // 4}I", journal[: len(journal) // 4 * 4])
    dated = [
        (4 * n, dt.datetime.fromtimestamp(w, dt.UTC).time().isoformat())
        for n, w in enumerate(words)
        if int(arrived) <= w < int(started)
    ]
    size = len(journal)
    said = f"the journal ({size} bytes) names {len(named)} of {len(ids)} arrivals {named}"
    leaked = f"{said} and keeps {len(dated)} time(s) of theirs: {dated[:8]}"
    assert not named, leaked
    assert not dated, leaked
