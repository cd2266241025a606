"""Keeping what reviewers type out of shell history and editor traces.

Text given as a command-line argument stays in the shell's history file, so
notes, replies and summaries come from an editor, and search terms, tags and
field values from a prompt, when they are left out; given as arguments they
still work, with a warning (once per run). The editor is started on a draft in
a private memory-backed directory, overwritten and removed afterwards with
whatever the editor left beside it, and, for editors it knows, with swap, undo, backup and history
files turned off. The same idea lives in `submit/sensitive.py`: the two tools
share no code but `crypto/`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import termios
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

import click

from review.cli import idle
from review.present import disk
from review.workspace.erase import destroy_tree
from review.workspace.held import hold, ram_dir, unheld

PROG: Final = "raazdar-review"
_WARNED: Final = "raazdar-history-warned"
_SWAP_WARNED: Final = "raazdar-swap-warned"
_CRASH_WARNED: Final = "raazdar-crash-warned"
_GIVEN: Final = "raazdar-given"
_NUMBERS: Final = "raazdar-numbers-asked"
# vim and neovim: no swap file (-n), no viminfo/shada (-i NONE); before and after
# the user's vimrc, no undo file and no backup of the draft.
VIM_SETTINGS: Final = "set noundofile nobackup nowritebackup noswapfile"
# Without a swap file, vim ended by a signal saves nothing typed since the last :w. At the
# idle lock, `ENDING` appears beside the draft: vim (a timer looks five times a second,
# in any mode) writes the draft, in memory like it, and quits; then a signal ends it.
ENDING: Final = ".ending"
VIM_WATCH: Final = (
    f"let g:raazdar_ending = expand('%:p:h') . '/{ENDING}'"
    " | if exists('*timer_start') | call timer_start(200, {-> filereadable(g:raazdar_ending)"
    " ? execute('silent! update | qall!') : 0}, {'repeat': -1}) | endif"
)
VIM_ARGS: Final = ("-n", "-i", "NONE", "--cmd", VIM_SETTINGS, "-c", VIM_SETTINGS, "-c", VIM_WATCH)
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
# This tool's scratch directories in memory; each holds `HELD`, locked (flock) by the
# command it belongs to while that lives: one no command holds was left by one killed.
_SCRATCH: Final = "raazdar-review-"
HELD: Final = ".held"
# A report number given as this is asked for instead (`ReportNumber`).
ASK: Final = "-"
# What an error says in place of a value it was given; below `_BARE_MIN` characters, a
# value is taken out only where it is quoted.
GAVE: Final = "(what you gave)"
_BARE_MIN: Final = 4
# How long an editor told to end at the idle lock has to save and go.
_EDITOR_GRACE_SECONDS: Final = 3.0


def warn_argument(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Click callback: warn, once per run, that an argument's text stays in shell history.

    On a terminal the screen and its scrollback are erased first: the command line the
    shell echoed would keep the text there too.
    """
    return _warned(ctx, param, value, "leave it out to be asked for it instead")


def _warned(ctx: click.Context, param: click.Parameter, value: object, instead: str) -> object:
    present = value not in (None, (), "")
    root = ctx.find_root()
    for each in value if isinstance(value, tuple) else (value,):
        if isinstance(each, str):
            given(each)
    if present and not root.meta.get(_WARNED):
        root.meta[_WARNED] = True
        idle.erase_screen()
        name = param.opts[0] if param.opts else param.name
        click.echo(
            f"{PROG}: warning: {name} puts its text on the command line, and your shell's "
            f"history keeps it; {instead} "
            "(see docs/review-workstation.md on switching history off)",
            err=True,
        )
    return value


def warn_unless_number(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """`warn_argument` for a value given by its number (a body's) or by its name: a name warns."""
    if isinstance(value, str) and value.isdigit():
        return value
    return warn_argument(ctx, param, value)


def warn_unless_listed(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """`warn_argument` for an attachment given by its number or by the name its source gave it.

    A file name says whose statement or photo it is: in the shell's history, and in the
    command line every user of the machine reads while the command runs (`ps`), it says
    which file was read; said back in an error, the scrollback keeps it.
    """
    if isinstance(value, str) and value.isdigit():
        return value
    return _warned(ctx, param, value, "give its number, as `show` lists it, instead")


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


def warn_on_disk(path: Path, what: str) -> None:
    """Warn that `what` in `path` stays readable on a disk, and where to keep it instead."""
    if (message := disk.warning(path, what)) is not None:
        click.echo(f"{PROG}: warning: {message}", err=True)


def warn_swap() -> None:
    """Warn, once per run, before a secret is unlocked, if swap may keep it on a disk."""
    context = click.get_current_context(silent=True)
    meta = context.find_root().meta if context is not None else {}
    if not meta.get(_SWAP_WARNED) and (message := disk.swap_warning()) is not None:
        click.echo(f"{PROG}: warning: {message}", err=True)
    meta[_SWAP_WARNED] = True


def warn_crash_reporter(program: str = "the editor", holding: str = "the draft") -> None:
    """Warn, once per run and program, before an editor (or the pager) starts, if a crash of
    it may go to the disk."""
    context = click.get_current_context(silent=True)
    meta = context.find_root().meta if context is not None else {}
    warned = f"{_CRASH_WARNED}:{program}"
    if not meta.get(warned) and (message := disk.crash_warning(program, holding)) is not None:
        click.echo(f"{PROG}: warning: {message}", err=True)
    meta[warned] = True


def edit_text(initial: str = "") -> str:
    """Let the person write in their editor, leaving no draft, swap or history behind."""
    editor = chosen_editor()
    warn_crash_reporter()
    if not known_editor(editor):
        click.echo(
            f"{PROG}: warning: {shlex.split(editor)[0] if editor.strip() else editor!r} is not "
            "an editor this tool knows how to keep from saving history; vim, nvim and nano are",
            err=True,
        )
    base = ram_dir()
    if base is None:
        click.echo(f"{PROG}: warning: no memory-backed directory: the draft is on disk", err=True)
    sweep_left_drafts(drafts_dir())
    scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH, dir=base))
    held = hold(scratch, HELD)
    draft = scratch / "draft.txt"
    try:
        draft.write_text(initial, "utf-8")
        env = editor_env(editor, scratch)
        with _terminal_kept():
            command = editor_command(editor)
            editing = subprocess.Popen([*command, str(draft)], env=env)  # noqa: S603 - the person's own editor
            try:
                with idle.waiting():
                    returncode = editing.wait()
            except idle.IdleLocked as locked:
                _end(editing, scratch if VIM_WATCH in command else None)
                locked.draft = _left_in(scratch, draft)
                raise
        if returncode != 0:
            raise click.ClickException(f"the editor exited with status {returncode}")
        return draft.read_text("utf-8")
    finally:
        # Overwritten before removal: where no memory-backed directory exists, the draft
        # (and what the editor left beside it) would stay in the disk's freed blocks.
        destroy_tree(scratch)
        os.close(held)


def drafts_dir() -> Path:
    """Where `edit_text` makes its drafts' directories: in memory, else the temporary one."""
    return ram_dir() or Path(tempfile.gettempdir())


def sweep_left_drafts(base: Path) -> None:
    """Destroy the drafts commands killed outright (SIGKILL, out of memory) left in `base`.

    SIGKILL reaches no `finally`: the draft stays in memory until the machine restarts, or,
    where no memory-backed directory exists, on the disk for good. Only this user's
    directories of this tool whose `HELD` no living command holds go.
    """
    for entry in unheld(base, _SCRATCH, HELD):
        destroy_tree(entry)


def _end(editing: subprocess.Popen[bytes], watched: Path | None) -> None:
    """Tell an editor left open to end, saving what it holds, then kill it.

    vim writes its draft when `ENDING` appears in `watched`, the draft's directory
    (None: not a vim told to look); nano saves it beside, `FILE.save`, on SIGTERM.
    """
    if watched is not None:
        with suppress(OSError):
            (watched / ENDING).touch(0o600)
            with suppress(subprocess.TimeoutExpired):
                editing.wait(_EDITOR_GRACE_SECONDS)
        if editing.poll() is not None:
            return
    editing.terminate()
    try:
        editing.wait(_EDITOR_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        editing.kill()
        editing.wait()


def _left_in(scratch: Path, draft: Path) -> str:
    """What an editor ended at the idle lock left: its own save on the way out, else the draft."""
    for path in (scratch / f"{draft.name}.save", draft):
        with suppress(OSError, UnicodeDecodeError):
            if path.is_file() and (text := path.read_text("utf-8")).strip():
                return text
    return ""


@contextmanager
def _terminal_kept() -> Iterator[None]:
    """Give the terminal back its settings after the editor, even one ended unasked."""
    fd = sys.stdin.fileno() if _has_fd(sys.stdin) else -1
    saved = termios.tcgetattr(fd) if fd >= 0 and os.isatty(fd) else None
    try:
        yield
    finally:
        if saved is not None:
            with suppress(termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _has_fd(stream: object) -> bool:
    try:
        return isinstance(stream.fileno(), int)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def ask(label: str) -> str:
    """Prompt for a short value (a search term, a tag, an agency) instead of an argument.

    On a terminal, asked on the alternate screen: what is typed stays out of the scrollback.
    """
    with idle.aside():
        value: str = idle.prompt(label, err=True)
    return given(value)


def asked_lines(label: str, *, interactive: bool) -> Iterator[str]:
    """Ask for values one per line until a blank one (only on a terminal: `interactive`)."""
    while interactive:
        with idle.aside():
            answer: str = idle.prompt(label, default="", show_default=False, err=True)
        if not answer.strip():
            return
        yield given(answer.strip())


class ReportNumber(click.ParamType[int]):
    """A report's number, or `-` to be asked for it at a prompt (or read from stdin).

    `show 17` leaves 17 in the shell's history and, while it runs, in the command line
    every user of the machine reads (`ps`, /proc/PID/cmdline): which report was read, and
    when. `show -` asks on the alternate screen, and leaves neither.
    """

    name = "num"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        if value == ASK:
            other = param is not None and param.name == "other"
            label = "The other report's number" if other else "Report number"
            with idle.aside():
                asked: int = idle.prompt(label, type=click.IntRange(min=1), err=True)
            if ctx is not None:  # an error naming it ("no report 99") leaves it out too
                ctx.find_root().meta.setdefault(_NUMBERS, set()).add(asked)
            return asked
        try:
            return int(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a report number (give {ASK} to be asked)", param, ctx)


def given(value: str) -> str:
    """Note a value given to keep it off the screen, for `unquoted` to take out of errors."""
    context = click.get_current_context(silent=True)
    if context is not None and value.strip():
        # As typed too: an error quotes it with the space a name copied from a report brings.
        context.find_root().meta.setdefault(_GIVEN, set()).update({value, value.strip()})
    return value


def unquoted(text: str) -> str:
    """`text` (an error, a hint) without the values this run was given, quoted or not.

    An error quoting a name or a tag ("report 1 names no entity 'X'") would draw on the
    normal screen, for the scrollback, what the prompt or the erase kept out of it. Quoted
    forms go (as `repr` writes them, as typed or trimmed), and a value of at least
    `_BARE_MIN` characters goes where it stands as words of its own too, in any case or
    spacing; a shorter one ("in", "1") is left alone there, or the words would go with it.
    A report number asked for (`ReportNumber`) goes wherever it stands as a number.
    """
    context = click.get_current_context(silent=True)
    if context is None:
        return text
    given: set[str] = context.find_root().meta.get(_GIVEN, set())
    forms = {rf"(?<![\w.-]){n}(?![\w.-])" for n in context.find_root().meta.get(_NUMBERS, ())}
    for value in given:
        forms |= {re.escape(repr(value)), re.escape(repr(value.casefold()))}
        if len(words := value.split()) and len(value.strip()) >= _BARE_MIN:
            forms.add(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")
    if not forms:
        return text
    # One pass, longest first: what one form put in is never taken for another.
    pattern = "|".join(sorted(forms, key=len, reverse=True))
    return re.sub(pattern, GAVE, text, flags=re.IGNORECASE)


REPORT: Final = ReportNumber()


def tell(message: str = "", *, err: bool = False, counts: Mapping[str, int] | None = None) -> None:
    """Write a line to the normal screen without a report number asked for (`ReportNumber`)
    or a value given to keep off it: the terminal's scrollback keeps what a command says when
    it succeeds ("report 17: note added") as much as what an error says.

    A count is no value given: `{name}` in `message` is the count of that name in `counts`,
    put in after, so "1 in all" stays so whatever number was asked for.
    """
    said = unquoted(message)
    for name, count in (counts or {}).items():
        said = said.replace(f"{{{name}}}", str(count))
    click.echo(said, err=err)
