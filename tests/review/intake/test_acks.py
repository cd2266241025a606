"""Acknowledgements delete on the server only under the workspace's own seal.

A colleague about to be revoked takes an export stick before it is imported and
signs, with their own key file (a key of the keyring in force), a reply bundle
acknowledging its items. Before reply format 4 the server deleted the reports
unseen, and the resend that filled the gap held nothing; before format 5 its
replies, notices and voids were applied, whatever key the server held.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.demo import DEMO_PASSPHRASE
from crypto import SigningKey, VerificationError
from crypto.bundle import BundleReader
from crypto.exchange import ReplyManifest, new_bundle_id, read_export, write_replies
from review import workspace as ws
from review.keys.rewrap import rewrap
from tests.app.support import reviewer_keys
from tests.review.support import Server, review


def _answer(workspace: Path, tmp_path: Path, name: str, num: int = 1) -> Path:
    """Reply to report `num` and write the reply bundle, as the reviewers do."""
    (tmp_path / "reply.txt").write_text(f"reply {name}")
    result = review(workspace, "reply", str(num), "--file", str(tmp_path / "reply.txt"))
    assert result.exit_code == 0, result.output
    out = tmp_path / f"{name}.rzr"
    result = review(workspace, "export-replies", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _rogue(server: Server, stick: Path, out: Path) -> ReplyManifest:
    """A bundle a colleague signs with their own key file, acknowledging a stick's items."""
    signer = reviewer_keys(server.instance).signing
    assert signer is not None
    key = SigningKey.from_text(server.paths.signing_key.read_text()).verify_key
    with stick.open("rb") as src:
        _, taken = read_export(src, [key], server.instance_id)
    rogue = ReplyManifest(
        new_bundle_id(),
        server.instance_id,
        dt.date.today(),
        tuple(e.id for e in taken.entries),
        (),
        (),
    )
    with out.open("wb") as dst:
        write_replies(dst, rogue, [], signer)
    return rogue


def _refusal(server: Server, bundle: Path) -> str:
    """The rule the server refused a bundle by, or what it posted."""
    try:
        applied = server.apply(bundle)
    except VerificationError as exc:
        return exc.rule
    return f"{applied.replies} reply(ies) posted a second time"


def test_a_reply_bundle_signed_outside_this_workspace_is_refused_whole_once_the_key_is_held(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The ASI warns the agents before each raid.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    # The workstation's first bundle gives the server the workspace's acknowledgement key.
    assert server.apply(_answer(workspace, tmp_path, "r1")).deleted == 1
    server.submit("The SHO sold the girls to the agent.")
    stick = server.export(tmp_path / "e2.rzb")  # taken by the colleague, never imported
    _rogue(server, stick, tmp_path / "rogue.rzr")
    with pytest.raises(VerificationError, match="unsealed"):
        server.apply(tmp_path / "rogue.rzr")
    resend = server.export(tmp_path / "e3.rzb", resend=True)  # the gap the stick left
    result = review(workspace, "import", str(resend))
    assert result.exit_code == 0, result.output
    assert "1 new report(s)" in result.output
    assert "did not write acknowledged" not in result.output
    assert server.apply(_answer(workspace, tmp_path, "r2", 2)).deleted == 1


def test_before_the_server_holds_a_key_an_unsealed_bundle_deletes_nothing_and_is_named(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The ASI warns the agents before each raid.")
    result = review(workspace, "import", str(server.export(tmp_path / "e1.rzb")))
    assert result.exit_code == 0, result.output
    # Just after the upgrade: the workstation names the key to give the server.
    assert "the server holds no workspace key yet" in result.output
    assert "`raazdar set-ack-key rz-ed25519-public:" in result.output
    server.submit("The SHO sold the girls to the agent.")
    stick = server.export(tmp_path / "e2.rzb")  # taken by the colleague, never imported
    rogue = _rogue(server, stick, tmp_path / "rogue.rzr")
    applied = server.apply(tmp_path / "rogue.rzr")
    assert (applied.deleted, applied.held) == (0, 1), (
        f"a reply bundle signed with a reviewer's key outside the workspace deleted "
        f"{applied.deleted} report(s) nobody imported"
    )
    result = review(workspace, "import", str(server.export(tmp_path / "e3.rzb")))
    assert result.exit_code == 0, result.output
    assert "1 new report(s)" in result.output
    assert rogue.bundle_id in result.output  # the receipt of a bundle never written here
    assert (
        "the server kept 1 item(s) a reply bundle this workspace did not write acknowledged"
        in result.output
    )
    assert rogue.acks[0] in result.output
    # The workstation's own bundle, sealed, acknowledges it and deletes it.
    assert server.apply(_answer(workspace, tmp_path, "r2", 2)).deleted == 2
    result = review(workspace, "import", str(server.export(tmp_path / "e4.rzb")))
    assert "the server holds no workspace key yet" not in result.output


def _set_ack_key(server: Server, key: str) -> str:
    ran = CliRunner().invoke(main, ["--instance", str(server.instance), "set-ack-key", key])
    assert ran.exit_code == 0, ran.output
    return ran.output


def test_a_server_holding_another_workspace_key_refuses_its_bundles_until_it_is_given_this_one(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """What a workspace started again (or put back from a copy older than a rewrap) meets."""
    server.submit("A report filed before the server's key changed.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    assert server.apply(_answer(workspace, tmp_path, "r1")).deleted == 1
    _set_ack_key(server, SigningKey.generate().verify_key.to_text())
    server.submit("A report filed after.")
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "the server applies only what workspace key" in result.output
    command = result.output.split("`raazdar set-ack-key ", 1)[1].split("`", 1)[0]
    bundle = _answer(workspace, tmp_path, "r2", 2)
    with pytest.raises(VerificationError, match="ack-key"):
        server.apply(bundle)  # refused whole: nothing lost, nothing recorded
    assert "now delete only under the seal of" in _set_ack_key(server, command)
    assert server.apply(bundle).deleted == 1  # the same bundle, handed in again
    result = review(workspace, "import", str(server.export(tmp_path / "e3.rzb")))
    assert result.exit_code == 0, result.output
    assert "the server applies only what workspace key" not in result.output


def test_a_rewrapped_workspace_names_its_new_key_to_give_the_server(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A real server takes no handover (a copied earlier key signs one as well): the
    import names the key the administrators give; a demonstration follows by itself."""
    server.submit("A report filed before the rewrap.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    assert server.apply(_answer(workspace, tmp_path, "r1")).deleted == 1
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    before = u.key.ack_key().verify_key
    u, summary = rewrap(u)
    assert u.key.ack_key().verify_key == summary.ack_key != before
    u.workspace.close()
    server.submit("A report filed after.")
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "the server still holds this workspace's key from before a rewrap" in result.output
    assert f"`raazdar set-ack-key {summary.ack_key.to_text()}`" in result.output
    assert server.apply(_answer(workspace, tmp_path, "r2", 2)).deleted == 1
    result = review(workspace, "import", str(server.export(tmp_path / "e3.rzb")))
    assert "the server applies only what workspace key" not in result.output


def test_after_a_restore_no_bundle_applied_before_it_applies_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A bundle applied after the backup was made, handed in again after the restore.

    The backup does not record it as applied: before reply format 6 its replies
    were posted a second time (PROTOCOL §13.9). A colleague's bundle is refused too.
    """
    server.submit("A report filed before the backup.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    assert server.apply(_answer(workspace, tmp_path, "r1")).deleted == 1  # the key is held
    server.backup(tmp_path / "backup")
    sealed = _answer(workspace, tmp_path, "r2", 1)
    assert server.apply(sealed).replies == 1
    server.restore(tmp_path / "backup")
    server.finish_restore()
    # The backup holds the key: a colleague's bundle is still refused whole.
    server.submit("A report filed after the restore.")
    stick = server.export(tmp_path / "e2.rzb")
    _rogue(server, stick, tmp_path / "rogue.rzr")
    with pytest.raises(VerificationError, match="unsealed"):
        server.apply(tmp_path / "rogue.rzr")
    # The carrier hands in again the workstation's bundle the restore forgot.
    again = _refusal(server, sealed)
    assert again == "restored", (
        f"a sealed bundle applied before a restore applied again after it: {again}"
    )
    # The workstation learns of the restore from the next export; what it sends then applies.
    result = review(workspace, "import", str(stick))
    assert result.exit_code == 0, result.output
    assert "put back from a backup" in result.output
    signer = reviewer_keys(server.instance).signing
    assert signer is not None
    with sealed.open("rb") as src:
        taken_back = BundleReader(src, [signer.verify_key]).manifest["bundle_id"]
    assert review(workspace, "exchange", "take-back", taken_back).exit_code == 0
    assert server.apply(_answer(workspace, tmp_path, "r3", 2)).replies >= 1


def test_a_workspace_and_a_server_both_put_back_apply_no_bundle_twice(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A seizer puts the workstation back from a copy the night the server is put back
    from its backup: neither remembers the bundle applied in between."""
    server.submit("A report filed before the backup.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    assert server.apply(_answer(workspace, tmp_path, "r1")).deleted == 1  # the key is held
    server.backup(tmp_path / "backup")
    copy = tmp_path / "copy"
    shutil.copytree(workspace, copy)
    between = _answer(workspace, tmp_path, "r2")
    assert server.apply(between).replies == 1
    server.restore(tmp_path / "backup")
    server.finish_restore()
    shutil.rmtree(workspace)
    shutil.copytree(copy, workspace)
    again = _refusal(server, between)
    assert again == "restored", f"a bundle applied between the copies applied again: {again}"
    # The copy's own next bundle names no restore: refused until it has seen one that does.
    stale = _answer(workspace, tmp_path, "r3")
    assert _refusal(server, stale) == "restored"
    server.submit("A report filed after the restore.")
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "put back from a backup" in result.output
    fresh = _answer(workspace, tmp_path, "r4", 2)
    assert server.apply(fresh).replies == 1
    assert _refusal(server, fresh) == "replay"
