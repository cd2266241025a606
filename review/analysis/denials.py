"""A name the report says was not the one: "SHO Rana nahi balkay ASI Tariq ne paise liye".

A source who knows the station names the man it was not as often as the man it was: "not
SHO Rana but ASI Tariq took the money", "paise SHO Rana ne nahi, ASI Tariq ne liye",
"ایس ایچ او رانا نہیں بلکہ اے ایس آئی طارق نے", "it was not SHO Rana", "SHO Rana was not
involved", "everyone took a share except SHO Rana", "siwaye SHO Rana ke sab ne". Such a
name is no accusation: read as one, it linked strongly to the reports that do accuse him,
and the source who cleared him counted as a witness against him. Its designation says so
(`designations.DENIED`), where a reviewer sees it, and `links.pair_strength` makes a link
on it weak.

A namesake told apart is no denial: "this Rana Tariq is not the one from Orangi", "not the
Imran Khattak who sits at Thana Sohrab Goth" (`namesakes`) name the man the report means.
Only the man is denied, never a deed: "SHO Rana did not register the FIR", "SHO Rana ne FIR
nahi kati" accuse him still, and "not only SHO Rana" or "could not meet SHO Rana" deny no
one. Each cue is read within a fixed window beside the name, so marking is linear.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M
from review.analysis.entity_text import spells_rank

# Right after the name: "nahi balkay", "ne nahi,", "nahi tha"; "نہیں بلکہ", "نے نہیں،", "نہیں
# تھا"; "was not involved", "had nothing to do with it", "is innocent".
_AFTER: Final = re.compile(
    r"\s*(?:(?:ne|nay|نے)\s+)?(?:nahi|nahin|nahee|nahein|nai|nhi|nahi|نہیں)\s*(?:[,\u060c]"
    r"|(?:balkay|balke|balkeh|bulkay|bulke|balki|balkey|bal\s+kay|bal\s+ke|بلکہ)(?!\w)"
    r"|(?:tha|thay|the|thi|تھا|تھے|تھی)(?!\w))"
    r"|\s*,?\s+(?:was|is|were|had\s+been)\s+(?:not|never)\s+(?:involved|there|present|"
    r"responsible|the\s+one\s+who|the\s+culprit|guilty|part\s+of\s+it)(?!\w)"
    r"|\s*,?\s+wasn['\u2019]t\s+(?:involved|there|present|responsible|the\s+one\s+who)(?!\w)"
    r"|\s*,?\s+(?:had|has)\s+nothing\s+to\s+do\s+with"
    r"|\s*,?\s+(?:is|was)\s+innocent(?!\w)",
    re.IGNORECASE,
)
# Right before it, with at most its rank between: "it was not (SHO)", "not by (SHO)", "not
# (SHO)"; "except (SHO)", "siwaye (SHO)", "سوائے (ایس ایچ او)", which leave him out of what
# the others did (not "besides", "کے علاوہ", which add him to it).
_BEFORE: Final = re.compile(
    r"(?:\bit\s+(?:was|is)\s+not|\bit\s+wasn['\u2019]t|\bnot\s+by|\bnot"
    r"|\bexcept(?:\s+for)?|\bsiwaye|\bsiwae|\bsiwa|سوائے)\s+"
    r"(?P<rank>(?:\S+\s+){0,3}?)\Z",
    re.IGNORECASE,
)
_WINDOW: Final = 60


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person the text says it was not marked `designations.DENIED`."""
    out = []
    for m in mentions:
        if m.kind == "person" and _denied(text, m.start, m.end, m.designation):
            said = designations.parse(m.designation)._replace(denied=True)
            m = dataclasses.replace(m, designation=designations.render(said))  # type: ignore[type-var]
        out.append(m)
    return out


def _denied(text: str, start: int, end: int, designation: str | None) -> bool:
    """Whether the name at text[start:end] is said not to be the one."""
    if _AFTER.match(text, end, min(len(text), end + _WINDOW)) is not None:
        return True
    cue = _BEFORE.search(text, max(0, start - _WINDOW), start)
    if cue is None:
        return False
    between = cue.group("rank").strip()
    rank = designations.parse(designation).rank
    # "not only SHO Rana", "could not meet SHO Rana": words between that are not his rank
    return not between or bool(rank and spells_rank(between, rank))
