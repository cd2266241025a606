"""A seized workstation and a later quantum computer: "harvest now, decrypt later".

The attack: the people a report accuses seize the review workstation's disk
today and keep it until they have a quantum computer, which turns any X25519
public key into its secret. Every X25519 public key here is on the disk: the
workspace key's (`meta.workspace_key`), each reviewer key's (`reviewer_keys`,
the key files' public parts) and the X25519 half of each X-Wing key. The test
plays the quantum computer with an oracle that hands over the X25519 secret of
every one of them, and nothing else: no ML-KEM secret, no passphrase. With
those, the seizer must open no report: not a blob, not a record, not a wrapped
copy of the workspace key. The server delivered the report sealed v2 (X-Wing):
the workstation must not be the weaker link.

An X25519 workspace key (every workspace before this change) gives all of it
away; such a workspace is re-sealed under a hybrid key at its first unlock by
the tool, once every key in service has an X-Wing half.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from contextlib import suppress
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import (
    HybridPrivateKey,
    KdfParams,
    KeyFile,
    KeyPair,
    PrivateKey,
    PublicKey,
    SigningKey,
    read_header,
)
from crypto.encoding import b64decode
from crypto.envelope.version import V2
from crypto.errors import CryptoError
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.casework import reports
from review.cli import base
from review.errors import UnlockError
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.keys.enrolment import enrol_key
from review.keys.rewrap import RewrapError, upgrade_key
from review.workspace import audit
from review.workspace.state import state_context
from tests.review.support import (
    Server,
    as_the_tool_before_x_wing,
    init_workspace,
    opens_with,
    review,
)

CANARY = "canary-Q-harvest-now"


def _x25519_half(key: HybridPrivateKey) -> PrivateKey:
    """The X25519 secret of an X-Wing key (the draft's expansion of its seed): what a quantum
    computer finds from the X25519 half of its public key."""
    secret = PrivateKey(hashlib.shake_256(key.secret_bytes()).digest(96)[64:])
    assert secret.public_key.raw == key.public_key._xwing.x25519
    return secret


def quantum_oracle(u: ws.Unlocked) -> list[PrivateKey]:
    """Every X25519 secret whose public key the seized workspace holds, as a quantum computer
    derives them: the workspace key's, the reviewers' keys', the X-Wing keys' X25519 halves."""
    found: list[PrivateKey] = []
    for key in (u.key.identity, *u.identities, *subkeys.held_keys(u)):
        found.append(key if isinstance(key, PrivateKey) else _x25519_half(key))
    return found


def harvest(root: Path, broken: list[PrivateKey]) -> list[str]:
    """What the X25519 secrets `broken` open of the seized workspace: where each opening is."""
    opened = [where for where, plain in opens_with(root, broken) if CANARY.encode() in plain]
    conn = sqlite3.connect(root / ws.DB_NAME)
    try:
        public = conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0]
        states = conn.execute("SELECT num, state FROM reports").fetchall()
        wraps = [row[0] for row in conn.execute("SELECT wrapped FROM reviewer_keys")]
    finally:
        conn.close()
    for secret in broken:
        # The workspace key itself, if its X25519 secret is all there is to it.
        candidate = WorkspaceKey(secret)
        if str(candidate.public_key.to_text()) == public:
            opened.append("meta.workspace_key")
        for num, state in states:
            with suppress(CryptoError):
                candidate.open_record(state, state_context(num))
                opened.append(f"reports.state of report {num}")
        # A copy of the workspace key wrapped to a reviewer's X25519 key.
        for wrapped in wraps:
            with suppress(CryptoError):
                WorkspaceKey.unwrap(wrapped, secret, PublicKey.from_text(public))
                opened.append("reviewer_keys.wrapped")
    return opened


def test_a_quantum_computer_opens_nothing_of_a_seized_workspace(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    big = ("files", "ledger.txt", (CANARY + "\n").encode() * 20_000, "text/plain")
    server.submit(f"The SHO took the money. {CANARY}", [big])
    assert import_bundle(unlocked, server.export(tmp_path / "e.rzb")).filed == 2
    broken = quantum_oracle(unlocked)
    root = unlocked.workspace.root
    unlocked.workspace.close()
    opened = harvest(root, broken)
    assert opened == [], f"X25519 secrets alone open the seized workspace: {opened}"
    for blob in (root / "blobs").iterdir():
        with blob.open("rb") as src:
            assert read_header(src).version is V2, f"blob {blob.name} is not sealed v2"


def _everything(root: Path) -> bytes:
    """Every byte the seized disk's files hold (the database included)."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _old_workspace(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, WorkspaceKey]:
    """A workspace as the tool before X-Wing workspace keys made it (an X25519 workspace key),
    with a report, its attachment (a blob file) and a note; and its key."""
    with as_the_tool_before_x_wing(monkeypatch):
        root = init_workspace(server, tmp_path / "workspace")
        u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        big = ("files", "ledger.txt", (CANARY + "\n").encode() * 20_000, "text/plain")
        server.submit(f"The SHO took the money. {CANARY}", [big])
        assert import_bundle(u, server.export(tmp_path / "e.rzb")).filed == 2
        old = u.key
        assert not old.is_hybrid
        u.workspace.close()
        assert review(root, "note", "1", f"seen by the SHO's brother {CANARY}").exit_code == 0
    return root, old


def test_a_workspace_under_an_x25519_key_is_resealed_post_quantum_at_its_first_unlock(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, old = _old_workspace(server, tmp_path, monkeypatch)
    before = {p.name for p in (root / "blobs").iterdir()}
    assert harvest(root, [old.packet_identity]) != []  # the attack, on the workspace as it was
    shown = review(root, "keys", "show")
    assert (
        "workspace key: X25519 (not post-quantum), re-sealed under X-Wing at the next unlock"
        in shown.output
    )

    # The first unlock by the tool (any command) re-seals it under an X-Wing key.
    shown = review(root, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert CANARY in shown.output
    assert "now sealed under a post-quantum (X-Wing) key" in shown.output
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert u.key.is_hybrid
        assert u.history[0].public_key == old.public_key  # kept sealed, for old audit details
        broken = [*quantum_oracle(u), old.packet_identity]
        ledger = reports_attachment(u)
        rewraps = [e.detail for e in audit.entries(u) if e.action == "rewrap"]
        # Each reviewer's subkey record too: not left under the X25519 key.
        records = u.conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'subkeys:%'"
        ).fetchall()
        assert records
        left = []
        for key, value in records:
            try:
                u.key.open_record(b64decode(value), key.encode())
            except CryptoError:
                left.append(key)
        assert left == [], f"records left under the X25519 key alone: {left}"
    finally:
        u.workspace.close()
    assert CANARY.encode() in ledger
    assert len(rewraps) == 1
    assert rewraps[0] is not None
    assert rewraps[0]["key"] == "x-wing"
    after = {p.name for p in (root / "blobs").iterdir()}
    assert before
    assert after
    assert not before & after, "an old blob file is left"
    assert harvest(root, broken) == [], "X25519 secrets still open the upgraded workspace"
    disk = _everything(root)
    assert old.public_key.raw not in disk
    assert old.public_key.to_text().encode() not in disk
    conn = sqlite3.connect(root / ws.DB_NAME)
    try:
        inline = [row[0] for row in conn.execute("SELECT data FROM blob_data")]
    finally:
        conn.close()
    for data in [*inline, *((root / "blobs" / name).read_bytes() for name in after)]:
        assert read_header(io.BytesIO(data)).version is V2
    assert review(root, "audit", "verify").exit_code == 0
    assert "workspace key: X-Wing (post-quantum)" in review(root, "keys", "show").output
    shown = review(root, "show", "1")
    assert CANARY in shown.output
    assert "seen by the SHO's brother" in shown.output
    assert "post-quantum" not in shown.output
    assert {p.name for p in (root / "blobs").iterdir()} == after  # once: nothing to do again


def test_a_key_file_without_an_x_wing_key_is_not_enrolled_in_a_post_quantum_workspace(
    unlocked: ws.Unlocked,
) -> None:
    assert unlocked.key.is_hybrid
    pair = KeyPair.generate(hybrid=False)
    file = KeyFile.create(pair, "pw", kind="reviewer", label="old", params=KdfParams.TESTING)
    before = unlocked.conn.execute("SELECT wrapped FROM reviewer_keys").fetchall()
    with pytest.raises(UnlockError, match="without an X-Wing key") as refused:
        ws.enrol(
            unlocked.workspace,
            unlocked.key,
            reviewer="old",
            name="Old",
            key_file=file.to_bytes(),
        )
    assert "keys upgrade --add-hybrid" in (refused.value.hint or "")
    # Through the enrolment command's path, before the holder is asked for a passphrase.
    with pytest.raises(UnlockError, match="without an X-Wing key"):
        enrol_key(
            unlocked,
            reviewer="old",
            name="Old",
            key_file=file.to_bytes(),
            ask=lambda _label: pytest.fail("the holder was asked for a passphrase"),
        )
    assert unlocked.conn.execute("SELECT wrapped FROM reviewer_keys").fetchall() == before
    assert not [p for p in unlocked.workspace.keys.iterdir() if p.name.startswith("old-")]


def reports_attachment(u: ws.Unlocked) -> bytes:
    """Report 1's first attachment, as the workspace key opens it."""
    _found, data = reports.read_attachment(u, 1, "1")
    return data


def test_a_damaged_blob_leaves_the_workspace_as_it_was_and_its_reviewer_at_work(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, old = _old_workspace(server, tmp_path, monkeypatch)
    (damaged,) = [p for p in (root / "blobs").iterdir()]  # the attachment's file
    data = bytearray(damaged.read_bytes())
    data[-100] ^= 1
    damaged.write_bytes(bytes(data))
    before = snapshot_names(root)

    shown = review(root, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert CANARY in shown.output  # the report's text is not the damaged blob
    assert "warning: the workspace stays under its X25519 key for now" in shown.output
    assert "Traceback" not in shown.output
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert u.key.public_key == old.public_key
    finally:
        u.workspace.close()
    assert snapshot_names(root) == before  # no half-written blob left behind
    assert review(root, "audit", "verify").exit_code == 0


def snapshot_names(root: Path) -> set[str]:
    """The workspace's blob files."""
    return {p.name for p in (root / "blobs").iterdir()}


def test_a_workspace_whose_key_has_no_x_wing_half_stays_x25519_and_says_so(
    tmp_path: Path,
) -> None:
    pair = KeyPair.generate(hybrid=False)
    file = KeyFile.create(pair, "pw", kind="reviewer", label="old", params=KdfParams.TESTING)
    pinned = ws.Pinned("demo", SigningKey.generate().verify_key, ())
    root = tmp_path / "workspace"
    u = ws.create(
        root, pinned, reviewer="old", name="Old", key_file=file.to_bytes(), passphrase="pw"
    )
    assert not u.key.is_hybrid  # nothing to wrap an X-Wing key to
    u.workspace.close()
    listed = review(root, "list", passphrase="pw")
    assert listed.exit_code == 0, listed.output
    assert "post-quantum" not in listed.output
    shown = review(root, "keys", "show")
    assert (
        "workspace key: X25519 (not post-quantum) while key(s) 1 have no X-Wing half"
        in shown.output
    )
    assert "`keys rotate`" in shown.output
    workspace = ws.Workspace.open(root)
    assert workspace.public_key == u.key.public_key
    workspace.close()


def test_a_command_started_as_another_reseals_the_workspace_writes_nothing_under_the_old_key(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two commands start at once on a workspace under an X25519 key: the other one re-seals it
    between this one's unlock and its own attempt. This one must not go on under the old key:
    a note written under it would open with no key the workspace keeps using."""
    root, _old = _old_workspace(server, tmp_path, monkeypatch)
    real = upgrade_key

    def racing(u: ws.Unlocked) -> ws.Unlocked:
        other = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        try:
            assert real(other).key.is_hybrid
        finally:
            other.workspace.close()
        return real(u)

    with monkeypatch.context() as race:
        race.setattr(base, "upgrade_key", racing)
        late = review(root, "note", "1", "written as the other command re-sealed")
    shown = review(root, "show", "1")
    assert shown.exit_code == 0, f"the workspace no longer reads: {shown.output}"
    assert late.exit_code != 0, "the note went in under the old key"
    assert "run the command again" in late.output
    assert "Traceback" not in late.output
    assert "written as the other command" not in shown.output


def test_a_stale_unlock_does_not_reseal_over_another_processes_upgrade(
    server_format_2: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace with no record yet (no report, no subkeys: a format-2 keyring) has nothing
    whose opening would fail: without a check, the second rewrap would replace the key the
    first process goes on writing under."""
    with as_the_tool_before_x_wing(monkeypatch):
        root = init_workspace(server_format_2, tmp_path / "workspace")
    first = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    second = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        upgraded = upgrade_key(first)
        assert upgraded.key.is_hybrid
        with pytest.raises(RewrapError, match="re-sealed by another raazdar-review"):
            upgrade_key(second)
        workspace = ws.Workspace.open(root)
        assert workspace.public_key == upgraded.key.public_key
        workspace.close()
    finally:
        first.workspace.close()
        second.workspace.close()


def test_a_key_file_given_an_x_wing_key_brings_the_workspace_to_x_wing_without_a_rotation(
    tmp_path: Path,
) -> None:
    """`keys upgrade --add-hybrid` on the holder's key file: the workspace keeps its own copy of
    that file, and while the copy has no X-Wing key the workspace stays X25519 for good."""
    pair = KeyPair.generate(hybrid=False)
    file = KeyFile.create(pair, "pw", kind="reviewer", label="old", params=KdfParams.TESTING)
    pinned = ws.Pinned("demo", SigningKey.generate().verify_key, ())
    root = tmp_path / "workspace"
    u = ws.create(
        root, pinned, reviewer="old", name="Old", key_file=file.to_bytes(), passphrase="pw"
    )
    old = u.key
    u.workspace.close()
    held = tmp_path / "old.key"
    held.write_bytes(file.to_bytes())
    upgraded = review(root, "keys", "upgrade", "--add-hybrid", str(held), passphrase="pw")
    assert upgraded.exit_code == 0, upgraded.output
    assert KeyFile.from_bytes(held.read_bytes()).hybrid_public is not None
    assert "the workspace's copy of key 1 has it too" in upgraded.output
    assert "re-sealed under X-Wing at the next unlock" in upgraded.output
    listed = review(root, "list", passphrase="pw")
    assert listed.exit_code == 0, listed.output
    workspace = ws.Workspace.open(root)
    try:
        public = workspace.public_key
    finally:
        workspace.close()
    assert public != old.public_key, "the workspace stays under its X25519 key"
    assert "now sealed under a post-quantum (X-Wing) key" in listed.output
    assert "workspace key: X-Wing (post-quantum)" in review(root, "keys", "show").output
