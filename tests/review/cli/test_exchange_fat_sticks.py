"""A reply bundle on the FAT32 or exFAT stick a carrier uses: what the stick's blocks keep.

The guide has the OUT stick made FAT32 (exFAT is what many sticks come with). Such a
filesystem keeps what an ext4 test directory does not show: a removed file's blocks
stay where they were, readable, and its directory entry keeps its name and size. The
stick is mounted here through FUSE (this sandbox's kernel has no FAT driver), the review
tool writes to it as a carrier's would, and the test reads the raw image as whoever
takes the stick would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review.cli.test_exchange_sticks import REPLY, _clear
from tests.review.support import Server, review
from tests.sticks import fill, mounted, needs_sticks, unmounted

pytestmark = needs_sticks


@pytest.fixture(params=["fat32", "exfat"])
def stick(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh stick made as the guide says, mounted: its mount point and its raw image."""
    with mounted(request.param, tmp_path) as found:
        yield found


def _queued_reply(server: Server, workspace: Path, tmp_path: Path) -> str:
    """Import one report and queue a reply to it; return its source's designation."""
    server.submit("The SHO sold the girls to the agent.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    text = tmp_path / "reply.txt"
    text.write_text(REPLY, "utf-8")
    assert review(workspace, "reply", "1", "--file", str(text)).exit_code == 0
    (designation,) = _clear(workspace, "SELECT designation FROM sources")
    return designation


# FUSE's FAT32 (fusefat) never says a stick is full: it writes on past the image's end.
@pytest.mark.parametrize("stick", ["exfat"], indirect=True)
def test_a_reply_bundle_cut_short_by_a_full_stick_leaves_none_of_it_there(
    server: Server, workspace: Path, tmp_path: Path, stick: tuple[Path, Path]
) -> None:
    # The attack: the stick fills up mid-export. The tool says it failed and the reviewer
    # takes another stick; the part it wrote was unlinked, and its blocks, on the stick,
    # still name the source answered.
    mnt, image = stick
    designation = _queued_reply(server, workspace, tmp_path)
    fill(mnt / "filler", leaving=4096)  # a bundle of one reply is 5 KB
    exported = review(workspace, "exchange", "export", "--out", str(mnt / "replies.rzr"))
    assert "error: No space left on device" in exported.output, exported.output
    raw = unmounted(mnt, image)
    assert designation.encode() not in raw, "the stick keeps the part of the bundle it held"
