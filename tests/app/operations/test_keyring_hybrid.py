"""Keyring format 3 on the server: installed, shown, never followed by format 2; the demo's keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.demo import (
    DEMO_KEYRING_FORMAT,
    DEMO_PASSPHRASE,
    SUBKEYS_DIR,
    make_demo_keyring,
    subkeys_paths,
)
from app.instance import InstancePaths
from app.keyring import write_replacing
from app.operations.keyring_admin import KeyringInstallError, _write_new
from crypto import (
    CodenameParams,
    KdfParams,
    KeyFile,
    Recipient,
    SignedSubkeyList,
    open_bytes,
    subkeys,
)
from crypto.hybrid import HybridPrivateKey
from tests.app.test_instance_keyring import in_force, listing, raazdar, successor_file


def demo_reviewer(instance: Path) -> KeyFile:
    return KeyFile.from_bytes((InstancePaths(instance).demo_keys / "reviewer.key").read_bytes())


def with_hybrid_keys(instance: Path) -> tuple[Recipient, ...]:
    key = demo_reviewer(instance).hybrid_public
    return tuple(dataclasses.replace(r, hybrid_key=key) for r in in_force(instance).recipients)


def test_the_demo_reviewer_key_holds_an_x_wing_key_and_the_demo_keyring_format_is_one_switch(
    instance: Path, tmp_path: Path
) -> None:
    file = demo_reviewer(instance)
    assert file.format == 3
    assert file.hybrid_public is not None
    assert in_force(instance).format == DEMO_KEYRING_FORMAT
    made = make_demo_keyring(
        tmp_path / "demo",
        dt.date.today(),
        instance=listing(instance),
        codename=CodenameParams(bytes(16), KdfParams.TESTING),
        kdf=KdfParams.TESTING,
        keyring_format=3,
    ).manifest
    assert made.format == 3
    assert made.seals_to_subkeys
    written = KeyFile.from_bytes((tmp_path / "demo" / "reviewer.key").read_bytes())
    assert made.recipients[0].hybrid_key == written.hybrid_public
    # Format 3 needs subkeys to seal to: the demo makes the reviewer's list and secrets.
    listed, sealed = subkeys_paths(tmp_path / "demo", "demo-reviewer")
    reviewer = made.recipients[0]
    signed = SignedSubkeyList.from_bytes(listed.read_bytes())
    current = subkeys.current(signed, reviewer.signing_key, dt.date.today())
    assert current != reviewer.hybrid_key
    keys = written.unlock(DEMO_PASSPHRASE)
    plain, _ = open_bytes(sealed.read_bytes(), [keys.hybrid] if keys.hybrid else [])
    secrets = subkeys.SubkeySecrets.from_bytes(plain)
    held = secrets.get(subkeys.Period.of(dt.date.today()))
    assert held is not None
    assert held.public_key == current
    assert listed.stat().st_mode & 0o777 == sealed.stat().st_mode & 0o777 == 0o600


def test_the_demo_makes_subkeys_only_for_format_three(instance: Path) -> None:
    made = (InstancePaths(instance).demo_keys / SUBKEYS_DIR).exists()
    assert made == (DEMO_KEYRING_FORMAT == 3)


def test_a_format_three_keyring_installs_and_keyring_show_lists_the_hybrid_keys(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    path = successor_file(instance, tmp_path, recipients=with_hybrid_keys(instance))
    installed = raazdar(runner, instance, "keyring", "install", str(path))
    assert installed.exit_code == 0, installed.output
    assert "weekly subkeys" in installed.output
    assert in_force(instance).format == 3
    shown = raazdar(runner, instance, "keyring", "show")
    assert shown.exit_code == 0, shown.output
    hybrid = demo_reviewer(instance).hybrid_public
    assert hybrid is not None
    assert f"hybrid key      {hybrid.fingerprint}" in shown.output
    assert "format            3" in shown.output


def test_a_format_two_successor_of_format_three_is_refused(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    first = successor_file(instance, tmp_path, recipients=with_hybrid_keys(instance))
    assert raazdar(runner, instance, "keyring", "install", str(first)).exit_code == 0
    current = in_force(instance)
    back = successor_file(
        instance,
        tmp_path,
        recipients=tuple(dataclasses.replace(r, hybrid_key=None) for r in current.recipients),
    )
    refused = raazdar(runner, instance, "keyring", "install", str(back))
    assert refused.exit_code == 1
    assert "hybrid keys" in refused.stderr
    assert in_force(instance).version == current.version
    assert in_force(instance).format == 3


def test_a_format_three_keyring_with_a_swapped_hybrid_key_is_refused(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    path = successor_file(instance, tmp_path, recipients=with_hybrid_keys(instance))
    mallory = HybridPrivateKey.generate().public_key.to_text()
    real = demo_reviewer(instance).public["xwing"]
    assert real is not None
    path.write_bytes(path.read_bytes().replace(real.encode(), mallory.encode()))
    refused = raazdar(runner, instance, "keyring", "install", str(path))
    assert refused.exit_code == 1
    assert in_force(instance).format == DEMO_KEYRING_FORMAT


def test_a_version_is_written_whole_once_and_never_over_another(tmp_path: Path) -> None:
    target = tmp_path / "000002.json"
    _write_new(target, b"first")
    with pytest.raises(KeyringInstallError, match="already installed"):
        _write_new(target, b"second")
    assert target.read_bytes() == b"first"
    write_replacing(target, b"replaced")
    assert target.read_bytes() == b"replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000002.json"]
    assert target.stat().st_mode & 0o777 == 0o600
