"""Weak links waiting for a reviewer's word (`raazdar-review links pending`), decided here.

A weak link (a common name, a station without its district, a name one report gives
a rank and the other none) is never counted as corroboration until a reviewer
confirms it. This screen lists the pairs waiting, those confirming would add most to
first, opens either report to read it, and confirms or rejects the link with the same
`review.analysis.corroboration.decide_link` as the command, after asking: a link
confirmed by a slip of a key would make a man look corroborated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header

from review import bidi
from review.analysis import corroboration, links
from review.analysis.corpus import visible_corpus
from review.present.text import safe
from review.tui.dialogs import Confirm
from review.tui.page import Page
from review.tui.report import ReportScreen
from review.tui.widgets import Message

# Pairs listed at once: a reviewer decides a screenful, then reloads.
SHOWN: Final = 200
COLUMNS: Final = ("entity", "reports", "as written in each", "why weak")


@dataclass(frozen=True)
class Waiting:
    """One row: the two reports, the entity's kind and name, and how the first writes it."""

    reports: tuple[int, int]
    kind: str
    name: str
    written: str


class PendingLinks(Page[None]):
    """Each undecided weak link; `y` confirms, `x` rejects, `1` and `2` open its reports."""

    DEFAULT_CSS = """
    PendingLinks > DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("y", "decide('confirmed')", "Confirm"),
        Binding("x", "decide('rejected')", "Reject"),
        Binding("1", "open(0)", "Open first"),
        Binding("2", "open(1)", "Open second"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Waiting] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable[Text](id="pending", cursor_type="row", zebra_stripes=True)
        yield Message(id="message")
        yield Footer()

    def on_mount(self) -> None:
        """Set up the columns and list the links (F5 lists them again)."""
        self.query_one("#pending", DataTable).add_columns(*COLUMNS)
        self.query_one("#pending", DataTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        """List the weak links waiting, those that would add most first."""
        ok, waiting = self.attempt(lambda: visible_corpus(self.unlocked).pending(limit=SHOWN))
        if not ok or waiting is None:
            return
        table = self.query_one("#pending", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.rows = []
        for p in waiting:
            g = p.group
            for a, b, e in p.pairs:
                self.rows.append(Waiting((a, b), g.kind, g.name, e.written[a][0]))
                table.add_row(
                    self._text(f"{g.kind}: {g.name}" + (" (a short form)" if p.short else "")),
                    safe(f"#{a} - #{b}"),
                    self._text(f"{' / '.join(e.written[a])} = {' / '.join(e.written[b])}"),
                    safe(e.strength.why),
                )
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
            self.say(f"{len(self.rows)} weak link(s) waiting; read both reports (1, 2) first")
        else:
            self.say("no weak link is waiting for a reviewer's word")

    def _text(self, line: str) -> Text:
        return safe(bidi.visual(line) if self.review.reorder else line)

    def _current(self) -> Waiting | None:
        row = self.query_one("#pending", DataTable).cursor_row
        return self.rows[row] if self.rows and 0 <= row < len(self.rows) else None

    def action_open(self, which: int) -> None:
        """Open the first or the second report of the link under the cursor."""
        current = self._current()
        if current is not None:
            self.app.push_screen(ReportScreen(current.reports[which]))

    def action_decide(self, decision: str) -> None:
        """Confirm or reject the link under the cursor, once the reviewer says so."""
        current = self._current()
        if current is None:
            return
        (a, b), kind, name, written = current.reports, current.kind, current.name, current.written
        if decision == links.CONFIRMED:
            question = (
                f"Reports {a} and {b} name the same {name}? Confirmed, the link counts as "
                "corroboration by independent sources."
            )
        else:
            question = (
                f"Reports {a} and {b} do not name the same {name}? The link is never shown "
                "or counted again."
            )

        def decided(yes: bool | None) -> None:
            if not yes:
                self.say("nothing decided")
                return
            ok, _ = self.attempt(
                lambda: corroboration.decide_link(self.unlocked, a, b, written, decision, kind)
            )
            if ok:
                self.action_reload()
                self.say(f"reports {a} and {b}: link on {kind} {name!r} {decision}")

        self.app.push_screen(Confirm(question, reorder=self.review.reorder), decided)
