"""Writing a note or a reply: a text area, Ctrl+S to save (after a yes), Escape to leave.

The draft lives only in the text area's memory: nothing is written to a file.
A failed save keeps the draft on screen. The text area edits in typed (logical)
order; under it, the draft is shown as the report view will show it, with
Urdu laid out by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label, TextArea

from review.present.text import safe
from review.tui.dialogs import Confirm
from review.tui.widgets import Message, Prose, Say

# Called with the text and a way to show a refusal; says whether it was saved.
Save = Callable[[str, Say], bool]


class Composer(Screen[bool]):
    """Compose text for `save`; dismissed with True once saved, False when left."""

    DEFAULT_CSS = """
    Composer > Label { padding: 0 1; text-style: bold; }
    Composer > TextArea { height: 1fr; }
    Composer > #preview { max-height: 40%; border-top: solid $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "leave", "Leave"),
    ]

    def __init__(
        self, title: str, save: Save, *, confirm: str | None = None, reorder: bool = True
    ) -> None:
        """`confirm`, when given, is asked (yes or no) before `save` is called."""
        super().__init__()
        self.title_text, self.save, self.confirm = title, save, confirm
        self.reorder = reorder

    def compose(self) -> ComposeResult:
        yield Label(safe(self.title_text))
        yield TextArea(id="draft", soft_wrap=True, tab_behavior="focus")
        yield Prose("", reorder=self.reorder, id="preview")
        yield Message(id="message")
        yield Footer()

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one("#draft", TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Show the draft as it will read in the report view."""
        self.query_one("#preview", Prose).update(event.text_area.text)

    @property
    def draft(self) -> str:
        """What has been typed so far."""
        return self.query_one("#draft", TextArea).text

    def say(self, text: str, error: bool = False) -> None:
        """Show a line under the draft."""
        self.query_one(Message).show(text, error)

    def action_save(self) -> None:
        """Save the draft, after asking when this composer asks."""
        if not self.draft.strip():
            self.say("nothing written", True)
            return
        if self.confirm is None:
            self._save(True)
        else:
            self.app.push_screen(Confirm(self.confirm), self._save)

    def _save(self, yes: bool | None) -> None:
        if yes and self.save(self.draft, self.say):
            self.dismiss(True)

    def action_leave(self) -> None:
        """Leave; a draft is thrown away only after a yes."""
        if not self.draft.strip():
            self.dismiss(False)
            return

        def leave(yes: bool | None) -> None:
            if yes:
                self.dismiss(False)

        self.app.push_screen(Confirm("Throw this draft away?"), leave)
