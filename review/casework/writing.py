"""What a command killed while writing an attachment out leaves beside it, destroyed.

`open_attachment` writes to a hidden temporary file beside its target
(`crypto.open_to_path`), renamed into place once all of it verifies, and destroyed
when anything fails. SIGKILL (or the out-of-memory killer) reaches no `finally`: the
`.NAME.XXXXXXXX.part` would keep the plaintext written so far, unnamed by any
warning. So, while it writes, a note naming the target waits in a memory-backed
directory, locked (flock) by the command; the next write destroys the parts beside
the targets of the notes no living command holds.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from review.workspace.erase import destroy

# Memory-backed: the note (the target's path) never reaches a disk.
_RAM_DIRS: Final = ("/dev/shm", "$XDG_RUNTIME_DIR")  # noqa: S108
_NOTES: Final = "raazdar-writing-"
_HELD: Final = "held"
_TARGET: Final = "target"
# The name `tempfile.mkstemp` gives a part of `open_to_path`: prefix, 8 characters, suffix.
_RANDOM: Final = re.compile(r"[a-z0-9_]{8}")


@contextmanager
def noted(target: Path) -> Iterator[None]:
    """Leave a note of `target` for as long as this runs; first destroy what killed ones left."""
    base = _ram_dir()
    if base is None:
        yield  # nowhere to keep a note off the disk: none is kept
        return
    sweep(base)
    note = Path(tempfile.mkdtemp(prefix=_NOTES, dir=base))
    (note / _TARGET).write_text(str(target.absolute()), "utf-8")
    # Locked before it is named: a sweep never finds it unheld while this command lives.
    held = os.open(note / f"{_HELD}.new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        os.rename(note / f"{_HELD}.new", note / _HELD)
        yield
    finally:
        shutil.rmtree(note, ignore_errors=True)
        os.close(held)


def sweep(base: Path) -> None:
    """Destroy the parts beside the targets of the notes in `base` no living command holds."""
    with suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(_NOTES):
                with suppress(OSError, UnicodeDecodeError):
                    _sweep_one(entry)


def _sweep_one(entry: Path) -> None:
    info = entry.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return
    # None yet (FileNotFoundError, passed over): a living command is making it.
    fd = os.open(entry / _HELD, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # a command that lives holds it
    finally:
        os.close(fd)
    target = Path((entry / _TARGET).read_text("utf-8"))
    prefix = f".{target.name}."
    with suppress(OSError):
        for part in target.parent.iterdir():
            name = part.name
            if (
                name.startswith(prefix)
                and name.endswith(".part")
                and _RANDOM.fullmatch(name[len(prefix) : -len(".part")])
                and stat.S_ISREG(part.lstat().st_mode)
            ):
                destroy(part)
    shutil.rmtree(entry, ignore_errors=True)


def _ram_dir() -> Path | None:
    for candidate in _RAM_DIRS:
        path = Path(os.path.expandvars(candidate))
        if not str(path).startswith("$") and path.is_dir() and os.access(path, os.W_OK):
            return path
    return None
