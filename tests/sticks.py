"""The FAT32 and exFAT sticks carriers use, as image files mounted through FUSE.

Such a filesystem keeps what an ext4 test directory does not show: a removed file's
blocks stay where they were, readable, and its directory entry keeps its name and
size. This sandbox's kernel has no FAT driver, so the sticks are mounted through FUSE
(fusefat, exfat-fuse), and a test reads the raw image as whoever takes the stick would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

_TOOLS = ("mkfs.vfat", "fusefat", "mkfs.exfat", "mount.exfat-fuse", "losetup")
needs_sticks = pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/dev/fuse").exists() or not all(map(shutil.which, _TOOLS)),
    reason="needs root, /dev/fuse, dosfstools, exfatprogs, fusefat and exfat-fuse",
)


def run(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed tools, our own paths
        args, check=True, capture_output=True, text=True, timeout=60
    ).stdout


@contextlib.contextmanager
def mounted(kind: str, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh stick made as the guide says, mounted: its mount point and its raw image."""
    image, mnt = tmp_path / f"{kind}.img", tmp_path / "stick"
    mnt.mkdir()
    with image.open("wb") as f:
        f.truncate(40 << 20)
    loop = None
    if kind == "fat32":
        run("mkfs.vfat", "-F", "32", "-s", "1", "-n", "OUT", str(image))
        run("fusefat", "-o", "rw+", str(image), str(mnt))
    else:
        run("mkfs.exfat", "-L", "OUT", str(image))
        loop = run("losetup", "-f", "--show", str(image)).strip()  # exfat-fuse wants a device
        run("mount.exfat-fuse", loop, str(mnt))
    try:
        yield mnt, image
    finally:
        subprocess.run(["umount", str(mnt)], check=False, timeout=60)  # noqa: S603, S607
        if loop:
            subprocess.run(["losetup", "-d", loop], check=False, timeout=60)  # noqa: S603, S607


def unmounted(mnt: Path, image: Path) -> bytes:
    """The stick's raw bytes once it is pulled out (unmounted, so all is written)."""
    run("umount", str(mnt))
    return image.read_bytes()


def fill(path: Path, leaving: int) -> None:
    """Fill the stick with one file, then give `leaving` bytes of it back (FUSE's FAT
    says nothing of its free space, so it is filled until it refuses)."""
    with path.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\xaa" * (1 << 20 if f.tell() < 30 << 20 else 4096))
        except OSError:
            pass
        f.truncate(os.fstat(f.fileno()).st_size - leaving)
