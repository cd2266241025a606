"""A key rotation that fails at any step leaves a server that exports, and a next run that works.

`raazdar rotate signing-key` and `rotate onion` wrote the pending key in place, unflushed:
a full disk or a kill between the file's creation and its last byte left an empty or cut
pending key, which every export (`app.operations.rotation.finish_promotion`), keyring
install and `keyring instance-info` then failed to read, and which the next rotation
refused as "already pending" without being able to read it either.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import kdf_pool
from app.cli import main
from app.instance import InstancePaths
from app.operations import rotation
from tests.app.faults import StepFaults


@pytest.mark.parametrize(
    ("command", "function"),
    [("signing-key", "rotate_signing_key"), ("onion", "rotate_onion")],
)
def test_a_rotation_failing_at_any_step_leaves_exports_working_and_the_next_run_finishes(
    instance: Path,
    tmp_path: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    function: str,
) -> None:
    rotate = ["--instance", str(instance), "rotate", command]

    def action() -> tuple[int, str]:
        result = runner.invoke(main, rotate)
        return result.exit_code, result.output

    def failed(step: int, result: tuple[int, str]) -> None:
        status, output = result
        # A step the app's start up takes and lets fail (emptying a WAL) stops nothing.
        assert status == 0 or "raazdar: error:" in output, (step, output)
        exported = runner.invoke(
            main, ["--instance", str(instance), "export", "--out", str(tmp_path / f"{step}.rzb")]
        )
        assert exported.exit_code == 0, f"step {step}: the export failed: {exported.output}"
        if status != 0:
            again = runner.invoke(main, rotate)
            assert again.exit_code == 0, f"step {step}: the next rotation failed: {again.output}"
        # Started again for the next step: no key is pending.
        for pending in (
            rotation.pending_signing_path(InstancePaths(instance)),
            rotation.onion_paths(InstancePaths(instance))[1],
        ):
            pending.unlink(missing_ok=True)

    walker = StepFaults(
        monkeypatch, errno.ENOSPC, after=(rotation, function), outside=(kdf_pool, "prepare")
    )
    assert walker.walk(action, failed) > 1
