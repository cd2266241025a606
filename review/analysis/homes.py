"""Where a report says its man is from: the place written onto his name.

Reports place a man by his name more often than by anything else: "an agent, Qurban Ali
of Usta Muhammad"; "Abdul Wahid from Nasirabad"; "asi nazeer ahmed larkana wala";
"اوستہ محمد کا ایجنٹ قربان علی"; "Kasur's SHO Tariq". Two men of one common name, each
placed, are two men however near their reports are set: the ASI "larkana wala" in a
report about a Shikarpur kiln is not the Shikarpur kiln owner of the same name another
report names. So a person's home is kept with his designation ("ASI, of larkana";
`designations`), where a reviewer sees it, and `links.pair_strength` makes a link on the name
weak when one report places the man where the other report does not go.

Only the tightest shapes count, next to the name with nothing between but the joining
word: "<name> of / from <place>", "<name> (<place>)", "<name> <place> wala", a name
and its place side by side in a list ("طارق محمود میرپور، ملک ساجد جہلم"),
"<place> ka / ke / کا / کے / 's [<one rank word>] <name>", "<place> wala [<his own
rank>] <name>" ("pezu wala agent noor muhammad"), and a police station right before the
man's own rank ("At Kunri police station ASI Nisar Ahmed", "thana kunri ka asi nisar"):
he is placed in its district. A record's residence counts too, the village or quarter
before the place allowed: "<name>, resident of / r/o / native of [village] <place>",
"<name> سکنہ / ساکن / sakna <place>", "<place> ka rehaishi <name>", "پیزو کے رہنے والے
<name>"; and an FIR's "<name> s/o <father> r/o <place>" places the son where it places
the father. A place further off is where the story happens, not who the man is, and is
left to the report's setting.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Final

from review.analysis import designations, parentage
from review.analysis.designations import M, Mention
from review.analysis.entity_text import spells_rank
from review.workspace.search import normalize

# A village or quarter named before its place: "of village Pezu", "سکنہ موضع پیزو".
_VILLAGE: Final = (
    r"(?:(?:the\s+)?(?:village|mohalla|mouza|mauza|basti|goth|گاؤں|گوٹھ|موضع|محلہ|بستی)"
    r"\s+(?:of\s+)?)?"
)
# Where a man lives, as a record writes it: "resident of", "r/o", "native of"; an FIR's
# "سکنہ" and "ساکن", "sakna", "رہائشی". ("who lives in" is the story's, and left to it.)
_RESIDENT: Final = (
    r"(?:(?:a|the)\s+)?(?:residents?\s+of|r\s*/\s*o\.?|native\s+of"
    r"|sakin|saakin|sakna|sakina|ساکن|سکنہ|رہائشی|rehaishi|rihaishi|rahaishi)"
)
_RESIDES: Final = re.compile(r"\s*,?\s*" + _RESIDENT + r"\s*:?\s*" + _VILLAGE, re.IGNORECASE)
_AFTER: Final = re.compile(
    _RESIDES.pattern
    + r"|\s*,?\s*(?:the\s+)?(?P<rank>(?:[^\W\d_]+\s+){0,2}?)(?:of|from)\s+(?:the\s+)?"
    + _VILLAGE
    + r"|\s*\(\s*",
    re.IGNORECASE,
)
# "pezu ka rehaishi noor muhammad", "پیزو کے رہنے والے نور محمد": the place's dweller.
_DWELLER: Final = re.compile(
    r"(?:rehaishi|rihaishi|rahaishi|رہائشی|باشندہ|(?:rehne|rehnay|رہنے)\s+(?:wal[aey]|وال[اے]))\s+",
    re.IGNORECASE,
)
_CLOSE: Final = re.compile(r"\s*\)")
# A name and a place side by side in a list: "Tariq Mehmood (Mirpur), Malik Sajid (Jhelum)"
# written "طارق محمود میرپور، ملک ساجد جہلم" or "tariq mehmood mirpur, sajid jhelum".
_LISTED: Final = re.compile(r"\s*(?:[,،;:)\]]|(?:and|aur|اور|و)(?!\w))", re.IGNORECASE)
_WALA: Final = re.compile(r"\s*-?\s*(?:wal(?:a|e|i|ay|ey)|وال[اےی])(?![^\W\d_])", re.IGNORECASE)
_BEFORE: Final = re.compile(
    r"(?:\s+(?:ka|ke|ki|کا|کے|کی)|['\u2019]s)\s+(?P<rank>(?:\S+\s+){0,3})", re.IGNORECASE
)
# "pezu wala agent noor muhammad", "مندرہ والے شاہد حسین": only the man's own rank between.
_WALA_BEFORE: Final = re.compile(
    r"\s*-?\s*(?:wal(?:a|e|i|ay|ey)|وال[اےی])\s+(?P<rank>(?:\S+\s+){0,4})", re.IGNORECASE
)
# A police station right before the man's rank: "At Kunri police station ASI Nisar Ahmed",
# "thana saddar ka sho aslam", "تھانہ ڈگری کے اے ایس آئی نثار احمد": he holds it there.
_AT_STATION: Final = re.compile(
    r"(?:\s+(?:ka|ke|ki|کا|کے|کی)|['\u2019]s)?\s+(?P<rank>(?:\S+\s+){1,4})", re.IGNORECASE
)


def mark(
    text: str,
    mentions: Sequence[M],
    ranked: Callable[[str], bool],
) -> list[M]:
    """`mentions`, each person's designation carrying the place written onto the name.

    Words between the name and its place are allowed only where they are the man's rank
    (`ranked`: whether a designation is a rank or trade): "Tariq Mehmood, SHO of Kasur",
    "okara ka sho aslam".
    """
    out = list(mentions)
    for i, person in enumerate(out):
        if person.kind != "person":
            continue
        said = designations.parse(person.designation)
        rank = said.rank if said.rank and ranked(said.rank) else None
        place = _home(text, out, i, rank)
        if place:
            home = designations.render(said._replace(home=place))
            out[i] = dataclasses.replace(person, designation=home)  # type: ignore[type-var]
    return out


# The most characters between a name and its place in any shape read here ("Tariq
# Mehmood, the SHO of Kasur"; "اوستہ محمد کا اے ایس آئی"): a wider gap is never tried, so a
# run of whitespace or words between two mentions costs nothing however long.
_MOST_GAP: Final = 40


def _home(text: str, mentions: Sequence[Mention], i: int, rank: str | None) -> str | None:
    person = mentions[i]
    if i + 1 < len(mentions) and mentions[i + 1].start - person.end <= _MOST_GAP:
        after = mentions[i + 1]
        place = _place(after)
        m = _AFTER.fullmatch(text, person.end, after.start) if place else None
        closed = m is not None and ("(" not in m.group() or _CLOSE.match(text, after.end))
        if m and closed and _is_rank(m.group("rank"), rank):
            return place
        gap = text[person.end : after.start]
        if after.kind == "district" and gap.strip() in ("", ",") and _WALA.match(text, after.end):
            return place
        if after.kind == "district" and not gap.strip() and _LISTED.match(text, after.end):
            return place
    if i + 2 < len(mentions) and mentions[i + 1].kind == "person":
        kin, after = mentions[i + 1], mentions[i + 2]
        place = _place(after) if after.start - kin.end <= _MOST_GAP else None
        if (
            place
            and parentage.MARK.fullmatch(text, person.end, kin.start)
            and _RESIDES.fullmatch(text, kin.end, after.start)
        ):
            return place
    if i > 0 and person.start - mentions[i - 1].end <= _MOST_GAP:
        before = mentions[i - 1]
        place = _place(before) if before.kind == "district" else None
        m = _BEFORE.fullmatch(text, before.end, person.start) if place else None
        if m and (not m.group("rank") or rank or _DWELLER.fullmatch(m.group("rank"))):
            return place
        m = _WALA_BEFORE.fullmatch(text, before.end, person.start) if place else None
        if m and (not m.group("rank") or (rank and spells_rank(m.group("rank"), rank))):
            return place
        place = _place(before) if before.kind == "police_station" and rank else None
        m = _AT_STATION.fullmatch(text, before.end, person.start) if place else None
        if m and rank and spells_rank(m.group("rank"), rank):
            return place
    return None


def _is_rank(words: str | None, rank: str | None) -> bool:
    """Nothing between name and place, or the man's own rank ("Tariq, SHO of Kasur")."""
    return not words or (rank is not None and normalize(words) == normalize(rank))


def _place(mention: Mention) -> str | None:
    """The district a mention names: a district's key, or a station's district."""
    if mention.kind == "district":
        return mention.key or None
    if mention.kind == "police_station":
        return mention.key.partition("/")[2] or None
    return None
