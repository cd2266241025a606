"""Report text folded once for entity matching: tokens, offsets back to the text, lexicon hits.

Folding is `review.analysis.folding`. The gazetteers in `review/data/` are
compiled into one Aho-Corasick automaton (pyahocorasick), so every lexicon phrase
in a text is found in one linear scan, whatever the number of phrases or of matches.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Final

import ahocorasick

from review.analysis.entity_patterns import MONTHS
from review.analysis.folding import fold
from review.workspace.search import normalize

# Words, joined by hyphens and apostrophes ("Sub-Inspector", "D'Souza") but not by a
# possessive ("FIA's"), nor a station's keyword by a hyphen to its name ("PS-Saddar",
# "Thana-Saddar", as FIRs write them), and single marks. The hyphen is matched before the
# look-behinds are asked (after it): a word's end not at a hyphen asks none.
TOKEN: Final = re.compile(
    r"\w+(?:(?:-(?<!\bps-)(?<!\bthana-)(?<!\bthane-)|['\u2019](?!s\b))\w+)*|[^\w\s]"
)


def has_digit(word: str) -> bool:
    """Whether a word holds a digit (a word all of letters holds none: asked first, in C)."""
    return not word.isalpha() and any(c.isdigit() for c in word)


def fold_phrase(phrase: str) -> tuple[str, ...]:
    """A phrase's folded tokens."""
    return tuple(TOKEN.findall(normalize(phrase)))


# --- gazetteers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One spelling of a lexicon entry and the conditions under which it counts."""

    kind: str
    value: str  # the canonical name
    size: int  # its length in tokens
    acronym: bool = False  # must be written in capitals
    proper: bool = False  # must be written capitalised
    cue: bool = False  # an everyday word too: needs "district"/ضلع or the like beside it

    @functools.cached_property
    def key(self) -> str:
        """The canonical name folded: the key of the entity it names."""
        return normalize(self.value)


def data(name: str) -> Iterator[str]:
    """The non-comment lines of a file in `review/data/`."""
    text = resources.files("review").joinpath("data", name).read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def _lines(name: str) -> Iterator[str]:
    """A lexicon file's entries; a town's (`towns.txt`) without the district before its ":"."""
    for line in data(name):
        yield line.partition(":")[2] if name in _PLACED_FILES else line


@functools.cache
def towns() -> dict[str, str]:
    """Each town's key (its canonical name folded) to its district's key (`data/towns.txt`)."""
    out = {}
    for name in _PLACED_FILES:
        for line in data(name):
            district, _, spellings = line.partition(":")
            out[normalize(spellings.split("|")[0].strip().lstrip("?~"))] = normalize(district)
    return out


@functools.cache
def localities() -> frozenset[str]:
    """The keys of a city's localities (`data/localities.txt`): towns for keying stations
    and setting reports, never district entities of their own."""
    return frozenset(
        normalize(line.partition(":")[2].split("|")[0].strip().lstrip("?~"))
        for line in data("localities.txt")
    )


_PLACED_FILES: Final = ("towns.txt", "localities.txt")


@functools.cache
def station_namesakes() -> dict[str, frozenset[str]]:
    """Each town's or district's key to the districts of the cities with a police station of
    its name (`data/station_namesakes.txt`): Sadiqabad to Rawalpindi."""
    out: dict[str, set[str]] = {}
    for line in data("station_namesakes.txt"):
        city, _, name = line.partition(":")
        out.setdefault(normalize(name.strip()), set()).add(normalize(city))
    return {name: frozenset(cities) for name, cities in out.items()}


@functools.cache
def station_homes() -> dict[str, str]:
    """Each station name found in one city only to that city's district key: the names in
    a block of `data/stations.txt` that opens with "#> District" and closes with "#>"."""
    text = resources.files("review").joinpath("data", "stations.txt").read_text("utf-8")
    out: dict[str, str] = {}
    home = ""
    for line in text.splitlines():
        if line.startswith("#>"):
            home = normalize(line[2:].strip())
        elif home and line.strip() and not line.startswith("#"):
            out[normalize(line.split("|")[0].strip().lstrip("?~"))] = home
    return out


@functools.cache
def wings() -> dict[str, str]:
    """Each agency wing's key to its agency's (`data/agency_wings.txt`)."""
    pairs = (line.split(">") for line in data("agency_wings.txt") if ">" in line)
    return {normalize(wing): normalize(agency) for wing, agency in pairs}


@functools.cache
def provinces() -> dict[str, str]:
    """Each district's and town's key to its province's or region's (`data/districts.txt`'s
    sections): the four provinces, Islamabad, Azad Kashmir and Gilgit-Baltistan, each with
    a police force named for it ("Punjab Police", "AJK Police").
    """
    text = resources.files("review").joinpath("data", "districts.txt").read_text("utf-8")
    out, province = {}, ""
    for line in text.splitlines():
        if line.startswith("# ") and len(line.split()) <= 8 and "." not in line:
            # a section: "# Punjab", "# Khyber Pakhtunkhwa", "# Azad Kashmir"
            province = "" if "," in line else normalize(line[2:])
        elif line.strip() and not line.startswith("#") and province:
            out[normalize(line.split("|")[0].strip().lstrip("?~"))] = province
    for town, district in towns().items():
        if district in out:
            out[town] = out[district]
    return out


def _terms(kind: str, name: str, *, proper: bool) -> Iterator[tuple[str, Term]]:
    """Read a data file: lines of `canonical | variant | …`; '?' and '~' mark variants."""
    for line in _lines(name):
        variants = [v.strip() for v in line.split("|") if v.strip()]
        canonical = variants[0].lstrip("?~")
        for variant in variants:
            cue, anycase = variant.startswith("?"), variant.startswith("~")
            written = variant.lstrip("?~")
            latin = written.isascii()
            acronym = latin and written.isupper() and len(written.replace(".", "")) <= 6
            tokens = fold_phrase(written)
            forms = {" ".join(tokens), normalize(written)}
            if latin and "." in written:  # "D.I. Khan" is written "D.I.Khan" too
                forms.add(normalize(written).replace(". ", "."))
            if latin and kind == "district":
                forms |= _latin_apart(tokens)
                if len(tokens) > 1 and all(t.isalpha() for t in tokens):
                    forms.add("-".join(tokens))  # "Toba-Tek-Singh", "Kot-Addu": one token
            if not latin:
                forms |= {"".join(tokens)}
                if kind == "district":
                    forms |= {" ".join(fold_phrase(v)) for v in _urdu_spellings(written)}
                elif kind == "agency":
                    forms |= {_gol_he(f) for f in forms}
            for form in forms:
                yield (
                    form,
                    Term(
                        kind,
                        canonical,
                        len(TOKEN.findall(form)),
                        acronym=acronym and not anycase,
                        proper=latin and proper and not acronym and not anycase,
                        cue=cue,
                    ),
                )


# Endings of place names that Latin letters write apart too ("Bahawal Pur", "Sheikhu Pura",
# "Sial Kot"), as Urdu does (below); only after three letters or more, so that no
# short word is split off ("Kot" itself, "Tando").
# Not "wala", "wali": "Arif wala", "bure wala" are "Arif's", "the bad one". Nor where the
# part before the ending is a name ("Khan pur", "Ali abad"): "Imran Khan pur" may be "on".
_LATIN_ENDINGS: Final = ("abad", "pura", "pur", "garh", "nagar", "kot")


def _latin_apart(tokens: tuple[str, ...]) -> set[str]:
    """A place's name with its last word's ending written apart ("bahawal pur")."""
    last = tokens[-1] if tokens else ""
    people = words("names.txt")
    return {
        " ".join((*tokens[:-1], head, e))
        for e in _LATIN_ENDINGS
        if last.endswith(e)
        and last.isalpha()
        and len(head := last[: -len(e)]) >= 3
        and head not in people
    }


# Endings of Urdu place names written joined or apart ("بہاولپور", "بہاول پور").
_URDU_ENDINGS: Final = ("آباد", "اباد", "پور", "والا", "والہ", "گڑھ", "کوٹ", "نگر")
# Letters written for one another in Urdu place names: do-chashmi he as gol he
# ("سرگودھا", "سرگودہا"), alef madda as alef ("آباد", "اباد").
_URDU_SWAPS: Final = (("\u06be", "\u06c1"), ("\u0622", "\u0627"))
_HE, _ALEF = "\u06c1", "\u0627"
# Gol he inside a word, which writers type as do-chashmi he as often ("ڈہرکی", "ڈھرکی").
_MEDIAL_HE: Final = re.compile(r"(?<=\w)\u06c1(?=\w)")
# Fewest letters of a name whose final he is written alef too ("گوجرانوالہ", "گوجرانوالا"):
# not a short one, where that makes another word (لیہ, Layyah; لیا, "took").
_FINAL_HE: Final = 5
# Khan, ending a place's name, written with its nasal noon as often as not: خان, خاں.
_KHAN, _KHAN_NASAL = "خان", "خاں"


def _gol_he(form: str) -> str:
    """A folded Urdu form with do-chashmi he typed as the Arabic he, which folds to gol he
    ("تهانہ", "سنده پولیس"): keyboards without Urdu's letter write it so."""
    return form.replace("\u06be", _HE)


def _urdu_spellings(written: str) -> set[str]:
    """An Urdu place name's other common spellings: endings joined or apart, do-chashmi he
    written gol he and gol he inside a word do-chashmi he, alef madda written alef, a long
    name's final he written alef, and a final Khan with its nasal noon."""
    out = {written}
    for a, b in _URDU_SWAPS:
        out |= {v.replace(a, b) for v in out}
    out |= {_MEDIAL_HE.sub("\u06be", v) for v in out}  # "ڈہرکی" typed "ڈھرکی"
    for v in list(out):
        for ending in _URDU_ENDINGS:
            joined, apart = v.replace(" " + ending, ending), None
            if v.endswith(ending) and not v.endswith(" " + ending) and len(v) - len(ending) >= 2:
                apart = v[: -len(ending)] + " " + ending
            out |= {joined} | ({apart} if apart else set())
    for v in list(out):
        if v.endswith(_HE) and len(v.replace(" ", "")) >= _FINAL_HE:
            out.add(v[:-1] + _ALEF)
        if v.endswith(_KHAN) and len(v) > len(_KHAN):
            out.add(v[: -len(_KHAN)] + _KHAN_NASAL)  # "رحیم یار خاں", "ڈیرہ اسماعیل خاں"
    return out


# Words that begin a police station's name ("Police Station Saddar", "تھانہ صدر").
STATION_WORDS: Final = (
    "police station",
    "PS",
    "P.S",
    "thana",
    "thanna",
    "thaana",
    "thane",  # Roman Urdu's oblique: "civil lines thane ka SHO", "thane gaye"
    "thanay",
    "thaney",
    "ps",  # Roman Urdu in lower case: "ps saddar"; a name only beside it
    "p.s",
    "P/S",  # "P/S Saddar", as forms write it
    "police thana",  # one station, not the police and a station
    "police thane",
    "police chowki",  # not "chowki" alone: "FC ki chowki" is a check post
    "police post",
    "پولیس چوکی",
    "پولیس پوسٹ",
    "تھانہ",
    "تھانے",
    "تھانا",
    "پولیس اسٹیشن",
    "پولیس سٹیشن",
)
# Of those, the words of a police post (a chowki): a unit under a thana, of the thana's name
# or the place it guards, and not the thana ("Airport police post" beside "Thana Airport").
POST_WORDS: Final = frozenset(("police chowki", "police post", "پولیس چوکی", "پولیس پوسٹ"))
# Longer phrases that hold a district's name but are not districts.
_BLOCKED: Final = (
    "Khyber Pakhtunkhwa",
    "خیبر پختونخوا",
    "خیبر پختونخواہ",
    "Allama Iqbal International Airport",
    "Allama Iqbal Town",
    "Iqbal Town",
    "Jinnah International Airport",
    "Benazir Bhutto International Airport",
    "Benazir Income Support",
    "Quaid-e-Azam",
    "Quaid e Azam",
    "Liaquat Bagh",
    "Nishtar Hospital",
    "Jinnah Hospital",
    "Mayo Hospital",
    "Karachi Company",  # Islamabad's G-9 market and its station
    "کراچی کمپنی",
    "علامہ اقبال انٹرنیشنل ایئرپورٹ",
    "علامہ اقبال ٹاؤن",
    "قائداعظم",
)


@functools.cache
def lexicon() -> dict[str, list[Term]]:
    """Every folded spelling of each district or town, agency, rank, station word, blocked term."""
    entries: dict[str, list[Term]] = {}

    def add(form: str, term: Term) -> None:
        if term not in entries.setdefault(form, []):
            entries[form].append(term)

    for kind, name, proper in (
        ("district", "districts.txt", True),
        ("district", "towns.txt", True),
        ("district", "localities.txt", True),
        ("agency", "agencies.txt", True),
        ("rank", "ranks.txt", False),
    ):
        for form, term in _terms(kind, name, proper=proper):
            add(form, term)
    for p in STATION_WORDS:
        acronym = p.replace(".", "").isupper()
        forms = {" ".join(fold_phrase(p)), normalize(p)}
        for form in forms | {_gol_he(f) for f in forms}:
            add(form, Term("station", p, len(TOKEN.findall(form)), acronym=acronym))
    for month in MONTHS:  # only to know whether to look for dates at all
        add(month, Term("month", month, 1))
    for p in _BLOCKED:
        form = " ".join(fold_phrase(p))
        add(form, Term("blocked", p, len(TOKEN.findall(form))))
    return entries


@functools.cache
def automaton() -> ahocorasick.Automaton:
    """The lexicon compiled for one-pass matching."""
    auto = ahocorasick.Automaton()
    for form, terms in lexicon().items():
        # By their length in tokens, each with whether it holds wherever it matches.
        sized: dict[int, list[tuple[Term, bool]]] = {}
        for term in terms:
            plain = not (term.acronym or term.proper or term.cue)
            sized.setdefault(term.size, []).append((term, plain))
        # (its length less one: where it ends, less that, is where it starts)
        auto.add_word(form, (len(form) - 1, {n: tuple(ts) for n, ts in sized.items()}))
    auto.make_automaton()
    return auto


@functools.cache
def words(name: str) -> dict[str, str]:
    """Each spelling of a name word (folded) to its canonical Latin spelling (folded)."""
    out: dict[str, str] = {}
    for line in data(name):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        canonical = normalize(variants[0])
        for variant in variants:
            for token in fold_phrase(variant):
                out.setdefault(token, canonical)
    return out


@functools.cache
def weak_words(name: str) -> frozenset[str]:
    """Spellings marked '?' in a word list: everyday words that are names only beside a name."""
    return frozenset(
        token
        for line in data(name)
        for v in line.split("|")
        if v.strip().startswith("?")
        for token in fold_phrase(v.strip()[1:])
    )


@functools.cache
def word_set(name: str) -> frozenset[str]:
    """The folded words of a file of words (any number a line)."""
    return frozenset(normalize(w) for line in data(name) for w in line.split())


# --- one text ---------------------------------------------------------------------------------

_size: Final = operator.attrgetter("size")


def _tokens(folded: str) -> tuple[list[int], list[int], list[str]]:
    """`TOKEN`'s matches in folded text: where each starts and ends, and its words.

    A text of letters and digits alone between single spaces is its words split at the
    spaces, each a whole `TOKEN` match (`str.isalnum` is `\\w` but for "_", and an empty
    piece, of a space leading, trailing or doubled, is no word); its offsets are the
    lengths summed, with no scan of the pattern's.
    """
    # (a text with a mark fails at it, before it is split)
    if folded.replace(" ", "").isalnum() and all(map(str.isalnum, pieces := folded.split(" "))):
        lengths = list(map(len, pieces))
        starts = list(itertools.accumulate(map((1).__add__, lengths[:-1]), initial=0))
        return starts, list(map(operator.add, starts, lengths)), pieces
    matches = list(TOKEN.finditer(folded))
    return (
        list(map(re.Match.start, matches)),
        list(map(re.Match.end, matches)),
        list(map(re.Match.group, matches)),
    )


class Doc:
    """A text, folded once: its tokens, their offsets in the text, and the lexicon's hits."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded, where = fold(text)
        self.folded = folded
        self.where = where
        # Every per-token list is built by C-level maps: no Python loop over the tokens.
        fstarts, fends, self.words = _tokens(folded)
        self.size = len(self.words)  # `len(doc)`, read as often as a token is: no call
        if isinstance(where, range):
            self.starts, self.ends = fstarts, fends
        else:
            self.starts = list(map(where.__getitem__, fstarts))
            self.ends = [*map((1).__add__, map(where.__getitem__, map((-1).__add__, fends)))]
        hits: dict[int, list[Term]] = {}
        self.hits = hits
        # Each token by where its first character is, and the one after it by where its last
        # is: the automaton gives where a match's last character is, and its length less one.
        first = dict(zip(fstarts, range(len(fstarts)), strict=True)).get
        past = dict(zip(map((-1).__add__, fends), range(1, len(fends) + 1), strict=True)).get
        cued: list[tuple[int, Term]] = []
        rank_ends: set[int] = set()
        months: list[int] = []  # where months' names begin in the folded text
        for end, (back, sized) in automaton().iter(folded):
            i = first(end - back)
            j = past(end)  # the token after the match's last
            if i is None or j is None:
                continue  # inside a word
            for term, plain in sized.get(j - i, ()):
                if plain or self.fits(term, i):
                    if i in hits:
                        hits[i].append(term)
                    else:
                        hits[i] = [term]
                    if term.kind == "rank":
                        rank_ends.add(j)
                    elif term.kind == "month":
                        months.append(end - back)
                elif term.cue:
                    cued.append((i, term))
        self.months = months
        for i, term in cued:  # "ڈی پی او قصور": an office's rank is a cue too, unless
            # the place is a family's name as well: "SHO jatoi" is a man, Jatoi a surname
            office = i in rank_ends and not (term.size == 1 and self.words[i] in words("names.txt"))
            if office or (term.kind == "district" and self._listed(i, i + term.size)):
                hits.setdefault(i, []).append(term)
        self.inside: set[int] = set()  # tokens inside a hit, past its first
        # and `of_kind`'s tables, every kind's, in the same pass over the hits
        kinds: dict[str, dict[int, Term]] = {}
        for i, found in hits.items():
            if len(found) > 1:
                found.sort(key=_size, reverse=True)  # stable: the longest first, else in order
            if found[0].size > 1:
                self.inside.update(range(i + 1, i + found[0].size))
            for term in found:
                table = kinds.get(term.kind)
                if table is None:
                    kinds[term.kind] = {i: term}
                elif i not in table:
                    table[i] = term
        self._kinds = kinds

    def __len__(self) -> int:
        return len(self.words)

    def raw(self, i: int, j: int | None = None) -> str:
        """The text as written of tokens i (to j, exclusive)."""
        return self.text[self.starts[i] : self.ends[(i + 1 if j is None else j) - 1]]

    def punct(self, i: int) -> bool:
        """Whether token i is a mark."""
        c = self.words[i][0]
        return not (c.isalnum() or c == "_")

    def latin(self, i: int) -> bool:
        """Whether token i is in Latin letters."""
        c = self.words[i][0]
        return c.isascii() and c.isalpha()

    def urdu(self, i: int) -> bool:
        """Whether token i is in Arabic-script letters."""
        c = self.words[i][0]
        return "\u0600" <= c <= "\u06ff" and c.isalpha()

    def capital(self, i: int) -> bool:
        """Whether token i is written capitalised."""
        return self.text[self.starts[i]].isupper()

    def fits(self, term: Term, i: int) -> bool:
        """Whether a lexicon term matched at token i holds where it stands."""
        if not (term.acronym or term.proper or term.cue):
            return True
        raw = self.text[self.starts[i] : self.ends[i + term.size - 1]]
        if term.acronym and raw != raw.upper():
            return False
        # "SWAT" is a police team, not Swat; "LAHORE", "DADU", as forms and FIRs write
        # them, are the places: a district's name of four letters or more
        if (
            term.proper
            and len(raw) > 1
            and raw.isupper()
            and (
                term.kind != "district"
                or sum(c.isalpha() for c in raw) < _CAPITALS
                or term.key in _NOT_IN_CAPITALS
            )
        ):
            return False
        if term.proper and term.kind != "district" and not raw[:1].isupper():
            return False  # "customs" may be anything; a district is one in Roman Urdu too
        if term.cue:
            if raw.islower() and i > 0 and self.words[i - 1] in _THINGS_BEFORE:
                return False  # "the water tank near Thana City": no Tank district
            named = words("names.txt")
            if term.size == 1 and self.words[i] in named and i > 0 and self.words[i - 1] in named:
                return False  # "غلام مصطفیٰ جتوئی تھانہ ...": Jatoi the man's surname, no town
            near = (i - 2, i - 1, i + term.size, i + term.size + 1)
            if any(0 <= k < len(self.words) and self.words[k] in CUES for k in near):
                return True
            return self._placed(i, i + term.size) or self._capitalised(term, i, raw)
        return True

    def _capitalised(self, term: Term, i: int, raw: str) -> bool:
        """Whether a place name that is an everyday word too stands capitalised inside an
        English or Roman Urdu sentence, alone: "boys from Hub", "a kiln near Samundri"."""
        if term.size != 1 or term.key not in _CAPITALISED_PLACES or not raw[:1].isupper():
            return False
        before, after = i - 1, i + 1
        if before < 0 or not self.latin(before) or self.capital(before):
            return False  # first in its sentence, or a word of a longer name ("Tank Road")
        return after >= len(self.words) or not (self.latin(after) and self.capital(after))

    def _listed(self, i: int, j: int) -> bool:
        """Whether tokens i..j stand in a list of places, beside another district or town
        with "and", "or" or a comma between: "سوات اور دیر", "Swat, Dir"."""
        if i > 0 and self.words[i - 1] in _NOT_PLACE_BEFORE:
            return False  # "بہت دیر اور لاہور": "very late"
        hits = self.hits
        k = j
        while k < len(self.words) and k - j < 2 and self.words[k] in _BETWEEN_PLACES:
            k += 1
        if k > j and any(t.kind == "district" for t in hits.get(k, ())):
            return True
        k = i - 1
        while k >= 0 and i - k <= 2 and self.words[k] in _BETWEEN_PLACES:
            k -= 1
        if k < i - 1:
            for s in range(max(0, k - 3), k + 1):
                if any(t.kind == "district" and s + t.size - 1 == k for t in hits.get(s, ())):
                    return True
        return False

    def _placed(self, i: int, j: int) -> bool:
        """Whether Urdu words i..j stand as a place: "قصور کے بھٹے", not "میرا قصور"."""
        if j >= len(self.words) or self.words[j] not in _PLACE_AFTER:
            return False
        return i == 0 or self.words[i - 1] not in _NOT_PLACE_BEFORE

    def hit(self, i: int, kind: str) -> Term | None:
        """The longest term of a kind matched at token i."""
        table = self._kinds.get(kind)
        return None if table is None else table.get(i)

    @functools.cached_property
    def vocabulary(self) -> frozenset[str]:
        """The text's words, each once: a word list's words the text holds are found by an
        intersection that walks the smaller of the two, not every token of the text."""
        return frozenset(self.words)

    @functools.cached_property
    def district_keys(self) -> frozenset[str]:
        """The keys of the districts and towns the text names."""
        return frozenset(t.key for t in self.of_kind("district").values())

    @functools.cached_property
    def seats(self) -> frozenset[str]:
        """The districts the text names, a town counted as the district it lies in."""
        return frozenset(towns().get(key, key) for key in self.district_keys)

    def of_kind(self, kind: str) -> dict[int, Term]:
        """Each token where a term of a kind matched, to the longest one, in `hits`' order."""
        table = self._kinds.get(kind)
        if table is None:
            table = self._kinds[kind] = {}  # no term of the kind matched
        return table


# Places whose names are everyday words only in lower case (Hub, Tank) or in Urdu letters:
# capitalised inside a sentence, each is the place. Not those that are names of people
# (Mehar, Zehri), English words (Chamber) or endings of localities' names (Bagh, Nagar).
_CAPITALISED_PLACES: Final = frozenset(
    (
        *("hub", "tank", "ziarat", "samundri", "digri", "mithi", "tangi", "sadda", "wari"),
        *("kech", "jati", "bhag", "mach"),
    )
)
# Fewest letters of a district's name written in capitals that is the place ("DADU")...
_CAPITALS: Final = 4
# ... but for those whose capitals spell something else: SWAT is a police team.
_NOT_IN_CAPITALS: Final = frozenset(("swat",))
# Between two places of a list: "Swat and Dir", "سوات اور دیر". Not "from … to": "لاہور سے
# دیر تک" is "from Lahore till late".
_BETWEEN_PLACES: Final = frozenset(
    normalize(w) for w in (",", "،", "and", "aur", "or", "اور", "یا")
)
# Words that say "this is a place" beside a place name that is also an everyday word.
CUES: Final = frozenset(
    normalize(w)
    for w in (
        "district",
        "city",
        "tehsil",
        "division",
        "zila",
        "zilla",
        "ضلع",
        "شہر",
        "تحصیل",
        "ڈویژن",
        "ڈسٹرکٹ",
        "thana",
        "تھانہ",
        "تھانے",
        "station",
        "ps",
        # a border crossing, a valley, a tribal agency: "Chaman border", "چمن بارڈر",
        # "Kurram valley", "کرم ایجنسی"
        "border",
        "بارڈر",
        "valley",
        "وادی",
        "agency",
        "ایجنسی",
    )
)
# After an Urdu place name that is an everyday word too: "of", "in", "from" ("قصور کے",
# "قصور کا ایک آدمی"); the everyday word takes them after a possessive (below), not alone.
_PLACE_AFTER: Final = frozenset(normalize(w) for w in ("کے", "کا", "کی", "میں", "سے"))
# Before it, words that make it the everyday word: "میرا قصور" is "my fault".
# Words before a place's name that is an everyday English word too, in lower case, that
# make it the thing: "the water tank", "a fuel tank", "the swat team".
_THINGS_BEFORE: Final = frozenset(
    ("the", "a", "an", "this", "that", "water", "fuel", "oil", "petrol", "diesel", "gas")
)
_NOT_PLACE_BEFORE: Final = frozenset(
    normalize(w)
    for w in (
        "میرا",
        "میری",
        "تیرا",
        "تیری",
        "ہمارا",
        "ہماری",
        "اس",
        "ان",
        "کس",
        "کیا",
        "کوئی",
        "کسی",
        "کا",
        "کی",
        "بے",
        "بڑا",
        "یہ",
        "وہ",
        "بہت",  # "بہت دیر سے": "for a long time"
        "کافی",
        "تھوڑی",
        "زیادہ",
        "جلد",
    )
)


def rank_spelt(words: str) -> str | None:
    """The rank, as ranks.txt writes it, that `words` spell ("ایس ایچ او", "sho": SHO)."""
    form = " ".join(fold_phrase(words))
    return next((t.value for t in lexicon().get(form, ()) if t.kind == "rank"), None)


def spells_rank(words: str, rank: str) -> bool:
    """Whether `words` are a spelling of `rank` in ranks.txt ("اے ایس آئی" of ASI)."""
    form = " ".join(fold_phrase(words))
    return any(t.kind == "rank" and t.value == rank for t in lexicon().get(form, ()))


# Words in double quotation marks, straight, curly or angled (U+201C and U+201D, U+00AB and
# U+00BB, U+201E before either curly one), within one line: a mark left open quotes nothing.
# Single marks are left out, as an apostrophe is one too ("the complainant's son"). No
# quotation holds its own opening mark, so a line of opening marks closed by none is read
# once, not to its end from each (which took 3 to 14 s for 20,000 of them).
_QUOTATION: Final = re.compile(
    r'"[^"\n]+"|\u201c[^\u201c\u201d\n]+\u201d|\u00ab[^\u00ab\u00bb\n]+\u00bb'
    r"|\u201e[^\u201e\u201c\u201d\n]+[\u201c\u201d]"
)


def quotations(text: str) -> list[tuple[int, int]]:
    """Where `text` quotes another's words in quotation marks: an FIR's line, what an agent
    said or wrote. What is quoted is no one's own words: not the writer's phrasing, which
    two writers quoting one FIR share (`copies`), nor a number the writer gives as theirs
    ("he said: \"... my number is ...\"", `contacts`)."""
    return [m.span() for m in _QUOTATION.finditer(text)]
