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

A footer may say nothing only a printer writes ("Please attach a copy of the FIR ...",
"We will call you back within seven days"): one report cannot tell it from a family's last
lines, so each line after the form's last blank (`tail`) is kept in its record as a hash,
with the hashes of the 5-grams holding a word of it. A line that forms from two sources or
more hold word for word is print, and counts towards no writer's words (`printed_tails`):
two families typing such a footer were one writer, surely, by near-duplicate text. A
family sending its form again under a second codename still shares its blanks.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Final

from review.workspace.search import normalize

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
# A line after the last blank shorter than this is no phrase two writers could share.
_TAIL_WORDS: Final = 5
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


def tail(text: str) -> list[tuple[int, int]]:
    """Where the lines after a form's last blank are, each of at least `_TAIL_WORDS` words:
    the form's footer, printed with no word only a printer writes, or the family's own
    words. One report cannot tell which; the archive can (`printed_tails`)."""
    labels = [
        m.span("label") for m in _LABEL.finditer(text) if len(m["label"].split()) <= _LABEL_WORDS
    ]
    blanks = [a for a, b in labels if not _footer_label(text[a:b])]
    if len(labels) < FORM_LINES or not blanks:
        return []
    out = []
    at = text.find("\n", blanks[-1])
    while at != -1:
        start = at + 1
        at = text.find("\n", start)
        end = len(text) if at == -1 else at
        if len(text[start:end].split()) >= _TAIL_WORDS:
            out.append((start, end))
    return out


def line_key(line: str) -> int:
    """A line's hash, its words folded (`normalize`): two reports holding it word for word
    share it, and the line itself is never kept."""
    words = " ".join(normalize(line).split())
    return int.from_bytes(hashlib.blake2b(words.encode(), digest_size=8).digest(), "big") >> 16


def printed_tails(
    tails: Mapping[int, Mapping[int, Collection[int]]], sources: Mapping[int, str]
) -> dict[int, set[int]]:
    """Each report's 5-gram hashes that belong to a printed line after its form's last
    blank: a line forms from two sources or more hold word for word.

    Two families typing one NGO's footer type it alike, though no word of it says only a
    printer writes it ("Please attach a copy of the FIR ..."): counted as their own, it made
    them one writer, surely. One family sending its form again under a second codename
    shares its blanks too, so it stays one writer by them (`copies`).
    """
    holders: dict[int, set[str]] = defaultdict(set)
    for num, lines in tails.items():
        for line in lines:
            holders[line].add(sources[num])
    out: dict[int, set[int]] = {}
    for num, lines in tails.items():
        dropped = set().union(*(grams for line, grams in lines.items() if len(holders[line]) > 1))
        if dropped:
            out[num] = dropped
    return out


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
