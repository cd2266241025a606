"""On SQLite the timer's hourly run leaves no page whose cells order the writes before it.

SQLite puts a new row's cell below the cells already in its page: until the
page is rebuilt, the places of the cells put the rows written since in the
order they came. The period's sweep rebuilds the database (VACUUM, key order:
random ids); PostgreSQL's tables are rebuilt at every hourly run
(test_sweep_table_files.py). An SQLite database waited for the period's sweep,
a day by default: a disk seized after the hourly run ordered every report and
every new account of the day, each against the others. A seizer reads the
database file's bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app import db as app_db
from app.config import config_for
from app.instance import InstancePaths
from app.models import Source, Throttle
from app.operations.sweep import sweep
from app.store import EnvelopeStore
from tests.app.api_support import ApiClient
from tests.app.operations.test_arrival import (
    FALSE_ALARM,
    _chance_of_order,
    _kendall,
    _layouts,
    _page_size,
    _places,
)
from tests.app.support import demo_authorities

# Sources, each making an account and sending a report: their order by chance is 2 in 12!.
SOURCES = 12


def _ordering(content: bytes, ids: list[str]) -> dict[str, int]:
    """Each layout of the file's cells that orders `ids` (given in arrival order) past chance."""
    places = [_places(content, i) for i in ids]
    assert min(len(p) for p in places) >= 1, "the attack finds no row: the reading is broken"
    layouts = _layouts(places, list(range(len(ids))), _page_size(content))
    alpha = FALSE_ALARM / len(layouts)
    assert _chance_of_order(len(ids), len(ids) * (len(ids) - 1) // 2) < alpha
    found = {}
    for name, (values, present) in layouts.items():
        agreement = _kendall(values, present)
        if len(set(present)) > 1 and _chance_of_order(len(set(present)), abs(agreement)) < alpha:
            found[name] = agreement
    return found


def _arrivals(
    client: FlaskClient, instance: Path, engine: Engine, on_circuit: Callable[[int | None], None]
) -> tuple[list[str], list[str]]:
    """New sources, one after another, each sending a report; their items and accounts in order."""
    pinned = frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))
    items: list[str] = []
    sources: list[str] = []
    for n in range(SOURCES):
        on_circuit(n + 1)  # an account a minute per circuit
        device = ApiClient(client, pinned)
        assert device.register().status_code == 201
        items += device.submit(f"report {n}: the SHO took money at the checkpost")
        with Session(engine) as session:
            found = session.scalars(select(Source.id).where(Source.id.not_in(sources))).all()
        sources += found
    assert len(items) == len(sources) == SOURCES
    return items, sources


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reports_and_accounts_before_the_timers_run_lie_in_no_order_after_it(
    instance: Path,
    client: FlaskClient,
    database_url: str,
    on_circuit: Callable[[int | None], None],
) -> None:
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(config_for(instance).DATABASE_URL)
    try:
        assert sweep(engine, store, force=True).ran  # the period's sweep
        items, sources = _arrivals(client, instance, engine, on_circuit)
        report = sweep(engine, store)  # the timer's next run, in the same period
    finally:
        engine.dispose()
    assert not report.ran
    assert not report.rebuild_waiting
    database = paths.database
    assert database.with_name(database.name + "-wal").stat().st_size == 0
    content = database.read_bytes()
    ordered = {
        "reports": _ordering(content, items),
        "accounts": _ordering(content, sources),
    }
    said = {what: found for what, found in ordered.items() if found}
    assert not said, f"the cells order the {SOURCES} arrivals (Kendall's S by layout): {said}"


def test_a_layout_in_arrival_order_is_caught_by_the_reading_and_a_shuffled_one_is_not() -> None:
    """Cells each below the one before, as SQLite lays rows out, are an order; shuffled, not."""
    page = 4096
    ids = [f"{n:032x}" for n in range(SOURCES)]

    def laid_out(order: list[int]) -> bytes:
        content = bytearray(page * 2)
        content[16:18] = page.to_bytes(2, "big")
        for place, n in enumerate(order):
            at = page + 3000 - 40 * place
            content[at : at + 32] = ids[n].encode()
        return bytes(content)

    assert _ordering(laid_out(list(range(SOURCES))), ids)
    assert not _ordering(laid_out([5, 0, 9, 3, 11, 1, 7, 2, 10, 6, 4, 8]), ids)


def _schema_counter(database: Path) -> int:
    """The database header's schema counter (`schema_version`), as a seizer reads it."""
    return int.from_bytes(database.read_bytes()[40:44], "big")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_schema_counter_does_not_count_the_timers_runs(
    instance: Path, database_url: str
) -> None:
    """VACUUM adds one to the header's schema counter, and the timer rebuilds hourly.

    Counted so, the counter said how many hours the database had run, and two
    copies of the disk how many runs came between them. Each rebuild draws it anew.
    """
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    engine = app_db.make_engine(config_for(instance).DATABASE_URL)
    try:
        assert sweep(engine, store, force=True).ran
        with Session(engine) as session:  # a connection that read the schema before the runs
            session.add(Throttle(bucket="before", window=1, failures=1))
            session.commit()
        counters = [_schema_counter(paths.database)]
        for _run in range(3):
            assert not sweep(engine, store).ran  # the timer's next run, in the same period
            counters.append(_schema_counter(paths.database))
        with Session(engine) as session:  # writes on, through the new counter
            session.add(Throttle(bucket="after", window=1, failures=1))
            session.commit()
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert raw.execute("SELECT count(*) FROM throttle").fetchone() == (2,)
    finally:
        engine.dispose()
    steps = [(later - earlier) % 2**32 for earlier, later in itertools.pairwise(counters)]
    assert len(set(counters)) == len(counters), f"a run left the counter as it was: {counters}"
    assert max(steps) > 3, f"the schema counter counted the timer's runs: {counters}"
