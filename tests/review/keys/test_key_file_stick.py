"""Key files and subkey files a stick carries must be files, read within their limits.

A reviewer's or a body's key file, a subkey list and its secrets come to the workstation
by hand, and whoever carries the stick chooses what stands there: a named pipe no one
writes to held `bodies add`, `workspace enrol`, `keys upgrade`, `subkeys adopt` (the
workspace unlocked) and the rest for ever; a sparse file of gigabytes, which takes no
room on the stick, was read whole into memory before any check of its size.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.review.support import Server, reaped_peak, start_review

# A refusal is immediate; this only bounds a run that hangs, on a busy machine.
BOUNDED = 30.0

COMMANDS = [
    "keys upgrade",
    "workspace enrol",
    "init --key-file",
    "bodies add --key-file",
    "bodies open --key-file",
    "keys subkeys adopt SECRETS",
    "keys subkeys adopt LIST",
]


def _args(command: str, carried: Path, server: Server, tmp_path: Path) -> list[str]:
    """The command's arguments, with `carried` where the stick's file goes."""
    plain = tmp_path / "plain.json"
    plain.write_bytes(b"{}")
    if command == "keys upgrade":
        return ["keys", "upgrade", str(carried)]
    if command == "workspace enrol":
        return ["workspace", "enrol", "--key-file", str(carried), "--reviewer", "demo-reviewer"]
    if command == "init --key-file":
        keyring = sorted(server.paths.manifests.iterdir())[-1]
        enrol = ["--reviewer", "demo-reviewer", "--key-file", str(carried)]
        return ["init", "--keyring", str(keyring), *enrol]
    if command == "bodies add --key-file":
        body = ["--name", "Cell", "--jurisdiction", "Punjab", "--contact", "by hand"]
        return ["bodies", "add", *body, "--key-file", str(carried)]
    if command == "bodies open --key-file":
        out = tmp_path / "opened"
        return ["bodies", "open", str(plain), "--key-file", str(carried), "--out", str(out)]
    if command == "keys subkeys adopt SECRETS":
        return ["keys", "subkeys", "adopt", str(carried), str(plain)]
    return ["keys", "subkeys", "adopt", str(plain), str(carried)]


def _target(command: str, workspace: Path, tmp_path: Path) -> Path:
    return tmp_path / "new-workspace" if command.startswith(("init", "bodies open")) else workspace


@pytest.mark.parametrize("command", COMMANDS)
def test_a_named_pipe_for_a_key_file_is_refused_not_waited_on(
    command: str, server: Server, workspace: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    carried = stick / "carried.key"
    os.mkfifo(carried)
    args = _args(command, carried, server, tmp_path)
    proc = start_review(_target(command, workspace, tmp_path), *args, cwd=tmp_path)
    try:
        proc.communicate(timeout=BOUNDED)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"`{command}` still ran after {BOUNDED} s, waiting on a pipe")
    assert proc.returncode == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sparse_key_file_of_gigabytes_is_refused_unread(
    command: str, server: Server, workspace: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    carried = stick / "carried.key"
    with carried.open("wb") as f:
        f.truncate(1 << 30)  # no block written: a stick holds it
    args = _args(command, carried, server, tmp_path)
    proc = start_review(_target(command, workspace, tmp_path), *args, cwd=tmp_path)
    code, peak = reaped_peak(proc, BOUNDED, f"`{command}` of a sparse file")
    assert peak < 256 << 20, f"`{command}` took {peak >> 20} MiB to refuse a sparse file"
    assert code == 1
