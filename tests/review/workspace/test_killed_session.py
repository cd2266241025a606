"""A session that ends without its cleanup: the file times it leaves say what was read, and when.

Every command sets the workspace's file times to 0 as it ends. The attack: a
session does not end as a command does. The machine is shut down with the
tool running (SIGTERM to every process), the terminal window is closed
(SIGHUP), or the power is cut (nothing runs after). A seizer then reads each
file's access time: a key file's says when its reviewer last unlocked, a large
attachment's blob when it was last viewed, to the nanosecond.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import pytest

from tests.app.seizure import seize
from tests.review.support import Server, review, start_review


def _filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """Report 1 filed, its large text attachment a blob file; a directory to run the tool in."""
    statement = b"The SHO took the money. " * 25_000  # past 256 KiB: a file in blobs/
    server.submit("A statement is attached.", [("files", "s.txt", statement, "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


def _viewing(server: Server, workspace: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """`report view` drawing a large text attachment (a blob file), blocked on its full pipe."""
    cwd = _filed(server, workspace, tmp_path)
    proc = start_review(workspace, "report", "view", "1", "1", cwd=cwd)
    assert proc.stdout is not None
    assert select.select([proc.stdout], [], [], 120)[0], "the tool drew nothing"
    return proc


def _times(root: Path) -> dict[str, tuple[int, int]]:
    """Each workspace path's access and modification times, in ns, as a seizer reads them."""
    stamps = seize(root, skip=()).stamps
    found = {str(p.relative_to(root)): (s.atime, s.mtime) for p, s in stamps.items()}
    assert any(name.startswith("blobs/") for name in found)
    return found


def _end(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Send the signal, and read what the tool still writes until it is gone."""
    proc.send_signal(signum)
    proc.communicate(timeout=60)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["shutdown", "hangup"])
def test_a_session_ended_by_a_signal_leaves_no_file_time(
    server: Server, workspace: Path, tmp_path: Path, signum: int
) -> None:
    _end(_viewing(server, workspace, tmp_path), signum)
    dated = {name for name, times in _times(workspace).items() if times != (0, 0)}
    assert dated == set(), "the session's reads are dated"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["shutdown", "hangup"])
def test_the_terminal_ui_ended_by_a_signal_leaves_no_file_time(
    server: Server, workspace: Path, tmp_path: Path, signum: int
) -> None:
    """The session most often left open: the terminal UI, on a terminal of its own."""
    cwd = _filed(server, workspace, tmp_path)
    leader, follower = pty.openpty()
    try:
        proc = start_review(workspace, "tui", cwd=cwd, terminal=follower)
        os.close(follower)
        drawn = b""
        deadline = time.monotonic() + 60
        while b"Raazdar review" not in drawn and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                drawn += os.read(leader, 65536)
        assert b"Raazdar review" in drawn, "the terminal UI drew nothing"
        proc.send_signal(signum)
        while proc.poll() is None and time.monotonic() < deadline + 30:
            if select.select([leader], [], [], 0.5)[0]:
                with suppress(OSError):  # the terminal's other end closed
                    os.read(leader, 65536)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        os.close(leader)
    dated = {name for name, times in _times(workspace).items() if times != (0, 0)}
    assert dated == set(), "the session's reads are dated"


def test_a_session_cut_off_dates_no_read_of_a_key_file_or_a_blob(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """SIGKILL, as a power cut: nothing runs after it, so nothing may have dated a read."""
    _end(_viewing(server, workspace, tmp_path), signal.SIGKILL)
    read = {
        name
        for name, (atime, _mtime) in _times(workspace).items()
        if atime != 0 and name.startswith(("keys/", "blobs/", "subkeys/"))
    }
    assert read == set(), "the unlock and the viewing are dated"
