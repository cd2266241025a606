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
label (the colon kept, so a name in a blank ends at it), every line before its first
label (the form's heading), and its footer. A report of a line or two so written ("Note:
...") is none.

A footer is the NGO's too: "This form is confidential ...", "Head office: 14 Fane Road,
Lahore. Helpline 0321-...", "Disclaimer: ...", "یہ فارم خفیہ ہے", "ہیلپ لائن". Two
families typing one form's footer shared 43 of its rare phrases and were one writer,
surely, and its helpline linked them strongly. It is the run of printed lines after the
form's last blank: a line whose label is the NGO's ("Helpline:", "Head office:",
"Disclaimer:", "ہیڈ آفس:"), or, unlabelled, that says what only a printer writes ("this
form", "confidential", "not responsible", "www.", "یہ فارم", "خفیہ"); blank lines and
rules between them. What a family wrote in a blank is theirs whatever words it holds ("we
rang the helpline"), and so is a line of their own after the footer.
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
# A footer's label: the NGO's office, its helpline, its address on the web, its disclaimer.
_FOOTER_LABEL: Final = re.compile(
    r"help\s?line|hot\s?line|toll\s?free|\buan\b|office|website|web\s+site|e-?mail|\bfax\b"
    r"|disclaimer|confidential|ہیلپ\s?لائن|ہاٹ\s?لائن|ہیڈ\s?آفس|دفتر|ویب\s?سائٹ|ای\s?میل|فیکس"
    r"|دستبرداری|رازداری|راز\s?داری",
    re.IGNORECASE,
)
_FOOTER_LABEL_WORDS: Final = 3
# An unlabelled line only a printer writes.
_FOOTER_LINE: Final = re.compile(
    r"\bthis\s+form\b|\byeh\s+form\b|confidential|disclaimer|not\s+responsible|toll\s?free"
    r"|help\s?line|hot\s?line|head\s+office|all\s+rights\s+reserved|printed\s+by"
    r"|for\s+office\s+use|www\.|https?://|\S@\S|\be-?mail\b"
    r"|یہ\s+فارم|خفیہ|رازداری|راز\s?داری|دستبرداری|ذمہ\s+دار\s+نہیں|ہیلپ\s?لائن|ہیڈ\s?آفس",
    re.IGNORECASE,
)
# A line of rule: dashes, underscores, stars, equals signs.
_RULE: Final = re.compile(r"[ \t]*[-_=*~.\u2014\u2013]{3,}[ \t]*")


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
    footer = _footer(text, labels)
    if footer is not None:
        labels = [span for span in labels if span[0] < footer[0]]
    head = [(0, heading)] if heading else []
    return [*head, *labels, *([footer] if footer else [])]


def _footer(text: str, labels: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where the form's footer is: the run of printed lines after its last blank, if any."""
    labelled = {text.rfind("\n", 0, a) + 1: _footer_label(text[a:b]) for a, b in labels}
    blanks = [at for at, footer in labelled.items() if not footer]
    if not blanks:
        return None
    at = text.find("\n", blanks[-1])
    start = end = -1
    while at != -1:
        line_start = at + 1
        at = text.find("\n", line_start)
        line = text[line_start : len(text) if at == -1 else at]
        if line_start in labelled:
            printed = labelled[line_start]
        else:
            printed = _FOOTER_LINE.search(line) is not None
        if printed:
            start = line_start if start < 0 else start
            end = line_start + len(line)
        elif start >= 0 and line.strip() and not _RULE.fullmatch(line):
            break
    return (start, end) if start >= 0 else None


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span's characters turned to spaces: offsets are kept, and nothing
    printed is read as a word or a name."""
    if not spans:
        return text
    out = list(text)
    for a, b in spans:
        out[a:b] = [c if c == "\n" else " " for c in text[a:b]]
    return "".join(out)


def _footer_label(label: str) -> bool:
    """Whether a label is a footer's: a word or three naming the NGO's office or helpline
    ("Head office", "Helpline"), not a question that asks for one ("Address of the office
    where you complained")."""
    if _FOOTER_LINE.search(label) is not None:  # "This form is confidential:"
        return True
    return len(label.split()) <= _FOOTER_LABEL_WORDS and _FOOTER_LABEL.search(label) is not None
