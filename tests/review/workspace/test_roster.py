"""Someone with write access to the workstation's disk adds a key to those in service.

The attack: between two sessions (a seized and returned laptop, an evil maid)
the people a report accuses add a `reviewer_keys` row of their own keys, and
their key file beside the others in `keys/`. They cannot open the workspace
key, but the tool wraps it to every key in service the next time it makes a
new one: at `keys rewrap`, at a revocation, at the step to X-Wing that an
unlock takes on its own. Everything imported afterwards is theirs to read at
the next seizure. The workstation must refuse a key it did not enrol itself
before it wraps anything to it, and before it seals anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto import KdfParams, KeyFile, KeyPair
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey, public_key_from_text
from review import workspace as ws
from review.errors import WorkspaceError
from review.keys.revocation import revoke
from review.keys.rewrap import rewrap
from review.workspace import schema
from review.workspace.schema import SCHEMA_VERSION, transaction
from tests.review.support import (
    SECOND_REVIEWER_PW,
    Server,
    as_the_tool_before_x_wing,
    enrol_second_reviewer,
    init_workspace,
    on_the_disk,
    review,
)

INSERTED = "the key numbered"


def _insert_key(root: Path, reviewer: str = "auditor", role: str = "reviewer") -> KeyPair:
    """Add a key of the attacker's own to those in service, row and key file, as they do.

    Under a reviewer id of its own: a key under the acting reviewer's would be asked its
    passphrase at their unlock, and give the insertion away.
    """
    attacker = KeyPair.generate()
    assert attacker.encryption is not None
    assert attacker.signing is not None
    file = KeyFile.create(attacker, "x", kind="reviewer", label=reviewer, params=KdfParams.TESTING)
    name = f"{reviewer}-0badc0de.key"
    (root / "keys" / name).write_bytes(file.to_bytes())
    with on_the_disk(root) as conn:
        conn.execute(
            "INSERT INTO reviewers VALUES (?, 'Auditor', '2026-01-01', ?)", (reviewer, role)
        )
        conn.execute(
            "INSERT INTO reviewer_keys (reviewer, encryption_key, signing_key, key_file,"
            " wrapped) VALUES (?, ?, ?, ?, x'')",
            (
                reviewer,
                attacker.encryption.public_key.to_text(),
                attacker.signing.verify_key.to_text(),
                name,
            ),
        )
    return attacker


def _attackers_copy_opens(root: Path, attacker: KeyPair) -> bool:
    """Say whether the attacker's key opens the wrapped copy the workspace now keeps for it."""
    with on_the_disk(root) as conn:
        public = conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0]
        (wrapped,) = conn.execute(
            "SELECT wrapped FROM reviewer_keys WHERE encryption_key = ?",
            (attacker.encryption.public_key.to_text() if attacker.encryption else "",),
        ).fetchone()
    for identity in attacker.decryption_keys:
        try:
            WorkspaceKey.unwrap(wrapped, identity, public_key_from_text(public))
        except CryptoError:
            continue
        return True
    return False


def _refused(output: str) -> None:
    assert "raazdar-review: error:" in output, output
    assert INSERTED in output, output
    assert "not one this workspace's tool enrolled" in output, output
    assert "hint:" in output
    assert "Traceback" not in output


def test_a_key_inserted_on_the_disk_gets_no_copy_of_the_next_workspace_key(
    workspace: Path,
) -> None:
    attacker = _insert_key(workspace)
    rewrapped = review(workspace, "--as", "demo-reviewer", "keys", "rewrap")
    assert not _attackers_copy_opens(workspace, attacker), (
        f"the inserted key opens the new workspace key: {rewrapped.output}"
    )
    assert rewrapped.exit_code == 1
    _refused(rewrapped.output)


def test_a_reviewer_inserted_with_a_key_is_refused_at_unlock(workspace: Path) -> None:
    """Their own reviewer id, made an administrator: nothing is sealed or written."""
    _insert_key(workspace, "auditor", "admin")
    listed = review(workspace, "--as", "demo-reviewer", "list")
    assert listed.exit_code == 1, listed.output
    _refused(listed.output)


def test_a_key_inserted_before_the_step_to_x_wing_gets_no_copy_of_the_x_wing_key(
    server_format_2: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An X25519 workspace whose keys all have X-Wing halves: the next unlock re-seals it."""
    with as_the_tool_before_x_wing(monkeypatch):
        root = init_workspace(server_format_2, tmp_path / "workspace")
    attacker = _insert_key(root)
    listed = review(root, "--as", "demo-reviewer", "list")
    assert not _attackers_copy_opens(root, attacker), (
        f"the inserted key opens the X-Wing workspace key: {listed.output}"
    )
    assert listed.exit_code == 1
    _refused(listed.output)


def _drop_roster(root: Path) -> None:
    """Make the workspace look like one an older tool left: no list of keys in service."""
    with on_the_disk(root) as conn:
        conn.execute("DELETE FROM meta WHERE key LIKE 'roster%'")


def test_a_key_inserted_with_the_roster_deleted_is_refused(workspace: Path) -> None:
    """The downgrade: without a roster the workspace would look like an older tool's."""
    attacker = _insert_key(workspace)
    _drop_roster(workspace)
    rewrapped = review(workspace, "--as", "demo-reviewer", "keys", "rewrap")
    assert not _attackers_copy_opens(workspace, attacker), (
        f"the inserted key opens the new workspace key: {rewrapped.output}"
    )
    assert rewrapped.exit_code == 1
    assert "raazdar-review: error:" in rewrapped.output
    assert "list of keys in service was removed" in rewrapped.output, rewrapped.output
    assert "Traceback" not in rewrapped.output


def test_a_reviewer_made_administrator_on_the_disk_is_refused(unlocked: ws.Unlocked) -> None:
    enrol_second_reviewer(unlocked)
    root = unlocked.workspace.root
    unlocked.workspace.close()
    with on_the_disk(root) as conn:
        conn.execute("UPDATE reviewers SET role = 'admin' WHERE id = 'second'")
    shown = review(root, "--as", "second", "list", passphrase=SECOND_REVIEWER_PW)
    assert shown.exit_code == 1, shown.output
    assert "reviewer 'second' holds the role 'admin'" in shown.output, shown.output
    assert "Traceback" not in shown.output


def test_a_workspace_an_older_tool_left_gets_its_roster_at_its_first_unlock(
    unlocked: ws.Unlocked,
) -> None:
    """Trust on first use: then a roster removed beside the new wraps is named as tampering."""
    root = unlocked.workspace.root
    (pair,) = unlocked.keys
    assert pair.hybrid is not None
    with transaction(unlocked.conn) as conn:  # as a tool from before rosters left it
        old = unlocked.key.wrap_for(pair.hybrid.public_key, roster=False)
        conn.execute("UPDATE reviewer_keys SET wrapped = ?", (old,))
        conn.execute("DELETE FROM meta WHERE key = 'roster'")
    unlocked.workspace.close()
    listed = review(root, "list")
    assert listed.exit_code == 0, listed.output
    with on_the_disk(root) as conn:
        (wrapped,) = conn.execute("SELECT wrapped FROM reviewer_keys").fetchone()
        assert conn.execute("SELECT 1 FROM meta WHERE key = 'roster'").fetchone() is not None
    assert WorkspaceKey.open_wrap(wrapped, pair.hybrid, unlocked.key.public_key)[1]
    attacker = _insert_key(root)
    _drop_roster(root)
    rewrapped = review(root, "--as", "demo-reviewer", "keys", "rewrap")
    assert not _attackers_copy_opens(root, attacker)
    assert rewrapped.exit_code == 1
    assert "list of keys in service was removed" in rewrapped.output, rewrapped.output


def test_the_tools_own_enrolment_rewrap_and_revocation_keep_the_roster(
    unlocked: ws.Unlocked,
) -> None:
    enrol_second_reviewer(unlocked)
    after, _ = rewrap(unlocked)
    revoke(after, "second")
    root = unlocked.workspace.root
    unlocked.workspace.close()
    listed = review(root, "--as", "demo-reviewer", "list")
    assert listed.exit_code == 0, listed.output


def test_an_older_tool_is_told_the_workspace_is_newer_not_that_no_key_opens_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its wraps say a roster is kept, which a tool from before rosters neither opens nor keeps:
    the schema version turns it away with a hint, before it could re-wrap without a roster."""
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 9)  # as the tool before rosters reads
    with pytest.raises(
        WorkspaceError, match=f"schema version {SCHEMA_VERSION}; this tool reads 1-9"
    ):
        ws.Workspace.open(workspace)
