"""The first keyring `raazdar init --manifest` reads off a stick must be a file.

Every other file the server's console takes from a stick is refused at once when a pipe
stands in its place (`tests/app/operations/test_exchange_stick_files.py`); the first
keyring was read with `read_bytes()`: a named pipe no one writes to held `init` for
ever, with no word said, and a sparse file of gigabytes was read whole.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from click.testing import CliRunner

from app.cli import main

# A refusal is immediate; past this the test opens the pipe itself, so a hang ends.
BOUNDED = 8.0


def test_a_named_pipe_for_the_first_keyring_is_refused_not_waited_on(tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    pipe = stick / "keyring-v1.json"
    os.mkfifo(pipe)
    finished, waited = threading.Event(), threading.Event()

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
    root = tmp_path / "new"
    try:
        args = ["--instance", str(root), "init", "--manifest", str(pipe)]
        result = CliRunner().invoke(main, args)
    finally:
        finished.set()
        helper.join()
    assert not waited.is_set(), f"init still waited on a named pipe after {BOUNDED} s"
    assert result.exit_code == 1
    assert "not a file" in result.output
    assert "Traceback" not in result.output
    assert not root.exists(), "a refused keyring left an instance behind"
