"""The child process that reads what an attachment says of its maker: confined as a picture's is.

An attachment comes from whoever sealed the report. Pillow reads a photo's EXIF
and a TIFF's tags in C and turns every value into a Python object, and zipfile
and the property patterns read an office document's parts: a file built for it
took hundreds of megabytes of the tool that holds the unlocked key. So
`review.present.metadata.identifying` starts this module with
`review.casework.pdfview.run_child`, which lowers its limits before it reads a
byte, and it answers with one frame: the lines `metadata.read` found.
"""

from __future__ import annotations

import codecs
import json
import sys
from typing import Any

from review.casework import pdfchild


def main() -> int:
    """Confine, read the request and the file, answer with one frame."""
    request = json.loads(sys.argv[1])
    prepare(request)
    from review.present import metadata

    out = sys.stdout.buffer
    data = sys.stdin.buffer.read()
    try:
        said = metadata.read(data)
    except MemoryError:
        pdfchild.fail(out, "memory", "it needs more memory than such a file is given here")
        return 0
    pdfchild.send(out, pdfchild.META, 0, "\n".join(said).encode())
    return 0


def prepare(request: dict[str, Any]) -> None:
    """Confine this process, import all it runs, then open no file or socket again: a
    parser taken over by a crafted file could otherwise read the reviewer's files into
    the lines the view shows, or open a file for writing (truncating it) or a socket."""
    pdfchild.confine(int(request["memory"]), int(request["cpu"]))
    from PIL import Image

    from review.present import metadata  # noqa: F401 - after confinement, as is all that parses

    Image.init()  # every format's plugin: Pillow imports them late
    codecs.lookup("cp437")  # zipfile's for a name not marked UTF-8, imported on first use
    pdfchild.shut()


if __name__ == "__main__":
    sys.exit(main())
