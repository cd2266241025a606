"""On PostgreSQL the timer's hourly rebuild leaves no count or list of rows per run in the catalogs.

The rebuild rewrites every table of the app (`CLUSTER`) and analyses it: each
rewrite updates the table's row in `pg_class` (its new file, and the rows and
pages it holds), and each analysis the table's rows in `pg_statistic` (for a
column of random ids, a list of up to a hundred of them). An update leaves the
old version in the catalog's file, and the catalogs are PostgreSQL's, vacuumed
when it chooses, their freed room never zeroed. A seizer reads the catalogs'
files: one version per run of the timer, each counting the items then held, or
listing them, dates each report to the hour and orders them.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app import db as app_db
from app.instance import InstancePaths
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.api_support import ApiClient
from tests.app.seized_wal import data_directory, superuser

pytestmark = pytest.mark.postgres

# A pg_class row: its oid, its name (NameData, 64 bytes), seven oids more, relpages, reltuples.
_RELTUPLES_AT = 4 + 64 + 7 * 4 + 4
# An array's elements follow one another: an id of 32 characters, its length before it.
_NEXT_ELEMENT = 48
_REPORTS = 3


def _files_of(engine: Engine, catalog: str) -> bytes:
    """The main files of a catalog and of its TOAST table, as on the disk: what a seizer copies."""
    with engine.connect() as connection:
        relatives = connection.execute(
            text(
                "SELECT pg_relation_filepath(oid), pg_relation_filepath(reltoastrelid)"
                " FROM pg_class WHERE oid = CAST(:c AS regclass)"
            ),
            {"c": catalog},
        ).one()
    # Every changed page of the catalogs on the disk, as within five minutes of the write.
    superuser("CHECKPOINT")
    data = data_directory()
    return b"".join((data / r).read_bytes() for r in relatives if r is not None)


def _reports_an_hour_apart(
    engine: Engine, device: ApiClient, store: EnvelopeStore, seize: Callable[[], set[str]]
) -> set[str]:
    """A sweep, then reports, each followed by the timer's next run in the same period.

    The disk is seized after each run (the seizer chooses the moment: PostgreSQL
    vacuums its catalogs when it chooses, and the version a run left is the likeliest
    still there at the next); returns what the seizures found, together.
    """
    assert sweep(engine, store, force=True).ran
    found: set[str] = set()
    for n in range(_REPORTS):
        device.submit(f"report {n}: the SHO took money at the checkpost")
        assert not sweep(engine, store).ran
        found |= seize()
    return found


def _places(data: bytes, items: list[str]) -> list[tuple[int, str]]:
    """Where each of `items` is in `data`, in the order of the places."""
    places: list[tuple[int, str]] = []
    for item in items:
        at = data.find(item.encode())
        while at != -1:
            places.append((at, item))
            at = data.find(item.encode(), at + 1)
    return sorted(places)


def _held(engine: Engine) -> list[str]:
    """The ids of the items held now."""
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM items")).scalars())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_catalog_of_tables_keeps_no_count_of_items_from_an_earlier_run_of_the_timer(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """Each version of `items`' row in pg_class counted its rows at one run of the timer."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(database_url)

    def seize() -> set[str]:
        """Each count of items in a version of their row other than the count held now."""
        with engine.connect() as connection:
            oid = connection.execute(text("SELECT CAST('items' AS regclass)::oid")).scalar_one()
        held, catalog = len(_held(engine)), _files_of(engine, "pg_class")
        row = struct.pack("<I", oid) + b"items".ljust(64, b"\0")
        counts: list[float] = []
        at = catalog.find(row)
        while at != -1:
            counts.append(struct.unpack_from("<f", catalog, at + _RELTUPLES_AT)[0])
            at = catalog.find(row, at + 1)
        assert held in counts, f"the attack finds no version of items' row counting {held}"
        return {f"{int(c)} when {held} were held" for c in counts if 0 < c < held}

    try:
        earlier = _reports_an_hour_apart(engine, device, store, seize)
    finally:
        engine.dispose()
    assert not earlier, (
        f"pg_class keeps items' row counted at {sorted(earlier)}: one version a run of the "
        "timer, so the reports came one an hour"
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_catalog_of_statistics_keeps_no_list_of_items_from_an_earlier_run_of_the_timer(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """Each version of `items.id`'s statistics listed the items held at one run of the timer."""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(database_url)

    def seize() -> set[str]:
        """Each list of items (ids side by side, as in an array) short of those held now."""
        held, catalog = _held(engine), _files_of(engine, "pg_statistic")
        lists: list[set[str]] = []
        last = -_NEXT_ELEMENT
        for at, item in _places(catalog, held):
            if at - last > _NEXT_ELEMENT:
                lists.append(set())
            lists[-1].add(item)
            last = at
        assert any(listed == set(held) for listed in lists) or len(held) < 2, "no list found"
        return {f"{len(listed)} of {len(held)}" for listed in lists if 1 < len(listed) < len(held)}

    try:
        earlier = _reports_an_hour_apart(engine, device, store, seize)
    finally:
        engine.dispose()
    assert not earlier, (
        f"pg_statistic keeps lists of {sorted(earlier)} items: one list a run of the timer, "
        "each holding the reports come by then"
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_timers_run_leaves_the_catalogs_cache_file_written(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """Removed by the rewrite of pg_class, it was written by the next backend: a request's
    new connection, dated. (PostgreSQL's own vacuum of its catalogs removes it too, when it
    chooses: deploy/README.md §2.1.)"""
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            base = connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar_one()
        cache = data_directory() / "base" / str(base) / "pg_internal.init"
        assert sweep(engine, store, force=True).ran
        device.submit("the SHO took money at the checkpost")
        began = time.time_ns()
        assert not sweep(engine, store).ran
        ended = time.time_ns()
        written = cache.stat().st_mtime_ns if cache.exists() else None
    finally:
        engine.dispose()
    assert written is not None, (
        "the run left no pg_internal.init: the first connection after it writes one, dated"
    )
    assert began <= written <= ended, "the file the attack reads is not the run's: broken"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_statistics_of_a_table_emptied_since_keep_no_deleted_row(
    instance: Path, device: ApiClient, database_url: str
) -> None:
    """ANALYZE leaves an empty table's statistics as they were: the items acknowledged stayed.

    Reviewers acknowledge every item they import, and the server deletes them: then
    `items` is empty, and its statistics listed the deleted ids, how many each source
    filed, and the days they came, until a run found items again.
    """
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(database_url)
    try:
        assert sweep(engine, store, force=True).ran
        for n in range(2):
            device.submit(f"report {n}: the SHO took money at the checkpost")
        assert not sweep(engine, store).ran
        gone = _held(engine)
        assert _places(_files_of(engine, "pg_statistic"), gone), "the attack finds no item"
        with engine.begin() as connection:  # as an acknowledgment deletes them
            connection.execute(text("DELETE FROM items"))
        assert not sweep(engine, store).ran
        kept = _places(_files_of(engine, "pg_statistic"), gone)
    finally:
        engine.dispose()
    assert not kept, f"pg_statistic names {len(kept)} times the items deleted before the run"
