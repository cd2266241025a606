"""A write whose COMMIT fails is rolled back whole, and the next write works.

SQLite leaves a transaction open when its COMMIT fails busy: another process reading the
workspace (the terminal UI open beside a command) holds the lock a commit needs for longer
than the wait. The transaction was left open: the reviewer's change stayed visible in the
open session as if it were saved, each later save failed ("cannot start a transaction
within a transaction"), and all of them were lost as the tool closed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from review import workspace as ws
from review.casework import triage
from review.intake.importer import import_bundle
from review.workspace import schema
from review.workspace.erase import destroy
from tests.review.support import Server


def test_a_status_change_whose_commit_is_refused_is_undone_and_the_next_one_is_saved(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The SHO at Chak 41 took money to let the agent go.")
    import_bundle(unlocked, server.export(tmp_path / "e.rzb"))
    # A short wait for the lock, so that the busy reader refuses the commit quickly.
    unlocked.conn.execute("PRAGMA busy_timeout = 50")
    reader = sqlite3.connect(workspace / "workspace.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM reports").fetchone()  # holds its read lock
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            triage.set_status(unlocked, 1, "in-review")
        assert not unlocked.conn.in_transaction, "the refused change was left open"
        assert triage.load_state(unlocked, 1).status == "new", "an unsaved change reads as saved"
        reader.execute("COMMIT")
    finally:
        reader.close()
    triage.set_status(unlocked, 1, "in-review")
    assert triage.load_state(unlocked, 1).status == "in-review"
    unlocked.workspace.close()
    again = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: "demo")
    try:
        assert triage.load_state(again, 1).status == "in-review"
    finally:
        again.workspace.close()


def test_a_change_saved_as_a_reader_comes_is_said_saved_and_leaves_no_transaction_open(
    server: Server,
    unlocked: ws.Unlocked,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.submit("The SHO at Chak 41 took money to let the agent go.")
    import_bundle(unlocked, server.export(tmp_path / "e.rzb"))
    unlocked.conn.execute("PRAGMA busy_timeout = 50")
    reader = sqlite3.connect(workspace / "workspace.db", isolation_level=None)

    def reader_comes(path: Path) -> None:
        # The change is committed; the scrub of its journal holds the write lock as it works.
        destroy(path)
        if not reader.in_transaction:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM reports").fetchone()

    monkeypatch.setattr(schema, "destroy", reader_comes)
    try:
        triage.set_status(unlocked, 1, "in-review")
        assert not unlocked.conn.in_transaction, "the scrub's transaction was left open"
        reader.execute("COMMIT")
    finally:
        reader.close()
    monkeypatch.undo()
    triage.set_status(unlocked, 1, "corroborated")
    assert triage.load_state(unlocked, 1).status == "corroborated"
