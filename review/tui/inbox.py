"""The inbox: the reports `raazdar-review list` shows, narrowed by the filter bar."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input

from review.casework import triage
from review.present.text import ROW_COLUMNS, row_cells
from review.tui import query
from review.tui.links import PendingLinks
from review.tui.page import Page
from review.tui.report import ReportScreen
from review.tui.widgets import Message


class Inbox(Page[None]):
    """Every open report, danger to life first; Enter opens one, `/` filters."""

    DEFAULT_CSS = """
    Inbox > #filter { margin: 0 0; }
    Inbox > DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "to_list", "List", show=False),
        Binding("f5", "reload", "Reload"),
        Binding("k", "links", "Weak links"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.rows: list[triage.ReportRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=query.HELP, id="filter")
        yield DataTable[Text](id="reports", cursor_type="row", zebra_stripes=True)
        yield Message(id="message")
        yield Footer()

    def on_mount(self) -> None:
        """Set up the table's columns; the list itself loads when the screen shows."""
        self.query_one("#reports", DataTable).add_columns(*ROW_COLUMNS)
        self.query_one("#reports", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Reload on showing: a report may have changed in its own view."""
        self.action_reload()

    def action_filter(self) -> None:
        """Go to the filter bar."""
        self.query_one("#filter", Input).focus()

    def action_to_list(self) -> None:
        """Go back to the list."""
        self.query_one("#reports", DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter bar."""
        event.stop()
        self.query_text = event.value
        if self.action_reload():
            self.action_to_list()

    def action_reload(self) -> bool:
        """List the reports the filter bar asks for; say why not when it is refused."""
        ok, rows = self.attempt(self._list)
        if not ok or rows is None:
            return False
        was = self._current()
        self.rows = rows
        table = self.query_one("#reports", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row_cells(row), key=str(row.num))
        nums = [row.num for row in rows]
        if was in nums:  # stay on the report just read, wherever it moved
            table.move_cursor(row=nums.index(was))
        self.say(f"{len(rows)} report(s)" + (f" for: {self.query_text}" if self.query_text else ""))
        return True

    def _current(self) -> int | None:
        table = self.query_one("#reports", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row].num

    def _list(self) -> list[triage.ReportRow]:
        asked = query.parse(self.query_text)
        filters = asked.filters
        if asked.text:
            found = self.review.index().search(asked.text)
            # As `report search` does: closed reports are found too, unless a status is asked for.
            closed = filters.include_closed or filters.statuses is None
            filters = replace(filters, only=set(found), include_closed=closed)
        return triage.list_reports(self.unlocked, filters, asked.sort)

    def action_links(self) -> None:
        """Show the weak links waiting for a reviewer's word."""
        self.app.push_screen(PendingLinks())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the chosen report."""
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(ReportScreen(int(event.row_key.value)))
