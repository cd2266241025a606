"""Staging's folder blocks name no envelope: no removed entry there says which came last.

Each envelope of a submission is written in staging under its id, then renamed into
holding under the same id, and after the sweep into the store. Had ext4 left a
removed entry's name in its folder's block, staging's live block would keep the ids
of the latest submissions' envelopes, so a seizer reading it would learn which
stored envelopes came last (the report just before a raid). Since Linux 5.14 ext4
writes over a removed entry (deploy/README.md asks for it; `raazdar doctor` warns of
an older kernel); these tests hold that staging, grown past one block or not, and the
store's folder after a retirement keep no such name. The holding folder's live
entries are another matter, seen to by the sweep (test_freed_blocks.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app import create_app
from app.config import config_for
from app.db import make_engine
from app.instance import InstancePaths
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from crypto import Metadata, PrivateKey
from tests.app.live import demo_instance
from tests.app.operations.test_freed_blocks import (
    WRITEBACK_TRIES,
    _named_in_place,
    _submit,
    held_in_place,
)
from tests.app.operations.test_journal import ext4

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root"),
]

__all__ = ["ext4"]

SUBMISSIONS = 4
# Envelopes staged at once by the store-level test: staging then takes several blocks (the
# image's are 1 KiB, an entry 44 bytes) and an index, whose splits move entries between blocks.
AT_ONCE = 60


def test_a_seizer_reading_the_staging_folder_finds_no_envelope_id_of_the_last_submissions(
    ext4: tuple[Path, Path],
) -> None:
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    engine = make_engine(config_for(instance).DATABASE_URL)
    store = EnvelopeStore(paths.store, paths.staging)
    try:
        app = create_app(config_for(instance))
        arrivals = _submit(app, SUBMISSIONS, engine)
        app.extensions["raazdar.db"].engine.dispose()
        assert store.settle()
        # The block must be where debugfs reads it: it is, on a server, long before a raid.
        # Until the sync, the reading finds the block as mkfs left it, which proves nothing:
        # the holding folder's blocks, written by the same requests, stand for "synced".
        held_in_place(image, mount, store, arrivals)
        before = _named_in_place(image, mount, store.staging, arrivals)
        assert sweep(engine, store, force=True).moved == 2 * SUBMISSIONS
    finally:
        engine.dispose()
    os.sync()
    after = _named_in_place(image, mount, store.staging, arrivals)
    assert (before, after) == (0, 0), (
        f"staging's block names {before} envelope id(s) of the last submissions before the "
        f"sweep and {after} after it, of {2 * SUBMISSIONS} now in the store"
    )


def _blocks_naming(image: Path, mount: Path, folder: Path, names: list[str]) -> list[str]:
    """Those of `names` the blocks of `folder` hold, as they lie on the disk."""
    return [n for n in names if _named_in_place(image, mount, folder, [{n}])]


def test_envelopes_staged_many_at_once_a_reply_and_a_retired_one_leave_no_id_in_the_folders(
    ext4: tuple[Path, Path],
) -> None:
    """Staging grown past one block, a reply staged as staff send it, and an envelope retired.

    `retire_file` renames a stored `<id>.rze` aside in the store's own folder: its
    removed entry must not name it either. An envelope still staged, and those stored,
    are named by live entries: once the blocks name them, the blocks are in their place.
    """
    image, mount = ext4
    root = mount / "store"
    store = EnvelopeStore(root, root / ".staging")
    store.staging.mkdir(parents=True)
    key = PrivateKey.generate().public_key
    still = store.stage_bytes(b"a report still being sent", [key], Metadata("report"))
    staged = [
        store.stage_bytes(b"report", [key], Metadata("report"), flush=False) for _ in range(AT_ONCE)
    ]
    reply_id, reply_path = store.stage_ciphertext(b"a reply sealed elsewhere")
    store.publish_staged(staged)
    store.publish(reply_id, reply_path)
    assert store.settle()
    ids = [s.id for s in staged] + [reply_id]
    assert store.sweep(renew=lambda _id, _info: False).moved == len(ids)
    store.retire_file(store.path(ids[0]))
    assert store.sweep(renew=lambda _id, _info: False).moved == 0
    for _try in range(WRITEBACK_TRIES):
        os.sync()
        if (
            _blocks_naming(image, mount, store.staging, [still.path.name])
            and len(_blocks_naming(image, mount, root, ids[1:])) == len(ids) - 1
        ):
            break
        time.sleep(0.2)
    assert _blocks_naming(image, mount, store.staging, [still.path.name])
    assert len(_blocks_naming(image, mount, root, ids[1:])) == len(ids) - 1

    assert _blocks_naming(image, mount, store.staging, ids) == []
    assert _blocks_naming(image, mount, root, ids[:1]) == []
