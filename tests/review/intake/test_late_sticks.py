"""An export stick its carrier kept back and hands in late speaks of the server as it was.

Whoever carries the IN stick can keep a bundle and hand it in after later ones
(bundles import in any order, PROTOCOL §13.1). What the late bundle says of the
server's state then (the keyring it sealed to, the workspace key it held) is not
the server's state now, which a bundle numbered after it, imported here already,
has told.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from app.cli import main
from app.keyring import manifest_path
from crypto import SignedManifest
from tests.app.support import install_successor
from tests.review.support import Server, review


def test_an_export_kept_back_across_a_keyring_install_names_no_rollback(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    first = tmp_path / "keyring-v1.json"
    first.write_bytes(manifest_path(server.paths, 1).read_bytes())
    made = review(
        root,
        "init",
        "--keyring",
        str(first),
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert made.exit_code == 0, made.output
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
