"""After the sweep, the disk's free blocks name no item: nothing in them orders a day's arrivals.

SQLite writes each commit's changed pages to the WAL, whole, and the WAL is cut to
nothing after each write (`app.db.checkpoint`); the sweep's VACUUM shrinks the
database file when rows were deleted, which cuts its last pages off. Cutting a file frees its blocks
without writing them: each freed block kept a page as one commit left it. The
page of the items' table, written again at each arrival, is there once per
arrival, naming the items that had come so far: read in order of inclusion, the
copies give the order of the day's reports, one after another, and each deleted
row as it was. The database's last pages hold the rows written last, their cells
laid in the page in the order they came. A seizer reads them with nothing but the disk's bytes and
debugfs's `testb` (is this block free?).

The instance lives on an ext4 image of its own, mounted as deploy/README.md asks
(`noatime`), as in tests/app/operations/test_journal.py.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, make_url, select
from sqlalchemy.orm import Session

from app import create_app
from app import db as app_db
from app.config import config_for
from app.db import make_engine
from app.instance import InstancePaths
from app.models import Item, Source
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.live import demo_instance
from tests.app.operations.test_journal import _debugfs, ext4
from tests.app.support import Visitor

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root"),
]

__all__ = ["ext4"]  # the fixture, shared with the journal's seizure

SUBMISSIONS = 6
# Sources that came before the sweep and are gone after it, and as many after.
EARLIER = 16
# How many times a test syncs the disk, at the most, for a folder's blocks to be in place.
WRITEBACK_TRIES = 20


def _free(image: Path, blocks: list[int]) -> set[int]:
    """Those of `blocks` the filesystem holds free (debugfs `testb`)."""
    out = _debugfs(image, *(f"testb {b}" for b in blocks))
    return {int(n) for n in re.findall(r"^Block (\d+) not in use", out, flags=re.M)}


def _submit(app: Flask, count: int, engine: Engine) -> list[set[str]]:
    """`count` sources each send a report and a file; each submission's item ids, in order."""
    arrivals: list[set[str]] = []
    with Session(engine) as session:
        before = set(session.scalars(select(Item.id)))
    for n in range(count):
        visitor = Visitor(app.test_client())
        page = visitor.start()
        response = visitor.send(page, f"report {n}", [("files", "f.txt", b"x", "text/plain")])
        visitor.filed(response)
        with Session(engine) as session:
            items = set(session.scalars(select(Item.id)))
        arrivals.append(items - before - set().union(*arrivals))
    return arrivals


def _named_in_place(image: Path, mount: Path, folder: Path, arrivals: list[set[str]]) -> int:
    """How many of the arrivals' items the blocks of `folder` name, as they lie on the disk."""
    out = _debugfs(image, f"blocks /{folder.relative_to(mount)}")
    lines = [line for line in out.splitlines() if not line.startswith("debugfs")]
    size = re.search(r"Block size:\s+(\d+)", _debugfs(image, "stats"))
    assert size is not None
    block = int(size.group(1))
    with image.open("rb") as disk:
        held = b""
        for number in map(int, " ".join(lines).split()):
            disk.seek(number * block)
            held += disk.read(block)
    return sum(item.encode() in held for ids in arrivals for item in ids)


def held_in_place(image: Path, mount: Path, store: EnvelopeStore, arrivals: list[set[str]]) -> None:
    """Sync until the holding folder's blocks name every envelope of `arrivals` in their place,
    as debugfs reads them: the day's writeback, long before a raid on a server (a sync can
    miss a block changed again as it commits: the next takes it)."""
    held = sum(len(ids) for ids in arrivals)
    for _try in range(WRITEBACK_TRIES):
        os.sync()
        if _named_in_place(image, mount, store.holding, arrivals) == held:
            break
        time.sleep(0.2)
    assert _named_in_place(image, mount, store.holding, arrivals) == held


def _free_blocks_naming(image: Path, arrivals: list[set[str]]) -> dict[int, list[int]]:
    """Each free block of the disk naming items: the submissions it names, in place order."""
    size = re.search(r"Block size:\s+(\d+)", _debugfs(image, "stats"))
    assert size is not None
    block = int(size.group(1))
    disk = image.read_bytes()
    named: dict[int, list[tuple[int, int]]] = {}
    for number, ids in enumerate(arrivals):
        for item in ids:
            start = 0
            while (found := disk.find(item.encode(), start)) >= 0:
                named.setdefault(found // block, []).append((found % block, number))
                start = found + 1
    free = _free(image, sorted(named))
    return {b: [number for _, number in sorted(named[b])] for b in sorted(free)}


def test_a_disk_copied_after_the_sweep_keeps_no_page_that_orders_the_arrivals(
    ext4: tuple[Path, Path],
) -> None:
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    engine = make_engine(config_for(instance).DATABASE_URL)
    store = EnvelopeStore(paths.store, paths.staging)
    try:
        sweep(engine, store, force=True)
        app = create_app(config_for(instance))
        arrivals = _submit(app, SUBMISSIONS, engine)
        app.extensions["raazdar.db"].engine.dispose()
        assert sweep(engine, store, force=True).moved == 2 * SUBMISSIONS
    finally:
        engine.dispose()
    os.sync()

    free = _free_blocks_naming(image, arrivals)
    kept = sorted({tuple(sorted(set(n))) for n in free.values()}, key=lambda s: (len(s), s))
    assert not free, f"{len(free)} free block(s) name the day's submissions, so: {kept}"


def test_a_database_shrunk_by_the_sweep_leaves_no_page_that_orders_the_arrivals(
    ext4: tuple[Path, Path],
) -> None:
    """Rows deleted before the sweep (a purge, an acknowledgement) make VACUUM shrink the file.

    The pages it cut off were the last the database had taken: the day's newest
    rows, each page's cells laid from its end in the order they came.
    """
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    engine = make_engine(config_for(instance).DATABASE_URL)
    store = EnvelopeStore(paths.store, paths.staging)
    try:
        app = create_app(config_for(instance))
        _submit(app, EARLIER, engine)
        with Session(engine) as session:
            earlier = list(session.scalars(select(Source.id)))
        sweep(engine, store, force=True)
        arrivals = _submit(app, EARLIER, engine)
        # The earlier sources go, their items with them (as the retention purge takes them).
        with Session(engine) as session:
            session.execute(delete(Source).where(Source.id.in_(earlier)))
            session.commit()
        app.extensions["raazdar.db"].engine.dispose()
        sweep(engine, store, force=True)
    finally:
        engine.dispose()
    os.sync()

    free = _free_blocks_naming(image, arrivals)
    assert not free, f"{len(free)} free block(s) name the day's submissions, in place order: {free}"


@pytest.mark.parametrize("count", [4, 16])
def test_the_holding_folder_a_sweep_lets_go_of_leaves_no_name_in_the_free_blocks(
    ext4: tuple[Path, Path], count: int
) -> None:
    """The sweep puts a new holding folder in place (`EnvelopeStore.sweep`); the old one is freed.

    A deleted entry keeps its name in the folder's blocks (ext4 only joins its room
    to the entry before it), so the freed blocks named each envelope held that
    day, laid in the order they came (a folder of one block; once it grows an index,
    16 submissions here, in runs in the order they came). ext4 writes a folder's block
    in its place only after committing it to the journal, and forgets a freed block
    without writing it: on a server, where the folder lives a day, its blocks are
    written in place long before the sweep, which the first `sync` here stands for.
    In a test of seconds they reached their place only when something synced the
    disk in between (another test's `os.sync`, a loaded machine's writeback): the
    two tests above then failed, and passed alone. Nothing but the store's own sweep
    runs here, so nothing else takes the blocks back and overwrites them by chance.
    """
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    engine = make_engine(config_for(instance).DATABASE_URL)
    store = EnvelopeStore(paths.store, paths.staging)
    try:
        app = create_app(config_for(instance))
        arrivals = _submit(app, count, engine)
        app.extensions["raazdar.db"].engine.dispose()
        assert store.settle()
        held_in_place(image, mount, store, arrivals)
        assert store.sweep(renew=lambda _id, _info: False).moved == 2 * count
    finally:
        engine.dispose()
    os.sync()

    free = _free_blocks_naming(image, arrivals)
    assert not free, f"{len(free)} free block(s) name the day's submissions, in place order: {free}"


def test_a_wal_a_reader_kept_whole_leaves_no_frame_in_the_free_blocks_when_the_server_stops(
    ext4: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader held the WAL through the day's submissions: every emptying gave up (busy).

    When the server stopped, its last connection's close made SQLite copy the WAL
    and delete it unwritten: the freed blocks kept every frame, the items' page
    once per arrival.
    """
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    monkeypatch.setattr(app_db, "_CHECKPOINT_WAIT_MS", 50)
    monkeypatch.setattr(app_db._Retry, "FIRST", 600.0)  # the stop comes first
    database = make_url(config_for(instance).DATABASE_URL).database
    assert database is not None
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        app = create_app(config_for(instance))
        reader = sqlite3.connect(database, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM items").fetchone()
        arrivals = _submit(app, SUBMISSIONS, engine)
        reader.close()
        app.extensions["raazdar.db"].engine.dispose()
    finally:
        engine.dispose()
    assert not Path(f"{database}-wal").exists()  # deleted by the last close
    os.sync()

    free = _free_blocks_naming(image, arrivals)
    kept = sorted({tuple(sorted(set(n))) for n in free.values()}, key=lambda s: (len(s), s))
    assert not free, f"{len(free)} free block(s) name the day's submissions, so: {kept}"
