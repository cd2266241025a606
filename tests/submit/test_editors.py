"""The editors a source may write a report in, run for real on a terminal: what they keep.

tests/submit/test_sensitive.py checks, with a stub, the options the client starts an
editor with; here vim, neovim and nano themselves are started by the client's
`edit_text` (what `send` calls when no message is given) on a pty, with the source
searching, yanking and saving in them, and the home directory is searched afterwards
for anything they made: a file holding the report, or a file or directory whose
creation time says when the first report was written on this device.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from submit import sensitive
from tests.editor import assert_home_untouched, write_on_pty

REPORT: Final = "Nasreen Akhtar was sold at Thana Kotri"
# The client's own editor step, as `send` runs it, writing what was written to argv[1].
_EDIT: Final = (
    "import sys; from pathlib import Path; from submit import sensitive;"
    " Path(sys.argv[1]).write_text(sensitive.edit_text(), 'utf-8')"
)


def _write_in(editor: str, home: Path, out: Path) -> None:
    """Start the client's editor step on a pty of its own with `editor`, typing its keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env |= {"HOME": str(home), "EDITOR": editor, "TERM": "xterm"}
    env.pop("VISUAL", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, on the client's own code
        [sys.executable, "-c", _EDIT, str(out)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=home.parent,
        start_new_session=True,
    )
    os.close(follower)
    drawn = b""
    try:
        drawn = write_on_pty(leader, proc, editor, REPORT)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        os.close(leader)
    assert proc.returncode == 0, drawn.decode(errors="replace")


@pytest.mark.parametrize("editor", ["vim", "nvim", "nano"])
def test_a_report_written_in_a_real_editor_leaves_nothing_in_the_home(
    tmp_path: Path, editor: str
) -> None:
    """The attack: the source writes a report in her own editor, searches a name in it and
    yanks a line; whoever takes the device searches the home directory for the editor's
    viminfo, shada, swap, undo, backup, history or log files, and for what the editor made
    there, whose creation time dates the first report written (neovim's log, its data and
    state directories)."""
    if shutil.which(editor) is None:
        pytest.skip(f"{editor} is not installed (tests/run.sh installs it)")
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "written.txt"
    _write_in(editor, home, out)
    assert REPORT in out.read_text("utf-8"), "the report was not written"
    assert_home_untouched(home, editor, "report")


def test_a_neovim_already_used_here_keeps_its_own_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what neovim has not made yet is made beside the draft: a directory it has holds
    the person's plugins, and says nothing new of when the first report was written."""
    if shutil.which("nvim") is None:
        pytest.skip("nvim is not installed (tests/run.sh installs it)")
    home = tmp_path / "home"
    (home / ".local" / "share" / "nvim").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    scratch = tmp_path / "scratch"
    env = sensitive.editor_env("nvim", scratch)
    assert "XDG_DATA_HOME" not in env
    assert env["XDG_STATE_HOME"] == env["XDG_CACHE_HOME"] == str(scratch)
    assert env["NVIM_LOG_FILE"] == str(scratch / "nvim.log")
    assert "XDG_DATA_HOME" not in sensitive.editor_env("vim", scratch)
