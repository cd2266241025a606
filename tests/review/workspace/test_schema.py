"""The workspace schema: a workspace made by an earlier version is upgraded when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework import notices
from review.errors import WorkspaceError
from review.workspace.schema import LEGACY_NOTICES, SCHEMA_VERSION, UPGRADES
from tests.review.support import Server, review

# What version 2 added to version 1, dropped here to make a version-1 workspace.
ADDED = ("escalations", "bodies", "report_entities", "routings", "conflicts", "keyrings")


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _make_version_4(path: Path) -> None:
    """Drop what version 5 added: the table of sources' one-time reply prekeys."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE reply_prekeys")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    conn.commit()
    conn.close()


def _make_version_3(path: Path) -> None:
    """Drop what version 4 added: the table of reviewers' decisions on links."""
    _make_version_4(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE link_decisions")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    conn.commit()
    conn.close()


def _make_version_2(path: Path) -> list[tuple[str, str, None]]:
    """Put the notices back in the clear, as version 2 kept them; return them."""
    _make_version_3(path)
    conn = sqlite3.connect(path)
    sources = [r[0] for r in conn.execute("SELECT designation FROM sources ORDER BY designation")]
    conn.execute("DROP TABLE notices")
    conn.execute(
        "CREATE TABLE notices (source TEXT PRIMARY KEY REFERENCES sources(designation),"
        " status TEXT NOT NULL, exported_in TEXT)"
    )
    rows = [(source, "received", None) for source in sources]
    conn.executemany("INSERT INTO notices VALUES (?, ?, ?)", rows)
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    return rows


def _make_version_1(path: Path) -> None:
    _make_version_2(path)
    conn = sqlite3.connect(path)
    for table in ADDED:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE reviewers DROP COLUMN role")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.commit()
    conn.close()


def test_a_version_1_workspace_is_upgraded_when_opened(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("A report from before the upgrade.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    _make_version_1(db)
    assert not set(ADDED) & _tables(db)

    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert u.is_admin  # the reviewer who created it administers it
        version = u.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        assert version == str(SCHEMA_VERSION)
    finally:
        u.workspace.close()
    assert set(ADDED) <= _tables(db)
    assert "before the upgrade" in review(workspace, "show", "1").output
    assert "audit log verifies" in review(workspace, "audit", "verify").output


def test_a_version_2_workspace_has_its_clear_notices_sealed_at_the_first_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("A report from before the upgrade.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    ((source, status, _),) = _make_version_2(db)

    locked = ws.Workspace.open(workspace)
    assert LEGACY_NOTICES in _tables(db)  # no key yet: the clear rows wait aside
    locked.close()
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert notices.pending(u) == [(source, status)]
    finally:
        u.workspace.close()
    assert LEGACY_NOTICES not in _tables(db)
    conn = sqlite3.connect(db)
    (sealed,) = conn.execute("SELECT sealed FROM notices").fetchone()
    conn.close()
    assert status.encode() not in sealed
    out = review(workspace, "export-replies", "--out", str(tmp_path / "r.rzr"))
    assert "1 notice(s)" in out.output


def _upgraded_rows(db: Path, table: str) -> int:
    """How many rows `table` has, once the workspace says it is of this schema version."""
    conn = sqlite3.connect(db)
    try:
        schema = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        assert schema == (str(SCHEMA_VERSION),)
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    finally:
        conn.close()


def test_a_version_3_workspace_gets_a_table_for_link_decisions(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    for message in ("SHO Rana Tariq took the money.", "SHO Rana Tariq came again at night."):
        server.submit(message)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    _make_version_3(db)
    assert "link_decisions" not in _tables(db)

    result = review(workspace, "link-reject", "1", "2", "--kind", "person")
    assert result.exit_code == 0, result.output
    assert "link_decisions" in _tables(db)
    assert _upgraded_rows(db, "link_decisions") == 1
    assert "rana tariq" not in review(workspace, "related", "1").output
    assert "audit log verifies" in review(workspace, "audit", "verify").output


def test_a_version_4_workspace_gets_a_table_for_reply_prekeys_and_still_replies(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("A report from before prekeys.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    _make_version_4(db)
    assert "reply_prekeys" not in _tables(db)

    text = tmp_path / "reply.txt"
    text.write_text("Which district?")
    result = review(workspace, "reply", "1", "--file", str(text))
    assert result.exit_code == 0, result.output
    assert "NOT forward-secret" in result.output
    assert "reply_prekeys" in _tables(db)
    assert _upgraded_rows(db, "reply_prekeys") == 0
    assert "audit log verifies" in review(workspace, "audit", "verify").output


def test_upgrades_are_one_step_per_version_up_to_this_one() -> None:
    assert [version for version, _step in UPGRADES] == list(range(2, SCHEMA_VERSION + 1))


def test_a_workspace_from_a_newer_version_is_refused(workspace: Path) -> None:
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="schema version"):
        ws.Workspace.open(workspace)
