"""The envelope store: ciphertext files named by random id, with no times on them.

New envelopes are written in a staging directory beside the store and renamed in
only when their database rows are about to commit, so a failed request leaves
nothing behind. File and directory times are reset to the epoch after each change.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from crypto import Metadata, PublicKey, SealingWriter, SealResult

_OVERWRITE_BLOCK = 1024 * 1024


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
        if len(envelope_id) != 32 or not all(c in "0123456789abcdef" for c in envelope_id):
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
        """Overwrite a file with zeros where the filesystem allows, then unlink it."""
        try:
            size = path.stat().st_size
            with open(path, "r+b") as out:
                zeros = bytes(min(size, _OVERWRITE_BLOCK))
                remaining = size
                while remaining > 0:
                    remaining -= out.write(zeros[: min(remaining, len(zeros))])
                out.flush()
                os.fsync(out.fileno())
            path.unlink()
        except FileNotFoundError:
            return
        _normalize_times(path.parent)

    def clear_staging(self) -> int:
        """Remove everything left in staging (after a crash); return how many files."""
        count = 0
        for leftover in self.staging.glob("*"):
            self.destroy(leftover)
            count += 1
        return count
