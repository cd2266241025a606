"""The workspace's first keyring needs the organisation's count of pinned signatures.

A manifest states its own threshold, but that is its writer's word: one holder
of the pinned authority set alone can write that set with a threshold of 1, a
reviewer and a server key of their own. The workstation therefore asks every
pinned key to sign the keyring it starts from (version 1 is signed by every
holder at `keys authority-init`), or as many as `init --threshold K` says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from click.testing import Result

from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from crypto import AuthorityKey, SignedManifest, SigningKey
from review import workspace as ws
from review.workspace import audit, head
from tests.app.support import demo_authorities, install_successor, new_reviewer
from tests.review.intake.test_server_info import server_info
from tests.review.keys.test_instance_keyring import first_keyring, init, pins
from tests.review.support import Server, review


def real_first(server: Server) -> SignedManifest:
    """The demo instance's keyring v1, signed by all three holders."""
    return SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes())


def forged_by_one_holder(server: Server, out: Path) -> Path:
    """Keyring v1 of the pinned set rewritten by holder 1 alone: threshold 1, their reviewer
    beside the demo one, their server key beside the real one."""
    real = real_first(server).manifest
    assert real.instance is not None
    _, mallory = new_reviewer("mallory")
    # A second server key, as in a changeover: exports signed by it would be believed.
    theirs = SigningKey.generate().verify_key
    listing = dataclasses.replace(real.instance, server_keys=(*real.instance.server_keys, theirs))
    forged = dataclasses.replace(
        real, threshold=1, recipients=(*real.recipients, mallory), instance=listing
    )
    out.write_bytes(SignedManifest(forged).sign(demo_authorities(server.instance)[0]).to_bytes())
    return out


def typed(server: Server) -> list[str]:
    return ["--instance-id", server.instance_id, "--server-key", server.signing_key_text]


def refused(result: Result, root: Path) -> None:
    assert result.exit_code == 1, result.output
    assert "1 valid signature(s) of 3 required" in result.output
    assert not (root / ws.DB_NAME).exists()


def test_one_holder_cannot_install_a_first_keyring_in_a_workspace_of_typed_pins(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    assert init(root, server, *typed(server), *pins(server)).exit_code == 0
    forged = forged_by_one_holder(server, tmp_path / "forged.json")
    result = review(root, "keys", "install", str(forged))
    assert result.exit_code == 1, result.output
    assert "1 valid signature(s) of 3 required" in result.output
    assert ws.Workspace.open(root).keyring() is None


def test_one_holder_cannot_start_a_workspace_from_the_server_info_and_a_forged_keyring(
    server: Server, tmp_path: Path
) -> None:
    out, _ = server_info(server, tmp_path)
    forged = forged_by_one_holder(server, tmp_path / "forged.json")
    root = tmp_path / "workspace"
    refused(init(root, server, "--server-info", str(out), "--keyring", str(forged)), root)


def test_one_holder_cannot_start_a_workspace_whose_printed_pins_match_the_ceremonys(
    server: Server, tmp_path: Path
) -> None:
    # `init --keyring` prints the fingerprints it pins, to compare with the paper
    # record: the forged keyring names the very same authorities.
    forged = forged_by_one_holder(server, tmp_path / "forged.json")
    root = tmp_path / "workspace"
    refused(init(root, server, "--keyring", str(forged)), root)


def test_the_genuine_first_keyring_signed_by_every_holder_is_installed(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    assert init(root, server, *typed(server), *pins(server)).exit_code == 0
    result = review(root, "keys", "install", str(first_keyring(server, tmp_path)))
    assert result.exit_code == 0, result.output


def rotated(server: Server, out: Path) -> tuple[Path, list[str]]:
    """Keyring v2 handing over to three new holders (2 of 3), signed by two old and two new;
    and `--authority` pins of the new set."""
    real = real_first(server).manifest
    old = demo_authorities(server.instance)
    new = [SigningKey.generate() for _ in range(3)]
    today = dt.date.today()
    draft = real.successor(
        issued=today,
        expires=today + dt.timedelta(days=90),
        authorities=[AuthorityKey(f"New {i}", k.verify_key) for i, k in enumerate(new, 1)],
        threshold=2,
    )
    signed = SignedManifest(draft)
    for key in (*old[:2], *new[:2]):
        signed = signed.sign(key)
    out.write_bytes(signed.to_bytes())
    return out, [x for k in new for x in ("--authority", str(k.verify_key.fingerprint))]


def test_a_workspace_started_after_a_rotation_takes_the_organisations_threshold(
    server: Server, tmp_path: Path
) -> None:
    keyring, new_pins = rotated(server, tmp_path / "keyring-v2.json")
    without = tmp_path / "without"
    result = init(without, server, *typed(server), *new_pins, "--keyring", str(keyring))
    assert result.exit_code == 1, result.output
    assert "2 valid signature(s) of 3 required" in result.output
    assert "--threshold" in result.output
    root = tmp_path / "workspace"
    given = ("--threshold", "2", "--keyring", str(keyring))
    result = init(root, server, *typed(server), *new_pins, *given)
    assert result.exit_code == 0, result.output
    assert ws.Workspace.open(root).pinned.threshold == 2


def test_a_threshold_no_pins_can_meet_is_refused(server: Server, tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    for count in ("4", "0"):
        result = init(root, server, *typed(server), *pins(server), "--threshold", count)
        assert result.exit_code in (1, 2), result.output
        assert "--threshold" in result.output
        assert not (root / ws.DB_NAME).exists()
    result = init(root, server, *typed(server), "--threshold", "1")
    assert result.exit_code in (1, 2), result.output
    assert not (root / ws.DB_NAME).exists()


def test_a_workspace_does_not_start_behind_the_keyring_the_server_info_names(
    server: Server, tmp_path: Path
) -> None:
    """The server installed v2 (say, dropping a stolen server key or a revoked reviewer);
    the carrier hands the new workspace v1, still unexpired, beside the server info."""
    install_successor(server.instance, real_first(server).manifest.recipients)
    out, printed = server_info(server, tmp_path)
    assert "keyring version        2" in printed
    root = tmp_path / "workspace"
    result = init(
        root, server, "--server-info", str(out), "--keyring", str(first_keyring(server, tmp_path))
    )
    assert result.exit_code == 1, result.output
    assert "the server has keyring v2 in force, not v1" in result.output
    assert not (root / ws.DB_NAME).exists()
    newest = tmp_path / "keyring-v2.json"
    newest.write_bytes(manifest_path(server.paths, 2).read_bytes())
    given = ("--server-info", str(out), "--keyring", str(newest), "--threshold", "2")
    result = init(root, server, *given)
    assert result.exit_code == 0, result.output


def test_a_workspace_made_before_the_rule_is_given_its_threshold_by_an_administrator(
    server: Server, tmp_path: Path
) -> None:
    """A workspace with no threshold kept (made before it was) and no keyring yet asks every
    pinned signature: the organisation's keyring, signed by its threshold, never installs."""
    keyring, new_pins = rotated(server, tmp_path / "keyring-v2.json")
    root = tmp_path / "workspace"
    assert init(root, server, *typed(server), *new_pins).exit_code == 0
    w = ws.Workspace.open(root)
    wskey = w.unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE).key
    with w.conn:  # as the workspace was before `meta:authority_threshold`, tagged by its tool
        w.conn.execute("DELETE FROM meta WHERE key = ?", (ws.THRESHOLD,))
        head.put(w.conn, wskey)
    w.close()
    result = review(root, "keys", "install", str(keyring))
    assert result.exit_code == 1, result.output
    assert "2 valid signature(s) of 3 required" in result.output
    for count in ("4", "0"):  # none the pins can meet
        result = review(root, "keys", "install", "--threshold", count, str(keyring))
        assert result.exit_code in (1, 2), result.output
        assert "--threshold" in result.output
        assert ws.Workspace.open(root).pinned.threshold is None
    result = review(root, "keys", "install", "--threshold", "2", str(keyring))
    assert result.exit_code == 0, result.output
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    assert u.workspace.pinned.threshold == 2
    assert u.workspace.keyring() is not None
    (entry,) = [e for e in audit.entries(u) if e.action == "threshold"]
    assert entry.detail == {"threshold": 2, "pinned": 3, "keyring": 2}
    u.workspace.close()


def test_a_workspace_whose_threshold_is_kept_cannot_change_it_at_install(
    server: Server, tmp_path: Path
) -> None:
    keyring, new_pins = rotated(server, tmp_path / "keyring-v2.json")
    root = tmp_path / "workspace"
    assert init(root, server, *typed(server), *new_pins).exit_code == 0
    result = review(root, "keys", "install", "--threshold", "2", str(keyring))
    assert result.exit_code == 1, result.output
    assert "set when the workspace was made" in result.output
    assert ws.Workspace.open(root).keyring() is None
