"""The envelope store: ciphertext files named by random id, with no times on them.

New envelopes are written in a staging directory beside the store and renamed in
only when their database rows are about to commit, so a failed request leaves
nothing behind. File and directory times are reset to the epoch after each change.
Deleting overwrites a file before unlinking it, and a sweep finds envelope files
no row refers to and whatever a crash left in staging (see `app.services.retention`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import BinaryIO, Final

from crypto import Metadata, PublicKey, SealingWriter, SealResult

_OVERWRITE_BLOCK: Final = 1024 * 1024
_ID: Final = re.compile(r"[0-9a-f]{32}")
# How many ids the orphan sweep asks the database about at once.
_BATCH: Final = 500
# Reply bundles are unpacked into a directory of the store named so (see exchange).
REPLY_WORK_PREFIX: Final = ".replies-"


def _normalize_times(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (0, 0))


class StagedEnvelope:
    """An envelope being sealed into the staging directory; a file-like sink for plaintext.

    The file is created on the first write, so an empty upload field leaves nothing.
    """

    def __init__(
        self, store: EnvelopeStore, recipients: list[PublicKey], metadata: Metadata
    ) -> None:
        self.id = secrets.token_hex(16)
        self.metadata = metadata
        self._store = store
        self._recipients = recipients
        self._file: BinaryIO | None = None
        self._writer: SealingWriter | None = None
        self.result: SealResult | None = None
        self.part_complete = False

    @property
    def path(self) -> Path:
        """Where the staged ciphertext is."""
        return self._store.staging / f"{self.id}.rze"

    @property
    def recipients(self) -> list[PublicKey]:
        """Who the envelope is sealed to."""
        return self._recipients

    @property
    def started(self) -> bool:
        """Say whether any plaintext has arrived."""
        return self._writer is not None

    def write(self, data: bytes) -> int:
        """Seal more plaintext."""
        if not data:
            return 0
        if self._writer is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = os.fdopen(fd, "wb")
            self._writer = SealingWriter(self._file, self._recipients, self.metadata)
        return self._writer.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Note the end of the upload part: Werkzeug rewinds each part when it is complete."""
        if offset == 0 and whence == 0:
            self.part_complete = True
        return 0

    def finish(self) -> SealResult:
        """Seal the last chunk and flush the ciphertext to disk."""
        if self._writer is None or self._file is None:
            raise ValueError("nothing was written")
        self.result = self._writer.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self.result

    def discard(self) -> None:
        """Abort sealing and remove whatever was staged."""
        if self._writer is not None:
            self._writer.abort()
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._store.destroy(self.path)


class EnvelopeStore:
    """Envelope files under one directory, by id."""

    def __init__(self, root: Path, staging: Path) -> None:
        self.root = root
        self.staging = staging

    def path(self, envelope_id: str) -> Path:
        """Where envelope `envelope_id` is stored."""
        if not _ID.fullmatch(envelope_id):
            raise ValueError("not an envelope id")
        return self.root / f"{envelope_id}.rze"

    def stage(self, recipients: list[PublicKey], metadata: Metadata) -> StagedEnvelope:
        """Start sealing a new envelope into staging."""
        return StagedEnvelope(self, recipients, metadata)

    def stage_bytes(
        self, plaintext: bytes, recipients: list[PublicKey], metadata: Metadata
    ) -> StagedEnvelope:
        """Seal a small in-memory plaintext into staging."""
        staged = self.stage(recipients, metadata)
        try:
            staged.write(plaintext)
            staged.finish()
        except BaseException:
            staged.discard()
            raise
        return staged

    def stage_ciphertext(self, envelope: bytes) -> tuple[str, Path]:
        """Write an envelope that was sealed elsewhere (a reply) into staging."""
        envelope_id = secrets.token_hex(16)
        path = self.staging / f"{envelope_id}.rze"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(envelope)
            out.flush()
            os.fsync(out.fileno())
        return envelope_id, path

    def publish(self, envelope_id: str, staged_path: Path) -> Path:
        """Move a staged envelope into the store and wipe the times it would reveal."""
        target = self.path(envelope_id)
        os.replace(staged_path, target)
        _normalize_times(target, self.root, self.staging)
        return target

    def open(self, envelope_id: str) -> BinaryIO:
        """Open a stored envelope for reading, leaving its access time alone where possible."""
        # An atime would record when a source last read their replies. O_NOATIME
        # needs the file's owner (the server is), else fall back to a plain open.
        path = self.path(envelope_id)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
        except PermissionError:
            fd = os.open(path, os.O_RDONLY)
        return os.fdopen(fd, "rb")

    def delete(self, envelope_id: str) -> None:
        """Overwrite and remove a stored envelope."""
        self.destroy(self.path(envelope_id))

    def destroy(self, path: Path) -> None:
        """Overwrite a file with zeros, force that to disk, then unlink it; a directory, whole.

        Symlinks and special files are unlinked without writing through them: the
        overwrite must never reach a file outside the store.
        """
        try:
            info = path.lstat()
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            for child in list(path.iterdir()):
                self.destroy(child)
            with contextlib.suppress(FileNotFoundError):
                path.rmdir()
        else:
            if stat.S_ISREG(info.st_mode):
                _overwrite(path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        _normalize_times(path.parent)

    def orphans(self, with_rows: Callable[[list[str]], set[str]], *, min_age: float) -> list[Path]:
        """List stored envelopes that `with_rows` does not know, untouched for `min_age` seconds.

        `with_rows` is given ids in batches and returns those that have a row.
        Only files named like envelopes are considered; anything else in the
        store is left alone.
        """
        found: list[Path] = []
        batch: list[str] = []

        def flush() -> None:
            known = with_rows(batch)
            found.extend(
                self.root / f"{i}.rze" for i in batch if i not in known and self._stale(i, min_age)
            )
            batch.clear()

        for envelope_id in self.envelope_ids():
            batch.append(envelope_id)
            if len(batch) >= _BATCH:
                flush()
        if batch:
            flush()
        return found

    def envelope_ids(self) -> Iterator[str]:
        """Yield the id of every envelope file in the store."""
        try:
            with os.scandir(self.root) as entries:
                for entry in entries:
                    name = entry.name
                    if (
                        name.endswith(".rze")
                        and _ID.fullmatch(name[:-4])
                        and entry.is_file(follow_symlinks=False)
                    ):
                        yield name[:-4]
        finally:
            # Listing sets the directory's access time: put it back to the epoch.
            _normalize_times(self.root)

    def exists(self, envelope_id: str) -> bool:
        """Say whether envelope `envelope_id` has a file."""
        return self.path(envelope_id).exists()

    def strays(self, *, min_age: float, keep: Collection[str] = ()) -> list[Path]:
        """List the entries of staging not named in `keep`, untouched for `min_age` seconds."""
        found = [p for p in self.staging.iterdir() if p.name not in keep and _age(p) >= min_age]
        _normalize_times(self.staging)
        return sorted(found)

    def leftovers(self, *, min_age: float, keep: Collection[str] = ()) -> list[Path]:
        """List what a crash can leave behind, untouched for `min_age` seconds.

        That is anything in staging but `keep` (the files of uploads still under
        way), and the work directories reply bundles are unpacked into. Both are
        normally gone when the request that made them ends.
        """
        found = self.strays(min_age=min_age, keep=keep)
        found += [
            p
            for p in self.root.glob(f"{REPLY_WORK_PREFIX}*")
            if p.is_dir() and not p.is_symlink() and _age(p) >= min_age
        ]
        _normalize_times(self.root, self.staging)
        return sorted(found)

    def _stale(self, envelope_id: str, min_age: float) -> bool:
        return _age(self.path(envelope_id)) >= min_age


def _overwrite(path: Path) -> None:
    """Write zeros over every byte of a regular file and wait until the device has them."""
    # Overwriting in place is a best effort. It reaches the old bytes where the
    # filesystem rewrites blocks where they lie (ext4 in its default ordered mode,
    # XFS, tmpfs). It promises nothing on copy-on-write or log-structured
    # filesystems (btrfs, ZFS, F2FS), whose writes go to new blocks and whose
    # snapshots keep the old ones; in the journal of ext4 with data=journal; on
    # SSDs and SD cards, whose wear levelling remaps writes and keeps old pages
    # until the drive erases them; or in backups. There, what protects a report is
    # that the server only ever held ciphertext it cannot open, and full-disk
    # encryption whose key can be destroyed.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return
        zeros = bytes(min(info.st_size, _OVERWRITE_BLOCK))
        offset = 0
        while offset < info.st_size:
            offset += os.pwrite(fd, zeros[: info.st_size - offset], offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def _age(path: Path) -> float:
    """Seconds since anything last changed a file or, for a directory, anything in it."""
    # The inode change time, because publishing resets the other times to the
    # epoch (and sets this one): it says how long a file has been as it is.
    try:
        newest = path.lstat().st_ctime
        if path.is_dir() and not path.is_symlink():
            for inner in path.rglob("*"):
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, inner.lstat().st_ctime)
    except FileNotFoundError:
        return 0.0
    return time.time() - newest
