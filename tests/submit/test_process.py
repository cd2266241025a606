"""What others on the machine see of a run in the process list (`ps`, /proc/PID/cmdline).

On a shared computer every user reads every process's command line and name. The
attack: someone else logged in (a colleague of those a report accuses) runs `ps`
while the source sends. The client's command line named the state directory, the
pins file on its stick, the command and the files sent; the editor's, the draft's
directory, named for the tool. Android shows other apps none of Termux's processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Final

import pytest

from submit import sensitive
from tests.editor import stub_editor
from tests.submit.test_killed import _opening

_TREE: Final = Path(__file__).parents[2]
# The entry point the installed `raazdar-submit` script runs.
_ENTRY: Final = tomllib.loads((_TREE / "pyproject.toml").read_text())["project"]["scripts"][
    "raazdar-submit"
]


def test_the_process_list_names_neither_the_tool_nor_its_command_nor_its_paths(
    tmp_path: Path,
) -> None:
    module, function = _ENTRY.split(":")
    state = tmp_path / "hidden-state"
    pins = tmp_path / "stick-pins.txt"
    pins.write_text("instance http://127.0.0.1:9\n")
    codename = tmp_path / "codename"
    os.mkfifo(codename)
    ledger = tmp_path / "ledger.jpg"
    ledger.write_bytes(b"")
    sent = ["--message-file", str(tmp_path / "report.txt"), str(ledger)]
    arguments = ["--state", str(state), "--pins-file", str(pins), "--direct", "send", *sent]
    arguments += ["--codename-file", str(codename)]
    proc = subprocess.Popen(  # noqa: S603 - our own client, fixed arguments
        [sys.executable, "-c", f"from {module} import {function}; {function}()", *arguments],
        env={**os.environ, "PYTHONPATH": str(_TREE)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _opening(proc.pid):  # blocked on the codename's FIFO: well into the run
            assert time.monotonic() < deadline, "the client never read its codename"
            assert proc.poll() is None, "the client ended before it read its codename"
            time.sleep(0.05)
        shown = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        name = Path(f"/proc/{proc.pid}/comm").read_text().strip()
    finally:
        proc.kill()
        proc.wait(10)
    told = [w for w in ("raazdar", str(state), str(pins), "send", "ledger") if w in shown + name]
    assert told == [], f"others on the machine read {told} in `{shown.strip()}` ({name})"


def test_the_editors_command_line_names_no_directory_of_the_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, record = stub_editor(tmp_path, "nano")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    assert sensitive.edit_text() == "written in the editor"
    argv = json.loads(record.read_text())["argv"]
    assert "raazdar" not in " ".join(argv[1:]), f"others on the machine read {argv}"
