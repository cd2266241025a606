"""A packet a body opens onto a disk that fills: what was written is not left in the freed blocks.

The attack: `bodies open` writes a packet's text and files to a directory
beside the target and renames it into place when whole; when a write failed
(the disk full, a file the filesystem refused) the directory was removed as it
was, and the filesystem freed the blocks of the text and files already written
without overwriting them. Whoever later takes that disk reads the packet back
from its blocks, though the body never saw it opened.

The packet opens onto an ext4 image of its own (tests/app/operations/test_journal.py's).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from pathlib import Path

import pytest

from crypto import PrivateKey, SigningKey
from crypto.packet import OpenedPacket, PacketContent, PacketFile
from review.escalation.opened import write_opened
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture

SUMMARY = "Summary canary: the SHO of Thana Kotri took the girls across at Chaman."


def test_a_packet_that_does_not_fit_leaves_nothing_in_the_disks_blocks(
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    image, mount = ext4
    author = SigningKey.generate()
    content = PacketContent(
        packet_id=secrets.token_hex(16),
        created=dt.date(2026, 12, 5),
        recipient=PrivateKey.generate().public_key,
        author=author.verify_key,
        countersignatures=0,
        document={"summary": SUMMARY, "reports": []},
        # Written after the text: more than the disk has left.
        files=(PacketFile("photo-1.jpg", "image/jpeg", secrets.token_bytes(4 * 1024 * 1024)),),
    )
    # Fill the disk but for about 1 MiB (root may use the reserved blocks too): the text
    # fits, the file does not.
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):  # until the disk is full
            while True:
                os.write(fd, bytes(256 * 1024))
        os.ftruncate(fd, os.fstat(fd).st_size - 1024 * 1024)
        os.fsync(fd)
    finally:
        os.close(fd)
    with pytest.raises(OSError, match="No space left on device"):
        write_opened(OpenedPacket(content, (author.verify_key,)), mount / "opened")
    assert sorted(p.name for p in mount.iterdir()) == ["filler", "lost+found"]
    (mount / "filler").unlink()
    os.sync()
    assert SUMMARY.encode() not in image.read_bytes(), "the packet is in the disk's freed blocks"
