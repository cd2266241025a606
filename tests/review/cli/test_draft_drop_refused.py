"""A command that succeeded says so, though the draft it started from cannot be removed.

A command that takes up a draft a locked command left (`review.cli.idle`) removes it
once it has succeeded, in a write of its own. That write refused (another process reading
the workspace past the wait, a full disk), the command said "the workspace's database
refused the write … nothing of this command was kept … run it again", while its note or
reply was saved: run again, the source got the reply twice, the report the note twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework import triage
from review.workspace import drafts
from tests.editor import stub_editor
from tests.review.support import Server, review

LEFT = "The SHO's driver keeps the ledger"


def test_a_note_saved_whose_draft_cannot_be_removed_is_said_saved_and_is_saved_once(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.submit("the SHO of Thana Saddar takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        drafts.keep(u, {"triage:note:1": LEFT})  # as a command the idle lock ended left it
    finally:
        u.workspace.close()
    editor, _record = stub_editor(tmp_path, "vim")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    reader = sqlite3.connect(workspace / "workspace.db", isolation_level=None)
    add_note = triage.add_note

    def then_a_reader_comes(u: ws.Unlocked, *args: Any) -> None:
        add_note(u, *args)
        # Another raazdar-review reads the workspace as this one goes on to drop the draft.
        u.conn.execute("PRAGMA busy_timeout = 50")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM reports").fetchone()

    drop = drafts.drop

    def then_the_reader_goes(u: ws.Unlocked, slots: Any) -> None:
        try:
            drop(u, slots)
        finally:
            reader.execute("COMMIT")

    monkeypatch.setattr(triage, "add_note", then_a_reader_comes)
    monkeypatch.setattr(drafts, "drop", then_the_reader_goes)
    try:
        result = review(workspace, "note", "1")
    finally:
        reader.close()
    assert "nothing of this command was kept" not in result.output, result.output
    assert result.exit_code == 0, result.output
    assert "draft" in result.output, "the draft left was not called out"
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        assert [n.text for n in triage.notes(u, 1)] == [f"{LEFT}written in the editor"]
    finally:
        u.workspace.close()
