"""A flood of tiny reports cannot use up the store's filesystem's inodes.

ext4 has a fixed count of inodes, one a file. The floors watched bytes alone: tiny first
reports (many circuits, an account a minute each) took an inode each with the bytes far
above every floor, until none was left. Then the database beside the store (SQLite's
default) could not make its WAL when it was next opened, and no source could sign in.

The instance lives on a small ext4 image of its own (as tests/app/operations/test_journal.py
mounts one), with few inodes, so that a flood fills them in seconds. The flood goes through
the store's own staging (`EnvelopeStore.stage_bytes`, the call a report's every file goes
through, floor check included): hundreds of reports through the routes would take a minute.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from app import create_app
from app.cli import main
from app.config import config_for
from app.db import make_engine
from app.operations.doctor.disk import sweep_check
from app.operations.doctor.verdict import Status
from app.operations.sweep import sweep, unswept
from app.services.context import services
from app.store import EnvelopeStore, SealingKey
from crypto import Metadata
from tests.app.live import demo_instance
from tests.app.operations.test_arrival import _kendall
from tests.app.operations.test_journal import MKFS, MOUNT, UMOUNT, _run
from tests.app.seizure import birth_time_ns
from tests.app.support import Visitor, assert_form_given_back, staging_files

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root")

# Inodes on the image: the instance takes some hundred, the flood the rest.
_INODES = 384
# With the files the first sweep makes and keeps to write the journal anew (1024 on this
# image: `app.fsjournal.wrap`), for the tests that sweep.
_SWEPT_INODES = 2048


@contextlib.contextmanager
def _image(tmp_path: Path, inodes: int) -> Iterator[Path]:
    """A 64 MiB ext4 filesystem with `inodes` inodes, mounted `noatime`: its mount point."""
    image, mount = tmp_path / "inodes.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as out:
        out.truncate(64 * 1024 * 1024)
    _run(MKFS, "-q", "-F", "-N", str(inodes), str(image))
    mounted = _run(MOUNT, "-o", "loop,noatime", str(image), str(mount), check=False)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a filesystem image needs root and a loop device: {mounted.stderr}")
    try:
        yield mount
    finally:
        if _run(UMOUNT, str(mount), check=False).returncode:
            _run(UMOUNT, "-l", str(mount))


@pytest.fixture
def few_inodes(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB ext4 filesystem with `_INODES` inodes, mounted `noatime`: its mount point."""
    with _image(tmp_path, _INODES) as mount:
        yield mount


@pytest.fixture
def swept_inodes(tmp_path: Path) -> Iterator[Path]:
    """As `few_inodes`, with room for the files the first sweep keeps (`_SWEPT_INODES`)."""
    with _image(tmp_path, _SWEPT_INODES) as mount:
        yield mount


def _flood(store: EnvelopeStore, recipients: list[SealingKey]) -> int:
    """Stage and publish one-byte reports until the store refuses one; return how many."""
    arrived = 0
    while True:
        try:
            staged = store.stage_bytes(b"x", recipients, Metadata("report"))
        except OSError:
            return arrived
        store.publish(staged.id, staged.path)
        arrived += 1


def test_a_flood_of_tiny_reports_leaves_the_database_inodes_to_open_with(
    few_inodes: Path,
) -> None:
    """The flood is refused while the last hundredth of the inodes is free, with nearly all
    the bytes free too: the server stopped and started again while it went on (its database
    closed, the WAL's two files freed, and taken by the flood), a source still signs in."""
    instance = demo_instance(few_inodes / "instance")
    app = create_app(config_for(instance))
    visitor = Visitor(app.test_client())
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "a first report"))
    with app.app_context():  # read before the flood: the keyring's subkeys read the database
        store, recipients = services().store, services().recipients()
    arrived = _flood(store, recipients)
    app.extensions["raazdar.db"].engine.dispose()  # the server stops
    arrived += _flood(store, recipients)
    found = os.statvfs(few_inodes)
    assert found.f_bavail > found.f_blocks // 2, "the flood was stopped by bytes, not inodes"
    assert arrived > _INODES // 2, f"only {arrived} reports arrived before the floor"
    try:  # the server starts again
        restarted = create_app(config_for(instance))
        signed_in = Visitor(restarted.test_client()).logs_in(codename)
    except OperationalError as exc:
        raise AssertionError(f"the database could not open after the flood: {exc.orig}") from exc
    assert signed_in, "a returning source could not sign in after the flood"
    assert found.f_favail > found.f_files // 100, (
        f"the flood of {arrived} reports left {found.f_favail} of {found.f_files} inodes free"
    )
    # The routes meet the floor as the flood did: a first report is refused, its form given back.
    newcomer = Visitor(restarted.test_client())
    refused = newcomer.send(newcomer.start(), "one report more")
    assert refused.status_code == 503, f"a report was taken in past the floor: {refused.status}"
    assert_form_given_back(refused, "one report more")
    assert staging_files(instance) == []


def _swept_once(instance: Path, store: EnvelopeStore) -> None:
    """Run the sweep on a new instance, as `raazdar serve` does at its start: its marker
    and the files it keeps for writing the journal anew (`app.fsjournal.wrap`) are made."""
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        sweep(engine, store, force=True)
    finally:
        engine.dispose()


def test_a_sweep_that_finds_no_room_for_its_copies_keeps_the_floor_and_says_so(
    swept_inodes: Path,
) -> None:
    """The sweep wrote a copy of every held envelope before it swapped any: after a flood more
    held than the floor has room for, it met a full disk midway and left its copies there,
    every inode the floor kept for the database taken until the next sweep (which did the
    same). It now copies only what fits above the floor: with no room at all it takes none,
    loses none, and says how many wait, as the doctor does after it."""
    instance = demo_instance(swept_inodes / "instance")
    app = create_app(config_for(instance))
    with app.app_context():
        store, recipients = services().store, services().recipients()
    _swept_once(instance, store)
    arrived = _flood(store, recipients)
    app.extensions["raazdar.db"].engine.dispose()
    result = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--force"])
    assert result.exit_code == 0, result.output
    found = os.statvfs(swept_inodes)
    assert found.f_favail > found.f_files // 100, (
        f"a sweep of {arrived} held envelopes left {found.f_favail} of {found.f_files} inodes"
    )
    assert sum(1 for _ in store.envelope_ids()) == arrived, "an envelope was lost by the sweep"
    left = len(store.held())
    assert left > 0, "the sweep copied below the floor"
    assert unswept(store) == left, result.output
    assert f"warning: no room for {left} held envelope(s)" in result.output, result.output
    check = sweep_check(config_for(instance), store, time.time())
    assert check.status is Status.WARN, check
    assert f"no room for {left} of the held" in check.message, check.message


def _flood_to_a_tenth(store: EnvelopeStore, recipients: list[SealingKey]) -> list[str]:
    """Stage and publish one-byte reports while a tenth of the inodes stays free after each
    (where a flood of API uploads stops); return their ids in the order they arrived."""
    arrived: list[str] = []
    while store.space_for_uploads(0, 1):
        staged = store.stage_bytes(b"x", recipients, Metadata("report"))
        store.publish(staged.id, staged.path)
        arrived.append(staged.id)
    return arrived


def _agreement(values: list[int]) -> tuple[int, float]:
    """Kendall's S between arrival (the list's order) and `values`, and its spread (one
    standard deviation) over random orders: n(n-1)(2n+5)/18 is S's variance."""
    n = len(values)
    return _kendall(values, list(range(n))), math.sqrt(n * (n - 1) * (2 * n + 5) / 18)


def test_a_sweep_with_room_for_fewer_than_are_held_leaves_no_arrival_order(
    swept_inodes: Path,
) -> None:
    """A flood held more envelopes than the disk had room to copy: the sweep, which copied
    every one before it swapped any, met a full disk each time, and every held envelope kept
    the inode (and creation time) it was given in arrival order until staff exported. Now the
    sweep goes in random batches that fit, and after it neither orders the envelopes."""
    instance = demo_instance(swept_inodes / "instance")
    app = create_app(config_for(instance))
    with app.app_context():
        store, recipients = services().store, services().recipients()
    _swept_once(instance, store)
    arrived = _flood_to_a_tenth(store, recipients)
    found = os.statvfs(swept_inodes)
    room = found.f_favail - found.f_files // 100
    assert len(arrived) > 2 * room, f"{len(arrived)} held, room for {room}: no flood"
    app.extensions["raazdar.db"].engine.dispose()
    engine = make_engine(config_for(instance).DATABASE_URL)
    failed: OSError | None = None
    try:
        sweep(engine, store, force=True)
    except OSError as exc:
        failed = exc
    finally:
        engine.dispose()
    paths = [store.path(i) for i in arrived]
    measures = {"inode": [p.lstat().st_ino for p in paths]}
    births = [birth_time_ns(p) for p in paths]
    if all(b is not None for b in births):
        measures["creation time"] = [b or 0 for b in births]
    ordering = {}
    for name, values in measures.items():
        agreement, spread = _agreement(values)
        # Six spreads: a random order goes that far about twice in a billion.
        if abs(agreement) > 6 * spread:
            ordering[name] = f"S={agreement} of {math.comb(len(values), 2)} pairs"
    assert not ordering, (
        f"after a sweep of {len(arrived)} held with room for {room} (failed: {failed}), "
        f"the envelopes' {ordering} follow arrival"
    )
    assert failed is None, f"the sweep failed: {failed}"
    assert store.held() == [], "envelopes are still held after the sweep"
    found = os.statvfs(swept_inodes)
    assert found.f_favail > found.f_files // 100, "the sweep took the database's inodes"


def test_a_held_envelope_too_large_for_the_room_waits_and_the_rest_are_swept(
    few_inodes: Path,
) -> None:
    """Bytes count as inodes do: an envelope whose copy would take the disk's last hundredth
    is left held and counted, and the small ones shuffled with it are swept all the same."""
    store = EnvelopeStore(few_inodes / "store", few_inodes / "staging")
    for directory in (store.root, store.staging, store.holding):
        directory.mkdir()
    small = [secrets.token_hex(16) for _ in range(20)]
    for envelope_id in small:
        (store.holding / f"{envelope_id}.rze").write_bytes(os.urandom(4096))
    found = os.statvfs(few_inodes)
    # More than half the free bytes: its copy cannot fit beside it.
    large = secrets.token_hex(16)
    with (store.holding / f"{large}.rze").open("wb") as out:
        out.write(b"\x01" * (found.f_bavail * found.f_frsize * 3 // 5))
    swept = store.sweep(renew=lambda _id, _info: False)
    assert (swept.moved, swept.unswept) == (len(small), 1), swept
    assert store.held() == [large]
    found = os.statvfs(few_inodes)
    assert found.f_bavail > found.f_blocks // 100, "the sweep took the last hundredth's bytes"
