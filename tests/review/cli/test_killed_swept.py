"""What a command killed outright left in plaintext goes at the next command, whichever it is.

A reviewer whose `note` was killed (the out-of-memory killer, a SIGKILL) with the editor
open, or whose `report open` was killed while it wrote, goes on reading reports: `show`,
`list`, the terminal UI. Swept only by the next `note`, `reply` or `report open`, what
the killed one left stayed in plaintext, on a seized running workstation for days.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.review import killed
from tests.review.cli.test_killed_open import _CANARY, _SIZE
from tests.review.support import Server, review, start_review

SECRET = "Inspector Qadir Bux keeps the ledger in his car"


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report with a large attachment."""
    body = (_CANARY * (_SIZE // len(_CANARY) + 1))[:_SIZE]
    server.submit("the statement", [("files", "statement.txt", body, "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


def _stopped(proc: subprocess.Popen[bytes]) -> None:
    """Kill and reap a started command, closing its pipe."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_draft_left_by_a_command_killed_outright_is_removed_by_a_command_with_no_editor(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: `note 1` is killed outright with the editor open; the reviewer goes on
    with `show` and `list`; the seizer of the running workstation reads /dev/shm."""
    path, record = killed.editor(tmp_path, SECRET)
    killed.use_editor(monkeypatch, path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    draft = killed.kill_at_editor(start_review(filed, "note", "1", cwd=cwd), record, 30)
    assert draft.read_text() == SECRET  # left in memory by the killed command

    for args in (("show", "1"), ("list",)):
        assert review(filed, *args).exit_code == 0
    assert not draft.parent.exists(), (
        "the draft of a command killed outright stayed in memory-backed storage after"
        f" `show` and `list`: {sorted(p.name for p in draft.parent.iterdir())}"
    )


def test_an_attachment_write_killed_outright_is_destroyed_by_a_command_that_writes_none(
    filed: Path, tmp_path: Path
) -> None:
    """The attack: `report open` is killed outright while it writes; the reviewer goes on
    with `show`; the hidden `.s.txt.XXXXXXXX.part` keeps the plaintext written so far."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = start_review(
        filed, "report", "open", "1", "1", "--out", str(out_dir / "s.txt"), "--yes", cwd=cwd
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
        _stopped(proc)
    left = list(out_dir.glob(".*.part"))
    assert left, "the write was not caught under way"
    assert _CANARY in left[0].read_bytes()  # what the killed command left

    assert review(filed, "show", "1").exit_code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [], (
        "the plaintext a killed `report open` was writing stayed beside its target after `show`"
    )
