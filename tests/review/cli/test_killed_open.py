"""`report open` killed outright leaves no plaintext beside the file it was writing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Final

from tests.review.support import Server, review, start_review

# Large enough that writing it out takes longer than the test takes to see it begun.
_SIZE: Final = 8 * 1024 * 1024
_CANARY: Final = b"Nasreen Akhtar, CNIC 35202-1234567-8, sold at Thana Kotri\n"


def test_an_attachment_write_killed_outright_is_destroyed_by_the_next_command(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The attack: `report open 1 1 --out /dev/shm/statement.txt` is killed outright (SIGKILL,
    the out-of-memory killer) while it writes; no `finally` runs, and the hidden
    `.statement.txt.XXXXXXXX.part` beside the target keeps the plaintext written so far,
    unnamed by any warning, after the next `report open` and until someone finds it."""
    body = (_CANARY * (_SIZE // len(_CANARY) + 1))[:_SIZE]
    server.submit("the statement", [("files", "statement.txt", body, "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = start_review(
        workspace, "report", "open", "1", "1", "--out", str(out_dir / "s.txt"), "--yes", cwd=cwd
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            p.stat().st_size > 0 for p in out_dir.glob(".*.part")
        ):
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    left = list(out_dir.glob(".*.part"))
    assert left, "the write was not caught under way"
    assert _CANARY in left[0].read_bytes()  # what the killed command left

    again = review(workspace, "report", "open", "1", "1", "--out", str(out_dir / "t.txt"), "--yes")
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out_dir.iterdir()) == ["t.txt"], (
        "the plaintext a killed `report open` was writing stayed beside its target"
    )
