"""A review command killed outright (SIGKILL, out of memory) with its editor open.

The editor (`editor`) writes the secret into its draft, then records where the draft is and
its own pid, and waits; `kill_at_editor` kills the command and the editor once it has, as
the kernel's out-of-memory killer would: no `finally` of either runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_KILLED_WITH = """#!{python}
import os, sys, time
with open(sys.argv[-1], "w") as out:
    out.write({secret!r})
with open({record!r}, "w") as out:
    out.write(sys.argv[-1] + "\\n" + str(os.getpid()))
time.sleep(60)
"""


def editor(tmp_path: Path, secret: str) -> tuple[Path, Path]:
    """An editor that writes `secret` and waits to be killed; and the file it records in."""
    record = tmp_path / "killed.txt"
    path = tmp_path / "bin" / "killed-with"
    path.parent.mkdir(exist_ok=True)
    path.write_text(_KILLED_WITH.format(python=sys.executable, secret=secret, record=str(record)))
    path.chmod(0o700)
    return path, record


def use_editor(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Commands this test starts open `path` as the reviewer's editor."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(path))


def kill_at_editor(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], record: Path, within: float
) -> Path:
    """Once the editor has written its draft (within `within` seconds), kill the command and
    the editor outright; the draft's path, as the killed editor left it."""
    try:
        deadline = time.monotonic() + within
        while not record.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        draft_path, pid = record.read_text().split("\n")
        proc.kill()
        proc.wait(10)
        os.kill(int(pid), signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    return Path(draft_path)
