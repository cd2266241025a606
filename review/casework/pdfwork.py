"""The child process that cleans or reads a PDF for a packet: confined first, answers by pipe.

A PDF comes from an anonymous source and may be built to hang or exhaust its
parser, and escalating it rebuilds it without its metadata and reads its text
to check the redactions. Both happen here, in a process of its own started by
`review.casework.pdfs`, as `report view`'s reader (`review.casework.pdfchild`)
is: it lowers its own limits (address space, CPU time, no file written, no core
dump, no new process) before it reads a byte of the PDF from standard input,
and the parent gives it a wall-clock deadline. It writes one answer to
standard output: DONE, an 8-byte count and the bytes; or REFUSED and why.

It lives here, with `pdfs`, and not in the escalation package: a child imports the
packages its module sits in, and `review.escalation` (drafts, countersignatures,
redaction, the analysis they use) took 1.3 s of every child's start, per PDF.
Pictures are rebuilt by the picture child (`review.casework.imagechild`).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> int:
    """Confine, read the PDF, answer once."""
    request = json.loads(sys.argv[1])
    prepare(request)
    data = sys.stdin.buffer.read()
    from review.casework import pdfs
    from review.errors import Unsupported

    out = sys.stdout.buffer
    try:
        if request["op"] == "rebuild":
            body, used = pdfs.rebuild_here(data, int(request["limit"]))
        else:
            body, used = pdfs.text_here(data).encode("utf-8"), 0
    except Unsupported as exc:
        out.write(pdfs.REFUSED + str(exc).encode("utf-8")[:1000])
        return 0
    except MemoryError:
        out.write(pdfs.REFUSED + b"the PDF needs more memory than a PDF is given here")
        return 0
    except RecursionError:
        out.write(pdfs.REFUSED + b"the PDF's objects are nested too deeply")
        return 0
    out.write(pdfs.DONE + used.to_bytes(8, "big") + body)
    out.flush()
    return 0


def prepare(request: dict[str, Any]) -> None:
    """Confine this process, import all it runs, then open no file or socket again."""
    from review.casework import pdfchild  # a light package: see above

    pdfchild.confine(int(request["memory"]), int(request["cpu"]))
    from PIL import Image

    from review.casework import pdfs  # noqa: F401 - after confinement, as is all that parses

    Image.init()  # every format's plugin, JPEG 2000's among them: Pillow imports them late
    pdfchild.shut()


if __name__ == "__main__":
    sys.exit(main())
