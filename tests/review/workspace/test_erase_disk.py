"""A blob the workspace lets go of and the seized disk's blocks: its bytes are not there.

The attack: a file blob the workspace drops (an item kept unread, replaced once
its reviewer opens it; new blobs of an import or a rewrap that failed; a
damaged item's partial re-sealing) was unlinked as it was, and the filesystem
frees its blocks without overwriting them. A seizer who reads the disk's
blocks (not its files) finds every byte of it again.

The workspace lives on an ext4 image of its own (tests/app/operations/test_journal.py's).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto import Metadata, PrivateKey, SigningKey, seal_bytes
from crypto.exchange import ExportEntry, ExportManifest, new_bundle_id, write_export
from review import workspace as ws
from review.intake.importer import import_bundle
from review.workspace.blobs import remove_files
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.review.support import (
    SECOND_REVIEWER_PW,
    Server,
    enrol_second_reviewer,
    init_workspace,
)


def _bundle(server: Server, out: Path, envelope: bytes) -> Path:
    """A signed export bundle of one item, kept off the image (it is the stick)."""
    item = out / "item.rze"
    item.write_bytes(envelope)
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
    bundle = out / "crafted.rzb"
    with bundle.open("wb") as dst:
        write_export(
            dst, manifest, [item], SigningKey.from_text(server.paths.signing_key.read_text())
        )
    return bundle


def test_an_unread_items_kept_envelope_replaced_at_its_import_is_not_in_the_disks_blocks(
    server: Server,
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    image, mount = ext4
    root = init_workspace(server, mount / "workspace")
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    second = enrol_second_reviewer(u)
    assert second.encryption is not None
    # Larger than an inline blob, so it is kept as a file of blobs/.
    envelope = seal_bytes(
        secrets.token_bytes(300_000), [second.encryption.public_key], Metadata("file")
    )
    bundle = _bundle(server, tmp_path, envelope)
    assert import_bundle(u, bundle).problems  # kept unread, for "second"
    u.workspace.close()
    os.sync()
    marks = [envelope[at : at + 64] for at in range(4096, len(envelope) - 64, 65_536)]
    assert all(mark in image.read_bytes() for mark in marks)  # kept, on the disk
    u = ws.Workspace.open(root).unlock("second", lambda _: SECOND_REVIEWER_PW)
    assert import_bundle(u, bundle).filed == 1  # opened: the kept copy goes
    u.workspace.close()
    os.sync()
    disk = image.read_bytes()
    assert not any(mark in disk for mark in marks), "the kept envelope is in the disk's blocks"


def test_removed_blob_files_are_zeroed_before_they_are_unlinked(tmp_path: Path) -> None:
    blob = tmp_path / "a.rze"
    blob.write_bytes(b"sealed bytes " * 100)
    seized = tmp_path / "link"  # the same inode, as the freed blocks keep it
    os.link(blob, seized)
    remove_files([blob, tmp_path / "gone.rze"])
    assert not blob.exists()
    assert seized.read_bytes() == bytes(1300), "the removed blob's bytes are still there"


def test_an_imports_scratch_files_are_zeroed_before_they_are_unlinked(
    unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    seized = tmp_path / "link"
    with ws.scratch(unlocked.workspace) as tmp:
        item = tmp / "000001.item"  # an envelope too large to wait in memory
        item.write_bytes(b"envelope " * 100)
        os.link(item, seized)
    assert not tmp.exists()
    assert seized.read_bytes() == bytes(900), "the scratch file's bytes are still there"
