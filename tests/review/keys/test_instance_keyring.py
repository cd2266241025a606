"""The workstation believes the server keys the keyring in force lists, not a typed value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner, Result

from app.cli import main
from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path, timestamp_path
from crypto import SignedManifest, SigningKey
from crypto.bundle import BundleReader, write_bundle
from crypto.encoding import b64encode
from review.cli import cli
from review.keys import ceremony
from tests.app.support import install_successor
from tests.review.support import Server, review


def first_keyring(server: Server, tmp_path: Path) -> Path:
    """The demo instance's keyring v1 (format 2: it lists the instance), as carried over."""
    path = tmp_path / "keyring-v1.json"
    path.write_bytes(manifest_path(server.paths, 1).read_bytes())
    return path


def pins(server: Server) -> list[str]:
    """`--authority FP` for each of the demo keyring's authorities."""
    manifest = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    return [x for fp in manifest.authority_fingerprints for x in ("--authority", str(fp))]


def init(root: Path, server: Server, *extra: str) -> Result:
    return review(
        root,
        "init",
        *extra,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )


def timestamp(root: Path, *args: str) -> Result:
    """`keys timestamp`, typing the reviewer's passphrase (its unlock checks the workspace's
    keyring) and then the timestamp key file's (both the demo's)."""
    return CliRunner().invoke(
        cli,
        ["--workspace", str(root), "keys", "timestamp", *args],
        input=f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}\n",
    )


def export_signed_by(server: Server, key: SigningKey, out: Path) -> Path:
    """An export made while `key` sits in the server's key file: what a thief of it could sign."""
    real = server.paths.signing_key.read_bytes()
    server.paths.signing_key.write_text(key.to_text() + "\n")
    try:
        return server.export(out)
    finally:
        server.paths.signing_key.write_bytes(real)


def test_init_takes_the_instance_and_server_key_from_the_keyring(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    result = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert result.exit_code == 0, result.output
    server.submit("a report")
    imported = review(root, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output


def test_init_refuses_a_typed_server_key_the_keyring_does_not_list(
    server: Server, tmp_path: Path
) -> None:
    typed = SigningKey.generate().verify_key.to_text()
    root = tmp_path / "workspace"
    keyring = str(first_keyring(server, tmp_path))
    result = init(root, server, "--keyring", keyring, "--server-key", typed)
    assert result.exit_code == 1
    assert "not a server key the keyring lists" in result.output


def test_a_key_typed_at_init_signs_nothing_once_a_keyring_lists_the_instance(
    server: Server, tmp_path: Path
) -> None:
    # Someone typed their own key at `init` (or the server key was stolen and
    # rotated since): once the keyring in force lists the instance, it is the keyring's keys.
    intruder = SigningKey.generate()
    root = tmp_path / "workspace"
    result = init(
        root,
        server,
        "--instance-id",
        server.instance_id,
        "--server-key",
        intruder.verify_key.to_text(),
        *pins(server),
    )
    assert result.exit_code == 0, result.output
    installed = review(root, "keys", "install", str(first_keyring(server, tmp_path)))
    assert installed.exit_code == 0, installed.output
    server.submit("a report")
    forged = export_signed_by(server, intruder, tmp_path / "forged.rzb")
    refused = review(root, "import", str(forged))
    assert refused.exit_code == 1
    assert "bundle refused" in refused.output
    genuine = review(root, "import", str(server.export(tmp_path / "genuine.rzb")))
    assert genuine.exit_code == 0, genuine.output


def test_a_keyring_for_another_instance_is_refused(server: Server, tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    typed = ("--instance-id", "0" * 32, "--server-key", server.signing_key_text)
    result = init(root, server, *typed, *pins(server))
    assert result.exit_code == 0, result.output
    refused = review(root, "keys", "install", str(first_keyring(server, tmp_path)))
    assert refused.exit_code == 1
    assert "another instance" in refused.output


def test_the_freshness_renewal_is_one_command_on_each_side(server: Server, tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    stamp = tmp_path / "timestamp.json"
    key = server.paths.demo_keys / "timestamp.key"
    made = timestamp(root, "--key-file", str(key), "--out", str(stamp))
    assert made.exit_code == 0, made.output
    installed = CliRunner().invoke(
        main, ["--instance", str(server.instance), "keyring", "timestamp", str(stamp)]
    )
    assert installed.exit_code == 0, installed.output
    assert timestamp_path(server.paths).read_bytes() == stamp.read_bytes()


def test_list_instance_drafts_the_keyring_from_what_the_server_prints(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    info = tmp_path / "instance.json"
    printed = CliRunner().invoke(
        main, ["--instance", str(server.instance), "keyring", "instance-info", "-o", str(info)]
    )
    assert printed.exit_code == 0, printed.output
    draft = tmp_path / "draft.json"
    made = review(root, "keys", "list-instance", "--instance", str(info), "--draft", str(draft))
    assert made.exit_code == 0, made.output
    manifest = SignedManifest.from_bytes(draft.read_bytes()).manifest
    assert manifest.version == 2
    assert manifest.instance is not None
    assert manifest.instance.to_dict() == json.loads(info.read_text())["instance"]


def test_the_changes_a_holder_reads_show_the_instance_listing(server: Server) -> None:
    manifest = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    assert manifest.instance is not None
    lines = "\n".join(ceremony.changes(None, manifest))
    for onion in manifest.instance.onions:
        assert f"onion {onion}" in lines
    for key in manifest.instance.server_keys:
        assert f"server key {key.fingerprint}" in lines
    assert "timestamp key" in lines


def test_an_import_says_when_the_server_holds_a_later_keyring_than_the_workspace(
    server: Server, tmp_path: Path
) -> None:
    """A carrier withholds keyring v2 (which may drop a stolen server key or a revoked
    reviewer): the server's own exports say which version it seals to."""
    root = tmp_path / "workspace"
    assert init(root, server, "--keyring", str(first_keyring(server, tmp_path))).exit_code == 0
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients)
    server.submit("a report")
    imported = review(root, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output
    assert (
        "raazdar-review: warning: the server's keyring in force is v2, this workspace's v1"
        in imported.output
    )
    second = tmp_path / "keyring-v2.json"
    second.write_bytes(manifest_path(server.paths, 2).read_bytes())
    assert review(root, "keys", "install", str(second)).exit_code == 0
    server.submit("another")
    again = review(root, "import", str(server.export(tmp_path / "export-2.rzb")))
    assert again.exit_code == 0, again.output
    assert "keyring in force" not in again.output


def test_no_timestamp_vouches_for_a_keyring_older_than_one_known_here(
    server: Server, tmp_path: Path
) -> None:
    """A fresh timestamp for an old keyring lets a server serve it again to every device that
    verifies from its pins: the administrator must not be led to sign one."""
    root = tmp_path / "workspace"
    first = first_keyring(server, tmp_path)
    assert init(root, server, "--keyring", str(first)).exit_code == 0
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients)
    server.submit("a report")
    assert review(root, "import", str(server.export(tmp_path / "export.rzb"))).exit_code == 0
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    made = timestamp(root, "--key-file", key, "--out", str(stamp))
    assert made.exit_code == 1, made.output
    assert "keyring v1 is not the newest: the server's exports name v2" in made.output
    assert not stamp.exists()

    second = tmp_path / "keyring-v2.json"
    second.write_bytes(manifest_path(server.paths, 2).read_bytes())
    assert review(root, "keys", "install", str(second)).exit_code == 0
    given = ("--keyring", str(first), "--out", str(stamp))
    made = timestamp(root, "--key-file", key, *given)
    assert made.exit_code == 1, made.output
    assert "keyring v1 is not the newest: this workspace has v2" in made.output
    assert not stamp.exists()
    made = timestamp(root, "--key-file", key, "--out", str(stamp))
    assert made.exit_code == 0, made.output


def test_an_import_says_when_the_server_seals_to_an_older_keyring_than_the_workspace(
    server: Server, tmp_path: Path
) -> None:
    """Whoever can write the server's instance directory deletes keyring v2 (which dropped a
    reviewer): the server verifies v1 again, seals every browser report to the reviewer v2
    revoked, and its exports name v1. Before, the workstation, which holds v2, said nothing."""
    root = tmp_path / "workspace"
    assert init(root, server, "--keyring", str(first_keyring(server, tmp_path))).exit_code == 0
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients)
    second = tmp_path / "keyring-v2.json"
    second.write_bytes(manifest_path(server.paths, 2).read_bytes())
    assert review(root, "keys", "install", str(second)).exit_code == 0
    manifest_path(server.paths, 2).unlink()  # the rollback
    server.submit("a report")
    imported = review(root, "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output
    assert (
        "raazdar-review: warning: the server's keyring in force is v1, older than this "
        "workspace's v2" in imported.output
    )


def test_a_keyring_valid_for_ten_years_is_not_installed_here(
    server: Server, tmp_path: Path
) -> None:
    """Expiry bounds a freeze and a superseded keyring's life: a keyring valid until 2036 would
    make both ten years (PROTOCOL §8.5), so the workstation installs no keyring past a year."""
    root = tmp_path / "workspace"
    assert init(root, server, "--keyring", str(first_keyring(server, tmp_path))).exit_code == 0
    v1 = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    install_successor(server.instance, v1.recipients, expires=v1.issued + dt.timedelta(days=3650))
    second = tmp_path / "keyring-v2.json"
    second.write_bytes(manifest_path(server.paths, 2).read_bytes())
    refused = review(root, "keys", "install", str(second))
    assert refused.exit_code == 1, refused.output
    assert "lifetime" in refused.output
    assert "Traceback" not in refused.output


def test_list_instance_drafts_no_timestamp_key_that_is_a_reviewers_own(
    server: Server, tmp_path: Path
) -> None:
    """The timestamp key's holder alone can keep a superseded keyring alive (PROTOCOL §8.8):
    a reviewer's key file given for it would hand that reviewer the role, unseen."""
    root = tmp_path / "workspace"
    init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    info = tmp_path / "instance.json"
    printed = CliRunner().invoke(
        main, ["--instance", str(server.instance), "keyring", "instance-info", "-o", str(info)]
    )
    assert printed.exit_code == 0, printed.output
    draft = tmp_path / "draft.json"
    made = review(
        root,
        "keys",
        "list-instance",
        "--instance",
        str(info),
        "--timestamp-key",
        str(server.reviewer_key_file),
        "--draft",
        str(draft),
    )
    assert made.exit_code == 1, made.output
    assert "timestamp key of its own" in made.output
    assert not draft.exists()


def test_an_export_from_a_server_holding_another_keyring_of_the_same_version_is_named(
    server: Server, tmp_path: Path
) -> None:
    # The server's keyring in force was swapped for another of the same version (a
    # fork a rotated-out authority set signed, listing a reviewer of its own): its
    # exports named only the version, which the workstation holds too.
    workspace = tmp_path / "workspace"
    assert init(workspace, server, "--keyring", str(first_keyring(server, tmp_path))).exit_code == 0
    server.submit("report number 1")
    honest = server.export(tmp_path / "honest.rzb")
    signer = SigningKey.from_text(server.paths.signing_key.read_text())
    with honest.open("rb") as src:
        reader = BundleReader(src, [signer.verify_key])
        body = dict(reader.manifest)
        items = reader.extract(tmp_path / "items")
    del body["items"], body["signer"]
    body["keyring_digest"] = b64encode(b"\x07" * 32)
    swapped = tmp_path / "swapped.rzb"
    with swapped.open("wb") as dst:
        write_bundle(dst, body, list(items.items()), signer)
    result = review(workspace, "import", str(swapped))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "is not the v1 installed here" in said, (
        f"an export from a server holding another keyring v1 went unnamed: {said}"
    )
