"""The review UI's app: an unlocked workspace, the inbox first, and nothing written to disk.

Textual can write what is on screen to files (screenshots, its log file), send
it to a devtools console, put selected text on the system clipboard (which
clipboard managers keep on disk) and print a crash's local variables. Here
every one of those is off: the app refuses to start when Textual was told by
its environment to log or take screenshots, has no command palette (its
"Screenshot" command), saves no screenshot, keeps copied text inside the app,
and prints a crash without its local variables.
"""

from __future__ import annotations

from typing import Any, ClassVar

import rich
from rich.segment import Segments
from rich.traceback import Traceback
from textual import constants
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from review.errors import ReviewError
from review.tui.inbox import Inbox
from review.workspace import Unlocked
from review.workspace.search import SearchIndex

# Textual's environment settings that would record the screen or drive the app.
RECORDING = ("TEXTUAL", "TEXTUAL_LOG", "TEXTUAL_SCREENSHOT", "TEXTUAL_PRESS", "TEXTUAL_DRIVER")


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


class ReviewApp(App[None]):
    """Read, triage and answer reports in a terminal, as one unlocked reviewer."""

    TITLE = "Raazdar review"
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, unlocked: Unlocked, *, reorder: bool = True) -> None:
        """`reorder`: draw right-to-left lines in visual order (False for a bidi terminal)."""
        refuse_recording()
        super().__init__()
        # TEXTUAL=devtools would stream every log call to a console.
        self.features = frozenset()
        self.devtools = None
        self.unlocked = unlocked
        self.reorder = reorder
        self.sub_title = f"as {unlocked.reviewer}"
        self._index: SearchIndex | None = None

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
        """Show a crash without local variables, which would hold report text."""
        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()
