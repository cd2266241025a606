"""Reading the instance's files without writing the time of the read into them (atime).

An access time would say when the server started (its config and keys are read
then), when the first export was signed, or when a source last read a reply.
O_NOATIME works only for the file's owner (or root): elsewhere the open falls
back quietly to a plain one, and the mount's `noatime` must do the rest
(`raazdar doctor` says when it is missing).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

# 0 where the platform lacks it.
_NOATIME: Final = getattr(os, "O_NOATIME", 0)


def open_quietly(path: Path, flags: int = os.O_RDONLY) -> int:
    """Open `path` without updating its access time where the kernel allows; return the fd."""
    if _NOATIME:
        try:
            return os.open(path, flags | _NOATIME)
        except PermissionError:
            pass
    return os.open(path, flags)


def read_quietly(path: Path) -> bytes:
    """Read a whole file without leaving the time of the read in its access time."""
    with os.fdopen(open_quietly(path), "rb") as stream:
        return stream.read()
