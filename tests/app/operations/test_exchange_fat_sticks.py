"""An export bundle on the FAT32 or exFAT stick a carrier takes to the workstation.

What the stick's blocks keep once `raazdar export` fails on it (tests/sticks.py
says why the stick is an image mounted through FUSE).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.models import Item
from crypto.constants import BUNDLE_MAGIC_PREFIX
from tests.app.operations.test_exchange import cli, submit
from tests.app.support import envelope_files, row_counts
from tests.sticks import fill, mounted, needs_sticks, unmounted

pytestmark = [needs_sticks, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def exfat_stick(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """An exFAT stick, mounted (FUSE's FAT32 never says it is full: it writes past its end)."""
    with mounted("exfat", tmp_path) as found:
        yield found


def test_an_export_cut_short_by_a_full_stick_leaves_none_of_it_there(
    app: Flask, instance: Path, exfat_stick: tuple[Path, Path]
) -> None:
    # The attack: the stick fills up mid-export. The server says it failed and the
    # operator takes another stick; the part it wrote was unlinked, and its blocks, on
    # the stick, still hold the bundle's header and its sealed items.
    mnt, image = exfat_stick
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8" * 100_000)
    sealed = [path.read_bytes() for path in envelope_files(instance)]
    fill(mnt / "filler", leaving=64 << 10)  # the photo's envelope alone is some 200 KB
    status, output = cli(instance, "export", "--out", str(mnt / "export.rzb"))
    assert status == 1, output
    assert "No space left on device" in output, output
    assert sorted(p.name for p in mnt.iterdir()) == ["filler"]
    raw = unmounted(mnt, image)
    assert BUNDLE_MAGIC_PREFIX not in raw, "the stick keeps the part of the bundle it held"
    for envelope in sealed:
        # A stretch of each envelope past its header: the bundle copies them whole.
        assert envelope[512:576] not in raw, "the stick keeps a sealed item the part held"
    assert row_counts(app, Item) == {"items": 2}
    assert cli(instance, "export", "--out", str(instance.parent / "e.rzb"))[1].startswith(
        "raazdar: exported 2 item(s)"
    ), "an item of the failed export was marked exported"
