"""`view`: read an attachment inside the tool, from memory: text laid out, images drawn in cells.

Nothing decrypted is written to disk: the attachment is decrypted into memory
and drawn on the terminal. What the terminal does with it (a scrollback file,
a tmux history) is the terminal's; the workstation's own guidance covers that.
"""

from __future__ import annotations

import io
import warnings

import click
from PIL import Image, UnidentifiedImageError
from rich.color import Color
from rich.style import Style
from rich.text import Text

from review import reports
from review.cli.base import RTL_MODES, Ctx, cli, make_console, pass_ctx, prose, reorders
from review.errors import ReviewError

# The widest an image is drawn, in terminal cells.
IMAGE_COLUMNS = 100
HALF_BLOCK = "\u2580"  # the upper half: its colour is one pixel, the background the one below


def render(a: reports.Attachment, data: bytes, width: int, *, reorder: bool) -> Text:
    """An attachment as the terminal can show it: text laid out, an image in half-block cells."""
    kind = a.content_type or "application/octet-stream"
    if kind.startswith("image/"):
        return image_cells(data, min(width, IMAGE_COLUMNS))
    if kind.startswith("text/") or kind == "application/json":
        try:
            return prose(data.decode("utf-8"), width, reorder=reorder)
        except UnicodeDecodeError as exc:
            raise ReviewError(f"attachment {a.index} is not UTF-8 text") from exc
    raise ReviewError(
        f"cannot show {kind} here",
        hint="`open` writes it to a file outside the workspace, for a viewer of its own",
    )


def image_cells(data: bytes, columns: int) -> Text:
    """Draw an image in colour with half blocks: two pixel rows to a line of cells."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Warning) as exc:
        raise ReviewError(f"the image cannot be drawn: {exc}") from exc
    cols = max(1, min(columns, rgb.width))
    rows = max(2, round(rgb.height * cols / rgb.width))
    small = rgb.resize((cols, rows + rows % 2))
    out = Text()
    for y in range(0, small.height, 2):
        for x in range(cols):
            top, bottom = small.getpixel((x, y)), small.getpixel((x, y + 1))
            out.append(
                HALF_BLOCK,
                Style(color=Color.from_rgb(*top[:3]), bgcolor=Color.from_rgb(*bottom[:3])),  # type: ignore[index]
            )
        out.append("\n")
    return out


@cli.command()
@click.argument("num", type=int)
@click.argument("attachment")
@click.option(
    "--rtl",
    type=click.Choice(RTL_MODES),
    help="Urdu lines as `show` lays them out (visual on a terminal, logical when piped).",
)
@pass_ctx
def view(c: Ctx, num: int, attachment: str, rtl: str | None) -> None:
    """Read a text or image attachment (by number, item id or file name) without writing it."""
    found, data = reports.read_attachment(c.unlock(), num, attachment)
    console = make_console()
    reorder = reorders(rtl)
    console.print(render(found, data, console.width, reorder=reorder))
