"""What the import is handed on a stick must be a file: a pipe or a device is refused at once.

A stick formatted ext4 (or an image mounted from one) can hold a named pipe, a
device node or a symlink to either where the bundle should be. Opened as a file,
a pipe no one writes blocks the import for ever, the workspace unlocked; a
character device reads without end.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.review.support import Server, review, start_review

# A refusal is immediate; this only bounds a run that hangs, on a busy machine.
BOUNDED = 20.0


def _import(workspace: Path, bundle: Path, cwd: Path) -> tuple[int, bytes]:
    proc = start_review(workspace, "import", str(bundle), cwd=cwd)
    try:
        out, _ = proc.communicate(timeout=BOUNDED)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the import of {bundle.name} still ran after {BOUNDED} s")
    return proc.returncode, out


def test_a_named_pipe_on_the_stick_is_refused_not_waited_on(
    workspace: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    os.mkfifo(stick / "export.rzb")
    code, _ = _import(workspace, stick / "export.rzb", tmp_path)
    assert code == 1


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_on_the_stick_is_refused(
    workspace: Path, tmp_path: Path, device: str
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "export.rzb").symlink_to(device)
    code, _ = _import(workspace, stick / "export.rzb", tmp_path)
    assert code == 1


def test_a_named_pipe_left_as_a_part_file_on_the_stick_does_not_stop_the_export(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """`exchange export` reads the `.…part` files in its folder, to destroy a reply bundle
    an export cut short left there: a pipe among them must not hold it."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    stick = tmp_path / "stick"
    stick.mkdir()
    os.mkfifo(stick / ".r0.rzr.abc.part")
    proc = start_review(workspace, "export-replies", "--out", str(stick / "r1.rzr"), cwd=tmp_path)
    try:
        proc.communicate(timeout=BOUNDED)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the export still ran after {BOUNDED} s")
    assert proc.returncode == 0
    assert (stick / "r1.rzr").is_file()
