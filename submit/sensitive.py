"""Keeping what the source writes out of shell history and editor traces.

Text given as a command-line argument stays in the shell's history file, so the
client takes the report from an editor or stdin by default and warns (once per
option and run) when it is given as an argument. The editor is started on a draft in a
private memory-backed directory, removed afterwards with whatever the editor
left beside it, and, for editors it knows, with swap, undo, backup and history
files turned off. A device without such a directory (Termux) gets no editor:
the report is typed at the terminal, so no draft reaches its flash storage.
The same idea lives in `review/cli/sensitive.py`: the two tools share no code
but `crypto/`. Nor is a crash let write the process's memory (the codename,
the keys it derives, the report) to a core file.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

import click

PROG: Final = "raazdar-submit"
_WARNED: Final = "raazdar-history-warned"
# vim and neovim: no swap file (-n), no viminfo/shada (-i NONE); before and after
# the user's vimrc, no undo file and no backup of the draft.
VIM_SETTINGS: Final = "set noundofile nobackup nowritebackup noswapfile"
VIM_ARGS: Final = ("-n", "-i", "NONE", "--cmd", VIM_SETTINGS, "-c", VIM_SETTINGS)
# nano: read no nanorc, which is where history, position logs, backups and lock files
# are switched on (they are off by default).
NANO_ARGS: Final = ("--ignorercfiles",)
_VIMS: Final = frozenset(
    {"vim", "nvim", "gvim", "vim.basic", "vim.tiny", "vim.nox", "vim.gtk", "vim.gtk3"}
)
# Where neovim makes its own files at its first start, by the variable that moves each.
_NVIM_HOMES: Final = (
    ("XDG_DATA_HOME", ".local/share"),
    ("XDG_STATE_HOME", ".local/state"),
    ("XDG_CACHE_HOME", ".cache"),
)
# Memory-backed, so a draft never reaches a disk; mkdtemp makes a private directory in it.
# The signals that ended the run (`stop_cleanly_on_hangup`): then nothing waits for Enter.
_STOPPED: Final[list[int]] = []
_RAM_DIRS: Final = ("/dev/shm", "$XDG_RUNTIME_DIR")  # noqa: S108
# prctl(2): whether a crash may be dumped (and others of this user may trace us).
_PR_SET_DUMPABLE: Final = 4
# Home, erase the screen, and the lines kept above it (CSI 3 J: xterm's, VTE's, Termux's).
ERASE_SCREEN: Final = "\x1b[H\x1b[2J\x1b[3J"
# Filesystems whose files live in memory only.
_MEMORY_FILESYSTEMS: Final = frozenset({"tmpfs", "ramfs"})
_MOUNTS: Final = Path("/proc/self/mounts")


def forbid_core_dumps() -> None:
    """Let no crash write this process's memory (codename, keys, report) to a core file.

    The limit holds for every child too (the editor, a tor it launches); a
    process that is not dumpable is dumped by no crash reporter, whatever
    core_pattern says. (review/cli/base.py does the same: a copy of six lines,
    since the client shares nothing with the workstation but `crypto/`, whose
    room is key material and formats, not a process's settings.)
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


# What to do instead of giving an option's text on the command line, by option.
_INSTEAD: Final = {
    "--instance": "leave it out and give the pins file from the organisation (--pins-file)",
}
_INSTEAD_OF_TEXT: Final = "leave it out to write in an editor, or read it from stdin"


def warn_argument(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Click callback: warn, once per option and run, that an argument's text stays in shell
    history, saying what to do instead of that option."""
    given = value not in (None, (), "")
    name = param.opts[0] if param.opts else str(param.name)
    warned: set[str] = ctx.find_root().meta.setdefault(_WARNED, set())
    if given and name not in warned:
        warned.add(name)
        click.echo(
            f"{PROG}: warning: {name} puts its text on the command line, and your shell's "
            f"history keeps it; {_INSTEAD.get(name, _INSTEAD_OF_TEXT)} "
            "(see docs/submit.md on switching history off)",
            err=True,
        )
    return value


def erase_once_read(what: str) -> None:
    """On a terminal, wait for Enter, then erase the screen and the terminal's scrollback.

    Otherwise a codename or a reply shown stays in the scrollback for whoever takes
    the device unlocked with the terminal open (Termux's sessions live on in the
    background). Nothing waits when the output goes to a file or a pipe. Enter is
    read from the terminal, also when standard input is not it (the codename piped
    in with `--codename-file -`): the output is what the terminal keeps.
    """
    if not sys.stdout.isatty():
        return
    if _STOPPED:
        # Hung up or terminated: nobody is there to press Enter; erase what can be.
        with contextlib.suppress(OSError):
            click.echo(ERASE_SCREEN, nl=False)
            sys.stdout.flush()
        return
    with _keyboard() as keys:
        if keys is None:
            return
        click.echo(
            f"{PROG}: press Enter once you have {what}: the screen and the terminal's "
            "scrollback are then erased",
            err=True,
        )
        try:
            keys.readline()
        finally:
            click.echo(ERASE_SCREEN, nl=False)
            sys.stdout.flush()


@contextlib.contextmanager
def _keyboard() -> Iterator[TextIO | None]:
    """Where the person types: standard input if it is the terminal, else the process's own
    terminal (/dev/tty); None when there is none to read."""
    if sys.stdin.isatty():
        yield sys.stdin
        return
    with contextlib.ExitStack() as stack:
        terminal: TextIO | None
        try:
            terminal = stack.enter_context(open("/dev/tty", encoding="utf-8", errors="replace"))
        except OSError:
            terminal = None
        yield terminal


def on_disk(path: Path) -> bool:
    """Say whether `path` is on a filesystem that keeps data on a disk (not tmpfs or ramfs).

    False where the mount table cannot be read: then nobody can tell. (review/present/disk.py
    does the same for the workstation: the two tools share no code but `crypto/`.)
    """
    try:
        mounts = _MOUNTS.read_text("utf-8").splitlines()
    except OSError:
        return False
    where = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table writes a space in a mount point as \040.
        point = fields[1].replace("\\040", " ")
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return bool(best) and kind not in _MEMORY_FILESYSTEMS


def warn_on_disk(path: Path, what: str, instead: str) -> None:
    """Warn that `what`, read from `path`, stays readable on the disk (and flash) it lies on.

    Only a regular file is: a pipe (`<(…)`, /dev/fd/N) or a device holds nothing.
    """
    if path.is_file() and on_disk(path):
        click.echo(
            f"{PROG}: warning: {path} is on a disk: {what} stays readable there, and removing "
            f"the file frees its blocks without overwriting them; {instead}",
            err=True,
        )


def output_file() -> Path | None:
    """The regular file standard output goes to (`> FILE` in a shell), or None (a terminal, a
    pipe, or a system that cannot say)."""
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except (AttributeError, ValueError, OSError):
        return None


def _program(words: list[str]) -> str:
    """The name of what runs, not what it is called: `vi` may be vim, nvi or busybox."""
    resolved = shutil.which(words[0])
    return Path(os.path.realpath(resolved) if resolved else words[0]).name


def editor_command(editor: str) -> list[str]:
    """The editor's command line with the options that stop it leaving traces."""
    words = shlex.split(editor)
    if not words:
        return words
    name = _program(words)
    if name in _VIMS:
        return [*words, *VIM_ARGS]
    if name in {"nano", "rnano"}:
        return [*words, *NANO_ARGS]
    return words


def editor_env(editor: str, scratch: Path) -> dict[str, str]:
    """The editor's environment: temporary files, and neovim's own, in the draft's directory.

    Neovim makes its log file, and its data and state directories, in the home directory
    at its first start: their creation times dated the first draft written here. Each
    directory it has not made yet is made beside the draft instead (one it has holds the
    person's plugins, and its creation time says nothing new).
    """
    env = {**os.environ, "TMPDIR": str(scratch), "NVIM_LOG_FILE": str(scratch / "nvim.log")}
    words = shlex.split(editor)
    if words and _program(words) == "nvim":
        for variable, default in _NVIM_HOMES:
            base = os.environ.get(variable) or str(Path.home() / default)
            if not (Path(base) / "nvim").exists():
                env[variable] = str(scratch)
    return env


def known_editor(editor: str) -> bool:
    """Say whether `editor_command` knows how to keep this editor from leaving traces."""
    words = shlex.split(editor)
    return bool(words) and editor_command(editor) != words


def chosen_editor() -> str:
    """$VISUAL, else $EDITOR, else nano or vi, whichever exists (as click chooses)."""
    for name in ("VISUAL", "EDITOR"):
        if value := os.environ.get(name):
            return value
    return next((e for e in ("nano", "vim", "vi") if shutil.which(e)), "vi")


def ram_dir() -> Path | None:
    """A memory-backed directory for drafts, if this system has one.

    Named is not enough: Termux has no /dev/shm, and guides for Termux:X11 set
    $XDG_RUNTIME_DIR to Termux's own tmp, on the flash, where a draft stayed in the
    freed blocks once removed. A directory the mount table puts on a disk is refused.
    """
    for candidate in _RAM_DIRS:
        path = Path(os.path.expandvars(candidate))
        if str(path).startswith("$") or not path.is_dir() or not os.access(path, os.W_OK):
            continue
        if not on_disk(path):
            return path
    return None


def or_in_memory(advice: str) -> str:
    """`, or ADVICE (DIR)` naming this device's memory-backed directory; a phone with none
    (Termux), told to use /dev/shm, would find no such place or make one on its flash."""
    found = ram_dir()
    if found is None:
        return (
            "; this device has no directory in memory (Termux has none): any file is written "
            "on its storage"
        )
    return f", or {advice} ({found})"


def typed_text() -> str:
    """The report typed at the terminal, kept in memory: for a device with no memory-backed dir.

    An editor needs its draft in a file, and on such a device (Termux on Android
    has neither /dev/shm nor $XDG_RUNTIME_DIR) the file would be on the flash
    storage, where unlinking it leaves the report's text in the freed blocks.
    The terminal echoes what is typed, so the screen and its scrollback are
    erased once it has been read.
    """
    click.echo(
        f"{PROG}: this device has no memory-backed directory, so no editor is started: its "
        "draft would be written on the disk, and stay there after it is removed.\n"
        f"{PROG}: Type the report below. Press Enter at the end of each paragraph (the terminal "
        "takes at most about 4000 bytes on one line), and end with Ctrl-D at the start of a "
        "line (in Termux: CTRL on the extra keys row, then d).",
        err=True,
    )
    try:
        return sys.stdin.read()
    finally:
        if sys.stdin.isatty() and sys.stderr.isatty():
            # The terminal echoed what was typed: none of it stays in its scrollback.
            click.echo(ERASE_SCREEN, nl=False, err=True)


def edit_text(initial: str = "") -> str:
    """Let the person write in their editor, leaving no draft, swap or history behind."""
    editor = chosen_editor()
    if not known_editor(editor):
        click.echo(
            f"{PROG}: warning: {shlex.split(editor)[0] if editor.strip() else editor!r} is not "
            "an editor this tool knows how to keep from saving history; vim, nvim and nano are",
            err=True,
        )
    base = ram_dir()
    if base is None:
        return typed_text()
    # Removed when the editor is quit, the terminal hung up, or (by the next run) the
    # client killed outright (`sweep_left_scratch`).
    with scratch_dir(base) as scratch:
        draft = scratch / "draft.txt"
        draft.write_text(initial, "utf-8")
        env = editor_env(editor, scratch)
        # Named from the directory it is in: the editor's command line, which every user
        # of the computer reads (`ps`), names no directory of this tool.
        command = [*editor_command(editor), draft.name]
        done = subprocess.run(command, env=env, cwd=scratch, check=False)  # noqa: S603 - the person's own editor
        if done.returncode != 0:
            raise click.ClickException(f"the editor exited with status {done.returncode}")
        return draft.read_text("utf-8")


def stop_cleanly_on_hangup() -> None:
    """Let SIGHUP and SIGTERM end the run as an exit does, through every `finally`.

    The terminal closed with the editor open (Termux's "Exit", a window, a dropped
    SSH session) sends SIGHUP; by default it killed the client on the spot, and the
    report's draft stayed in memory-backed storage, with an amnesic run's scratch,
    until the device restarted. Raised as SystemExit, the draft and scratch go.
    """

    def stop(signum: int, _frame: object) -> None:
        _STOPPED.append(signum)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, stop)


# Held (flock) by the run whose scratch directory holds it: one no run holds is left over.
_HELD: Final = ".held"
# A scratch directory's name begins as any program's temporary one does (mkdtemp's own):
# an editor that files the draft among its recent ones, with the time, names no tool, nor
# does a listing of /dev/shm while a run lives. Runs of earlier versions began it so.
_SCRATCH: Final = "tmp"
_SCRATCH_BEFORE: Final = "raazdar-"


@contextlib.contextmanager
def scratch_dir(base: Path) -> Iterator[Path]:
    """A private directory in `base` (memory) for this run, held while it lives, then removed."""
    path = Path(tempfile.mkdtemp(prefix=_SCRATCH, dir=base))
    try:
        # Held before it is named: a sweep never finds it unheld while the run lives.
        fd = os.open(path / f"{_HELD}.new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(path / f"{_HELD}.new", path / _HELD)
            yield path
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_left_scratch() -> None:
    """Remove what a run killed outright (SIGKILL, out of memory) left in memory: its draft.

    Only this user's directories of this tool's names that hold a `.held` file no run holds.
    """
    base = ram_dir()
    if base is None:
        return
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith((_SCRATCH, _SCRATCH_BEFORE)):
                with contextlib.suppress(OSError):
                    _sweep_one(entry)


def _sweep_one(entry: Path) -> None:
    info = entry.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return
    fd = os.open(entry / _HELD, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # a run that lives holds it
    finally:
        os.close(fd)
    shutil.rmtree(entry, ignore_errors=True)
