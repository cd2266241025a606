"""The arrival sweep: held envelopes move into the store as new files, once per period, whole."""

from __future__ import annotations

import errno
import itertools
import multiprocessing
import os
import secrets
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from app import db as app_db
from app import fsjournal
from app import store as store_module
from app.cli import main
from app.models import AuditEntry, Throttle
from app.operations import sweep as sweep_module
from app.operations.sweep import compact, last_sweep, marker, sweep
from app.services.resumable import staged_path
from app.settings import get_setting
from app.store import HOLDING_NAME, REPLY_WORK_PREFIX, UNHELD_AFTER, EnvelopeStore
from crypto import Metadata, PrivateKey
from tests.app.api_support import ApiClient
from tests.app.support import flushes_seen, sqlite_temp_files_opened
from tests.postgres import no_new_databases, postgres_admin_url

DAY = 24 * 3600


def arrive(store: EnvelopeStore, content: bytes) -> str:
    """Publish an envelope as a submission does; return its id."""
    envelope_id, staged = store.stage_ciphertext(content)
    store.publish(envelope_id, staged)
    return envelope_id


def test_held_envelopes_become_new_files_in_the_store_and_the_old_bytes_are_overwritten(
    engine: Engine, store: EnvelopeStore, tmp_path: Path
) -> None:
    contents = {arrive(store, secrets.token_bytes(5000)): None for _ in range(4)}
    held = {i: store.holding / f"{i}.rze" for i in contents}
    originals = {i: p.read_bytes() for i, p in held.items()}
    witnesses = {i: tmp_path / i for i in held}
    for envelope_id, path in held.items():
        os.link(path, witnesses[envelope_id])
    report = sweep(engine, store, force=True)
    assert (report.ran, report.moved, report.renewed) == (True, 4, 0)
    assert store.held() == []
    for envelope_id, content in originals.items():
        assert store.path(envelope_id) == store.stored_path(envelope_id)
        assert store.path(envelope_id).read_bytes() == content
        assert witnesses[envelope_id].read_bytes() == bytes(len(content))
        with store.open(envelope_id) as stream:
            assert stream.read() == content


def test_a_reply_being_read_is_read_whole_while_a_sweep_replaces_its_file(
    engine: Engine, store: EnvelopeStore
) -> None:
    content = secrets.token_bytes(300_000)
    envelope_id = arrive(store, content)
    stream = store.open(envelope_id)
    swept = threading.Thread(target=sweep, args=(engine, store), kwargs={"force": True})
    swept.start()
    # Time for the sweep to rename the new file into place and reach the old inode.
    time.sleep(0.5)
    assert stream.read() == content
    stream.close()
    swept.join(timeout=30)
    assert not swept.is_alive()
    assert store.stored_path(envelope_id).read_bytes() == content


def test_the_sweep_runs_once_per_period(engine: Engine, store: EnvelopeStore) -> None:
    start = (time.time() // DAY) * DAY
    arrive(store, b"one")
    assert sweep(engine, store, now=start + 10).ran
    arrive(store, b"two")
    assert not sweep(engine, store, now=(last_sweep(store) or 0) + 1).ran
    assert len(store.held()) == 1
    assert sweep(engine, store, now=(last_sweep(store) or 0) + DAY).ran
    assert store.held() == []


def test_a_sweep_stamped_by_a_clock_that_ran_ahead_does_not_stop_the_next(
    engine: Engine, store: EnvelopeStore
) -> None:
    """The clock ran two days ahead for a sweep, then NTP set it right."""
    sweep(engine, store, force=True)
    ahead = time.time() + 2 * DAY
    os.utime(marker(store), (ahead, ahead))
    arrive(store, b"an envelope")
    report = sweep(engine, store)
    assert report.ran, "no sweep runs until the clock reaches the day the last one was stamped"
    assert store.held() == []
    assert (last_sweep(store) or 0) <= time.time()


@pytest.mark.parametrize("step", ["_copy", "_swap"])
def test_a_sweep_killed_midway_loses_no_envelope_and_the_next_finishes(
    engine: Engine, store: EnvelopeStore, step: str
) -> None:
    """A real SIGKILL at the third copy, or the third rename over, of five held envelopes."""
    contents = {arrive(store, secrets.token_bytes(3000)): b"" for _ in range(5)}
    for envelope_id in contents:
        contents[envelope_id] = (store.holding / f"{envelope_id}.rze").read_bytes()

    def run() -> None:
        engine.dispose(close=False)
        real = getattr(EnvelopeStore, step)
        calls: list[object] = []

        def dying(self: EnvelopeStore, *args: Any) -> Any:
            calls.append(args)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *args)

        setattr(EnvelopeStore, step, dying)
        sweep(engine, store, force=True)

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    for envelope_id, content in contents.items():
        with store.open(envelope_id) as stream:
            assert stream.read() == content, "an envelope was lost or cut by a killed sweep"
    sweep(engine, store, force=True)
    assert store.held() == []
    for envelope_id, content in contents.items():
        assert store.stored_path(envelope_id).read_bytes() == content
    assert not [p for p in store.root.iterdir() if p.name.startswith(".sweep-")]


def test_a_sweep_cut_off_after_its_renames_is_finished_by_the_next(
    engine: Engine, store: EnvelopeStore
) -> None:
    envelope_id = arrive(store, b"an envelope")
    # As if the last sweep died between the rename into the store and the unlink.
    store.stored_path(envelope_id).write_bytes(b"an envelope")
    (store.root / ".sweep-0123").write_bytes(b"a copy never renamed")
    sweep(engine, store, force=True)
    assert store.held() == []
    assert store.stored_path(envelope_id).read_bytes() == b"an envelope"
    assert not (store.root / ".sweep-0123").exists()


def test_a_sweep_killed_while_it_took_inodes_back_is_no_obstacle_to_the_next(
    engine: Engine, store: EnvelopeStore
) -> None:
    """The empty files that take freed inodes back (app.fsjournal) are removed as the sweep
    goes on; a sweep killed among them leaves some. The next must still run whole, or its
    marker is never stamped, every later run fails the same way, and the journal is never
    written anew again."""
    arrive(store, b"an envelope")
    sweep(engine, store, force=True)
    killed_midway = [store.staging / ".refill-0", store.staging / ".refill-1"]
    for leftover in killed_midway:
        leftover.touch()
    arrive(store, b"another")
    before = last_sweep(store)
    time.sleep(0.01)
    report = sweep(engine, store, force=True)
    assert (report.ran, report.moved) == (True, 1)
    assert last_sweep(store) != before
    assert not any(p.exists() for p in killed_midway)


def test_a_full_disk_below_the_files_leaves_the_sweep_done_and_says_so(
    engine: Engine, store: EnvelopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsjournal, "refill", full)
    arrive(store, b"an envelope")
    report = sweep(engine, store, force=True)
    assert (report.ran, report.moved) == (True, 1)
    assert report.journal_failed == os.strerror(errno.ENOSPC)
    assert store.held() == []
    assert last_sweep(store) is not None


def test_envelopes_an_older_release_put_in_the_store_are_re_created_once(
    engine: Engine, store: EnvelopeStore
) -> None:
    legacy = store.stored_path(secrets.token_hex(16))
    legacy.write_bytes(b"stored before the sweep existed")
    inode = legacy.stat().st_ino
    assert sweep(engine, store, force=True).renewed == 1
    assert legacy.read_bytes() == b"stored before the sweep existed"
    assert legacy.stat().st_ino != inode
    assert sweep(engine, store, force=True).renewed == 0


def test_an_envelope_deleted_while_held_is_gone_from_both_places(
    engine: Engine, store: EnvelopeStore
) -> None:
    envelope_id = arrive(store, b"to be deleted")
    store.delete(envelope_id)
    assert not store.exists(envelope_id)
    assert sweep(engine, store, force=True).moved == 0
    assert not store.exists(envelope_id)


def test_the_period_is_set_from_the_command_line_and_audited(
    instance: Path, engine: Engine
) -> None:
    result = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--period", "6"])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        assert get_setting(session, "sweep_hours") == 6
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "settings-changed" in actions
    refused = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--period", "0"])
    assert refused.exit_code == 2


def test_the_holding_directory_is_made_anew_by_each_sweep(
    engine: Engine, store: EnvelopeStore
) -> None:
    arrive(store, b"x")
    before = store.holding.stat().st_ino
    sweep(engine, store, force=True)
    assert store.holding.name == HOLDING_NAME
    assert store.holding.stat().st_ino != before


@pytest.mark.postgres
def test_on_postgresql_rows_share_one_transaction_and_lie_in_key_order(
    postgres_url: str,
) -> None:
    engine = app_db.make_engine(postgres_url)
    try:
        _check_postgresql_compaction(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_snapshot_open_at_the_compaction_leaves_no_old_version_behind(
    postgres_url: str,
) -> None:
    """CLUSTER keeps each version a snapshot still open may see, where it lay: a request's,
    or autovacuum's while it analyses the catalogs a migration changed (CI: twice, after
    `raazdar migrate`). The compaction tries again once such a snapshot has ended."""
    engine = app_db.make_engine(postgres_url)
    try:
        app_db.Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(
                Throttle(bucket=secrets.token_hex(8), window=1, failures=1) for _ in range(20)
            )
            session.commit()
        holder = engine.connect()
        holder.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.exec_driver_sql("SELECT 1")  # its snapshot sees every row as it is now
        ended = threading.Timer(0.3, holder.rollback)
        ended.start()
        try:
            compact(engine)
        finally:
            ended.join()
            holder.close()
        with engine.connect() as connection:
            places = connection.execute(text("SELECT ctid::text FROM throttle")).scalars().all()
    finally:
        engine.dispose()
    assert sorted(places, key=lambda p: int(p.strip("()").split(",")[1])) == [
        f"(0,{n})" for n in range(1, 21)
    ], f"the versions the compaction replaced lie between the live rows: {sorted(places)}"


def _check_postgresql_compaction(engine: Engine) -> None:
    app_db.Base.metadata.create_all(engine)
    buckets = [secrets.token_hex(8) for _ in range(40)]
    for n, bucket in enumerate(buckets):  # one transaction per arrival, in this order
        with Session(engine) as session:
            session.add(Throttle(bucket=bucket, window=1, failures=1))
            session.commit()
        for _other in range(n % 3):  # and other writes between them (logins, say)
            with Session(engine) as session:
                session.add(Throttle(bucket=f"x{secrets.token_hex(8)}", window=1, failures=1))
                session.commit()

    def seized() -> list[tuple[str, int, str]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT bucket, xmin::text::bigint, ctid::text FROM throttle")
            ).all()
        return [(r[0], r[1], r[2]) for r in rows if not r[0].startswith("x")]

    def physical(rows: list[tuple[str, int, str]]) -> list[str]:
        def place(ctid: str) -> tuple[int, int]:
            block, item = ctid.strip("()").split(",")
            return int(block), int(item)

        return [r[0] for r in sorted(rows, key=lambda r: place(r[2]))]

    before = seized()
    assert len({r[1] for r in before}) == len(buckets)  # the attack: xmin orders them
    ids = [xmin for _, xmin, _ in sorted(before, key=lambda r: r[1])]
    # ... and counts the writes between two of them (deploy/README.md §2.1, left; the
    # cluster's other databases, other tests', draw from the same counter)
    gaps = [b - a - 1 for a, b in itertools.pairwise(ids)]
    assert all(gap >= n % 3 for n, gap in enumerate(gaps)), gaps
    assert physical(before) == buckets
    compact(engine)
    after = seized()
    assert len({r[1] for r in after}) == 1
    assert physical(after) == sorted(buckets)


# How long autovacuum may take to visit a database with a burst of writes in it: its
# launcher comes once a naptime (a minute by default; tests/run.sh sets 5 s) to each
# database of the cluster, when one of its few workers is free; a loaded CI machine
# once saw no visit in 150 s.
AUTOVACUUM_WAIT = 240.0


@pytest.mark.postgres
def test_on_postgresql_autovacuum_leaves_no_time_after_a_burst_of_writes(
    postgres_url: str,
) -> None:
    """pg_stat_user_tables kept when autoanalyze (and autovacuum) last visited each table.

    It visits within its naptime of the write that crossed its threshold (50 rows and
    a tenth of the table): the time a seizure reads there follows a burst of logins or
    arrivals by a minute at most. A table of the test's own, autovacuum left on, shows
    when the visit came.
    """
    engine = app_db.make_engine(postgres_url)
    try:
        app_db.Base.metadata.create_all(engine)
        compact(engine)  # the sweep at `raazdar serve`'s start
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (bucket text PRIMARY KEY)"))
        burst = time.time()
        for bucket in (secrets.token_hex(8) for _ in range(200)):
            with Session(engine) as session:
                session.add(Throttle(bucket=bucket, window=1, failures=1))
                session.execute(text("INSERT INTO probe VALUES (:b)"), {"b": bucket})
                session.commit()
        visits = autovacuum_visits(engine, "probe")
    finally:
        engine.dispose()
    dated = {t: when for t, when in visits.items() if t != "probe" and when}
    said = {t: f"{when - burst:.0f} s after the burst began" for t, when in dated.items()}
    assert not dated, f"autovacuum's visits say when the writes came: {said}"


def autovacuum_visits(engine: Engine, awaited: str) -> dict[str, float | None]:
    """When autovacuum or autoanalyze last visited each table, once it came to `awaited`.

    No test process makes a database meanwhile: each new one would come first.
    """
    query = text(
        "SELECT relname, extract(epoch FROM greatest(last_autovacuum, last_autoanalyze))"
        " FROM pg_stat_user_tables"
    )
    with no_new_databases(postgres_admin_url()):
        deadline = time.monotonic() + AUTOVACUUM_WAIT
        while True:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_stat_clear_snapshot()"))
                found = {
                    str(r[0]): (float(r[1]) if r[1] is not None else None)
                    for r in connection.execute(query)
                }
            if found.get(awaited):
                return found
            if time.monotonic() > deadline:
                pytest.fail(
                    f"autovacuum did not come to {awaited} within {AUTOVACUUM_WAIT:.0f} s; "
                    f"{_autovacuum_workers(engine)}"
                )
            time.sleep(2)


def _autovacuum_workers(engine: Engine) -> str:
    """Where autovacuum's workers were, to say why a visit did not come."""
    with engine.connect() as connection:
        busy = connection.execute(
            text(
                "SELECT datname, extract(epoch FROM now() - xact_start)::int"
                " FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
        ).all()
        databases = connection.execute(text("SELECT count(*) FROM pg_database")).scalar()
    where = ", ".join(f"{name} for {age} s" for name, age in busy) or "none at work"
    return f"its workers: {where}; {databases} databases in the cluster"


def test_an_upload_under_way_is_made_anew_by_the_sweep_and_resumes(
    device: ApiClient, engine: Engine, store: EnvelopeStore
) -> None:
    """Its file kept when the upload began and its last chunk came until it expired."""
    envelope = device.seal(os.urandom(150_000), Metadata("file", "application/pdf"))
    upload = device.start_upload(envelope, kind="file").get_json()["upload"]
    assert device.patch(upload, 0, envelope[:100_000]).status_code == 200
    path = staged_path(upload, store)
    before = path.stat()
    witness = store.staging.parent / "witness"
    os.link(path, witness)
    sweep(engine, store, force=True)
    after = path.stat()
    assert after.st_ino != before.st_ino
    assert (after.st_mtime, after.st_atime, after.st_size) == (0, 0, 100_000)
    assert witness.read_bytes() == bytes(100_000)  # the old inode overwritten
    done = device.patch(upload, 100_000, envelope[100_000:])
    assert done.get_json()["complete"] is True
    with store.open(done.get_json()["item"]) as stream:
        assert stream.read() == envelope


def test_what_a_killed_reply_import_unpacked_is_destroyed_by_the_sweep(
    engine: Engine, store: EnvelopeStore, tmp_path: Path
) -> None:
    """It waited for a purge a day later: its files' times said when the bundle was applied."""
    work = store.root / f"{REPLY_WORK_PREFIX}killed" / "items"
    work.mkdir(parents=True)
    unpacked = work / "reply.rze"
    unpacked.write_bytes(secrets.token_bytes(5000))
    witness = tmp_path / "witness"
    os.link(unpacked, witness)
    sweep(engine, store, force=True)
    assert list(store.root.glob(f"{REPLY_WORK_PREFIX}*")) == []
    assert witness.read_bytes() == bytes(5000)


def test_a_sweep_waits_for_a_reply_import_under_way(engine: Engine, store: EnvelopeStore) -> None:
    """An import holds the store steady: the work directory a sweep finds is a killed one's."""
    work = store.root / f"{REPLY_WORK_PREFIX}live"
    work.mkdir()
    swept = threading.Event()

    def run() -> None:
        sweep(engine, store, force=True)
        swept.set()

    with store.steady():
        sweeper = threading.Thread(target=run)
        sweeper.start()
        assert not swept.wait(1.0)
        assert work.is_dir()
    sweeper.join(timeout=30)
    assert swept.is_set()


def test_an_upload_whose_file_cannot_be_copied_is_left_as_it_is_and_the_sweep_ends(
    device: ApiClient, engine: Engine, store: EnvelopeStore
) -> None:
    """A copy that fails (a full disk; here a directory in its place) stops nothing else."""
    envelope = device.seal(os.urandom(150_000), Metadata("file", "application/pdf"))
    broken, kept = (device.start_upload(envelope).get_json()["upload"] for _ in range(2))
    assert device.patch(kept, 0, envelope[:100_000]).status_code == 200
    staged_path(broken, store).unlink()
    staged_path(broken, store).mkdir()
    before = staged_path(kept, store).stat().st_ino
    report = sweep(engine, store, force=True)
    assert report.ran
    assert staged_path(broken, store).is_dir()
    assert staged_path(kept, store).stat().st_ino != before
    assert [p.name for p in store.staging.iterdir() if p.name.startswith(".sweep-")] == []


def test_a_bundle_file_a_killed_worker_left_is_destroyed_and_a_live_one_kept(
    engine: Engine, store: EnvelopeStore, tmp_path: Path
) -> None:
    """A bundle in transit waits in a file of the store, held while open, retired when closed."""
    # As a killed worker leaves it: named, never retired, and no longer held (the kernel
    # drops the lock of a process that dies).
    left = store.root / f".scratch-{secrets.token_hex(16)}"
    left.write_bytes(b"a bundle on its way")
    witness = tmp_path / "witness"
    os.link(left, witness)
    sweep(engine, store, force=True)
    assert not left.exists()
    assert witness.read_bytes() == bytes(len(b"a bundle on its way"))
    held = store.scratch()
    held.write(b"x" * 5000)
    sweep(engine, store, force=True)
    assert len([p for p in store.root.iterdir() if p.name.startswith(".scratch-")]) == 1
    held.close()
    assert [p for p in store.root.iterdir() if p.name.startswith(".scratch-")] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_compaction_flushes_the_wal_it_cut(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite never flushes the WAL's cut: a power cut would bring back VACUUM's frames."""
    with Session(engine) as session:
        session.add(Throttle(bucket="compacted", window=1, failures=1))
        session.commit()
    wal = Path(str(engine.url.database) + "-wal").resolve()
    flushed = flushes_seen(monkeypatch)
    compact(engine)

    # VACUUM's frames overwritten and flushed, then the cut flushed, last. (The emptying
    # before VACUUM finds the WAL cut already, of no bytes, and flushes nothing.)
    written = [size for name, size in flushed if name == str(wal)]
    assert written, flushed
    assert written[-1] == 0, flushed
    assert any(size > 0 for size in written[:-1]), flushed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_compaction_cuts_no_page_off_the_database(engine: Engine) -> None:
    """Cut off by VACUUM's shrink, the last pages were freed with the newest rows in them.

    Their cells lay in the order they came (tests/app/operations/test_freed_blocks.py
    reads them from an ext4 disk's free blocks). The file keeps its size; what VACUUM
    no longer needs is zeros.
    """
    with Session(engine) as session:
        session.add_all(Throttle(bucket=f"early-{n:04d}", window=1, failures=1) for n in range(600))
        session.add_all(Throttle(bucket=f"LATE-{n:04d}", window=1, failures=1) for n in range(60))
        session.commit()
        session.execute(text("DELETE FROM throttle WHERE bucket LIKE 'early-%'"))
        session.commit()
    database = Path(str(engine.url.database))
    before = database.stat().st_size
    compact(engine)

    after = database.stat().st_size
    assert after >= before, f"the compaction cut {before - after} bytes off the database"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        page = raw.execute("PRAGMA page_size").fetchone()[0]
        assert after <= before + 2 * page, "the compaction grew the database"
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        late = raw.execute("SELECT count(*) FROM throttle WHERE bucket LIKE 'LATE-%'").fetchone()
    assert "sweep_pad" not in tables
    assert late == (60,)
    content = database.read_bytes()
    assert b"early-" not in content
    assert content.count(b"LATE-") == 60  # once each: what the file holds past its rows is zeros


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_compaction_writes_no_copy_of_the_database_outside_the_instance(
    engine: Engine,
) -> None:
    """VACUUM built the new database in a temporary file (`/var/tmp/etilqs_…`, deleted at once).

    A copy of every row, on the root filesystem, freed unwritten when it closed: a
    source purged, an item acknowledged or a login ended after that sweep was still
    there, in the free blocks of a disk nobody swept. It is built in memory now.
    """
    with Session(engine) as session:
        rows = [
            {"bucket": f"{n:05d}-{'x' * 200}", "window": 1, "failures": 1} for n in range(12_000)
        ]
        session.execute(insert(Throttle), rows)
        session.commit()
    with sqlite_temp_files_opened() as seen:
        compact(engine)
    assert not seen, f"VACUUM wrote the database to {sorted(seen)}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_that_outlasts_the_compaction_leaves_the_sweep_saying_so(
    engine: Engine, store: EnvelopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`raazdar sweep` runs hourly beside the server: a reader of the old database then
    (a long staff request, a backup) kept the checkpoint after VACUUM from copying.

    The rebuilt database waited in the WAL; the file kept its rows where they came,
    each page's cells in the order they arrived, until the server's next write (on a
    quiet instance, hours), and the sweep said "the database was rebuilt".
    """
    monkeypatch.setattr(sweep_module, "REBUILD_WAIT", 0.3)
    monkeypatch.setattr(sweep_module, "_TRY_MS", 50)
    with Session(engine) as session:
        session.add_all(Throttle(bucket=f"row-{n:04d}", window=1, failures=1) for n in range(50))
        session.commit()
    database = str(engine.url.database)
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM throttle").fetchone()
        report = sweep(engine, store, force=True)
        waiting = Path(f"{database}-wal").stat().st_size
    finally:
        reader.close()
    assert waiting == 0 or report.rebuild_waiting, (
        f"the sweep said the database was rebuilt while the rebuild waited in a WAL of "
        f"{waiting} bytes, the file as it was"
    )
    # A reader that ends within the wait is waited for: the rebuild lands in the file.
    monkeypatch.setattr(sweep_module, "REBUILD_WAIT", 10.0)
    reader = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM throttle").fetchone()
    timer = threading.Timer(0.5, reader.close)
    timer.start()
    try:
        report = sweep(engine, store, force=True)
    finally:
        timer.join()
    assert not report.rebuild_waiting
    assert Path(f"{database}-wal").stat().st_size == 0


def change_counter(database: Path) -> tuple[int, int]:
    """The database header's change counter and the one its size is valid for, as a seizer reads."""
    counter, valid_for = (
        int.from_bytes(database.read_bytes()[at : at + 4], "big") for at in (24, 92)
    )
    return counter, valid_for


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_database_header_counts_no_commit_since_it_was_made(engine: Engine) -> None:
    """SQLite adds one to the header's change counter at each commit that writes page 1.

    A commit writes it whenever it takes a free page or grows the file (most
    submissions' do, the sweep keeping its freed pages), and VACUUM carries the
    counter over: from the database's creation, purges and sweeps included, it
    counted them, and between two copies of the disk how many came in between.
    The compaction now gives it a random value.
    """
    database = Path(str(engine.url.database))
    compact(engine)
    before, _valid_for = change_counter(database)
    for n in range(5):
        with Session(engine) as session:
            rows = (f"{n}-{m:03d}-{secrets.token_hex(28)}" for m in range(100))  # new pages
            session.add_all(Throttle(bucket=row, window=1, failures=1) for row in rows)
            session.commit()
    compact(engine)
    after, valid_for = change_counter(database)
    counted = (after - before) % 2**32
    assert not 5 <= counted <= 12, f"the header counted the commits between two sweeps: {counted}"
    assert valid_for == after  # the header's page count stays the one SQLite trusts
    with Session(engine) as session:  # a connection that read the old header writes on
        session.add(Throttle(bucket="after", window=1, failures=1))
        session.commit()
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT count(*) FROM throttle").fetchone() == (501,)


def test_a_report_a_killed_worker_left_in_staging_is_gone_by_the_hourly_run(
    engine: Engine, store: EnvelopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed while a browser's report streamed in leaves its staged file, held by no
    one: nothing took it away but a restart (`raazdar serve`) or the daily purge a day on.
    Until then it counted against the floors, and its creation time said, past the period's
    sweep, when a source began sending. The hourly run (and every sweep) now destroys it."""
    assert sweep(engine, store, force=True).ran  # the period's sweep; then the hourly runs
    staged = store.stage([PrivateKey.generate().public_key], Metadata("report"))
    staged.write(secrets.token_bytes(100_000))
    staged.close()  # the worker's end: its descriptor, and the lock on it, go; the file stays
    monkeypatch.setattr(store_module, "ABANDONED_AFTER", UNHELD_AFTER)
    time.sleep(UNHELD_AFTER + 0.1)
    assert not sweep(engine, store).ran
    assert not staged.path.exists(), "a killed worker's staged report outlived the hourly run"
    arrive(store, b"x" * 100)
    held = store.stage([PrivateKey.generate().public_key], Metadata("report"))
    held.write(b"a report still streaming in")
    try:
        sweep(engine, store, force=True)
        assert held.path.exists(), "the sweep destroyed a report still streaming in"
    finally:
        held.discard()
