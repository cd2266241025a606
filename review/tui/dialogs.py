"""Small modal questions: a line of text, one choice of several, yes or no, a severity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList
from textual.widgets.option_list import Option

from review.present.text import safe
from review.tui.widgets import Prose

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 70; max-width: 90%; height: auto; max-height: 90%;
    border: round $accent; background: $surface; padding: 0 1;
}}
{name} OptionList {{ height: auto; max-height: 14; }}
{name} .hint {{ color: $text-muted; }}
"""


class Ask(ModalScreen[str | None]):
    """Ask for one line of text; Enter answers (empty is an answer), Escape cancels."""

    DEFAULT_CSS = _CSS.format(name="Ask")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.question, self.value, self.hint = question, value, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe(self.question))
            yield Input(value=self.value, id="answer")
            if self.hint:
                yield Label(safe(self.hint), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Answer with what was typed."""
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Answer nothing."""
        self.dismiss(None)


class Choose(ModalScreen[str | None]):
    """Pick one of several values; Escape cancels."""

    DEFAULT_CSS = _CSS.format(name="Choose")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, choices: Sequence[tuple[str, str]]) -> None:
        """`choices` are (value, label) pairs."""
        super().__init__()
        self.question, self.choices = question, list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe(self.question))
            yield OptionList(
                *(Option(safe(label), id=value) for value, label in self.choices), id="choices"
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Answer with the chosen value."""
        event.stop()
        self.dismiss(event.option_id)

    def action_cancel(self) -> None:
        """Answer nothing."""
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Ask yes or no: `y` answers yes, `n` or Escape no."""

    DEFAULT_CSS = _CSS.format(name="Confirm")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, *, reorder: bool = False) -> None:
        """`reorder`: the question holds what someone wrote (a name in Urdu): lay it out as
        `Prose` does, right-to-left runs in visual order, for a terminal without bidi."""
        super().__init__()
        self.question = question
        self.reorder = reorder

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.reorder:
                yield Prose(self.question, reorder=True, classes="question")
            else:
                yield Label(safe(self.question))
            yield Label(safe("y: yes   n: no"), classes="hint")

    def action_answer(self, yes: bool) -> None:
        """Answer."""
        self.dismiss(yes)


class SeverityChoice(ModalScreen[tuple[str | None, bool] | None]):
    """Pick a severity (or none) and whether the report is imminent danger to life."""

    DEFAULT_CSS = _CSS.format(name="SeverityChoice")
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, levels: Sequence[str], current: str | None, danger: bool) -> None:
        super().__init__()
        self.levels, self.current, self.danger = list(levels), current, danger

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe("Severity (Enter sets it; Tab to the danger flag first)"))
            yield Checkbox(safe("Imminent danger to life"), self.danger, id="danger")
            options = [Option(safe("none"), id="none")]
            options += [Option(safe(level), id=level) for level in self.levels]
            yield OptionList(*options, id="levels")

    def on_mount(self) -> None:
        """Start on the current severity."""
        levels = self.query_one("#levels", OptionList)
        levels.highlighted = self.levels.index(self.current) + 1 if self.current else 0
        levels.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Answer with the level and the flag."""
        event.stop()
        level = None if event.option_id in (None, "none") else event.option_id
        self.dismiss((level, self.query_one("#danger", Checkbox).value))

    def action_cancel(self) -> None:
        """Answer nothing."""
        self.dismiss(None)
