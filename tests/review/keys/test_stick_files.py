"""What the IN stick carries for the keys (a keyring, the server's description) must be a file.

Whoever carries the stick chose what stands there: a named pipe no one writes to held
`keys install` (the workspace unlocked) and `init` for ever, as it once held `exchange
import`; a sparse file of gigabytes, which takes no room on the stick, was read whole.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.review.support import Server, reaped_peak, start_review

# A refusal is immediate; this only bounds a run that hangs, on a busy machine.
BOUNDED = 30.0


def _run(workspace: Path, args: list[str], cwd: Path) -> int:
    proc = start_review(workspace, *args, cwd=cwd)
    try:
        proc.communicate(timeout=BOUNDED)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"`{' '.join(args[:2])}` still ran after {BOUNDED} s")
    return proc.returncode


def _args(command: str, carried: Path, server: Server) -> list[str]:
    enrol = ["--reviewer", "demo-reviewer", "--key-file", str(server.reviewer_key_file)]
    if command == "keys install":
        return ["keys", "install", str(carried)]
    if command == "init --keyring":
        return ["init", "--keyring", str(carried), *enrol]
    return ["init", "--server-info", str(carried), *enrol]


COMMANDS = ["keys install", "init --keyring", "init --server-info"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_named_pipe_on_the_stick_is_refused_not_waited_on(
    command: str, server: Server, workspace: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    os.mkfifo(stick / "carried.json")
    target = workspace if command == "keys install" else tmp_path / "new-workspace"
    assert _run(target, _args(command, stick / "carried.json", server), tmp_path) == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sparse_file_of_gigabytes_on_the_stick_is_refused_unread(
    command: str, server: Server, workspace: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    carried = stick / "carried.json"
    with carried.open("wb") as f:
        f.truncate(1 << 30)  # no block written: a stick holds it
    target = workspace if command == "keys install" else tmp_path / "new-workspace"
    proc = start_review(target, *_args(command, carried, server), cwd=tmp_path)
    code, peak = reaped_peak(proc, BOUNDED, f"`{command}` of a sparse file")
    assert peak < 256 << 20, f"`{command}` took {peak >> 20} MiB to refuse a sparse file"
    assert code == 1
