"""A person's designation as a report gives it: the rank or trade, and what the text adds.

A mention's designation is one string, shown to reviewers as written here and stored in
the sealed readings: the rank or trade first ("ASI", "Agent", "Brother"; empty when
there is none), then, each after ", ", what the report says beside the name:
- "another of this name": the source tells its man apart from a namesake
  (`review.analysis.namesakes`);
- "of <place key>": the place written onto the name ("larkana wala", "of Kasur";
  `review.analysis.homes`).

"ASI, another of this name, of jhelum" reads as it means. A designation a reviewer types
is read the same way; parts that are neither stay with the rank's text unread.
"""

from __future__ import annotations

from typing import Final, NamedTuple

NAMESAKE: Final = "another of this name"
_SEP: Final = ", "
_HOME: Final = "of "


class Designation(NamedTuple):
    rank: str  # the rank or trade as designated ("ASI"), or ""
    namesake: bool = False
    home: str | None = None


def compose(rank: str | None, namesake: bool = False, home: str | None = None) -> str | None:
    """One designation string from its parts (None when there is nothing to say)."""
    parts = [rank] if rank else []
    if namesake:
        parts.append(NAMESAKE)
    if home:
        parts.append(_HOME + home)
    return _SEP.join(parts) or None


def parse(designation: str | None) -> Designation:
    """The parts of a designation string (`compose`'s inverse)."""
    if not designation:
        return Designation("")
    rank: list[str] = []
    namesake, home = False, None
    for part in designation.split(_SEP):
        if part == NAMESAKE:
            namesake = True
        elif part.startswith(_HOME):
            home = part.removeprefix(_HOME)
        else:
            rank.append(part)
    return Designation(_SEP.join(rank), namesake, home)
