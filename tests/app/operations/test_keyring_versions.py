"""A keyring's version is a number however many digits it has: the chain is read in its order.

Any higher version follows the one in force (PROTOCOL §8.5). The server kept each
version as a file named by six digits and read the chain in the order of those
names, so a seven-digit version sorted before a six-digit one: a colleague about
to be revoked who had the holders sign a keyring numbered 999999 (one line of the
difference they read) kept the keyring that drops them, 1000000, from ever
installing, and the server from sealing to anyone once it was put in place.
Installers now take only the next version (rule `step`), but a chain installed
before that rule may hold such a jump, and stays readable.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.instance import InstancePaths
from app.keyring import manifest_path
from tests.app.operations.test_keyring_install import install_by_cli, successor
from tests.app.support import Visitor, new_reviewer


def test_the_keyring_after_version_999999_installs_and_is_in_force(
    app: Flask, instance: Path, runner: CliRunner, visitor: Visitor
) -> None:
    # Installed before installers took only the next version: a chain keeps its jumps.
    jumped = successor(instance, version=999_999)
    manifest_path(InstancePaths(instance), 999_999).write_bytes(jumped.to_bytes())
    _, reviewer = new_reviewer()
    revoking = successor(instance, [reviewer], version=1_000_000)

    code, said = install_by_cli(runner, instance, revoking.to_bytes())

    assert code == 0, f"the keyring after version 999999 was refused: {said}"
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 1_000_000
    shown = runner.invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert shown.exit_code == 0, shown.output
    assert "1000000" in shown.output
