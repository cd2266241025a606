"""A forwarded message pasted into a report: an appeal many families hold, no one's own words.

Families paste what reached them on WhatsApp ("*Forwarded as received* ... a boy of 12
went missing ... call 0300-... Please share maximum") before their own story. Two who
pasted one appeal shared dozens of its phrases and were grouped as one writer, surely, and
its helpline linked them strongly, as if each knew the number. A forward runs from its
mark ("*Forwarded*", "forwarded as received", "فارورڈ") to its plea to pass it on
("please share", "share maximum", "زیادہ سے زیادہ شیئر کریں") within `_REACH`
characters: it counts towards no writer's words and names no entity (`records.read`), as
a printed form's words do not. A mark with no plea after it marks nothing: where the
forward ends is not known.
"""

from __future__ import annotations

import bisect
import re
from typing import Final

# A forward's mark: as WhatsApp and those who pass its messages on write it, not "the SHO
# forwarded my application".
_MARK: Final = re.compile(
    r"\bforwarded\s+as\s+received\b|\bforwarded\s+message\b|\*\s*forwarded\s*\*"
    r"|^[ \t]*(?:fwd|forwarded)\s*[:\-]|فارورڈ",
    re.IGNORECASE | re.MULTILINE,
)
# The plea to pass it on, to the end of its sentence.
_PLEA: Final = re.compile(
    r"(?:\bplease\s+share|\bshare\s+(?:maximum|max|it|this|karein|karen|kren|kar\s+dein|kariye)"
    r"|\bzyada\s+se\s+zyada\s+share|زیادہ\s+سے\s+زیادہ\s+شیئر|شیئر\s+کریں|آگے\s+بھیجیں)"
    r"[^\n.!\u06d4]*[.!\u06d4]?",
    re.IGNORECASE,
)
# How far after its mark a forward's plea may end: an appeal is a paragraph, not a report.
_REACH: Final = 1500


def forwarded(text: str) -> list[tuple[int, int]]:
    """Where `text` holds forwarded messages, in order: each mark to its plea's end.

    Marks and pleas are each found in one scan and paired by search, so a text of many
    marks and no plea is read in linear time.
    """
    pleas = [m.span() for m in _PLEA.finditer(text)]
    if not pleas:
        return []
    starts = [a for a, _ in pleas]
    out: list[tuple[int, int]] = []
    for mark in _MARK.finditer(text):
        if out and mark.start() < out[-1][1]:
            continue
        k = bisect.bisect_left(starts, mark.end())
        if k < len(pleas) and pleas[k][1] - mark.start() <= _REACH:
            out.append((mark.start(), pleas[k][1]))
    return out
