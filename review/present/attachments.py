"""An attachment as the CLI (`view`) and the terminal UI both show it: blocks of text and images.

Decrypted into memory and drawn in terminal cells; a PDF is read by a confined
child process through pipes (`review.casework.pdfview`). Nothing is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from PIL import Image
from rich.color import Color
from rich.style import Style
from rich.text import Text

from review.casework import pdfchild, pdfview, reports
from review.errors import ReviewError
from review.present import metadata
from review.present.text import SHOWN_MAX, prose, safe

# The widest an image is drawn, in terminal cells.
IMAGE_COLUMNS: Final = 100
# The upper half block: its colour is one pixel, the background the one below.
HALF_BLOCK: Final = "\u2580"
PDF: Final = "application/pdf"
NO_TEXT: Final = "(no text on this page: it may be a scan, which its image shows)"
NOT_SHOWN: Final = "`open` writes it to a file outside the workspace, for a viewer of its own"
TOO_LONG: Final = (
    "not shown here; `raazdar-review report view` reads a PDF's other pages with --pages,"
    " and `open` writes a file for a viewer of its own"
)
MORE_PAGES: Final = "`raazdar-review report view` reads others with --pages, e.g. --pages 2-5"


@dataclass(frozen=True)
class Block:
    """One piece of an attachment as shown: a heading, text to lay out, a drawn image, a note."""

    kind: Literal["heading", "text", "image", "note"]
    text: str = ""
    cells: Text | None = None


def blocks(
    a: reports.Attachment,
    data: bytes,
    columns: int,
    *,
    pages: tuple[int, int | None] = (1, None),
    images: bool = True,
) -> list[Block]:
    """An attachment as the CLI and the terminal UI both show it, in blocks.

    What it says of its maker (a photo's GPS position, a phone's serial number,
    a document's author) comes first.
    """
    return _bounded(_blocks(a, data, columns, pages=pages, images=images))


def _blocks(
    a: reports.Attachment,
    data: bytes,
    columns: int,
    *,
    pages: tuple[int, int | None],
    images: bool,
) -> list[Block]:
    found = metadata.identifying(a.name, data)
    if not found:
        return _shown(a, data, columns, pages=pages, images=images)
    told = [Block("heading", metadata.HEADING), *(Block("note", line) for line in found)]
    kind = a.content_type or "application/octet-stream"
    if not kind.startswith(("image/", "text/")) and kind not in ("application/json", PDF):
        # An office document is not shown here, but what it says of its writer is.
        return [*told, Block("heading", f"(its content cannot be shown here: {NOT_SHOWN})")]
    try:
        shown = _shown(a, data, columns, pages=pages, images=images)
    except ReviewError as exc:
        if not kind.startswith("image/"):
            raise
        # A picture not drawn here (HEIC): what it says of its maker is still shown.
        return [*told, Block("heading", f"({exc})")]
    if shown and shown[0] == told[0]:  # a PDF's own properties, under the same heading
        shown = shown[1:]
    return told + shown


def _bounded(shown: list[Block]) -> list[Block]:
    """At most `SHOWN_MAX` characters of text in all, as `show` draws a report's text, and
    a note of how much more there is: a text file or a PDF's pages can hold far more."""
    left, out = SHOWN_MAX, []
    for block in shown:
        if block.kind != "text" or len(block.text) <= left:
            left -= len(block.text) if block.kind == "text" else 0
            out.append(block)
            continue
        if left:
            out.append(Block("text", block.text[:left]))
        out.append(Block("note", f"({len(block.text) - left:,} more characters: {TOO_LONG})"))
        left = 0
    return out


def _shown(
    a: reports.Attachment,
    data: bytes,
    columns: int,
    *,
    pages: tuple[int, int | None],
    images: bool,
) -> list[Block]:
    kind = a.content_type or "application/octet-stream"
    if kind.startswith("image/"):
        return [Block("image", cells=image_cells(data, min(columns, IMAGE_COLUMNS)))]
    if kind.startswith("text/") or kind == "application/json":
        try:
            return [Block("text", data.decode("utf-8"))]
        except UnicodeDecodeError as exc:
            raise ReviewError(f"attachment {a.index} is not UTF-8 text") from exc
    if kind == PDF:
        return pdf_blocks(data, min(columns, IMAGE_COLUMNS), pages=pages, images=images)
    raise ReviewError(f"cannot show {kind} here", hint=NOT_SHOWN)


def pdf_blocks(
    data: bytes, columns: int, *, pages: tuple[int, int | None], images: bool
) -> list[Block]:
    """A PDF's pages, read in a confined child process: a heading, the image, the text."""
    doc = pdfview.read_pdf(data, columns=columns, images=images, first=pages[0], last=pages[1])
    out = [Block("heading", metadata.HEADING)] if doc.said else []
    out += [Block("note", line) for line in doc.said]
    out += [Block("note", doc.images_problem)] if doc.images_problem else []
    if not doc.pages:
        out.append(Block("note", f"(no page to show: the PDF has {doc.count} pages)"))
    for number, page in sorted(doc.pages.items()):
        out.append(Block("heading", f"Page {number} of {doc.count}"))
        if page.image is not None:
            out.append(Block("image", cells=cells(page.image, columns)))
        text = page.text.strip("\n")
        out.append(Block("text", text) if text.strip() else Block("note", NO_TEXT))
    if doc.pages and len(doc.pages) < doc.count:
        first, last = min(doc.pages), max(doc.pages)
        out.append(Block("note", f"(pages {first} to {last} of {doc.count} shown: {MORE_PAGES})"))
    return out


def render(shown: list[Block], width: int, *, reorder: bool) -> Text:
    """Blocks as one text for the terminal: Urdu laid out as the report view does."""
    out = Text()
    for block in shown:
        if block.kind == "heading":
            out.append_text(safe(f"\n{block.text}\n", "bold"))
        elif block.kind == "note":
            out.append_text(safe(f"{block.text}\n", "italic"))
        elif block.cells is not None:
            out.append_text(block.cells)
        else:
            out.append_text(prose(block.text, width, reorder=reorder))
            out.append("\n")
    return out


def image_cells(data: bytes, columns: int) -> Text:
    """Decode a picture in a confined child (a decompression bomb is refused there), draw it."""
    return cells(pdfview.read_picture(data, columns=columns), columns)


def cells(rgb: Image.Image, columns: int) -> Text:
    """Draw an image in colour with half blocks: two pixel rows to a line of cells, at most
    `columns` wide and `pdfchild.TALLEST` times that tall (a picture a pixel wide and a
    hundred thousand tall is a few hundred bytes: drawn at its width, 50,000 lines)."""
    cols = max(1, min(columns, rgb.width))
    rows = max(2, round(rgb.height * cols / rgb.width))
    if rows > pdfchild.TALLEST * columns:
        rows = pdfchild.TALLEST * columns
        cols = max(1, min(cols, round(rgb.width * rows / rgb.height)))
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
