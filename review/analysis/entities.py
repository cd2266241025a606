"""Entities in report text (Urdu, English, Roman Urdu): people, stations, places, numbers, days.

Hand-written rules over gazetteers kept as package data (`review/data/`): no
model and nothing fetched, since the review workstation is offline. People are
found by a rank, designation or kinship word next to a name ("SHO Rana Tariq",
"Rana Tariq SHO", "اے ایس آئی محمد اسلم", "the agent Bashir"), by the names
list alone ("Haji Bashir Ahmed", "محمد اسلم نے"), or by the phrase round a name ("main
sana hun", "jise sab kaka kehte hain", "urf sajju"); police stations by "police
station"/"thana"/تھانہ next to a name; districts and agencies from lists; CNIC,
phone, vehicle and date by their shape (`review.analysis.entity_patterns`). The text is
folded once and the gazetteers matched in one pass (`review.analysis.entity_text`); what
makes a name is in `review.analysis.entity_names`.

Each entity keeps the text as written and its offsets, and gets a `key` under
which the same thing matches across reports and scripts. A person's span and key
are the name alone (titles that are part of a name, like Haji or Chaudhry,
included); the rank goes in `designation`. Names and places are folded with
`review.workspace.search.normalize` and mapped through the name lists (a cited table of
Urdu and Latin spellings, `review/data/names.txt`), so "Ch. Aslam" and "چوہدری
اسلم" share one key. A police station's key is `<station>/<district>` when a
district is written near it (`saddar/kasur`), or else is the report's own (that of
its other stations, or its first, named before the station), else `<station>` alone.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import gc
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

from review.analysis import (
    contacts,
    denials,
    designations,
    entity_patterns,
    grades,
    hearsay,
    homes,
    links,
    namesakes,
    numbers,
    parentage,
)
from review.analysis.entity_names import (
    COPULAS,
    SENTENCE_ENDS,
    common_words,
    is_name,
    key_of,
    known,
    name_end,
    name_key,
    name_start,
    names,
    people_by_cue,
    people_by_name,
    place_words,
    roman_unlisted,
    sound,
    spellings,
    station_key,
    station_words,
    stopwords,
    titles,
    urdu_name_word,
)
from review.analysis.entity_text import (
    POST_WORDS,
    Doc,
    Term,
    fold_phrase,
    has_digit,
    lexicon,
    localities,
    provinces,
    station_homes,
    station_namesakes,
    towns,
    weak_words,
    wings,
)
from review.analysis.folding import fold_letters
from review.workspace.search import normalize

KINDS: Final = (
    "person",
    "police_station",
    "district",
    "agency",
    "cnic",
    "phone",
    "vehicle",
    "date",
    entity_patterns.REFERENCE,
)
# When two candidates overlap and are as long, the earlier kind wins.
# "blocked" is a phrase that holds a name but is no entity ("Khyber Pakhtunkhwa").
# A misspelt place ("misspelt", keyed as a district once chosen) wins over a person of the
# same span: it sounds as one place alone and as no listed name ("Bahawalpor se").
_MISSPELT_PLACE: Final = "misspelt"
# A settlement's name read as a man's after a rank ("sho kot lakhpat ne", "ایس ایچ او بستی
# ملوک نے"): no entity, but it keeps the name inside it from being one; any place of the
# same span wins over it.
_SETTLEMENT: Final = "settlement"
_PRIORITY: Final = {
    kind: i
    for i, kind in enumerate(
        ("blocked", "cnic", "phone", "date", "vehicle", _MISSPELT_PLACE, *KINDS, _SETTLEMENT)
    )
}
_NO_ENTITY: Final = frozenset(("blocked", _SETTLEMENT))


@dataclass(frozen=True)
class Entity:
    """One mention: its kind, the text as written, its matching key, where it is, and a rank."""

    kind: str
    text: str
    key: str
    start: int
    end: int
    designation: str | None = None


class _Candidate(NamedTuple):
    kind: str
    start: int
    end: int
    key: str
    designation: str | None = None


def extract(text: str) -> list[Entity]:
    """Every entity in `text`, in order, none overlapping (the longest candidate wins)."""
    # Extraction makes no reference cycles, but a big text makes many objects, and the
    # cyclic collector's passes over them would make the time grow faster than the text.
    enabled = gc.isenabled()
    gc.disable()
    try:
        doc = Doc(text)
        found = _no_ages(doc, _sweep([*_patterns(doc), *_from_lexicon(doc), *_unranked(doc)]))
        found = [c._replace(kind="district") if c.kind == _MISSPELT_PLACE else c for c in found]
        found = _paired_by_o(doc, _lists(doc, _joined_compounds(doc, found)))
        found = _titled_by_alias(doc, _nicknames(doc, _whole_names(doc, found)))
        found = _agency_wings(doc, _named_by_rank(doc, found))
        found = _town_stations(doc, _provincial_police(_fia_at_airport(doc, found)))
        found = _roads(doc, found)
        entities = [
            Entity(c.kind, text[c.start : c.end], c.key, c.start, c.end, c.designation)
            for c in _same_people(doc, found)
            if c.kind not in _NO_ENTITY and not (c.kind == "district" and c.key in localities())
        ]
        return designations.carry(_marked(doc, entities), links.short_form, links.telling)
    finally:
        if enabled:
            gc.enable()


def _marked(doc: Doc, found: list[Entity]) -> list[Entity]:
    """`found`, each designation with what the text writes beside its mention: a warning,
    seniority, home, post, father, number, the writer's own, a denial, hearsay (`namesakes`
    ... `hearsay`).

    Those cues are read in the text folded letter by letter (`fold_letters`), so a cue typed
    with Arabic letters for Urdu ones ("ميرا نمبر"), a tatweel ("ولـد"), harakat or a
    character no one sees inside it is the cue it reads as: else a father or a post went
    unread, and a writer's own number joined no reports.
    """
    text, where = fold_letters(doc.text)

    def at(offset: int) -> int:
        return bisect.bisect_left(where, offset)

    spans = [(at(e.start), at(e.end)) for e in found]
    marked = [
        dataclasses.replace(e, text=text[a:b], start=a, end=b)
        for e, (a, b) in zip(found, spans, strict=True)
    ]
    ranked = links.ranked
    marked = namesakes.mark(text, marked, ranked=ranked)
    marked = homes.mark(text, grades.mark(text, marked), ranked=ranked, posted=links.posted)
    marked = contacts.mark(text, numbers.mark(text, parentage.mark(text, marked)))
    marked = hearsay.mark(text, denials.mark(text, marked))
    out = []
    for e, m, span in zip(found, marked, spans, strict=True):
        if (m.start, m.end) != span and m.end > m.start:  # a seniority taken out of the name
            start, end = where[m.start], where[m.end - 1] + 1
            e = dataclasses.replace(e, text=doc.text[start:end], key=m.key, start=start, end=end)
        out.append(dataclasses.replace(e, designation=m.designation))
    return out


# The words after a place's name that make it a road's: "the Pindi Bhattian road",
# "پنڈی بھٹیاں روڈ", "Jhang Rd".
_ROAD_WORDS: Final = frozenset(normalize(w) for w in ("road", "rd", "روڈ", "سڑک"))


def _roads(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A district or town named before "road" is the road's name (`links.ROAD`): the
    report is not set there ("a kiln on the Pindi Bhattian road, district Hafizabad")."""
    out = []
    for c in found:
        if c.kind == "district" and c.designation is None:
            k = bisect.bisect_left(doc.starts, c.end)
            if k < doc.size and doc.words[k] in _ROAD_WORDS:
                c = c._replace(designation=links.ROAD)
        out.append(c)
    return out


# "عمر" and "umar" are Umar, a man's name, and "age": Umar takes the masculine "کا",
# age the feminine "کی", so after "کی" it is someone's age ("لڑکی کی عمر انیس لکھی":
# "the girl's age written as nineteen"; انیس is Anees too, so it once made "Umar Anees").
_AGE: Final = frozenset(normalize(w) for w in ("عمر", "umar", "umr", "umer"))
_OF_HER: Final = frozenset(normalize(w) for w in ("کی", "ki"))


# Months of the Islamic year that are men's names too (Ramzan, Rajab, Shaban, Muharram):
# alone, after "in", "during", "since" or "till", or before Urdu's "میں" ("in"), a month.
_MONTHS: Final = frozenset(
    normalize(w)
    for w in (
        *("ramzan", "ramazan", "ramadan", "ramdan", "muharram", "rajab", "shaban", "shawwal"),
        *("رمضان", "محرم", "رجب", "شعبان", "شوال"),
    )
)
_IN_TIME: Final = frozenset(("in", "during", "since", "till", "until", "last", "this", "next"))
_IN_UR: Final = frozenset((normalize("میں"),))


def _no_ages(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """Found without the people that are an age ("عمر" after "کی", `_AGE`) or a month (one
    word of `_MONTHS` after "in" or before "میں": "In Ramzan", "رمضان میں")."""
    out = []
    for c in found:
        if c.kind == "person":
            k = bisect.bisect_left(doc.starts, c.start)
            if k and doc.words[k] in _AGE and doc.words[k - 1] in _OF_HER:
                continue
            if doc.words[k] in _MONTHS and c.end == doc.ends[k] and _a_month(doc, k):
                continue
        out.append(c)
    return out


def _a_month(doc: Doc, k: int) -> bool:
    """Whether token k, a month's name that is a man's too, stands as the month."""
    if doc.latin(k):
        return k > 0 and doc.words[k - 1] in _IN_TIME
    return k + 1 < doc.size and doc.words[k + 1] in _IN_UR


def _sweep(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates, a longer one over a shorter, in one pass after sorting."""
    candidates.sort(
        key=lambda c: (c.start, c.start - c.end, _PRIORITY[c.kind], c.designation is None)
    )
    taken: list[_Candidate] = []
    for c in candidates:
        if not c.key and c.kind not in _NO_ENTITY:
            continue
        if taken and c.start < taken[-1].end:
            last = taken[-1]
            if c.end - c.start > last.end - last.start:
                taken[-1] = c  # it starts later, so it cannot touch the one before
            continue
        taken.append(c)
    return taken


def _lists(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """The other names of a list that holds a person, in capitals: "Behlol, Jahandad and
    Spogmai took the money", "Behlol and ASI Naveed": a capitalised name the lists lack
    joined by "and" to a person, or by a comma that another comma or "and" follows (not
    "Aslam, Pasni."), is a person too."""
    people = [c for c in found if c.kind == "person"]
    if not people:
        return found
    taken = [False] * doc.size
    for c in found:
        k = bisect.bisect_left(doc.starts, c.start)
        while k < doc.size and doc.starts[k] < c.end:
            taken[k] = True
            k += 1
    added: list[_Candidate] = []
    todo = [
        (bisect.bisect_left(doc.starts, c.start), bisect.bisect_left(doc.starts, c.end))
        for c in people
    ]
    while todo:
        i, j = todo.pop()
        for start, end in (_listed_after(doc, j), _listed_before(doc, i, j)):
            if start < end and not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                added.append(_candidate(doc, start, end, None))
                todo.append((start, end))
    return sorted([*found, *added], key=lambda c: c.start) if added else found


_LIST_AND: Final = frozenset(("and", ","))


def _listed_after(doc: Doc, j: int) -> tuple[int, int]:
    """The capitalised name after "and" (or a list's comma) at token j, as a token span."""
    if not (j + 1 < doc.size and doc.words[j] in _LIST_AND and doc.latin(j + 1)):
        return 0, 0
    end = name_end(doc, j + 1, station=False)
    if end == j + 1 or not _proper_name(doc, j + 1, end) or _plural(doc.words[end - 1]):
        return 0, 0
    if doc.words[j] == "," and not _list_goes_on(doc, end):
        return 0, 0
    return j + 1, end


def _listed_before(doc: Doc, i: int, j: int) -> tuple[int, int]:
    """The capitalised name before "and" at token i - 1, or before a comma there when the
    list goes on after tokens i..j ("Behlol, Jahandad and Spogmai"; not "A young Punjabi,
    Fahad Butt, comes")."""
    if not (i >= 2 and doc.words[i - 1] in _LIST_AND and doc.latin(i - 2)):
        return 0, 0
    if doc.words[i - 1] == "," and not _list_goes_on(doc, j):
        return 0, 0
    start = name_start(doc, i - 1, station=False)
    if start == i - 1 or not _proper_name(doc, start, i - 1) or _plural(doc.words[i - 2]):
        return 0, 0
    return start, i - 1


# The Arabic article inside a compound name written apart in Latin letters: "Zia ul Haq",
# "Zia ud Din", "Fazl ur Rehman", "Shams uz Zaman", "Abd al Karim".
_JOINS: Final = frozenset(("ul", "ud", "ur", "us", "uz", "un", "ush", "al", "ad", "ar", "ud-din"))
# The most tokens a name joined so may hold ("Muhammad Zia ud Din Ahmed"): no chain of
# "Zia ud Din ur Rehman ..." grows into one man, nor is keyed again at each link.
_MOST_JOINED: Final = 6


def _joined_compounds(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """One person of two found on either side of "ul", "ud" or "ur" in capitals ("Zia ud
    Din" was the two men Zia and Din), or of a listed word before the article and a person
    after it ("fazal ur rehman ne"): the article joins one name's halves."""
    out: list[_Candidate] = []
    for c in found:
        k = bisect.bisect_left(doc.starts, c.start)
        if c.kind != "person" or k < 2 or doc.words[k - 1] not in _JOINS or not doc.latin(k):
            out.append(c)
            continue
        end = bisect.bisect_left(doc.starts, c.end)
        last = out[-1] if out else None
        if last is not None and last.kind == "person" and doc.ends[k - 2] == last.end:
            first = bisect.bisect_left(doc.starts, last.start)
            if c.designation is None and doc.capital(k) and end - first <= _MOST_JOINED:
                out[-1] = last._replace(end=c.end, key=name_key(doc, first, end))
                continue
        elif (
            (last is None or last.end <= doc.starts[k - 2])
            and doc.latin(k - 2)
            and known(doc.words[k - 2])
            and doc.capital(k - 2) == doc.capital(k)
        ):
            # "fazal ur rehman ne": the half before the article, listed, in lower case
            c = c._replace(start=doc.starts[k - 2], key=name_key(doc, k - 2, end))
        out.append(c)
    return out


_O: Final = normalize("و")


@functools.cache
def _plain_names() -> frozenset[str]:
    """Listed name words that make a name alone: no title, common name nor everyday word."""
    return frozenset(names().keys() - titles() - common_words() - weak_words("names.txt"))


def _paired_by_o(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A listed name joined to a person by Urdu's "و" ("and", as in "اسلم و اکرم نے"): a
    name standing alone, no everyday word, title nor common name, as "اور" takes it."""
    people = [c for c in found if c.kind == "person"]
    if _O not in doc.words or not people:
        return found
    taken = {bisect.bisect_left(doc.starts, c.start) for c in found}
    taken |= {bisect.bisect_left(doc.starts, c.end) - 1 for c in found}
    plain = _plain_names()
    added: list[_Candidate] = []
    todo = [
        (bisect.bisect_left(doc.starts, c.start), bisect.bisect_left(doc.starts, c.end) - 1)
        for c in people
        if doc.urdu(bisect.bisect_left(doc.starts, c.start))
    ]
    while todo:
        first, last = todo.pop()
        for mark, x in ((first - 1, first - 2), (last + 1, last + 2)):
            if not (0 <= x < doc.size and doc.words[mark] == _O and x not in taken):
                continue
            if doc.words[x] in plain and x not in doc.hits and x not in doc.inside:
                taken.add(x)
                added.append(_candidate(doc, x, x + 1, None))
                todo.append((x, x))
    return sorted([*found, *added], key=lambda c: c.start) if added else found


def _list_goes_on(doc: Doc, j: int) -> bool:
    """Whether a list of names goes on at token j: "and", or a comma and a capital."""
    if j >= doc.size or doc.words[j] not in _LIST_AND:
        return False
    return doc.words[j] == "and" or (j + 1 < doc.size and doc.capital(j + 1))


def _whole_names(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """An Urdu name of four words is one person, not two ("محمد نواز خان بلوچ", "ملک ریاض
    احمد اعوان"): a name in Urdu letters is read three words at most (Urdu has no
    capitals to end it), so the fourth, a listed name word that is no everyday word
    nor title, was left a person of its own, keyed alone ("baloch") as if another man."""
    out: list[_Candidate] = []
    for c in found:
        last = out[-1] if out else None
        if last is not None and last.kind == c.kind == "person" and c.designation is None:
            first = bisect.bisect_left(doc.starts, last.start)
            k = bisect.bisect_left(doc.starts, c.start)
            if _cut_short(doc, first, k, last, c):
                out[-1] = last._replace(end=c.end, key=name_key(doc, first, k + 1))
                continue
        out.append(c)
    return out


def _nicknames(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A nickname said of a man the sentence names ("زاہد محمود، جسے بازار میں سب کاکا کہتے
    ہیں", "jan muhammad jise sab jani kehte hain": "whom all call Kaka") is keyed as his name,
    and so is the nickname said alone later in the report: the writer says they are one man,
    and the nickname alone would link any Kaka."""
    ends = {c.end: c for c in found if c.kind == "person" and c.designation != _NAMING}
    whose: dict[str, str] = {}  # a nickname (its word) to the key of the man it names
    for c in found:
        if c.kind != "person" or c.designation != _NAMING or " " in c.key:
            continue
        k = bisect.bisect_left(doc.starts, c.start)
        if not (k + 1 < doc.size and doc.words[k + 1] in _CALL):
            continue
        x = k - 1
        while x >= 0 and k - x <= _WHOM_REACH and doc.words[x] not in SENTENCE_ENDS:
            if doc.words[x] in _WHOM:
                before = x - 1 if x and doc.words[x - 1] in (",", "،") else x
                named = ends.get(doc.ends[before - 1]) if before else None
                if named is not None:
                    whose.setdefault(doc.words[k], named.key)
                break
            x -= 1
    if not whose:
        return found
    out = []
    for c in found:
        k = bisect.bisect_left(doc.starts, c.start)
        if c.kind == "person" and doc.ends[k] == c.end and doc.words[k] in whose:
            c = c._replace(key=whose[doc.words[k]])
        out.append(c)
    return out


def _named_by_rank(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A man a rank or trade introduces by a naming word ("an agent called Bashir Ahmed",
    "a munshi named Gulab") holds that rank: the naming word says only that a name follows."""
    out = []
    for c in found:
        if c.kind == "person" and c.designation == _NAMING:
            k = bisect.bisect_left(doc.starts, c.start)
            if (rank := _rank_before_cue(doc, k)) is not None:
                c = c._replace(designation=rank)
        out.append(c)
    return out


def _rank_before_cue(doc: Doc, k: int) -> str | None:
    """The rank that stands right before a naming word that ends at token k, if one does."""
    for cue_size in (1, 2):
        cue = doc.hit(k - cue_size, "rank") if k >= cue_size else None
        if cue is None or cue.size != cue_size or cue.value != _NAMING:
            continue
        at = k - cue_size
        for size in (1, 2, 3):
            rank = doc.hit(at - size, "rank") if at >= size else None
            if rank is not None and rank.size == size and rank.value != _NAMING:
                return rank.value
    return None


def _town_stations(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A station keyed with a district its report names only by a town in it ("دیپالپور میں
    ... تھانہ صدر": Thana Saddar of Okara, by Depalpur) says so in its designation, "district
    from the town depalpur": a tehsil's town has stations of the district's names (Saddar
    Depalpur beside Saddar Okara), so a link on the key is only a guess
    (`links.pair_strength`). A city's locality is no such town: "Thana City" by Raja
    Bazar is Rawalpindi's own City station."""
    districts = {c.key for c in found if c.kind == "district" and c.key not in localities()}
    out = []
    for c in found:
        district = c.key.partition("/")[2] if c.kind == "police_station" else ""
        if district and district not in districts and not _written_in(doc, c, district):
            here = sorted(k for k in districts if towns().get(k) == district)
            if here:
                c = c._replace(designation=f"{links.TOWN_STATION} {here[0]}")
        out.append(c)
    return out


def _written_in(doc: Doc, c: _Candidate, district: str) -> bool:
    """Whether a district of this key is written within the candidate's own words."""
    k = bisect.bisect_left(doc.starts, c.start)
    while k < doc.size and doc.starts[k] < c.end:
        if (t := doc.hit(k, "district")) is not None and district in (t.key, towns().get(t.key)):
            return True
        k += 1
    return False


def _titled_by_alias(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A title said as a man's alias ("Bashir Ahmed alias Haji", "بشیر احمد عرف حاجی") is no
    second name but his title, so he is keyed with it ("haji bashir ahmed"), as the reports
    that write "Haji Bashir Ahmed" key him; and not as a plain Bashir Ahmed, whom a report
    may set beside the Haji as another man ("my name is Bashir Ahmed; Haji Bashir took my
    son")."""
    out: list[_Candidate] = []
    for c in found:
        k = bisect.bisect_left(doc.starts, c.start)
        if (
            c.kind == "person"
            and c.designation == _NAMING
            and doc.ends[k] == c.end
            and doc.words[k] in titles()
            and k >= 2
            and doc.words[k - 1] in _ALIASES
            and out
            and out[-1].kind == "person"
            and out[-1].end == doc.ends[k - 2]
        ):
            named = out[-1]
            if named.key.split()[0] != c.key:
                out[-1] = named._replace(key=f"{c.key} {named.key}")
            continue  # the title is no person of its own
        out.append(c)
    return out


# Relative pronouns before a nickname ("جسے سب کاکا کہتے ہیں"), and how far before it.
_WHOM: Final = frozenset(
    normalize(w) for w in ("جسے", "جنہیں", "jise", "jisay", "jisey", "jinhein", "jinhen", "jisko")
)
_WHOM_REACH: Final = 5


def _cut_short(doc: Doc, first: int, k: int, last: _Candidate, c: _Candidate) -> bool:
    """Whether the one-word person c at token k goes on `last`, an Urdu name of three words
    that starts at token `first`, right before it."""
    return (
        k - first == 3
        and doc.ends[k - 1] == last.end
        and doc.ends[k] == c.end
        and doc.urdu(first)
        and doc.urdu(k)
        and doc.words[k] in names()
        and doc.words[k] not in titles()
        and doc.words[k] not in weak_words("names.txt")
        and doc.text[doc.ends[k - 1] : c.start].isspace()
        and "\n" not in doc.text[doc.ends[k - 1] : c.start]
    )


def _agency_wings(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """An agency and its wing written together are one mention, keyed as the wing.

    "FIA Anti-Human Trafficking Circle", "ایف آئی اے امیگریشن": the wing is the office
    the writer means, and other reports name it alone ("the AHTC", "Immigration").
    """
    out: list[_Candidate] = []
    for c in found:
        last = out[-1] if out else None
        if last is not None and c.kind == last.kind == "agency":
            between = doc.text[last.end : c.start].strip()
            # "FIA's Anti-Human Trafficking Circle", "FIA ka AHT circle", "ایف آئی اے کا
            # امیگریشن": a possessive joins them only when the second is the first's wing
            if not between or (between.lower() in _OF_AGENCY and wings().get(c.key) == last.key):
                out[-1] = c._replace(start=last.start)
                continue
        out.append(c)
    return out


# A possessive between an agency and its wing.
_OF_AGENCY: Final = frozenset(("'s", "\u2019s", "ka", "ki", "ke", "kay", "کا", "کی", "کے"))


_FIA: Final = normalize("Federal Investigation Agency")
_FIA_IMMIGRATION: Final = normalize("FIA Immigration")
# An airport written in the FIA's sentence, within this many characters of it.
_AIRPORT_REACH: Final = 40
# The airport, and what only Immigration does there: offloading a traveller.
_AIRPORT_URDU: Final = (
    *("ایئرپورٹ", "ائیرپورٹ", "ایئر پورٹ", "ائیر پورٹ", "ایرپورٹ", "ہوائی اڈ"),
    *("آف لوڈ", "آفلوڈ"),
)
_AIRPORT: Final = re.compile(
    "|".join((r"\bair ?port|\boff-?load", *map(re.escape, _AIRPORT_URDU))),
    re.IGNORECASE,
)
# What every match of `_AIRPORT` holds, in the text lower-cased: a text without any of these
# has no airport near any FIA (a slice of it holds only what it holds). The characters of its
# Latin words match only themselves and their capitals ignoring case, and no other character
# lowers to them, so `in` answers as the pattern would, far faster than its scan.
_AIRPORT_HOLDS: Final = ("rport", "r port", "fload", "f-load", *_AIRPORT_URDU)
_SENTENCE_END: Final = re.compile(r"[.!?\n۔؟]")


def _fia_at_airport(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """ "FIA" written at an airport is its Immigration wing, and keyed so.

    At an airport the FIA is the immigration counter: "FIA at Islamabad airport passed
    them", "airport pe fia walon ne offload kiya", "ایئرپورٹ پر ایف آئی اے والوں نے".
    So is the FIA that offloads a traveller ("FIA ne offload kar diya"): only Immigration
    does. Only an airport (or offloading) in the same sentence and a few words away counts;
    "sent us from the airport police to the FIA" a sentence later does not.
    """
    if not any(c.kind == "agency" and c.key == _FIA for c in found):
        return found  # no FIA: the text is not searched for an airport
    lowered = doc.text.lower()
    if not any(h in lowered for h in _AIRPORT_HOLDS):
        return found
    out: list[_Candidate] = []
    for c in found:
        if c.kind == "agency" and c.key == _FIA:
            before = doc.text[max(0, c.start - _AIRPORT_REACH) : c.start]
            after = doc.text[c.end : c.end + _AIRPORT_REACH]
            before = _SENTENCE_END.split(before)[-1]
            after = _SENTENCE_END.split(after)[0]
            if _AIRPORT.search(before) or _AIRPORT.search(after):
                c = c._replace(key=_FIA_IMMIGRATION)
        out.append(c)
    return out


_POLICE: Final = normalize("Police")


@functools.cache
def _agency_keys() -> frozenset[str]:
    return frozenset(t.key for terms in lexicon().values() for t in terms if t.kind == "agency")


def _provincial_police(found: list[_Candidate]) -> list[_Candidate]:
    """ "The police" of a report set in one province is that province's police force.

    A writer in Okara writes "police" for the Punjab Police; keyed so, it meets "Punjab
    Police" in other reports. The province is that of the report's police stations, which
    the police it names run; else the one where most of the places it names lie (more than
    half: a route's far end, "boys taken to Taftan", does not move it). A report whose
    stations lie in two provinces, or whose places are split or in none, keeps the bare key.
    """
    if not any(c.kind == "agency" and c.key == _POLICE for c in found):
        return found
    stations = {
        provinces().get(c.key.partition("/")[2])
        for c in found
        if c.kind == "police_station" and "/" in c.key
    }
    if stations:
        where = stations
    else:
        named = Counter(provinces().get(c.key) for c in found if c.kind == "district")
        most = named.most_common(1)
        where = {most[0][0]} if most and most[0][1] * 2 > named.total() else set()
    if len(where) != 1 or None in where:
        return found
    force = f"{where.pop()} {_POLICE}"
    if force not in _agency_keys():
        return found
    return [c._replace(key=force) if c.kind == "agency" and c.key == _POLICE else c for c in found]


def _patterns(doc: Doc) -> Iterator[_Candidate]:
    where = doc.where
    for f in entity_patterns.find(doc.folded, doc.text, months=doc.months):
        if f.kind == "plate":  # found in the text as written
            yield _Candidate("vehicle", f.start, f.end, f.key)
        else:
            yield _Candidate(f.kind, where[f.start], where[f.end - 1] + 1, f.key)


# Between a station and its district: "Thana Saddar, district Kasur", "قصور کے تھانہ صدر".
_GLUE: Final = frozenset(
    normalize(w)
    for w in (
        ",",
        "،",
        "-",
        "(",
        ")",
        "'",
        "s",
        "of",
        "in",
        "at",
        "district",
        "distt",
        "city",
        "zila",
        "zilla",
        "ضلع",
        "شہر",
        "کے",
        "کا",
        "کی",
        "ke",
        "ka",
        "ki",
        "the",
    )
)


# --- districts, agencies, stations, ranked people ---------------------------------------------


def _from_lexicon(doc: Doc) -> Iterator[_Candidate]:
    districts = sorted(doc.of_kind("district"))
    used: dict[int, int] = {}  # where a rank names a person: its start and end
    stations: list[tuple[int, _Candidate]] = []
    # each keyword's station, kept for the ranks before one ("ایس ایچ او تھانہ صدر ...")
    read: dict[int, tuple[_Candidate, int] | None] = {}
    for i, station in doc.of_kind("station").items():
        read[i] = found = _station(doc, i, station, districts)
        if found is not None:
            post = station.value in POST_WORDS  # keyed apart from the thana of its name
            stations.append(
                (i, found[0]._replace(key=f"post {found[0].key}") if post else found[0])
            )
    for i, rank in doc.of_kind("rank").items():
        if (person := _person(doc, i, rank, districts, read)) is not None:
            used[i] = i + rank.size
            yield person
    yield from _unguessed(list(_placed_stations(doc, stations, districts)))
    yield from _misspelt_places(doc)
    for i, terms in doc.hits.items():
        for term in terms:
            if term.kind in _NAMED and not (used and _crossed(i, term, used)):
                if term.kind == "district" and (
                    _a_car(doc, i) or _izafat_after(doc, i + term.size)
                ):
                    continue
                end = doc.ends[i + term.size - 1]
                yield _Candidate(term.kind, doc.starts[i], end, term.key)


_NAMED: Final = frozenset(("district", "agency", "blocked"))
# Suzuki's models named after places (the Bolan van, the Khyber hatchback): a car, not the
# place, after the maker's name or a colour, or before a vehicle's word or a plate.
_CAR_MODELS: Final = frozenset(normalize(w) for w in ("Bolan", "بولان", "Khyber", "خیبر"))
_CAR_BEFORE: Final = frozenset(
    normalize(w)
    for w in (
        *("suzuki", "white", "grey", "gray", "black", "silver", "red", "blue", "green"),
        *("safaid", "sufaid", "safed", "kali", "laal", "neeli", "سوزوکی", "سفید", "کالی"),
        *("سرخ", "لال", "نیلی", "سلور"),
    )
)
_CAR_AFTER: Final = frozenset(
    normalize(w)
    for w in ("van", "car", "gari", "gaari", "wagon", "وین", "گاڑی", "کار", "ویگن", "جیپ")
)
_PLATE_WORD: Final = re.compile(r"[a-z]{2,3}-?\d{1,4}")


def _izafat_after(doc: Doc, k: int) -> bool:
    """Whether an izafat at token k makes the place's name before it a locality's first word
    ("Gulistan e Jauhar", Karachi's, not Gulistan in Killa Abdullah)."""
    return (
        k + 1 < doc.size and doc.words[k] == "e" and doc.latin(k + 1) and doc.words[k + 1].isalpha()
    )


def _a_car(doc: Doc, i: int) -> bool:
    """Whether the place's name at token i is a car's model's ("a grey Bolan, MNA-5520")."""
    if doc.words[i] not in _CAR_MODELS:
        return False
    after = i + 1
    while after < doc.size and doc.words[after] in (",", "،"):
        after += 1
    following = doc.words[after] if after < doc.size else ""
    return (
        (i > 0 and doc.words[i - 1] in _CAR_BEFORE)
        or following in _CAR_AFTER
        or _PLATE_WORD.fullmatch(following) is not None
    )


@functools.cache
def _places_by_sound() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each sound key of a one-word district's or town's spelling in Latin letters to the
    place's key and its spellings of that sound, where one place alone has it, no name of
    a person or everyday word sounds so, and it holds four consonants or more ("fzbd":
    Hafizabad, "hafizabad")."""
    found: dict[str, dict[str, set[str]]] = {}
    for form, terms in lexicon().items():
        for term in terms:
            one = term.kind == "district" and term.size == 1 and not term.cue
            if one and form.isascii() and len(key := sound(form)) >= _SOUNDS:
                found.setdefault(key, {}).setdefault(term.key, set()).add(form)
    taken = {sound(w) for w in (*names(), *stopwords(), *weak_words("names.txt"), *_ELSEWHERE)}
    return {
        key: (place, tuple(sorted(forms)))
        for key, places in found.items()
        if len(places) == 1 and key not in taken
        for place, forms in places.items()
    }


def _misspelling(word: str) -> str | None:
    """The key of the place `word` misspells: one of its sound, spelt nearly alike from the
    same first letter ("select" sounds as Sialkot, "slkt", but is no misspelling of it;
    Faizabad, Islamabad's locality, sounds as Hafizabad)."""
    found = _places_by_sound().get(sound(word))
    if found is None:
        return None
    place, forms = found
    if all(form[0] != word[0] for form in forms):
        return None  # misspellings keep the first letter: Faizabad is no Hafizabad
    near = max(difflib.SequenceMatcher(None, word, form).ratio() for form in forms)
    return place if near >= _ALIKE else None


# How alike a misspelling and a place's spelling are, at least (difflib's ratio).
_ALIKE: Final = 0.8


# Regions and countries that sound as a district: Kashmir is not Kashmore.
_ELSEWHERE: Final = (
    *("kashmir", "senegal", "punjab", "sindh", "pakistan", "afghanistan", "balochistan"),
    *("baluchistan", "waziristan", "kurdistan", "tajikistan", "turkmenistan", "hindustan"),
    *("turkey", "tehran", "tripoli", "germany", "greece", "ghana", "kenya", "korea", "jordan"),
)
# Fewest consonants of a misspelt place's name that is matched by its sound, and letters.
_SOUNDS: Final = 4
_MISSPELT: Final = 6
# Words before a place: "from Hafizabaad", "in Sheikhopura", "district Bahawalpoor".
_TO_PLACES: Final = frozenset(
    ("from", "in", "to", "near", "of", "at", "via", "towards", "district", "distt", "zila", "zilla")
)
# Words after one in Roman Urdu: "sheikhopura se", "hafizabaad mein", "sheikhopura ke thane",
# "hafizabaad wale", "sheikhopura road".
_AFTER_PLACES: Final = frozenset(
    (
        *("se", "say", "mein", "me", "main", "tak", "district", "city", "ke", "ka", "ki"),
        *("wala", "wale", "wali", "walay", "road", "shehar", "shahar", "sheher"),
    )
)
# Between two places of a list: "Lahore, Sheikhopura and Hafizabaad".
_LISTING: Final = frozenset(normalize(w) for w in (",", "and", "aur", "or", "&", "،"))


def _misspelt_places(doc: Doc) -> Iterator[_Candidate]:
    """Districts and towns misspelt ("Hafizabaad", "sheikhopura se", "Bahawalpoor"): a word
    in Latin letters in no list, capitalised after a word that leads to a place, before a
    Roman Urdu postposition or next in a list of places, that sounds as one place's name
    alone; anywhere, one that is a place's spelling but for a vowel written doubled
    ("chakwaal"); and an Urdu word ending as places' names do that sounds as one
    ("گجرنوالہ"). Names of people and everyday words are never taken for one."""
    words, n = doc.words, doc.size
    after = itertools.compress(range(1, n + 1), map(_TO_PLACES.__contains__, words))
    before = itertools.compress(range(-1, n - 1), map(_AFTER_PLACES.__contains__, words))
    capitalised = {k for k in after if k < n and doc.latin(k) and doc.capital(k)}
    ahead = {k for k in before if k >= 0 and doc.latin(k)}
    for i, term in doc.of_kind("district").items():  # the next in a list of places
        k = i + term.size + 1
        if k < n and words[k - 1] in _LISTING and doc.latin(k):
            ahead.add(k)
    long = set(_tokens_matching(doc, _LONG_VOWEL, _long_vowel_in))
    urdu = set(_tokens_matching(doc, _URDU_PLACE_SHAPED, _urdu_place_ending_in))
    if not (capitalised or ahead or long or urdu):
        return
    known_names, stop = names(), stopwords()
    for k in sorted(capitalised | ahead | long | urdu):
        w = words[k]
        if k in doc.hits or k in doc.inside or not w.isalpha():
            continue
        if w in known_names or w in stop or known(w):
            continue
        if k in urdu:  # the sound alone: no Latin spelling to compare it with
            found = _places_by_sound().get(sound(w))
            if found is not None:
                yield _Candidate(_MISSPELT_PLACE, doc.starts[k], doc.ends[k], found[0])
            continue
        if len(w) < _MISSPELT:
            continue
        place = _squeezed_places().get(_squeeze(w)) if k in long else None
        place = place or (_misspelling(w) if k in capitalised or k in ahead else None)
        if place is not None:
            yield _Candidate(_MISSPELT_PLACE, doc.starts[k], doc.ends[k], place)


# A Latin word with a vowel written long, doubled ("chakwaal", "peshaawar", "sheikhupoora").
_LONG_VOWELS: Final = ("aa", "ee", "oo", "ii", "uu")
_LONG_VOWEL: Final = re.compile(rf"(?<!\w)[a-z]*(?:{'|'.join(_LONG_VOWELS)})[a-z]*(?!\w)")


def _long_vowel_in(folded: str) -> bool:
    return any(v in folded for v in _LONG_VOWELS)


def _tokens_matching(
    doc: Doc, pattern: re.Pattern[str], holds: Callable[[str], bool]
) -> Iterator[int]:
    """The tokens where a pattern's matches begin, found in one scan of the folded text.

    `holds`: whether a text holds what every match does; one that does not is not scanned
    (the test costs a fraction of the pattern's scan, which tries every position).
    """
    where, starts = doc.where, doc.starts
    if not holds(doc.folded):
        return
    for m in pattern.finditer(doc.folded):
        k = bisect.bisect_left(starts, where[m.start()])
        if k < len(starts) and starts[k] == where[m.start()]:
            yield k


# An Urdu word ending as places' names do ("گجرنوالہ", "حافظاباد", "بھاولپور"): misspelt,
# it is matched by its sound, as few everyday words end so.
_URDU_PLACE_ENDINGS: Final = tuple(
    normalize(e) for e in ("آباد", "پور", "پورہ", "والہ", "والا", "گڑھ", "نگر")
)
_URDU_PLACE_SHAPED: Final = re.compile(
    r"(?<![\w])[\u0600-\u06ff]{2,}(?:" + "|".join(_URDU_PLACE_ENDINGS) + r")(?![\w])"
)
_URDU_PLACE_ENDING: Final = re.compile(r"(?:" + "|".join(_URDU_PLACE_ENDINGS) + r")(?![\w])")


def _urdu_place_ending_in(folded: str) -> bool:
    """Whether a word ends as places' names do: each ending looked for first, then ending."""
    return any(e in folded for e in _URDU_PLACE_ENDINGS) and bool(_URDU_PLACE_ENDING.search(folded))


def _squeeze(word: str) -> str:
    """A Latin spelling without its vowels' length or doubled letters: Roman Urdu writes a
    long vowel doubled or not ("chakwaal", "Chakwal"; "bahawalpoor", "Bahawalpur")."""
    return re.sub(r"(.)\1+", r"\1", word.replace("ee", "i").replace("oo", "u"))


@functools.cache
def _squeezed_places() -> dict[str, str]:
    """Each squeezed spelling of a one-word district or town in Latin letters to its key,
    where one place alone has it and no name of a person or everyday word squeezes so."""
    found: dict[str, set[str]] = {}
    for form, terms in lexicon().items():
        for term in terms:
            if term.kind == "district" and term.size == 1 and not term.cue and form.isascii():
                found.setdefault(_squeeze(form), set()).add(term.key)
    taken = {_squeeze(w) for w in (*names(), *stopwords(), *weak_words("names.txt"), *_ELSEWHERE)}
    return {
        key: places.pop()
        for key, places in found.items()
        if len(places) == 1 and key not in taken and len(key) >= _MISSPELT
    }


def _unguessed(stations: list[_Candidate]) -> Iterator[_Candidate]:
    """A station's key the report writes in full somewhere is no guess where it is not."""
    written = {c.key for c in stations if c.designation != links.PLACED_STATION}
    for c in stations:
        yield (
            c._replace(designation=None)
            if c.key in written and c.designation == links.PLACED_STATION
            else c
        )


def _placed_stations(
    doc: Doc, stations: list[tuple[int, _Candidate]], districts: list[int]
) -> Iterator[_Candidate]:
    """Stations, those with no district near keyed with the report's own where it has one.

    A report about one place names its stations without their district once it is
    said: "Civil Lines police station, Gujranwala ... ASI Aslam of Thana Saddar" (the
    district of the report's other stations, when they agree), or "میں گوجرانوالہ میں
    ویگن چلاتا ہوں ... تھانہ صدر" (the first district of the report, named before it).
    In a report that names several districts that is a guess, and the station says so
    in its designation (`links.PLACED_STATION`): its links are weak.
    """
    keyed = {c.key.partition("/")[2] for _i, c in stations if "/" in c.key}
    # The first district the report names, but not where someone was bound ("fourteen
    # young men bound for Quetta ... Thana Cantt booked nobody"). Where the boys came
    # from stays a candidate: their families complain at home (measured: skipping origins
    # here too lost links on seventeen development sets and made three false).
    at = next((d for d in districts if not _bound(doc, d)), None)
    first = doc.hit(at, "district") if at is not None else None
    # A report that names one district, or it and its towns, wherever it names it: "I am a
    # constable at Thana Saddar ... the DPO Okara ... a kiln near Depalpur" is Okara's
    # Thana Saddar, as `links.places` sets it.
    spans = sorted((c.start, c.end) for _i, c in stations)
    starts = [lo for lo, _hi in spans]

    def inside(at: int) -> bool:  # within a station's name: "Thana Karachi Company"
        k = bisect.bisect_right(starts, at) - 1
        return k >= 0 and at < spans[k][1]

    named = {
        t.key
        for d in districts
        if (t := doc.hit(d, "district")) is not None and not inside(doc.starts[d])
    }
    seats = {towns().get(k, k) for k in named}
    one = next(iter(seats)) if len(seats) == 1 and seats <= named else None
    earlier: set[str] = set()  # districts of the stations before, in one walk
    for i, c in sorted(stations, key=lambda s: s[0]):
        # What the writer has said before the station sets it; a station named later,
        # with its district, only when nothing before does ("sanghar me ... sinjhoro thana
        # ... hyderabad civil lines thane": Sinjhoro is in Sanghar).
        guess = links.PLACED_STATION if len(seats) > 1 else c.designation
        if "/" in c.key:
            earlier.add(c.key.partition("/")[2])
            yield c
        elif len(earlier) == 1:
            yield c._replace(key=f"{c.key}/{next(iter(earlier))}", designation=guess)
        elif not earlier and first is not None and at is not None and at < i:
            yield c._replace(key=f"{c.key}/{_district_of(first.key)}", designation=guess)
        elif len(keyed) == 1:
            yield c._replace(key=f"{c.key}/{next(iter(keyed))}", designation=guess)
        elif one is not None:
            yield c._replace(key=f"{c.key}/{one}")
        else:
            yield c


def _crossed(i: int, term: Term, used: dict[int, int]) -> bool:
    """Whether a person's rank starts in a term and ends past it ("FIA [Immigration Officer]")."""
    return any(used.get(k, 0) > i + term.size for k in range(i, i + term.size))


@functools.cache
def _station_homes() -> dict[str, str]:
    """`station_homes`, keyed by the station's name's key as `station_key` makes it."""
    return {station_key(fold_phrase(name)): home for name, home in station_homes().items()}


# Each station's keyword's `_station`, by where it stands.
_Stations = dict[int, "tuple[_Candidate, int] | None"]


def _station(doc: Doc, i: int, term: Term, districts: list[int]) -> tuple[_Candidate, int] | None:
    """A police station named after (or, in English, before) its keyword at i; and its end."""
    n = j = term.size
    # "P.S. Saddar", "PS-Saddar"; but a full stop after a whole word ends its sentence:
    # "the SHO of Green Town thana. Bashir Ahmed of Jacobabad ..." names no Thana Bashir.
    short = len(doc.words[i + n - 1]) <= 2
    while i + j < doc.size and (doc.words[i + j] == "-" or (short and doc.words[i + j] == ".")):
        j += 1
    lettered = _lettered(doc, i + j)
    led = i >= 2 and _lettered(doc, i - 2) == i  # "a section thana", "بی ڈویژن تھانے"
    served = i > 0 and doc.words[i - 1] in _SERVED
    # a town whose name begins with an everyday word: "Thana Bhai Pheru", "تھانہ بھائی پھیرو"
    same_script = i + j < doc.size and doc.latin(i) == doc.latin(i + j)
    placed = doc.hit(i + j, "district") if same_script else None
    # a place's name that begins a longer one: "Police Station Karachi Company" (Islamabad's)
    named = doc.hit(i + j, "blocked") if placed is not None else None
    if named is not None:
        placed = None
    if not (
        _may_station(doc, i + j)
        or _may_station(doc, i - 1)
        or lettered > i + j
        or led
        or served
        or placed
        or named
    ):
        return _unlisted_station(doc, i, term, j, districts)
    after = _izafat(doc, max(name_end(doc, i + j, station=True), lettered))
    if placed is not None and after == i + j and doc.words[i] not in _OBLIQUES:
        after = i + j + placed.size
    if named is not None and after < i + j + named.size:
        after = i + j + named.size
    if after > i + j and doc.words[i] == _OBLIQUE and not _known_station_word(doc, i + j):
        after = i + j  # "واپس تھانے بھیج دی": "to the thana", then a verb; not "Thana Bhej"
    if after > i + j and doc.latin(i) != doc.latin(i + j):
        after = i + j  # "thana سرحد": a station's name is written in its keyword's letters
    town = doc.hit(i + j, "district") if after > i + j and named is None else None
    if town is not None and i + j + town.size > after:
        after = i + j + town.size  # "thana pindi bhattian", "thana kot momin": the place whole
    whole = i + j + (town.size if town is not None else 1)  # a town's "wala" is its own
    while after > whole and doc.words[after - 1] in _OF_THOSE:
        after -= 1  # "تھانہ پیپلز کالونی والوں نے", "تھانہ حیات آباد والوں": "those of"
    before = name_start(doc, i, station=True)
    while before < i and has_digit(doc.words[before]):
        before += 1  # "car FDA-8843 thane ke bahar": a plate is no station's name
    town_start = _place_before(doc, i)
    if before < town_start < i and all(doc.words[k] in names() for k in range(before, town_start)):
        before = town_start  # "asi zafar iqbal malakwal thane": Iqbal is the man's
    if 0 < before < i and _generic_only(doc, before, i) and _may_lead(doc, before - 1, before):
        before -= 1  # "usman colony thane", "Madina Colony police station": whose colony
    if led and before > i - 2:
        before = i - 2  # the letter leads the name
    elif before == i and served:
        before = i - 1  # "Women Police Station": a word kept from names otherwise
    latin_before = before < i and doc.latin(i) and doc.latin(before)
    # The oblique keyword follows its station's name: "سٹی تھانے مردان میں", "city thane
    # mardan": the name is before it, and a place after it is where the station is.
    oblique = doc.words[i] in _OBLIQUES
    if (latin_before and (after == i + j or doc.words[i] == "police" or oblique)) or (
        before < i and doc.urdu(i) and doc.urdu(before) and oblique
    ):
        first, last, name = before, i + n, (before, i)
    elif after > i + j:
        first, last, name = i, after, (i + j, after)
        place = _place_key(doc, i + j, after)
        # a letter alone before the keyword names no station ("نسیم بی بی تھانہ پھالیہ":
        # بی is B, and Bibi): only with its unit ("بی ڈویژن تھانہ")
        bare = all(doc.words[k] in _LETTERS for k in range(before, i))
        if place and before < i and _place_key(doc, before, i) is None and not bare:
            bare = place in towns() and _a_mans_name(doc, before, i)
        if place and before < i and _place_key(doc, before, i) is None and not bare:
            # "سٹی تھانہ تربت": City station of Turbat, as "City police station Turbat";
            # the place after it is a mention of its own, as the district's.
            key = station_key(doc.words[k] for k in range(before, i))
            return _Candidate(
                "police_station", doc.starts[before], doc.ends[i + n - 1], f"{key}/{place}"
            ), after
    elif before < i and doc.urdu(i):  # "صدر تھانے": a known station word before
        first, last, name = before, i + n, (before, i)
    else:
        return _unlisted_station(doc, i, term, j, districts)
    if (led_by := _led_by_place(doc, *name)) is not None:
        key, place = led_by  # "Kohat Cantt police station": Cantt of Kohat
        return _Candidate(
            "police_station", doc.starts[first], doc.ends[last - 1], f"{key}/{place}"
        ), last
    key = _place_key(doc, *name) or station_key(_without_izafat(doc, *name))
    if named is not None:  # not the place inside the name: Karachi Company is Islamabad's
        districts = [d for d in districts if not i + j <= d < i + j + named.size]
    district = _district_near(doc, first, last, districts)
    guess = _guessed(doc, first, last, district, key)
    if (city := _namesakes_city(doc, key, first, last, districts)) is not None:
        district, guess = city, False  # "Rawalpindi ... Thana Sadiqabad": the city's own
    if district == key or (district is None and key in towns()):
        district = towns().get(key, district)  # "Thana Phalia": a town's own station
    # a name only one city's stations bear is that city's, whatever else the report names:
    # "Thana Kohsar" is Islamabad's even in a report about a family in Kotli
    homes = _station_homes()
    district = homes.get(key, district)
    if district:
        key = f"{key}/{district}"
    designation = links.PLACED_STATION if guess and key.partition("/")[0] not in homes else None
    span = doc.starts[first], doc.ends[last - 1]
    return _Candidate("police_station", *span, key, designation), last


def _namesakes_city(doc: Doc, key: str, first: int, last: int, districts: list[int]) -> str | None:
    """The city whose own station bears a town's or district's name (`station_namesakes`),
    where the report names that city and not the town's district (nor another of its
    towns) apart from the station's words (tokens first..last): "We live in Rawalpindi ...
    Thana Sadiqabad" is Rawalpindi's Thana Sadiqabad. Keyed as the town's in Rahim Yar
    Khan, it linked two men a province apart strongly. Another district named alone is no
    sign (a route: "from Gujrat ... Thana Sambrial" is Sambrial's own): only a city known
    to have such a station is."""
    cities = station_namesakes().get(key)
    if cities is None:
        return None
    named = {
        t.key
        for d in districts
        if not first <= d < last and (t := doc.hit(d, "district")) is not None
    }
    # The name itself said again is no sign either way ("a unit in Saeedabad, Baldia"):
    # the city's quarter bears it too.
    own = towns().get(key, key)
    if own in named or any(towns().get(k) == own for k in named if k != key):
        return None
    found = sorted(cities & {towns().get(k, k) for k in named})
    return found[0] if len(found) == 1 else None


def _generic_only(doc: Doc, start: int, end: int) -> bool:
    """Whether tokens start..end are only words every city's quarters share
    (`links.QUARTERS_WORDS`: "colony", "town", "goth")."""
    words = station_words()
    return all(words.get(doc.words[k]) in links.QUARTERS_WORDS for k in range(start, end))


# English words of grammar that begin a sentence with a capital: never a quarter's word.
_CAPITALISED_GRAMMAR: Final = frozenset(
    ("the", "a", "an", "in", "at", "of", "to", "from", "this", "that", "our", "my", "his")
)


def _may_lead(doc: Doc, k: int, name: int) -> bool:
    """Whether token k, just before a station's name of generic words at token `name`, is
    the word that tells the quarter: a word in the name's letters, no mark, number, word
    of grammar, rank or agency ("usman" of "usman colony thane"; "Madina" of "Madina Colony
    police station", a foreign place's name written as a quarter's; not "in" of "in
    colony thana")."""
    word = doc.words[k]
    if doc.punct(k) or word[0].isdigit() or word in _OBLIQUES or word in _CAPITALISED_GRAMMAR:
        return False
    if doc.latin(k) != doc.latin(name) or (word in stopwords() and not doc.capital(k)):
        return False
    return not any(t.kind in ("rank", "agency", "month") for t in doc.hits.get(k, ()))


def _a_mans_name(doc: Doc, start: int, end: int) -> bool:
    """Whether tokens start..end, before a station's keyword and a town, are a man's name
    and no station's: "کانسٹیبل محمد اقبال تھانہ ڈومیل میں" is Constable Muhammad Iqbal of
    Thana Domel, the town's own station, no "Muhammad Iqbal station" of Domel (both words
    are words of stations' names too: Gulshan-e-Iqbal), while "سٹی تھانہ تربت" is Turbat's
    City station. (Before a city, "Aziz Bhatti thana Karachi", a man's name is a station's:
    cities name stations after men.)"""
    return all(doc.words[k] in names() for k in range(start, end)) and not any(
        doc.hit(k, "station") is not None for k in range(start, end)
    )


# The names of stations that every town of a size has one of: written after its town's
# name ("Kohat Cantt police station", "daska city thane", "کوہاٹ کینٹ تھانہ") they are that
# town's, as "Thana Cantt Kohat" is; and so is an industrial area's ("Korangi Industrial
# Area police station" is "Industrial Area police station in Korangi").
_EVERY_TOWNS: Final = frozenset(
    ("saddar", "city", "cantt", "civil lines", "kotwali", "industrial area")
)


def _led_by_place(doc: Doc, start: int, end: int) -> tuple[str, str] | None:
    """The station's key and its place, if a station's name at start..end is a place's
    name and one of `_EVERY_TOWNS` after it ("Kohat Cantt": cantt, kohat)."""
    place = doc.hit(start, "district")
    if place is None or start + place.size >= end or doc.hit(start, "blocked") is not None:
        return None
    rest = station_key(doc.words[k] for k in range(start + place.size, end))
    return (rest, place.key) if rest in _EVERY_TOWNS else None


# Persian's izafat joining a locality's name, which Urdu script leaves unwritten (its zer
# is a mark): "Gulshan-e-Iqbal", "gulshan e iqbal", "Gulistan-i-Jauhar" are "گلشن اقبال".
_IZAFAT: Final = frozenset(("e", "i"))
_IZAFAT_JOIN: Final = re.compile(r"-[ei]-")


def _izafat(doc: Doc, k: int) -> int:
    """The end of a station's name at k run on past an izafat written apart ("thana gulshan
    e iqbal"): "e" before a name's word, "i" before a capitalised one ("i" is English's I)."""
    while (
        k + 1 < doc.size
        and doc.words[k] in _IZAFAT
        and doc.latin(k - 1)
        and (doc.words[k] == "e" or doc.capital(k + 1))
        and (after := name_end(doc, k + 1, station=True)) > k + 1
    ):
        k = after
    return k


def _without_izafat(doc: Doc, start: int, end: int) -> Iterator[str]:
    """A station's name's words without the izafat, as Urdu script writes it."""
    for k in range(start, end):
        word = doc.words[k]
        if word not in _IZAFAT or k in (start, end - 1):
            yield _IZAFAT_JOIN.sub("-", word) if doc.latin(k) else word


def _lettered(doc: Doc, k: int) -> int:
    """The end of a station named by a letter and its unit at token k ("A Division", "b
    section", "بی ڈویژن"), else k: the unit is an everyday word elsewhere."""
    if k + 1 < doc.size and doc.words[k] in _LETTERS and doc.words[k + 1] in _UNITS:
        return k + 2
    if k + 1 < doc.size and doc.words[k] in _ESTATES:  # "thana site a", "SITE Super Highway"
        after = doc.words[k + 1]
        if after in _LETTERS or after in _ESTATE_PARTS:
            return k + 2
        if after == "super" and k + 2 < doc.size and doc.words[k + 2] == "highway":
            return k + 3
    return k


# "Of", "those of" after a name: "thana city wale", "تھانہ سٹی والوں نے".
_OF_THOSE: Final = frozenset(
    normalize(w)
    for w in ("wala", "wale", "walay", "wali", "walon", "والا", "والے", "والی", "والوں")
)
# Whom a station serves, in its name: "Women Police Station", "خواتین پولیس اسٹیشن".
_SERVED: Final = frozenset(normalize(w) for w in ("women", "ladies", "خواتین", "ویمن"))
# Letters that name a city's stations, and the units they name: Punjab's and Sindh's
# "A-Division", "B Section", "تھانہ بی ڈویژن".
_LETTERS: Final = frozenset(
    normalize(w) for w in ("a", "b", "c", "d", "e", "اے", "بی", "سی", "ڈی", "ای")
)
_UNITS: Final = frozenset(normalize(w) for w in ("division", "section", "ڈویژن", "سیکشن"))
# Karachi's trading estate (SITE) has stations by letter and by road: "SITE-A", "thana site
# b", "SITE Super Highway"; "a" after it is its letter, not an article.
_ESTATES: Final = frozenset(normalize(w) for w in ("site", "سائٹ"))
_ESTATE_PARTS: Final = frozenset(normalize(w) for w in ("superhighway",))


def _unlisted_station(
    doc: Doc, i: int, term: Term, j: int, districts: list[int]
) -> tuple[_Candidate, int] | None:
    """A station whose name is in no list and not capitalised, by what stands round it.

    Roman Urdu writes in lower case and names stations of every village: "thana bhera
    ka SHO", "krk thana ke ASI", "baghdad ul jadeed thane ka". A word that is no
    everyday word (`_NOT_STATION_NAMES`, `stopwords`) is the station's name when a rank
    follows it (after a possessive or not), or, after the keyword, its district: "thana
    jaane ka faisla", "roz thane ke bahir" are no stations. The oblique "thane" and
    Urdu's "تھانے" take a name only before them.
    """
    size = term.size
    oblique = doc.words[i] in _OBLIQUES
    k = i + j
    if (
        not oblique
        and k < doc.size
        and (_rank_follows(doc, k + 1) or _district_at(doc, k + 1))  # the cheaper test first
        and _unlisted_word(doc, k, latin=doc.latin(i))
    ):
        first, last, name = i, k + 1, (k, k + 1)
    elif not oblique and (tail := _tailed(doc, k, latin=doc.latin(i))) > k:
        first, last, name = i, tail, (k, tail)  # "thana satiana road", "thana peoples colony"
    else:
        if not (_rank_follows(doc, i + size) or _town_before(doc, i)):
            return None  # "roz thane ke bahir", "دفتر تھانے کے ساتھ": by the thana (asked
            # first: it is the test that answers most)
        begin = _place_before(doc, i)  # "بھیرہ تھانے کے": a town's own station
        if begin == i and (doc.urdu(i) or doc.words[i] in _ROMAN_KEYWORDS):
            latin = doc.latin(i)
            while begin > 0 and i - begin < 3 and _unlisted_word(doc, begin - 1, latin=latin):
                begin -= 1
        if begin < i and doc.words[begin] in _CONNECTORS:
            begin += 1
        if begin == i:
            return None  # no name before the keyword
        first, last, name = begin, i + size, (begin, i)
    key = _place_key(doc, *name) or station_key(doc.words[k] for k in range(*name))
    district = _district_near(doc, first, last, districts)
    guess = _guessed(doc, first, last, district, key)
    if (city := _namesakes_city(doc, key, first, last, districts)) is not None:
        district, guess = city, False  # "Rawalpindi ... Thana Sadiqabad": the city's own
    if district == key or (district is None and key in towns()):
        district = towns().get(key, district)
    if district and district != key:
        key = f"{key}/{district}"
    designation = links.PLACED_STATION if guess else None
    span = doc.starts[first], doc.ends[last - 1]
    return _Candidate("police_station", *span, key, designation), last


def _tailed(doc: Doc, k: int, *, latin: bool) -> int:
    """The end of an unlisted station's name of one or two words at k that a word of
    places' names ends ("satiana road", "peoples colony"), else k."""
    for size in (1, 2):
        end = k + size
        if end >= doc.size or doc.words[end] not in _NAME_TAILS:
            continue
        if all(_unlisted_word(doc, w, latin=latin) for w in range(k, end)):
            return end + 1
    return k


# Words that end a locality's name, and a station's named after it: "Satiana Road",
# "Peoples Colony", "Madina Town", "Jhang Bazar", "روڈ", "کالونی".
_NAME_TAILS: Final = frozenset(
    normalize(w)
    for w in (
        *("road", "colony", "town", "bazar", "bazaar", "mandi", "chowk", "gate", "nagar"),
        *("market", "park", "ganj", "garden", "lines", "abad", "pura", "روڈ", "کالونی"),
        *("ٹاؤن", "بازار", "منڈی", "چوک", "گیٹ", "نگر", "مارکیٹ", "آباد", "پورہ"),
    )
)


def _town_before(doc: Doc, i: int) -> bool:
    """Whether a town (no district's seat) ends just before token i: "mingora thane me",
    "کبل تھانے میں" name the town's own station, a rank after them or not (a district's
    seat has many: "kohat thane me" says none)."""
    begin = _place_before(doc, i)
    term = doc.hit(begin, "district") if begin < i else None
    return term is not None and term.key in towns()


def _place_before(doc: Doc, i: int) -> int:
    """Where a town or district ending just before token i starts (i if none does)."""
    places = doc.of_kind("district")  # asked of the table: three `hit` calls a station
    if places:
        for k in range(i - 3 if i > 3 else 0, i):
            term = places.get(k)
            if term is not None and k + term.size == i:
                return k
    return i


def _unlisted_word(doc: Doc, k: int, *, latin: bool) -> bool:
    """Whether token k may be a word of an unlisted station's name, in its keyword's script."""
    if not 0 <= k < doc.size or doc.punct(k):
        return False
    word = doc.words[k]
    if has_digit(word):
        return False  # "car FDA-8843 thane ke bahar": a plate by the thana
    if doc.latin(k) != latin or (latin and len(word) < 3 and word not in _CONNECTORS):
        return False
    if word in stopwords() and not _joined_on(doc, k):
        return False
    if word in _NOT_STATION_NAMES or k in doc.hits or k in doc.inside:
        return False
    if latin and word.endswith(_VERB_ENDINGS):
        return False
    return latin or doc.urdu(k)


def _joined_on(doc: Doc, k: int) -> bool:
    """Whether token k starts a compound name, a joining word after it ("baghdad ul
    jadeed"): a word kept from people's names (a foreign city) may name a station so."""
    return k + 2 < doc.size and doc.words[k + 1] in _CONNECTORS and not doc.punct(k + 2)


def _district_at(doc: Doc, k: int) -> bool:
    """Whether a district or town is named at token k, or after a comma there."""
    if k < doc.size and doc.words[k] in (",", "،"):
        k += 1
    return k < doc.size and doc.hit(k, "district") is not None


def _rank_follows(doc: Doc, k: int) -> bool:
    """Whether a rank stands at token k, or after a possessive there ("krk thana ka ASI")."""
    if k < doc.size and doc.words[k] in _POSSESSIVES:
        k += 1
    return k < doc.size and doc.hit(k, "rank") is not None


_POSSESSIVES: Final = frozenset(normalize(w) for w in ("ka", "ki", "ke", "kay", "کا", "کی", "کے"))
# Roman Urdu's keywords, after an unlisted name in lower case ("krk thana ka ASI"); English
# names its stations capitalised.
_ROMAN_KEYWORDS: Final = frozenset(("thana", "thane", "thanay", "thaney", "thanna", "thaana"))
# Endings of Roman Urdu verbs in the past, never an unlisted station's name ("us ne bataya
# thana ka SHO ...").
_VERB_ENDINGS: Final = ("aya", "ayi", "aye", "aaya", "iya", "kar")
# Joining words inside a name: "baghdad ul jadeed", "bab e khyber"; never at its ends.
_CONNECTORS: Final = frozenset(("ul", "al", "e", "i"))
# Everyday words of English, Roman Urdu and Urdu before or after "thana" that are no
# station's name: "apne thane", "qareebi thana", "thana gaye", "مقامی تھانے".
_NOT_STATION_NAMES: Final = frozenset(
    normalize(w)
    for w in (
        *("local", "nearest", "nearby", "same", "concerned", "relevant", "respective", "main"),
        *("small", "big", "our", "my", "their", "that", "this", "another", "other", "area"),
        *("your", "his", "her", "village", "city's", "nearby", "new", "old", "police"),
        *("apne", "apna", "apni", "usi", "isi", "unke", "uske", "iske", "inke", "hamare"),
        *("humare", "mere", "tumhare", "aapke", "kisi", "har", "dusre", "doosre", "dosre"),
        *("dusra", "aik", "aek", "kai", "bare", "bara", "baray", "bade", "bada", "chhote"),
        *("chote", "chota", "mukami", "maqami", "nazdeeki", "nazdiki", "qareebi", "qaribi"),
        *("qareeb", "kareeb", "mutaliqa", "mutalqa", "mutalliqa", "ilaqa", "ilaqe", "ilaka"),
        *("ilake", "ilaqay", "wapas", "wapis", "waapis", "seedha", "sidha", "seedhe"),
        *("gaya", "gaye", "gayi", "gai", "gae", "gya", "gye", "jana", "jata", "jati", "jate"),
        *("jakar", "jaa", "aaya", "aya", "aye", "aaye", "ayi", "pohancha", "pohanche"),
        *("pohnche", "pahuncha", "pahunche", "puhncha", "puhnche", "bulaya", "bulwaya"),
        *("bulaye", "lekar", "lay", "laye", "laya", "liya", "liye", "diya", "kiya", "kia"),
        *("band", "bhej", "bheja", "bheje", "bhaga", "chala", "chale", "chali", "rakha"),
        *("rakhe", "rakhi", "pakra", "pakray", "pakre", "pakda", "pakar", "report", "parcha"),
        *("rapat", "darkhwast", "shikayat", "complaint", "application", "muqadma", "case"),
        *("fir", "hawalat", "lockup", "kachehri", "kachahri", "court", "adalat", "andar"),
        *("bahar", "samne", "saamne", "paas", "pass", "saath", "sath", "bhi", "nahi"),
        *("nahin", "lekin", "magar", "sirf", "abhi", "dobara", "pehle", "baad", "phir"),
        *("sho", "incharge", "staff", "munshi", "moharrar", "moharrir", "officer", "duty"),
        *("wahan", "yahan", "kahan", "waha", "yaha", "wohi", "wahi", "yehi", "yahi"),
        *("din", "raat", "rat", "subah", "subha", "sham", "shaam", "kal", "aaj", "aj"),
        *("ek", "do", "teen", "char", "panch", "bhai", "sahab", "log", "logon", "sare"),
        *("saare", "tamam", "poora", "pura", "poore", "kis", "kaun", "konsa", "kon", "jis"),
        *("unka", "inka", "uska", "iska", "unki", "uski", "unko", "usko", "mera", "meri"),
        *("hamara", "hamari", "tera", "teri", "aapka", "apka", "phr", "fir", "bas", "yani"),
        *("agay", "aage", "aagay", "peeche", "pichay", "daftar", "dafter", "office", "roz"),
        *("rozana", "dono", "sab", "wohan", "udhar", "idhar", "usay", "unhein", "hum"),
        *("دفتر", "دونوں", "روز", "آگے", "پیچھے", "سب"),
        *("مقامی", "قریبی", "متعلقہ", "علاقے", "علاقہ", "اسی", "انہی", "کسی", "دوسرے"),
        *("اپنے", "ہمارے", "واپس", "سیدھا", "بڑے", "چھوٹے", "نزدیکی", "اسی", "پولیس"),
        *("گاؤں", "شہر", "حوالات", "کچہری", "عدالت", "رپورٹ", "درخواست", "مقدمہ", "پرچہ"),
    )
)


def _place_key(doc: Doc, i: int, j: int) -> str | None:
    """The key of the town or district that tokens i..j name whole ("Thana Mingora", "تھانہ
    منگورہ"): a station named after its place keys as the place in every script."""
    term = doc.hit(i, "district")
    return term.key if term is not None and term.size == j - i else None


# The oblique "تھانے" ("to / at the thana") stands after its name ("صدر تھانے"), or after
# "کے" before a verb; a word after it names the station only when it is a known one.
_OBLIQUE: Final = normalize("تھانے")
_OBLIQUES: Final = frozenset((_OBLIQUE, "thane", "thanay", "thaney"))


def _known_station_word(doc: Doc, k: int) -> bool:
    return doc.words[k] in station_words() or doc.hit(k, "district") is not None


def _may_station(doc: Doc, k: int) -> bool:
    """Whether a station's name could start (or end) at token k."""
    if not 0 <= k < doc.size:
        return False
    word = doc.words[k]
    c = word[0]  # `Doc.punct`, `latin` and `urdu` ask this, one call each: asked here
    if not (c.isalnum() or c == "_") or word in stopwords():
        return False
    if c.isascii() and c.isalpha():
        return doc.text[doc.starts[k]].isupper() or word in station_words() or k in doc.hits
    return "\u0600" <= c <= "\u06ff" and c.isalpha()


def _district_beside(doc: Doc, first: int, last: int) -> str | None:
    """The district written right after tokens first..last, or right before them, with
    only glue between ("Thana Saddar, district Kasur", "قصور کے تھانہ صدر")."""
    k = last
    while k < doc.size and k - last < 4 and doc.words[k] in _GLUE:
        k += 1
    if k < doc.size and (term := doc.hit(k, "district")) is not None:
        return term.key
    k = first - 1
    while k >= 0 and first - k < 4 and doc.words[k] in _GLUE:
        k -= 1
    if k >= 0:
        for j in range(max(0, k - 2), k + 1):  # a district of several words ends at k
            term = doc.hit(j, "district")
            if term is not None and j + term.size - 1 == k:
                return term.key
    return None


def _guessed(doc: Doc, first: int, last: int, district: str | None, key: str) -> bool:
    """Whether a station's district is a guess: not written beside it nor its own town's,
    but taken from elsewhere in its sentence, in a report that names several districts
    ("At Thana City the SHO said the boys were already in Karachi" in a report of Sibi)."""
    if district in (None, key, towns().get(key)) or _district_beside(doc, first, last):
        return False  # none, the town's own, or written with it
    return len(doc.seats) > 1  # once a text: a station a token would make it quadratic


def _district_near(doc: Doc, first: int, last: int, districts: list[int]) -> str | None:
    """The district next to tokens first..last, else in their sentence, else the report's one."""

    def key(i: int) -> str:
        term = doc.hit(i, "district")
        return term.key if term is not None else ""

    if (beside := _district_beside(doc, first, last)) is not None:
        return beside
    # `districts` is in text order: only those within reach are looked at, or a text of many
    # stations and many districts would look at every district for every station
    reach = districts[
        bisect.bisect_left(districts, first - 15) : bisect.bisect_right(districts, first + 15)
    ]
    nearest = [
        (abs(d - first), key(d))
        for d in reach
        if not _crosses_sentence(doc, min(d, first), max(d, last)) and not _origin(doc, d)
    ]
    if nearest:
        return _district_of(min(nearest)[1])
    if len(districts) == len(doc.of_kind("district")):
        keys = set(doc.district_keys)  # all of the text's, counted once a text
    else:
        keys = {key(d) for d in districts}  # some left out: a place inside a station's name
    return _district_of(keys.pop()) if len(keys) == 1 else None


def _district_of(place: str) -> str:
    return towns().get(place, place)


def _origin(doc: Doc, d: int) -> bool:
    """Whether the district at token d is where someone comes from, not where things are:
    "boys from Rahim Yar Khan and Lodhran", "بہاولپور سے لائے"."""
    term = doc.hit(d, "district")
    end = d + (term.size if term is not None else 1)
    if end < doc.size and doc.words[end] in _FROM_AFTER:
        return True
    k = d - 1
    while k >= 0 and d - k < 8:
        w = doc.words[k]
        if w in _FROM_BEFORE:
            return True
        if w not in _LIST_GLUE and k not in doc.inside and doc.hit(k, "district") is None:
            return False
        k -= 1
    return False


def _bound(doc: Doc, d: int) -> bool:
    """Whether the district at token d is where someone was bound: "bound for Quetta"."""
    return d >= 2 and doc.words[d - 1] == "for" and doc.words[d - 2] in _BOUND


_BOUND: Final = frozenset(("bound", "headed", "destined", "leaving"))
_FROM_BEFORE: Final = frozenset(("from",))
_FROM_AFTER: Final = frozenset(normalize(w) for w in ("se", "say", "سے"))
_LIST_GLUE: Final = frozenset(normalize(w) for w in (",", "،", "and", "aur", "or", "اور"))


def _crosses_sentence(doc: Doc, a: int, b: int) -> bool:
    return any(doc.words[k] in SENTENCE_ENDS for k in range(a, b))


def _person(
    doc: Doc, i: int, term: Term, districts: list[int], stations: _Stations
) -> _Candidate | None:
    """A person named right after the rank at i (or after a station there), or before it.

    `stations`: `_station` of each station's keyword, by where it stands.
    """
    if doc.words[i] == "@" and not _spaced(doc, i):
        return None  # an address, "ali@gmail.com", not a record's "Nadeem @ Nadu"
    j = i + term.size
    while j < doc.size and doc.words[j] == "." and _abbreviated(doc, j - 1):
        j += 1  # "S.H.O. Rana Tariq", not "his brother-in-law. Haji Bashir"
    if _is_then_capital(doc, i, j):
        j += 1  # "the agent is Behlol", "our munshi was Faqeera"
    where = _past_where(doc, j)  # "a property dealer on Military Road, Imran Ali Soomro,"
    if not (where > j or _may_name(doc, j, after=True) or _may_name(doc, i - 1, after=False)):
        return None  # most ranks stand alone: answer those before any search
    st = doc.hit(j, "station") if j < doc.size and doc.urdu(j) else None
    station = None
    if st is not None:  # the keyword's, as `_from_lexicon` read it
        station = stations[j] if j in stations else _station(doc, j, st, districts)
    if station is not None:
        j = station[1]  # "ایس ایچ او تھانہ صدر رانا طارق": the name is after the station
    naming = term.value == _NAMING
    name_word = naming and doc.words[i] in _NAME_WORDS
    if name_word and j < doc.size and doc.urdu(j) and not known(doc.words[j]):
        # after "نام" ("name") a listed name, or one word before "ہے": "ان کے نام لکھے" is
        # "their names", "اس کا نام زورآور ہے" "his name is Zorawar"
        copula = j + 1 < doc.size and doc.words[j + 1] in COPULAS
        plain = doc.words[j] not in stopwords() and j not in doc.hits
        end = j + 1 if copula and plain else j
    else:
        end = name_end(doc, j, station=False, ranked=True)
        if end == j < doc.size and doc.text[doc.starts[j]].islower():
            # "munshi zorawar ne", "naam zorawar hai"
            end = roman_unlisted(doc, j, named=name_word)
        if end == j and doc.words[i] in _ALIASES and _bare_nickname(doc, j):
            end = j + 1  # "sajjad urf sajju har hafte": whatever follows "alias" is a name
    if end == j and name_word:
        end = _named_before_is(doc, j)  # "naam behlol tarkhan hai", "نام بہلول ترکھان ہے"
    if name_word and end == j + 1 and _everyday_after_name_word(doc, j):
        end = j  # "میرا نام ظاہر نہ کریں", "do not make my name known": no one named Zahir
    if not naming:
        end = _run_to_ergative(doc, j, end)  # "ایجنٹ بہلول ترکھان نے", "agent behlol tarkhan ne"
    if end - j > 1 and end < doc.size and doc.words[end] in _PLACE_ENDS:
        end -= 1  # "ایس ایچ او طارق محمود نور پور میں": the last word begins a place, Noor Pur
    if doc.words[i] in _NAMED_AFTER:
        end = j  # "اسلم نامی ایجنٹ": the name is before; "علاقے کا نامی بدمعاش", "notorious"
    if end > j and (is_name(doc, j, end) or (naming and end - j == 1)):
        return _candidate(doc, j, end, term.value)  # "urf Kaka": a nickname after "alias"
    if end == j + 1 and _noun_after_rank(doc, j):
        return _candidate(doc, j, end, term.value)  # "منشی گلاب کا نمبر", "driver rafiq ne"
    # "the agent, Haji Bashir, paid": a name of two words or more between commas, and so
    # after where he works
    if where > j:
        j = where
    if j < doc.size and doc.words[j] == ",":
        end = name_end(doc, j + 1, station=False, ranked=True)
        if end - j > 2 and end < doc.size and doc.words[end] in (",", "."):
            return _candidate(doc, j + 1, end, term.value)
        if end - j == 2 and _one_between_commas(doc, i, j + 1):
            return _candidate(doc, j + 1, end, term.value)  # "our munshi, Faqeera, keeps"
    # "Rana Tariq, the SHO" / "Rana Tariq (SHO)" / "Rana Tariq SHO" / "رانا طارق ایس ایچ او"
    # and after a comma "Faqeera, our munshi" / "Faqeera, a driver from Kasur"
    k = i - 1
    at = _place_ending_at(doc, i)
    if at is not None and at >= 2 and doc.words[at - 1] in _DETERMINERS and doc.raw(at - 2) == ",":
        k = at - 1  # "Shahid Hussain, the Gujar Khan agent": a place between it and the rank
    if k >= 1 and doc.words[k] in _DETERMINERS and doc.words[k - 1] in _IS:
        k -= 2  # "Behlol Tarkhan is the agent", "Faqeera was our munshi"
    elif k >= 1 and doc.words[k] in _IS and doc.latin(k - 1) and doc.capital(k - 1):
        k -= 1  # "the kiln where Allah Ditta is munshi", "Rana Tariq was SHO then"
    elif k >= 0 and (doc.words[k] == "the" or _described(doc, k)):
        k -= 1
    if k >= 1 and doc.words[k] in (",", "(", "،"):
        k -= 1
    if k >= 0 and not doc.punct(k) and doc.latin(k) == doc.latin(i):
        begin = name_start(doc, k + 1, station=False)
        if begin == k == i - 1 and doc.words[k] in _PEOPLES:
            return None  # "the Pathan guard", "پسنی کا بلوچ ٹرانسپورٹر": a kind of man
        if begin <= k and is_name(doc, begin, k + 1):
            return _candidate(doc, begin, k + 1, term.value)
    return None


# What follows a noun, never a predicate adjective: case endings, and a possessive or
# quantifier opening the clause a subject begins ("منشی گلاب ہمارا حساب رکھتا ہے"). After a
# rank, an everyday word that is a name too before one is the man's name ("ڈرائیور رفیق
# نے", "munshi gulab ka number"); before "ہے"/"hai" it says what he is ("تھانیدار شریف ہے":
# "the thanedar is decent"). Not "سے"/"se" ("ایس ایچ او ملک سے باہر ہے").
_CASE_ENDINGS: Final = frozenset(
    normalize(w) for w in ("نے", "کا", "کی", "کے", "کو", "ne", "ka", "ki", "ke", "ko")
)
_NOUN_NEXT: Final = _CASE_ENDINGS | frozenset(
    normalize(w)
    for w in ("ہمارا", "ہماری", "ہمارے", "ہر", "سب", "hamara", "hamari", "hamare", "har", "sab")
)
# Everyday words that are names too but name a kind of person, God or a place, and so take
# a case ending after a rank as often as a name does: "munshi malik ko" (the owner), "ایس
# ایچ او ملک کو لوٹ رہا ہے" (the country), "منشی وکیل کو" (a lawyer), "ایجنٹ دوست کے" (a
# friend), "ایس ایچ او جان کی دھمکی" (life), "لڑکی کی عمر" (age).
_PERSON_NOUNS: Final = frozenset(
    normalize(w)
    for w in (
        *("malik", "sardar", "ustad", "ustaad", "wakil", "wakeel", "dost", "baba", "hakim"),
        *("imam", "nawab", "qazi", "jan", "din", "haq", "noor", "mehar", "wazir", "hari"),
        *("ملک", "سردار", "استاد", "وکیل", "دوست", "بابا", "حکیم", "امام", "نواب", "قاضی"),
        *("جان", "دین", "حق", "نور", "مہر", "وزیر", "ہری", "عمر", "عالم", "بچہ", "فقیر"),
        *("خادم", "سائیں", "پیر", "میاں", "شاہ", "سید", "شیخ", "حاجی", "مولا", "نبی", "رسول"),
        *("عزیز", "خدا", "اللہ", "حضرت", "حضور", "ریاست", "دعا", "قدرت", "نظر", "رحمت"),
        *("فضل", "انتظار", "مرید", "غلام", "کاکا", "منا", "منی", "بی", "بائی", "مری", "دتہ"),
    )
)


def _noun_after_rank(doc: Doc, j: int) -> bool:
    """Whether token j, right after a rank, an everyday word that is a name too (names.txt's
    "?"), is used as a noun there, so the man's name: a case ending or a clause's possessive
    follows it (`_NOUN_NEXT`), in its script, and it names no kind of person (`_PERSON_NOUNS`)."""
    if j + 1 >= doc.size or doc.punct(j) or j in doc.hits or j in doc.inside:
        return False
    word = doc.words[j]
    if word not in weak_words("names.txt") or word in _PERSON_NOUNS or word in titles():
        return False
    if word in stopwords() or doc.latin(j) == doc.urdu(j):
        return False
    if j + 2 < doc.size and doc.words[j + 2] in _PLACE_AFTER_KE:
        return False  # "ایس ایچ او نہر کے پار گیا": a place the man went to, not his name
    return doc.words[j + 1] in _NOUN_NEXT and doc.latin(j + 1) == doc.latin(j)


# Postpositions made with "کے" that say where ("کے پار", across; "کے کنارے", on the bank):
# the noun before them is a place or thing.
_PLACE_AFTER_KE: Final = frozenset(
    normalize(w)
    for w in (
        *("پار", "کنارے", "اندر", "باہر", "اوپر", "نیچے", "قریب", "پیچھے", "سامنے", "نزدیک"),
        *("paar", "par", "kinare", "andar", "bahar", "upar", "neeche", "qareeb", "peeche"),
    )
)


# Peoples whose names are surnames too ("Nawaz Baloch"): one alone right before a rank or
# trade says what kind of man he is, not who ("a Baloch driver", "پٹھان چوکیدار").
_PEOPLES: Final = frozenset(
    normalize(w)
    for w in (
        *("baloch", "balouch", "pathan", "pathaan", "kashmiri", "hazara", "makrani", "mohajir"),
        *("muhajir", "بلوچ", "پٹھان", "کشمیری", "ہزارہ", "مکرانی", "مہاجر"),
    )
)


# Words before a rank that make it one man ("the agent", "our munshi"), or, after a comma,
# say what the name before is ("Faqeera, our munshi", "Faqeera, a driver").
_DETERMINERS: Final = frozenset(("the", "our", "my", "his", "her", "their", "a", "an"))
_DEFINITE: Final = _DETERMINERS - {"a", "an"}
_IS: Final = frozenset(("is", "was"))


def _one_between_commas(doc: Doc, i: int, k: int) -> bool:
    """Whether token k, one capitalised word between commas after a rank at i that names
    one man ("the agent, Behlol, took"), is his name: no acronym, plural or adverb."""
    raw = doc.raw(k)
    return (
        i > 0
        and doc.words[i - 1] in _DEFINITE
        and k + 1 < doc.size
        and doc.words[k + 1] == ","
        and doc.latin(k)
        and doc.capital(k)
        and not (len(raw) > 1 and raw.isupper())
        and not _plural(doc.words[k])
    )


# English words that open where a man works, between his rank and his name between commas.
_WHERE: Final = frozenset(("on", "in", "at", "of", "from", "near"))


def _past_where(doc: Doc, j: int) -> int:
    """Token j, or the comma after a short English phrase of place at j that ends in one
    ("on Military Road," "at the Sukkur bus stand,"): at most five words, the first a
    preposition, the rest capitalised or "the"."""
    if j >= doc.size or doc.words[j] not in _WHERE:
        return j
    k = j + 1
    while k < doc.size and k - j <= 5 and doc.words[k] != ",":
        if not (doc.latin(k) and (doc.capital(k) or doc.words[k] == "the")) or doc.punct(k):
            return j
        k += 1
    return k if k < doc.size and k > j + 1 and doc.words[k] == "," else j


def _place_ending_at(doc: Doc, i: int) -> int | None:
    """Where a district's or town's name that ends right before token i starts, if one does."""
    for size in (1, 2, 3):
        start = i - size
        if start >= 0 and (place := doc.hit(start, "district")) is not None and place.size == size:
            return start
    return None


def _described(doc: Doc, k: int) -> bool:
    """Whether token k is a determiner after a comma: "Faqeera, our munshi", "..., a driver"."""
    return k >= 1 and doc.words[k] in _DETERMINERS and doc.words[k - 1] == ","


def _is_then_capital(doc: Doc, i: int, j: int) -> bool:
    """Whether "is" or "was" at token j, after a rank at i that names one man ("the agent",
    "their village agent"), comes before a capitalised word in English: "the agent is
    Behlol"."""
    if not (j + 1 < doc.size and doc.words[j] in _IS):
        return False  # asked first: after most ranks is no "is"
    one = i > 0 and doc.words[i - 1] in _DEFINITE
    # one word between: "their village agent", "the Kasur agent"
    two = i > 1 and doc.words[i - 2] in _DEFINITE and doc.latin(i - 1) and not doc.punct(i - 1)
    return (one or two) and doc.latin(j + 1) and doc.capital(j + 1)


# The second word of a place named after a man, written apart: "Noor Pur", "Faisal Town",
# "Iqbal Colony", "نور پور": a name word before one begins the place, not the name.
_PLACE_ENDS: Final = frozenset(
    normalize(w)
    for w in (
        *("town", "colony", "road", "chowk", "abad", "pur", "mohalla", "bazaar", "bazar"),
        *("ٹاؤن", "کالونی", "روڈ", "چوک", "آباد", "پور", "محلہ", "بازار"),
    )
)


def _abbreviated(doc: Doc, k: int) -> bool:
    """Whether token k, before a ".", is an abbreviation's (S.H.O., ASI., Const.), not a
    word ending a sentence ("... owned by his brother-in-law. Haji Bashir ...")."""
    raw = doc.raw(k)
    return raw.isupper() or len(raw) <= 2 or doc.words[k] in _SHORTENED


_SHORTENED: Final = frozenset(("const", "insp", "inspr", "constt", "dr"))


# The designation of words that name whoever follows ("named", "alias", عرف): after one,
# even an everyday word that is a name too is one ("urf kaka", "عرف جانی").
_NAMING: Final = "Named"


def _everyday_after_name_word(doc: Doc, j: int) -> bool:
    """Whether word j, alone after a word for "name", is the everyday word a name shares
    (names.txt's "?" spellings: ظاہر "known", شریف "decent"), not said to be the name by an
    "is" after it ("نام ظاہر نہ کریں" is "do not reveal the name"; "نام شریف ہے" names Sharif)."""
    if doc.words[j] not in weak_words("names.txt"):
        return False
    return not (j + 1 < doc.size and doc.words[j + 1] in COPULAS)


# Of those, the words for "name" itself: "ان کے نام لکھے" is "their names", no name after.
_NAME_WORDS: Final = frozenset(normalize(w) for w in ("نام", "naam", "name"))
# Of those, the words for "alias": the word after one is a second name, listed or not, in
# lower case or Urdu letters ("sajjad baloch urf sajju har hafte", "ندیم عرف ٹکا ہر روز").
_ALIASES: Final = frozenset(normalize(w) for w in ("urf", "urff", "alias", "aka", "عرف", "@"))


# After a rank, the ergative and "sahib" end a name the lists lack: "ایجنٹ بہلول ترکھان نے".
_ERGATIVES: Final = frozenset(normalize(w) for w in ("نے", "صاحب", "ne", "sahib", "sahab", "sb"))


def _run_to_ergative(doc: Doc, j: int, end: int) -> int:
    """Where a name after a rank at j ends, when it has two words before "ne" or "sahib"
    and the lists know one of them or none ("agent aslam tarkhan ne", "ایجنٹ بہلول ترکھان
    نے"); `end` (the end found) otherwise. Each word is in the first one's script, no
    everyday word and no capital (capitals end a name by themselves)."""
    last = j + 2
    if end > last or last >= doc.size or doc.words[last] not in _ERGATIVES:
        return end
    if doc.latin(last) != doc.latin(j):
        return end
    for x in range(j, last):
        if doc.capital(x) or doc.latin(x) != doc.latin(j) or not _bare_nickname(doc, x):
            return end
    return last


def _named_before_is(doc: Doc, j: int) -> int:
    """Where a name of two or three words the lists lack ends, given after a word for "name"
    at j - 1 and before "is" ("us ka naam behlol tarkhan hai"); j if none is there. Each
    word is in the script of the first and no everyday word of the lists."""
    for end in range(j + 2, min(j + 4, doc.size)):
        if doc.words[end] in COPULAS:
            ok = all(doc.latin(x) == doc.latin(j) and _bare_nickname(doc, x) for x in range(j, end))
            return end if ok else j
    return j


def _bare_nickname(doc: Doc, k: int) -> bool:
    """Whether token k, after "alias", is a nickname: a word, no everyday word of the lists."""
    if not 0 <= k < doc.size or doc.punct(k) or k in doc.hits or k in doc.inside:
        return False
    word = doc.words[k]
    if word in stopwords() or word in titles() or word in _NOT_STATION_NAMES:
        return False
    return word.isalpha() and (doc.urdu(k) or (doc.latin(k) and len(word) > 2))


def _may_name(doc: Doc, k: int, *, after: bool) -> bool:
    """Whether a name could start (`after` a rank) or end (before one) at token k, or a mark
    between it and a rank is there. In Urdu, as `name_end` and `name_start` would find: a
    name before a rank ends in a known word, one after it starts with one or ends next."""
    if not 0 <= k < doc.size:
        return False
    words = doc.words
    word = words[k]
    if word in (",", "(", "،", "the"):
        return True
    if not after and k:
        if word in _DETERMINERS and (words[k - 1] == "," or words[k - 1] in _IS):
            return True  # "Faqeera, our munshi" (`_described`), "Behlol Tarkhan is a broker"
        if word in _IS and doc.latin(k - 1) and doc.capital(k - 1):
            return True  # "where Allah Ditta is munshi"
    c = word[0]  # `Doc.punct`, `latin` and `urdu` ask this, one call each: asked here
    if not (c.isalnum() or c == "_") or word in stopwords():
        return False
    # after a word for "name": one word before "is" ("naam zorawar hai", "نام زورآور ہے")
    if after and k and words[k - 1] in _ALIASES and _bare_nickname(doc, k):
        return True
    named = after and k and words[k - 1] in _NAME_WORDS
    if named and k + 1 < doc.size and doc.words[k + 1] in COPULAS:
        return True
    if named and _named_before_is(doc, k) > k:
        return True
    # (`_run_to_ergative` finds none unless the word two on is an ergative: asked first)
    if (
        after
        and k + 2 < doc.size
        and words[k + 2] in _ERGATIVES
        and _run_to_ergative(doc, k, k) > k
    ):
        return True
    if c.isascii() and c.isalpha():
        return (
            doc.text[doc.starts[k]].isupper()
            or word in names()
            or (after and roman_unlisted(doc, k) > k)
        )
    if not ("\u0600" <= c <= "\u06ff" and c.isalpha()):
        return False
    if known(word) or word in titles():
        return True
    if not after:
        return False
    # "ایس ایچ او تھانہ صدر رانا طارق": the name after the rank's station
    return doc.hit(k, "station") is not None or urdu_name_word(doc, k, first=True, station=False)


# Past this many different full names in one text, short mentions are not matched to them
# (each would be compared with every name: time growing faster than the text).
_MOST_NAMES: Final = 100


def _same_people(doc: Doc, found: list[_Candidate]) -> list[_Candidate]:
    """A report's short mentions of a person it names in full.

    "Nadeem Akhtar ... nadeem ne kaha", "ندیم اختر ... ندیم کا نمبر": a word of a name of
    two words or more found in the report, standing alone, is a person, when one name of
    the report holds it and it is no common word (Muhammad, Khan), title (Haji) or
    everyday word that is a name too (شریف). It keeps its own one-word key (a weak link:
    "Nadeem" in another report may be anyone), as does a shorter name of several words
    ("Akram Bhatti" beside "Muhammad Akram Bhatti"): keyed as the full name, it would no
    longer meet the same short name in other reports. A name of one word the report gives
    a person by a rank or "alias" is that person alone later, under the same key
    (`_given_names`).
    """
    full = {c.key for c in found if c.kind == "person" and " " in c.key}
    given = _given_names(doc, found)
    if not (full or given) or len(full) > _MOST_NAMES:
        return found  # a "report" naming hundreds of people is a list: no guessing in it
    skip = common_words() | titles()
    owners: dict[str, set[str]] = {}  # a name word (canonical) to the full names holding it
    for key in full:
        for w in key.split():
            if w not in skip and not w.startswith("~") and len(w) > 2:
                owners.setdefault(w, set()).add(key)
    out = list(found)
    alone = {
        spelt: next(iter(keys))
        for w, keys in owners.items()
        if len(keys) == 1
        for spelt in spellings().get(w, ())
    }
    alone.update(given)
    alone.update(_unlisted_parts(doc, found))
    if not alone:
        return out
    weak, places = weak_words("names.txt"), place_words()
    covered = [False] * doc.size
    for c in found:  # found is in order and without overlaps: one walk over the tokens
        k = bisect.bisect_left(doc.starts, c.start)
        while k < doc.size and doc.starts[k] < c.end:
            covered[k] = True
            k += 1
    for k in [k for k, w in enumerate(doc.words) if w in alone and not covered[k]]:
        if doc.words[k] in weak and doc.words[k] not in given and not _noun_alone(doc, k):
            continue
        if k + 1 < doc.size and doc.words[k + 1] in places:
            continue
        key = given.get(doc.words[k]) or key_of([doc.words[k]])
        out.append(_Candidate("person", doc.starts[k], doc.ends[k], key))
    out.sort(key=lambda c: c.start)
    return out


def _noun_alone(doc: Doc, k: int) -> bool:
    """Whether token k, an everyday word that is a name too and a word of one name the report
    gives in full, is that person: used as a noun, before a case ending ("ظفر اقبال ...
    ظفر کا نمبر"), and naming no kind of person, God or place (`_PERSON_NOUNS`)."""
    return (
        k + 1 < doc.size
        and doc.words[k] not in _PERSON_NOUNS
        and doc.words[k + 1] in _CASE_ENDINGS
        and doc.latin(k + 1) == doc.latin(k)
    )


def _unlisted_parts(doc: Doc, found: list[_Candidate]) -> dict[str, str]:
    """Words the lists lack of the report's names of two words or more, each held by one
    name alone ("Behlol" of "Behlol Tarkhan", later "Behlol said"), as written; only in
    capitals, which set a name's ends (a name in Urdu letters or lower case may have run
    on into an everyday word, which would then be a person wherever it stood)."""
    owners: dict[str, set[str]] = {}
    for c in found:
        if c.kind != "person" or " " not in c.key:
            continue
        k = bisect.bisect_left(doc.starts, c.start)
        while k < doc.size and doc.starts[k] < c.end:
            word = doc.words[k]
            if doc.capital(k) and len(word) > 3 and word.isalpha() and not known(word):
                owners.setdefault(word, set()).add(c.key)
            k += 1
    return {w: next(iter(keys)) for w, keys in owners.items() if len(keys) == 1}


def _given_names(doc: Doc, found: list[_Candidate]) -> dict[str, str]:
    """Names of one listed word that the report gives a person by a rank or a word for
    "alias" ("ASI Naveed", "جسے سب جانی کہتے ہیں"), even an everyday word that is a name
    too (جانی): said alone later in the report ("جانی نے بتایا"), they are that person."""
    given: dict[str, str] = {}
    for c in found:
        if c.kind != "person" or c.designation is None:
            continue
        k = bisect.bisect_left(doc.starts, c.start)
        if doc.ends[k] == c.end and doc.words[k] in names() and doc.words[k] not in titles():
            given[doc.words[k]] = c.key
    return given


def _unranked(doc: Doc) -> Iterator[_Candidate]:
    for i, j in people_by_name(doc):
        # a run of names holds a listed one: "District" before "Rahim Yar Khan" is none
        if any(known(doc.words[x]) for x in range(i, j)) and not _a_kind(doc, i, j):
            yield _candidate(doc, i, j, None)
    for i, j in itertools.chain(people_by_cue(doc), _nicknamed_kin(doc)):
        if not _a_kind(doc, i, j):
            yield _candidate(doc, i, j, None)
    for i, j in _people_by_phrase(doc):
        yield _candidate(doc, i, j, _NAMING)
    for i, j in itertools.chain(
        _doers(doc),
        _titled(doc),
        _kin_marked(doc),
        _quoted(doc),
        _owners(doc),
        _whos(doc),
        _by_whom(doc),
    ):
        yield _candidate(doc, i, j, None)


# English verbs whose doer follows "by" ("owned by Behlol Tarkhan", "arranged by Zorawar"),
# and those whose receiver follows "to" ("belongs to Zorawar", "handed over to Behlol"):
# never "sent to", "taken to", which take places.
_DONE_BY: Final = frozenset(
    (
        *("owned", "run", "controlled", "managed", "operated", "recruited", "trafficked"),
        *("kidnapped", "abducted", "beaten", "threatened", "employed", "hired", "arranged"),
        *("introduced", "sold", "cheated", "deceived", "abused", "raped", "tortured", "bought"),
    )
)
_GIVEN_TO: Final = frozenset(
    ("belongs", "belonged", "handed", "over", "married", "paid", "given", "gave", "sold")
)


def _by_whom(doc: Doc) -> Iterator[tuple[int, int]]:
    """A capitalised name the lists lack after "owned by", "belongs to" and their kind."""
    n, present = doc.size, {"by", "to"}.intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        verbs = _DONE_BY if doc.words[k] == "by" else _GIVEN_TO
        j = k + 1
        if not (k and doc.words[k - 1] in verbs and j < n and doc.latin(j) and doc.capital(j)):
            continue
        end = name_end(doc, j, station=False)
        if end > j and not _plural(doc.words[end - 1]) and _proper_name(doc, j, end):
            yield j, end


# English words after a name that only a person takes: "Behlol Tarkhan, who lives in
# Gujrat", "It was Behlol who sold us", "Behlol and his men beat us".
_WHO: Final = frozenset(("who", "whom", "whose"))
_HIS: Final = frozenset(("his", "her"))


def _whos(doc: Doc) -> Iterator[tuple[int, int]]:
    """A capitalised name the lists lack before "who" or "and his" ("and her")."""
    n, present = doc.size, (_WHO | {"and"}).intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        if doc.words[k] == "and" and not (k + 1 < n and doc.words[k + 1] in _HIS):
            continue
        end = k - 1 if k and doc.words[k - 1] == "," else k
        if not (end and doc.latin(end - 1) and doc.capital(end - 1)):
            continue
        start = name_start(doc, end, station=False)
        if start == end or _plural(doc.words[end - 1]) or not _proper_name(doc, start, end):
            continue
        if end - start == 1 and (start == 0 or doc.words[start - 1] in SENTENCE_ENDS):
            continue  # "Everyone who paid", "Someone who knew": a capital a sentence gives
        yield start, end


# What a man owns or who works for him, after a possessive ("Behlol's van", "Shamraiz's
# mobile", "Leghari's manager"), besides the kin and men `people_by_cue` knows.
_OWNED: Final = frozenset(
    (
        *("car", "cars", "van", "vans", "jeep", "pickup", "truck", "trucks", "coach", "coaches"),
        *("bus", "buses", "motorcycle", "motorbike", "bike", "tractor", "rickshaw", "mobile"),
        *("landline", "cell", "whatsapp", "office", "shop", "godown", "farm", "farmhouse"),
        *("haveli", "factory", "kilns", "manager", "managers", "reader", "group", "gang"),
        *("wife", "daughter", "daughters", "sister", "mother", "husband", "niece", "relative"),
        *("relatives", "guard", "gunmen", "gunman", "henchmen", "accomplice", "servant"),
        *("servants", "workers", "own"),
    )
)


def _owners(doc: Doc) -> Iterator[tuple[int, int]]:
    """A capitalised name the lists lack before "'s" and a thing or man he owns."""
    present = _OWNED.intersection(doc.vocabulary)
    for k in (
        itertools.compress(range(doc.size), map(present.__contains__, doc.words)) if present else ()
    ):
        mark = k - 2
        if mark < 1 or doc.words[k - 1] != "s" or doc.words[mark] not in _QUOTES:
            continue
        if not (doc.latin(mark - 1) and doc.capital(mark - 1)):
            continue
        start = name_start(doc, mark, station=False)
        if start < mark and _proper_name(doc, start, mark):
            yield start, mark


# Quotation marks round a nickname, and the ergative after it: '"کالا" نے ہمیں مارا'.
_QUOTES: Final = frozenset(('"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "«", "»"))
_NE: Final = frozenset(normalize(w) for w in ("نے", "ne"))


def _quoted(doc: Doc) -> Iterator[tuple[int, int]]:
    """A word or two in quotation marks before the ergative ("'کالا' نے", '"kala" ne'): only
    one who acts takes "ne", and the marks say the words are what he is called."""
    present = _NE.intersection(doc.vocabulary)
    for k in (
        itertools.compress(range(doc.size), map(present.__contains__, doc.words)) if present else ()
    ):
        if k < 3 or doc.words[k - 1] not in _QUOTES:
            continue
        start = next((x for x in (k - 2, k - 3) if x >= 1 and doc.words[x - 1] in _QUOTES), 0)
        words = range(start, k - 1)
        if start and all(_bare_nickname(doc, x) and doc.latin(x) == doc.latin(k) for x in words):
            yield start, k - 1


# Words a record puts between a name and the father's or husband's ("Aslam s/o Nazir",
# "رضیہ بنت اللہ دتہ", "son of"): both sides are names, listed or not, in every register.
_KIN_OF: Final = frozenset(
    normalize(w)
    for w in (
        *("ولد", "بنت", "زوجہ", "دختر", "بیوہ", "walad", "wald", "bint", "zauja", "zoja"),
        *("zauja", "zaoja", "zouja"),
    )
)
_SLASH_KIN: Final = frozenset(("s", "d", "w"))
_OF_KIN: Final = frozenset(("son", "daughter", "wife", "widow"))


def _kin_marked(doc: Doc) -> Iterator[tuple[int, int]]:
    """The names on both sides of "s/o", "d/o", "w/o", "son of", "ولد", "بنت", "زوجہ", and
    of a record's "@" for "alias" ("Nadeem @ Nadu")."""
    n = doc.size
    present = (_KIN_OF | {"/", "of", "@"}).intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        word = doc.words[k]
        if word == "@":  # a record's "alias", "Nadeem @ Nadu"; never an address's "ali@x.pk"
            if not _spaced(doc, k):
                continue
            first, after = k, k + 1
        elif word == "/":  # "s/o": the mark's letters are k - 1..k + 1
            if not (k and k + 1 < n and doc.words[k - 1] in _SLASH_KIN and doc.words[k + 1] == "o"):
                continue
            first, after = k - 1, k + 2
        elif word == "of":
            if not (k and doc.words[k - 1] in _OF_KIN and doc.latin(k - 1)):
                continue
            first, after = k - 1, k + 1
        else:
            first, after = k, k + 1
        before, behind = _kin_name(doc, first, before=True), _kin_name(doc, after, before=False)
        for i, j in (before, behind):
            if i < j and is_name(doc, i, j):
                yield i, j
            elif (i, j) == before and word not in ("@", "of") and _whose_kin(doc, i, j, behind):
                yield i, j  # "ثنا دختر محمد اشرف": whose daughter she is says she is one


def _whose_kin(doc: Doc, i: int, j: int, behind: tuple[int, int]) -> bool:
    """Whether tokens i..j, one everyday word that is a name too before a record's kin mark
    ("s/o", "ولد", "دختر"), are a person's name: a name stands after the mark, and the word
    names no kind of person, God or place (`_PERSON_NOUNS`). A record names a man or woman
    by whose child or wife they are; "ثنا دختر محمد اشرف" is Sana, no "praise"."""
    b, e = behind
    return (
        j - i == 1
        and doc.words[i] in weak_words("names.txt")
        and doc.words[i] not in _PERSON_NOUNS
        and b < e
        and is_name(doc, b, e)
    )


def _spaced(doc: Doc, k: int) -> bool:
    """Whether token k stands apart, with a space or a text's end on both sides."""
    before = doc.text[doc.starts[k] - 1] if doc.starts[k] else " "
    after = doc.text[doc.ends[k]] if doc.ends[k] < len(doc.text) else " "
    return before.isspace() and after.isspace()


def _kin_name(doc: Doc, k: int, *, before: bool) -> tuple[int, int]:
    """The name ending before token k (`before`) or starting at it, beside a kin mark: in
    capitals as capitals end it, in Urdu letters or lower case two words the lists lack at
    most (a third only if listed: "ملزم بہلول ترکھان ولد" is the accused Behlol Tarkhan),
    and none past a listed name that is no common one ("گواہ اسلم ولد": the witness Aslam)."""
    step = -1 if before else 1
    x = k - 1 if before else k
    if not 0 <= x < doc.size or not _kin_word(doc, x):
        return 0, 0
    if doc.latin(x) and doc.capital(x):
        if before:
            return name_start(doc, k, station=False), k
        return k, name_end(doc, k, station=False)
    taken, y, listed = 0, x, False
    while 0 <= y < doc.size and taken < 3 and _kin_word(doc, y):
        if doc.latin(y) != doc.latin(x) or doc.capital(y):
            break
        word = doc.words[y]
        if not known(word) and (taken == 2 or listed):
            break  # "گواہ اسلم ولد نذیر": a listed name is whole without the witness
        listed = listed or (word in names() and word not in common_words())
        taken += 1
        y += step
    return (y + 1, k) if before else (k, y)


def _kin_word(doc: Doc, k: int) -> bool:
    """Whether token k may be a word of a name beside a kin mark (no rank, place nor
    everyday word; in lower case no Roman Urdu word of grammar)."""
    if doc.punct(k) or k in doc.hits or k in doc.inside:
        return False
    word = doc.words[k]
    if word in stopwords() or word in _KIN_OF or word in _NOT_NICKNAMES or not word.isalpha():
        return False
    if doc.latin(k):
        return doc.capital(k) or known(word) or (len(word) > 3 and _nickname(doc, k))
    return doc.urdu(k)


# Titles in Latin letters that say a name follows even in lower case; "mai" is Roman Urdu's
# "I" too, "pir" Monday ("mai sharif aadmi hun": "I am a decent man").
_SURE_TITLES: Final = frozenset(
    (
        *("haji", "hajji", "chaudhry", "chaudhary", "ch", "rana", "malik", "syed", "sheikh"),
        *("sardar", "mirza", "khawaja", "khwaja", "hafiz", "maulana", "qazi", "begum", "bibi"),
    )
)


def _titled(doc: Doc) -> Iterator[tuple[int, int]]:
    """A title and one everyday word that is a name too: "Mai Jannat", "مائی جنت نے", "حاجی
    شریف کا": a title says a name follows, where a rank ("تھانیدار شریف", "a decent SHO")
    does not."""
    n, title_words = doc.size, titles()
    present = title_words.intersection(doc.vocabulary)
    weak = weak_words("names.txt")
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        x = k + 1
        if x >= n or doc.words[x] not in weak or doc.words[x] in title_words:
            continue
        if doc.latin(k) != doc.latin(x) or doc.words[x] in stopwords() or x in doc.hits:
            continue
        if doc.latin(k) and not (doc.capital(k) or doc.words[k] in _SURE_TITLES):
            continue
        if x + 1 < n and (known(doc.words[x + 1]) or doc.words[x + 1] in title_words):
            continue  # a longer name: `people_by_name` reads it whole
        yield k, x + 1


# English verbs only a person does, after a capitalised name the lists lack ("Behlol
# arranged the visas"), besides those `people_by_cue` knows. (Verbs a thing does too, as
# "came", "sent", "had", took months and offices for men even inside a sentence: "That
# year Muharram came", "Then Consulate sent a letter".)
_DOES: Final = frozenset(
    (
        *("arranged", "arranges", "lied", "lies", "cheated", "cheats", "recruited"),
        *("recruits", "smuggled", "smuggles", "drives", "drove", "phoned", "rang", "visited"),
        *("married", "arrested", "grabbed", "dragged", "pushed", "charged", "charges"),
        *("bribed", "bought", "hired", "hires", "lives", "lived", "wanted", "wants"),
        *("introduced", "handed", "returned", "escaped", "fled", "disappeared", "promised"),
    )
)


def _doers(doc: Doc) -> Iterator[tuple[int, int]]:
    """Capitalised names the lists lack before a verb only a person does (`_DOES`)."""
    n, present = doc.size, _DOES.intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        if not (k and doc.latin(k - 1) and doc.capital(k - 1)):
            continue
        start = name_start(doc, k, station=False)
        if start == k or not _proper_name(doc, start, k):
            continue
        if k - start == 1 and _plural(doc.words[start]):
            continue  # "Agents came", "Suddenly came"
        yield start, k


def _plural(word: str) -> bool:
    """Whether an unknown word reads as an English plural or adverb ("Boys", "Suddenly")."""
    return (word.endswith("s") and not word.endswith("ss")) or word.endswith("ly")


def _proper_name(doc: Doc, start: int, end: int) -> bool:
    """Whether capitalised Latin tokens start..end make a person's name: no acronym
    ("HRCP") nor brand ("PyPI"), no place's or firm's name ("Faisal Town"), no title
    alone, no number after."""
    for x in range(start, end):
        raw = doc.raw(x)
        if not (doc.latin(x) and doc.capital(x)) or (len(raw) > 1 and raw.isupper()):
            return False
        if any(c.isupper() for c in raw[1:]):
            return False  # "PyPI", "JazzCash": a brand's capitals inside a word
    if end < doc.size and doc.words[end][0].isdigit():
        return False
    if start and doc.words[start - 1] in _THE:
        return False  # "the Program has", "any Derivative Works": no name takes an article
    if any(doc.words[x] in place_words() for x in range(start + 1, min(end + 1, doc.size))):
        return False
    return is_name(doc, start, end)


# Words before a noun that never stand before a person's name in English.
_THE: Final = frozenset(
    (
        *("the", "a", "an", "this", "that", "these", "those", "any", "each", "every"),
        *("our", "my", "his", "her", "their", "its", "your", "such", "no", "some"),
    )
)


# English articles: a word after one is a kind of people, not a man ("he is a Baloch from
# Pasni", "an Afridi"), as "Baloch" or "Afridi" alone are tribes as well as names.
_ARTICLES: Final = frozenset(("a", "an"))


def _a_kind(doc: Doc, i: int, j: int) -> bool:
    """Whether one Latin word at i, after "a" or "an", names a kind of people, not a man."""
    return j - i == 1 and i > 0 and doc.latin(i) and doc.words[i - 1] in _ARTICLES


# A writer giving their own name in Urdu and Roman Urdu: "میں ثنا ہوں", "main sana hun"
# ("I am Sana"); English "I am Sana" and "my name is" are found by the names list and cues.
_I: Final = frozenset(normalize(w) for w in ("میں", "main", "mein", "mai", "mei"))
_AM: Final = frozenset(normalize(w) for w in ("ہوں", "hun", "hoon", "hon", "hoo", "hu", "houn"))
# What everyone calls a man, in Urdu and Roman Urdu: "جسے سب کاکا کہتے ہیں", "usay log kaka
# kehte hain" ("whom all call Kaka"): the word before "call" after "all", "people", "him".
_CALL: Final = frozenset(
    normalize(w)
    for w in (
        *("کہتے", "پکارتے", "بلاتے", "kehte", "kahte", "kehtay", "kahtay", "kehtey"),
        *("pukarte", "pukartay", "bulate", "bulatay", "bulatey"),
    )
)
_CALLERS: Final = frozenset(
    normalize(w)
    for w in (
        *("سب", "لوگ", "اسے", "جسے", "انہیں", "جنہیں", "sab", "sub", "log", "usay", "usey"),
        *("isay", "ise", "jise", "jisay", "jisey", "unhein", "unhen", "jinhein", "jinhen"),
    )
)
# "X kehte hain", "X کہتے ہیں": "they call him X" (and not "they say", a clause after it).
_CALLED_ENDS: Final = frozenset(normalize(w) for w in ("ہیں", "تھے", "hain", "hen", "thay", "the"))


def _people_by_phrase(doc: Doc) -> Iterator[tuple[int, int]]:
    """A writer's own name ("main sana hun") and a man's nickname ("jise sab kaka kehte hain"),
    in Urdu and Roman Urdu, where the words round a name say it is one: a listed name (an
    everyday word that is a name too, ثنا, counts, as it would after "naam"), or, in
    Latin letters, a capitalised word."""
    n = doc.size
    present = (_AM | _CALL | _CALLS | _NAME_WORDS | _NAMED_AFTER).intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        if doc.words[k] in _CALLS:
            if (end := _called(doc, k)) is not None:
                yield k + 2, end
            continue
        if doc.words[k] in _NAMED_AFTER:
            if (begin := _name_of(doc, k)) < k:
                yield begin, k  # "بہلول نامی ایجنٹ", "behlol nami agent"
            continue
        if doc.words[k] in _NAME_WORDS:
            if k + 1 < n and doc.words[k + 1] in _OF_NAME and (begin := _name_of(doc, k)) < k:
                yield begin, k  # "behlol naam ka agent", "بہلول نام کا ایجنٹ"
            continue
        if doc.words[k] in _AM and (speaker := _speaker(doc, k)) is not None:
            yield speaker, k - 2  # "main sukkur se ayaz bol raha hun"
            continue
        if doc.words[k] in _AM:  # "میں وکیل ہوں": "I am a lawyer", no everyday word
            start = _phrase_name(doc, k, _I, everyday=False)
        elif k + 1 < n and doc.words[k + 1] in _CALLED_ENDS:  # a nickname may be one
            start = _phrase_name(doc, k, _CALLERS, everyday=True)
        else:
            continue
        if start is not None:
            yield start, k


# "X bol raha hun", "X بول رہا ہوں": "this is X speaking", how a caller or writer gives his
# own name, after "I" or "from <place>" ("main sukkur se ayaz bol raha hun").
_SPEAK: Final = frozenset(normalize(w) for w in ("bol", "boll", "بول"))
_SPEAKING: Final = frozenset(
    normalize(w) for w in ("raha", "rahi", "rha", "rhi", "reha", "rahee", "رہا", "رہی")
)
_SPEAKER_BEFORE: Final = _I | frozenset(normalize(w) for w in ("se", "sey", "سے"))


def _speaker(doc: Doc, k: int) -> int | None:
    """Where a name of one or two listed words (no everyday word) before "bol raha" and "hun"
    at token k starts; None if there is none."""
    if k < 3 or doc.words[k - 1] not in _SPEAKING or doc.words[k - 2] not in _SPEAK:
        return None
    return _phrase_name(doc, k - 2, _SPEAKER_BEFORE, everyday=False)


# English: "everyone calls him Sajju", "they call her Baji": a capitalised name after.
_CALLS: Final = frozenset(("calls", "call", "called"))
_HIM: Final = frozenset(("him", "her", "himself", "herself"))


def _called(doc: Doc, k: int) -> int | None:
    """Where the name after "calls him" at token k ends, if a capitalised one is there."""
    j = k + 2
    if j >= doc.size or doc.words[k + 1] not in _HIM or not doc.latin(j) or not doc.capital(j):
        return None
    raw = doc.raw(j)
    if len(raw) > 1 and raw.isupper():
        return None  # an acronym, "call him SHO"
    end = name_end(doc, j, station=False)
    return end if end > j and is_name(doc, j, end) else None


# "named", after the name: "بہلول نامی ایجنٹ", "behlol nami agent".
_NAMED_AFTER: Final = frozenset(normalize(w) for w in ("نامی", "nami", "naami"))
# "<name> naam ka", "<name> نام کا": "(a man) of the name <name>".
_OF_NAME: Final = frozenset(normalize(w) for w in ("ka", "ki", "ke", "کا", "کی", "کے"))
# Words before "naam ka" that say what of a name, not which: "jaali naam ka passport".
_NOT_NAMED: Final = frozenset(
    normalize(w)
    for w in (
        *("jaali", "jali", "fake", "asli", "asal", "naqli", "galat", "ghalat", "sahi", "kis"),
        *("pura", "poora", "pure", "poore", "naye", "naya", "purane", "purana", "same"),
        *("جعلی", "نقلی", "اصلی", "اصل", "غلط", "صحیح", "پورا", "پورے", "نئے", "نیا", "پرانے"),
        *("کس", "کسی"),
    )
)


def _name_of(doc: Doc, k: int) -> int:
    """Where a name of one or two words before "naam ka" or "nami" at token k starts (k if
    none)."""
    start = k
    while start > 0 and k - start < 2:
        x = start - 1
        if doc.latin(x) != doc.latin(k) or doc.words[x] in _NOT_NAMED:
            break
        if not _bare_nickname(doc, x) or (doc.latin(x) and len(doc.words[x]) < 3):
            break
        start = x
    return start


def _phrase_name(doc: Doc, k: int, before: frozenset[str], *, everyday: bool) -> int | None:
    """Where a name of one or two words ending before token k starts, right after a word
    of `before`; None if there is none. A word no title nor common name is in it, and,
    unless `everyday`, no everyday word that is a name too (names.txt's "?")."""
    weak = weak_words("names.txt")
    for start in (k - 1, k - 2):
        if start < 1 or not all(_phrase_word(doc, x) for x in range(start, k)):
            return None
        if doc.words[start - 1] in before and doc.latin(start - 1) == doc.latin(start):
            words = [doc.words[x] for x in range(start, k)]
            if any(
                w not in titles() and w not in common_words() and (everyday or w not in weak)
                for w in words
            ):
                return start
    return None


def _phrase_word(doc: Doc, x: int) -> bool:
    """Whether token x may be a word of a name that the phrase round it marks as one."""
    word = doc.words[x]
    if doc.punct(x) or word in stopwords() or x in doc.hits or x in doc.inside:
        return False
    if doc.latin(x):
        return word.isalpha() and (doc.capital(x) or word in names())
    return doc.urdu(x) and known(word)


# A man's nickname before his family's or tribe's name, in lower-case Roman Urdu: "shoki
# butt ne", "pappu khan ka banda" ("Shoki Butt's man"). The nickname is in no list; the
# surname (a common one: Butt, Khan, Gujjar) and what follows (the ergative "ne", "sahib",
# or "ka banda", "someone's man") say the two words are a name.
_HIS_MAN: Final = frozenset(
    ("banda", "bande", "banday", "bandey", "bandon", "aadmi", "admi", "karinda", "karinde")
)
_OF: Final = frozenset(("ka", "ke", "ki", "kay"))
_AFTER_NAMES: Final = frozenset(("ne", "sahib", "sahab", "saheb", "sb"))
# Roman Urdu words before a name that are none of its: "agar butt ne", "jab khan sahib".
_NOT_NICKNAMES: Final = frozenset(
    (
        *("agar", "jab", "tab", "kyunke", "kyunki", "kyun", "jabke", "balke", "halanke"),
        *("shayad", "chunke", "warna", "taake", "takay", "yani", "bhai", "wala", "wali"),
        *("wale", "sirf", "khud", "khas", "koi", "kuch", "woh", "yeh", "vo", "ye", "jo"),
    )
)


def _nicknamed_kin(doc: Doc) -> Iterator[tuple[int, int]]:
    """Two lower-case Roman Urdu words, a nickname the lists lack and a common surname,
    before "ne", "sahib" or "ka banda": "shoki butt ne paise liye"."""
    n, common = doc.size, common_words() - titles()
    present = common.intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        after = k + 1
        if after >= n or not doc.latin(k) or doc.capital(k):
            continue
        if doc.words[after] not in _AFTER_NAMES and not (
            doc.words[after] in _OF and after + 1 < n and doc.words[after + 1] in _HIS_MAN
        ):
            continue
        if k >= 1 and _nickname(doc, k - 1):
            yield k - 1, k + 1


def _nickname(doc: Doc, x: int) -> bool:
    word = doc.words[x]
    return (
        doc.latin(x)
        and not doc.capital(x)
        and word.isalpha()
        and len(word) >= 4
        and word not in names()
        and word not in stopwords()
        and word not in _NOT_STATION_NAMES
        and word not in _NOT_NICKNAMES
        and not word.endswith(_VERB_ENDINGS)
        and x not in doc.hits
        and x not in doc.inside
    )


def _candidate(doc: Doc, i: int, j: int, designation: str | None) -> _Candidate:
    # "ASLAM S/O NAZIR": in capitals, the mark's letters are no initials of either name
    if j - i > 1 and doc.words[j - 1] in _SLASH_KIN and j + 1 < doc.size and doc.words[j] == "/":
        j -= 1
    if j - i > 1 and doc.words[i] == "o" and i > 1 and doc.words[i - 1] == "/":
        i += 1
    kind = _SETTLEMENT if j - i > 1 and doc.words[i] in _SETTLEMENT_HEADS else "person"
    return _Candidate(kind, doc.starts[i], doc.ends[j - 1], name_key(doc, i, j), designation)


# Words that begin a village's, hamlet's or quarter's name, and no man's: "Kot Lakhpat",
# "Chak Jhumra", "Basti Malook", "Goth Ali", "Tando Jam", "Dhok Hassu", "Mauza Kalru".
_SETTLEMENT_HEADS: Final = frozenset(
    normalize(w)
    for w in (
        *("kot", "kotla", "chak", "basti", "goth", "mandi", "pind", "tando", "qila", "qilla"),
        *("killa", "mauza", "mouza", "moza", "jhok", "dhok", "mohalla", "muhalla", "gali"),
        *("کوٹ", "کوٹلہ", "چک", "بستی", "گوٹھ", "منڈی", "پنڈ", "ٹنڈو", "قلعہ", "موضع", "جھوک"),
        *("ڈھوک", "محلہ", "گلی"),
    )
)


# --- what a reviewer types --------------------------------------------------------------------


def key_for(kind: str, text: str) -> str | None:
    """The key a reviewer's own spelling of an entity matches under, or None if it is not one."""
    if kind not in KINDS:
        return None
    found = [e for e in extract(text) if e.kind == kind]
    if len(found) == 1 and found[0].end - found[0].start >= len(text.strip()) * 0.6:
        return found[0].key
    doc = Doc(text)
    if kind == "person":
        ranks = {k + n for k in doc.hits if (r := doc.hit(k, "rank")) for n in range(r.size)}
        keep = [k for k in range(doc.size) if not doc.punct(k) and k not in ranks]
        return key_of(doc.words[k] for k in keep) or None
    if kind == "police_station":
        station, _, district = text.partition("/")
        doc = Doc(station)
        stations = {k for k in doc.hits if doc.hit(k, "station")}
        name = station_key(w for k, w in enumerate(doc.words) if k not in stations)
        district_key = key_for("district", district) if district.strip() else None
        return (f"{name}/{district_key}" if district_key else name) or None
    if kind in ("district", "agency"):  # as typed, so no capitals or cue are needed
        value = canonical_name(kind, text)
        return normalize(value) if value else normalize(text) or None
    if kind == "vehicle":
        return entity_patterns.plate_key(text) or None
    if kind == entity_patterns.REFERENCE:  # as its number is written, however grouped
        if len(found) == 1:  # "FIR No. 245/2024": the number its words name
            return found[0].key
        return entity_patterns.reference_key(text) or None
    return None


def canonical_name(kind: str, phrase: str) -> str | None:
    """The canonical name of the district or agency that the whole of `phrase` spells, if known."""
    tokens = fold_phrase(phrase)
    for form in (" ".join(tokens), "".join(tokens), normalize(phrase)):
        for term in lexicon().get(form, ()):
            if term.kind == kind:
                return term.value
    return None
