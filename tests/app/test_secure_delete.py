"""Deleting an envelope overwrites its bytes before unlinking it; the ack path deletes only acks.

A hard link (or an open descriptor) taken before the deletion keeps the inode
alive: reading zeros through it shows the bytes were overwritten in place, not
merely unlinked (an unlink alone leaves them as they were).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import config_for
from app.db import make_engine
from app.instance import InstancePaths
from app.operations.sweep import sweep
from app.store import REPLY_WORK_PREFIX, EnvelopeStore
from tests.app.operations.test_exchange import Review, cli, submit
from tests.app.support import reviewer_keys

CANARY = b"RAAZDAR-CANARY-the-SHO-took-the-money|"
ENVELOPE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def store(tmp_path: Path) -> EnvelopeStore:
    root = tmp_path / "store"
    (root / ".staging").mkdir(parents=True)
    return EnvelopeStore(root, root / ".staging")


def witness(path: Path, tmp_path: Path) -> Path:
    """A second name for the file's inode, which survives the unlink of the first."""
    other = tmp_path / f"witness-{path.name}"
    os.link(path, other)
    return other


@pytest.mark.parametrize("size", [1, 4096, 1024 * 1024 + 7, 3 * 1024 * 1024])
def test_deleting_an_envelope_overwrites_every_byte_before_unlinking(
    store: EnvelopeStore, tmp_path: Path, size: int
) -> None:
    path = store.path(ENVELOPE_ID)
    content = (CANARY * (size // len(CANARY) + 1))[:size]
    path.write_bytes(content)
    link = witness(path, tmp_path)
    with path.open("rb") as held:
        store.delete(ENVELOPE_ID)
        assert not path.exists()
        through_descriptor = held.read()
    through_link = link.read_bytes()
    assert through_link == through_descriptor == bytes(size)
    assert CANARY[:16] not in through_link


def test_deleting_an_empty_or_missing_envelope_is_quiet(store: EnvelopeStore) -> None:
    store.path(ENVELOPE_ID).write_bytes(b"")
    store.delete(ENVELOPE_ID)
    store.delete(ENVELOPE_ID)
    assert not store.path(ENVELOPE_ID).exists()


def test_destroy_never_writes_through_a_symbolic_link(store: EnvelopeStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(CANARY)
    link = store.path(ENVELOPE_ID)
    link.symlink_to(outside)
    store.delete(ENVELOPE_ID)
    assert not link.is_symlink()
    assert outside.read_bytes() == CANARY


def test_destroying_a_directory_overwrites_every_file_in_it(
    store: EnvelopeStore, tmp_path: Path
) -> None:
    work = store.root / f"{REPLY_WORK_PREFIX}crash"
    (work / "items").mkdir(parents=True)
    inner = work / "items" / "reply.rze"
    inner.write_bytes(CANARY * 100)
    link = witness(inner, tmp_path)
    store.destroy(work)
    assert not work.exists()
    assert link.read_bytes() == bytes(len(CANARY) * 100)


def test_sweeping_staging_removes_special_files_without_blocking(store: EnvelopeStore) -> None:
    os.mkfifo(store.staging / "pipe")
    (store.staging / "partial.rze").write_bytes(CANARY)
    strays = store.strays(min_age=0)
    assert len(strays) == 2
    for path in strays:
        store.destroy(path)
    assert list(store.staging.iterdir()) == []


def test_acknowledged_items_are_overwritten_set_aside_and_nothing_else_is_deleted(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    client: FlaskClient = app.test_client()
    submit(client, "first report", b"first file")
    submit(app.test_client(), "second report", b"second file")
    bundle = tmp_path / "export.rzb"
    assert cli(instance, "export", "--out", str(bundle))[0] == 0
    review = Review(instance, reviewer_keys(instance))
    manifest, _ = review.read(bundle, tmp_path / "items")
    first = manifest.entries[0].submission
    acked = tuple(e.id for e in manifest.entries if e.submission == first)
    kept = [e.id for e in manifest.entries if e.submission != first]
    assert len(acked) == 2
    assert len(kept) == 2
    paths = InstancePaths(instance)
    store, envelopes = paths.store, EnvelopeStore(paths.store, paths.staging)
    links = {i: witness(envelopes.path(i), tmp_path) for i in acked}
    before = {i: envelopes.path(i).read_bytes() for i in kept}
    replies = review.replies(tmp_path / "replies.rzr", manifest, "thank you", acks=acked)
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 0, output
    assert "2 acknowledged item(s) deleted" in output
    # Overwritten and cut to nothing, then set aside for the sweep to free (freed now, the
    # inodes would date the bundle); tests/app/operations/test_journal.py finds no byte
    # of them on the disk, and no stamp of the bundle on an inode, once the sweep has run.
    for item_id, link in links.items():
        assert not envelopes.exists(item_id)
        assert link.read_bytes() == b""
        assert link.stat().st_nlink == 2
    assert {i: envelopes.path(i).read_bytes() for i in kept} == before
    # The unpacked reply bundle went the same way.
    assert list(store.glob(f"{REPLY_WORK_PREFIX}*")) == []
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        sweep(engine, envelopes, force=True)
    finally:
        engine.dispose()
    assert [link.stat().st_nlink for link in links.values()] == [1, 1]
