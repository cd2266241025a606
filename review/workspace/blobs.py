"""The blob store: envelopes sealed to the workspace key, small ones in the database.

Most items are a few kilobytes, and creating a file apiece costs more than
decrypting them; so blobs up to `INLINE_MAX` bytes are rows, written in the
same transaction as the rows that point at them, and larger ones are files in
`blobs/`, written before that transaction and removed again if it fails.
Either way a blob is ciphertext that only the workspace key opens.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from review.errors import WorkspaceError
from review.workspace.noatime import open_quietly

if TYPE_CHECKING:
    # Only for annotations: the workspace package loads `outbox`, which uses this room.
    from review.workspace import Workspace

INLINE_MAX: Final = 256 * 1024


def open_blob(workspace: Workspace, name: str) -> BinaryIO:
    """Open a blob for reading, wherever it is kept."""
    row = workspace.conn.execute("SELECT data FROM blob_data WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return io.BytesIO(row[0])
    try:
        return open_quietly(workspace.blobs / name)
    except FileNotFoundError as exc:
        raise WorkspaceError(f"blob {name} is missing from the workspace") from exc


def read_blob(workspace: Workspace, name: str) -> bytes:
    """A blob's bytes (for small blobs)."""
    with open_blob(workspace, name) as src:
        return src.read()


def put_inline(workspace: Workspace, name: str, data: bytes) -> None:
    """Store a small blob as a row (inside the caller's transaction)."""
    put_inline_many(workspace, [(name, data)])


def put_inline_many(workspace: Workspace, blobs: Iterable[tuple[str, bytes]]) -> None:
    """Store small blobs, each (name, data), as rows in one statement (inside a transaction)."""
    workspace.conn.executemany("INSERT INTO blob_data VALUES (?, ?)", blobs)


def create_file(workspace: Workspace, name: str) -> tuple[Path, BinaryIO]:
    """Create a new blob file, never over an existing one."""
    path = workspace.blobs / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return path, os.fdopen(fd, "wb")


def drop(workspace: Workspace, name: str) -> Path | None:
    """Delete an inline blob (inside the caller's transaction); return a file blob's path.

    A file is only removed by the caller once the transaction has committed.
    """
    cursor = workspace.conn.execute("DELETE FROM blob_data WHERE name = ?", (name,))
    return None if cursor.rowcount else workspace.blobs / name


def remove_files(paths: list[Path]) -> None:
    """Remove blob files, ignoring those already gone."""
    for path in paths:
        with suppress(FileNotFoundError):
            path.unlink()


def clear_times(root: Path) -> None:
    """Set every workspace file's and directory's access and modification times to 0 (1970).

    File times would say when each reply was written and each attachment
    imported, to the second; the change times that this leaves say only when
    the tool last ran.
    """
    for directory, _dirs, names in os.walk(root, topdown=False):
        for name in names:
            with suppress(OSError):
                os.utime(os.path.join(directory, name), (0, 0), follow_symlinks=False)
        with suppress(OSError):
            os.utime(directory, (0, 0))
