"""What the server keeps: random ids, days without times, ciphertext files without times."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Date, DateTime, Interval, Time, inspect, select

from app import files
from app import store as store_module
from app.instance import InstancePaths
from app.models import Item, Reply, Source, today
from app.store import EnvelopeStore
from crypto import Metadata, PrivateKey, generate_codename, open_bytes
from tests.app.support import (
    Visitor,
    all_rows,
    db_session,
    deletion,
    envelope_files,
    form,
    reply_to,
    retired_files,
    reviewer_keys,
    source_id,
    staging_files,
)

HEX_ID = re.compile(r"[0-9a-f]{32}")
AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
ADDRESS = "198.51.100.23"


@pytest.fixture
def busy(app: Flask, client: FlaskClient, instance: Path) -> str:
    """An instance that has seen some use: two reports with files, a reply, a login."""
    client.environ_base.update(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    visitor = Visitor(client)
    page = visitor.start()
    files = [("files", "a.jpg", b"\xff\xd8" * 5000, "image/jpeg")]
    visitor.filed(visitor.send(page, "first report", files))
    more = form(visitor.get("/account"), "/account")
    visitor.filed(visitor.send(more, "second report", files))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply_to(app, page.fields["codename"], "a reply", signer)
    visitor.log_out()
    assert visitor.log_in(page.fields["codename"]).status_code == 303
    return page.fields["codename"]


def test_envelopes_and_the_store_carry_no_times(busy: str, instance: Path) -> None:
    paths = InstancePaths(instance)
    # The directories first: listing them (as this test does next) sets their atime.
    times = {p.name: (p.stat().st_mtime, p.stat().st_atime) for p in [paths.store, paths.staging]}
    times.update({p.name: (p.stat().st_mtime, p.stat().st_atime) for p in envelope_files(instance)})
    assert len(times) == 2 + 5  # two reports, two files, a reply
    assert set(times.values()) == {(0, 0)}, times


def test_deleting_a_reply_leaves_the_store_without_a_time(
    busy: str, app: Flask, client: FlaskClient, instance: Path
) -> None:
    with db_session(app) as session:
        (reply,) = session.execute(select(Reply)).scalars()
    page = deletion(Visitor(client).get("/account"), reply.id)
    assert client.post(page.action, data=page.fields).status_code == 303
    assert InstancePaths(instance).store.stat().st_mtime == 0


def test_staging_is_empty_after_a_submission(busy: str, instance: Path) -> None:
    assert staging_files(instance) == []


def test_staging_is_empty_after_a_refused_submission(
    app: Flask, client: FlaskClient, instance: Path
) -> None:
    visitor = Visitor(client)
    page = visitor.start()
    del page.fields["csrf_token"]
    files = [("files", f"{i}.bin", bytes(300_000), "application/octet-stream") for i in range(3)]
    assert visitor.send(page, "no token", files).status_code == 400
    page = visitor.start()
    page.fields["codename"] = "not a codename"
    assert visitor.send(page, "bad codename", files).status_code == 200
    assert staging_files(instance) == []
    assert envelope_files(instance) == []


def test_ids_are_random_hex_and_name_the_files(busy: str, app: Flask, instance: Path) -> None:
    with db_session(app) as session:
        items = list(session.execute(select(Item)).scalars())
        replies = list(session.execute(select(Reply)).scalars())
        sources = list(session.execute(select(Source)).scalars())
    ids = [i.id for i in items] + [r.id for r in replies] + [s.id for s in sources]
    submissions = {i.submission_id for i in items}
    assert all(HEX_ID.fullmatch(i) for i in [*ids, *submissions])
    assert len(set(ids)) == len(ids)
    assert len(submissions) == 2
    stored = {p.stem for p in envelope_files(instance)}
    assert stored == {i.id for i in items} | {r.id for r in replies}
    # The designation reviewers see is two words, not the codename's.
    (source,) = sources
    assert len(source.designation.split()) == 2


def test_the_schema_has_no_column_for_a_time_of_day(app: Flask) -> None:
    engine = app.extensions["raazdar.db"].engine
    inspector = inspect(engine)
    found = {}
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            kind = column["type"]
            assert not isinstance(kind, DateTime | Time | Interval), (table, column["name"])
            assert "TIME" not in str(kind).upper(), (table, column["name"])
            if isinstance(kind, Date):
                found[f"{table}.{column['name']}"] = True
    assert set(found) == {
        "sources.created_day",
        "sources.active_day",
        "items.received_day",
        "replies.received_day",
        "staff_accounts.created_day",
        "staff_accounts.last_login_day",
        "audit_log.day",
        "uploads.active_day",
        # The day an unfinished upload began: while the disk is short, the oldest make room.
        "uploads.started_day",
        "used_challenges.expires_day",
        "sessions.expires_day",
        "items.exported_day",
        # The latest day an export was dated, which sealing never goes back before.
        "export_head.day",
    }


def test_rows_hold_days_but_no_times_addresses_or_browsers(busy: str, app: Flask) -> None:
    words = busy.split()
    # Any two neighbouring words or digit groups, and a digit codename written whole.
    pairs = [" ".join(words[i : i + 2]) for i in range(len(words) - 1)]
    leaks = [ADDRESS, AGENT, "Firefox", "".join(words), *pairs]
    days: set[dt.date] = set()
    for table, rows in all_rows(app).items():
        for row in rows:
            for column, value in row.items():
                assert not isinstance(value, dt.datetime | dt.time), (table, column)
                if isinstance(value, dt.date) and (table, column) == ("sessions", "expires_day"):
                    # A login's end: today, or tomorrow for one begun late in the UTC day.
                    assert value - today() in (dt.timedelta(0), dt.timedelta(days=1))
                elif isinstance(value, dt.date):
                    days.add(value)
                if isinstance(value, str):
                    assert not re.search(r"\d{1,2}:\d{2}", value), (table, column)
                    assert not [leak for leak in leaks if leak in value], (table, column)
    assert days == {today()}
    (source,) = all_rows(app)["sources"]
    assert source["id"] == source_id(app, busy)
    assert len(source["lookup_tag"]) == 32


def _staged(store: EnvelopeStore, count: int) -> list[tuple[str, Path]]:
    store.staging.mkdir(parents=True, exist_ok=True)
    staged = []
    for n in range(count):
        envelope_id = secrets.token_hex(16)
        path = store.staging / f"{envelope_id}.rze"
        path.write_bytes(bytes([n]) * 100)
        staged.append((envelope_id, path))
    return staged


def test_a_submissions_envelopes_are_published_with_one_directory_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    store.publish(*_staged(store, 1)[0])  # holding exists from here on
    flushed: list[Path | None] = []
    flush = files.fsync_together

    def counting(fds: Sequence[int], directory: Path | None = None) -> None:
        flushed.append(directory)
        flush(fds, directory)

    monkeypatch.setattr(files, "fsync_together", counting)
    staged = _staged(store, 3)

    published = store.publish_all(staged)

    assert flushed == [store.holding]
    assert [p.name for p in published] == [f"{i}.rze" for i, _ in staged]
    assert all(p.read_bytes() == bytes([n]) * 100 for n, p in enumerate(published))
    assert not any(path.exists() for _, path in staged)


def test_sealed_envelopes_are_forced_to_disk_with_their_renames_before_publishing_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    store.staging.mkdir()
    store.publish(*_staged(store, 1)[0])
    key = PrivateKey.generate().public_key
    envelopes = [
        store.stage_bytes(b"report", [key], Metadata("report", "text/plain"), flush=False),
        store.stage_bytes(b"file", [key], Metadata("file"), flush=False),
    ]
    synced: list[int] = []  # inode numbers, from whichever thread flushed them
    fsync = os.fsync

    def recording(fd: int) -> None:
        fsync(fd)
        synced.append(os.fstat(fd).st_ino)

    monkeypatch.setattr(os, "fsync", recording)

    published = store.publish_staged(envelopes)

    inodes = {p.stat().st_ino for p in published}
    assert sorted(synced) == sorted([*inodes, store.holding.stat().st_ino])
    assert all(e.unflushed() is None for e in envelopes)  # closed, and unlocked


def test_an_upload_goes_to_disk_as_it_is_sealed_and_is_still_flushed_when_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-back starts every `WRITEBACK_EVERY` bytes and at the part's end, on what is
    sealed so far; the flush before the rows commit is still made, and the file still opens."""
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    store.staging.mkdir()
    monkeypatch.setattr(files, "WRITEBACK_EVERY", 256 * 1024)
    started: list[int] = []  # the staged file's size on disk at each start
    ranges: list[tuple[int, int]] = []
    start = files.start_writeback

    def recording(fd: int, offset: int = 0, length: int = 0) -> None:
        started.append(os.fstat(fd).st_size)
        ranges.append((offset, length))
        start(fd, offset, length)

    monkeypatch.setattr(files, "start_writeback", recording)
    synced: list[int] = []
    fsync = os.fsync

    def flushing(fd: int) -> None:
        fsync(fd)
        synced.append(os.fstat(fd).st_ino)

    monkeypatch.setattr(os, "fsync", flushing)
    key = PrivateKey.generate()
    staged = store.stage([key.public_key], Metadata("file", filename="ledger.bin"))
    content = secrets.token_bytes(1024 * 1024 + 100)
    for offset in range(0, len(content), 64 * 1024):
        staged.write(content[offset : offset + 64 * 1024])
    assert len(started) == 4  # at 256, 512, 768 and 1,024 KiB of plaintext
    staged.seek(0)  # the part's end
    assert len(started) == 5
    # What was sealed so far was in the file each time (the writer keeps back at most a
    # chunk, and a chunk's worth it has not filled yet): the kernel has it to write.
    assert started == sorted(started)
    assert started[0] >= 256 * 1024 - 2 * 64 * 1024
    assert started[-1] >= len(content) - 2 * 64 * 1024
    # Each start asks for what was written since the last, never the whole file again.
    assert [offset for offset, _ in ranges] == [0, *(o + n for o, n in ranges[:-1])]
    assert [o + n for o, n in ranges] == started
    assert all(n > 0 for _, n in ranges)
    staged.finish(flush=False)

    (published,) = store.publish_staged([staged])

    assert published.stat().st_ino in synced
    plaintext, _ = open_bytes(published.read_bytes(), [key])
    assert plaintext == content


def test_starting_write_back_loses_nothing_and_refuses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f"
    data = secrets.token_bytes(300_000)
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        files.start_writeback(out.fileno())
    assert path.read_bytes() == data
    read_end, write_end = os.pipe()  # not a file: nothing to write back, and no error
    try:
        files.start_writeback(write_end)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_publishing_is_all_or_none_when_a_rename_fails(tmp_path: Path) -> None:
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    staged = _staged(store, 2)
    staged[1][1].unlink()  # the second file vanished (a full disk, a crash)

    with pytest.raises(FileNotFoundError):
        store.publish_all(staged)

    assert store.held() == []


def test_writing_over_a_folders_room_leaves_its_entries_as_they_were(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for n in range(30):
        (folder / f"{n:02d}.rze").write_bytes(bytes([n]))
    files.scrub_names(folder)
    assert sorted(p.name for p in folder.iterdir()) == [f"{n:02d}.rze" for n in range(30)]
    assert [(folder / f"{n:02d}.rze").read_bytes() for n in range(30)] == [
        bytes([n]) for n in range(30)
    ]


def test_the_names_a_killed_sweep_left_in_holding_go_and_a_new_folder_is_put_in_place(
    tmp_path: Path,
) -> None:
    """A sweep killed as it wrote over the holding folder's room left its entries there:
    kept, no later sweep could put a new folder in place (only an empty one is replaced)."""
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    store.publish_all(_staged(store, 2))
    (store.holding / f"{files.SCRUB_PREFIX}{'0' * 29}").touch()
    before = store.holding.stat().st_ino

    assert store.sweep(renew=lambda _id, _info: False).moved == 2

    assert list(store.holding.iterdir()) == []
    assert store.holding.stat().st_ino != before


def test_an_arrival_costs_the_same_however_many_files_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each arrival re-touched every file held since the last sweep on its own request:
    a day of N arrivals cost N^2/2 `utime` calls (3.7 us each here: 0.15 s a submission
    at 40,000 held), which a flood of junk submissions turns on every source after it.
    The request now sets its own files' times only; the older files' change times follow
    off the request, one pass for a burst of arrivals."""
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    for envelope_id, path in _staged(store, 250):
        store.publish(envelope_id, path)
    assert store.settle(timeout=10)
    staged = _staged(store, 2)
    touched: list[object] = []  # by the request's own thread
    utime = os.utime
    request = threading.get_ident()

    def counting(*args: Any, **kwargs: Any) -> None:
        if threading.get_ident() == request:
            touched.append(args[0])
        utime(*args, **kwargs)

    monkeypatch.setattr(os, "utime", counting)
    store.publish_all(staged)
    # Its own two files and the three directories, not the 250 held before.
    assert len(touched) <= 5, touched
    assert store.settle(timeout=10)


def test_held_files_all_say_the_latest_arrival_once_the_burst_is_done(tmp_path: Path) -> None:
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()
    passes = []
    retouch = store.retouch

    def counted() -> None:
        passes.append(1)
        retouch()

    store.retouch = counted  # type: ignore[method-assign]
    for envelope_id, path in _staged(store, 100):
        latest = store.publish(envelope_id, path)
    last = os.stat(latest).st_ctime_ns
    assert store.settle(timeout=10)
    stamps = [os.stat(p) for p in store.holding.iterdir()]
    assert len(stamps) == 100
    # Every held file's times: atime and mtime the epoch, ctime no earlier than the last arrival.
    assert {(s.st_atime, s.st_mtime) for s in stamps} == {(0, 0)}
    assert min(s.st_ctime_ns for s in stamps) >= last
    # A burst of a hundred arrivals shared a few passes, not a hundred.
    assert 1 <= len(passes) < 50, len(passes)


def test_the_retouching_thread_ends_when_idle_and_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread per store would pile up over a process's many apps (tests, the CLI): an
    idle one ends, and the next arrival starts another."""
    monkeypatch.setattr(store_module, "_IDLE_EXIT", 0.1)
    store = EnvelopeStore(tmp_path / "store", tmp_path / "staging")
    store.root.mkdir()

    store.publish(*_staged(store, 1)[0])
    thread = store._retoucher._thread
    assert thread is not None
    assert thread.is_alive()
    assert store.settle(timeout=10)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert store._retoucher._thread is None
    latest = store.publish(*_staged(store, 1)[0])
    assert store.settle(timeout=10)
    assert os.stat(latest).st_mtime == 0


def test_a_pass_asked_for_runs_when_the_process_ends(tmp_path: Path) -> None:
    ran: list[int] = []
    retoucher = store_module._Retoucher(lambda: ran.append(1))
    retoucher.at_exit()
    assert ran == []  # nothing asked for
    retoucher._pid = os.getpid()
    retoucher._settled.clear()  # asked for, its thread not yet run
    retoucher.at_exit()
    assert ran == [1]


def test_a_flood_of_refused_uploads_cannot_use_up_the_inodes(
    app: Flask, client: FlaskClient, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A refused upload's sealed file is retired, not freed, until the sweep: each holds an
    # inode that long. A filesystem of 2,000 inodes with 205 free: the last tenth are kept
    # for arrivals (later reports stop at the twentieth), so at most 5 may wait, and the rest
    # go at once.
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        found = real(path)
        waiting = len(retired_files(instance))
        fields = list(found)
        fields[5], fields[6], fields[7] = 2000, 205 - waiting, 205 - waiting
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    visitor = Visitor(client)
    files = [("files", "a.bin", bytes(1000), "application/octet-stream")]
    for _ in range(12):
        page = visitor.start()
        # Refused once read whole (its files sealed as they came): a codename this server
        # never offered this visitor. (A form with no token has its files dropped unsealed.)
        page.fields["codename"] = generate_codename()
        assert visitor.send(page, "not offered", files).status_code == 400
    waiting = retired_files(instance)
    assert len(waiting) == 5, f"{len(waiting)} refused uploads hold an inode until the sweep"
    assert staging_files(instance) == []
