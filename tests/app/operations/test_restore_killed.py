"""A restore that fails or is killed at any step loses nothing, and the next run finishes it.

`raazdar restore` checks the whole backup, then moves it into place name by name. A
disk that fails one of those steps (`tests.app.faults.StepFaults`), or a SIGKILL
between two moves, left the `restored` mark and some of the files in the instance
and the rest in a `.restore-…` directory: the next restore refused the instance as
taken, and a refusal's clean-up destroyed the files not yet moved (the store's
envelopes among them). Now the next `raazdar restore`, or any command that reads the
instance, finishes the moves, and the instance is the one a clean restore gives.
"""

from __future__ import annotations

import errno
import io
import multiprocessing
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.config import config_for
from app.errors import RestoreUnfinished
from app.instance import InstancePaths
from app.operations import put_back
from crypto import Fingerprint, SigningKey
from tests.app.faults import StepFaults
from tests.app.operations.test_exchange import submit

# The files and SQLite (PostgreSQL: test_backup_postgres.py, test_restore_postgres.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _backup_with_reports(app: Flask, instance: Path) -> tuple[bytes, str]:
    """A backup of an instance holding two reports' envelopes, and its signing key's print."""
    submit(app.test_client(), "The SHO took money to free the agent", b"\xff\xd8 a photo")
    result = CliRunner().invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.output
    text = InstancePaths(instance).signing_key.read_text("ascii")
    return result.stdout_bytes, str(SigningKey.from_text(text).verify_key.fingerprint)


def _restore(instance: Path, backup: bytes, pinned: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--instance", str(instance), "restore", "--signing-key", pinned], input=backup
    )
    return result.exit_code, result.output


def _contents(root: Path) -> dict[str, bytes | None]:
    """Every name under `root` and what it holds (None: a directory)."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def _clean_restore(backup: bytes, pinned: str, where: Path) -> dict[str, bytes | None]:
    where.mkdir(mode=0o700)
    assert _restore(where, backup, pinned)[0] == 0
    return _contents(where)


def test_a_restore_failing_at_any_step_is_finished_by_the_next_and_loses_nothing(
    app: Flask, instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup, pinned = _backup_with_reports(app, instance)
    whole = _clean_restore(backup, pinned, tmp_path / "clean")
    assert any(name.startswith("store/") for name in whole)
    target = tmp_path / "instance"

    def action() -> tuple[int, str]:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(mode=0o700)
        return _restore(target, backup, pinned)

    def failed(step: int, result: tuple[int, str]) -> None:
        status, output = result
        assert status == 1, (step, output)
        assert "raazdar: error:" in output, (step, output)
        status, output = _restore(target, backup, pinned)
        assert status == 0, f"step {step}: the next restore refused: {output}"
        assert _contents(target) == whole, f"step {step}: the instance is not the backup's"

    # From the checked backup's move on: a step failing before it is undone whole
    # (tests/app/operations/test_restore_planted.py), and walking those too took 15 s.
    walker = StepFaults(monkeypatch, errno.EIO, after=(put_back._Reader, "finish"))
    steps = walker.walk(action, failed)
    assert steps > 10


def _killed_at_move(target: Path, backup: bytes, pinned: str, move: int) -> None:
    """Run the restore in a child process that SIGKILLs itself at its `move`-th rename."""

    def run() -> None:
        real, moves = os.rename, [0]

        def rename(*args: Any, **kwargs: Any) -> None:
            moves[0] += 1
            if moves[0] == move:
                os.kill(os.getpid(), signal.SIGKILL)
            real(*args, **kwargs)

        os.rename = rename
        put_back.put_back(InstancePaths(target), io.BytesIO(backup), Fingerprint.parse(pinned))

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL, f"move {move}: the restore was not killed"


def test_a_restore_killed_at_any_move_is_finished_by_the_next_command(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    backup, pinned = _backup_with_reports(app, instance)
    whole = _clean_restore(backup, pinned, tmp_path / "clean")
    # The directory's own rename, then one for each name at the instance's top.
    moves = 1 + sum(1 for name in whole if "/" not in name)
    target = tmp_path / "instance"
    for move in range(1, moves + 1):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(mode=0o700)
        _killed_at_move(target, backup, pinned, move)
        # The operator's two ways on: the restore again, or the server's start.
        if move % 2:
            status, output = _restore(target, backup, pinned)
            assert status == 0, f"move {move}: the next restore refused: {output}"
        else:
            # The server's start reads the instance, finishes the moves, and refuses to serve
            # an unfinished restore (not an instance with no config).
            with pytest.raises(RestoreUnfinished):
                config_for(target).validate()
        assert _contents(target) == whole, f"move {move}: the instance is not the backup's"
