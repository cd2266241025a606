"""Migrations: each goes up and down cleanly, head is the models' schema, on both databases."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, inspect, text

from app.db import Base, make_engine
from app.migrate import alembic_config, downgrade, upgrade

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
# Oldest first.
REVISIONS = [r.revision for r in reversed(list(SCRIPTS.walk_revisions()))]
MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture
def database(database_url: str, instance_dir: Path) -> str:
    """An empty database (for SQLite, a file not yet created in an existing directory)."""
    instance_dir.mkdir(mode=0o700)
    return database_url


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    """An engine on the database, closed after the test."""
    engine = make_engine(database)
    yield engine
    engine.dispose()


def schema(engine: Engine) -> dict[str, Any]:
    """Everything about the tables that a migration might get wrong."""
    inspector = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], f["options"].get("ondelete"))
                for f in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
        for table in sorted(inspector.get_table_names())
    }


def tables(engine: Engine) -> set[str]:
    """The tables the database holds, Alembic's own aside."""
    inspect(engine).clear_cache()
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_the_migrations_form_one_line() -> None:
    expected = [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        "0016",
        "0017",
        "0018",
        "0019",
        "0020_restore2",
        "0021_staff4",
        "0023_seize2",
        "0024_login3",
        "0025_seize3",
        "0026_seize4",
        "0027_bound",
        "0028_room",
    ]
    assert expected == REVISIONS
    assert SCRIPTS.get_heads() == [REVISIONS[-1]]


def test_upgrade_to_head_gives_exactly_the_models_schema(database: str, engine: Engine) -> None:
    upgrade(database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert tables(engine) == MODEL_TABLES


def test_downgrade_to_base_leaves_no_tables_and_upgrade_works_again(
    database: str, engine: Engine
) -> None:
    upgrade(database)
    head = schema(engine)
    downgrade(database, "base")
    assert tables(engine) == set()
    upgrade(database)
    assert schema(engine) == head


# Migrations that change rows only (each has a test of its own for them).
_ROWS_ONLY = {"0023_seize2"}


@pytest.mark.parametrize("revision", REVISIONS)
def test_each_migration_goes_down_and_up_again_to_the_same_schema(
    database: str, engine: Engine, revision: str
) -> None:
    script = SCRIPTS.get_revision(revision)
    assert script is not None
    upgrade(database, revision)
    after = schema(engine)
    downgrade(database, str(script.down_revision or "base"))
    before = schema(engine)
    assert (before == after) == (revision in _ROWS_ONLY)
    upgrade(database, revision)
    assert schema(engine) == after


def _upgrade_killed(database: str, revision: str) -> None:
    """Run `upgrade` to `revision` in a child that SIGKILLs itself after its first change."""

    def run() -> None:
        def die(_c: object, _cur: object, statement: str, *_args: object) -> None:
            words = statement.lstrip().upper()
            if words.startswith(_CHANGES) and "ALEMBIC_VERSION" not in words:
                os.kill(os.getpid(), signal.SIGKILL)

        event.listen(Engine, "after_cursor_execute", die)
        upgrade(database, revision)

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL


# The first words of a statement that changes the schema or the rows.
_CHANGES = ("ALTER", "CREATE", "DROP", "INSERT", "UPDATE", "DELETE")


@pytest.mark.parametrize("revision", REVISIONS[1:])
def test_a_migration_killed_after_its_first_change_runs_again_whole(
    database: str, engine: Engine, revision: str
) -> None:
    """A kill (power cut, OOM) midway leaves the revision undone: the next upgrade runs it."""
    script = SCRIPTS.get_revision(revision)
    assert script is not None
    upgrade(database, str(script.down_revision))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO settings (key, value) VALUES ('kept', '1')"))
    _upgrade_killed(database, revision)
    upgrade(database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        kept = connection.execute(text("SELECT value FROM settings WHERE key = 'kept'")).scalar()
    assert differences == [], f"killed midway, {revision} left the schema half changed"
    assert kept == "1"


def _source_of_0001(connection: Connection, day: dt.date, items: dict[str, str]) -> None:
    """Source "a"*32 as schema 0001 wrote it, with `items` (id: kind) of one submission."""
    connection.execute(
        text(
            "INSERT INTO sources (id, lookup_tag, designation, public_key, created_day,"
            " active_day) VALUES (:id, :tag, 'Brave Otter', 'rz-x25519-public:x', :d, :d)"
        ),
        {"id": "a" * 32, "tag": b"\x01" * 32, "d": day},
    )
    for item, kind in items.items():
        connection.execute(
            text(
                "INSERT INTO items (id, source_id, submission_id, kind, size, received_day,"
                " keyring_version) VALUES (:id, :source, :sub, :kind, 1024, :d, 1)"
            ),
            {"id": item, "source": "a" * 32, "sub": "c" * 32, "kind": kind, "d": day},
        )


def test_an_instance_from_the_oldest_schema_keeps_every_report_reply_and_account(
    database: str, engine: Engine
) -> None:
    """Rows written under 0001 (and staff under 0006) come through to head unchanged."""
    day = dt.date(2025, 1, 1)
    upgrade(database, "0001")
    with engine.begin() as connection:
        _source_of_0001(connection, day, {"0" * 32: "report", "1" * 32: "file"})
        connection.execute(
            text(
                "INSERT INTO replies (id, source_id, size, received_day)"
                " VALUES (:id, :source, 512, :d)"
            ),
            {"id": "e" * 32, "source": "a" * 32, "d": day},
        )
    upgrade(database, "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_accounts (id, username, role, password_hash, totp_enrolled,"
                " totp_last_step, epoch, created_day) VALUES (:id, 'amina', 'admin', 'h',"
                " :yes, 7, 1, :d)"
            ),
            {"id": "f" * 32, "yes": True, "d": day},
        )
    upgrade(database)
    with engine.connect() as connection:
        items = connection.execute(
            text("SELECT id, source_id, kind, size, received_day FROM items ORDER BY id")
        ).all()
        replies = connection.execute(text("SELECT id, source_id, size FROM replies")).all()
        sources = connection.execute(text("SELECT id, designation FROM sources")).all()
        # An account from before 0016 is taken as one that filed: the purge never takes it
        # for an empty one the API made.
        filed = connection.execute(text("SELECT filed FROM sources")).scalars().all()
        staff = connection.execute(text("SELECT id, username FROM staff_accounts")).all()
    assert [(i, s, k, n) for i, s, k, n, _ in items] == [
        ("0" * 32, "a" * 32, "report", 1024),
        ("1" * 32, "a" * 32, "file", 1024),
    ]
    assert [str(d) for *_, d in items] == [str(day)] * 2
    assert [tuple(r) for r in replies] == [("e" * 32, "a" * 32, 512)]
    assert [tuple(r) for r in sources] == [("a" * 32, "Brave Otter")]
    assert [bool(f) for f in filed] == [True]
    assert [tuple(r) for r in staff] == [("f" * 32, "amina")]


def test_0001_creates_the_first_tables(database: str, engine: Engine) -> None:
    upgrade(database, "0001")
    assert tables(engine) == {"settings", "sources", "taxonomy", "throttle", "items", "replies"}


def test_0002_keeps_existing_rows_not_exported_and_without_notice(
    database: str, engine: Engine
) -> None:
    upgrade(database, "0001")
    day = dt.date(2025, 1, 1)
    with engine.begin() as connection:
        _source_of_0001(connection, day, {"b" * 32: "report"})
    upgrade(database, "0002")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT exported FROM items")).scalar_one() in (False, 0)
        assert connection.execute(text("SELECT notice FROM sources")).scalar_one() is None
    assert "applied_bundles" in tables(engine)
    downgrade(database, "0001")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM items")).scalar_one() == 1


def test_0011_keeps_applied_bundles_applied_and_a_downgrade_keeps_voided_ones_refused(
    database: str, engine: Engine
) -> None:
    upgrade(database, "0010")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO applied_bundles (id) VALUES (:id)"), {"id": "a" * 32})
    upgrade(database, "0011")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT voided FROM applied_bundles")).scalar_one() in (
            False,
            0,
        )
        connection.execute(
            text("INSERT INTO applied_bundles (id, voided) VALUES (:id, :v)"),
            {"id": "b" * 32, "v": True},
        )
    # Downgraded, a voided bundle reads as applied: handed in, it is refused as a replay.
    downgrade(database, "0010")
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM applied_bundles ORDER BY id")).scalars()
        assert list(ids) == ["a" * 32, "b" * 32]


def test_0023_leaves_no_item_dated_before_a_later_export_of_its_day(
    database: str, engine: Engine
) -> None:
    """Items of one day dated the day of an export they came before, or the next one's:
    the days split that day's arrivals at the export. After 0023 they are one."""
    day, later = dt.date(2025, 1, 1), dt.date(2025, 1, 3)
    upgrade(database, "0021_staff4")
    # (received, exported): before the day's export, after it, not yet; a later day's.
    dated = {"0" * 32: (day, day), "1" * 32: (day, later), "2" * 32: (day, None)}
    dated["3" * 32] = (later, later)
    with engine.begin() as connection:
        _source_of_0001(connection, day, dict.fromkeys(dated, "report"))
        for item, (received, exported) in dated.items():
            connection.execute(
                text(
                    "UPDATE items SET received_day = :r, exported = :e, exported_day = :d"
                    " WHERE id = :id"
                ),
                {"r": received, "e": exported is not None, "d": exported, "id": item},
            )
    upgrade(database, "0023_seize2")
    query = text("SELECT id, exported_day FROM items ORDER BY id")
    with engine.connect() as connection:
        found = {i: d and str(d) for i, d in connection.execute(query)}
    went = later.isoformat()
    assert found == {"0" * 32: went, "1" * 32: went, "2" * 32: None, "3" * 32: None}
    downgrade(database, "0021_staff4")
    with engine.connect() as connection:
        found = {i: d and str(d) for i, d in connection.execute(query)}
    assert found == {"0" * 32: went, "1" * 32: went, "2" * 32: None, "3" * 32: went}


def test_sqlite_tables_stay_without_rowid_through_every_migration(tmp_path: Path) -> None:
    # Row order would otherwise reveal the order in which reports arrived.
    database = f"sqlite:///{tmp_path / 'raazdar.db'}"
    engine = make_engine(database)
    try:
        for revision in REVISIONS:
            upgrade(database, revision)
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                ).all()
            assert {n for n, sql in rows if "WITHOUT ROWID" not in sql} == {"alembic_version"}
    finally:
        engine.dispose()


def test_raazdar_migrate_brings_an_instance_up_to_head_and_says_so(
    instance: Path, database_url: str
) -> None:
    from click.testing import CliRunner

    from app.cli import main

    previous, head = REVISIONS[-2], REVISIONS[-1]
    downgrade(database_url, previous)

    def migrate() -> str:
        result = CliRunner().invoke(main, ["--instance", str(instance), "migrate"])
        assert result.exit_code == 0, result.output
        return result.output

    assert f"migrated the database from {previous} to {head}" in migrate()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()
    assert f"already at {head}" in migrate()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_raazdar_migrate_leaves_no_row_version_a_migration_replaced(
    instance: Path, database_url: str
) -> None:
    """PostgreSQL keeps the version a migration's UPDATE replaced in the table, where it
    was, until the next sweep's CLUSTER (a day): 0023 takes the days that split a day's
    arrivals at an export out of the rows, and the old versions kept them. A seizer reads
    the table's file; a client sees the live rows moved past the old ones (`ctid`)."""
    from click.testing import CliRunner

    from app.cli import main

    downgrade(database_url, "0021_staff4")
    day, later = dt.date(2025, 1, 1), dt.date(2025, 1, 3)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM items"))
            _source_of_0001(connection, day, {"0" * 32: "report", "1" * 32: "report"})
            connection.execute(
                text("UPDATE items SET exported = true, exported_day = :d"), {"d": day}
            )
            connection.execute(
                text("UPDATE items SET exported_day = :d WHERE id = :id"),
                {"d": later, "id": "1" * 32},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(
                "CLUSTER items USING items_pkey"
            )  # as the last sweep left it
        result = CliRunner().invoke(main, ["--instance", str(instance), "migrate"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            places = sorted(connection.execute(text("SELECT ctid::text FROM items")).scalars())
    finally:
        engine.dispose()
    assert places == ["(0,1)", "(0,2)"], (
        f"the live rows are at {places}: the versions the migration replaced are still "
        "in the table before them"
    )
