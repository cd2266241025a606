"""A reply a restored server brought back, that its source's device says it cannot open."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.db import db_session
from app.demo import DEMO_PASSPHRASE
from app.models import Reply
from app.services.replies import delete_own_reply
from crypto import HybridPrivateKey
from crypto.binding import UnheldPrekey
from crypto.encoding import canonical_json
from crypto.keys import SigningKey
from review import workspace as ws
from review.workspace import head
from tests.review.intake.test_audit_head import _act, _import, _resume
from tests.review.support import Server, review


def _gives_a_one_time_key(workspace: Path, signer: SigningKey) -> HybridPrivateKey:
    """Report 1's source gave a one-time reply key, as raazdar-submit's report does."""
    prekey = HybridPrivateKey.generate()
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        (source,) = u.conn.execute("SELECT source FROM reports WHERE num = 1").fetchone()
        u.conn.execute(
            "INSERT INTO reply_prekeys (source, report, signer, key) VALUES (?, 1, ?, ?)",
            (source, signer.verify_key.to_text(), prekey.public_key.to_text()),
        )
        head.put(u.conn, u.key)  # as the importer does: the prekeys are under the head's tag
    finally:
        u.workspace.close()
    return prekey


def test_a_reply_the_restore_brought_back_after_its_source_deleted_it_is_not_asked_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The source reads the reviewers' reply and deletes it; their device forgets its key.
    The server is then put back from the backup made before: the reply is back on it, the
    device cannot open it and says so, signed. The workstation told the reviewers that the
    reply "will never be read" and to "write it again": a reply the source chose not to keep,
    sent again (sealed to their codename's key if no one-time key is left, which whoever
    forces the codename out of them reads)."""
    server.submit("a report")
    _import(workspace, server.export(tmp_path / "e1.rzb"))
    signer = SigningKey.generate()
    prekey = _gives_a_one_time_key(workspace, signer)
    (tmp_path / "reply.txt").write_text("Where did you see him last?")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    replies = tmp_path / "r1.rzr"
    assert review(workspace, "export-replies", "--out", str(replies)).exit_code == 0
    assert server.apply(replies).replies == 1
    _import(workspace, server.export(tmp_path / "e2.rzb"))  # confirms the reply bundle
    server.backup(tmp_path / "backup")
    _act(server, "honest", 2)
    with server.app.app_context():
        session = db_session()
        (reply,) = session.scalars(select(Reply)).all()
        source_id = reply.source_id
        assert delete_own_reply(session, source_id, reply.id)  # read, then deleted
    _import(workspace, server.export(tmp_path / "e3.rzb"))
    server.restore(tmp_path / "backup")
    _resume(server, workspace, tmp_path)
    with server.app.app_context():
        session = db_session()
        (back,) = session.scalars(select(Reply)).all()  # the restore brought it back
        statement = UnheldPrekey.make(prekey.public_key.fingerprint.key_id, signer)
        back.unheld = canonical_json(statement.to_json()).decode()
        session.commit()
    output = _import(workspace, server.export(tmp_path / "e4.rzb"))
    assert "cannot open the reply" in output, output
    assert "If it still matters, write it again" not in output, (
        "a reply the restore brought back after its source deleted it is asked to be written "
        f"again: {output}"
    )
    assert "put back from a backup" in output, output
    assert "deleted it" in output, output
