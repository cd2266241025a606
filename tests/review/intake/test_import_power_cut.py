"""Every blob file an import records is on the disk, bytes and all, before the record.

An item no key here opens (sealed to another reviewer's key, or damaged) is kept as it
came, to retry later; past `INLINE_MAX` in a blob file of its own. That file was never
flushed: ext4 allocates a new file's blocks only when it writes them back, seconds
later, so a power cut after the import's commit left the item recorded, its bundle
counted as imported, and the file empty. The next reply bundle acknowledges the item
and the server deletes its last copy. The test notes each file's size at each flush of
it: every blob file must have been flushed whole.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from pathlib import Path

import pytest

from crypto import Metadata, PrivateKey, SigningKey, seal_bytes
from crypto.exchange import ExportEntry, ExportManifest, new_bundle_id, write_export
from review import workspace as ws
from review.intake.importer import import_bundle
from review.workspace.blobs import INLINE_MAX
from tests.review.support import Server


def test_an_item_kept_unopened_in_a_blob_file_is_flushed_before_it_is_recorded(
    server: Server,
    unlocked: ws.Unlocked,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    foreign = seal_bytes(
        secrets.token_bytes(INLINE_MAX + 1000),
        [PrivateKey.generate().public_key],
        Metadata("file", "application/pdf", "big.pdf"),
    )
    envelope = tmp_path / "foreign.rze"
    envelope.write_bytes(foreign)
    entry = ExportEntry(
        secrets.token_hex(16), secrets.token_hex(16), "Crafted source", "file", dt.date.today()
    )
    manifest = ExportManifest(
        new_bundle_id(),
        server.instance_id,
        dt.date.today(),
        1,
        (entry,),
        {"Crafted source": PrivateKey.generate().public_key},
    )
    bundle = tmp_path / "crafted.rzb"
    with bundle.open("wb") as dst:
        write_export(
            dst, manifest, [envelope], SigningKey.from_text(server.paths.signing_key.read_text())
        )
    flushed: dict[int, int] = {}
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            flushed[info.st_ino] = info.st_size

    monkeypatch.setattr(os, "fsync", recorded)
    summary = import_bundle(unlocked, bundle)
    monkeypatch.undo()
    assert "sealed to no key enrolled" in "\n".join(summary.problems)
    blobs = [p for p in (workspace / "blobs").iterdir() if p.is_file()]
    assert blobs, "the foreign item was kept in no blob file"
    for blob in blobs:
        info = blob.stat()
        assert flushed.get(info.st_ino) == info.st_size, (
            f"a blob file of {info.st_size} bytes was recorded unflushed "
            f"(flushed: {flushed.get(info.st_ino)})"
        )
