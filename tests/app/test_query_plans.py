"""What runs at every request never reads the whole of a table that grows with use.

Such a read makes each request dearer with every row held, and a flood's rows make every
later request dearer still: a source's first form once scanned every item held (5.5 ms a
submission at 100,000 items on SQLite), and every signed API request every challenge spent
that day, inside its write. Each statement a flow runs is explained on its own database:
SQLite's plan, or PostgreSQL's with sequential scans priced out (so that an index is taken
wherever there is one, even on tables this small).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, select

from app.db import Database
from app.models import Source
from app.services.replies import post_reply
from app.settings import REVISION_KEY
from crypto import Metadata, SigningKey, seal_bytes
from tests.app.api_support import API, ApiClient
from tests.app.support import Visitor, db_session, deletion, form, reply_to, reviewer_keys

# Tables with a row per source, submission, login or request: a flood adds to each.
GROWING = (
    "items",
    "sources",
    "uploads",
    "used_challenges",
    "sessions",
    "replies",
    "audit_log",
    "applied_bundles",
)

# The walk of the audit log's chain before the keyring's rollback check trusts it
# (`app.services.audit._whole`): it runs when the keyring's or the subkey lists' files
# change and once a day per worker, never at every request, and the log grows with
# staff actions only.
CHAIN_WALK = "FROM audit_log ORDER BY audit_log.seq"


@contextmanager
def statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """Every single statement (not executemany) the app's engine runs inside the block."""
    engine = app.extensions["raazdar.db"].engine
    assert isinstance(engine, Engine)
    seen: list[tuple[str, Any]] = []

    def note(
        _c: object, _cur: object, statement: str, params: Any, _ctx: object, many: bool
    ) -> None:
        if not many:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def whole_table_reads(app: Flask, seen: list[tuple[str, Any]]) -> list[str]:
    """The statements among `seen` whose plan reads all of a growing table, with that plan."""
    database: Database = app.extensions["raazdar.db"]
    assert database.engine is not None
    found = []
    with database.engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, params in seen:
            if statement.lstrip().upper().startswith(("INSERT", "PRAGMA", "SAVEPOINT", "RELEASE")):
                continue
            if " ".join(statement.split()).endswith(CHAIN_WALK):
                continue
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            steps = [
                str(row[-1] if sqlite else row[0])
                for row in connection.exec_driver_sql(prefix + statement, params)
            ]
            if any(_reads_whole(step, table, sqlite) for step in steps for table in GROWING):
                found.append(f"{' | '.join(steps)}  <-  {' '.join(statement.split())}")
    return found


def _reads_whole(step: str, table: str, sqlite: bool) -> bool:
    """Whether one step of a plan reads every row of `table`."""
    if sqlite:
        # "SCAN t USING [COVERING] INDEX i" walks an index, not the table.
        return step.strip().startswith(f"SCAN {table}") and "USING" not in step
    return f"Seq Scan on {table}" in step


def test_a_source_s_pages_read_no_whole_table(app: Flask, instance: Path, visitor: Visitor) -> None:
    """The first form, a follow-up, a reply read and deleted, logging out and in again."""
    signer = reviewer_keys(instance).signing
    assert signer is not None
    with statements(app) as seen:
        start = visitor.start()
        first = visitor.send(start, "the first report", files=[_FILE])
        visitor.filed(first)
        page = form(visitor.get("/account"), "/account")
        visitor.filed(visitor.send(page, "a second report", files=[_FILE]))
        reply = reply_to(app, start.fields["codename"], "Which police station?", signer)
        assert visitor.log_out().status_code == 200
        assert visitor.log_in(start.fields["codename"]).status_code == 303
        delete = deletion(visitor.get("/account"), reply)
        assert visitor.client.post(delete.action, data=delete.fields).status_code in (302, 303)
    assert seen
    assert whole_table_reads(app, seen) == []


def test_a_device_s_signed_requests_read_no_whole_table(
    app: Flask, instance: Path, device: ApiClient
) -> None:
    """A report and a file uploaded, the replies listed and one fetched."""
    signer = reviewer_keys(instance).signing
    assert signer is not None
    with statements(app) as seen:
        assert len(device.submit("a report from the app", [("a.pdf", b"x" * 70_000)])) == 2
        reply = post_signed_reply(app, device, signer)
        assert device.send("GET", f"{API}/replies").status_code == 200
        assert device.send("GET", f"{API}/replies/{reply}").status_code == 200
    assert seen
    assert whole_table_reads(app, seen) == []


def post_signed_reply(app: Flask, device: ApiClient, signer: SigningKey) -> str:
    """A reviewer's reply to the device's account, as a reply bundle stores it."""
    envelope = seal_bytes(
        b"Which police station?",
        [device.keys.public_key],
        Metadata("reply", "text/plain; charset=utf-8"),
        signer=signer,
    )
    with app.app_context(), db_session(app) as session:
        found = session.execute(
            select(Source.id).where(Source.lookup_tag == device.keys.lookup_tag)
        ).scalar_one()
        return post_reply(session, found, envelope)


_FILE = ("files", "ledger.txt", b"names and dates", "text/plain")


def test_a_report_reads_the_settings_revision_once(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    """The upload limit read before the body, then the rollback that frees the connection
    while the body streams in (it undid only reads), then the view's taxonomy: the revision
    the request read first still stands, and was read again for nothing (about 60 us of
    every report's POST)."""
    start = visitor.start()
    with statements(app) as seen:
        visitor.filed(visitor.send(start, "the first report", files=[_FILE]))
        page = form(visitor.get("/account"), "/account")
        visitor.filed(visitor.send(page, "a second report", files=[_FILE]))
    reads = [s for s, params in seen if REVISION_KEY in _values(params)]
    assert len(reads) == 3, f"three requests read the settings' revision {len(reads)} times"


def _values(params: Any) -> list[object]:
    """A statement's bound values, however the dialect passes them."""
    if isinstance(params, dict):
        return list(params.values())
    return list(params or ())
