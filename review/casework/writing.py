"""What a command killed while writing an attachment out leaves beside it, destroyed.

`open_attachment` writes to a hidden temporary file beside its target
(`crypto.open_to_path`), renamed into place once all of it verifies, and destroyed
when anything fails; `bodies open` a packet to a hidden directory the same way
(`review.escalation.opened`). SIGKILL (or the out-of-memory killer) reaches no `finally`: the
`.NAME.XXXXXXXX.part` would keep the plaintext written so far, unnamed by any
warning. So, while it writes, a note naming the target waits in a memory-backed
directory, locked (flock) by the command; the next write destroys the parts beside
the targets of the notes no living command holds.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from review.workspace.erase import destroy, destroy_tree
from review.workspace.held import hold, ram_dir, unheld

_NOTES: Final = "raazdar-writing-"
_HELD: Final = "held"
_TARGET: Final = "target"
# The name `tempfile.mkstemp` gives a part of `open_to_path`: prefix, 8 characters, suffix.
_RANDOM: Final = re.compile(r"[a-z0-9_]{8}")


@contextmanager
def noted(target: Path) -> Iterator[None]:
    """Leave a note of `target` for as long as this runs; first destroy what killed ones left."""
    base = ram_dir()
    if base is None:
        yield  # nowhere to keep a note off the disk: none is kept
        return
    sweep(base)
    note = Path(tempfile.mkdtemp(prefix=_NOTES, dir=base))
    (note / _TARGET).write_text(str(target.absolute()), "utf-8")
    try:
        held = hold(note, _HELD)
    except BaseException:
        shutil.rmtree(note, ignore_errors=True)
        raise
    try:
        yield
    finally:
        shutil.rmtree(note, ignore_errors=True)
        os.close(held)


def sweep(base: Path) -> None:
    """Destroy the parts beside the targets of the notes in `base` no living command holds."""
    for entry in unheld(base, _NOTES, _HELD):
        with suppress(OSError, UnicodeDecodeError):
            _destroy_parts(entry)


def _destroy_parts(entry: Path) -> None:
    target = Path((entry / _TARGET).read_text("utf-8"))
    prefix = f".{target.name}."
    with suppress(OSError):
        for part in target.parent.iterdir():
            name = part.name
            if (
                name.startswith(prefix)
                and name.endswith(".part")
                and _RANDOM.fullmatch(name[len(prefix) : -len(".part")])
            ):
                mode = part.lstat().st_mode
                if stat.S_ISREG(mode):
                    destroy(part)
                elif stat.S_ISDIR(mode):  # a packet's, from `bodies open`
                    destroy_tree(part)
    shutil.rmtree(entry, ignore_errors=True)
