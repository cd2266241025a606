"""A picture is drawn within the screen's width and at most three times as tall, whatever its shape.

The attack: a PNG one pixel wide and a hundred thousand tall is 400-odd bytes (its rows
are zeros, deflated) and far below Pillow's decompression-bomb bound. `report view`
drew each two pixel rows as a line of cells: 50,000 lines for this one, and a
thousand times more for one of 100 million pixels.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from review.casework.pdfchild import TALLEST
from review.casework.reports import Attachment
from review.present.attachments import blocks, image_cells


def _png(width: int, height: int) -> bytes:
    """A grey PNG of zeros, made without holding its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    rows = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.mark.parametrize(("width", "height"), [(1, 100_000), (3, 60_000), (100_000, 1)])
def test_a_picture_of_any_shape_is_drawn_within_bounds(width: int, height: int) -> None:
    columns = 100
    drawn = image_cells(_png(width, height), columns)
    lines = drawn.plain.split("\n")
    assert len(lines) <= TALLEST * columns // 2 + 2, f"{len(lines):,} lines drawn"
    assert max(len(line) for line in lines) <= columns


def test_a_tall_picture_attachment_is_viewed_within_bounds() -> None:
    data = _png(1, 100_000)
    attachment = Attachment(1, "item", "filed", "tall.png", "image/png", len(data))
    shown = blocks(attachment, data, 80)
    cells = [b.cells for b in shown if b.kind == "image"]
    assert len(cells) == 1
    assert cells[0] is not None
    assert cells[0].plain.count("\n") <= TALLEST * 80 // 2 + 1
