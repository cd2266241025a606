"""An export stick its carrier kept back and hands in late speaks of the server as it was.

Whoever carries the IN stick can keep a bundle and hand it in after later ones
(bundles import in any order, PROTOCOL §13.1). What the late bundle says of the
server's state then (the keyring it sealed to) is not the server's state now,
which a bundle numbered after it, imported here already, has told.
"""

from __future__ import annotations

from pathlib import Path

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
