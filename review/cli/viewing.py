"""`report view`: read an attachment inside the tool, from memory: text laid out, images in cells.

Nothing decrypted is written to disk: the attachment is decrypted into memory
and drawn on the terminal; a PDF is read by a confined child process through
pipes (`review.casework.pdfview`). The terminal UI shows the same blocks. On a terminal
it is paged on the alternate screen and erased after (`review.cli.paging`), out of the
terminal's scrollback; what a terminal keeps beyond that is the workstation guide's.
"""

from __future__ import annotations

import click

from review.casework import pdfview, reports
from review.cli import groups, paging
from review.cli.base import Ctx, pass_ctx
from review.cli.sensitive import REPORT, warn_unless_listed
from review.present.attachments import blocks, render
from review.present.text import RTL_MODES, reorders


def page_range(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int | None]:
    """Click callback: `3`, `2-5` or `4-` as the first and last page (none: to the end)."""
    if value is None:
        return (1, None)
    first, dash, last = value.partition("-")
    try:
        start = int(first) if first.strip() else 1
        end = (int(last) if last.strip() else None) if dash else start
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a page or a range like 2-5") from None
    if start < 1 or (end is not None and end < start):
        raise click.BadParameter(f"{value!r} is not a page or a range like 2-5")
    return (start, end)


@groups.report.command()
@click.argument("num", type=REPORT)
@click.argument("attachment", callback=warn_unless_listed)
@click.option(
    "--rtl",
    type=click.Choice(RTL_MODES),
    help="Urdu lines as `show` lays them out (visual on a terminal, logical when piped).",
)
@click.option(
    "--pages",
    callback=page_range,
    metavar="RANGE",
    help=f"A PDF's pages to read: 3, 2-5 or 4- (default: all, at most {pdfview.Limits().pages}).",
)
@click.option("--no-images", is_flag=True, help="A PDF's text only: its pages are not drawn.")
@paging.paged
@pass_ctx
def view(
    c: Ctx,
    num: int,
    attachment: str,
    rtl: str | None,
    pages: tuple[int, int | None],
    no_images: bool,
) -> None:
    """Read a text, image or PDF attachment (by number, item id or file name) without writing it."""
    found, data = reports.read_attachment(c.unlock(), num, attachment)
    console = paging.console()
    shown = blocks(found, data, console.width, pages=pages, images=not no_images)
    console.print(render(shown, console.width, reorder=reorders(rtl)))
