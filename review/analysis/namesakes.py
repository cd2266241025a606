"""A report that tells its man apart from another of his name: the source's own warning.

Sources who know two men of one name often say so: "the Gulzar Khan who runs the money
exchange is NOT the SHO from Kohat"; "I am Tariq Mehmood. Not the policeman, I am a
plumber"; "یہ چکوال والا بھٹہ مالک نہیں"; "pindi wala asi nahi hun". A link on that name
alone, between this report and another, is exactly the confusion the source warned of:
the name is shared, the man may not be. So a person named in or just before such a
sentence is marked (`NAMESAKE`, in the mention's designation, where a reviewer sees it),
and `links.pair_strength` makes every link on the name from this report weak until a
reviewer confirms it.

What counts as a warning is narrow on purpose, and errs towards weak links (a right link
shown weak costs a reviewer a confirmation; a false one counted costs an innocent man):
- English: "not the / that / a ..." then, within four words, a man, a person, a rank or a
  trade ("is not the Chakwal kiln man", "NOT the SHO from Kohat", "Not the policeman"),
  two men "with the same name", or people who "confuse them" or "mix them up"; "a
  namesake", "the same name as", "shares his name with", "no relation to", "not to be
  confused with", and "a different ASI" before the name it covers ("A different ASI Gul
  Zaman, of Thana Cantt Bannu, helped us"); but not a name shared with the writer's kin
  ("the same name as my sister": no other man is meant);
- Roman Urdu and Urdu: a "-wala" (a man of a place or a trade) or a rank, denied at the
  end of a clause ("kohat ka sho nahi hai,", "chakwal wala nahi", "پولیس والا نہیں،"),
  and the word for a namesake ("hamnaam", "ہم نام"). An infinitive before wala is no man
  ("koi sunne wala nahi": nobody to listen).

A warned man keeps his rank beside the mark only when the warning names another rank,
trade or force ("SHO Ghulam Rasool, not the ASI"): one that names none ("not the one who
took money", "a namesake of the corrupt one") leaves the other man's rank open, and it may
be his own.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M
from review.analysis.entity_text import rank_spelt

NAMESAKE: Final = designations.NAMESAKE

# Men, ranks and trades a writer tells a namesake apart by (English, Roman Urdu).
_MEN: Final = (
    r"man|men|one|person|guy|fellow|namesake|policeman|cop|officer|constable|sho|asi|si|dsp"
    r"|sp|inspector|munshi|moharrir|muharrir|agent|owner|dealer|transporter|driver|clerk"
)
# The writer's kin after "the same name as", "a namesake of": the namesake is a relative,
# whom the man is not confused with ("the same name as my sister").
_OF_KIN: Final = (
    r"\s+(?:(?:my|our|his|her|the)\s+)?(?:\w+\s+)?(?:uncle|aunt|cousin|brother|sister|father"
    r"|mother|son|daughter|nephew|niece|husband|wife|neighbou?r|friend)\b"
)
_NOT_THE: Final = re.compile(
    rf"\bnot\s+(?:the|that|this|a|an)\s+(?:(?!the\b)[^\s.!?,;]+\s+){{0,3}}?(?:{_MEN})\b"
    r"|\b(?:two|2|another|different)\s+(?:\w+\s+){0,3}?(?:with|of|by)\s+the\s+(?:same|identical)"
    r"\s+name\b|\bsame\s+name,\s+same\b"
    r"|\b(?:confuse[sd]?|mix(?:es|ed)?)\s+(?:them|him|the\s+two)\b"
    # "a namesake of", "has the same name as", "shares his name with", "no relation to",
    # "not to be confused with", "a different ASI", "a different man"; Roman Urdu's
    # "hamnaam" (namesake)
    rf"|\bnamesakes?\b(?!\s+of{_OF_KIN})|\bsame\s+name\s+as\b(?!{_OF_KIN})|\bsame-named\b"
    r"|\bshares?\s+(?:his|her|the|a)\s+name\b"
    rf"|\b(?:no\s+relation|not\s+related|unrelated)\s+to\b(?!{_OF_KIN})|\bconfused\s+with\b"
    # Roman Urdu's "same naam ka ek SI piplan mein bhi hai" (an SI of the same name is at
    # Piplan too): the rank after it is the other man's, as after "not the"
    r"|\bsame\s+naa?m\b"
    rf"|\ba\s+different\s+(?:\w+\s+){{0,2}}?(?:{_MEN})\b|\bh[au]m[\s-]?naam\b",
    re.IGNORECASE,
)
# A warning before the man it covers: "A different ASI Gul Zaman, of Thana Cantt Bannu".
_DIFFERENT: Final = re.compile(
    rf"\ba\s+different\s+(?:\w+\s+){{0,2}}?(?:{_MEN})\b\s*,?\s*(?:(?:named|called)\s+)?",
    re.IGNORECASE,
)
# The most characters between such a warning's end and the name it covers.
_AHEAD_GAP: Final = 4
# Two men of the name, the writer says, and the name after: "there are two ASIs named Gul
# Zaman", "two men called", "do gul zaman hain", "دو اے ایس آئی گل زمان ہیں"; or the name
# first: "gul zaman naam ke do asi", "گل زمان نام کے دو".
_TWO_RANKS: Final = (
    r"asi|si|sho|constable|head\s+constable|hc|sipahi|munshi|moharrir|muharrir|inspector"
    r"|patwari|tehsildar|agent|اے\s+ایس\s+آئی|ایس\s+آئی|ایس\s+ایچ\s+او|کانسٹیبل|سپاہی|منشی"
    r"|محرر|انسپکٹر|پٹواری|تحصیلدار|ایجنٹ"
)
_TWO_AHEAD: Final = re.compile(
    r"\b(?:two|2)\s+(?:[\w-]+\s+){0,2}?(?:named|called|by\s+the\s+name(?:\s+of)?)\s*:?\s*",
    re.IGNORECASE,
)
# A second man of the name, right before it: "another Gul Nawaz", "a second ...", "the other
# ...", "a different ...", "not the same ...", "is also named ...", "dusra gul nawaz",
# "دوسرا گل نواز". Not "also named" after a date ("the FIR of 18 March 2024 also named ..."
# lists), nor "also called" but after "is" or "was" ("my father also called ...": phoned).
_SECOND_AHEAD: Final = re.compile(
    r"(?:\b(?:another|a\s+second|the\s+other|a\s+different|not\s+the\s+same"
    r"|(?:is|was)\s+also\s+(?:named|called))|(?<=[^\d\s])\s+also\s+named)\s+"
    r"|(?<!\S)(?:dusra|doosra|dosra|dusre|doosre|dusri|doosri|دوسرا|دوسرے|دوسری)\s+",
    re.IGNORECASE,
)
# Before the name, with the words after it that make it a count or a denial: "do (asi) gul
# zaman hain" (two ... are), "naya sho bhi gul nawaz hai" (is also; "جن کا نام بھی انسپکٹر
# جاوید اقبال ہے", whose name is also, the rank between), "ye wo gul nawaz nahi
# jo ..." (not the one who), and their Urdu.
_COUNTED: Final = (
    (
        re.compile(rf"(?<!\S)(?:do|دو)\s+(?:(?:{_TWO_RANKS})\s+)?", re.IGNORECASE),
        re.compile(r"\s*,?\s*(?:hain|hai|hen|hein|ہیں|ہے)(?!\w)", re.IGNORECASE),
    ),
    (
        re.compile(rf"(?<!\S)(?:bhi|bhe|بھی)\s+(?:(?:{_TWO_RANKS})\s+)?", re.IGNORECASE),
        re.compile(r"\s*(?:hai|he|tha|ہے|تھا)(?!\w)", re.IGNORECASE),
    ),
    (
        re.compile(r"(?<!\S)(?:wo|woh|ye|yeh|وہ|یہ)\s+(?:\S+\s+)?", re.IGNORECASE),
        re.compile(r"\s+(?:nahi|nahin|nai|نہیں)\s+(?:jo|jis|جو|جس)(?!\w)", re.IGNORECASE),
    ),
)
_TWO_AFTER: Final = re.compile(r"\s+(?:naam|nam|نام)\s+(?:ke|kay|کے)\s+(?:do|دو)(?!\w)", re.I)
# What a text holds if any of these patterns can match (lower-cased), read before them.
_TWO_HOLDS: Final = (
    *("two", "2", "do", "دو", "another", "second", "other", "differ", "same", "also"),
    *("dusr", "doosr", "dosr", "دوسر", "bhi", "bhe", "بھی", "نہیں", "nahi", "nai"),
)
# The Urdu "namesake": "وہ پیسے لینے والے گل زمان کا ہم نام ہے".
_URDU_NAMESAKE: Final = re.compile(r"ہم\s?نام")
# "<place or trade> wala ... nahi" and "<rank> nahi", at a clause's end.
_CLAUSE_END: Final = r"(?:\s+(?:hai|hain|hun|hoon|hu|he|hy|tha))?\s*(?:[,.;:!?،۔]|$)"
_ROMAN: Final = re.compile(
    rf"\b(\w+)\s+wal(?:a|e|i|ay)\s+(?:\w+\s+){{0,2}}nahi?n?{_CLAUSE_END}"
    rf"|\b(?:{_MEN}|police\s+wala)\s+nahi?n?{_CLAUSE_END}",
    re.IGNORECASE | re.MULTILINE,
)
_URDU_RANKS: Final = "ایس ایچ او|اے ایس آئی|تھانیدار|منشی|محرر|انسپکٹر|ایجنٹ|سپاہی|کانسٹیبل"
_URDU_END: Final = r"(?:\s+(?:ہے|ہوں|ہیں|تھا))?\s*(?:[،,.۔!؟?]|$)"
_URDU: Final = re.compile(
    rf"(?<!\S)(\S+)\s+وال[اےی]\s+(?:\S+\s+){{0,3}}?نہیں{_URDU_END}|(?:{_URDU_RANKS})\s+نہیں{_URDU_END}",
    re.MULTILINE,
)
_SENTENCE_END: Final = re.compile(r"[.!?۔\n]+")
# What every match of each pattern holds, found far faster than the pattern's own scan (which
# tries every position): a text without it is not scanned. Same flags, so no match is lost.
# "nah" in the text lower-cased: ignoring case, n, a and h match only themselves and their
# capitals, and no other character lowers to them (so the test is `re.IGNORECASE`'s).
_ROMAN_HOLDS: Final = "nah"
_URDU_HOLDS: Final = "نہیں"
# Of `_NOT_THE`'s matches, in the text lower-cased: "not", "name", "conf" or the x of "mix"
# (ignoring case, these letters match only themselves, and no other letter lowers to them).
_NOT_THE_HOLDS: Final = ("not", "name", "conf", "x", "relat", "differ", "naam")
# "a separate man" of the name just given: "... ایس آئی غلام مرتضیٰ الگ آدمی ہے", "wo dusra banda
# hai", "وہ دوسرا آدمی ہے".
_SEPARATE: Final = re.compile(
    r"(?<!\S)(?:الگ|دوسرا|علیحدہ)\s+(?:آدمی|بندہ|شخص|افسر)(?!\S)"
    r"|\b(?:alag|dusra|doosra|dosra)\s+(?:banda|bandah|aadmi|admi|shakhs|afsar)\b",
    re.IGNORECASE,
)
_SEPARATE_HOLDS: Final = ("الگ", "دوسرا", "علیحدہ", "alag", "dusra", "doosra", "dosra")
# Two men of one name said before they are named: "two officers with the identical name",
# "two SHOs, one name", "دو ایس ایچ او، ایک نام", "do asi, ek hi naam". The names in the next
# sentence are theirs too.
_COUNT: Final = re.compile(
    r"\b(?:two|2)\s+(?:[\w-]+\s+){0,3}?(?:with|of|by|under|bearing|sharing)\s+(?:the\s+)?"
    r"(?:same|identical|one)\s+name\b|\b(?:two|2)\s+(?:[\w-]+\s*,?\s+){0,2}?one\s+name\b"
    r"|(?<!\S)دو\s+(?:\S+\s+){0,3}?ایک\s+(?:ہی\s+)?نام|\bdo\s+(?:\w+\s*,?\s+){0,3}?ek\s+(?:hi\s+)?naam\b",
    re.IGNORECASE,
)
_COUNT_HOLDS: Final = ("two", "2", "دو", "do ")


def warnings(text: str) -> list[int]:
    """Where `text` tells a man apart from another of his name (offsets, in order)."""
    lowered = text.lower()
    denial = any(h in lowered for h in _NOT_THE_HOLDS)
    found = [m.start() for m in _NOT_THE.finditer(text)] if denial else []
    if "نام" in text:
        found.extend(m.start() for m in _URDU_NAMESAKE.finditer(text))
    if any(h in lowered for h in _SEPARATE_HOLDS):
        found.extend(m.start() for m in _SEPARATE.finditer(text))
    scanned = (_ROMAN_HOLDS in lowered, _URDU_HOLDS in text)
    for pattern in (p for p, held in zip((_ROMAN, _URDU), scanned, strict=True) if held):
        for m in pattern.finditer(text):
            before = m.group(1)
            if before is not None and (before.lower().endswith("ne") or before.endswith("نے")):
                continue  # an infinitive: "sunne wala nahi", "سننے والا نہیں"
            found.append(m.start())
    return sorted(found)


def mark(text: str, mentions: Sequence[M], ranked: Callable[[str], bool]) -> list[M]:
    """`mentions`, with the people a warning follows marked `NAMESAKE`.

    A warning covers the people named before it in its own sentence and in the sentence
    before ("I am Tariq Mehmood from Dina. Not the policeman."). A mention keeps a rank
    or trade (`ranked`) that the warning does not itself deny, beside the mark: "SHO
    Ghulam Rasool, not the ASI" is "SHO, another of this name", which meets another
    report's SHO of the name and no one else; "Gulzar Khan ... is NOT the SHO" loses the
    SHO read after the name, and "my name is Tariq" its "named", which say nothing.
    """
    mentions = _this_name(text, _two(text, mentions, ranked))
    counts = [m.start() for m in _COUNT.finditer(text)] if _counting(text) else []
    at = sorted(warnings(text) + counts)
    if not at:
        return list(mentions)
    ahead = [m.end() for m in _DIFFERENT.finditer(text)] if "differ" in text.lower() else []
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    # each count's next sentence, merged in order: [where the count is, where that ends]
    onward: list[list[int]] = []
    for c in counts:
        end = starts[min(bisect.bisect_right(starts, c) + 1, len(starts) - 1)]
        end = end if end > c else len(text)
        if onward and c <= onward[-1][1]:
            onward[-1][1] = max(onward[-1][1], end)
        else:
            onward.append([c, end])
    onward_los = [c for c, _ in onward]
    counted: set[int] = set()
    # the other man, right after "not the <rank>": "NOT the Inspector Mir Zaman Khan who was"
    denied = [m.end() for m in _NOT_THE.finditer(text)] if at else []
    others: set[int] = set()
    spans: list[list[int]] = []  # merged, in order: bounded in time however many warnings
    for w in at:
        own = bisect.bisect_right(starts, w) - 1
        lo = starts[max(own - 1, 0)]  # the sentence before the warning's own
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], w)
        else:
            spans.append([lo, w])
    los = [lo for lo, _ in spans]
    out: list[M] = []
    for mention in mentions:
        k = bisect.bisect_right(los, mention.start) - 1
        covered = k >= 0 and mention.start < spans[k][1]
        j = bisect.bisect_right(ahead, mention.start) - 1
        covered = covered or (j >= 0 and mention.start - ahead[j] <= _AHEAD_GAP)
        j = bisect.bisect_right(onward_los, mention.start) - 1
        if j >= 0 and mention.start < onward[j][1]:
            covered = True
            counted.add(len(out))
        j = bisect.bisect_right(denied, mention.start) - 1
        if j >= 0 and mention.start - denied[j] <= _AHEAD_GAP:
            covered = True
            others.add(len(out))
        if mention.kind == "person" and covered and not designations.parse(mention.designation).two:
            rank = mention.designation
            if rank is None or not ranked(rank) or not _another_rank(text, at, mention.start, rank):
                rank = None
            marked = designations.compose(rank, namesake=True)
            mention = dataclasses.replace(mention, designation=marked)  # type: ignore[type-var]
        out.append(mention)
    return _both_named(mentions, out, ranked, counted, others)


def _counting(text: str) -> bool:
    lowered = text.lower()
    return any(h in lowered for h in _COUNT_HOLDS)


# The man right after a warning that denies him, told from the report's own man by that.
_DENIED: Final = "the other"


def _both_named(
    before: Sequence[M],
    after: list[M],
    ranked: Callable[[str], bool],
    counted: set[int],
    others: set[int],
) -> list[M]:
    """`after` (`before` with warnings marked), each name a warning covers marked `TWO`
    where the report names both men of it: under two ranks ("SI Ghulam Murtaza, retired
    2021 ... Inspector Ghulam Murtaza, SHO since 2024"), or one ranked and the other right
    after the warning denies him ("Inspector Mir Zaman Khan ... is NOT the Inspector Mir
    Zaman Khan who was SHO in 2021": `others`), or under a count of two men of one name
    (`counted`). (Indexes into the mentions.) A report naming both is a record that two
    men of the name serve where it is set."""
    men: dict[str, set[str]] = {}  # each name's men as the report tells them: ranks, "other"
    two_said: set[str] = set()  # names a count of two covers
    warned: set[str] = set()
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        if new.kind != "person":
            continue
        told = men.setdefault(new.key, set())
        if old.designation and ranked(old.designation):
            told.add(designations.parse(old.designation).rank)
        if i in others:
            told.add(_DENIED)
        if i in counted:
            two_said.add(new.key)
        if designations.parse(new.designation).namesake:
            warned.add(new.key)
    both = {k for k in warned if k in two_said or len(men[k]) > 1}
    if not both:
        return after
    two = designations.compose(None, two=True)
    return [
        dataclasses.replace(m, designation=two) if m.kind == "person" and m.key in both else m  # type: ignore[type-var]
        for m in after
    ]


# "two ASIs named Gul Zaman and Sher Ali": two men and their two names; no list puts more
# than this between them.
_LISTED_GAP: Final = 12
_AND: Final = re.compile(r"\s*,?\s*(?:and|or|&|aur|ya|اور|یا)\s+", re.IGNORECASE)


def _listed_with(text: str, mentions: Sequence[M], i: int) -> bool:
    """Whether the person `mentions[i]` is listed with the next one ("Gul Zaman and Sher Ali")."""
    m = mentions[i]
    for j in range(i + 1, len(mentions)):  # the next few only: linear in the report
        after = mentions[j]
        if after.kind == "person":
            return _AND.fullmatch(text, m.end, after.start) is not None
        if after.start - m.end > _LISTED_GAP:
            return False
    return False


def _two(text: str, mentions: Sequence[M], ranked: Callable[[str], bool]) -> list[M]:
    """`mentions`, each person the writer says is one of two men of the name marked `TWO`
    (a warning too: which of them a report means, it does not say)."""
    lowered = text.lower()
    if not any(h in lowered for h in _TWO_HOLDS):
        return list(mentions)
    out = list(mentions)
    for i, m in enumerate(out):
        if m.kind != "person":
            continue
        counted = _TWO_AFTER.match(text, m.end) is not None
        if not _listed_with(text, out, i):
            counted = counted or _right_before(_TWO_AHEAD, text, m.start) is not None
            counted = counted or _right_before(_SECOND_AHEAD, text, m.start) is not None
            counted = counted or any(
                _right_before(ahead, text, m.start) is not None and after.match(text, m.end)
                for ahead, after in _COUNTED
            )
        if counted:
            rank = m.designation if m.designation and ranked(m.designation) else None
            two = designations.compose(rank, two=True)
            out[i] = dataclasses.replace(m, designation=two)  # type: ignore[type-var]
    return out


# "Of this very name", said of a post's other holder: "pehle wala sho bhi isi naam ka tha"
# (the SHO before was of this name too), "پرانا ایس ایچ او بھی اسی نام کا تھا". The report's
# man of that rank is one of two of the name, however far back he was named.
_THIS_NAME: Final = re.compile(
    r"\b(sho|asi|si|inspector|thanedar|munshi|moharrir|muharrir|patwari)\s+(?:\w+\s+){0,2}?"
    r"(?:isi|issi|usi|ussi)\s+(?:naam|nam)\s+(?:ka|ke|ki|wala|wale|wali)\b"
    rf"|({_URDU_RANKS}|ایس آئی)\s+(?:\S+\s+){{0,2}}?(?:اسی|اُسی)\s+نام\s+"
    r"(?:کا|کے|کی|والا|والے)(?!\S)",
    re.IGNORECASE,
)
_THIS_NAME_HOLDS: Final = ("isi", "issi", "usi", "ussi", "اسی", "اُسی")


def _this_name(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, the report's men of a rank whose other holder, the writer says, bore the
    name too (`_THIS_NAME`) marked `TWO`, their rank kept."""
    lowered = text.lower()
    if not any(h in lowered for h in _THIS_NAME_HOLDS):
        return list(mentions)
    ranks = {rank_spelt(m.group(1) or m.group(2)) for m in _THIS_NAME.finditer(text)}
    out = list(mentions)
    for i, m in enumerate(out):
        said = designations.parse(m.designation)
        if m.kind == "person" and not said.two and said.rank and said.rank in ranks:
            two = designations.render(said._replace(two=True))
            out[i] = dataclasses.replace(m, designation=two)  # type: ignore[type-var]
    return out


def _right_before(pattern: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    """A match of `pattern` that ends where the name at `start` begins (within 48 characters)."""
    found = pattern.search(text, max(0, start - 48), start)
    while found is not None and found.end() != start:
        found = pattern.search(text, found.start() + 1, start)
    return found


# Whom a warning may say the namesake is, other than the man: a rank, trade or force
# anywhere in it ("not the ASI", "not the FIA man"), or, right after the warning's words,
# the writer's kin ("the same name as my uncle", "my cousin's namesake"; a kin word further
# on is the story's: "not the one who beat my brother").
_RANKS: Final = re.compile(
    r"\b(?:constable|sho|asi|si|dsp|sp|inspector|munshi|moharrir|muharrir|agent|owner"
    r"|dealer|transporter|driver|clerk|fia|levies|rangers?|army|customs|excise|nadra)\b|"
    + _URDU_RANKS
    + "|ایف آئی اے|لیویز",
    re.IGNORECASE,
)
_KIN: Final = re.compile(
    r"^(?:same\s+name\s+as|namesake\s+of|name\s+as|name\s+with|not)\s+(?:(?:the|my|our|his|her)\s+)?"
    r"(?:\w+\s+)?(?:uncle|aunt|cousin|brother|sister|father|mother|son|daughter|nephew|niece"
    r"|husband|wife|neighbou?r|friend)\b",
    re.IGNORECASE,
)


def _another_rank(text: str, at: list[int], start: int, rank: str) -> bool:
    """Whether a warning after `start`, in the next 80 characters of it, denies a rank or
    trade other than `rank`, and not `rank` itself: "SHO Ghulam Rasool, not the ASI" keeps
    its SHO; "ASI Gul Zaman, not the one who took money" and "a namesake of the corrupt
    one" deny no rank, so the other man may hold the same one, and nothing is kept."""
    i = bisect.bisect_right(at, start)
    windows = [text[w : w + 80] for w in at[i : i + 3]]
    if any(rank.casefold() in window.casefold() for window in windows):
        return False
    return any(_RANKS.search(window) or _KIN.search(window) for window in windows)
