"""The child process that rebuilds a picture for a packet: confined first, answers by pipe.

A picture comes from whoever sealed the report, and escalating it decodes every
pixel to write them again without its metadata: Pillow decodes in C (libjpeg,
libtiff, libwebp), and a PNG of 81 million grey pixels is 79 KB yet took 367 MB
of the tool that holds the key. So it is rebuilt here, in a process of its own
started by `review.escalation.scrub`, as a PDF is (`review.escalation.pdfwork`):
it lowers its limits before it reads a byte, and answers once: DONE, an 8-byte
length, a JSON header (type, extension) and the picture; or REFUSED and why.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Confine, read the picture, answer once."""
    from review.casework.pdfchild import confine

    request = json.loads(sys.argv[1])
    confine(int(request["memory"]), int(request["cpu"]))
    data = sys.stdin.buffer.read()
    from review.errors import Unsupported  # after confinement, as is everything that parses
    from review.escalation import pdfs, scrub

    out = sys.stdout.buffer
    try:
        result = scrub.rebuilt_picture(data)
    except Unsupported as exc:
        out.write(pdfs.REFUSED + str(exc).encode("utf-8")[:1000])
        return 0
    except MemoryError:
        out.write(pdfs.REFUSED + b"the image needs more memory than a picture is given here")
        return 0
    header = json.dumps({"type": result.content_type, "extension": result.extension}).encode()
    out.write(pdfs.DONE + len(header).to_bytes(8, "big") + header + result.data)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
