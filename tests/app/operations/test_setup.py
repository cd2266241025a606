"""Setting up an instance (`raazdar init`), and production's refusal to start unsafely."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.exc import OperationalError

from app import create_app
from app.cli import main
from app.config import DemoConfig, ProductionConfig, config_for
from app.demo import DEMO_PASSPHRASE
from app.instance import InstancePaths
from app.models import today
from app.operations.setup import initialise
from crypto import KdfParams, KeyFile, SignedManifest
from crypto.manifest import format_digest


@pytest.fixture
def manifest_file(tmp_path: Path, offline_manifest: SignedManifest) -> Path:
    """The signed manifest as the administrators bring it to the server."""
    path = tmp_path / "keyring-v1.json"
    path.write_bytes(offline_manifest.to_bytes())
    return path


def init(runner: CliRunner, root: Path, *args: str) -> Result:
    """Run `raazdar --instance ROOT init ARGS`."""
    return runner.invoke(main, ["--instance", str(root), "init", *args])


# --- raazdar init ----------------------------------------------------------------


def test_init_demo_creates_a_private_layout_and_warns_loudly(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = tmp_path / "new"
    result = init(runner, root, "--demo")
    assert result.exit_code == 0, result.output
    assert f"raazdar: created an instance in {root}" in result.stdout
    assert "DEMONSTRATION INSTANCE" in result.stderr
    assert "passphrase 'demo'" in result.stderr
    assert "Never use it" in result.stderr
    paths = InstancePaths(root)
    expected = [
        paths.config,
        paths.secret_key,
        paths.signing_key,
        paths.pinned,
        paths.manifests / "000001.json",
        paths.database,
        paths.demo_keys / "reviewer.key",
        *(paths.demo_keys / f"authority-{i}.key" for i in (1, 2, 3)),
    ]
    for path in expected:
        assert path.is_file(), path
    wrong = {
        str(path.relative_to(tmp_path)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in [root, *root.rglob("*")]
        if stat.S_IMODE(path.stat().st_mode) != (0o700 if path.is_dir() else 0o600)
    }
    assert wrong == {}
    assert isinstance(config_for(root), DemoConfig)


def test_init_with_the_fast_kdf_makes_a_demo_instance_the_tests_can_use(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = tmp_path / "new"
    assert init(runner, root, "--demo", "--fast-kdf").exit_code == 0
    config = config_for(root)
    assert isinstance(config, DemoConfig)
    assert config.CODENAME_KDF.is_testing
    create_app(config)


@pytest.mark.parametrize("existing", ["instance", "other files"])
def test_init_refuses_a_directory_in_use(runner: CliRunner, tmp_path: Path, existing: str) -> None:
    root = tmp_path / "taken"
    if existing == "instance":
        assert init(runner, root, "--demo", "--fast-kdf").exit_code == 0
    else:
        root.mkdir()
        (root / "notes.txt").write_text("keep me")
    before = sorted(p.name for p in root.iterdir())
    result = init(runner, root, "--demo", "--fast-kdf")
    assert result.exit_code == 1
    assert result.stderr.startswith("raazdar: error: ")
    assert sorted(p.name for p in root.iterdir()) == before


def test_init_needs_demo_or_a_manifest(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "new"
    result = init(runner, root)
    assert result.exit_code == 1
    assert result.stderr.startswith("raazdar: error: give exactly one of --demo and --manifest")
    assert "raazdar: hint: " in result.stderr
    assert not root.exists()


def test_init_refuses_demo_and_a_manifest_together(
    runner: CliRunner, tmp_path: Path, manifest_file: Path
) -> None:
    result = init(runner, tmp_path / "new", "--demo", "--manifest", str(manifest_file))
    assert result.exit_code == 1
    assert "raazdar: error: give exactly one" in result.stderr


def test_init_with_a_manifest_pins_its_authorities(
    runner: CliRunner, tmp_path: Path, manifest_file: Path, offline_manifest: SignedManifest
) -> None:
    root = tmp_path / "new"
    result = init(runner, root, "--manifest", str(manifest_file))
    assert result.exit_code == 0, result.output
    fingerprints = sorted(str(a.key.fingerprint) for a in offline_manifest.manifest.authorities)
    for fingerprint in fingerprints:
        assert f"raazdar: pinned authority key {fingerprint}" in result.stdout
    # A pins file carrying it refuses a fork by holders rotated out (tests/submit/test_trust.py).
    printed = f"keyring 1 {format_digest(offline_manifest.manifest.digest())}"
    assert f"raazdar: pins file line: {printed}\n" in result.stdout
    paths = InstancePaths(root)
    assert json.loads(paths.pinned.read_text())["authority"] == fingerprints
    assert (paths.manifests / "000001.json").read_bytes() == manifest_file.read_bytes()
    assert not paths.demo_keys.exists()
    assert "DEMONSTRATION" not in result.output
    config = config_for(root)
    assert isinstance(config, ProductionConfig)
    create_app(config)


def _spoiled(how: str, signed: SignedManifest, offline: Path) -> bytes:
    """A first manifest that must not be pinned."""
    if how == "one-signature":
        body = json.loads(signed.to_bytes())
        body["signatures"] = body["signatures"][:1]
        return json.dumps(body).encode()
    if how == "expired":
        day = today() - dt.timedelta(days=400)
        manifest = dataclasses.replace(signed.manifest, issued=day, expires=day + dt.timedelta(1))
        resigned = SignedManifest(manifest)
        for path in sorted(offline.glob("authority-*.key"))[:2]:
            key = KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing
            assert key is not None
            resigned = resigned.sign(key)
        return resigned.to_bytes()
    return {"garbage": b"not a manifest", "empty": b""}[how]


@pytest.mark.parametrize("how", ["one-signature", "expired", "garbage", "empty"])
def test_init_refuses_a_manifest_that_does_not_verify_and_leaves_nothing(
    runner: CliRunner, tmp_path: Path, offline_manifest: SignedManifest, how: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(_spoiled(how, offline_manifest, tmp_path / "offline"))
    root = tmp_path / "new"
    result = init(runner, root, "--manifest", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("raazdar: error: ")
    assert "Traceback" not in result.output
    assert not root.exists()


def test_a_failed_init_removes_what_it_created(tmp_path: Path) -> None:
    root = tmp_path / "new"
    with pytest.raises(OperationalError):
        initialise(
            root,
            signed=None,
            database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}",
            kdf=KdfParams.TESTING,
            demo=True,
        )
    assert not root.exists()


def test_the_store_starts_empty_and_staging_exists(instance: Path) -> None:
    paths = InstancePaths(instance)
    assert sorted(p.name for p in paths.store.iterdir()) == [".staging"]
    assert list(paths.staging.iterdir()) == []


def test_every_command_and_option_has_help(runner: CliRunner) -> None:
    assert main.help
    for name, command in main.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
