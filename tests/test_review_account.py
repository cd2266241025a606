"""The review workstation's account setup: a reviewer's shell keeps no history afterwards."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import subprocess
import tempfile
import time
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


# What a reviewer types in vim or neovim, reading an attachment written out to /dev/shm:
# a name searched for, a substitution, a line yanked, the text left unsaved a while.
_TYPED = (
    (b"iNasreen Bibi 0301-7654321 Thana Saddar\x1b", 3.0),  # long enough for a swap file
    (b"/Nasreen\r", 0.3),
    (b":s/Saddar/Saddar Kalan/\r", 0.3),
    (b'"ayy', 0.3),
    (b":q!\r", 1.5),
)


def _edit_in_a_terminal(
    editor: str, path: Path, home: Path, typed: tuple[tuple[bytes, float], ...] = _TYPED
) -> list[str]:
    """Run `editor` on `path` in a pseudo-terminal, as a reviewer would, typing _TYPED.

    The files under `home` that held the text or the file's name while it was open.
    """
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "TERM": "xterm"}
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(editor, [editor, str(path)], env)  # noqa: S606
    during: list[str] = []
    try:
        _drain(fd, 1.5)
        for keys, pause in typed:
            os.write(fd, keys)
            _drain(fd, pause)
            during += _holding(home, b"Nasreen")
    finally:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return during


def _drain(fd: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def _holding(home: Path, words: bytes) -> list[str]:
    """The files under `home` holding `words`, or named after the file edited."""
    found = []
    for path in home.rglob("*"):
        if (path.is_file() and not path.is_symlink()) and (
            words in path.read_bytes() or "att.txt" in path.name  # a swap file's name
        ):
            found.append(str(path.relative_to(home)))
    return found


@pytest.mark.parametrize("editor", ["vim", "nvim"])
def test_after_the_setup_vim_and_neovim_keep_nothing_typed_in_the_home(
    tmp_path: Path, editor: str
) -> None:
    """The attack: the setup links ~/.viminfo to /dev/null, but vim writes its viminfo anew
    and renames it over the link, so the next session's ~/.viminfo (mode 0666, from
    /dev/null's) holds the searches, substitutions and yanked lines of a reviewer reading
    an attachment; neovim keeps them in its shada, and writes the swap file of a file in
    /dev/shm (the text typed, and the file's name) under ~/.local, on the disk."""
    if shutil.which(editor) is None:
        pytest.skip(f"{editor} is not installed (tests/run.sh installs it)")
    home = tmp_path / "home"
    home.mkdir()
    assert _run("sh", str(SCRIPT), home=home).returncode == 0
    assert _run("sh", str(SCRIPT), home=home).returncode == 0  # twice is harmless
    shm = Path(tempfile.mkdtemp(dir="/dev/shm"))  # where the guide writes attachments
    try:
        (shm / "att.txt").write_text("FIR\n")
        during = _edit_in_a_terminal(editor, shm / "att.txt", home)
    finally:
        shutil.rmtree(shm)
    assert during == []
    assert _holding(home, b"Nasreen") == []
    assert os.readlink(home / ".viminfo") == os.devnull


def test_after_the_setup_less_keeps_no_search_whatever_shell_started_it(tmp_path: Path) -> None:
    """The attack: the setup sets LESSHISTFILE=- in ~/.profile and ~/.bashrc and links
    ~/.lesshst to /dev/null; but less started where neither was read (zsh, fish, a file
    manager's "open in terminal") writes its history anew and renames it over the link,
    so ~/.lesshst kept "Nasreen", searched for in an attachment written out to /dev/shm."""
    if shutil.which("less") is None:
        pytest.skip("less is not installed")
    home = tmp_path / "home"
    home.mkdir()
    assert _run("sh", str(SCRIPT), home=home).returncode == 0
    assert _run("sh", str(SCRIPT), home=home).returncode == 0  # twice is harmless
    shm = Path(tempfile.mkdtemp(dir="/dev/shm"))  # where the guide writes attachments
    try:
        (shm / "att.txt").write_text("FIR of Nasreen Akhtar\n")
        _edit_in_a_terminal("less", shm / "att.txt", home, ((b"/Nasreen\r", 0.5), (b"q", 1.0)))
    finally:
        shutil.rmtree(shm)
    assert _holding(home, b"Nasreen") == []
    assert os.readlink(home / ".lesshst") == os.devnull
    assert (home / ".lesskey").read_text().count("raazdar") == 1
