"""The command line's idle lock: a command left waiting for its reviewer ends, as the UI does.

From unlock to exit a command holds the reviewer's keys, the workspace key and what
it decrypted; at a prompt (a search term, a redaction's yes or no) or in the editor
(a reply, a note, a summary) it waits for a person, with a report's text or names
on the screen. After IDLE_LOCK_SECONDS without a key read from the terminal
(`raazdar-review --idle-lock MINUTES`, as `tui --idle-lock`), the wait raises
`IdleLocked`: the editor is told to end, what was written is sealed into the
workspace as a draft (`review.workspace.drafts`) for the next command to open, and
the command ends as an error does, erasing the screen and the scrollback on a
terminal.

Idleness is counted on CLOCK_BOOTTIME, so a machine put to sleep meanwhile locks at
its first look on waking, and is cut short by any key the terminal gives a reader:
the kernel moves the terminal's access time when one is read (every 8 s at most),
the editor's keys included.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import click

from review.errors import ReviewError
from review.workspace import drafts

if TYPE_CHECKING:
    from review.workspace import Unlocked

# Unattended this long at a prompt or in the editor, a command ends.
IDLE_LOCK_SECONDS: float = 5 * 60
# How often a wait looks at the clock and the terminal.
TICK_SECONDS: float = 5.0
# Home, erase the screen, erase the scrollback (what the command and those before it drew).
ERASE_SCREEN: Final = "\x1b[H\x1b[2J\x1b[3J"
# Enter and leave the terminal's alternate screen (no scrollback).
ALTERNATE: Final = "\x1b[?1049h\x1b[H\x1b[2J"
NORMAL: Final = "\x1b[?1049l"
_LIMIT: Final = "raazdar-idle-lock"
_PENDING: Final = "raazdar-drafts"


class IdleLocked(ReviewError):
    """A command waited for its reviewer past the idle limit, and ends."""

    def __init__(self, seconds: float) -> None:
        # What the reviewer had written in the editor it ended ("" when none was open).
        self.draft = ""
        minutes = max(1, round(seconds / 60))
        super().__init__(
            f"locked after {minutes} minute(s) without a key pressed: the command ended, "
            "and with it the keys and what it decrypted",
            hint="run it again to go on (`--idle-lock MINUTES` changes the limit)",
        )


def set_limit(ctx: click.Context, minutes: int | None) -> None:
    """Use `minutes` as this run's idle limit (None: IDLE_LOCK_SECONDS)."""
    ctx.find_root().meta[_LIMIT] = None if minutes is None else minutes * 60.0


def _limit() -> float:
    context = click.get_current_context(silent=True)
    chosen = context.find_root().meta.get(_LIMIT) if context is not None else None
    return float(chosen) if chosen is not None else IDLE_LOCK_SECONDS


def _now() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _since_a_key() -> float | None:
    """Seconds since a key was last read from this process's terminal (None: no terminal)."""
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return None
        return max(0.0, time.time() - os.fstat(fd).st_atime)
    except (OSError, ValueError, AttributeError):
        return None


@contextmanager
def waiting() -> Iterator[None]:
    """Wait for the person at most the idle limit: past it, `IdleLocked` interrupts the wait."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; no command waits elsewhere
        return
    limit = _limit()
    started = _now()

    def look(_signum: int, _frame: FrameType | None) -> None:
        idle = _now() - started
        typed = _since_a_key()
        if (idle if typed is None else min(idle, typed)) >= limit:
            signal.setitimer(signal.ITIMER_REAL, 0)
            raise IdleLocked(limit)

    previous = signal.signal(signal.SIGALRM, look)
    signal.setitimer(signal.ITIMER_REAL, TICK_SECONDS, TICK_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def prompt(*args: Any, **kwargs: Any) -> Any:
    """`click.prompt`, ended by the idle lock."""
    with waiting():
        return click.prompt(*args, **kwargs)


def confirm(*args: Any, **kwargs: Any) -> bool:
    """`click.confirm`, ended by the idle lock."""
    with waiting():
        return click.confirm(*args, **kwargs)


@contextmanager
def aside() -> Iterator[None]:
    """Draw a prompt, and what is typed at it, on the alternate screen, out of the scrollback.

    For what a reviewer types because it must stay out of shell history (a tag, an
    agency, a name to redact): echoed on the normal screen, it would stay in the
    terminal's scrollback for whoever scrolls up.
    """
    stream = next((s for s in (sys.stderr, sys.stdout) if _is_terminal(s)), None)
    if stream is None:
        yield
        return
    stream.write(ALTERNATE)
    stream.flush()
    try:
        yield
    finally:
        stream.write(NORMAL)
        stream.flush()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def opened(slot: str, u: Unlocked) -> str:
    """The draft a locked command left for `slot`, now taken up (dropped once this succeeds)."""
    text = drafts.read(u, slot)
    _pending().setdefault(slot, text)
    return text


def written(slot: str, text: str) -> None:
    """Hold what the reviewer wrote for `slot` until the command ends: sealed if it locks."""
    if text.strip() or slot not in _pending():
        _pending()[slot] = text


def discard(slot: str, u: Unlocked) -> None:
    """Throw away the draft of `slot` (the reviewer emptied it in the editor)."""
    _pending().pop(slot, None)
    drafts.drop(u, (slot,))


def keep_drafts(u: Unlocked | None) -> tuple[str, ...]:
    """Seal what this command's reviewer wrote into the workspace; the slots kept.

    Called when the command locks, or fails after the editor (a note to a report
    number that does not exist): what was written is not lost either way.
    """
    held = {slot: text for slot, text in _pending().items() if text.strip()}
    if u is None or not held:
        return ()
    drafts.keep(u, held)
    return tuple(held)


def drop_drafts(u: Unlocked | None) -> None:
    """Forget the drafts this command took up and used (it succeeded)."""
    pending = _pending()
    if u is not None and pending:
        drafts.drop(u, tuple(pending))
    pending.clear()


def erase_screen() -> None:
    """Erase the screen and the scrollback, on a terminal."""
    if sys.stdout.isatty():
        click.echo(ERASE_SCREEN, nl=False)


def _pending() -> dict[str, str]:
    context = click.get_current_context(silent=True)
    if context is None:
        return {}
    found: dict[str, str] = context.find_root().meta.setdefault(_PENDING, {})
    return found
