"""A rotation cut off after its key was made and before its audit entry is finished by the next.

`raazdar rotate signing-key` and `rotate onion` write the pending key, then commit the
audit entry naming it: a database gone between the two left the key pending and unrecorded,
and every later run said "already pending" and recorded nothing, so the log never said the
server's keys were rotated. `rotate secret-key` told a rotation committed and cut off before
its switch by a second factor sealed under the waiting key: an instance where nobody has
one yet dropped the committed key and rotated again, its log saying two rotations for one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.exc import OperationalError

from app.cli import main
from app.instance import InstancePaths
from app.operations import rotation
from app.services import audit
from tests.app.support import audit_trail

ROTATED = {"signing-key": "server-signing-key-rotated", "onion": "source-onion-rotated"}


def _pending(instance: Path, command: str) -> Path:
    paths = InstancePaths(instance)
    if command == "signing-key":
        return rotation.pending_signing_path(paths)
    return rotation.onion_paths(paths)[1]


@pytest.mark.parametrize("command", ["signing-key", "onion"])
def test_a_pending_key_whose_audit_entry_failed_is_recorded_by_the_next_run(
    app: Flask,
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    rotate = ["--instance", str(instance), "rotate", command]
    recorded = audit.record

    def database_gone(*args: object, **kwargs: object) -> object:
        raise OperationalError("INSERT", {}, Exception("the database went away"))

    with monkeypatch.context() as patched:
        patched.setattr(audit, "record", database_gone)
        cut = runner.invoke(main, rotate)
    assert audit.record is recorded
    assert cut.exit_code == 1, cut.output
    assert _pending(instance, command).exists()

    again = runner.invoke(main, rotate)
    assert again.exit_code == 0, again.output
    assert "already" not in again.output
    entries = [d for _, action, d in audit_trail(app) if action == ROTATED[command]]
    assert len(entries) == 1, f"the rotation is not in the audit log: {entries}"
    named = next(iter(entries[0].values()))
    assert isinstance(named, str)
    assert named in again.output  # the key the log names is the one pending, and shown
    # Recorded now, the next run says it is pending, as before, and records nothing more.
    third = runner.invoke(main, rotate)
    assert third.exit_code == 1
    assert "already" in third.output
    assert len([a for _, a, _ in audit_trail(app) if a == ROTATED[command]]) == 1


def test_a_secret_key_rotation_cut_off_before_its_switch_is_finished_with_no_staff_enrolled(
    make_app: Callable[..., Flask],
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    rotate = ["--instance", str(instance), "rotate", "secret-key"]
    paths = InstancePaths(instance)

    def cut_off(_paths: InstancePaths) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(rotation, "switch_secret_key", cut_off)
        cut = runner.invoke(main, rotate)
    assert cut.exit_code == 1, cut.output
    committed = rotation.pending_secret_path(paths).read_bytes()

    again = runner.invoke(main, rotate)
    assert again.exit_code == 0, again.output
    assert "is finished" in again.output
    assert paths.secret_key.read_bytes() == committed, "the committed key was dropped"
    rotated = [a for _, a, _ in audit_trail(app) if a == "secret-key-rotated"]
    assert len(rotated) == 1, f"one rotation, logged as {len(rotated)}"
