"""The blob store: envelopes sealed to the workspace key, small ones in the database.

Most items are a few kilobytes, and creating a file apiece costs more than
decrypting them; so blobs up to `INLINE_MAX` bytes are rows, written in the
same transaction as the rows that point at them, and larger ones are files in
`blobs/`, written before that transaction and removed again if it fails.
Either way a blob is ciphertext that only the workspace key opens.

A process killed between writing a file and committing its row (SIGKILL, a
power cut) removes nothing: `reap`, when the workspace is next opened, destroys
every file no row names and every scratch directory left. Writers hold
`writing` from their first file to their commit, so a reap never takes a file
whose row is on its way, in this process or another.
"""

from __future__ import annotations

import fcntl
import io
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from review.errors import WorkspaceError
from review.workspace.erase import destroy
from review.workspace.noatime import open_quietly

if TYPE_CHECKING:
    # Only for annotations: the workspace package loads `outbox`, which uses this room.
    from review.workspace import Workspace

INLINE_MAX: Final = 256 * 1024
# Every column that names a blob, file or row (each item's, filed or not, too).
NAMING: Final = (("items", "blob"), ("escalations", "blob"), ("replies", "envelope"))


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
    workspace.conn.executemany(INSERT_INLINE, (inline_row(name, data) for name, data in blobs))


# A row's rowid is drawn at random, never the next one: SQLite numbers rows in the order
# they were written, and `blob_data` holds every kind of blob (a report's items, a reply,
# an escalated packet, a draft), so in order of writing its rows said, to whoever reads
# the file without a passphrase, between which imports each reply and packet was made
# (the imports' own times are clear, in `bundles`).
INSERT_INLINE: Final = "INSERT INTO blob_data (rowid, name, data) VALUES (?, ?, ?)"


def inline_row(name: str, data: bytes) -> tuple[int, str, bytes]:
    """The parameters of `INSERT_INLINE` for one blob: a random rowid (one in 2**62)."""
    return secrets.randbits(62) + 1, name, data


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
    """Destroy blob files (overwritten, then unlinked), ignoring those already gone.

    A blob is sealed content: unlinked as it was, its blocks would keep it for
    whoever reads the disk and holds a passphrase.
    """
    for path in paths:
        destroy(path)


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


@contextmanager
def writing(workspace: Workspace) -> Iterator[None]:
    """Hold off `reap` while blob files or scratch are written ahead of the rows naming them."""
    fd = os.open(workspace.blobs, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # and the lock with it


def reap(workspace: Workspace) -> int:
    """Destroy blob files no row names and scratch left by a killed process; say how many.

    Skipped while any process writes (`writing`): the files it wrote are not
    named yet. Each file is overwritten before it goes: an orphan of a killed
    `keys rewrap` is sealed to the workspace key it retired.
    """
    from review.workspace.erase import destroy

    try:
        fd = os.open(workspace.blobs, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        named = {
            row[0]
            for table, column in NAMING
            for row in workspace.conn.execute(
                f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608 - names from NAMING
            )
        }
        orphans = [p for p in workspace.blobs.iterdir() if p.name not in named]
        for path in orphans:
            with suppress(OSError):  # a read-only copy, say: the next open tries again
                destroy(path)
        leftover = list(workspace.tmp.iterdir()) if workspace.tmp.is_dir() else []
        for path in leftover:
            with suppress(OSError):
                shutil.rmtree(path) if path.is_dir() else destroy(path)
        return len(orphans) + len(leftover)
    finally:
        os.close(fd)
