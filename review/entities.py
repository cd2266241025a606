"""Entities in report text, Urdu and English: who, which station, district, agency, numbers, days.

Hand-written rules over gazetteers kept as package data (`review/data/`): no
model and nothing fetched, since the review workstation is offline. People are
found by a rank or designation next to a name ("SHO Rana Tariq", "اے ایس آئی
محمد اسلم"); police stations by "police station"/"thana"/تھانہ next to a name;
districts and agencies from lists; CNIC, phone, vehicle and date by patterns that
also read Urdu and Arabic-Indic digits. Each entity keeps the text as written and
its offsets, and gets a `key` under which the same thing matches across reports
and scripts: CNICs as #####-#######-#, phones as +92…, dates as ISO, names and
places folded with `review.search.normalize` and mapped through the name lists,
so that "Ch. Aslam" and "چوہدری اسلم" share one key. A person's rank is kept
apart, in `designation`, never in the key.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Final

from review.search import normalize

KINDS: Final = (
    "person",
    "police_station",
    "district",
    "agency",
    "cnic",
    "phone",
    "vehicle",
    "date",
)
# When two candidates overlap and are as long, the earlier kind wins.
# "blocked" is a phrase that holds a name but is no entity ("Khyber Pakhtunkhwa").
_PRIORITY: Final = {
    kind: i for i, kind in enumerate(("blocked", "cnic", "phone", "date", "vehicle", *KINDS))
}


@dataclass(frozen=True)
class Entity:
    """One mention: its kind, the text as written, its matching key, where it is, and a rank."""

    kind: str
    text: str
    key: str
    start: int
    end: int
    designation: str | None = None


# --- folding, with a map back to the original offsets ---------------------------------------


# Each character's fold, filled as characters are met (a plain dict: this is the hot loop).
_FOLDED: dict[str, str] = {}
_FOLDED_MAX: Final = 65536


def _fold(text: str) -> tuple[str, list[int]]:
    """Fold like `normalize`, one character at a time, keeping where each folded one came from."""
    out: list[str] = []
    where: list[int] = []
    folded = _FOLDED
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                where.append(i)
            continue
        f = folded.get(ch)
        if f is None:
            if len(folded) > _FOLDED_MAX:  # a report of rare characters cannot grow it forever
                folded.clear()
            f = folded[ch] = normalize(ch)
        if len(f) == 1:
            out.append(f)
            where.append(i)
        else:
            out.extend(f)
            where.extend([i] * len(f))
    where.append(len(text))
    return "".join(out), where


@dataclass(frozen=True)
class _Token:
    folded: str
    start: int  # offsets into the original text
    end: int
    raw: str

    @property
    def punct(self) -> bool:
        return not (self.folded[0].isalnum() or self.folded[0] == "_")

    @property
    def latin(self) -> bool:
        return self.folded[0].isascii() and self.folded[0].isalpha()

    @property
    def urdu(self) -> bool:
        return "\u0600" <= self.folded[0] <= "\u06ff" and self.folded[0].isalpha()

    @property
    def capital(self) -> bool:
        return self.raw[:1].isupper()


# Words, joined by hyphens and apostrophes ("Sub-Inspector", "D'Souza") but not by a
# possessive ("FIA's"), and single marks.
_TOKEN: Final = re.compile(r"\w+(?:[-'\u2019](?!s\b)\w+)*|[^\w\s]")


def _tokens(text: str) -> list[_Token]:
    folded, where = _fold(text)
    out = []
    for m in _TOKEN.finditer(folded):
        start, end = where[m.start()], where[m.end() - 1] + 1
        out.append(_Token(m.group(), start, end, text[start:end]))
    return out


def _fold_phrase(phrase: str) -> tuple[str, ...]:
    return tuple(m.group() for m in _TOKEN.finditer(normalize(phrase)))


# --- gazetteers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    value: str  # the canonical name
    acronym: bool = False  # must be written in capitals
    proper: bool = False  # must be written capitalised
    cue: bool = False  # an everyday word too: needs "district"/ضلع or the like beside it


class _Lexicon:
    """Phrases (as folded token tuples) to their terms, longest match first."""

    def __init__(self, entries: dict[tuple[str, ...], list[_Term]]) -> None:
        self.entries = entries
        self.longest = max((len(k) for k in entries), default=0)
        self.starts = {k[0] for k in entries}

    @classmethod
    def load(cls, name: str, *, proper: bool) -> _Lexicon:
        """Read a data file: lines of `canonical | variant | …`; '?' and '~' mark variants."""
        entries: dict[tuple[str, ...], list[_Term]] = {}
        for line in _data(name):
            variants = [v.strip() for v in line.split("|") if v.strip()]
            canonical = variants[0].lstrip("?~")
            for variant in variants:
                cue, anycase = variant.startswith("?"), variant.startswith("~")
                written = variant.lstrip("?~")
                latin = written.isascii()
                acronym = latin and written.isupper() and len(written.replace(".", "")) <= 6
                term = _Term(
                    canonical,
                    acronym=acronym,
                    proper=latin and proper and not acronym and not anycase,
                    cue=cue,
                )
                tokens = _fold_phrase(written)
                for form in {tokens, ("".join(tokens),)} if not latin else {tokens}:
                    entries.setdefault(form, []).append(term)
        return cls(entries)

    def match(self, toks: list[_Token], i: int) -> tuple[int, _Term] | None:
        """The longest term starting at token i whose conditions hold, and its length."""
        # Most tokens start no term: answer those without making a generator.
        if toks[i].folded not in self.starts:
            return None
        return next(self.matches(toks, i), None)

    def matches(self, toks: list[_Token], i: int) -> Iterator[tuple[int, _Term]]:
        """Every term starting at token i whose conditions hold, longest first."""
        if toks[i].folded not in self.starts:
            return
        for n in range(min(self.longest, len(toks) - i), 0, -1):
            for term in self.entries.get(tuple(t.folded for t in toks[i : i + n]), ()):
                if _fits(term, toks, i, n):
                    yield n, term
                    break


def _fits(term: _Term, toks: list[_Token], i: int, n: int) -> bool:
    raw = "".join(t.raw for t in toks[i : i + n])
    if term.acronym and not all(c.isupper() for c in raw if c.isalpha()):
        return False
    if term.proper and (not toks[i].capital or (len(raw) > 1 and raw.isupper())):
        return False  # "lahore" may be anything; "SWAT" is a police team, not Swat
    if term.cue:
        near = {toks[k].folded for k in (i - 2, i - 1, i + n, i + n + 1) if 0 <= k < len(toks)}
        return bool(near & _CUES)
    return True


def _data(name: str) -> Iterator[str]:
    text = resources.files("review").joinpath("data", name).read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


@functools.cache
def _lexicons() -> dict[str, _Lexicon]:
    return {
        "district": _Lexicon.load("districts.txt", proper=True),
        "agency": _Lexicon.load("agencies.txt", proper=True),
        "rank": _Lexicon.load("ranks.txt", proper=False),
        "station": _Lexicon(
            {_fold_phrase(p): [_Term(p, acronym=p.replace(".", "").isupper())] for p in _STATION}
        ),
        "blocked": _Lexicon({_fold_phrase(p): [_Term(p)] for p in _BLOCKED}),
    }


@functools.cache
def _words(name: str) -> dict[str, str]:
    """Each spelling of a name word (folded) to its canonical Latin spelling (folded)."""
    out: dict[str, str] = {}
    for line in _data(name):
        variants = [v.strip() for v in line.split("|") if v.strip()]
        canonical = normalize(variants[0])
        for variant in variants:
            for token in _fold_phrase(variant):
                out.setdefault(token, canonical)
    return out


@functools.cache
def _stopwords() -> frozenset[str]:
    return frozenset(normalize(w) for line in _data("stopwords.txt") for w in line.split())


def _names() -> dict[str, str]:
    return _words("names.txt")


def _station_words() -> dict[str, str]:
    return _words("stations.txt")


# Words that say "this is a place" beside a place name that is also an everyday word.
_CUES: Final = frozenset(
    normalize(w)
    for w in ("district", "city", "tehsil", "division", "ضلع", "شہر", "تحصیل", "ڈویژن", "ڈسٹرکٹ")
)
# Words that begin a police station's name ("Police Station Saddar", "تھانہ صدر").
_STATION: Final = (
    "police station",
    "PS",
    "P.S",
    "thana",
    "thanna",
    "تھانہ",
    "تھانے",
    "تھانا",
    "پولیس اسٹیشن",
    "پولیس سٹیشن",
)
# Longer phrases that hold a district's name but are not districts.
_BLOCKED: Final = ("Khyber Pakhtunkhwa", "خیبر پختونخوا", "خیبر پختونخواہ")


# Urdu words that end a name for sure: an unknown word is a name's only before one of these.
_UR_ENDERS: Final = frozenset(normalize(w) for w in ("نے", "صاحب", "جی"))
# Honorifics and titles: part of the text as written, never of a name's key.
_HONORIFICS: Final = frozenset(
    normalize(w) for w in ("mr", "mrs", "sahib", "sahab", "sb", "saheb", "janab", "جناب", "صاحب")
)


# --- patterns ---------------------------------------------------------------------------------

_MONTHS: Final = {
    **{
        m: i
        for i, names in enumerate(
            [
                "january jan",
                "february feb",
                "march mar",
                "april apr",
                "may",
                "june jun",
                "july jul",
                "august aug",
                "september sep sept",
                "october oct",
                "november nov",
                "december dec",
            ],
            start=1,
        )
        for m in names.split()
    },
    **{
        normalize(m): i
        for i, names in enumerate(
            [
                "جنوری",
                "فروری",
                "مارچ",
                "اپریل",
                "مئی مئ",
                "جون",
                "جولائی جولائ",
                "اگست",
                "ستمبر",
                "اکتوبر",
                "نومبر",
                "دسمبر",
            ],
            start=1,
        )
        for m in names.split()
    },
}
_M: Final = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_D: Final = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
_Y: Final = r"(?P<y>(?:19|20)\d{2})(?:\s?ء)?"
_DATES: Final = (
    re.compile(rf"(?<![\w/.-]){_D}(?:\s+of)?[\s,./-]*(?P<m>{_M})\.?(?:[\s,./-]*{_Y})?(?![\w])"),
    re.compile(rf"(?<![\w])(?P<m>{_M})\.?\s+{_D},?\s+{_Y}(?![\w])"),
    re.compile(rf"(?<![\w])(?P<m>{_M})\.?,?\s+{_Y}(?![\w])"),
    re.compile(
        r"(?<![\w/.-])(?P<d>[0-3]?\d)(?P<s>[/.-])(?P<n>[01]?\d)(?P=s)"
        r"(?P<y>(?:19|20)\d{2}|\d{2})(?:\s?ء)?(?![\w/-]|\.\d)"
    ),
    re.compile(r"(?<![\w/.-])(?P<y>(?:19|20)\d{2})-(?P<n>[01]\d)-(?P<d>[0-3]\d)(?![\w/-])"),
)
_CNIC: Final = re.compile(r"(?<![\w-])([1-7]\d{4})[-\s]?(\d{7})[-\s]?(\d)(?![\w]|-\d)")
_MOBILE: Final = re.compile(
    r"(?<![\w+])(?:(?:\+|00)92[\s-]?(?:\(0\)\s?)?|0)(3\d{2})[\s-]?(\d{3})[\s-]?(\d{4})(?!\w|-\d)"
)
_LANDLINE: Final = re.compile(
    r"(?<![\w+])(?:(?:\+|00)92[\s-]?|0)([124-9]\d{1,2})[\s-](\d{2,4})[\s-]?(\d{4})(?!\w|-\d)"
)
_VEHICLE: Final = re.compile(
    r"(?<![\w-])(?:(ICT)[-\s]?([A-Z]{1,2})[-\s]?(\d{1,4})"
    r"|([A-Z]{3})[-\s]?(?:(\d{2})[-\s])?(\d{3,4}))(?![\w]|-\d)"
)
# Three capitals and a number that are not number plates: ranks, agencies, money, laws.
_NOT_PLATES: Final = frozenset(
    (
        "FIA",
        "FIR",
        "ASI",
        "SHO",
        "DSP",
        "SSP",
        "DPO",
        "CPO",
        "RPO",
        "DIG",
        "IGP",
        "ASF",
        "CTD",
        "ACE",
        "NAB",
        "HRC",
        "PPC",
        "CRP",
        "PKR",
        "USD",
        "AED",
        "SAR",
        "GBP",
        "EUR",
        "RMB",
        "NIC",
        "MNA",
        "MPA",
        "UAE",
        "KSA",
        "USA",
        "CIA",
        "MSA",
        "PTI",
        "PML",
        "PPP",
        "MQM",
        "ANP",
        "JUI",
        "DHA",
        "LDA",
        "CDA",
        "KDA",
        "NGO",
        "ISI",
        "ATC",
        "CJP",
        "JAN",
        "FEB",
        "MAR",
        "APR",
        "MAY",
        "JUN",
        "JUL",
        "AUG",
        "SEP",
        "OCT",
        "NOV",
        "DEC",
        "AHT",
        "PIA",
    )
)
_DIGITS: Final = str.maketrans(
    {**{0x0660 + d: str(d) for d in range(10)}, **{0x06F0 + d: str(d) for d in range(10)}}
)


# --- extraction -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    kind: str
    start: int
    end: int
    key: str
    designation: str | None = None


def extract(text: str) -> list[Entity]:
    """Every entity in `text`, in order, none overlapping (the longest candidate wins)."""
    candidates = [*_patterns(text), *_from_tokens(text)]
    candidates.sort(key=lambda c: (c.start - c.end, _PRIORITY[c.kind], c.start))
    taken: list[_Candidate] = []
    for c in candidates:
        if (c.key or c.kind == "blocked") and all(
            c.end <= t.start or c.start >= t.end for t in taken
        ):
            taken.append(c)
    taken.sort(key=lambda c: c.start)
    return [
        Entity(c.kind, text[c.start : c.end], c.key, c.start, c.end, c.designation)
        for c in taken
        if c.kind != "blocked"
    ]


def key_for(kind: str, text: str) -> str | None:
    """The key a reviewer's own spelling of an entity matches under, or None if it is not one."""
    if kind not in KINDS:
        return None
    found = [e for e in extract(text) if e.kind == kind]
    if len(found) == 1 and found[0].end - found[0].start >= len(text.strip()) * 0.6:
        return found[0].key
    if kind == "person":
        return _name_key(_tokens(text)) or None
    if kind == "police_station":
        toks = [t for t in _tokens(text) if not _lexicons()["station"].match([t], 0)]
        return _name_key(toks) or None
    if kind in ("district", "agency"):  # as typed, so no capitals or cue are needed
        terms = _lexicons()[kind].entries.get(tuple(t.folded for t in _tokens(text)))
        return normalize(terms[0].value) if terms else normalize(text) or None
    if kind == "vehicle":
        return re.sub(r"[^A-Z0-9]", "", text.upper().translate(_DIGITS)) or None
    return None


def _patterns(text: str) -> Iterator[_Candidate]:
    folded, where = _fold(text)

    def span(m: re.Match[str]) -> tuple[int, int]:
        return where[m.start()], where[m.end() - 1] + 1

    for m in _CNIC.finditer(folded):
        yield _Candidate("cnic", *span(m), f"{m[1]}-{m[2]}-{m[3]}")
    for m in _MOBILE.finditer(folded):
        yield _Candidate("phone", *span(m), f"+92{m[1]}{m[2]}{m[3]}")
    for m in _LANDLINE.finditer(folded):
        number = f"{m[1]}{m[2]}{m[3]}"
        if 9 <= len(number) <= 10:
            yield _Candidate("phone", *span(m), f"+92{number}")
    for pattern in _DATES:
        for m in pattern.finditer(folded):
            key = _date_key(m)
            if key is not None:
                yield _Candidate("date", *span(m), key)
    for m in _VEHICLE.finditer(text.translate(_DIGITS)):
        if m[4] is not None and m[4] in _NOT_PLATES:
            continue
        yield _Candidate("vehicle", m.start(), m.end(), re.sub(r"[^A-Z0-9]", "", m.group()))


def _date_key(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    month = _MONTHS[groups["m"]] if groups.get("m") else int(groups["n"])
    day = int(groups["d"]) if groups.get("d") else None
    year: int | None = None
    if groups.get("y"):
        year = int(groups["y"])
        if year < 100:
            year += 2000 if year < 70 else 1900
    try:
        if year is not None and day is not None:
            return dt.date(year, month, day).isoformat()
        if year is not None:
            return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
        if day is not None:
            dt.date(2000, month, day)  # a leap year: 29 February is a day
            return f"--{month:02d}-{day:02d}"
    except ValueError:
        return None
    return None


def _from_tokens(text: str) -> Iterator[_Candidate]:
    toks = _tokens(text)
    lex = _lexicons()
    for i in range(len(toks)):
        for kind in ("district", "agency", "blocked"):
            # Shorter ones too: "FIA" stands if "FIA Immigration" loses to "Immigration Officer X".
            if toks[i].folded not in lex[kind].starts:
                continue
            for n, term in lex[kind].matches(toks, i):
                yield _Candidate(kind, toks[i].start, toks[i + n - 1].end, normalize(term.value))
        station = _station(toks, i)
        if station is not None:
            yield station[0]
        rank = lex["rank"].match(toks, i)
        if rank is not None:
            person = _person(toks, i, *rank)
            if person is not None:
                yield person


def _station(toks: list[_Token], i: int) -> tuple[_Candidate, int] | None:
    """A police station named after (or, in English, before) its keyword at i; and its end."""
    found = _lexicons()["station"].match(toks, i)
    if found is None:
        return None
    n = found[0]
    after = _name_end(toks, i + n, station=True)
    before = _name_start(toks, i, station=True)
    latin_before = before < i and toks[i].latin and toks[before].latin
    if latin_before and (after == i + n or toks[i].folded == "police"):
        return _Candidate(
            "police_station",
            toks[before].start,
            toks[i + n - 1].end,
            _name_key(toks[before:i]),
        ), i + n
    if after > i + n:
        cand = _Candidate(
            "police_station", toks[i].start, toks[after - 1].end, _name_key(toks[i + n : after])
        )
        return cand, after
    if before < i and toks[i].urdu:  # "صدر تھانے": a known station word before
        cand = _Candidate(
            "police_station", toks[before].start, toks[i + n - 1].end, _name_key(toks[before:i])
        )
        return cand, i + n
    return None


def _person(toks: list[_Token], i: int, n: int, term: _Term) -> _Candidate | None:
    """A person named right after the rank at i (or after a station there), or before it."""
    j = i + n
    while j < len(toks) and toks[j].folded == ".":
        j += 1
    start = toks[i].start
    if j < len(toks) and toks[j].urdu and (station := _station(toks, j)) is not None:
        j = station[1]  # "ایس ایچ او تھانہ صدر رانا طارق": the name is after the station
        start = -1
    end = _name_end(toks, j, station=False)
    if end > j:
        if start < 0:
            start = toks[j].start
        return _Candidate("person", start, toks[end - 1].end, _name_key(toks[j:end]), term.value)
    # "the agent, Haji Bashir, paid": a name of two words or more between commas
    if j < len(toks) and toks[j].folded == ",":
        end = _name_end(toks, j + 1, station=False)
        if end - j > 2 and end < len(toks) and toks[end].folded in (",", "."):
            return _Candidate(
                "person",
                toks[j + 1].start,
                toks[end - 1].end,
                _name_key(toks[j + 1 : end]),
                term.value,
            )
    # "Rana Tariq, the SHO" / "Rana Tariq (SHO)"
    k = i - 1
    if k >= 0 and toks[k].folded == "the":
        k -= 1
    if k >= 1 and toks[k].folded in (",", "(") and toks[k - 1].latin:
        begin = _name_start(toks, k, station=False)
        if begin < k:
            return _Candidate(
                "person",
                toks[begin].start,
                toks[k - 1].end,
                _name_key(toks[begin:k]),
                term.value,
            )
    return None


def _is_word(toks: list[_Token], k: int, *, first: bool) -> bool:
    """Whether token k may be part of a name (of a person, or of a police station)."""
    tok, lex = toks[k], _lexicons()
    if tok.punct or tok.folded.isdigit():
        return False
    if tok.folded in _names() and tok.folded not in lex["agency"].starts:
        pass  # a name word, even if some rank or place begins with it ("Rahim", "Mandi")
    elif any(lex[kind].match(toks, k) for kind in ("rank", "station", "agency")):
        return False
    if not first and lex["district"].match(toks, k):
        return False
    if tok.latin:
        return tok.capital and tok.folded not in _stopwords()
    return tok.urdu and tok.folded not in _stopwords()


def _name_end(toks: list[_Token], j: int, *, station: bool) -> int:
    """Where a name starting at token j ends (j itself if there is none)."""
    k, count = j, 0
    latin = j < len(toks) and toks[j].latin
    most = 3 if station or not latin else 4
    while k < len(toks) and count < most:
        tok = toks[k]
        if tok.folded == "." and latin and count and len(toks[k - 1].folded) <= 2:
            k += 1  # "Ch. Aslam"
            continue
        if tok.latin != latin or not _is_word(toks, k, first=count == 0):
            break
        if not latin and not _urdu_name_word(toks, k, first=count == 0, station=station):
            break
        k += 1
        count += 1
    while k > j and toks[k - 1].folded == ".":
        k -= 1
    return k if count else j


def _urdu_name_word(toks: list[_Token], k: int, *, first: bool, station: bool) -> bool:
    """Urdu has no capitals: a word is a name's if it is a known name word, or a name ends next."""
    names = _station_words() if station else _names()
    if toks[k].folded in names:
        return True
    following = toks[k + 1] if k + 1 < len(toks) else None
    if station:
        return first or following is None or following.punct or following.folded in _stopwords()
    ends = following is None or following.punct or following.folded in _UR_ENDERS
    return ends or (first and following is not None and following.folded in names)


def _name_start(toks: list[_Token], k: int, *, station: bool) -> int:
    """Where a name ending just before token k starts (k itself if there is none)."""
    j = k
    names = _station_words() if station else _names()
    while j > 0 and k - j < 4:
        tok = toks[j - 1]
        if tok.folded == "." and j > 1 and toks[j - 2].latin and len(toks[j - 2].folded) <= 2:
            j -= 1  # "Ch. Aslam"
            continue
        if not _is_word(toks, j - 1, first=True) or (tok.urdu and tok.folded not in names):
            break
        j -= 1
    return j


def _name_key(toks: list[_Token] | tuple[_Token, ...]) -> str:
    names = {**_station_words(), **_names()}
    words = [
        names.get(t.folded, t.folded) for t in toks if not t.punct and t.folded not in _HONORIFICS
    ]
    return " ".join(words)


def canonical_name(kind: str, phrase: str) -> str | None:
    """The canonical name of the district or agency that the whole of `phrase` spells, if known."""
    lexicon = _lexicons()[kind]
    tokens = _fold_phrase(phrase)
    for form in (tokens, ("".join(tokens),)):
        for term in lexicon.entries.get(form, ()):
            return term.value
    return None
