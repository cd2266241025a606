"""What the server's console reads off the OUT stick must be a file: a pipe is refused at once.

The OUT stick carries reply bundles, keyring manifests, keyring timestamps and
subkey lists from the review workstation, and its carrier chooses what lies
where each should be. A stick formatted ext4 can hold a named pipe under the
file's name; opened as a file, a pipe no one writes to holds the console for
ever, with no word said. The workstation's import refuses one already
(`tests/review/intake/test_stick_files.py`); the server's console must too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main

# A refusal is immediate; past this the test opens the pipe itself, so a hang ends.
BOUNDED = 8.0


@pytest.mark.parametrize(
    "command",
    [
        ("import-replies",),
        ("keyring", "install"),
        ("keyring", "timestamp"),
        ("keyring", "subkeys", "install"),
    ],
    ids=["reply-bundle", "keyring", "timestamp", "subkey-list"],
)
def test_a_named_pipe_handed_in_from_the_out_stick_is_refused_not_waited_on(
    instance: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    pipe = stick / "from-the-workstation.json"
    os.mkfifo(pipe)
    finished = threading.Event()
    waited = threading.Event()

    def release() -> None:
        # Opening the other end lets a reader blocked in open() go on (it then reads nothing).
        if finished.wait(BOUNDED):
            return
        waited.set()
        while not finished.is_set():
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader has it open yet
                finished.wait(0.1)

    helper = threading.Thread(target=release, daemon=True)
    helper.start()
    try:
        result = CliRunner().invoke(main, ["--instance", str(instance), *command, str(pipe)])
    finally:
        finished.set()
        helper.join()
    said = " ".join(command)
    assert not waited.is_set(), f"{said} still waited on a named pipe after {BOUNDED} s"
    assert result.exit_code == 1
    assert "not a file" in result.output
    assert "Traceback" not in result.output
