"""A picture is drawn within the screen's width and at most three times as tall, whatever its shape.

The attack: a PNG one pixel wide and a hundred thousand tall is 400-odd bytes (its rows
are zeros, deflated) and far below Pillow's decompression-bomb bound. `report view`
drew each two pixel rows as a line of cells: 50,000 lines for this one, and a
thousand times more for one of 100 million pixels.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from review.casework.pdfchild import TALLEST
from review.casework.reports import Attachment
from review.errors import ReviewError
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


# The tool's own peak when it draws a picture of 36 million pixels (a 35 KB PNG): decoded
# in the tool, it took 300 MB and more, with the workspace's key in the same memory.
TOOL_PEAK_MB = 160


def test_a_picture_is_decoded_outside_the_tools_own_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(6000, 6000))
    # VmHWM, not ru_maxrss: Linux keeps a process's ru_maxrss across exec, so a tool started
    # from a large pytest would report pytest's peak as its own.
    script = (
        "import re, sys; from pathlib import Path;"
        " from review.present.attachments import image_cells;"
        " drawn = image_cells(Path(sys.argv[1]).read_bytes(), 100);"
        " status = Path('/proc/self/status').read_text();"
        " peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', status)[1]) // 1024;"
        " print(peak, drawn.plain.count(chr(10)))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
        check=True,
    )
    peak, lines = map(int, done.stdout.split())
    assert lines == 50  # drawn, 100 by 100 pixels
    assert peak < TOOL_PEAK_MB, f"the tool itself peaked at {peak} MB"


def test_a_picture_that_is_none_is_refused_with_the_readers_words() -> None:
    with pytest.raises(ReviewError, match="the image cannot be drawn"):
        image_cells(b"\x89PNG\r\n\x1a\n not a picture", 100)
