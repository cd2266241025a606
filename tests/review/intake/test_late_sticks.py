"""An export stick its carrier kept back and hands in late speaks of the server as it was.

Whoever carries the IN stick can keep a bundle and hand it in after later ones
(bundles import in any order, PROTOCOL §13.1). What the late bundle says of the
server's state then (the keyring it sealed to, the workspace key it held, the
acknowledged items it kept) is not the server's state now, which a bundle
numbered after it, imported here already, has told.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from app.db import db_session
from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from app.models import Reply
from app.services.replies import delete_own_reply
from crypto import SignedManifest, SigningKey
from crypto.binding import UnheldPrekey
from crypto.encoding import canonical_json
from crypto.exchange import ReplyManifest, read_replies, write_replies
from review import workspace as ws
from tests.app.support import install_successor, reviewer_keys
from tests.review.intake.test_acks import _rogue
from tests.review.intake.test_unheld import _gives_a_one_time_key
from tests.review.support import Server, init_on_first_keyring, review


def test_an_export_kept_back_across_a_keyring_install_names_no_rollback(
    server: Server, tmp_path: Path
) -> None:
    root = init_on_first_keyring(server, tmp_path)
    server.submit("a report before the new keyring")
    kept = server.export(tmp_path / "kept.rzb")  # the carrier keeps this stick back
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients)
    second = tmp_path / "keyring-v2.json"
    second.write_bytes(manifest_path(server.paths, 2).read_bytes())
    assert review(root, "keys", "install", str(second)).exit_code == 0
    server.submit("a report after it")
    later = review(root, "import", str(server.export(tmp_path / "later.rzb")))
    assert later.exit_code == 0, later.output
    assert "keyring in force" not in later.output

    late = review(root, "import", str(kept))
    assert late.exit_code == 0, late.output
    assert "1 new report(s)" in late.output
    rollback = [line for line in late.output.splitlines() if "keyring in force" in line]
    assert not rollback, "a bundle handed in late named a rollback: " + rollback[0][:120]


def test_an_export_kept_back_across_the_servers_first_workspace_key_names_no_missing_key(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a first report")
    first = review(workspace, "import", str(server.export(tmp_path / "first.rzb")))
    assert first.exit_code == 0, first.output
    given = re.search(r"`raazdar set-ack-key (rz-ed25519-public:[^`]+)`", first.output)
    assert given, first.output
    server.submit("a report before the key")
    kept = server.export(tmp_path / "kept.rzb")  # the carrier keeps this stick back
    result = CliRunner().invoke(
        main, ["--instance", str(server.instance), "set-ack-key", given.group(1)]
    )
    assert result.exit_code == 0, result.output
    server.submit("a report after it")
    later = review(workspace, "import", str(server.export(tmp_path / "later.rzb")))
    assert later.exit_code == 0, later.output
    assert "workspace key" not in later.output

    late = review(workspace, "import", str(kept))
    assert late.exit_code == 0, late.output
    missing = [line for line in late.output.splitlines() if "workspace key" in line]
    assert not missing, "a bundle handed in late named the server's key: " + missing[0][:120]


def _held_unsealed(server: Server, workspace: Path, tmp_path: Path) -> str:
    """Acknowledge report 1's item here in a bundle the server holds, not deletes: the
    workstation's bundle as written before the seal (unsealed), its acknowledgements kept."""
    out = tmp_path / "r1.rzr"
    result = review(workspace, "export-replies", "--out", str(out))
    assert result.exit_code == 0, result.output
    signer = reviewer_keys(server.instance).signing
    assert signer is not None
    with out.open("rb") as src:
        _, sealed = read_replies(src, [signer.verify_key], server.instance_id)
    assert sealed.acks, "the workstation's bundle acknowledged nothing"
    before_seal = ReplyManifest(
        sealed.bundle_id, server.instance_id, sealed.created, sealed.acks, (), ()
    )
    unsealed = tmp_path / "r1-unsealed.rzr"
    with unsealed.open("wb") as dst:
        write_replies(dst, before_seal, [], signer)
    applied = server.apply(unsealed)
    assert (applied.deleted, applied.held) == (0, 1), applied
    return sealed.acks[0]


def test_an_export_kept_back_names_no_item_this_workspace_acknowledged_as_anothers(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The ASI warns the agents before each raid.")
    first = review(workspace, "import", str(server.export(tmp_path / "e1.rzb")))
    assert first.exit_code == 0, first.output
    item = _held_unsealed(server, workspace, tmp_path)
    server.submit("a report before the stick was kept back")
    kept = server.export(tmp_path / "kept.rzb")  # the carrier keeps this stick back
    server.submit("a report after it")
    later = review(workspace, "import", str(server.export(tmp_path / "later.rzb")))
    assert later.exit_code == 0, later.output
    assert "the next reply bundle acknowledges them again" in later.output
    assert "did not write acknowledged" not in later.output

    late = review(workspace, "import", str(kept))
    assert late.exit_code == 0, late.output
    alarm = [line for line in late.output.splitlines() if "did not write acknowledged" in line]
    assert not alarm, "a bundle handed in late named a false alarm: " + alarm[0][:160]
    assert item not in late.output
    # The item is still to be acknowledged again: the next bundle, sealed, deletes it.
    (tmp_path / "reply.txt").write_text("a reply")
    assert review(workspace, "reply", "2", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    out = tmp_path / "r2.rzr"
    assert review(workspace, "export-replies", "--out", str(out)).exit_code == 0
    assert server.apply(out).deleted >= 1
    after = review(workspace, "import", str(server.export(tmp_path / "after.rzb")))
    assert after.exit_code == 0, after.output
    assert "the server kept" not in after.output


def test_the_export_after_a_kept_back_stick_still_names_what_its_carrier_acknowledged(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The real alarm: the carrier signs a bundle acknowledging the stick's items (held, the
    server holding no key yet); the next export names them, whichever comes in first."""
    server.submit("The ASI warns the agents before each raid.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    server.submit("The SHO sold the girls to the agent.")
    kept = server.export(tmp_path / "kept.rzb")  # the carrier keeps this stick back
    rogue = _rogue(server, kept, tmp_path / "rogue.rzr")
    assert server.apply(tmp_path / "rogue.rzr").held == 1
    later = review(workspace, "import", str(server.export(tmp_path / "later.rzb")))
    assert later.exit_code == 0, later.output
    assert "1 item(s) a reply bundle this workspace did not write acknowledged" in later.output
    assert rogue.acks[0] in later.output
    late = review(workspace, "import", str(kept))
    assert late.exit_code == 0, late.output
    assert "did not write acknowledged" not in late.output  # said once, by the newest


def test_an_export_kept_back_still_retires_the_one_time_keys_its_source_said_are_lost(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A source's signed word that their device cannot open a reply is as true late, and
    only the kept-back stick may carry it: the statement leaves the exports with its reply."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    signer = SigningKey.generate()
    prekey = _gives_a_one_time_key(workspace, signer)
    (tmp_path / "reply.txt").write_text("Where did you see him last?")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    replies = tmp_path / "r1.rzr"
    assert review(workspace, "export-replies", "--out", str(replies)).exit_code == 0
    assert server.apply(replies).replies == 1
    with server.app.app_context():
        session = db_session()
        (reply,) = session.scalars(select(Reply)).all()
        statement = UnheldPrekey.make(prekey.public_key.fingerprint.key_id, signer)
        reply.unheld = canonical_json(statement.to_json()).decode()
        session.commit()
        source_id, reply_id = reply.source_id, reply.id
    kept = server.export(tmp_path / "kept.rzb")  # the carrier keeps this stick back
    with server.app.app_context():
        assert delete_own_reply(db_session(), source_id, reply_id)  # and its statement
    later = review(workspace, "import", str(server.export(tmp_path / "later.rzb")))
    assert later.exit_code == 0, later.output
    assert "cannot open the reply" not in later.output

    late = review(workspace, "import", str(kept))
    assert late.exit_code == 0, late.output
    assert "cannot open the reply" in late.output
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        used = u.conn.execute("SELECT used FROM reply_prekeys WHERE report = 1").fetchall()
    finally:
        u.workspace.close()
    assert used == [(1,)], "a lost one-time key named only by a late stick stays in use"
