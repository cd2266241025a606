"""A printed form a report was typed into: its printed words, which are no writer's own.

Legal-aid NGOs and lawyers hand families printed complaint forms ("Name of victim: ___",
"Police station: ___"), and families type them into their reports, blanks filled in. The
form's printed words are the NGO's: two families filling one form share dozens of its
phrases, and were grouped as one writer; its printed heading (an advocate's name, a
helpline) linked every family's report to every other's. Only what each wrote in the
blanks is theirs, so the printed words count towards no writer's words (`copies`) and name
no entity (`records.read`).

A report is a form when at least `FORM_LINES` of its lines begin with a label: a few words
without digits and a colon ("Name of victim:", "والد کا نام:"). Its printed words are each
label (the colon kept, so a name in a blank ends at it) and every line before its first
label (the form's heading). A report of a line or two so written ("Note: ...") is none.
"""

from __future__ import annotations

import re
from typing import Final

# Lines beginning with a label that make a report a form.
FORM_LINES: Final = 3
# A label: a letter first, no digit (so no time, "12:30", and no "FIR No. 12:"), at most
# `_LABEL_WORDS` words, then a colon before a space or the line's end ("http://" is none).
_LABEL: Final = re.compile(
    r"^[ \t\u200e\u200f]*(?P<label>[^\W\d_][^\n:\uff1a\d]{0,100}?)[ \t]*[:\uff1a](?=[ \t]|$)",
    re.MULTILINE,
)
_LABEL_WORDS: Final = 12


def printed(text: str) -> list[tuple[int, int]]:
    """Where `text`'s printed form words are (labels and heading), in order; none if it
    is no form."""
    labels = [
        m.span("label") for m in _LABEL.finditer(text) if len(m["label"].split()) <= _LABEL_WORDS
    ]
    if len(labels) < FORM_LINES:
        return []
    first = labels[0][0]
    heading = text.rfind("\n", 0, first) + 1
    return [(0, heading), *labels] if heading else labels


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span's characters turned to spaces: offsets are kept, and nothing
    printed is read as a word or a name."""
    if not spans:
        return text
    out = list(text)
    for a, b in spans:
        out[a:b] = [c if c == "\n" else " " for c in text[a:b]]
    return "".join(out)
