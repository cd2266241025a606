"""Whether a file the tool reads or writes outside the workspace lies on a disk, and the warning.

A passphrase file or an attachment written out stays readable on a disk, and
removing it there frees its blocks without overwriting them: whoever takes the
disk reads it back. In memory (tmpfs, ramfs) it is gone at the next shutdown.
The CLI and the terminal UI warn in the same words.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

# Filesystems whose files live in memory only.
_MEMORY_FILESYSTEMS: Final = frozenset({"tmpfs", "ramfs"})
_MOUNTS: Final = Path("/proc/self/mounts")


def on_disk(path: Path) -> bool:
    """Say whether `path` is on a filesystem that keeps data on a disk (not tmpfs or ramfs).

    False where the mount table cannot be read: then nobody can tell.
    """
    try:
        mounts = _MOUNTS.read_text("utf-8").splitlines()
    except OSError:
        return False
    where = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table writes a space in a mount point as \040.
        point = fields[1].replace("\\040", " ")
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return bool(best) and kind not in _MEMORY_FILESYSTEMS


def warning(path: Path, what: str) -> str | None:
    """Why `what` in `path` stays readable, and where to keep it instead; None in memory."""
    if not on_disk(path):
        return None
    return (
        f"{path} is on a disk: {what} stays readable there, and removing the file frees its"
        " blocks without overwriting them; keep it in memory instead (/dev/shm or"
        " $XDG_RUNTIME_DIR)"
    )
