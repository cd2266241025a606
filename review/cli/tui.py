"""`raazdar-review tui`: the terminal UI, started once the workspace is unlocked."""

from __future__ import annotations

import os
import sys

import click

from review.cli.base import PROG, Ctx, pass_ctx
from review.cli.idle import ERASE_SCREEN as ERASE_SCREEN


@click.command()
@click.option(
    "--rtl",
    type=click.Choice(["visual", "logical"]),
    default="visual",
    show_default=True,
    help="Urdu lines: reordered here (visual), or left for a terminal that lays out"
    " right-to-left text itself (logical: Konsole, mlterm, GNOME Terminal with BiDi).",
)
@click.option(
    "--idle-lock",
    type=click.IntRange(1, 60),
    default=5,
    show_default=True,
    metavar="MINUTES",
    help="Lock (end the UI and the process holding the keys) after this long without a key"
    " or a click; ctrl+l locks at once.",
)
@pass_ctx
def tui(c: Ctx, rtl: str, idle_lock: int) -> None:
    """Read, triage and answer reports in a terminal UI (unlocks first)."""
    # Textual reads its settings from the environment once, when imported: none of
    # those that log, take screenshots or replay keys may reach it.
    for name in [n for n in os.environ if n.startswith("TEXTUAL")]:
        del os.environ[name]
    u = c.unlock()
    from review.tui.app import ReviewApp  # only now: see above

    app = ReviewApp(u, reorder=rtl == "visual", idle_lock=idle_lock * 60)
    app.run()
    if app.locked is not None:
        if sys.stdout.isatty():
            click.echo(ERASE_SCREEN, nl=False)
        click.echo(
            f"{PROG}: {app.locked}: the workspace is closed and its keys gone from memory;"
            f" `{PROG} tui` unlocks it again"
        )
