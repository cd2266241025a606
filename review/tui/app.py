"""The review UI's app: an unlocked workspace, the inbox first, and nothing written to disk.

Textual can write what is on screen to files (screenshots, its log file), send
it to a devtools console, put selected text on the system clipboard (which
clipboard managers keep on disk) and print a crash's local variables. Here
every one of those is off: the app refuses to start when Textual was told by
its environment to log or take screenshots, has no command palette (its
"Screenshot" command), saves no screenshot, keeps copied text inside the app,
and says of a crash only that it happened, and what kind of exception it was.

A reviewer may be led away from an unlocked workstation: the app locks (ends,
and with it the process holding the keys) after IDLE_LOCK_SECONDS without a key
or a click (counting the time a suspended machine slept), and at once on ctrl+l.
"""

from __future__ import annotations

import sys
import time
from typing import Any, ClassVar, Final

from rich.segment import Segments
from rich.text import Text
from textual import constants, events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from review.errors import ReviewError
from review.tui.inbox import Inbox
from review.workspace import Unlocked
from review.workspace.search import SearchIndex

# Textual's environment settings that would record the screen or drive the app.
RECORDING = ("TEXTUAL", "TEXTUAL_LOG", "TEXTUAL_SCREENSHOT", "TEXTUAL_PRESS", "TEXTUAL_DRIVER")
# Unattended this long, the UI locks: `raazdar-review tui --idle-lock MINUTES` changes it.
IDLE_LOCK_SECONDS: float = 5 * 60
# What a reviewer does, as against what merely happens to the terminal (a mouse moved).
_ACTIVITY: Final = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


def refuse_recording() -> None:
    """Refuse to run when Textual was configured to log, take screenshots or press keys."""
    if (
        constants.LOG_FILE is not None
        or constants.SCREENSHOT_DELAY >= 0
        or constants.PRESS
        or constants.DRIVER is not None
        or constants.DEBUG
    ):
        raise ReviewError(
            "Textual is configured to log, take screenshots or replay keys: that would "
            "record report plaintext",
            hint=f"unset {', '.join(RECORDING)} and TEXTUAL_DEBUG",
        )


def _now() -> float:
    """Seconds on a clock that counts the time the machine slept (CLOCK_MONOTONIC does not).

    A lid shut on the open UI, then opened by someone else, locks it at the first look.
    """
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class ReviewApp(App[None]):
    """Read, triage and answer reports in a terminal, as one unlocked reviewer."""

    TITLE = "Raazdar review"
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+l", "lock", "Lock", priority=True),
    ]

    def __init__(
        self, unlocked: Unlocked, *, reorder: bool = True, idle_lock: float | None = None
    ) -> None:
        """`reorder`: draw right-to-left lines in visual order (False for a bidi terminal).

        `idle_lock`: seconds without a key or a click before the UI locks.
        """
        refuse_recording()
        super().__init__()
        # TEXTUAL=devtools would stream every log call to a console.
        self.features = frozenset()
        self.devtools = None
        self.unlocked = unlocked
        self.reorder = reorder
        self.sub_title = f"as {unlocked.reviewer}"
        self._index: SearchIndex | None = None
        self.idle_lock = IDLE_LOCK_SECONDS if idle_lock is None else idle_lock
        self._last_input = _now()
        # Why the UI locked (None: it was quit, or is running).
        self.locked: str | None = None

    def on_mount(self) -> None:
        """Look for an unattended UI a few times per idle period."""
        self.set_interval(min(5.0, self.idle_lock / 4), self._lock_when_idle)

    async def on_event(self, event: events.Event) -> None:
        """Note the reviewer's last key or click before the event goes on."""
        if isinstance(event, _ACTIVITY):
            self._last_input = _now()
        await super().on_event(event)

    def _lock_when_idle(self) -> None:
        """Lock once nobody has touched the UI for the idle period."""
        if _now() - self._last_input >= self.idle_lock:
            self.lock(f"idle for {self.idle_lock / 60:g} minute(s)")

    def action_lock(self) -> None:
        """Lock now: the reviewer is leaving, or being taken away."""
        self.lock("locked with ctrl+l")

    def lock(self, why: str) -> None:
        """End the UI, dropping what it decrypted; the command then ends with the keys."""
        if self.locked is None:
            self.locked = why
            self._index = None
            self.exit()

    def get_default_screen(self) -> Screen[Any]:
        """The inbox is the bottom of the stack."""
        return Inbox()

    def index(self) -> SearchIndex:
        """The search index, decrypted into memory once."""
        if self._index is None:
            self._index = SearchIndex.load(self.unlocked)
        return self._index

    def follow_rewrap(self) -> None:
        """Take up the workspace key another process's rewrap put in place, before any action.

        Left under the old key, the UI would read nothing new and seal what it writes
        under a key the workspace no longer opens.
        """
        if self.unlocked.current:
            return
        self.unlocked = self.unlocked.workspace.reopen(self.unlocked)
        self._index = None
        self.notify("the workspace was re-sealed under a new key (a rewrap): re-opened under it")

    def forget_index(self) -> None:
        """Drop the index after something was added to it (a note)."""
        self._index = None

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Refuse: a screenshot is report plaintext in a file."""
        self.deliver_screenshot(filename, path)

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Refuse: a screenshot is report plaintext in a file."""
        self.notify("screenshots are disabled: they would put report text on disk")
        return None

    def save_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str:
        """Refuse: a screenshot is report plaintext in a file."""
        raise ReviewError("screenshots are disabled: they would put report text on disk")

    def copy_to_clipboard(self, text: str) -> None:
        """Keep copied text inside the app: the system clipboard may be saved to disk."""
        self._clipboard = text

    def _fatal_error(self) -> None:
        """Say the UI met a fault, without its message or traceback, which may hold report text.

        Textual prints them on the normal screen as the UI ends, where the scrollback
        (or the file stderr goes to) keeps them.
        """
        self.bell()
        kind = type(sys.exc_info()[1]).__name__ if sys.exc_info()[1] is not None else "error"
        said = Text(
            f"raazdar-review: error: an unexpected {kind} in the UI: a fault in the tool, not"
            " in what you did; its details are not shown, as they may hold what a report says"
        )
        self._exit_renderables.append(Segments(self.console.render(said, self.console.options)))
        self._close_messages_no_wait()
