"""What `raazdar import-replies` is handed on a stick must be a file: a pipe is refused at once.

The carrier of the stick chooses what lies where the reply bundle should be. A
stick formatted ext4 can hold a named pipe under the bundle's name; opened as a
file, a pipe no one writes to holds the console's `import-replies` for ever,
with no word said. The workstation's import refuses one already
(`tests/review/intake/test_stick_files.py`); the server's console must too.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from click.testing import CliRunner

from app.cli import main

# A refusal is immediate; past this the test opens the pipe itself, so a hang ends.
BOUNDED = 5.0


def test_a_named_pipe_handed_in_as_a_reply_bundle_is_refused_not_waited_on(
    instance: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    pipe = stick / "replies.rzr"
    os.mkfifo(pipe)
    finished = threading.Event()
    waited = threading.Event()

    def release() -> None:
        # Opening the other end lets a reader blocked in open() go on (it then reads nothing).
        if not finished.wait(BOUNDED):
            waited.set()
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=release, daemon=True)
    helper.start()
    try:
        result = CliRunner().invoke(
            main, ["--instance", str(instance), "import-replies", str(pipe)]
        )
    finally:
        finished.set()
        helper.join()
    assert not waited.is_set(), f"import-replies still waited on a named pipe after {BOUNDED} s"
    assert result.exit_code == 1
    assert "not a file" in result.output
    assert "Traceback" not in result.output
