"""The server's audit log seen from the workstation: a rewrite between two exports is named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

import app.operations.exchange as server_exchange
from app.cli import main
from app.db import db_session
from app.models import AuditEntry, AuditHead
from app.services import audit
from crypto import GENESIS
from crypto.encoding import b64encode
from crypto.exchange import ExportManifest
from review import workspace as ws
from tests.review.support import Server, review

WARNING = "the server's audit log was rewritten"
RESTORED = "the server's audit log went back with a restore"


def _act(server: Server, actor: str, times: int = 1) -> None:
    """Staff act on the server: each action is an audit entry."""
    with server.app.app_context():
        session = db_session()
        for _ in range(times):
            audit.record(session, actor, "staff-2fa-reset", username="clerk")
        session.commit()


def _rewrite_without(server: Server, actor: str) -> None:
    """Delete `actor`'s entries and write the chain again from its start, as a seizer can."""
    with server.app.app_context():
        session = db_session()
        kept = [
            (e.actor, e.action, json.loads(e.detail))
            for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
            if e.actor != actor
        ]
        session.execute(delete(AuditEntry))
        session.execute(update(AuditHead).values(seq=0, link=GENESIS))
        for who, action, detail in kept:
            audit.record(session, who, action, **detail)
        session.commit()
        assert audit.verify(session).ok


def _import(workspace: Path, bundle: Path) -> str:
    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    return result.output


def _rewrite_after_the_first_bundle(server: Server, workspace: Path, tmp_path: Path) -> None:
    """Bundle 1 is imported with mallory's entries in the log; then the log is rewritten
    without them, and goes on."""
    _act(server, "mallory", 2)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    _rewrite_without(server, "mallory")
    _act(server, "honest", 5)
    server.submit("another report")


def test_entries_deleted_and_the_chain_recomputed_between_two_exports_are_named(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _act(server, "honest", 2)
    _act(server, "mallory", 3)
    server.submit("a report")
    assert WARNING not in _import(workspace, server.export(tmp_path / "e1.rzb"))
    _rewrite_without(server, "mallory")
    _act(server, "honest", 4)  # the count grows past the old one: only the links tell
    server.submit("another report")
    output = _import(workspace, server.export(tmp_path / "e2.rzb"))
    assert WARNING in output, output


def test_an_audit_log_cut_shorter_than_the_last_export_saw_is_named(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _act(server, "mallory", 3)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    _rewrite_without(server, "mallory")
    server.submit("another report")
    output = _import(workspace, server.export(tmp_path / "e2.rzb"))
    assert WARNING in output, output


def test_an_audit_log_that_only_grew_between_exports_warns_of_nothing(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _act(server, "honest", 2)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    _act(server, "honest", 3)
    server.submit("another report")
    assert WARNING not in _import(workspace, server.export(tmp_path / "e2.rzb"))


def test_a_rewrite_is_named_whichever_of_the_two_bundles_comes_first(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _act(server, "mallory", 2)
    server.submit("a report")
    first = server.export(tmp_path / "e1.rzb")
    _rewrite_without(server, "mallory")
    _act(server, "honest", 5)
    server.submit("another report")
    assert WARNING not in _import(workspace, server.export(tmp_path / "e2.rzb"))
    assert WARNING in _import(workspace, first)


def test_a_rewrite_stays_named_at_each_list(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _rewrite_after_the_first_bundle(server, workspace, tmp_path)
    _import(workspace, server.export(tmp_path / "e2.rzb"))
    result = review(workspace, "list")
    assert result.exit_code == 0, result.output
    assert "the first 2 audit entries bundle 1 saw are not the first 2 of bundle 2" in (
        result.output
    )


def test_a_rewrite_behind_a_lost_bundle_is_named_once_it_arrives(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _rewrite_after_the_first_bundle(server, workspace, tmp_path)
    lost = server.export(tmp_path / "e2.rzb")
    server.submit("a third report")
    # Bundles 1 and 3 alone: the log grew, and nothing links 3's log to 1's.
    assert WARNING not in _import(workspace, server.export(tmp_path / "e3.rzb"))
    assert WARNING in _import(workspace, lost)


def test_a_bundle_from_before_audit_heads_warns_of_nothing(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_audit(**fields: Any) -> ExportManifest:
        return ExportManifest(
            **(
                fields
                | {"audit": None, "notice_counts": None, "unheld": None, "acks": None}
                | {"restore": None, "keyring_digest": None}
            )
        )

    _act(server, "honest", 2)
    server.submit("a report")
    with monkeypatch.context() as patch:
        patch.setattr(server_exchange, "ExportManifest", without_audit)
        old = server.export(tmp_path / "e1.rzb")
    assert WARNING not in _import(workspace, old)
    _act(server, "honest", 2)
    server.submit("another report")
    assert WARNING not in _import(workspace, server.export(tmp_path / "e2.rzb"))


UNCHECKED = "the server's audit log is unchecked between bundles 1 and 3"


def test_a_rewrite_behind_a_bundle_kept_back_and_a_resend_is_not_passed_over_in_silence(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # Whoever holds the database removes their entries, exports once and keeps
    # that stick back, then exports again with --resend: the resend fills the gap,
    # so no bundle is reported missing, and nothing links bundle 3's log to 1's.
    _rewrite_after_the_first_bundle(server, workspace, tmp_path)
    server.export(tmp_path / "kept-back.rzb")
    output = _import(workspace, server.export(tmp_path / "e3.rzb", resend=True))
    assert "is missing" not in output, output
    assert UNCHECKED in output, output
    listed = review(workspace, "list")
    assert listed.exit_code == 0, listed.output
    assert UNCHECKED in listed.output, listed.output


def test_an_unchecked_span_is_no_longer_named_once_its_bundle_arrives(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    _act(server, "honest", 2)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    server.submit("another report")
    late = server.export(tmp_path / "e2.rzb")
    server.submit("a third report")
    assert UNCHECKED in _import(workspace, server.export(tmp_path / "e3.rzb"))
    output = _import(workspace, late)
    assert "audit log is unchecked" not in output, output
    assert WARNING not in output, output


def test_the_workstations_record_of_a_bundle_edited_to_match_a_rewritten_log_is_refused(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Whoever holds the server and the workstation for a night rewrites the server's log and
    writes, in the workspace's record of bundle 1 (in the clear), the head the rewritten log
    has at that length: the next bundle linked to it, and the rewrite went unnamed."""
    _rewrite_after_the_first_bundle(server, workspace, tmp_path)
    db = sqlite3.connect(workspace / ws.DB_NAME, isolation_level=None)
    try:
        key, value = db.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'export-chain:%'"
        ).fetchone()
        record = json.loads(value)
        with server.app.app_context():
            forged = audit.proof(db_session(), record["audit"]["entries"])
        record["audit"]["head"] = b64encode(forged.link)
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(record), key))
    finally:
        db.close()
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 1, f"the rewrite went unnamed: {result.output}"
    assert "the export bundles it records" in result.output, result.output
    assert "Traceback" not in result.output


def _resume(server: Server, workspace: Path, tmp_path: Path) -> str:
    """Import the first export after a restore the way the fork's hint says; its output."""
    forked = review(workspace, "import", str(server.export(tmp_path / "forked.rzb")))
    assert forked.exit_code == 1, forked.output
    resume = forked.output.split("--resume-chain ")[1].split()[0]
    out = tmp_path / "resumed.rzb"
    command = ["--instance", str(server.instance), "export", "--resume-chain", resume]
    exported = CliRunner().invoke(main, [*command, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    return _import(workspace, out)


def test_the_first_import_after_a_restore_says_the_audit_log_went_back_with_the_backup(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The administrators put the server back from last night's backup and resume the chain:
    the staff actions logged since the backup are gone from its log, which is true and
    expected; the warning must say that this is what a restore does, and how far back."""
    _act(server, "honest", 2)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    server.backup(tmp_path / "backup")
    _act(server, "honest", 3)
    server.submit("another report")
    _import(workspace, server.export(tmp_path / "e2.rzb"))
    server.restore(tmp_path / "backup")
    server.finish_restore()
    server.submit("a report after the restore")
    output = _resume(server, workspace, tmp_path)
    assert WARNING not in output, (
        "the import after a resumed chain says the audit log was rewritten, and not that "
        f"the restore took it back: {output}"
    )
    assert RESTORED in output, output
    assert "bundle 3 resumed the chain after bundle 2" in output, output
    assert "back at bundle 1's 2 entries" in output, output
    listed = review(workspace, "list")
    assert RESTORED in listed.output, listed.output


def test_a_log_rewritten_behind_a_resumed_chain_is_still_named_a_rewrite(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A resume whose log matches no bundle seen here was not only put back: the rewrite
    warning stands, whatever the administrators say of a restore."""
    _act(server, "mallory", 2)
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    server.backup(tmp_path / "backup")
    server.submit("another report")
    _import(workspace, server.export(tmp_path / "e2.rzb"))
    server.restore(tmp_path / "backup")
    server.finish_restore()
    _rewrite_without(server, "mallory")
    _act(server, "honest", 4)
    output = _resume(server, workspace, tmp_path)
    assert WARNING in output, output
    assert RESTORED not in output, output
