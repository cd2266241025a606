"""One report: what the source sent, its triage, attachments, notes and replies; triage keys.

Every key calls the same `review.*` function as the matching command of
`raazdar-review`, so each change is checked by the same rules and recorded in
the audit log by the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from review.casework import prekeys, replies, reports, triage
from review.errors import InvalidValue
from review.present import disk
from review.present.text import DANGER, dispute, excerpt, reply_state, report_facts, safe
from review.tui.attachment import AttachmentScreen
from review.tui.composer import Composer
from review.tui.dialogs import Ask, Choose, Confirm, SeverityChoice
from review.tui.escalate import EscalationBuilder
from review.tui.page import Page
from review.tui.widgets import Message, Prose, Say
from review.workspace.state import State

NOBODY = "-"  # never a reviewer id: those cannot start with "-"
QUEUE_QUESTION = (
    "Queue this reply? It is sealed to the source and signed by you now, "
    "and leaves with the next `exchange export`."
)


class ReportScreen(Page[None]):
    """A report, read whole into memory; Escape goes back to the inbox."""

    DEFAULT_CSS = """
    ReportScreen #body { height: 1fr; padding: 0 1; }
    ReportScreen .heading { text-style: bold; margin-top: 1; }
    ReportScreen .danger { color: $error; text-style: bold; }
    ReportScreen .message { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "status", "Status"),
        Binding("a", "assign", "Assign"),
        Binding("c", "field('category')", "Category"),
        Binding("g", "field('agency')", "Agency"),
        Binding("d", "field('district')", "District"),
        Binding("v", "severity", "Severity"),
        Binding("t", "tag", "Tag"),
        Binding("n", "note", "Note"),
        Binding("l", "link", "Link"),
        Binding("r", "reply", "Reply"),
        Binding("o", "read", "Read file"),
        Binding("w", "write", "Write file"),
        Binding("e", "escalate", "Escalate"),
    ]

    def __init__(self, num: int) -> None:
        super().__init__()
        self.num = num
        self.view: reports.ReportView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="body")
        yield Message(id="message")
        yield Footer()

    async def on_mount(self) -> None:
        """Read the report."""
        await self.show_report()
        self.query_one("#body").focus()

    async def show_report(self) -> None:
        """Read the report again and redraw it (after each change)."""
        ok, view = self.attempt(lambda: reports.read_report(self.unlocked, self.num))
        if not ok or view is None:
            return
        self.view = view
        body = self.query_one("#body", VerticalScroll)
        await body.remove_children()
        await body.mount_all(list(self._parts(view)))

    def _parts(self, view: reports.ReportView) -> Iterator[Widget]:
        reorder = self.review.reorder
        s = view.state
        yield Static(
            safe(f"Report {view.num}", "bold")
            + safe(f"  received {view.day}  source {view.source}")
        )
        if s.danger:
            yield Static(safe(f"!! {DANGER} !!"), classes="danger")
        disputed = dispute(self.unlocked.conn, view.num)
        if disputed:
            yield Static(safe(disputed), classes="danger")
        shown = report_facts(s)
        yield Prose("\n".join(shown), reorder=reorder, id="facts")
        if missing := view.missing_text():
            yield Static(safe(f"!! {missing}"), classes="danger")
        for content in view.contents:
            language = f" ({content.language})" if content.language else ""
            yield Static(safe(f"Message{language}"), classes="heading")
            yield from self._written(content.message, "message")
            fields = [
                f"{key}: {text}"
                for key, value in sorted(content.fields.items())
                if (text := reports.field_text(value))
            ]
            if fields:
                yield from self._written("\n".join(fields), "fields")
        if view.attachments:
            yield Static(
                safe("Attachments (o reads one here, w writes one to a file)"), classes="heading"
            )
            listing, unlisted = reports.listed(view)
            yield Prose(
                "\n".join(_attachment_line(a) for a in listing), reorder=reorder, id="attachments"
            )
            if unlisted:
                yield Static(safe(unlisted), classes="note")
        for note in view.notes:
            yield Static(safe(f"Note by {note.author}, {note.at}"), classes="heading")
            yield Prose(note.text, reorder=reorder, classes="note")
        for reply in view.replies:
            state = reply_state(reply.exported_in, disputed is not None)
            yield Static(safe(f"Reply by {reply.author} ({state})"), classes="heading")
            yield Prose(reply.text, reorder=reorder, classes="reply")

    def _written(self, text: str, classes: str) -> Iterator[Widget]:
        """What the source wrote, its first part only when it is long, saying what is left out."""
        part, said = excerpt(text, self.num)
        yield Prose(part, reorder=self.review.reorder, classes=classes)
        for line in said:
            yield Static(safe(line), classes="danger")

    @property
    def state(self) -> State:
        """The triage state as last read."""
        return (
            self.view.state if self.view is not None else triage.load_state(self.unlocked, self.num)
        )

    async def _do(self, action: Callable[[], object], done: str) -> None:
        """Run one triage call and redraw the report once it has changed."""
        ok, _ = self.attempt(action)
        if ok:
            await self.show_report()
            self.say(done)

    def action_status(self) -> None:
        """`s`: move the report along the workflow; closing asks why."""
        current = self.state.status
        moves = [s for s in triage.STATUSES if s in triage.MOVES[current]]

        async def chosen(status: str | None) -> None:
            if status is None:
                return
            if status != "closed":
                await self._set_status(status, None)
                return

            async def reason(why: str | None) -> None:
                if why is not None:
                    await self._set_status(status, why)

            self.app.push_screen(
                Choose("Why is it closed?", [(r, r) for r in triage.CLOSE_REASONS]), reason
            )

        self.app.push_screen(Choose(f"Status (now {current})", [(m, m) for m in moves]), chosen)

    async def _set_status(self, status: str, reason: str | None) -> None:
        await self._do(
            lambda: triage.set_status(self.unlocked, self.num, status, reason),
            f"status: {status}" + (f" ({reason})" if reason else ""),
        )

    def action_assign(self) -> None:
        """`a`: assign the report to an enrolled reviewer, or to nobody."""
        choices = [(r, r) for r in self.unlocked.workspace.reviewer_ids()]

        async def chosen(reviewer: str | None) -> None:
            if reviewer is None:
                return
            who = None if reviewer == NOBODY else reviewer
            await self._do(
                lambda: triage.assign(self.unlocked, self.num, who),
                f"assigned to {who or 'nobody'}",
            )

        self.app.push_screen(Choose("Assign to", [*choices, (NOBODY, "nobody")]), chosen)

    def action_field(self, name: str) -> None:
        """`c`, `g`, `d`: set the category, agency or district (empty clears it)."""
        current: str | None = getattr(self.state, name)

        async def answered(value: str | None) -> None:
            if value is None:
                return
            value = value.strip() or None
            await self._do(
                lambda: triage.set_field(self.unlocked, self.num, name, value),
                f"{name} {'set' if value else 'cleared'}",
            )

        self.app.push_screen(Ask(name.capitalize(), current or "", "empty clears it"), answered)

    def action_severity(self) -> None:
        """`v`: set the severity and the imminent-danger-to-life flag."""
        s = self.state

        async def chosen(answer: tuple[str | None, bool] | None) -> None:
            if answer is None:
                return
            level, danger = answer
            flag = f", {DANGER}" if danger else ""
            await self._do(
                lambda: triage.set_severity(self.unlocked, self.num, level, danger),
                f"severity {level or 'none'}{flag}",
            )

        self.app.push_screen(SeverityChoice(triage.SEVERITIES, s.severity, s.danger), chosen)

    def action_tag(self) -> None:
        """`t`: add tags, or remove those written with a leading `-`."""

        async def answered(value: str | None) -> None:
            words = (value or "").split()
            add = [w for w in words if not w.startswith("-")]
            remove = [w[1:] for w in words if w.startswith("-")]

            def change() -> State:
                state = self.state
                if add:
                    state = triage.tag(self.unlocked, self.num, add)
                if remove:
                    state = triage.tag(self.unlocked, self.num, remove, remove=True)
                return state

            if words:
                await self._do(change, "tags changed")

        self.app.push_screen(Ask("Tags", hint="separated by spaces; -tag removes one"), answered)

    def action_link(self) -> None:
        """`l`: link this report to another (or `-N` to unlink)."""

        async def answered(value: str | None) -> None:
            if not value or not value.strip():
                return
            text = value.strip()
            remove = text.startswith("-")

            def change() -> None:
                try:
                    other = int(text.removeprefix("-"))
                except ValueError as exc:
                    raise InvalidValue(f"{text!r} is not a report number") from exc
                triage.link(self.unlocked, self.num, other, remove=remove)

            await self._do(
                change, f"{'unlinked from' if remove else 'linked to'} {text.lstrip('-')}"
            )

        self.app.push_screen(Ask("Link to report number", hint="-N unlinks"), answered)

    def action_note(self) -> None:
        """`n`: add a note (notes are searchable and never edited)."""

        def save(text: str, say: Say) -> bool:
            ok, _ = self.attempt(lambda: triage.add_note(self.unlocked, self.num, text), show=say)
            if ok:
                self.review.forget_index()
            return ok

        self.app.push_screen(
            Composer(f"Note on report {self.num}", save, reorder=self.review.reorder),
            self._composed("note added"),
        )

    def action_reply(self) -> None:
        """`r`: write a reply to the source; Ctrl+S queues it after a yes.

        When the source's one-time reply keys are used up, a second question asks
        whether to seal it to their codename key, NOT forward-secret; a no keeps the draft.
        """

        def first(text: str) -> replies.Queued | prekeys.NoPrekeyLeft:
            try:
                return replies.queue_reply(self.unlocked, self.num, text)
            except prekeys.NoPrekeyLeft as none_left:
                return none_left

        def save(text: str, say: Say) -> bool:
            ok, queued = self.attempt(lambda: first(text), show=say)
            if isinstance(queued, prekeys.NoPrekeyLeft):
                question = f"{queued} Seal it to their codename key anyway?"
                self.app.push_screen(Confirm(question), lambda yes: anyway(yes, text, say))
                return False
            return ok

        def anyway(yes: bool | None, text: str, say: Say) -> None:
            if not yes:
                say("not queued: the draft stays", True)
                return
            ok, _ = self.attempt(
                lambda: replies.queue_reply(self.unlocked, self.num, text, allow_codename_key=True),
                show=say,
            )
            if ok:
                composer.dismiss(True)

        composer = Composer(
            f"Reply to the source of report {self.num}",
            save,
            confirm=self._queue_question(),
            reorder=self.review.reorder,
        )
        done = "reply queued for the next `exchange export`"
        self.app.push_screen(composer, self._composed(done))

    def _queue_question(self) -> str:
        """The question before a reply is sealed, warning first when this clock lags the server's,
        or when another designation holds the source's reply key.

        Asked before sealing, so that the reviewer can set the clock and keep the draft.
        """
        today = dt.datetime.now(dt.UTC).date()
        behind = replies.clock_behind(self.unlocked.conn, today)
        shared = replies.sharing_key(self.unlocked.conn, self.num)
        question = QUEUE_QUESTION
        if shared:
            warning = replies.shared_key_warning(self.num, shared)
            question = f"WARNING: {warning} (hint: {replies.SHARED_KEY_HINT}). {question}"
        if behind is None:
            return question
        return (
            f"WARNING: {replies.clock_warning(today, behind)} (hint: set this workstation's"
            f" clock (UTC) before writing replies). {question}"
        )

    def _composed(self, done: str) -> Callable[[bool | None], Awaitable[None]]:
        async def back(saved: bool | None) -> None:
            if saved:
                await self.show_report()
                self.say(done)

        return back

    def _choose(self, then: Callable[[str], None]) -> None:
        """Ask which readable attachment (unless there is only one), then go on with it."""
        filed = [a for a in (self.view.attachments if self.view else []) if a.status == "filed"]
        if not filed:
            self.say("this report has no readable attachment", error=True)
            return

        def chosen(which: str | None) -> None:
            if which is not None and which.strip():
                then(which.strip())

        if len(filed) == 1:
            chosen(str(filed[0].index))
        else:
            self.app.push_screen(Ask("Attachment number", str(filed[0].index)), chosen)

    def action_read(self) -> None:
        """`o`: read one attachment (text, image, PDF) here, from memory; nothing is written."""

        def read(which: str) -> None:
            self.app.push_screen(AttachmentScreen(self.num, which))

        self._choose(read)

    def action_write(self) -> None:
        """`w`: decrypt one attachment to a new file outside the workspace, after a warning."""

        def ask_path(which: str) -> None:
            self.app.push_screen(
                Ask(
                    f"Write attachment {which}'s plaintext to",
                    hint="a new file outside the encrypted workspace, where it stays until you"
                    " remove it (on a disk, even after: choose /dev/shm); o reads text, images"
                    " and PDFs here without writing",
                ),
                lambda out: self._open(which, out),
            )

        self._choose(ask_path)

    def _open(self, which: str, out: str | None) -> None:
        if out is None or not out.strip():
            return
        path = Path(out.strip()).expanduser().absolute()

        def write() -> reports.Attachment:
            return reports.open_attachment(self.unlocked, self.num, which, path)

        ok, found = self.attempt(write)
        if ok and found is not None:
            size = f"{found.length:,} bytes" if found.length is not None else "?"
            said = [disk.warning(path, "the plaintext"), disk.viewer_warning()]
            left = "; ".join(w for w in said if w is not None)
            self.say(
                f"wrote {found.name or 'attachment'} ({size}) to {path}"
                + (f"; {left}" if left else ""),
                bool(left),
            )

    def action_escalate(self) -> None:
        """`e`: build an escalation packet from this report and those linked to it."""
        nums = [self.num, *self.state.links]

        async def back(done: str | None) -> None:
            await self.show_report()
            if done:
                self.say(done)

        self.app.push_screen(EscalationBuilder(nums), back)


def _attachment_line(a: reports.Attachment) -> str:
    size = f"{a.length:,} bytes" if a.length is not None else ""
    state = "ok" if a.status == "filed" else f"{a.status}: {a.problem}"
    return "  ".join(p for p in (f"{a.index}.", a.label, a.content_type or "", size, state) if p)
