"""The editors the guide names, run for real on a terminal: what they keep of a note.

The stub editor of test_sensitive.py checks the options the tool starts an editor
with; here vim, neovim and nano themselves are started by `triage note` on a pty, with
a reviewer searching, yanking and saving in them, and the home directory is searched
afterwards for anything they kept of it.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

from tests.editor import assert_home_untouched, write_on_pty
from tests.review.support import Server, review, start_review

NOTE: Final = "Nasreen Akhtar was sold at Thana Kotri"


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit("the SHO of Thana Kotri takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


def _note_in(editor: str, workspace: Path, cwd: Path) -> bytes:
    """Run `triage note 1` on a pty of its own with `editor`, typing its keys; what it drew."""
    leader, follower = pty.openpty()
    proc: subprocess.Popen[bytes] | None = None
    drawn = b""
    try:
        proc = start_review(workspace, "triage", "note", "1", cwd=cwd, terminal=follower)
        os.close(follower)
        drawn = write_on_pty(leader, proc, editor, NOTE)
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        os.close(leader)
    assert proc.returncode == 0, drawn.decode(errors="replace")
    return drawn


@pytest.mark.parametrize("editor", ["vim", "nvim", "nano"])
def test_a_note_written_in_a_real_editor_leaves_nothing_in_the_home(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, editor: str
) -> None:
    """The attack: the reviewer writes a note in their own editor, searches a name in it and
    yanks a line; the seizer searches the home directory for the editor's viminfo, shada,
    swap, undo, backup, history or log files holding what was written."""
    if shutil.which(editor) is None:
        pytest.skip(f"{editor} is not installed (tests/run.sh installs it)")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    _note_in(editor, filed, cwd)
    shown = review(filed, "show", "1")
    assert NOTE in " ".join(shown.output.split()), "the note was not kept"
    # A directory too: neovim makes its data directory at its first start, whose creation
    # time dates the first note written, as its log file's did.
    assert_home_untouched(home, editor, "note")
