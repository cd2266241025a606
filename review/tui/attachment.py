"""One attachment read inside the UI: text, an image or a PDF's pages, from memory, scrollable.

The attachment is decrypted into memory by the same call as `raazdar-review
view` (which records the viewing in the audit log) and shown in the same
blocks; a PDF is read by the confined child process, in a thread, so the
screen stays live while it works. Nothing is written to disk.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from review.casework import reports
from review.cli.base import safe
from review.cli.viewing import Block, blocks
from review.errors import ReviewError
from review.tui.page import Page, refusal
from review.tui.widgets import Message, Prose

# The pages of a PDF the screen shows; the command line reads the others.
PAGES: Final = 50


class AttachmentScreen(Page[None]):
    """An attachment of a report; Escape goes back to the report."""

    DEFAULT_CSS = """
    AttachmentScreen #view { height: 1fr; padding: 0 1; }
    AttachmentScreen .heading { text-style: bold; margin-top: 1; }
    AttachmentScreen .note { text-style: italic; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, num: int, which: str) -> None:
        super().__init__()
        self.num = num
        self.which = which
        self.shown: list[Block] = []
        self.ready = asyncio.Event()  # set once the attachment is shown, or refused

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="view")
        yield Message(id="message")
        yield Footer()

    async def on_mount(self) -> None:
        """Decrypt the attachment (audited), then lay it out."""
        try:
            await self._show()
        finally:
            self.ready.set()

    async def _show(self) -> None:
        ok, found = self.attempt(
            lambda: reports.read_attachment(self.unlocked, self.num, self.which)
        )
        if not ok or found is None:
            return
        attachment, data = found
        self.sub_title = f"report {self.num}, attachment {attachment.index}: {attachment.label}"
        self.say(f"reading {attachment.label or 'the attachment'}…")
        columns = max(self.app.size.width - 4, 1)
        problem = None
        try:
            self.shown = await asyncio.to_thread(
                blocks, attachment, data, columns, pages=(1, PAGES)
            )
        except ReviewError as exc:
            problem = refusal(exc)
        if not self.is_attached:  # the reviewer went back while it was read
            return
        if problem is not None:
            self.say(problem, True)
            return
        view = self.query_one("#view", VerticalScroll)
        await view.mount_all([self._widget(b) for b in self.shown])
        self.say(f"{attachment.label or 'attachment'}: nothing of it is written to disk")
        view.focus()

    def _widget(self, block: Block) -> Widget:
        if block.kind == "text":
            return Prose(block.text, reorder=self.review.reorder, classes="text")
        if block.cells is not None:
            return Static(block.cells, classes="image")
        return Static(safe(block.text), classes=block.kind)
