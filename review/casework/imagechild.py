"""The child process that decodes a picture for `view`: confined as the PDF reader is, by pipe.

A picture comes from whoever sealed the report, and Pillow decodes it in C
(libjpeg, zlib, libtiff, libwebp: libwebp's CVE-2023-4863 overflowed the heap
of any program drawing a WebP). A small PNG can also ask for most of a
gigabyte (88 million pixels, under Pillow's bomb bound, took 725 MB and 9 s).
So it is decoded here, in a process started by `review.casework.pdfview.run_child`
that lowers its own limits before it reads a byte, and it sends back only the
picture made small: `columns` pixels wide, at most `pdfchild.TALLEST` times taller.
A picture escalated, and every picture of an office document escalated, is
rebuilt from its pixels here too (`review.casework.pictures`).
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from typing import Any, Final

from review.casework import pdfchild

# The formats Pillow decodes in memory by itself. Not EPS, whatever the attachment's type
# says: Pillow would write it to a temporary file on the disk for Ghostscript to run.
DRAWN: Final = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")


def main() -> int:
    """Confine, read the request and the picture, answer with one frame (or, to rebuild
    pictures for a packet, as `review.casework.pictures` says)."""
    request = json.loads(sys.argv[1])
    prepare(request)
    out = sys.stdout.buffer
    data = sys.stdin.buffer.read()
    from PIL import Image

    from review.casework import pictures

    if (op := request.get("op", "draw")) != "draw":
        out.write(pictures.answer(op, data, int(request.get("pixels", 0))))
        out.flush()
        return 0
    columns = int(request["columns"])
    box = (columns, pdfchild.TALLEST * columns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=DRAWN) as img:
                img.draft("RGB", box)  # a JPEG is decoded at an eighth of its size if it can
                img.load()
                rgb = img.convert("RGB")
        rgb.thumbnail(box)
    except MemoryError:
        pdfchild.fail(out, "memory", "it needs more memory than a picture is given here")
        return 0
    except pictures.PILLOW_ERRORS as exc:
        pdfchild.fail(out, "damaged", str(exc) or type(exc).__name__)
        return 0
    pdfchild.send(out, pdfchild.IMAGE, 1, pdfchild.SIZE.pack(*rgb.size) + rgb.tobytes())
    return 0


def prepare(request: dict[str, Any]) -> None:
    """Confine this process, import all it runs, then open no file or socket again: a
    picture rebuilt leaves in a packet, and a decoder taken over would fill it with files."""
    pdfchild.confine(int(request["memory"]), int(request["cpu"]))
    from PIL import Image

    from review.casework import pictures  # noqa: F401 - after confinement, as is all that parses

    Image.init()  # every format's plugin: Pillow imports them late
    pdfchild.shut()


if __name__ == "__main__":
    sys.exit(main())
