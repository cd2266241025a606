"""A picture escalated is rebuilt outside the tool that holds the key, as `report view` draws one.

The attack: `escalation new` rebuilds each picture attachment from its pixels to leave
its metadata out, and did it in the tool itself, holding the unlocked key: a grey PNG of
81 million pixels (79 KB, under the 100-million bound) took 367 MB and 3.7 s of it, and a
bug in Pillow's C decoders (libwebp's CVE-2023-4863 overflowed the heap of any program
drawing a WebP), fed by the source, ran there. Session 32 moved the drawing of pictures
into a confined child; their rebuilding stayed.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

from PIL import Image

from review.escalation.scrub import scrub
from tests.review.present.test_images_bounded import _png

MIB = 1024 * 1024


def test_a_picture_is_rebuilt_outside_the_tools_own_memory() -> None:
    data = _png(3000, 3000)  # 9 million grey pixels, a few kilobytes of PNG

    tracemalloc.start()
    try:
        result = scrub(data, lambda text: text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Rebuilt here, its pixels alone were 9 MiB of the tool's memory, twice.
    assert peak < 4 * MIB, f"the tool itself took {peak / MIB:.0f} MiB to rebuild the picture"
    assert result.content_type == "image/png"
    assert result.scrubbed
    assert result.data.startswith(b"\x89PNG")


def _docx_holding(picture: bytes) -> bytes:
    """A .docx whose one picture is `picture`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", b"<w:document/>")
        z.writestr("word/media/image1.png", picture)
    return out.getvalue()


def test_a_picture_in_an_office_document_is_rebuilt_outside_the_tools_own_memory() -> None:
    # The attack: the same grey PNG, pasted into a .docx of a few kilobytes. The document's
    # pictures were still decoded and rebuilt in the tool holding the key, by Pillow's C.
    data = _docx_holding(_png(3000, 3000))

    tracemalloc.start()
    try:
        result = scrub(data, lambda text: text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * MIB, f"the tool itself took {peak / MIB:.0f} MiB to rebuild the picture"
    with zipfile.ZipFile(io.BytesIO(result.data)) as package:
        rebuilt = package.read("word/media/image1.png")
    with Image.open(io.BytesIO(rebuilt)) as picture:
        assert (picture.format, picture.size) == ("PNG", (3000, 3000))
