"""The arrival sweep: what the disk says about when envelopes arrived is the sweep's time, no finer.

Linux cannot set a file's change or creation time, so new envelopes wait in
holding and, once per period (`sweep_hours`, a day by default, an hour at the
least), a sweep re-creates them in the store as new files in a random order
(`EnvelopeStore.sweep`), and makes anew the file of every upload still under way,
which would keep when it began and when its latest chunk came (`resumable.renew`).
It then rebuilds the database, and on PostgreSQL lets go of the WAL written
before (`app.operations.pg_wal`): its commit records date each commit. An SQLite
database is rebuilt (VACUUM, the file grown back to its size
with zeros so that no page is cut off with rows in it, and a checkpoint that
empties the WAL), so that neither the order of the WAL's frames nor the place
of a row in its page says which row came first, and sets the
times of the database files and of the store's directories to the epoch (their
change times become the sweep's). Each keyring manifest, subkey list and
timestamp installed since the last sweep is made anew too: its file dated the
install, after which reports were sealed to the new keys.

The sweep runs from a systemd timer every hour and at the start of `raazdar
serve`; each run does the work only when a new period has begun since the
last one (or when told to), but every time sets the SQLite database's files'
times anew, frees the deleted files waiting for it and writes the filesystem's
journal anew (a login or a reading of replies writes the database only, and
both dated each; a deleted reply's file its deletion), rebuilds the database
and on PostgreSQL lets go of the WAL: a table's file dated its latest write,
and each row's transaction id, or its cell's place in its SQLite page,
ordered the writes since the sweep. A
file in the store records the last sweep: its modification time is the
sweep's, which every swept envelope shows anyway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import random
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Engine,
    Table,
    and_,
    delete,
    func,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import commit_times, fsjournal
from app.db import checkpoint, renew_change_counter
from app.instance import InstancePaths
from app.keyring import keyring_held, timestamp_path, write_whole
from app.models import ExportPress
from app.noatime import read_quietly
from app.operations import pg_wal
from app.operations.retention import with_rows
from app.operations.rotation import onion_paths
from app.services import audit, resumable
from app.settings import get_setting
from app.store import EnvelopeStore
from app.subkeys import subkeys_dir

log = logging.getLogger(__name__)

PERIOD_SETTING: Final = "sweep_hours"
# The shortest and longest period between sweeps, in hours.
PERIOD_HOURS: Final = (1, 24)
MARKER_NAME: Final = ".swept"
# A sweep is overdue (for `raazdar doctor`) this long after its period ends: the
# timer runs hourly with up to ten minutes' random delay.
LATE_AFTER: Final = dt.timedelta(hours=2)


@dataclass(frozen=True)
class SweepReport:
    """What one run of the sweep did."""

    ran: bool
    period_hours: int
    moved: int = 0
    renewed: int = 0
    # Inodes of held envelopes given back the sweep's time, and journal blocks written anew.
    refilled: int = 0
    journal_blocks: int = 0
    journal_failed: str | None = None  # why the journal was not written anew, if it was not
    # A reader of the old database outlasted `REBUILD_WAIT`: the rebuilt one waits in the WAL.
    rebuild_waiting: bool = False
    # Why PostgreSQL's WAL, each commit's time in it, was not let go (`app.operations.pg_wal`).
    wal_kept: str | None = None
    # PostgreSQL keeps each commit's time (`app.commit_times`), which no sweep can take back.
    commits_dated: bool = False
    # Held envelopes whose copies found no room above the disk's last hundredth: still held,
    # their files say when each arrived (`EnvelopeStore.sweep`; the doctor says so too).
    unswept: int = 0


def period(engine: Engine) -> dt.timedelta:
    """Return the instance's sweep period."""
    with Session(engine) as session:
        hours = int(get_setting(session, PERIOD_SETTING))
    low, high = PERIOD_HOURS
    return dt.timedelta(hours=min(max(hours, low), high))


def marker(store: EnvelopeStore) -> Path:
    """The file whose modification time is the last sweep's."""
    return store.root / MARKER_NAME


def last_sweep(store: EnvelopeStore) -> float | None:
    """Return when the last sweep ended (seconds since the epoch), or None if none has."""
    try:
        return marker(store).lstat().st_mtime
    except FileNotFoundError:
        return None


def due(store: EnvelopeStore, every: dt.timedelta, now: float) -> bool:
    """Say whether a new period has begun since the last sweep (periods start at UTC midnight).

    A last sweep stamped after `now` was stamped by a clock since set back (NTP, an
    RTC set right): waiting for the clock to reach it would hold every arrival
    meanwhile, its times on disk, so the sweep is due at once.
    """
    last = last_sweep(store)
    seconds = every.total_seconds()
    return last is None or last > now or now // seconds > last // seconds


def sweep(
    engine: Engine,
    store: EnvelopeStore,
    *,
    force: bool = False,
    now: float | None = None,
    rng: random.Random | None = None,
    keyring: InstancePaths | None = None,
) -> SweepReport:
    """Sweep the store and the database if a new period has begun (or `force`).

    With `keyring` (an instance's paths), its keyring's files are made anew too.
    """
    every = period(engine)
    hours = int(every.total_seconds() // 3600)
    with _locked(store.root):
        if not force and not due(store, every, time.time() if now is None else now):
            # Every hour the timer runs, whatever the period. A login or a reading of
            # replies writes the database only: its files' change time, and the journal's
            # commit of the inode that holds it (to the millisecond), dated the latest and
            # each of them until the period's sweep; so did a deleted file waiting for
            # the sweep (a reply a source deleted). First, so that a failed rebuild
            # below leaves them done.
            _restamp_database(engine)
            freed = (*store.free_retired(), *store.free_abandoned(), *free_unfiled(engine, store))
            refilled, written, failed = _below_the_files(store, freed)
            # The database is rebuilt: PostgreSQL's table files were dated by each table's
            # latest write (the latest report, new source, login), and each row's xmin and
            # place, like the place of each cell in an SQLite page, ordered the writes
            # since the sweep. Then each commit's time goes with PostgreSQL's WAL, even when
            # the rebuild failed (a deadlock with a request).
            try:
                rebuilt = compact(engine)
            finally:
                wal_kept = pg_wal.leave(engine)
            return SweepReport(
                ran=False,
                period_hours=hours,
                refilled=refilled,
                journal_blocks=written,
                journal_failed=failed,
                rebuild_waiting=not rebuilt,
                wal_kept=wal_kept,
                commits_dated=_commits_dated(engine),
            )
        last = last_sweep(store)
        # Before the sweep, which would copy them into the store for nothing.
        unfiled = free_unfiled(engine, store)
        swept = store.sweep(renew=lambda _id, info: _unswept(info, last), rng=rng)
        with Session(engine) as session:
            uploads = resumable.renew(session, store)
            audit_presses(session)
        rebuilt = compact(engine)
        wal_kept = pg_wal.leave(engine)
        renewed = _renew_keyring(keyring) if keyring is not None else []
        freed = (*unfiled, *swept.freed, *uploads)
        refilled, written, failed = _below_the_files(store, freed, renewed)
        # Once more: the refill above made and removed files in the keyring's folders.
        _at_the_epoch_folders(keyring)
        _stamp(marker(store), swept.unswept)
        with contextlib.suppress(FileNotFoundError):
            os.utime(store.root, (0, 0))
    return SweepReport(
        ran=True,
        period_hours=hours,
        moved=swept.moved,
        renewed=swept.renewed,
        refilled=refilled,
        journal_blocks=written,
        journal_failed=failed,
        rebuild_waiting=not rebuilt,
        wal_kept=wal_kept,
        commits_dated=_commits_dated(engine),
        unswept=swept.unswept,
    )


def audit_presses(session: Session) -> int:
    """Audit each account's presses for an export that found nothing since the last sweep.

    One entry per account (`export-nothing`, with the count), in the order of the
    accounts' names, under the sweep's day: the presses stand nowhere among the
    day's exports, so none says a report came after it. Taken and cleared in one
    statement, so a press counted meanwhile is never lost. Returns the entries made.
    """
    taken = session.execute(
        delete(ExportPress).returning(ExportPress.actor, ExportPress.presses)
    ).all()
    for actor, presses in sorted(taken):
        audit.record(session, actor, "export-nothing", presses=presses)
    session.commit()
    return len(taken)


def free_unfiled(engine: Engine, store: EnvelopeStore) -> list[int]:
    """Destroy the envelopes a writer killed before its commit left, no row naming them
    (`EnvelopeStore.free_unfiled`); return their inodes. The caller holds the sweep's lock."""
    with Session(engine) as session:

        def named(ids: list[str]) -> set[str]:
            try:
                return with_rows(session, ids)
            finally:
                session.rollback()  # each look a snapshot of its own: a commit since is seen

        return store.free_unfiled(named)


def held_still(store: EnvelopeStore) -> contextlib.AbstractContextManager[None]:
    """No sweep moves an envelope while the block runs (a backup reads holding and the store)."""
    return _locked(store.root)


def _renew_keyring(paths: InstancePaths) -> list[tuple[Path, list[int]]]:
    """Make anew each keyring file written since the last sweep; return the inodes freed, by folder.

    Its file kept the install's time to the nanosecond, and the reports sealed to a
    new keyring's keys, or to a reviewer's re-keyed subkey, came after it: it dated
    the split of its day's reports that their headers make. A manifest is never
    rewritten once installed, so a copy cannot undo an install (one being installed
    is a new name, left to the next sweep). A subkey list, the record of the keys a
    re-keying replaced, the timestamp, `pinned.json` and the server keys a keyring
    install switches to are replaced in place: they are made anew under the lock
    each install takes
    (`app.keyring.keyring_held`), so the copy of one read here never goes in over a
    newer one. The keyring's folders are set to the epoch (their change times become
    the sweep's).
    """
    lists = subkeys_dir(paths)
    freed = [
        (paths.manifests, _renew(sorted(_files(paths.manifests, "*.json")), "a keyring manifest"))
    ]
    if not paths.keyring.is_dir():
        return freed
    with keyring_held(paths):
        replaced = [paths.pinned, timestamp_path(paths)]
        freed.append((paths.keyring, _renew(replaced, "a keyring file")))
        in_lists = sorted([*_files(lists, "*.json"), *_files(lists, "*.superseded")])
        freed.append((lists, _renew(in_lists, "a subkey list")))
        # A keyring that lists a rotated key alone switches to it as it is installed
        # (`app.operations.rotation.promote`, under the same lock): the renamed file's
        # change time was the install's. The same key, so the old file is not overwritten.
        onion, _ = onion_paths(paths)
        freed.append((paths.root, _renew([paths.signing_key], "a server key")))
        freed.append((onion.parent, _renew([onion], "a server key")))
        _at_the_epoch_folders(paths)
    return freed


def _at_the_epoch_folders(paths: InstancePaths | None) -> None:
    """Set the keyring's folders and `tor/` to the epoch (their change times become now)."""
    if paths is None:
        return
    for directory in (
        subkeys_dir(paths),
        paths.manifests,
        paths.keyring,
        onion_paths(paths)[0].parent,
    ):
        with contextlib.suppress(FileNotFoundError):
            os.utime(directory, (0, 0))


def _files(directory: Path, pattern: str) -> list[Path]:
    """The names in `directory` that match `pattern`; none if it is not there."""
    try:
        return list(directory.glob(pattern))
    except FileNotFoundError:
        return []


def _renew(files: list[Path], what: str) -> list[int]:
    """Make each of `files` anew with the epoch's times unless it has them; return inodes freed.

    Replaced, never overwritten: requests read these files (`app.keyring.KeyringCache`,
    `app.subkeys.SubkeyCache`) and may be reading the old one as the new one goes in.
    """
    freed: list[int] = []
    for path in files:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        # Dated by its install until made anew here, whose epoch says it was: one a
        # full disk kept from being made anew is tried again by the next sweep.
        if not stat.S_ISREG(info.st_mode) or info.st_mtime_ns == 0:
            continue
        try:
            write_whole(path, read_quietly(path), _at_the_epoch)
        except FileNotFoundError:
            continue
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            log.warning("sweep: %s was not made anew: %s", what, reason)
            continue
        freed.append(info.st_ino)
    return freed


def _at_the_epoch(temporary: Path, target: Path) -> None:
    """Give `temporary` the epoch's times, then rename it over `target`: no reader sees others."""
    os.utime(temporary, (0, 0))
    os.replace(temporary, target)


def _below_the_files(
    store: EnvelopeStore,
    freed: tuple[int, ...],
    keyring: list[tuple[Path, list[int]]] | None = None,
) -> tuple[int, int, str | None]:
    """Give the freed inodes the sweep's time and write the journal anew (`app.fsjournal`).

    Returns the inodes taken back, the journal blocks written, and why it failed, if
    it did. A failure (a full disk, say) leaves the envelopes swept and the sweep
    done: the next sweep tries again, and `raazdar sweep` says so.
    """
    refilled = written = 0
    try:
        # Envelopes are made in staging: their freed inodes are in its directory's group.
        refilled = fsjournal.refill(store.staging, freed)
        for directory, inodes in keyring or ():
            # The keyring's folders may be in other groups than staging's.
            refilled += fsjournal.refill(directory, inodes)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        log.warning("sweep: the filesystem's journal was not written anew: %s", reason)
        return refilled, written, reason
    written, failed = _wrap_journal(store)
    return refilled, written, failed


def _wrap_journal(store: EnvelopeStore) -> tuple[int, str | None]:
    """Write the journal of the store's filesystem anew; the blocks written, and why not."""
    try:
        journal = fsjournal.journal_of(store.root)
        if journal is None:
            return 0, None
        # Its files are inodes too: never of the last share, the database's.
        room = partial(store.store_above_floor, 0, 1)
        return fsjournal.wrap(store.root / fsjournal.WRAP_NAME, journal, room), None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        log.warning("sweep: the filesystem's journal was not written anew: %s", reason)
        return 0, reason


def _commits_dated(engine: Engine) -> bool:
    """Whether PostgreSQL keeps each commit's time: turned on since the server started."""
    if engine.dialect.name != "postgresql":
        return False  # and SQLite's files are left as the run set their times
    with engine.connect() as connection:
        return commit_times.dates_commits(connection)


def _unswept(info: os.stat_result, last: float | None) -> bool:
    """Say whether a stored envelope was changed since the last sweep (or there never was one).

    Every file a sweep makes has its change time before the sweep's end; only
    an older release (which renamed arrivals straight into the store) makes others.
    """
    return last is None or info.st_ctime > last


def compact(engine: Engine) -> bool:
    """Rebuild the database in key order, so no row's place or stamp says when it was written.

    Says whether the rebuilt database is in its file (SQLite: False if a reader of the
    old one outlasted `REBUILD_WAIT`, and the rebuild waits in the WAL).
    """
    if engine.dialect.name == "postgresql":
        _compact_postgresql(engine)
        return True
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None  # noqa: S101 - a fresh connection is open
        checkpoint(raw)
        pages = _page_count(raw)
        # VACUUM writes every table and index anew, in key order: random ids.
        raw.execute("VACUUM")
        _keep_pages(raw, pages)
        _draw_schema_counter(raw)
        # The WAL's cut flushed: a power cut brings back no frame.
        rebuilt = _emptied(raw)
        # The header's count of commits since the database was made, renewed and emptied.
        if rebuilt and renew_change_counter(raw):
            rebuilt = _emptied(raw)
    _restamp_database(engine)
    return rebuilt


def _draw_schema_counter(raw: Any) -> None:
    """Give the database header's schema counter a random value (SQLite).

    VACUUM adds one to it, and so do a migration's changes: rebuilt at every run
    of the timer, it counted the hours the database had run, and between two
    copies of the disk the runs in between. Every connection compares it with the
    one it read the schema under, and reads the schema again when they differ;
    the schema is the same, so any other value is as good.
    """
    before = int(raw.execute("PRAGMA schema_version").fetchone()[0])
    drawn = before
    while drawn in (before, 0):
        drawn = secrets.randbelow(2**31)
    raw.execute(f"PRAGMA schema_version = {drawn}")


def _restamp_database(engine: Engine) -> None:
    """Set an SQLite database's files' times to the epoch: their change time becomes now."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database:
        path = Path(database)
        names = (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal")
        # The directory too: its change time says when the WAL files were made (the start).
        for target in [*(path.with_name(n) for n in names), path.parent]:
            with contextlib.suppress(FileNotFoundError):
                os.utime(target, (0, 0))


# How long the compaction waits, in seconds, for readers of the old database to end:
# VACUUM's rebuild is in the database file only once the WAL is copied into it, and a
# reader still using the old pages (the server runs beside the sweep) keeps it from
# being. Until then the file keeps its rows where they came, in the order they came.
REBUILD_WAIT: float = 600.0
# How long each try waits for readers, in milliseconds (SQLite's busy timeout).
_TRY_MS = 2000


def _emptied(raw: Any) -> bool:
    """Empty the WAL (`checkpoint`), trying again until `REBUILD_WAIT` has passed."""
    deadline = time.monotonic() + REBUILD_WAIT
    raw.execute(f"PRAGMA busy_timeout = {_TRY_MS}")
    try:
        while True:
            with contextlib.suppress(sqlite3.OperationalError):
                if checkpoint(raw):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
    finally:
        raw.execute("PRAGMA busy_timeout = 30000")


# A table made, filled with zeros and dropped in one transaction (`_keep_pages`).
_PAD_TABLE: Final = "sweep_pad"
# How many rows of zeros `_keep_pages` writes at the most (the last few pages one by one).
_PAD_ROWS: Final = 64


def _page_count(raw: Any) -> int:
    """How many pages the database has (SQLite)."""
    return int(raw.execute("PRAGMA page_count").fetchone()[0])


def _keep_pages(raw: Any, pages: int) -> None:
    """Grow the database back to `pages` pages, the ones added zeros and free (SQLite).

    VACUUM shrinks the file when rows were deleted (a purge, an acknowledgement),
    and the checkpoint after it cuts the last pages off: freed, their blocks kept
    the rows the database had taken last, the day's newest, each page's cells laid
    in the order they came, so a copy of the disk ordered them. Grown back, with
    zeros, the checkpoint writes the new pages over the old ones in place and cuts
    nothing; dropped in the same transaction, the zeros are free pages for later
    rows. The file never shrinks, as it never does between sweeps.
    """
    if _page_count(raw) >= pages:
        return
    size = int(raw.execute("PRAGMA page_size").fetchone()[0])
    raw.execute("BEGIN IMMEDIATE")
    try:
        raw.execute(f"CREATE TABLE {_PAD_TABLE} (zeros BLOB)")
        for _row in range(_PAD_ROWS):
            missing = pages - _page_count(raw)
            if missing <= 0:
                break
            # An overflow page holds a page less four bytes; a row's first part and the
            # table's root take a page or two: leave those for the rows after.
            blob = max(missing - 2, 1) * (size - 4)
            raw.execute(f"INSERT INTO {_PAD_TABLE} VALUES (zeroblob(?))", (blob,))  # noqa: S608
        raw.execute(f"DROP TABLE {_PAD_TABLE}")
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def _compact_postgresql(engine: Engine) -> None:
    """Give every row one transaction id (xmin), then rewrite each table in key order (PostgreSQL).

    PostgreSQL stamps each row version with the transaction that wrote it and
    appends new rows at the end of the table, so both would order arrivals.
    Updating every row in one transaction gives them all the same xmin; CLUSTER
    then writes each table anew, in primary-key order (random ids), without
    the old versions. The WAL written until then goes after it
    (`app.operations.pg_wal`); freed blocks still hold history: see
    deploy/README.md §2.1.

    Autovacuum is off for every table, and the sweep vacuums and analyses each
    itself: autovacuum came within a minute of the write that crossed its
    threshold, and `pg_stat_user_tables` kept that time (`last_autoanalyze`),
    which followed a burst of logins or arrivals; the sweep's own visit is the
    sweep's time, which every swept file shows anyway.
    """
    from app.db import Base

    if engine.dialect.name != "postgresql":
        return
    tables = [t for t in Base.metadata.sorted_tables if t.primary_key.columns]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        quote = connection.dialect.identifier_preparer.quote
        # Off for every table before any is rewritten: an autovacuum visit still under way
        # (it yields to the ALTER) holds a snapshot while it analyses one table, and CLUSTER
        # keeps, in every other, each old version that snapshot may still see.
        options = "autovacuum_enabled = off, toast.autovacuum_enabled = off"
        for table in tables:
            connection.exec_driver_sql(f"ALTER TABLE {quote(table.name)} SET ({options})")
    with engine.begin() as connection:
        for table in tables:
            column = next(iter(table.primary_key.columns))
            connection.execute(update(table).values({column: column}))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        quote = connection.dialect.identifier_preparer.quote
        for table in tables:
            name, index = quote(table.name), quote(f"{table.name}_pkey")
            for wait in _CLUSTER_WAITS:
                connection.exec_driver_sql(f"CLUSTER {name} USING {index}")
                if _packed(connection, table):
                    break
                time.sleep(wait)
            else:
                log.warning("sweep: a transaction held old row versions of %s", table.name)
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
            _forget_if_emptied(engine, table)
        _rewrite_catalogs(connection)


# The columns of a table that have statistics, as its owner reads them.
_WITH_STATISTICS: Final = text(
    "SELECT DISTINCT attname FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = :table"
)
_COLUMN_TYPES: Final = text(
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
    " WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
)


def _forget_if_emptied(engine: Engine, table: Table) -> None:
    """Remove the statistics of a table the run finds empty (ANALYZE leaves them as they were).

    They described the rows of the last run that found some: for `items`, once every
    item is acknowledged and deleted, their ids, how many each source filed and the
    days they came, kept until a run found items again. A column given its own type
    again loses its statistics; on an empty table nothing else changes.
    """
    try:
        with engine.begin() as connection:
            quote = connection.dialect.identifier_preparer.quote
            columns = sorted(connection.execute(_WITH_STATISTICS, {"table": table.name}).scalars())
            if not columns:
                return
            connection.exec_driver_sql(f"LOCK TABLE {quote(table.name)} IN ACCESS EXCLUSIVE MODE")
            if connection.execute(select(true()).select_from(table).limit(1)).first():
                return
            types = {
                str(c): str(t) for c, t in connection.execute(_COLUMN_TYPES, {"table": table.name})
            }
            again = ", ".join(f"ALTER COLUMN {quote(c)} TYPE {types[c]}" for c in columns)
            connection.exec_driver_sql(f"ALTER TABLE {quote(table.name)} {again}")
    except DBAPIError as exc:
        # A deadlock with a request (its foreign keys lock the table they name): next run.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        log.warning("sweep: the statistics of %s were kept: %s", table.name, reason)


# The catalogs each rebuild writes a version of a row in, per table of the app: pg_statistic
# (ANALYZE: each column's commonest values and its histogram, for a column of random ids a
# list of up to a hundred of them) and pg_class (CLUSTER: the table's new file, with the
# rows and pages it then held). pg_statistic first: its rewrite writes its row in pg_class.
_CATALOGS: Final = ("pg_statistic", "pg_class")
# How long a rewrite waits for a catalog's lock: every request that looks one up waits behind it.
_CATALOG_LOCK_WAIT: Final = "5s"
# How long, at the most, the rewrite waits for the transactions begun before it to end.
_HORIZON_WAIT: Final = 60.0
# Whether every transaction begun before the one numbered :next has ended, in the whole
# cluster (a snapshot's xmin) and in a reader of this database (a snapshot with no number:
# its xmin older than that number's, as `age` counts back from the next transaction).
_PAST: Final = text(
    "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= CAST(:next AS text)::xid8"
    " AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
    "  AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL"
    "  AND age(backend_xmin) > age(CAST(CAST(:next AS bigint) % 4294967296 AS text)::xid))"
)


def _past_horizon(connection: Any) -> bool:
    """Wait until no transaction that may still see an old version of a catalog's row is open.

    The rewrite keeps each version a snapshot open anywhere in the cluster may still
    see, and the rebuild's own ANALYZE of the last table ended a moment before: a
    request under way, or another database's transaction, kept the run before's.
    """
    horizon = connection.exec_driver_sql("SELECT pg_snapshot_xmax(pg_current_snapshot())")
    after = int(str(horizon.scalar()))
    deadline = time.monotonic() + _HORIZON_WAIT
    while not connection.execute(_PAST, {"next": after}).scalar():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def _rewrite_catalogs(connection: Any) -> None:
    """Write the catalogs the rebuild changed anew, with no version of a row an earlier run left.

    Each old version stayed in the catalog's file (PostgreSQL vacuums its catalogs
    when it chooses, and never zeroes the room it frees): one a run of the timer,
    counting each table's rows, or listing the ids then held, so a seizer dated each
    report and new account to the hour. The database's owner may rewrite them; the
    old file is unlinked, as CLUSTER's are (deploy/README.md §2.1, freed blocks).
    """
    may = connection.exec_driver_sql(
        "SELECT pg_has_role(datdba, 'USAGE') FROM pg_database WHERE datname = current_database()"
    ).scalar()
    if not may:
        log.warning(
            "sweep: PostgreSQL's catalogs keep a count of each table's rows at each run: "
            "the app's role may not rewrite them (make it the database's owner)"
        )
        return
    if not _past_horizon(connection):
        log.warning("sweep: a transaction held old versions of the catalogs' rows")
    connection.exec_driver_sql(f"SET lock_timeout = '{_CATALOG_LOCK_WAIT}'")
    try:
        for catalog in _CATALOGS:
            _rewrite(connection, catalog)
    finally:
        connection.exec_driver_sql("RESET lock_timeout")
    # The rewrite of pg_class removed the database's cache file of the catalogs
    # (`pg_internal.init`), which the next backend to start writes anew: dated, it said
    # when the first connection after the run came (a burst of requests outgrowing the
    # pool). Started here, the file is the run's.
    engine = connection.engine
    arguments, options = engine.dialect.create_connect_args(engine.url)
    engine.dialect.connect(*arguments, **options).close()


# SQLSTATE lock_not_available: the lock was not had within `_CATALOG_LOCK_WAIT`.
_LOCK_NOT_AVAILABLE: Final = "55P03"


def _rewrite(connection: Any, catalog: str) -> None:
    """Rewrite one catalog (`VACUUM (FULL)`), once more if it failed other than for its lock."""
    for tries_left in reversed(range(2)):
        try:
            connection.exec_driver_sql(f"VACUUM (FULL) pg_catalog.{catalog}")
            return
        except DBAPIError as exc:
            # Seen once in twelve rewrites at 10,000 sources, on a loaded machine: "missing chunk
            # number 0 for toast value … in pg_toast_2619", an old version's statistics whose
            # TOAST a vacuum of its own had freed. Tried again, once no transaction from
            # before is open. A backup's transaction holds the lock for minutes: next run.
            code = getattr(exc.orig, "sqlstate", None)
            if tries_left and code != _LOCK_NOT_AVAILABLE:
                _past_horizon(connection)
                continue
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            log.warning("sweep: %s was not written anew: %s", catalog, reason)


# CLUSTER keeps each old version a snapshot still open in the database may see: a
# request's, or autovacuum's while it analyses the system catalogs a migration changed
# (their autovacuum cannot be turned off). Such a snapshot ends within moments.
_CLUSTER_WAITS: Final = (0.5, 1.0, 2.0, 4.0, 0.0)


def _packed(connection: Any, table: Table) -> bool:
    """Whether a table CLUSTER rewrote holds its live rows alone: then they fill each page
    from its first line pointer on, and every page holds some; a version kept leaves a gap."""
    places = (
        select(
            literal_column("(ctid::text::point)[0]").label("page"),
            literal_column("(ctid::text::point)[1]").label("item"),
        )
        .select_from(table)
        .subquery()
    )
    pages = (
        select(places.c.page, func.count().label("n"), func.max(places.c.item).label("last"))
        .group_by(places.c.page)
        .subquery()
    )
    packed = and_(
        func.coalesce(func.bool_and(pages.c.n == pages.c.last), true()),
        func.coalesce(func.max(pages.c.page) + 1, 0) == func.count(),
    )
    return bool(connection.execute(select(packed)).scalar())


def _stamp(path: Path, unswept: int = 0) -> None:
    """Create or refresh the marker of the last sweep; its mtime is now, and it holds how many
    held envelopes that sweep found no room for (`unswept`), for the doctor."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        if unswept:
            out.write(f"{unswept}\n")
    os.utime(path)


def unswept(store: EnvelopeStore) -> int:
    """How many held envelopes the last sweep found no room for (0 if none, or no sweep)."""
    try:
        said = read_quietly(marker(store)).strip()
    except FileNotFoundError:
        return 0
    return int(said) if said.isdigit() else 0


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` so that two sweeps never overlap."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def at_start(instance: Path, say: Callable[[str], None]) -> SweepReport:
    """Run the sweep if its period has begun since the last (`raazdar serve`, before gunicorn)."""
    from app import db
    from app.config import config_for

    paths = InstancePaths(instance)
    engine = db.make_engine(config_for(instance).DATABASE_URL)
    try:
        report = sweep(engine, EnvelopeStore(paths.store, paths.staging), keyring=paths)
    finally:
        engine.dispose()
    if report.ran:
        say(f"sweep: {report.moved} new envelope(s) moved into the store, in a random order")
    return report
