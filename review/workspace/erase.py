"""Destroying a secret file of the workspace: overwritten where it lies, then unlinked."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


def destroy(path: Path) -> None:
    """Overwrite a file with zeros, flush it to disk, then unlink it.

    On copy-on-write filesystems, SSDs and snapshots the old blocks may survive:
    the workstation guide says to keep the workspace on an encrypted volume.
    """
    with suppress(FileNotFoundError):
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
