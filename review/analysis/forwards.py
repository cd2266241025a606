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

A news report pasted after its outlet's word ("Dawn reported on 3 March: ...", "According
to a news report: ...", "akhbar mein khabar chhapi: ...", "اخبار میں خبر چھپی: ...") is the
paper's words, to its paragraph's end, and read so too (`news`): two sources pasting one
paragraph of it were one writer, surely, by near-duplicate text.
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


# An outlet's word that it reported, and a colon: "Dawn reported on 3 March:", "The Express
# Tribune wrote:", "According to a news report:", "akhbar mein khabar chhapi:", "اخبار میں
# خبر چھپی:". Not "the SHO reported:" (no outlet), nor "Dawn reported it" (no paragraph).
_NEWS: Final = re.compile(
    r"\b(?:dawn|the\s+news|(?:the\s+)?express\s+tribune|the\s+tribune|geo(?:\s+news)?"
    r"|ary(?:\s+news)?|samaa(?:\s+tv)?|dunya(?:\s+news)?|(?:daily\s+)?jang|nawa-?i-?waqt"
    r"|bbc(?:\s+urdu)?|reuters|(?:the|a)\s+(?:news)?paper|(?:the|a)\s+news\s+(?:report|item|story))"
    r"\s+(?:reported|reports|wrote|writes|published)\b[^:\n]{0,40}:"
    r"|\baccording\s+to\s+(?:a|the)\s+news\s+(?:report|item|story)\s*:"
    r"|\b(?:akhbar|akhbaar|news)\s+(?:mein|main|me)\s+(?:khabar|khabr|news)\s+"
    r"(?:chhapi|chapi|chhpi|ayi|aayi|aai)\b[^:\n]{0,40}:"
    r"|اخبار\s+(?:میں|نے)[^:\n]{0,40}:",
    re.IGNORECASE,
)


def forwarded(text: str) -> list[tuple[int, int]]:
    """Where `text` holds forwarded messages and pasted news, in order: each forward's mark
    to its plea's end, and each outlet's word to its paragraph's end (`news`)."""
    found = [*_appeals(text), *news(text)]
    out: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def news(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a news report pasted after its outlet's word: to the end of the
    line the colon is on, or of the next line with words if that one has none."""
    out = []
    for mark in _NEWS.finditer(text):
        end = text.find("\n", mark.end())
        end = len(text) if end == -1 else end
        if not text[mark.end() : end].strip():
            nxt = end + 1
            while nxt < len(text) and text[nxt] == "\n":
                nxt += 1
            end = text.find("\n", nxt)
            end = len(text) if end == -1 else end
        if text[mark.end() : end].strip():
            out.append((mark.start(), end))
    return out


def _appeals(text: str) -> list[tuple[int, int]]:
    """Each forwarded appeal: its mark to its plea's end.

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
