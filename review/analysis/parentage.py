"""Whose son, daughter or wife a report says a person is: a record's way of telling men apart.

Pakistani records name a man by his father ("Muhammad Iqbal s/o Gul Khan", "محمد اقبال
ولد گل خان", "muhammad iqbal walad gul khan"), a woman by her father or husband ("Razia
d/o Allah Ditta", "رضیہ زوجہ اسلم"), because the name alone does not tell namesakes
apart. Sources who know an FIR or a station's register write the same. Constable
Muhammad Iqbal s/o Gul Khan and Constable Muhammad Iqbal s/o Sher Ali of one police
station are two men: a link on the name between their reports is the confusion the
record exists to prevent. So the relation and the other name's key are kept with the
person's designation ("Constable, s/o gul khan"; `designations`), where a reviewer sees
it, and `links.pair_strength` makes a link on the name weak when the reports give the man
different fathers (or husbands).

Only the record's own shape counts: the two names side by side with nothing between but
the mark ("s/o", "s.o", "son of", "walad", "bin", "ibn", "ولد", "بن", "ابن", "پسر"; "d/o",
"daughter of", "bint", "بنت", "دختر"; "w/o", "wife of", "widow of", "zauja", "زوجہ", "بیوہ",
"اہلیہ"). The extractor finds the names on
both sides of such a mark (`entities`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M
from review.analysis.entity_text import spells_rank
from review.workspace.search import normalize

# A mark between two names, by the relation it names, each written as a record writes it
# (`homes` reads it too: "Noor Muhammad s/o Gul Khan r/o Pezu" places the son).
_MARKS: Final = (
    ("s/o", r"s\s*[/.]\s*o\.?|son\s+of|walad|wald|bin|ibn|ولد|بن|ابن|پسر"),
    ("d/o", r"d\s*[/.]\s*o\.?|daughter\s+of|bint|dukhtar|بنت|دختر"),
    ("w/o", r"w\s*[/.]\s*o\.?|wife\s+of|widow\s+of|zauja|zaoja|zouja|ahliya|زوجہ|بیوہ|اہلیہ"),
)
MARK: Final = re.compile(
    r"\s*,?\s*(?:" + "|".join(f"(?P<{n[0]}o>{p})" for n, p in _MARKS) + r")\s*:?\s*",
    re.IGNORECASE,
)
_RELATION: Final = {f"{n[0]}o": n for n, _ in _MARKS}
# The father or husband first: "Gul Khan's son, Constable Muhammad Iqbal", "gul khan ka
# beta iqbal", "شیر علی کا بیٹا کانسٹیبل محمد اقبال"; only the person's own rank between.
_WHOSE: Final = re.compile(
    r"\s*(?:['\u2019]s\s+(?:(?P<so>son)|(?P<do>daughter)|(?P<wo>wife|widow))"
    r"|\s+(?:ka|ke|کا|کے)\s+(?P<so_>beta|bete|betay|بیٹا|بیٹے)"
    r"|\s+(?:ki|کی)\s+(?:(?P<do_>beti|بیٹی)|(?P<wo_>biwi|bivi|بیوی|بیوہ|bewa))"
    r")\s*,?\s*(?P<rank>(?:\S+\s+){0,3})",
    re.IGNORECASE,
)
# No record puts more than this between a name and the mark and the next name.
_MOST_GAP: Final = 24


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person's designation carrying whose son, daughter or wife the
    report says the person is, where the record's mark stands between two names."""
    out = list(mentions)
    for i in range(len(out) - 1):
        first, second = out[i], out[i + 1]
        if first.kind != "person" or second.kind != "person":
            continue
        if second.start - first.end > _MOST_GAP:
            continue
        if (m := MARK.fullmatch(text, first.end, second.start)) is not None:
            first, out[i + 1] = _posts_of_son(first, m, second)
            out[i] = _kin(first, m, second.key)
        elif (m := _WHOSE.fullmatch(text, first.end, second.start)) is not None:
            rank = designations.parse(second.designation).rank
            if not m.group("rank") or (rank and spells_rank(m.group("rank"), rank)):
                out[i + 1] = _kin(second, m, first.key)
    return out


def _posts_of_son(son: M, m: re.Match[str], father: M) -> tuple[M, M]:
    """The son and the father, a post read after the father's name moved to the son."""
    # Only the mark stands between the names, so the father's rank was written after his
    # name, where a record puts the son's: "Naveed Akhtar s/o Tariq Mehmood, ASI of Thana
    # Saddar Kasur" is the son's post. Left with the father, he met every ASI of his name.
    theirs, mine = designations.parse(father.designation), designations.parse(son.designation)
    # "son of" is the mark, not the writer's son.
    own = mine.rank if mine.rank and normalize(mine.rank) not in normalize(m.group()) else ""
    if not theirs.rank or own:
        return son, father
    mine = mine._replace(
        rank=theirs.rank,
        home=mine.home or theirs.home,
        station=mine.station or theirs.station,
        service=mine.service or theirs.service,
    )
    theirs = theirs._replace(rank="", home=None, station=None, service=None)
    son = dataclasses.replace(son, designation=designations.render(mine))  # type: ignore[type-var]
    father = dataclasses.replace(father, designation=designations.render(theirs))  # type: ignore[type-var]
    return son, father


def _kin(person: M, m: re.Match[str], of: str) -> M:
    """`person`, whose son, daughter or wife (by the mark `m` matched) `of` is said to be."""
    said = designations.parse(person.designation)
    relation = next(
        r for g, r in _RELATION.items() if m.groupdict().get(g) or m.groupdict().get(g + "_")
    )
    if said.kin_of:
        return person
    designation = designations.render(said._replace(kin_of=f"{relation} {of}"))
    return dataclasses.replace(person, designation=designation)  # type: ignore[type-var]
