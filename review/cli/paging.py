"""Plaintext on a terminal without its scrollback: `show`, `report view`, `list` page it.

What a command prints stays in the terminal's scrollback (and tmux's history, or
a terminal's scrollback file) after the command ends, for whoever scrolls up. On
a terminal, these commands draw into memory and hand the text to `less` on its
alternate screen, whose pages never enter the scrollback, in secure mode
(LESSSECURE: no shell, no log file, no editor) with no history file and none of
the reviewer's own settings (LESS, which may say -X, or LESSOPEN, a preprocessor
that may write the text to a file), from the environment or a lesskey file. When
it ends, the screen and the scrollback are erased (what earlier commands drew
too), where the terminal supports it.
Without `less`, the text is drawn on the alternate screen until Enter. `--scroll`
draws it in the terminal as before; piped, nothing changes. Besides `show` and
`report view`, every command that draws what reports say or whom they name is
`paged`: `names list`, `names show`, `links show`, `links pending`, `escalation
show`, `escalation list`, `bodies list` (and `escalation countersign` pages its
packet); and those that draw the inbox's rows or what reviewers wrote of
reports: `list`, `search` (its term, typed at the prompt, goes with the
scrollback), `audit show`, `conflicts list`. Paging is a wait for the reviewer: the idle lock
(`review.cli.idle`) ends it. `less` is dumpable once exec'd: when the kernel hands
crashes to a crash reporter, which may keep its memory, the command says so after it.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import click
from rich.console import Console

from review.cli import idle
from review.cli.base import make_console
from review.cli.sensitive import warn_crash_reporter

# Enter and leave the terminal's alternate screen (no scrollback).
ALTERNATE: Final = idle.ALTERNATE
NORMAL: Final = idle.NORMAL
# Raw colour codes shown as colours; the alternate screen and no "quit if one screen" (which
# would leave it drawn on the normal screen), whatever LESS said, however it was set.
LESS_ARGS: Final = ("-R", "-+X", "-+F")
# The reviewer's settings that would keep the text: no alternate screen, a preprocessor.
_DROPPED: Final = ("LESS", "LESSOPEN", "LESSCLOSE", "LESSEDIT", "LESSKEY_CONTENT")
# Lesskey files, whose `#env` sets LESS (`-X`) or LESSOPEN where no variable shows it: the
# reviewer's own (~/.config/lesskey, ~/.lesskey, ~/.less) and the system's are not read.
_NO_LESSKEY: Final = {
    name: os.devnull for name in ("LESSKEY", "LESSKEYIN", "LESSKEY_SYSTEM", "LESSKEYIN_SYSTEM")
}
_GRACE_SECONDS: Final = 3.0
_CONSOLE: Final = "raazdar-paged-console"


def scroll_option(f: click.decorators.FC) -> click.decorators.FC:
    """The `--scroll` flag of a command that pages plaintext."""
    return click.option(
        "--scroll",
        is_flag=True,
        help="On a terminal, draw the text in it (its scrollback keeps it) instead of "
        "paging it on the alternate screen, erased after.",
    )(f)


def paged(f: Callable[..., None]) -> Callable[..., None]:
    """Give a command `--scroll`, and page what it draws on `console()` (a terminal only)."""

    @scroll_option
    @functools.wraps(f)
    def run(*args: Any, scroll: bool, **kwargs: Any) -> None:
        context = click.get_current_context()
        with private(scroll, make_console()) as drawn:
            context.meta[_CONSOLE] = drawn
            f(*args, **kwargs)

    return run


def console() -> Console:
    """The console a `paged` command draws on (the terminal's own elsewhere)."""
    found = click.get_current_context().meta.get(_CONSOLE)
    return found if isinstance(found, Console) else make_console()


@contextmanager
def private(scroll: bool, console: Console) -> Iterator[Console]:
    """A console to draw plaintext on: `console` itself, or one paged once the block ends."""
    if scroll or not on_a_terminal():
        yield console
        return
    buffer = io.StringIO()
    drawn = Console(
        file=buffer,
        width=console.width,
        force_terminal=True,
        color_system=console.color_system,  # type: ignore[arg-type]
        highlight=False,
    )
    yield drawn
    page(buffer.getvalue())


def on_a_terminal() -> bool:
    """Say whether what is drawn goes to a terminal (whose scrollback would keep it)."""
    return sys.stdout.isatty()


def page(text: str) -> None:
    """Show `text` on the alternate screen, then erase the screen and the scrollback."""
    less = shutil.which("less")
    try:
        if less is not None:
            _less(less, text)
        else:
            _alternate(text)
    finally:
        idle.erase_screen()
    if less is not None:
        # less is dumpable once exec'd, and held the text: a crash reporter may keep its
        # memory. Said after the erase, which would have taken the warning with the scrollback.
        warn_crash_reporter("the pager", "the text it shows")


def _less(less: str, text: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env |= {"LESSSECURE": "1", "LESSHISTFILE": "-", **_NO_LESSKEY}
    paging = subprocess.Popen([less, *LESS_ARGS], stdin=subprocess.PIPE, env=env)  # noqa: S603 - less, found on PATH
    assert paging.stdin is not None  # noqa: S101 - asked for above
    try:
        with idle.waiting():
            try:
                paging.stdin.write(text.encode("utf-8"))
                paging.stdin.close()
            except BrokenPipeError:
                pass  # quit before reading it all
            paging.wait()
    except idle.IdleLocked:
        paging.terminate()
        try:
            paging.wait(_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            paging.kill()
            paging.wait()
        raise


def _alternate(text: str) -> None:
    click.echo(ALTERNATE, nl=False)
    try:
        click.echo(text, nl=False)
        idle.prompt("Press Enter to leave (the text is erased)", default="", show_default=False)
    finally:
        click.echo(NORMAL, nl=False)
