"""Commands for the reports themselves: list, show, open, triage, search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.table import Table

from review.casework import reports, triage
from review.cli import groups, idle, paging
from review.cli.base import PROG, Ctx, compose, parse_date, pass_ctx, shown
from review.cli.conflicts import routing_notice
from review.cli.exchange import gap_notice
from review.cli.sensitive import (
    REPORT,
    ask,
    tell,
    warn_argument,
    warn_on_disk,
    warn_unless_listed,
)
from review.errors import ReviewError
from review.present import disk
from review.present.text import (
    DANGER,
    ROW_COLUMNS,
    RTL_MODES,
    SHOWN_MAX,
    dispute,
    excerpt,
    prose,
    reorders,
    reply_state,
    report_facts,
    row_cells,
    safe,
)
from review.workspace import search


@groups.report.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(triage.STATUSES),
    help="Only reports with this status (repeat for several).",
)
@click.option("--all", "include_closed", is_flag=True, help="Include closed reports.")
@click.option("--category", callback=warn_argument, help="Only this category.")
@click.option("--agency", callback=warn_argument, help="Only this agency.")
@click.option("--district", callback=warn_argument, help="Only this district.")
@click.option("--severity", type=click.Choice(triage.SEVERITIES), help="Only this severity.")
@click.option("--danger", is_flag=True, help="Only reports flagged imminent danger to life.")
@click.option("--assignee", help="Only reports assigned to this reviewer.")
@click.option("--tag", callback=warn_argument, help="Only reports with this tag.")
@click.option("--since", callback=parse_date, help="Received on or after (YYYY-MM-DD).")
@click.option("--until", callback=parse_date, help="Received on or before (YYYY-MM-DD).")
@click.option(
    "--sort",
    type=click.Choice(triage.SORTS),
    default="number",
    show_default=True,
    help="Order after danger to life, which always comes first.",
)
@paging.paged
@pass_ctx
def list_(
    c: Ctx,
    statuses: tuple[str, ...],
    include_closed: bool,
    category: str | None,
    agency: str | None,
    district: str | None,
    severity: str | None,
    danger: bool,
    assignee: str | None,
    tag: str | None,
    since: dt.date | None,
    until: dt.date | None,
    sort: str,
) -> None:
    """List reports (open ones by default); danger to life always comes first."""
    filters = triage.Filters(
        statuses=set(statuses) or None,
        include_closed=include_closed,
        category=category,
        agency=agency,
        district=district,
        severity=severity,
        danger=danger,
        assignee=assignee,
        tag=tag.casefold() if tag else None,
        since=since,
        until=until,
    )
    u = c.unlock()
    _print_rows(triage.list_reports(u, filters, sort))
    routing_notice(u)
    gap_notice(u)


def _print_rows(rows: list[triage.ReportRow]) -> None:
    console = paging.console()
    if not rows:
        console.print("no reports")
        return
    table = Table(show_lines=False)
    for column in ROW_COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*row_cells(row))
    console.print(table)


@groups.report.command()
@click.argument("num", type=REPORT)
@click.option(
    "--rtl",
    type=click.Choice(RTL_MODES),
    help="Urdu lines: reordered here (visual, the default on a terminal), or left in typed"
    " order for a terminal that lays out right-to-left text itself (logical, the default"
    " when piped). Right-to-left paragraphs are right-aligned either way, as in the UI.",
)
@click.option(
    "--from",
    "start",
    type=click.IntRange(min=0),
    default=0,
    help=f"Show the message and form answers from this character on: a text longer than"
    f" {SHOWN_MAX:,} characters is shown a part at a time.",
)
@paging.paged
@pass_ctx
def show(c: Ctx, num: int, rtl: str | None, start: int) -> None:
    """Show a report: message, fields, triage, attachments, notes and replies."""
    view = reports.read_report(c.unlock(), num)
    console = paging.console()
    reorder = reorders(rtl)

    def text(value: str) -> None:
        console.print(prose(value, console.width, reorder=reorder))

    def written(value: str) -> None:
        """What the source wrote: a part at a time, saying what is left out."""
        part, said = excerpt(value, num, start)
        text(part)
        for line in said:
            console.print(safe(line, "bold red" if line.startswith("!!") else "italic"))

    s = view.state
    console.print(
        safe(f"Report {view.num}", "bold") + safe(f"  received {view.day}  source {view.source}")
    )
    if s.danger:
        console.print(safe(f"!! {DANGER} !!", "bold red"))
    # Said here too, not only at the import and the refused reply.
    disputed = dispute(c.unlock().conn, num)
    if disputed:
        console.print(safe(disputed, "bold red"))
    text("\n".join(report_facts(s)))
    if missing := view.missing_text():
        console.print(safe(f"\n!! {missing}", "bold red"))
    for content in view.contents:
        language = f" ({content.language})" if content.language else ""
        console.print(safe("\nMessage", "bold") + safe(language))
        written(content.message)
        fields = [
            f"  {key}: {shown}"
            for key, value in sorted(content.fields.items())
            if (shown := reports.field_text(value))
        ]
        if fields:
            written("\n".join(fields))
    if view.attachments:
        table = Table(title="Attachments")
        for column in ("#", "name", "type", "size", "state"):
            table.add_column(column)
        listing, unlisted = reports.listed(view)
        for a in listing:
            table.add_row(
                safe(a.index),
                safe(a.label),
                safe(a.content_type or ""),
                safe(f"{a.length:,} bytes" if a.length is not None else ""),
                safe("ok" if a.status == "filed" else f"{a.status}: {a.problem}"),
            )
        console.print(table)
        if unlisted:
            console.print(safe(unlisted, "italic"))
    for note in view.notes:
        console.print(safe("\nNote", "bold") + safe(f" by {note.author}, {note.at}"))
        text(note.text)
    for reply in view.replies:
        state = reply_state(reply.exported_in, disputed is not None)
        console.print(safe("\nReply", "bold") + safe(f" by {reply.author} ({state})"))
        text(reply.text)


@groups.report.command("open")
@click.argument("num", type=REPORT)
@click.argument("attachment", callback=warn_unless_listed)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the plaintext (must not exist).",
)
@click.option("--yes", is_flag=True, help="Write without asking (the warning is still printed).")
@pass_ctx
def open_(c: Ctx, num: int, attachment: str, out: Path, yes: bool) -> None:
    """Decrypt one attachment to a file, after a warning; `report view` reads it without writing."""

    # By its number, not the name its source gave it: the scrollback would keep that.
    which: list[str] = []

    def warn(a: reports.Attachment) -> None:
        which.append(f"attachment {a.index} of report {num}")
        tell(
            f"{PROG}: warning: this writes the plaintext of {which[0]} to"
            f" {shown(out)}, outside the encrypted workspace, where it stays until you remove it;"
            f" `{PROG} report view {num} {a.index}` reads text, images and PDFs without"
            " writing them",
            err=True,
        )
        warn_on_disk(out, "the plaintext")
        if (kept := disk.viewer_warning()) is not None:
            tell(f"{PROG}: warning: {kept}", err=True)
        if not yes and not idle.confirm("Write it?", default=False, err=True):
            raise ReviewError(
                "nothing written", hint="`report view` shows text, images and PDFs in the tool"
            )

    found = reports.open_attachment(c.unlock(), num, attachment, out, warn)
    said = which[0] if which else "the attachment"
    tell(f"wrote {said} ({found.length:,} bytes) to {shown(out)}")


@groups.triage.command()
@click.argument("num", type=REPORT)
@click.argument("status", type=click.Choice(triage.STATUSES))
@click.option("--reason", type=click.Choice(triage.CLOSE_REASONS), help="Why it is closed.")
@pass_ctx
def status(c: Ctx, num: int, status: str, reason: str | None) -> None:
    """Move a report along: new, in-review, needs-info, corroborated, escalated, closed."""
    state = triage.set_status(c.unlock(), num, status, reason)
    tell(f"report {num}: {state.status}")


@groups.triage.command()
@click.argument("num", type=REPORT)
@click.argument("reviewer", required=False)
@click.option("--none", "nobody", is_flag=True, help="Unassign.")
@pass_ctx
def assign(c: Ctx, num: int, reviewer: str | None, nobody: bool) -> None:
    """Assign a report to a reviewer (or --none)."""
    if (reviewer is None) == (not nobody):
        raise click.UsageError("give a reviewer or --none")
    triage.assign(c.unlock(), num, None if nobody else reviewer)
    tell(f"report {num}: assigned to {reviewer or 'nobody'}")


def _field_command(name: str) -> None:
    @groups.triage.command(name, help=f"Set (or --clear) a report's {name}.")
    @click.argument("num", type=REPORT)
    @click.argument("value", required=False, callback=warn_argument)
    @click.option("--clear", is_flag=True, help=f"Clear the {name}.")
    @pass_ctx
    def command(c: Ctx, num: int, value: str | None, clear: bool) -> None:
        if value is not None and clear:
            raise click.UsageError(f"give a {name} or --clear, not both")
        u = c.unlock()
        if value is None and not clear:
            value = ask(name.capitalize())
        triage.set_field(u, num, name, None if clear else value)
        tell(f"report {num}: {name} {'cleared' if clear else 'set'}")


for _name in triage.TEXT_FIELDS:
    _field_command(_name)


@groups.triage.command()
@click.argument("num", type=REPORT)
@click.argument("level", type=click.Choice([*triage.SEVERITIES, "none"]))
@click.option(
    "--danger/--no-danger",
    default=None,
    help="Flag (or unflag) imminent danger to life: such reports sort first everywhere.",
)
@pass_ctx
def severity(c: Ctx, num: int, level: str, danger: bool | None) -> None:
    """Set a report's severity, and the imminent-danger-to-life flag."""
    state = triage.set_severity(c.unlock(), num, None if level == "none" else level, danger)
    flag = f", {DANGER}" if state.danger else ""
    tell(f"report {num}: severity {state.severity or 'none'}{flag}")


@groups.triage.command()
@click.argument("num", type=REPORT)
@click.argument("tags", nargs=-1, callback=warn_argument)
@click.option("--remove", is_flag=True, help="Remove these tags instead.")
@pass_ctx
def tag(c: Ctx, num: int, tags: tuple[str, ...], remove: bool) -> None:
    """Add tags to a report (or --remove them); without TAGS, you are asked for them."""
    u = c.unlock()
    if not tags:
        tags = tuple(ask("Tags (separated by spaces)").split())
    state = triage.tag(u, num, tags, remove=remove)
    # How many, not which: the scrollback would keep them (`show` pages them).
    tell(
        f"report {num}: tags {'removed' if remove else 'added'}, {{count}} in all"
        f" (`{PROG} show {num}` lists them)",
        counts={"count": len(state.tags)},
    )


@groups.triage.command()
@click.argument("num", type=REPORT)
@click.argument("text", required=False, callback=warn_argument)
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the note from a UTF-8 file.",
)
@pass_ctx
def note(c: Ctx, num: int, text: str | None, file: Path | None) -> None:
    """Add a note to a report: written in $EDITOR (or --file; TEXT is kept by shell history)."""
    u = c.unlock()
    triage.add_note(u, num, compose(text, file, f"triage:note:{num}"))
    tell(f"report {num}: note added")


@groups.links.command("add")
@click.argument("num", type=REPORT)
@click.argument("other", type=REPORT)
# Hidden: `links remove` says it; kept for the old `link NUM OTHER --remove`.
@click.option("--remove", is_flag=True, hidden=True, help="Unlink instead.")
@pass_ctx
def link(c: Ctx, num: int, other: int, remove: bool) -> None:
    """Link two reports by hand (e.g. about the same officials)."""
    _link(c, num, other, remove=remove)


@groups.links.command("remove")
@click.argument("num", type=REPORT)
@click.argument("other", type=REPORT)
@pass_ctx
def unlink(c: Ctx, num: int, other: int) -> None:
    """Remove the link between two reports that `links add` made."""
    _link(c, num, other, remove=True)


def _link(c: Ctx, num: int, other: int, *, remove: bool) -> None:
    triage.link(c.unlock(), num, other, remove=remove)
    tell(f"reports {num} and {other}: {'unlinked' if remove else 'linked'}")


@groups.report.command("search")
@click.argument("text", required=False, callback=warn_argument)
@paging.paged
@pass_ctx
def search_(c: Ctx, text: str | None) -> None:
    """Find reports, closed ones too, whose content or notes hold every word you are asked for."""
    u = c.unlock()
    if text is None:
        text = ask("Search for")
    found = search.SearchIndex.load(u).search(text)
    filters = triage.Filters(include_closed=True, only=set(found))
    _print_rows(triage.list_reports(u, filters))
