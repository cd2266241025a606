"""Widgets that show what sources and reviewers wrote: never as markup, Urdu laid out right."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from review.bidi import Line, layout
from review.present.text import safe

# Shows a line to the reviewer: the text, and whether it reports a refusal.
Say = Callable[[str, bool], None]


class Prose(Widget):
    """A block of untrusted text, wrapped here so that each right-to-left line can be reordered.

    Control characters are replaced as `safe()` does for the command line, and
    nothing in the text is read as markup.
    """

    DEFAULT_CSS = """
    Prose { height: auto; }
    """

    def __init__(
        self, text: str, *, reorder: bool, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.text = safe(text).plain
        self.reorder = reorder
        self._laid_out: tuple[int, list[Line]] = (-1, [])

    def update(self, text: str) -> None:
        """Show new text, laid out afresh."""
        self.text = safe(text).plain
        self._laid_out = (-1, [])
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Line]:
        """The text wrapped to `width` cells, as it is drawn."""
        if self._laid_out[0] != width:
            self._laid_out = (width, layout(self.text, width, reorder=self.reorder))
        return self._laid_out[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many rows as the wrapped text has lines."""
        return len(self.lines(width)) if width else 0

    def render_line(self, y: int) -> Strip:
        """Draw one line, right-aligned when its paragraph is right-to-left."""
        width = self.size.width
        lines = self.lines(width)
        style = self.rich_style
        if y >= len(lines) or width <= 0:
            return Strip.blank(width, style)
        line = lines[y]
        gap = max(width - Text(line.text).cell_len, 0)
        text = " " * gap + line.text if line.rtl else line.text + " " * gap
        return Strip([Segment(text, style)]).crop(0, width)


class Message(Static):
    """One line the screen tells the reviewer: what was done, or why it was refused."""

    DEFAULT_CSS = """
    Message { height: auto; padding: 0 1; }
    Message.error { color: $error; }
    """

    def show(self, text: str, error: bool = False) -> None:
        """Replace the line (never read as markup)."""
        self.set_class(error, "error")
        self.update(safe(text))
