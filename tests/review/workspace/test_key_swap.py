"""Someone with write access to the workstation's disk swaps the workspace key.

The attack: between two sessions (a seized and returned laptop, an evil maid)
the people a report accuses write to the workspace's database. They cannot open
the wrapped workspace key, but they can replace it: put back the X25519 key and
its wrap that the workspace had before it was re-sealed under X-Wing (a copy
they took earlier), or wrap a key of their own to a reviewer's public key, which
the key file copy shows to anyone. Whatever the reviewer then imports or writes
is sealed under a key the attacker knows, or one a later quantum computer
breaks, and the next seizure reads it. The workstation must refuse such a key
before it seals anything under it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, KeyFile, KeyPair
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey, public_key_from_text
from review import workspace as ws
from review.keys.rewrap import RewrapError, rewrap
from review.workspace import head
from tests.review.support import (
    SECOND_REVIEWER_PW,
    Server,
    as_the_tool_before_x_wing,
    enrol_second_reviewer,
    init_workspace,
    on_the_disk,
    opens_with,
    review,
)
from tests.review.workspace.test_quantum import CANARY

LATER = "canary-after-the-swap"


def _put_back(root: Path, public: str, wrapped: bytes) -> None:
    """Write a workspace key and its wrap into the database, as the attacker does."""
    with on_the_disk(root) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'workspace_key'", (public,))
        conn.execute("UPDATE reviewer_keys SET wrapped = ?", (wrapped,))
        conn.execute("DELETE FROM meta WHERE key = ?", (ws.HISTORY,))


def _held(root: Path) -> tuple[str, bytes]:
    with on_the_disk(root) as conn:
        public = conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0]
        (wrapped,) = conn.execute("SELECT wrapped FROM reviewer_keys").fetchone()
    return public, wrapped


def _swapped_key_is_refused(root: Path, server: Server, tmp_path: Path, key: WorkspaceKey) -> None:
    server.submit(f"The DSP's driver carried the girls. {LATER}")
    imported = review(root, "import", str(server.export(tmp_path / "later.rzb")))
    opened = [where for where, plain in opens_with(root, [key.identity]) if LATER.encode() in plain]
    assert opened == [], f"the swapped workspace key opens what came after: {opened}"
    assert imported.exit_code == 1, imported.output
    assert "the workspace key on this disk was replaced" in imported.output
    assert "Traceback" not in imported.output


def test_an_x25519_workspace_key_put_back_after_the_step_to_x_wing_is_refused(
    server_format_2: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace with nothing sealed in it yet (a format-2 keyring: no subkeys, no report)."""
    with as_the_tool_before_x_wing(monkeypatch):
        root = init_workspace(server_format_2, tmp_path / "workspace")
        old = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        old.workspace.close()
    taken = _held(root)  # the attacker's copy, taken before the step to X-Wing
    listed = review(root, "list")
    assert "now sealed under a post-quantum (X-Wing) key" in listed.output
    _put_back(root, *taken)
    _swapped_key_is_refused(root, server_format_2, tmp_path, old.key)


def test_a_workspace_key_of_the_attackers_own_is_refused_in_a_new_workspace(
    workspace_format_2: Path, server_format_2: Server, tmp_path: Path
) -> None:
    assert review(workspace_format_2, "list").exit_code == 0
    own = _swap_in_own_key(workspace_format_2)
    _swapped_key_is_refused(workspace_format_2, server_format_2, tmp_path, own)


def test_a_workspace_key_of_the_attackers_own_is_named_for_what_it_is(
    workspace: Path, server: Server, tmp_path: Path
) -> None:
    """With reports in it, the swapped key opens none: the error says why, not "copy the
    bundle again"."""
    server.submit(f"The SHO took the money. {CANARY}")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    own = _swap_in_own_key(workspace)
    _swapped_key_is_refused(workspace, server, tmp_path, own)


def _swap_in_own_key(root: Path) -> WorkspaceKey:
    """Wrap a key of the attacker's own to the reviewer's X-Wing key (public, in its key file)."""
    (copy,) = (root / "keys").iterdir()
    hybrid = KeyFile.from_bytes(copy.read_bytes()).hybrid_public
    assert hybrid is not None
    own = WorkspaceKey.generate()
    _put_back(root, own.public_key.to_text(), own.wrap_for(hybrid))
    return own


def test_a_key_replaced_by_another_reviewers_rewrap_is_no_swap(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    """The earlier key is among those the new one keeps: the second reviewer's pin follows it."""
    enrol_second_reviewer(unlocked)
    root = unlocked.workspace.root
    second = ws.Workspace.open(root).unlock("second", lambda _: SECOND_REVIEWER_PW)
    second.workspace.close()
    rewrap(unlocked)
    unlocked.workspace.close()
    server.submit(f"The SHO took the money. {CANARY}")
    bundle = str(server.export(tmp_path / "e.rzb"))
    imported = review(root, "--as", "second", "import", bundle, passphrase=SECOND_REVIEWER_PW)
    assert imported.exit_code == 0, imported.output
    again = ws.Workspace.open(root).unlock("second", lambda _: SECOND_REVIEWER_PW)
    again.workspace.close()


def test_a_key_file_copy_swapped_for_the_attackers_own_gets_no_copy_of_the_next_key(
    unlocked: ws.Unlocked,
) -> None:
    """The workspace's copy of another reviewer's key file is replaced with one of the
    attacker's own keys (bound by its own signing key, so it parses). A rewrap wraps the new
    workspace key to each key file's X-Wing key: it must not be the attacker's."""
    enrol_second_reviewer(unlocked)
    root = unlocked.workspace.root
    (seq, name) = unlocked.conn.execute(
        "SELECT seq, key_file FROM reviewer_keys WHERE reviewer = 'second'"
    ).fetchone()
    attacker = KeyPair.generate()
    forged = KeyFile.create(
        attacker, "x", kind="reviewer", label="second", params=KdfParams.TESTING
    )
    (root / "keys" / name).write_bytes(forged.to_bytes())
    refused = ""
    try:
        unlocked, _ = rewrap(unlocked)
    except RewrapError as exc:
        refused = str(exc)
    (public, wrapped) = (
        unlocked.conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0],
        unlocked.conn.execute("SELECT wrapped FROM reviewer_keys WHERE seq = ?", (seq,)).fetchone()[
            0
        ],
    )
    assert attacker.hybrid is not None
    with pytest.raises(CryptoError):
        WorkspaceKey.unwrap(wrapped, attacker.hybrid, public_key_from_text(public))
    assert "replaced on this disk" in refused


def _forget_marks(root: Path) -> None:
    """The workspace as the tool before marks left it (or as a writer who deleted them)."""
    with on_the_disk(root) as conn:
        conn.execute("DELETE FROM meta WHERE key LIKE 'mark:%'")


def test_a_key_of_the_attackers_own_is_refused_where_no_key_has_a_mark_yet(
    workspace: Path, server: Server, tmp_path: Path
) -> None:
    server.submit(f"The SHO took the money. {CANARY}")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    _forget_marks(workspace)
    own = _swap_in_own_key(workspace)
    _swapped_key_is_refused(workspace, server, tmp_path, own)


def test_a_damaged_newest_report_does_not_lock_out_a_key_with_no_mark_yet(
    workspace: Path, server: Server, tmp_path: Path
) -> None:
    for n in (1, 2):
        server.submit(f"Report {n}: the SHO took the money. {CANARY}")
        assert review(workspace, "import", str(server.export(tmp_path / f"{n}.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    key = u.key
    u.workspace.close()
    _forget_marks(workspace)
    with on_the_disk(workspace) as conn:
        (state,) = conn.execute("SELECT state FROM reports WHERE num = 2").fetchone()
        damaged = bytes([state[0] ^ 1]) + state[1:]
        conn.execute("UPDATE reports SET state = ? WHERE num = 2", (damaged,))
        # Tagged again, as no attacker can: the head's tag refuses a damaged state itself
        # (test_tampered_state); here only the search for the key's mark is tried.
        head.put(conn, key)
    shown = review(workspace, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert CANARY in shown.output
