"""Commands for conflicts of interest: declare, list and withdraw; the notice `list` prints."""

from __future__ import annotations

import click
from rich.table import Table

from review.casework import conflicts
from review.cli import groups, idle, paging, sensitive
from review.cli.base import PROG, Ctx, pass_ctx
from review.cli.sensitive import warn_argument
from review.present.text import safe
from review.workspace import Unlocked


@groups.conflicts.command("declare")
@click.option(
    "--agency",
    "agencies",
    multiple=True,
    callback=warn_argument,
    help="An agency you must not see (repeat for several; asked for if neither is given).",
)
@click.option(
    "--district",
    "districts",
    multiple=True,
    callback=warn_argument,
    help="A district you must not see (repeat for several).",
)
@pass_ctx
def declare(c: Ctx, agencies: tuple[str, ...], districts: tuple[str, ...]) -> None:
    """Declare, for yourself, agencies or districts whose reports you must not see.

    Only an administrator other than you can withdraw a declaration.
    """
    u = c.unlock()
    if not agencies and not districts:
        agencies = _asked("Agency you must not see (blank for none)")
        districts = _asked("District you must not see (blank for none)")
        if not agencies and not districts:
            raise click.UsageError("give an agency or a district")
    new, routed = conflicts.declare(u, agencies=agencies, districts=districts)
    # Not the names: the scrollback would keep them (`conflicts list` pages them).
    for d in new:
        click.echo(f"declared {_a(d.kind)} (declaration {d.id}; `{PROG} conflicts list` names it)")
    if len(new) < len(agencies) + len(districts):
        click.echo("the rest were declared already")
    mine = [r for r in routed.routings if r.away_from == u.reviewer]
    if mine:
        click.echo(f"{_reports(len(mine))} routed to other reviewers")
    _warn_unroutable(routed.unroutable)


def _asked(label: str) -> tuple[str, ...]:
    with idle.aside():
        answer: str = idle.prompt(label, default="", show_default=False, err=True)
    return (sensitive.given(answer.strip()),) if answer.strip() else ()


@groups.conflicts.command("list")
@paging.paged
@pass_ctx
def list_(c: Ctx) -> None:
    """List your declarations (an administrator sees everyone's, and unroutable reports)."""
    u = c.unlock()
    admin = u.is_admin
    shown = conflicts.declarations(u, None if admin else u.reviewer)
    console = paging.console()
    if not shown:
        console.print("no declarations")
    else:
        table = Table()
        for column in ("#", "reviewer", "kind", "name", "declared"):
            table.add_column(column)
        for d in shown:
            table.add_row(*(safe(cell) for cell in (d.id, d.reviewer, d.kind, d.name, d.declared)))
        console.print(table)
    routing_notice(u)


@groups.conflicts.command("withdraw")
@click.argument("declaration", type=int)
@pass_ctx
def withdraw(c: Ctx, declaration: int) -> None:
    """Withdraw a reviewer's declaration (an administrator other than that reviewer)."""
    d = conflicts.withdraw(c.unlock(), declaration)
    # Not the name: the scrollback would keep it.
    click.echo(f"withdrew declaration {d.id}: {d.reviewer} may see the reports it hid again")


def routing_notice(u: Unlocked) -> None:
    """Say how many reports are routed away from the reviewer; warn administrators of orphans."""
    count = len(conflicts.hidden(u))
    if count:
        click.echo(f"{_reports(count)} routed to other reviewers")
    if u.is_admin:
        _warn_unroutable(conflicts.unroutable(u))


def _warn_unroutable(nums: list[int]) -> None:
    if not nums:
        return
    listed = ", ".join(str(n) for n in nums)
    click.echo(
        f"{PROG}: warning: no reviewer is free of a declared conflict with report(s) {listed}:"
        " nobody can read them",
        err=True,
    )
    click.echo(
        f"{PROG}: hint: enrol another reviewer, or have an administrator review the"
        " declarations (`conflicts list`)",
        err=True,
    )


def _a(kind: str) -> str:
    """`agency` as "an agency", `district` as "a district"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def _reports(count: int) -> str:
    return "1 report is" if count == 1 else f"{count} reports are"
