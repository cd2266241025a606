"""A picture built to exhaust the reader of what it says of its maker, read outside the tool.

The attack: `report view`, the terminal UI and `escalation new --as-is` list a photo's
EXIF and an office document's properties before anything else, and read them in the
process that holds the unlocked key. Pillow bounds a TIFF's tag data by the file's
size, but turns every value into a Python object: a TIFF whose thousand private tags
each hold a share of 8 MiB of SHORTs took 198 MB and 0.9 s of the reviewer's own
process, 32 MiB took 728 MB and 2.4 s, and an attachment may be as large as a video.
A bug in Pillow's TIFF or EXIF parser, fed by the source, ran there too.
"""

from __future__ import annotations

import struct
import tracemalloc

from review.present import metadata

MIB = 1024 * 1024


def _hostile_tiff(size: int, tags: int = 1000) -> bytes:
    """A 1x1 TIFF whose `tags` private SHORT tags all point at most of the file."""
    base = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0)]
    base += [(277, 3, 1), (278, 3, 1), (279, 4, 1)]
    data_at = 8 + 2 + 12 * (len(base) + tags) + 4
    per = (size - data_at) // tags // 2
    entries = b"".join(
        struct.pack("<HHI", tag, kind, 1)
        + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value or data_at))
        for tag, kind, value in base
    )
    entries += b"".join(struct.pack("<HHII", 0x2000 + t, 3, per, data_at) for t in range(tags))
    head = b"II*\x00" + struct.pack("<IH", 8, len(base) + tags) + entries + b"\0\0\0\0"
    return head + bytes(range(1, 256)) * ((size - len(head)) // 255 + 1)


def test_a_tiff_built_to_exhaust_the_exif_reader_costs_the_tool_nothing() -> None:
    data = _hostile_tiff(8 * MIB)

    tracemalloc.start()
    try:
        said = metadata.identifying("scan.tif", data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Read in this process, the values alone took over 20 times the file.
    assert peak < 2 * MIB, f"the tool itself took {peak / MIB:.0f} MiB to read the picture's tags"
    # Its reader ran out of what it is given: the reviewer is told, not shown "nothing".
    assert len(said) == 1
    assert said[0].startswith(f"{metadata.UNREAD}: ")
    assert "built to break a reader" in said[0]
