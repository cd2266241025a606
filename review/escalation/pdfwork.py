"""The child process that cleans or reads a PDF for a packet: confined first, answers by pipe.

A PDF comes from an anonymous source and may be built to hang or exhaust its
parser, and escalating it rebuilds it without its metadata and reads its text
to check the redactions. Both happen here, in a process of its own started by
`review.escalation.pdfs`, as `report view`'s reader (`review.casework.pdfchild`)
is: it lowers its own limits (address space, CPU time, no file written, no core
dump, no new process) before it reads a byte of the PDF from standard input,
and the parent gives it a wall-clock deadline. It writes one answer to
standard output: DONE, an 8-byte count and the bytes; or REFUSED and why.

Pictures are rebuilt by the picture child (`review.casework.imagechild`), which
imports Pillow alone: this one, inside the escalation package, starts in seconds.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Confine, read the PDF, answer once."""
    from review.casework.pdfchild import confine

    request = json.loads(sys.argv[1])
    confine(int(request["memory"]), int(request["cpu"]))
    data = sys.stdin.buffer.read()
    from review.errors import Unsupported  # after confinement, as is everything that parses
    from review.escalation import pdfs

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


if __name__ == "__main__":
    sys.exit(main())
