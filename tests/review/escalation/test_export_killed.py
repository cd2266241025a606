"""An escalation's first export killed after any of its commits: sent with its reports, or not.

The first export marks the escalation sent and moves each report it carries to "escalated",
with the source's notice. Those moves were each a transaction of its own, after the one
that marked the escalation sent: a kill (SIGKILL, a power cut, a full disk) between them
left an escalation sent whose reports stayed "in-review", their sources never told, and no
later export moved them, since only the first one does.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.demo import DEMO_PASSPHRASE
from review import escalation
from review import workspace as ws
from review.casework import triage
from tests.review.escalation.test_escalation import Case, _escalate, case

__all__ = ["case"]  # the fixture, used by name


class _Killed(BaseException):
    """The process dies here: no `except Exception`, no later line of the command runs."""


class _DiesAfterCommits:
    """A workspace connection whose process is killed just after its `commits`-th COMMIT."""

    def __init__(self, conn: sqlite3.Connection, commits: int) -> None:
        self._conn = conn
        self._left = commits

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if sql.strip().upper().startswith("COMMIT"):
            self._left -= 1
            if self._left == 0:
                raise _Killed
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _unlock(path: Path) -> ws.Unlocked:
    return ws.Workspace.open(path).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)


def test_an_escalation_export_killed_after_any_commit_is_sent_with_every_report_escalated_or_not_sent(  # noqa: E501
    case: Case, tmp_path: Path
) -> None:
    _escalate(case)  # ready, not yet sent
    reports = (case.english, case.urdu)
    for commits in range(1, 20):
        copy = tmp_path / f"killed-{commits}"
        shutil.copytree(case.workspace, copy)
        out = tmp_path / f"packet-{commits}.rzp"
        u = _unlock(copy)
        u.workspace.conn = _DiesAfterCommits(u.workspace.conn, commits)  # type: ignore[assignment]
        try:
            escalation.export(u, 1, out)
            finished = True
        except _Killed:
            finished = False
        finally:
            u.workspace.conn._conn.close()  # type: ignore[attr-defined]
        after = _unlock(copy)
        try:
            state = escalation.load(after, 1).record.state
            statuses = {num: triage.load_state(after, num).status for num in reports}
            if state == "sent":
                assert set(statuses.values()) == {"escalated"}, (
                    f"killed after commit {commits}: escalation sent, reports {statuses}"
                )
            else:
                assert set(statuses.values()) == {"in-review"}, (
                    f"killed after commit {commits}: escalation {state}, reports {statuses}"
                )
                escalation.export(after, 1, tmp_path / f"again-{commits}.rzp")  # the next try
                again = {triage.load_state(after, num).status for num in reports}
                assert again == {"escalated"}, f"sent again, reports {again}"
        finally:
            after.workspace.close()
        if finished:
            break
    else:
        raise AssertionError("the export never finished")


class _FullAtCommit:
    """A workspace connection on a disk that fills as the export's transaction commits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._full = True

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self._full and sql.strip().upper().startswith("COMMIT"):
            self._full = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_an_escalation_export_whose_commit_fails_leaves_no_packet_and_the_next_try_sends_it(
    case: Case, tmp_path: Path
) -> None:
    _escalate(case)
    out = tmp_path / "packet.rzp"
    u = _unlock(case.workspace)
    try:
        u.workspace.conn = _FullAtCommit(u.workspace.conn)  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError):
            escalation.export(u, 1, out)
        assert escalation.load(u, 1).record.state == "ready"
        left = [p.name for p in tmp_path.iterdir() if p.name.startswith(("packet", ".packet"))]
        assert left == [], f"an export not recorded left {left} on the stick"
        escalation.export(u, 1, out)
        assert escalation.load(u, 1).record.state == "sent"
        assert out.is_file()
    finally:
        u.workspace.conn._conn.close()  # type: ignore[attr-defined]


def test_an_escalation_made_whose_packet_cannot_be_written_says_it_was_made_and_how_to_send_it(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `escalation new --out` made the escalation, then its export's commit was refused (another
    # raazdar-review reading): the tool said "nothing of this command was kept … run it
    # again", and run again, it made a second escalation of the same reports.
    reader = sqlite3.connect(case.workspace / "workspace.db", isolation_level=None)
    escalate, export = escalation.escalate, escalation.export

    def then_a_reader_comes(u: ws.Unlocked, *args: Any, **kwargs: Any) -> Any:
        made = escalate(u, *args, **kwargs)
        u.conn.execute("PRAGMA busy_timeout = 50")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM reports").fetchone()
        return made

    def then_it_goes(*args: Any, **kwargs: Any) -> Any:
        try:
            return export(*args, **kwargs)
        finally:
            reader.execute("COMMIT")

    monkeypatch.setattr(escalation, "escalate", then_a_reader_comes)
    monkeypatch.setattr(escalation, "export", then_it_goes)
    out = tmp_path / "packet.rzp"
    try:
        with pytest.raises(AssertionError) as failed:
            _escalate(case, out=out)
    finally:
        reader.close()
    said = str(failed.value)
    assert "nothing of this command was kept" not in said, said
    assert "escalation export 1 --out" in said, said
    monkeypatch.undo()
    u = _unlock(case.workspace)
    try:
        assert [e.id for e in escalation.list_escalations(u)] == [1]
        escalation.export(u, 1, out)
        assert escalation.load(u, 1).record.state == "sent"
    finally:
        u.workspace.close()
