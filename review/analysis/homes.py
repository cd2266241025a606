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

Two more things are written onto a posted man's rank the same way, and kept in his
designation beside his home: the police station of his post ("Inspector Ghulam Abbas,
the SHO of Thana Bhalwal", "thana kot momin ke sho ...", "we went to Thana Quaidabad,
where ASI ..."; "posted at"), which is where his report sets him of all the stations it
names; and the agency he serves ("FIA Sub-Inspector Imran Haider", "Inspector Kamran Sabir
of the FIA"; "with"): an FIA man and a police station's of one name are two men.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Final

from review.analysis import designations, parentage
from review.analysis.designations import M, Mention
from review.analysis.entity_text import rank_spelt, spells_rank
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
    posted: Callable[[str], bool],
) -> list[M]:
    """`mentions`, each person's designation carrying the place written onto the name, and
    a posted man's (`posted`: an ASI, an SHO) the police station written onto his post.

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
        station = _post(text, out, i, rank) if rank and posted(rank) else None
        service = _service(text, out, i, rank) if rank and posted(rank) else None
        if place or station or service:
            marked = said._replace(
                home=place or said.home,
                station=station or said.station,
                service=service or said.service,
            )
            out[i] = dataclasses.replace(  # type: ignore[type-var]
                person, designation=designations.render(marked)
            )
    return out


# The police station written onto a man's post, after his name: "Inspector Ghulam Abbas,
# the SHO of Thana Bhalwal", "ASI Tariq of Thana Saddar", "ASI Tariq, posted at Thana
# Saddar", "غلام عباس ایس ایچ او تھانہ کوٹ مومن". Rank words between (`_rank_run`), or "of",
# "at", "posted at/in"; a station right after a bare name is where he took someone.
_POST_AFTER: Final = re.compile(
    r"\s*,?\s*(?:\(\s*)?(?:the\s+)?(?P<rank>(?:[^\W\d_]+\s+){0,4}?)"
    r"(?P<joined>(?:of|at|in|posted\s+(?:at|in)|(?:tainaat|tayinat|تعینات)\s+(?:thay|tha|ہے|تھا)?)\s*)?"
    r"(?:the\s+)?",
    re.IGNORECASE,
)
# Before his name: "Thana Kot Momin ka SHO Inspector Ghulam Abbas", "thana saddar mein asi
# tariq", "saddar thana wale inspector javed iqbal", "تھانہ کوٹ مومن کے ایس ایچ او انسپکٹر غلام
# عباس", "At Kunri police station ASI Nisar", "to Thana Quaidabad, where ASI Aslam ...",
# "Thana Township (SI Imran Haider)", "تھانہ ٹاؤن شپ سے سب انسپکٹر عمران حیدر آیا" (came from it).
_POST_BEFORE: Final = re.compile(
    r"(?:\s+(?:ka|ke|ki|kay|کا|کے|کی|mein|main|men|میں|se|sey|سے|wal(?:a|e|i|ay|ey)|وال[اےی])"
    r"|['\u2019]s|\s*,?\s+(?:where|jahan|jahaan|جہاں)(?:\s+the)?|\s*\()?\s*(?P<rank>(?:\S+\s+){1,5})",
    re.IGNORECASE,
)


def _post(text: str, mentions: Sequence[Mention], i: int, rank: str) -> str | None:
    """The key of the police station a report writes onto its man's post, if it does.

    A report that names two stations ("taken from Thana Bhalwal to Thana Kot Momin, whose
    SHO Inspector Ghulam Abbas took the money") sets its man at the one written onto his
    post, not at both (`links.pair_strength`)."""
    found = _beside(text, mentions, i, rank, "police_station", _POST_AFTER, _POST_BEFORE)
    return found.key if found else None


def _beside(
    text: str,
    mentions: Sequence[Mention],
    i: int,
    rank: str,
    kind: str,
    after: re.Pattern[str],
    before: re.Pattern[str],
) -> Mention | None:
    """The mention of `kind` written onto person `i`'s rank, right after his name (`after`:
    his rank's words, or a joining word, "(" or ",", between) or right before it (`before`:
    his ranks between; a station may have its district after it, "Thana Saddar Okara ka SHO").
    """
    person = mentions[i]
    if i + 1 < len(mentions) and mentions[i + 1].start - person.end <= _MOST_GAP:
        nxt = mentions[i + 1]
        m = after.fullmatch(text, person.end, nxt.start) if nxt.kind == kind else None
        words = m.group("rank").replace(",", " ") if m else ""
        joined = m is not None and any(m.groupdict().get(g) for g in ("open", "joined"))
        if m is not None and (words.strip() or joined) and _rank_run(words, rank, tied=True):
            return nxt
    if i > 0 and person.start - mentions[i - 1].end <= _MOST_GAP:
        m = before.fullmatch(text, mentions[i - 1].end, person.start)
        prev: Mention | None = mentions[i - 1]
        if mentions[i - 1].kind != kind:
            prev = _station_of(text, mentions, i - 1) if kind == "police_station" else None
        if prev is not None and m and _rank_run(m.group("rank"), rank):
            return prev
    return None


# The agency written onto a man's rank: "FIA Sub-Inspector Imran Haider", "the FIA's
# inspector", "ایف آئی اے کا سب انسپکٹر عمران حیدر", "Levies havaldar Gul Zaman" before his
# name; "Inspector Kamran Sabir of the FIA", "Kamran Sabir, Inspector, FIA", "(FIA)" after.
_SERVICE_BEFORE: Final = re.compile(
    r"(?:\s+(?:ka|ke|ki|kay|کا|کے|کی)|['\u2019]s)?\s+(?:the\s+)?(?P<rank>(?:\S+\s+){1,4})",
    re.IGNORECASE,
)
_SERVICE_AFTER: Final = re.compile(
    r"\s*(?P<open>\(|,)?\s*(?:the\s+)?(?P<rank>(?:[^\W\d_]+,?\s+){0,3}?)"
    r"(?P<joined>(?:of|from|in)\s+(?:the\s+)?)?",
    re.IGNORECASE,
)


def _service(text: str, mentions: Sequence[Mention], i: int, rank: str) -> str | None:
    """The key of the agency a report writes onto its man's rank, if it does.

    An FIA Sub-Inspector and a police station's SI of one name are two men: the agency
    says whom a man serves as his station says where (`links.pair_strength`)."""
    found = _beside(text, mentions, i, rank, "agency", _SERVICE_AFTER, _SERVICE_BEFORE)
    return found.key if found else None


def _station_of(text: str, mentions: Sequence[Mention], i: int) -> Mention | None:
    """The police station right before a district that names its district ("Thana Saddar
    Okara ka SHO"), if mention `i` is such a district."""
    if mentions[i].kind != "district" or i == 0 or mentions[i - 1].kind != "police_station":
        return None
    gap = text[mentions[i - 1].end : mentions[i].start]
    return mentions[i - 1] if len(gap) <= 2 and gap.strip() in ("", ",") else None


def _rank_run(words: str, rank: str, *, tied: bool = False) -> bool:
    """Whether `words` are ranks only, the last of them the man's own (`rank`) unless
    `tied` (after his name: "Inspector Ghulam Abbas, the SHO of ..."): "SHO Inspector"
    before "Ghulam Abbas" whose rank is Inspector. Empty words are a run only if `tied`."""
    tokens = words.split()
    if not tokens:
        return tied
    for cut in range(len(tokens)):
        head, tail = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        if (spells_rank(tail, rank) or (tied and rank_spelt(tail))) and (
            not head or _ranks_only(head)
        ):
            return True
    return False


def _ranks_only(words: str) -> bool:
    """Whether `words` are one rank or two ("SHO", "ایس ایچ او انسپکٹر")."""
    tokens = words.split()
    return bool(rank_spelt(words)) or any(
        rank_spelt(" ".join(tokens[:c])) and rank_spelt(" ".join(tokens[c:]))
        for c in range(1, len(tokens))
    )


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
