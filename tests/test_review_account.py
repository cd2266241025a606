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


def test_after_the_setup_no_thumbnail_of_an_opened_attachment_is_kept(tmp_path: Path) -> None:
    """The attack: a photo written out with `report open` and shown by the desktop's viewer or
    file manager leaves a thumbnail in ~/.cache/thumbnails (the photo, small, with its path
    and so often a victim's name in its Thumb::URI), kept after the photo is removed."""
    cache = tmp_path / ".cache" / "thumbnails" / "normal"
    cache.mkdir(parents=True)
    left = cache / "0f343b0931126a20f133d67c2b018a3b.png"
    left.write_bytes(b"\x89PNG Thumb::URI file:///home/r/Nasreen%20Bibi%200301-7654321.jpg")
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0  # twice is harmless
    for place in (tmp_path / ".cache" / "thumbnails", tmp_path / ".thumbnails"):
        assert place.is_symlink(), f"{place} keeps thumbnails"
        assert os.readlink(place) == os.devnull
    assert not left.exists()
    # A thumbnailer that tries to save one gets nowhere.
    with pytest.raises(NotADirectoryError):
        (tmp_path / ".cache" / "thumbnails" / "normal").mkdir(parents=True)


def test_after_the_setup_no_viewer_keeps_an_opened_attachments_name(tmp_path: Path) -> None:
    """The attack: an attachment written out with `report open` (to /dev/shm, as the guide
    says) and shown by the desktop's viewers leaves its path, and so often a name, on the
    disk after the file and the session are gone: in GTK's list of recent files (kept
    when remembering is switched off later) and in GVfs's metadata store, where Evince and
    the file manager keep each document's last page, zoom and position by its path."""
    share = tmp_path / ".local" / "share"
    metadata = share / "gvfs-metadata"
    metadata.mkdir(parents=True)
    (metadata / "root").write_bytes(b"\xda\x1a\x00\x01 dev shm Nasreen-Bibi-FIR.pdf")
    recent = share / "recently-used.xbel"
    recent.write_text('<bookmark href="file:///dev/shm/Nasreen-Bibi-FIR.pdf"/>')
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0
    assert _run("sh", str(SCRIPT), home=tmp_path).returncode == 0  # twice is harmless
    for place in (metadata, recent):
        assert place.is_symlink(), f"{place} keeps the names of the files viewers opened"
        assert os.readlink(place) == os.devnull
    # GVfs's metadata daemon, starting its store again, gets nowhere.
    with pytest.raises(NotADirectoryError):
        (metadata / "root").write_bytes(b"again")
