"""Destroying a secret file of the workspace: overwritten where it lies, then unlinked."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Final

_ZEROS: Final = 1024 * 1024  # written at a time: a large attachment is not zeroed in memory


def destroy(path: Path) -> None:
    """Overwrite a file with zeros, flush it to disk, then unlink it (nothing if it is gone).

    On copy-on-write filesystems, SSDs and snapshots the old blocks may survive:
    the workstation guide says to keep the workspace on an encrypted volume.
    """
    with suppress(FileNotFoundError):
        with path.open("r+b") as f:
            left = os.fstat(f.fileno()).st_size
            while left > 0:
                left -= f.write(bytes(min(left, _ZEROS)))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()


def discard(path: Path) -> None:
    """Destroy a file; one that cannot be overwritten (a socket, a full disk) is unlinked anyway.

    For cleaning up after a failure: it raises nothing, so the failure is the one reported.
    """
    try:
        destroy(path)
    except OSError:
        with suppress(OSError):
            path.unlink()


def destroy_tree(root: Path) -> None:
    """Destroy every file under `root`, then remove its directories (best effort, as `discard`)."""
    for directory, _dirs, names in os.walk(root, topdown=False):
        for name in names:
            path = Path(directory, name)
            if path.is_symlink():
                with suppress(OSError):
                    path.unlink()
            else:
                discard(path)
        with suppress(OSError):
            os.rmdir(directory)
