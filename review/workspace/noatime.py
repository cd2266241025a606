"""Reading a workspace file without dating the read.

Every command sets the workspace's file times to 0 as it ends, but a session
killed before its end (a power cut, SIGKILL) cannot: each file it read would
keep the moment of that read as its access time (the key file: when its
reviewer unlocked; a blob: when its attachment was viewed). Read with
O_NOATIME, a file's access time is left as it was. Only the file's owner may
ask for that; anyone else reads it as usual.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Final

_NOATIME: Final = getattr(os, "O_NOATIME", 0)


def open_quietly(path: Path) -> BinaryIO:
    """Open a file for reading, leaving its access time as it was where the system allows."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOATIME)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    return os.fdopen(fd, "rb")


def read_quietly(path: Path) -> bytes:
    """A file's bytes, read without dating the read (`open_quietly`)."""
    with open_quietly(path) as src:
        return src.read()
