"""Scratch directories a command holds while it lives, and those killed commands left.

A command locks a file in its directory for as long as it lives; SIGKILL (or the
out-of-memory killer) reaches no `finally`, so what such a command left stays until
the next command finds its directory unheld and destroys it.
"""

from __future__ import annotations

import fcntl
import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import Final

from review.present.disk import on_disk

# Memory-backed: what a command keeps there never reaches a disk. The user's own runtime
# directory first (mode 0700, emptied at logout), where another account's processes see
# not even the names of what is kept; /dev/shm, which every account shares, after it.
_RAM_DIRS: Final = ("$XDG_RUNTIME_DIR", "/dev/shm")  # noqa: S108


def ram_dir() -> Path | None:
    """A memory-backed directory this user may write in, if this system has one.

    Only where the mount table says it is memory (tmpfs, ramfs): a chroot's or a
    container's /dev/shm, or a $XDG_RUNTIME_DIR set by hand, may be a directory on the
    disk, and what was written there in the belief it was memory went unwarned.
    """
    for candidate in _RAM_DIRS:
        path = Path(os.path.expandvars(candidate))
        if (
            not str(path).startswith("$")
            and path.is_dir()
            and os.access(path, os.W_OK)
            and not on_disk(path)
        ):
            return path
    return None


def hold(directory: Path, name: str) -> int:
    """Lock `directory/name` for as long as this command lives: the open descriptor."""
    # Locked before it is named: a sweep never finds it unheld while the command lives.
    fd = os.open(directory / f"{name}.new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(directory / f"{name}.new", directory / name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def unheld(base: Path, prefix: str, name: str) -> list[Path]:
    """This user's directories in `base` named `prefix…` whose `name` no living command holds."""
    found = []
    with suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(prefix):
                with suppress(OSError):
                    if _unheld(entry, name):
                        found.append(entry)
    return found


def _unheld(entry: Path, name: str) -> bool:
    info = entry.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    # None yet (FileNotFoundError, passed over): a living command is making it.
    fd = os.open(entry / name, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a command that lives holds it
    finally:
        os.close(fd)
    return True
