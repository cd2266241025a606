"""The workspace schema: a workspace made by an earlier version is upgraded when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import HybridPrivateKey, PrivateKey, derive_source_keys
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.casework import notices
from review.errors import WorkspaceError
from review.workspace import head, outbox
from review.workspace.schema import LEGACY_NOTICES, SCHEMA_VERSION, UPGRADES
from tests.review.support import Server, Source, opens_with, review, snapshot

# What version 2 added to version 1, dropped here to make a version-1 workspace.
ADDED = ("escalations", "bodies", "report_entities", "routings", "conflicts", "keyrings")


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _make_version_5(workspace: Path) -> dict[str, bytes]:
    """Put each reply's envelope back in `outbox/` as it was, as version 5 kept them; return them.

    Version 5 wrote `outbox/<reply id>.rze`, sealed to the source and nothing else.
    """
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        rows = u.conn.execute("SELECT id, envelope FROM replies").fetchall()
        envelopes = {reply_id: outbox.envelope(u, name) for reply_id, name in rows}
        (workspace / "outbox").mkdir(mode=0o700)
        conn = u.conn
        conn.execute("BEGIN IMMEDIATE")
        for reply_id, name in rows:
            (workspace / "outbox" / f"{reply_id}.rze").write_bytes(envelopes[reply_id])
            conn.execute("DELETE FROM blob_data WHERE name = ?", (name,))
            conn.execute(
                "UPDATE replies SET envelope = ? WHERE id = ?", (f"{reply_id}.rze", reply_id)
            )
        # The tool that kept the outbox wrote these rows: its head's tag covers them.
        head.put(conn, u.key)
        conn.execute("ALTER TABLE sources DROP COLUMN disputed")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema'")
        conn.execute("COMMIT")
    finally:
        u.workspace.close()
    return envelopes


def _make_version_4(path: Path) -> None:
    """Drop what version 5 added: the table of sources' one-time reply prekeys."""
    _make_version_5(path.parent)
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


def _key(root: Path) -> WorkspaceKey:
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    u.workspace.close()
    return u.key


def _tagged_as_of_then(root: Path, key: WorkspaceKey) -> None:
    """Tag the head over the disk as upgraded (opened: the clear notices set aside).

    A workspace of version 1 or 2 held a tag of its own form, which covered no notice and
    which the first unlock replaces; one made from today's, its notices rewritten in the
    clear, holds today's tag over the sealed ones it had, which no unlock takes.
    """
    ws.Workspace.open(root).close()
    conn = sqlite3.connect(root / ws.DB_NAME, isolation_level=None)
    try:
        head.put(conn, key)
    finally:
        conn.close()


def test_a_version_1_workspace_is_upgraded_when_opened(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("A report from before the upgrade.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    key = _key(workspace)
    _make_version_1(db)
    assert not set(ADDED) & _tables(db)
    _tagged_as_of_then(workspace, key)

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
    key = _key(workspace)
    ((source, status, _),) = _make_version_2(db)

    locked = ws.Workspace.open(workspace)
    assert LEGACY_NOTICES in _tables(db)  # no key yet: the clear rows wait aside
    locked.close()
    _tagged_as_of_then(workspace, key)
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert [(n.source, n.status) for n in notices.pending(u)] == [(source, status)]
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


def test_a_version_7_workspace_marks_no_source_disputed_and_still_replies(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("A report from before disputes.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    db = workspace / ws.DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE sources DROP COLUMN disputed")
    conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema'")
    conn.commit()
    conn.close()

    text = tmp_path / "reply.txt"
    text.write_text("Which district?")
    result = review(workspace, "reply", "1", "--file", str(text))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT disputed FROM sources").fetchall() == [(0,)]
    finally:
        conn.close()


def _two_replies(server: Server, workspace: Path, tmp_path: Path) -> tuple[Source, str]:
    """A source sent two replies: the first in a bundle that was lost, the second queued.

    Returns the source and the lost bundle's id.
    """
    source = server.submit("A report from before the outbox was wrapped.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    for text in ("First question: which thana?", "Second question: which night?"):
        (tmp_path / "reply.txt").write_text(text)
        assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
        if text.startswith("First"):
            lost = tmp_path / "lost.rzr"
            exported = review(workspace, "export-replies", "--out", str(lost))
            assert exported.exit_code == 0, exported.output
            lost.unlink()
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    (bundle_id,) = conn.execute("SELECT id FROM reply_bundles").fetchone()
    conn.close()
    return source, bundle_id


def _codename_keys(server: Server, source: Source) -> list[PrivateKey | HybridPrivateKey]:
    config = server.app.config
    keys = derive_source_keys(source.codename, config["CODENAME_SALT"], config["CODENAME_KDF"])
    return [keys.private_key]


def _every_reply_reaches_the_source(
    server: Server, workspace: Path, tmp_path: Path, source: Source, lost: str
) -> None:
    """Take the lost bundle back, send both replies again: the source reads both."""
    assert review(workspace, "reply-bundle-refused", lost).exit_code == 0
    again = tmp_path / "again.rzr"
    exported = review(workspace, "export-replies", "--out", str(again))
    assert "2 reply(ies)" in exported.output, exported.output
    assert server.apply(again).replies == 2
    page = source.account_page()
    assert "First question" in page
    assert "Second question" in page


def test_a_version_5_outbox_is_wrapped_at_the_first_unlock_and_its_files_destroyed(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    source, lost = _two_replies(server, workspace, tmp_path)
    envelopes = _make_version_5(workspace)
    # A file no reply names: a reply whose writing failed, never to be sent.
    (workspace / "outbox" / "0123456789abcdef0123456789abcdef.rze").write_bytes(
        next(iter(envelopes.values()))
    )
    keys = _codename_keys(server, source)
    assert len(opens_with(workspace, keys)) == 3  # the attack, on what version 5 left

    locked = ws.Workspace.open(workspace)  # upgraded, but without the key the files wait
    assert len(list((workspace / "outbox").iterdir())) == 3
    locked.close()
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        rows = u.conn.execute("SELECT id, envelope FROM replies").fetchall()
        assert {r: outbox.envelope(u, name) for r, name in rows} == envelopes
    finally:
        u.workspace.close()
    assert not (workspace / "outbox").exists()
    assert opens_with(workspace, keys) == []
    _every_reply_reaches_the_source(server, workspace, tmp_path, source, lost)


@pytest.mark.parametrize("step", ["put_inline_many", "destroy"])
def test_a_wrapping_of_the_outbox_that_fails_halfway_loses_no_reply(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A failure while wrapping changes nothing; one while destroying, after the commit, is
    finished by the next unlock."""
    source, lost = _two_replies(server, workspace, tmp_path)
    _make_version_5(workspace)
    before = snapshot(workspace / "outbox")
    original = getattr(outbox, step)
    calls = 0

    def cut(*args: object) -> None:
        nonlocal calls
        calls += 1
        if step == "put_inline_many" or calls == 2:  # the wrapping, or the second file
            raise OSError("power cut")
        original(*args)

    with monkeypatch.context() as patched:
        patched.setattr(outbox, step, cut)
        locked = ws.Workspace.open(workspace)
        with pytest.raises(OSError, match="power cut"):
            locked.unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        locked.close()
    if step == "put_inline_many":
        assert snapshot(workspace / "outbox") == before
        conn = sqlite3.connect(workspace / ws.DB_NAME)
        names = {r[0] for r in conn.execute("SELECT envelope FROM replies")}
        conn.close()
        assert names == set(before)
    else:
        assert len(list((workspace / "outbox").iterdir())) == 1  # one destroyed, one left
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    u.workspace.close()
    assert not (workspace / "outbox").exists()
    assert opens_with(workspace, _codename_keys(server, source)) == []
    _every_reply_reaches_the_source(server, workspace, tmp_path, source, lost)


def test_upgrades_are_one_step_per_version_up_to_this_one() -> None:
    assert [version for version, _step in UPGRADES] == list(range(2, SCHEMA_VERSION + 1))


def test_a_workspace_from_a_newer_version_is_refused(workspace: Path) -> None:
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="schema version"):
        ws.Workspace.open(workspace)


@pytest.mark.parametrize("put_back", [1, 2, 5, 7])
def test_an_older_schema_number_put_back_on_a_newer_workspace_is_named_as_altered(
    workspace: Path, put_back: int
) -> None:
    """Someone with write access writes an older version number: the upgrade steps meet the
    tables they would add. The reviewer must be told so, not to free disk space, and nothing
    may change."""
    before = snapshot(workspace)
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(put_back),))
    conn.commit()
    conn.close()
    shown = review(workspace, "list")
    assert shown.exit_code == 1, shown.output
    assert "Traceback" not in shown.output
    assert f"says schema version {put_back}, but its tables are of a later one" in shown.output
    assert "free space" not in shown.output
    conn = sqlite3.connect(workspace / ws.DB_NAME)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
    conn.commit()
    conn.close()
    assert snapshot(workspace).keys() == before.keys()
    assert review(workspace, "list").exit_code == 0
