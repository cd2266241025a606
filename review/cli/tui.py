"""`raazdar-review tui`: the terminal UI, started once the workspace is unlocked."""

from __future__ import annotations

import os

import click

from review.cli.base import Ctx, pass_ctx


@click.command()
@click.option(
    "--rtl",
    type=click.Choice(["visual", "logical"]),
    default="visual",
    show_default=True,
    help="Urdu lines: reordered here (visual), or left for a terminal that lays out"
    " right-to-left text itself (logical: Konsole, mlterm, GNOME Terminal with BiDi).",
)
@pass_ctx
def tui(c: Ctx, rtl: str) -> None:
    """Read, triage and answer reports in a terminal UI (unlocks first)."""
    # Textual reads its settings from the environment once, when imported: none of
    # those that log, take screenshots or replay keys may reach it.
    for name in [n for n in os.environ if n.startswith("TEXTUAL")]:
        del os.environ[name]
    u = c.unlock()
    from review.tui.app import ReviewApp  # only now: see above

    ReviewApp(u, reorder=rtl == "visual").run()
