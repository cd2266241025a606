"""Room for API uploads while a flood of unfinished ones holds the disk at its last tenth."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Date, select

from app.instance import InstancePaths
from app.models import Upload
from app.services import resumable
from crypto import Metadata
from tests.app.api.test_api import assert_error
from tests.app.api.test_api_uploads import counts
from tests.app.api_support import ApiClient
from tests.app.support import db_session

_BLOCK, _TOTAL = 4096, 2560  # a filesystem of 10 MiB; its last tenth is 1 MiB
# More uploads than 2 MiB above the tenth holds of any envelope here.
_MOST_HELD = 40


@dataclass
class _Held:
    """An unfinished upload a flooder keeps, short of its last bytes."""

    flooder: ApiClient
    upload: str
    envelope: bytes
    offset: int


def _filling(
    monkeypatch: pytest.MonkeyPatch, instance: Path, free_at_first: int
) -> Callable[[], int]:
    """Make the store's filesystem `_TOTAL` blocks with `free_at_first` free before the test's
    own writes, which take from it as they land; return what is free now (bytes)."""
    store = InstancePaths(instance).store

    def used() -> int:
        return sum(p.stat().st_size for p in store.rglob("*") if p.is_file())

    before = used()
    real = os.statvfs

    def free_now() -> int:
        return free_at_first - -(-(used() - before) // _BLOCK)

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        free = free_now()
        fields[0], fields[1], fields[2], fields[3], fields[4] = _BLOCK, _BLOCK, _TOTAL, free, free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    return lambda: free_now() * _BLOCK


def _hold(flooders: list[ApiClient], envelope: bytes) -> list[_Held]:
    """Start uploads of `envelope`, each account in turn, and send all of each but its last
    64 KiB, until a start is refused."""
    held: list[_Held] = []
    # Bounded: a server that made room from uploads begun today would never refuse one.
    while len(held) < _MOST_HELD:
        for flooder in flooders:
            started = flooder.start_upload(envelope)
            if started.status_code != 201:
                return held
            upload, offset = started.get_json()["upload"], 0
            for size in (256 * 1024, 64 * 1024):
                while offset + size < len(envelope):
                    chunk = envelope[offset : offset + size]
                    if flooder.patch(upload, offset, chunk).status_code != 200:
                        break
                    offset += size
            held.append(_Held(flooder, upload, envelope, offset))
    raise AssertionError(f"the flood held {len(held)} uploads and was never refused one")


def _days_pass(app: Flask, days: int, uploads: list[str]) -> None:
    """Move every day these uploads' rows keep `days` back, as if they had begun then and
    had a chunk each day since: the day of the last chunk stays today."""
    columns = [c.name for c in Upload.__table__.columns if isinstance(c.type, Date)]
    with db_session(app) as session:
        for upload_id in uploads:
            row = session.get(Upload, upload_id)
            assert row is not None
            for name in columns:
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, value - dt.timedelta(days=days))
            row.active_day = dt.datetime.now(dt.UTC).date()
        session.commit()


def _flooders(app: Flask, device: ApiClient, many: int) -> list[ApiClient]:
    """`many` accounts of one attacker (accounts are free: one a circuit)."""
    flooders = [ApiClient(app.test_client(), device.pinned) for _ in range(many)]
    for flooder in flooders:
        assert flooder.register().status_code == 201
    return flooders


def test_a_flood_held_by_a_chunk_a_day_leaves_another_source_room_to_upload_a_file(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several free accounts held unfinished uploads down to the last tenth, each kept alive
    by a chunk a day: every other source's API upload was refused for as long as the flood
    lasted. Uploads begun before yesterday now make room, while the disk is short, for a
    source's upload: a source sends a file of a megabyte the flood would have kept out."""
    free = _filling(monkeypatch, instance, 768)  # 3 MiB free: 2 MiB above the tenth
    small = device.seal(secrets.token_bytes(200_000), Metadata("file", "application/octet-stream"))
    flooders = _flooders(app, device, 3)
    held = _hold(flooders, envelope) + _hold(flooders, small)
    assert len({id(h.flooder) for h in held}) > 1, "the flood held uploads of one account only"
    assert free() <= _TOTAL * _BLOCK // 10 + 256 * 1024, f"the flood left {free()} bytes free"
    _days_pass(app, 2, [h.upload for h in held])
    started = device.start_upload(envelope)
    assert started.status_code == 201, (
        f"the flood locked another source out: {started.status_code} {started.get_json()}"
    )
    device.challenge = started.headers.get("Raazdar-Next-Challenge")
    upload, offset = started.get_json()["upload"], 0
    while offset < len(envelope):
        sent = device.patch(upload, offset, envelope[offset : offset + 256 * 1024])
        assert sent.status_code == 200, sent.get_json()
        offset = sent.get_json()["offset"]
    assert sent.get_json()["complete"] is True
    assert free() > _TOTAL * _BLOCK // 10, f"{free()} bytes free: the upload took the tenth kept"
    # What made room was the flood's, and only as much as was needed.
    assert 0 < counts(app)[1] < len(held)


def test_room_for_an_upload_comes_from_uploads_held_over_never_from_one_under_way(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An attacker with many accounts holds a little in each: room made by the accounts
    holding the most alone would take the upload of an honest source under way (begun
    yesterday, its account holding more than any of the attacker's) first. Room comes from
    uploads begun before yesterday, whoever holds them; one under way is never taken, and
    a flood's fresh uploads are refused once nothing older is left."""
    free = _filling(monkeypatch, instance, 768)
    honest = envelope
    first = device.start_upload(honest)
    assert first.status_code == 201
    device.challenge = first.headers.get("Raazdar-Next-Challenge")
    ours, half = first.get_json()["upload"], 768 * 1024
    for offset in range(0, half, 256 * 1024):
        assert device.patch(ours, offset, honest[offset : offset + 256 * 1024]).status_code == 200
    small = device.seal(secrets.token_bytes(250_000), Metadata("file", "application/octet-stream"))
    held = _hold(_flooders(app, device, 4), small)
    by_account: dict[int, int] = {}
    for h in held:
        by_account[id(h.flooder)] = by_account.get(id(h.flooder), 0) + h.offset
    assert len(by_account) >= 3, "the flood held uploads of too few accounts"
    assert max(by_account.values()) < half, "an account of the flood held more than ours"
    _days_pass(app, 1, [ours])
    _days_pass(app, 3, [h.upload for h in held])
    fresh = _flooders(app, device, 1)[0]
    answers: list[int] = []
    while len(answers) < 20 and (started := fresh.start_upload(small)).status_code == 201:
        upload = started.get_json()["upload"]
        answers.append(fresh.patch(upload, 0, small[: len(small) - 1]).status_code)
    assert answers, "the fresh start found no room made by the uploads held over"
    assert_error(started, 503, "storage-full")
    assert len(answers) < 20, "the fresh flood was never refused"
    now = device.offset(ours)
    assert now.status_code == 200, "the honest source's upload under way was taken for room"
    assert int(now.headers["Upload-Offset"]) == half
    assert free() > _TOTAL * _BLOCK // 10
    with db_session(app) as session:
        left = session.scalars(select(Upload.id)).all()
    assert ours in left
    assert not {h.upload for h in held} <= set(left), "no upload held over made room"


def test_a_chunk_short_of_room_takes_it_from_uploads_held_over(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A start found room for its whole size, then others took it before its chunks came:
    the chunk of an upload under way makes room from the held-over ones as a start does."""
    free = _filling(monkeypatch, instance, 768)
    started = device.start_upload(envelope)
    assert started.status_code == 201
    device.challenge = started.headers.get("Raazdar-Next-Challenge")
    ours = started.get_json()["upload"]
    held = _hold(_flooders(app, device, 2), envelope)
    assert held, "the flood held nothing"
    _days_pass(app, 2, [h.upload for h in held])
    offset = 0
    while offset < len(envelope):
        sent = device.patch(ours, offset, envelope[offset : offset + 256 * 1024])
        assert sent.status_code == 200, f"a chunk under way found no room: {sent.get_json()}"
        offset = sent.get_json()["offset"]
    assert free() > _TOTAL * _BLOCK // 10


def test_chunks_sent_at_once_each_find_room_in_uploads_held_over(
    device: ApiClient,
    envelope: bytes,
    app: Flask,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks sent at once each found room (`make_room`) before any had allocated its own;
    then the others' allocations left all but one short, and those were refused with no
    room made, while uploads held over from days ago still held the disk. Each chunk
    refused at its allocation now makes room as one refused before it does."""
    many = 4
    free = _filling(monkeypatch, instance, 768)
    sources = [device, *(ApiClient(app.test_client(), device.pinned) for _ in range(many - 1))]
    ours: list[str] = []
    for source in sources[1:]:
        assert source.register().status_code == 201
    for source in sources:
        started = source.start_upload(envelope)
        assert started.status_code == 201
        source.challenge = started.headers.get("Raazdar-Next-Challenge")
        ours.append(started.get_json()["upload"])
    small = device.seal(secrets.token_bytes(200_000), Metadata("file", "application/octet-stream"))
    held = _hold(_flooders(app, device, 2), small)
    assert held, "the flood held nothing"
    _days_pass(app, 2, [h.upload for h in held])
    # The chunks kept in step, as when their bodies come at once: every allocation is made
    # once all have checked their room, and checked once all are made; and a refused one's
    # room is made again once all were refused. Held together only at their first check,
    # the retries came together or not by the machine's load: under load they did, each
    # found the room the others had let go, made none, and all four were refused again.
    together = threading.Barrier(many)
    allocate, make_room = os.posix_fallocate, resumable.make_room

    def in_step() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=5)

    def allocate_together(fd: int, offset: int, length: int) -> None:
        in_step()
        allocate(fd, offset, length)
        in_step()

    def room_together(*args: Any, **kwargs: Any) -> bool:
        if threading.current_thread() is not threading.main_thread() and not kwargs.get("files"):
            in_step()  # the room a refused allocation makes, not the check before the body
        return make_room(*args, **kwargs)

    monkeypatch.setattr(os, "posix_fallocate", allocate_together)
    monkeypatch.setattr(resumable, "make_room", room_together)
    chunk = 256 * 1024
    with concurrent.futures.ThreadPoolExecutor(many) as pool:
        sent = list(pool.map(lambda n: sources[n].patch(ours[n], 0, envelope[:chunk]), range(many)))
    refused = [s.get_json() for s in sent if s.status_code != 200]
    assert not refused, (
        f"{len(refused)} of {many} chunks sent at once were refused while uploads held over"
        f" held the disk: {refused[0]}"
    )
    assert free() > _TOTAL * _BLOCK // 10, f"{free()} bytes free: the chunks took the tenth kept"


def _inodes_filling(
    monkeypatch: pytest.MonkeyPatch, instance: Path, total: int, free_at_first: int
) -> Callable[[], int]:
    """Make the store's filesystem `total` inodes with `free_at_first` free before the test's
    own files and folders, which take one each as they are made; return how many are free."""
    store = InstancePaths(instance).store

    def made() -> int:
        return sum(1 for _ in store.rglob("*"))

    before = made()
    real = os.statvfs

    def free_now() -> int:
        return free_at_first - (made() - before)

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        fields[5], fields[6], fields[7] = total, free_now(), free_now()
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    return free_now


def test_a_flood_of_starts_held_over_leaves_another_source_inodes_to_upload_with(
    device: ApiClient, app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each unfinished upload holds an inode, and starts stopped once a twentieth were left:
    a flood of starts from free accounts held them there, a start a day or two apart, and
    every other source's upload was refused for as long, room made of bytes alone. Now the
    uploads' share of inodes is the tenth their bytes stop at, and uploads held over make
    room in inodes too, freed at once."""
    total = 1000
    free = _inodes_filling(monkeypatch, instance, total, total // 10 + 30)
    small = device.seal(secrets.token_bytes(2_000), Metadata("file", "application/octet-stream"))
    flood: list[str] = []
    for flooder in _flooders(app, device, 3):
        while len(flood) < 90 and (started := flooder.start_upload(small)).status_code == 201:
            flood.append(started.get_json()["upload"])
    assert_error(started, 503, "storage-full")
    _days_pass(app, 2, flood)
    started = device.start_upload(small)
    assert started.status_code == 201, (
        f"a flood of starts left {free()} of {total} inodes free and locked another source out:"
        f" {started.status_code} {started.get_json()}"
    )
    assert free() > total // 10, f"{free()} inodes free: the start took the tenth kept"
    taken = len(flood) + 1 - counts(app)[1]
    assert 0 < taken < len(flood), f"{taken} of the {len(flood)} uploads held over made room"
