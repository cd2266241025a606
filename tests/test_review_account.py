"""The review workstation's account setup: a reviewer's shell keeps no history afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "deploy" / "review-account.sh"


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "TERM": "dumb"}
    return subprocess.run(args, env=env, capture_output=True, text=True, check=False, timeout=30)  # noqa: S603


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_after_the_setup_a_reviewers_shell_writes_no_history(tmp_path: Path) -> None:
    old = tmp_path / ".bash_history"
    old.write_text("raazdar-review search 'Shazia Bibi'\n")
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0  # twice is harmless
    assert (tmp_path / ".bashrc").read_text().count("raazdar: no history") == 1
    assert old.is_symlink()
    assert os.readlink(old) == os.devnull
    # An interactive login bash, as a terminal starts it, with the reviewer typing a search.
    shell = _run(
        "bash", "-lic", 'echo "histfile=$HISTFILE"; set -o | grep -w history', home=tmp_path
    )
    assert "histfile=/dev/null" in shell.stdout
    assert "off" in shell.stdout.split("history")[-1]
    dash = _run("sh", "-c", '. "$HOME/.profile" && echo ok', home=tmp_path)
    assert "ok" in dash.stdout, dash.stderr
