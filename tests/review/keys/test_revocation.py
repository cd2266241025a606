"""Revoking a reviewer who will not come back: nothing they left unread holds them in service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from crypto import KeyFile
from crypto.errors import DecryptionError
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.workspace import audit
from tests.review.keys import test_keys
from tests.review.keys.test_keys import ALICE, BOB, Ceremony, _bring_in_bob, run
from tests.review.subkey_bundles import Chain, seal_report

ceremony = test_keys.ceremony


def _revoke_bob(c: Ceremony, draft: Path, *extra: str) -> str:
    result = run(
        "--as",
        "alice",
        "keys",
        "reviewer-revoke",
        "bob",
        "--draft",
        str(draft),
        *extra,
        answers=f"{ALICE}\n",
        workspace=c.workspace,
    )
    return f"{result.exit_code}\n{result.output}"


def test_an_item_only_the_revoked_reviewer_opens_does_not_keep_them_in_service(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Bob leaves (or his key leaks) and never imports again; whoever holds the server's key
    puts in an export one item sealed to Bob alone, which he alone could open."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    bob = KeyFile.from_bytes((tmp_path / "bob.key").read_bytes())
    assert bob.encryption_public is not None
    bundle = Chain(c.server, tmp_path).bundle(
        [seal_report("for bob alone", bob.encryption_public)], dt.date.today()
    )
    run("--as", "alice", "import", str(bundle), answers=f"{ALICE}\n", workspace=c.workspace)
    draft = tmp_path / "revoke-bob.json"

    held = _revoke_bob(c, draft)
    assert held.startswith("1\n"), held
    assert "sealed only to a key being retired" in held
    assert "--abandon-unread" in held
    assert not draft.exists()

    done = _revoke_bob(c, draft, "--abandon-unread")
    assert done.startswith("0\n"), done
    assert "1 item(s) that only bob's keys open are given up" in done
    assert draft.exists()
    # Bob's own copy of his key file no longer opens the workspace key.
    workspace = ws.Workspace.open(c.workspace)
    wrapped = workspace.conn.execute(
        "SELECT wrapped FROM reviewer_keys WHERE reviewer = 'bob'"
    ).fetchall()
    public = workspace.public_key
    workspace.close()
    assert public.to_text().startswith("rz-xwing-public:")  # wrapped to X-Wing keys
    for bob_key in bob.unlock(BOB).decryption_keys:
        for (blob,) in wrapped:
            try:
                WorkspaceKey.unwrap(blob, bob_key, public)
            except DecryptionError:
                continue
            raise AssertionError("Bob's key still opens the workspace key")
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    rewraps = [e.detail for e in audit.entries(u) if e.action == "rewrap"]
    u.workspace.close()
    assert rewraps[-1] is not None
    assert rewraps[-1]["abandoned"] == 1


def test_the_only_administrator_is_revoked_once_the_authorities_drop_her(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice, the workspace's only administrator, leaves or her key leaks. Only an
    administrator revoked, and nobody revokes themselves: nothing could shut her out."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    draft = tmp_path / "without-alice.json"
    drafted = run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(draft),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    assert drafted.exit_code == 0, drafted.output
    assert "- reviewer alice" in drafted.output
    # Bob alone retires nothing while the keyring in force lists her.
    assert ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE).is_admin
    c.sign(draft, 1, 2)
    installed = run("--as", "bob", "keys", "install", str(draft), answers=f"{BOB}\n",
                    workspace=c.workspace)  # fmt: skip
    assert installed.exit_code == 0, installed.output

    revoked = run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "x.json"),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert "bob now administers this workspace" in revoked.output
    locked = run("--as", "alice", "list", answers=f"{ALICE}\n", workspace=c.workspace)
    assert locked.exit_code == 1
    u = ws.Workspace.open(c.workspace).unlock("bob", lambda _label: BOB)
    assert u.is_admin
    roles = [e.detail for e in audit.entries(u) if e.action == "admin"]
    u.workspace.close()
    assert roles == [{"reviewer": "bob", "after": "alice"}]


def test_a_reviewer_alone_cannot_shut_out_one_the_keyring_lists(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    _bring_in_bob(c, tmp_path)
    before = ws.Workspace.open(c.workspace)
    wrapped = before.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall()
    before.close()
    run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "d.json"),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    after = ws.Workspace.open(c.workspace)
    assert after.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall() == wrapped
    after.close()
