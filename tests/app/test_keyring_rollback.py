"""A keyring rolled back on disk with its timestamp removed too: the database remembers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app import create_app
from app.cli import main
from app.config import config_for
from app.demo import DEMO_PASSPHRASE
from app.errors import ConfigError
from app.instance import InstancePaths
from app.keyring import manifest_path, timestamp_path
from app.models import today
from app.operations.doctor import Status, diagnose
from crypto import KeyFile, SignedManifest
from tests.app.support import (
    Visitor,
    assert_clean_page,
    assert_nothing_stored,
    install_successor,
)


def _install_v2(instance: Path) -> Path:
    """Sign keyring v2 and install it as an administrator does (`raazdar keyring install`)."""
    paths = InstancePaths(instance)
    v1 = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes())
    v2 = install_successor(instance, v1.manifest.recipients)
    manifest_path(paths, 2).unlink()  # written by the helper: installed properly below
    carried = instance.parent / "keyring-v2.json"
    carried.write_bytes(v2.to_bytes())
    installed = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "install",
                                          str(carried)])  # fmt: skip
    assert installed.exit_code == 0, installed.output
    return carried


def test_a_keyring_rolled_back_with_its_timestamp_removed_takes_nothing(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    """Whoever can write the instance directory removes keyring v2 (which may drop a revoked
    reviewer) and the timestamp that vouched for it: the chain to v1 verifies as well as
    ever, and browser reports were sealed to v1's reviewers again."""
    carried = _install_v2(instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2
    paths = InstancePaths(instance)
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)

    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503, "a browser report was sealed to the rolled-back keyring"
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] is None
    shown = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert "older than the v2 the audit log records installed here" in shown.output, shown.output
    (check,) = [c for c in diagnose(instance, today()) if c.name == "keyring"]
    assert check.status is Status.FAIL, check.message
    assert "v2" in check.message

    # Installing v2 again is the way back.
    again = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "install",
                                      str(carried)])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert visitor.send(visitor.start(), "the SHO").status_code == 303


def test_production_refuses_to_start_on_a_keyring_rolled_back_with_its_timestamp(
    production: Path, offline_manifest: SignedManifest, tmp_path: Path
) -> None:
    """Config fails closed: a server whose newer keyring files were removed (timestamp and
    all) started and served pages, its files verifying as well as ever."""
    signers = [
        signing
        for path in sorted((tmp_path / "offline").glob("authority-*.key"))
        if (signing := KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing)
    ]
    v2 = install_successor(production, offline_manifest.manifest.recipients, signers=signers[:2])
    paths = InstancePaths(production)
    manifest_path(paths, 2).unlink()
    carried = tmp_path / "keyring-v2.json"
    carried.write_bytes(v2.to_bytes())
    installed = CliRunner().invoke(main, ["--instance", str(production), "keyring", "install",
                                          str(carried)])  # fmt: skip
    assert installed.exit_code == 0, installed.output
    create_app(config_for(production))
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)
    with pytest.raises(ConfigError, match="the audit log records installed here"):
        create_app(config_for(production))
