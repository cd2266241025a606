"""The head's tag reads again only the tables an action wrote (`review.workspace.head._Kept`).

Every audit entry tags the head, and the tag covers every table a reviewer's work is in:
read whole at each entry, at 10,000 reports it took a quarter of a second, most of it the
entities' records that only an import writes. So a connection keeps what it read of each
table, and reads again what it wrote since. What must never happen is a tag made from a
digest the table no longer has: the next unlock would then call the reviewer's own work an
alteration of the disk. These tests run with the check off (`VERIFY`), as the tool does,
and unlock again to see the tag is the disk's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review.casework import triage
from review.workspace import head
from review.workspace.schema import transaction
from tests.review.support import Server, on_the_disk
from tests.review.workspace.test_tampered_rows import _unlock
from tests.review.workspace.test_tampered_state import _two_reports, _unlocked

# What a report's import writes, and no action of the casework: most of what the tag reads.
UNWRITTEN = {"report_entities", "items", "envelopes", "reply_prekeys"}


@pytest.fixture(autouse=True)
def _as_the_tool_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(head, "VERIFY", False)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries each tag reads a table with, as they are run."""
    seen: list[str] = []
    for name in ("_fields", "_raw", "_lines"):
        read = getattr(head, name)

        def counted(conn: object, query: str, *args: object, _read: object = read) -> str:
            seen.append(query)
            return _read(conn, query, *args)  # type: ignore[operator, no-any-return]

        monkeypatch.setattr(head, name, counted)
    return seen


def _tables(queries: list[str]) -> set[str]:
    """The tables read, but `meta`: its few rows the tag reads whole each time."""
    return {q.split(" FROM ", 1)[1].split()[0] for q in queries} - {"meta"}


def test_an_audit_entry_reads_again_only_the_tables_its_action_wrote(
    server: Server, workspace: Path, tmp_path: Path, reads: list[str]
) -> None:
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:
        unlocked = _tables(reads)
        assert {"report_entities", "search_segments", "items"} <= unlocked, unlocked
        reads.clear()
        triage.set_status(u, 1, "in-review")
        assert "reports" in _tables(reads)
        assert not _tables(reads) & UNWRITTEN, "a change of state read the largest tables again"
        reads.clear()
        triage.add_note(u, 1, "Called the number in the report: no answer.")
        # A note is found by search too: its words go into the index.
        assert _tables(reads) == {"notes", "search_segments"}, "a note read other tables again"
    with _unlocked(workspace) as u:
        assert triage.load_state(u, 1).status == "in-review"


def test_a_write_rolled_back_leaves_no_digest_of_it_behind(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A write read for a tag, then rolled back: the next tag must read the table as it is."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:

        def failing() -> None:
            with transaction(u.conn):
                u.conn.execute("UPDATE reports SET day = '1999-01-01'")
                head.put(u.conn, u.key)
                raise RuntimeError("the action failed after the tag")

        with pytest.raises(RuntimeError):
            failing()
        triage.set_status(u, 2, "in-review")
    with _unlocked(workspace) as u:  # refused if the tag kept the rolled-back day
        assert triage.load_state(u, 2).status == "in-review"


def test_a_commit_by_another_process_of_the_tool_has_every_table_read_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The terminal UI open while a command runs beside it: each tags the other's rows."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as first:
        second = _unlock(workspace)
        try:
            triage.set_status(second, 1, "in-review")
        finally:
            second.workspace.close()
        triage.add_note(first, 2, "Same station as report 1.")
    with _unlocked(workspace) as u:  # refused if the first tagged report 1 as it read it
        assert triage.load_state(u, 1).status == "in-review"


def test_a_table_made_anew_on_the_connection_is_marked_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A table dropped and made again (as an upgrade of the schema does) loses its triggers."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:
        triage.add_note(u, 1, "First note.")
        (made,) = u.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchone()
        with transaction(u.conn):
            u.conn.execute("ALTER TABLE notes RENAME TO notes_before")
            u.conn.execute(made)
            u.conn.execute("INSERT INTO notes SELECT * FROM notes_before")
            u.conn.execute("DROP TABLE notes_before")
            head.put(u.conn, u.key)
        triage.add_note(u, 1, "Second note.")
    with _unlocked(workspace) as u:
        assert len(triage.notes(u, 1)) == 2


def test_a_table_altered_by_another_connection_is_still_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """What the tool kept is never taken at unlock: it reads every table from the disk."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:
        triage.set_status(u, 1, "in-review")
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM report_entities WHERE report = 2")
    with pytest.raises(Exception, match="not what this workspace's tool last wrote"):
        _unlock(workspace)
