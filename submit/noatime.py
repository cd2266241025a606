"""Reading the source's own files without dating the read.

On a filesystem mounted `relatime` (most are), the first read of a file after
it changed, or a day after its last read, sets its access time to that moment:
the photo the client sealed would say, among the gallery's, that it was sent
and when, to the nanosecond; the codename and pins files, when they were last
used. Read with O_NOATIME, a file's access time is left as it was. Only the
file's owner may ask for that; anyone else reads it as usual.
(review/workspace/noatime.py does the same for the workstation: the two tools
share no code but `crypto/`.)
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


def read_text_quietly(path: Path) -> str:
    """A UTF-8 file's text, read without dating the read (`open_quietly`)."""
    return read_quietly(path).decode("utf-8")
