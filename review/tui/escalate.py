"""The escalation builder: reports, a body, a summary, attachments and redactions; then a packet.

A screen over `review.escalation.escalate`, the function behind the
`escalation new` command. Redaction suggestions are the ones `escalation new` will ask
about: `review.escalation.packets.build`, which assembles a packet in memory and writes
nothing, is run first to list them, and the reviewer checks the ones to
redact (all are checked to start with, as the command's questions default to
yes). Ctrl+S lists them the first time, and again whenever what would be
built has new ones; when the list is current, it asks, then builds and signs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Input, Label, OptionList, SelectionList, TextArea
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection as Choice

from review import escalation
from review.casework import reports
from review.errors import InvalidValue
from review.escalation import bodies, packets
from review.escalation.redaction import Candidate, Term, parse_term
from review.present.text import safe
from review.tui.dialogs import Confirm
from review.tui.page import Page
from review.tui.widgets import Message

# A suggestion's identity across builds.
Suggestion = tuple[str, str]


@dataclass(frozen=True)
class Draft:
    """What the form asks for, read and checked."""

    nums: list[int]
    body: bodies.Body
    summary: str
    selection: packets.Selection
    terms: list[Term]
    deadline_days: int
    out: Path | None


class EscalationBuilder(Page[str | None]):
    """Build a packet for an oversight body from reports; Escape goes back."""

    DEFAULT_CSS = """
    EscalationBuilder #form { height: 1fr; padding: 0 1; }
    EscalationBuilder #form > Label { margin-top: 1; text-style: bold; }
    EscalationBuilder #summary { height: 8; }
    EscalationBuilder OptionList, EscalationBuilder SelectionList { height: auto; max-height: 10; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Back"),
        Binding("ctrl+s", "build", "Check redactions / build", priority=True),
    ]

    def __init__(self, nums: list[int]) -> None:
        super().__init__()
        self.nums = nums
        self.bodies: list[bodies.Body] = []
        self.shown: dict[Suggestion, Candidate] = {}

    def compose(self) -> ComposeResult:
        _ok, found = self.attempt(lambda: bodies.list_bodies(self.unlocked))
        # A retired body is offered no more (`bodies retire`), nor one only revoked
        # reviewers vouched for (`bodies confirm`).
        hidden = bodies.unconfirmed(self.unlocked, found or [])
        self.bodies = [b for b in found or [] if b.retired is None and b.id not in hidden]
        yield Header()
        with VerticalScroll(id="form"):
            yield Label(safe("Reports (in review, corroborated or escalated)"))
            yield Input(" ".join(str(n) for n in self.nums), id="reports")
            yield Label(safe("To"))
            yield OptionList(
                *(Option(safe(f"{b.name} ({b.jurisdiction})"), id=str(b.id)) for b in self.bodies),
                id="body",
            )
            yield Label(safe("Summary for the body"))
            yield TextArea(id="summary", soft_wrap=True, tab_behavior="focus")
            yield Label(safe("Attachments to include, metadata removed (space toggles)"))
            yield SelectionList[tuple[int, int]](id="attachments")
            yield Label(safe("Suggested redactions: checked ones become pseudonyms"))
            yield SelectionList[Suggestion](id="redactions")
            yield Label(safe("Also redact (KIND:text|other spelling; several separated by ;)"))
            yield Input(id="extra")
            yield Label(safe("Answer due, days after sending"))
            yield Input(str(escalation.DEFAULT_DEADLINE_DAYS), id="deadline", type="integer")
            yield Label(safe("Write the packet to (optional; only if no countersignature is due)"))
            yield Input(id="out")
        yield Message(id="message")
        yield Footer()

    def on_mount(self) -> None:
        """List the attachments; say what to do when there is no body to send to."""
        self._list_attachments()
        if not self.bodies:
            self.say(
                "no escalation body is registered (hint: an administrator runs "
                "`raazdar-review bodies add`)",
                True,
            )
        else:
            self.query_one("#body", OptionList).highlighted = 0
            self.say("Ctrl+S lists the suggested redactions; Ctrl+S again builds the packet")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Follow the list of reports with the list of their attachments."""
        if event.input.id == "reports":
            self._list_attachments()

    def _list_attachments(self) -> None:
        choices = self.query_one("#attachments", SelectionList)
        chosen = set(choices.selected)
        choices.clear_options()
        for num in _numbers(self.query_one("#reports", Input).value):
            _ok, found = self.attempt(partial(reports.attachments, self.unlocked, num))
            for a in found or []:
                if a.status != "filed":
                    continue
                size = f"{a.length:,} bytes" if a.length is not None else ""
                label = f"report {num} #{a.index}  {a.name or ''}  {a.content_type or ''}  {size}"
                key = (num, a.index)
                choices.add_option(Choice(safe(label), key, key in chosen))

    def read(self) -> Draft:
        """Read the form; refuse what is missing or malformed."""
        text = self.query_one("#reports", Input).value
        nums = _numbers(text)
        if not nums or len(nums) != len(text.split()):
            raise InvalidValue("give the reports as numbers separated by spaces")
        picked = self.query_one("#body", OptionList).highlighted
        if picked is None or not self.bodies:
            raise InvalidValue("choose the body to send to")
        deadline = self.query_one("#deadline", Input).value.strip()
        if not deadline.isdigit():
            raise InvalidValue("the deadline is a number of days")
        extra = self.query_one("#extra", Input).value
        out = self.query_one("#out", Input).value.strip()
        attachments = self.query_one("#attachments", SelectionList)
        return Draft(
            nums=nums,
            body=self.bodies[picked],
            summary=self.query_one("#summary", TextArea).text,
            selection=packets.Selection(attach=frozenset(attachments.selected)),
            terms=[parse_term(t.strip()) for t in extra.split(";") if t.strip()],
            deadline_days=int(deadline),
            out=Path(out).expanduser().absolute() if out else None,
        )

    def suggestions(self, draft: Draft) -> list[Candidate]:
        """What `escalation new` will ask about, from a build in memory that is thrown away."""
        asked: list[Candidate] = []

        def note(candidate: Candidate) -> bool:
            asked.append(candidate)
            return True

        packets.build(
            self.unlocked,
            draft.nums,
            draft.body,
            packet_id=secrets.token_hex(16),
            summary=draft.summary,
            selection=draft.selection,
            extra_terms=draft.terms,
            confirm=note,
            countersignatures=0,
        )
        return asked

    def action_build(self) -> None:
        """List the suggestions if they changed; otherwise ask, then build and sign."""
        ok, draft = self.attempt(self.read)
        if not ok or draft is None:
            return
        ok, asked = self.attempt(lambda: self.suggestions(draft))
        if not ok or asked is None:
            return
        if {(c.kind, c.key) for c in asked} != set(self.shown):
            self._show_suggestions(asked)
            return
        reports_ = ", ".join(str(n) for n in draft.nums)
        question = (
            f"Build and sign a packet of report(s) {reports_} for {draft.body.name}, "
            f"with {len(self._redacted())} of {len(self.shown)} suggestion(s) redacted?"
        )
        self.app.push_screen(Confirm(question), lambda yes: self._build(draft) if yes else None)

    def _show_suggestions(self, asked: list[Candidate]) -> None:
        choices = self.query_one("#redactions", SelectionList)
        before = set(choices.selected)
        known = set(self.shown)
        self.shown = {(c.kind, c.key): c for c in asked}
        choices.clear_options()
        for key, c in self.shown.items():
            others = f" (also {', '.join(c.forms[1:])})" if c.forms[1:] else ""
            label = f"{c.kind}: {c.forms[0]}{others}, seen {c.count} time(s)"
            choices.add_option(Choice(safe(label), key, key in before or key not in known))
        self.say(
            f"{len(asked)} suggested redaction(s): check them, then Ctrl+S again to build",
        )

    def _redacted(self) -> set[Suggestion]:
        return set(self.query_one("#redactions", SelectionList).selected)

    def _build(self, draft: Draft) -> None:
        redacted = self._redacted()
        known = set(self.shown)

        def confirm(candidate: Candidate) -> bool:
            key = (candidate.kind, candidate.key)
            return key in redacted or key not in known  # one not listed is redacted

        warnings: list[str] = []

        def build() -> escalation.Escalation:
            created = escalation.escalate(
                self.unlocked,
                draft.nums,
                str(draft.body.id),
                summary=draft.summary,
                selection=draft.selection,
                extra_terms=draft.terms,
                confirm=confirm,
                deadline_days=draft.deadline_days,
            )
            esc = created.escalation
            warnings.extend(created.warnings)
            if draft.out is not None and esc.record.state == "ready":
                esc = escalation.export(self.unlocked, esc.id, draft.out)
            return esc

        ok, esc = self.attempt(build)
        if not ok or esc is None:
            return
        r = esc.record
        done = f"escalation {esc.id}: {len(r.redactions)} redaction(s), {len(r.files)} file(s), "
        if r.state == "draft":
            done += f"a draft until {esc.needs} other reviewer(s) countersign"
        elif r.state == "sent" and draft.out is not None:
            done += f"written to {draft.out}, answer due by {r.deadline}"
        else:
            done += f"ready: `raazdar-review escalation export {esc.id} --out FILE` writes it"
        # What the command line prints as warnings (a writer's marks in a report's words).
        done += "".join(f". Warning: {w}" for w in warnings)
        self.dismiss(done)


def _numbers(text: str) -> list[int]:
    return [int(word) for word in text.split() if word.isdigit()]
