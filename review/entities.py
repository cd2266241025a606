"""Entities in report text (Urdu, English, Roman Urdu): people, stations, places, numbers, days.

Hand-written rules over gazetteers kept as package data (`review/data/`): no
model and nothing fetched, since the review workstation is offline. People are
found by a rank, designation or kinship word next to a name ("SHO Rana Tariq",
"Rana Tariq SHO", "اے ایس آئی محمد اسلم", "the agent Bashir"), or by the names
list alone ("Haji Bashir Ahmed", "محمد اسلم نے"); police stations by "police
station"/"thana"/تھانہ next to a name; districts and agencies from lists; CNIC,
phone, vehicle and date by their shape (`review.entity_patterns`).

Each entity keeps the text as written and its offsets, and gets a `key` under
which the same thing matches across reports and scripts. A person's span and key
are the name alone (titles that are part of a name, like Haji or Chaudhry,
included); the rank goes in `designation`. Names and places are folded with
`review.search.normalize` and mapped through the name lists (a cited table of
Urdu and Latin spellings, `review/data/names.txt`), so "Ch. Aslam" and "چوہدری
اسلم" share one key. A police station's key is `<station>/<district>` when a
district is written near it (`saddar/kasur`), else `<station>` alone.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

from review import entity_patterns
from review.entity_text import Doc, Term, fold_phrase, lexicon, weak_words, word_set, words
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
        return [
            Entity(c.kind, text[c.start : c.end], c.key, c.start, c.end, c.designation)
            for c in _sweep([*_patterns(doc), *_from_lexicon(doc), *_people_by_name(doc)])
            if c.kind != "blocked"
        ]
    finally:
        if enabled:
            gc.enable()


def _sweep(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates, a longer one over a shorter, in one pass after sorting."""
    candidates.sort(
        key=lambda c: (c.start, c.start - c.end, _PRIORITY[c.kind], c.designation is None)
    )
    taken: list[_Candidate] = []
    for c in candidates:
        if not c.key and c.kind != "blocked":
            continue
        if taken and c.start < taken[-1].end:
            last = taken[-1]
            if c.end - c.start > last.end - last.start:
                taken[-1] = c  # it starts later, so it cannot touch the one before
            continue
        taken.append(c)
    return taken


def _patterns(doc: Doc) -> Iterator[_Candidate]:
    where = doc.where
    for f in entity_patterns.find(doc.folded, doc.text, months=doc.months):
        if f.kind == "plate":  # found in the text as written
            yield _Candidate("vehicle", f.start, f.end, f.key)
        else:
            yield _Candidate(f.kind, where[f.start], where[f.end - 1] + 1, f.key)


# --- word lists -------------------------------------------------------------------------------


def _names() -> dict[str, str]:
    return words("names.txt")


def _known(word: str) -> bool:
    """A word of the names list, or a compound of one ("عبدالستار", "Sanaullah")."""
    if word in _names():
        return True
    return len(word) > 5 and (word.startswith(_COMPOUND_HEADS) or word.endswith(_COMPOUND_TAILS))


def _station_words() -> dict[str, str]:
    return words("stations.txt")


@functools.cache
def _all_words() -> dict[str, str]:
    return {**_station_words(), **_names()}


def _stopwords() -> frozenset[str]:
    return word_set("stopwords.txt")


def _titles() -> frozenset[str]:
    """Words that are part of a name but never a name alone (Haji, Rana, Chaudhry)."""
    return word_set("titles.txt")


# Urdu words that end a name for sure: an unknown word is a name's only before one of these.
_UR_ENDERS: Final = frozenset(normalize(w) for w in ("نے", "صاحب", "جی"))
# Names written as one word: "عبدالستار" is "Abdul Sattar", "ثناءاللہ" is "Sanaullah".
_COMPOUND_HEADS: Final = (normalize("عبدال"), normalize("عبد"), "abdul", "abdur")
_COMPOUND_TAILS: Final = (normalize("اللہ"), "ullah", "ullah", "uddin", normalize("الدین"))
# Honorifics: part of the text as written, never of a name's key.
_HONORIFICS: Final = frozenset(
    normalize(w)
    for w in ("mr", "mrs", "ms", "sahib", "sahab", "sb", "saheb", "janab", "جناب", "صاحب")
)
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
# Words after a name that make it a place's: "Faisal Town", "Shah Faisal Colony", "علی پور".
_PLACE_WORDS: Final = frozenset(
    normalize(w)
    for w in (
        "town",
        "colony",
        "road",
        "chowk",
        "abad",
        "pur",
        "mohalla",
        "bazaar",
        "bazar",
        "market",
        "street",
        "village",
        "goth",
        "hospital",
        "airport",
        "masjid",
        "mosque",
        "school",
        "college",
        "university",
        "park",
        "stadium",
        "ٹاؤن",
        "کالونی",
        "روڈ",
        "چوک",
        "آباد",
        "پور",
        "محلہ",
        "بازار",
        "گاؤں",
        "گوٹھ",
        "ہسپتال",
        "مسجد",
        "اسکول",
        "سکول",
        "کالج",
    )
)
_SENTENCE_ENDS: Final = frozenset((".", "۔", "!", "?", "؟", "\n"))


# --- districts, agencies, stations, ranked people ---------------------------------------------


def _from_lexicon(doc: Doc) -> Iterator[_Candidate]:
    districts = [i for i in sorted(doc.hits) if doc.hit(i, "district")]
    used: dict[int, int] = {}  # where a rank names a person: its start and end
    for i in doc.hits:
        station = doc.hit(i, "station")
        if station is not None and (found := _station(doc, i, station, districts)) is not None:
            yield found[0]
        rank = doc.hit(i, "rank")
        if rank is not None and (person := _person(doc, i, rank, districts)) is not None:
            used[i] = i + rank.size
            yield person
    for i, terms in doc.hits.items():
        for term in terms:
            if term.kind in ("district", "agency", "blocked") and not _crossed(i, term, used):
                end = doc.ends[i + term.size - 1]
                yield _Candidate(term.kind, doc.starts[i], end, term.key)


def _crossed(i: int, term: Term, used: dict[int, int]) -> bool:
    """Whether a person's rank starts in a term and ends past it ("FIA [Immigration Officer]")."""
    return any(used.get(k, 0) > i + term.size for k in range(i, i + term.size))


def _station(doc: Doc, i: int, term: Term, districts: list[int]) -> tuple[_Candidate, int] | None:
    """A police station named after (or, in English, before) its keyword at i; and its end."""
    n = j = term.size
    while i + j < len(doc) and doc.words[i + j] == ".":
        j += 1  # "P.S. Saddar"
    if not (_may_station(doc, i + j) or _may_station(doc, i - 1)):
        return None
    after = _name_end(doc, i + j, station=True)
    before = _name_start(doc, i, station=True)
    latin_before = before < i and doc.latin(i) and doc.latin(before)
    if latin_before and (after == i + j or doc.words[i] == "police"):
        first, last, name = before, i + n, (before, i)
    elif after > i + j:
        first, last, name = i, after, (i + j, after)
    elif before < i and doc.urdu(i):  # "صدر تھانے": a known station word before
        first, last, name = before, i + n, (before, i)
    else:
        return None
    key = _name_key(doc, *name)
    district = _district_near(doc, first, last, districts)
    if district:
        key = f"{key}/{district}"
    return _Candidate("police_station", doc.starts[first], doc.ends[last - 1], key), last


def _may_station(doc: Doc, k: int) -> bool:
    """Whether a station's name could start (or end) at token k."""
    if not 0 <= k < len(doc) or doc.punct(k) or doc.words[k] in _stopwords():
        return False
    if doc.latin(k):
        return doc.capital(k) or doc.words[k] in _station_words() or k in doc.hits
    return doc.urdu(k)


def _district_near(doc: Doc, first: int, last: int, districts: list[int]) -> str | None:
    """The district next to tokens first..last, else in their sentence, else the report's one."""

    def key(i: int) -> str:
        term = doc.hit(i, "district")
        return term.key if term is not None else ""

    k = last
    while k < len(doc) and k - last < 4 and doc.words[k] in _GLUE:
        k += 1
    if k < len(doc) and doc.hit(k, "district"):
        return key(k)
    k = first - 1
    while k >= 0 and first - k < 4 and doc.words[k] in _GLUE:
        k -= 1
    if k >= 0:
        for j in range(max(0, k - 2), k + 1):  # a district of several words ends at k
            term = doc.hit(j, "district")
            if term is not None and j + term.size - 1 == k:
                return key(j)
    nearest = [
        (abs(d - first), key(d))
        for d in districts
        if abs(d - first) < 16 and not _crosses_sentence(doc, min(d, first), max(d, last))
    ]
    if nearest:
        return min(nearest)[1]
    keys = {key(d) for d in districts}
    return keys.pop() if len(keys) == 1 else None


def _crosses_sentence(doc: Doc, a: int, b: int) -> bool:
    return any(doc.words[k] in _SENTENCE_ENDS for k in range(a, b))


def _person(doc: Doc, i: int, term: Term, districts: list[int]) -> _Candidate | None:
    """A person named right after the rank at i (or after a station there), or before it."""
    j = i + term.size
    while j < len(doc) and doc.words[j] == ".":
        j += 1
    if not (_may_name(doc, j) or _may_name(doc, i - 1)):
        return None  # most ranks stand alone: answer those before any search
    st = doc.hit(j, "station") if j < len(doc) and doc.urdu(j) else None
    if st is not None and (station := _station(doc, j, st, districts)) is not None:
        j = station[1]  # "ایس ایچ او تھانہ صدر رانا طارق": the name is after the station
    end = _name_end(doc, j, station=False, ranked=True)
    if end > j and _is_name(doc, j, end):
        return _candidate(doc, j, end, term.value)
    # "the agent, Haji Bashir, paid": a name of two words or more between commas
    if j < len(doc) and doc.words[j] == ",":
        end = _name_end(doc, j + 1, station=False, ranked=True)
        if end - j > 2 and end < len(doc) and doc.words[end] in (",", "."):
            return _candidate(doc, j + 1, end, term.value)
    # "Rana Tariq, the SHO" / "Rana Tariq (SHO)" / "Rana Tariq SHO" / "رانا طارق ایس ایچ او"
    k = i - 1
    if k >= 0 and doc.words[k] == "the":
        k -= 1
    if k >= 1 and doc.words[k] in (",", "(", "،"):
        k -= 1
    if k >= 0 and not doc.punct(k) and doc.latin(k) == doc.latin(i):
        begin = _name_start(doc, k + 1, station=False)
        if begin <= k and _is_name(doc, begin, k + 1):
            return _candidate(doc, begin, k + 1, term.value)
    return None


def _may_name(doc: Doc, k: int) -> bool:
    """Whether a name could start (or end) at token k, or a mark between it and a rank is there."""
    if not 0 <= k < len(doc):
        return False
    word = doc.words[k]
    if word in (",", "(", "،", "the"):
        return True
    if doc.punct(k) or word in _stopwords():
        return False
    if doc.latin(k):
        return doc.capital(k) or word in _names()
    return doc.urdu(k)


def _candidate(doc: Doc, i: int, j: int, designation: str | None) -> _Candidate:
    return _Candidate("person", doc.starts[i], doc.ends[j - 1], _name_key(doc, i, j), designation)


# --- names ------------------------------------------------------------------------------------


def _is_word(doc: Doc, k: int, *, station: bool, first: bool) -> bool:
    """Whether token k may be part of a name (of a person, or of a police station)."""
    word = doc.words[k]
    if doc.punct(k) or word[0].isdigit() or word in _stopwords():
        return False
    if k in doc.inside:
        return False  # "Commissioner" of "Deputy Commissioner"
    hits = doc.hits.get(k, ())
    if word in _names() and not station:
        # a name word, even if some rank or place begins with it ("Rahim", "Mandi"),
        # unless a longer place or agency does ("Mandi Bahauddin")
        if any(t.size > 1 and t.kind in ("district", "agency", "blocked") for t in hits):
            return False
    elif station:
        if any(t.kind != "district" or not first for t in hits):
            return False
    elif hits or word in _station_words():
        return False  # "DPO Kasur", "DSP Model Town", "SHO Chunian" are offices
    if doc.latin(k):
        if doc.capital(k):
            return True
        known = _station_words() if station else _names()
        return word in known or (station and bool(doc.hit(k, "district")))
    return doc.urdu(k)


def _name_end(doc: Doc, j: int, *, station: bool, ranked: bool = False) -> int:
    """Where a name starting at token j ends (j itself if there is none)."""
    k, count = j, 0
    latin = j < len(doc) and doc.latin(j)
    most = 3 if station or not latin else 4
    while k < len(doc) and count < most:
        if doc.words[k] == "." and latin and count and len(doc.words[k - 1]) <= 2:
            k += 1  # "Ch. Aslam"
            continue
        if doc.latin(k) != latin:
            break
        lower = latin and not station and not doc.capital(k)
        if lower and ((count == 0 and not ranked) or doc.words[k] not in _names()):
            break  # in lower case, only known names after a rank or inside a run of them
        if not _is_word(doc, k, station=station, first=count == 0):
            break
        if not latin and not _urdu_name_word(doc, k, first=count == 0, station=station):
            break
        if count and not station and _starts_another(doc, k):
            break  # "naseem bibi haji nazir": a title after a name begins the next one
        k += 1
        count += 1
    while k > j and doc.words[k - 1] == ".":
        k -= 1
    return k if count else j


def _starts_another(doc: Doc, k: int) -> bool:
    """Whether token k is a title that begins a second name ("Haji" of "Haji Nazir")."""
    titles = _titles()
    return (
        doc.words[k] in titles
        and k + 1 < len(doc)
        and doc.words[k + 1] in _names()
        and doc.words[k + 1] not in titles
    )


def _urdu_name_word(doc: Doc, k: int, *, first: bool, station: bool) -> bool:
    """Urdu has no capitals: a word is a name's if it is a known name word, or a name ends next."""
    names = _station_words() if station else _names()
    if doc.words[k] in names or (not station and _known(doc.words[k])):
        return True
    nxt = k + 1 if k + 1 < len(doc) else None
    if station:
        return first or nxt is None or doc.punct(nxt) or doc.words[nxt] in _stopwords()
    ends = nxt is None or doc.punct(nxt) or doc.words[nxt] in _UR_ENDERS
    if not first and nxt is not None and doc.words[k - 1] in _titles():
        ends = ends or doc.words[nxt] in _stopwords()  # "رانا گلفام ہر روز": a title's name
    return ends or (first and nxt is not None and doc.words[nxt] in names)


def _name_start(doc: Doc, k: int, *, station: bool) -> int:
    """Where a name ending just before token k starts (k itself if there is none)."""
    j = k
    names = _station_words() if station else _names()
    while j > 0 and k - j < 4:
        w = doc.words[j - 1]
        if w == "." and j > 1 and doc.latin(j - 2) and len(doc.words[j - 2]) <= 2:
            j -= 1  # "Ch. Aslam"
            continue
        if not _is_word(doc, j - 1, station=station, first=True):
            break
        if doc.urdu(j - 1) and w not in names:
            break
        if doc.latin(j - 1) and not doc.capital(j - 1) and w not in names:
            break
        j -= 1
    while j < k and doc.words[j] == ".":
        j += 1  # "Mr. Zahoor": the mark after a word left out
    return j


def _is_name(doc: Doc, i: int, j: int) -> bool:
    """Whether tokens i..j hold a name: not titles alone, nor one everyday word that is a name."""
    weak, titles = weak_words("names.txt"), _titles()
    count = 0
    for k in range(i, j):
        w = doc.words[k]
        if doc.punct(k) or w in titles:
            continue
        if w not in weak or (doc.latin(k) and doc.capital(k)):
            return True
        count += 1
    return count >= 2  # "اللہ دتہ", "غلام رسول": everyday words, but a name together


def _people_by_name(doc: Doc) -> Iterator[_Candidate]:
    """People named without a rank: runs of words from the names list ("Haji Bashir Ahmed")."""
    n, done = len(doc), 0
    spelt = {w for w in set(doc.words) if _known(w)}
    for k in [k for k, w in enumerate(doc.words) if w in spelt] if spelt else ():
        if k < done:
            continue
        start = _name_start(doc, k, station=False) if doc.latin(k) and doc.capital(k) else k
        start = min(start, k)
        while start < k and _sentence_start(doc, start) and not _known(doc.words[start]):
            start += 1  # "Contact Nadeem": a capital at a sentence's start says nothing
        end = _name_end(doc, start, station=False, ranked=not doc.capital(start))
        done = max(end, k + 1)
        if end <= start or not _is_name(doc, start, end):
            continue
        if end < n and doc.words[end] in _PLACE_WORDS:
            continue
        if (
            doc.latin(start)
            and not doc.capital(start)
            and sum(1 for x in range(start, end) if _known(doc.words[x])) < 2
        ):
            continue  # Roman Urdu in lower case: two known name words at least
        if doc.urdu(start) and end - start == 1:
            nxt = end if end < n else None
            if nxt is not None and not (doc.punct(nxt) or doc.words[nxt] in _UR_ENDERS):
                continue  # one Urdu word is a name only before نے, صاحب or a mark
        yield _candidate(doc, start, end, None)


def _sentence_start(doc: Doc, k: int) -> bool:
    return k == 0 or doc.words[k - 1] in _SENTENCE_ENDS or doc.words[k - 1] in (":", '"')


def _name_key(doc: Doc, i: int, j: int) -> str:
    return _key_of(doc.words[k] for k in range(i, j) if not doc.punct(k))


def _key_of(tokens: Iterable[str]) -> str:
    known, out = _all_words(), []
    for w in tokens:
        if w in _HONORIFICS:
            continue
        for prefix in ("عبدال", "abdul"):  # "عبدالستار" is "Abdul Sattar"
            if w.startswith(prefix) and len(w) > len(prefix) + 2:
                out.append("abdul")
                w = w[len(prefix) :]
                break
        word = known.get(w, w)
        if not out or out[-1] != word:  # "بی بی" is one word, Bibi
            out.append(word)
    return " ".join(out)


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
        keep = [k for k in range(len(doc)) if not doc.punct(k) and k not in ranks]
        return _key_of(doc.words[k] for k in keep) or None
    if kind == "police_station":
        station, _, district = text.partition("/")
        doc = Doc(station)
        stations = {k for k in doc.hits if doc.hit(k, "station")}
        name = _key_of(w for k, w in enumerate(doc.words) if k not in stations and not doc.punct(k))
        district_key = key_for("district", district) if district.strip() else None
        return (f"{name}/{district_key}" if district_key else name) or None
    if kind in ("district", "agency"):  # as typed, so no capitals or cue are needed
        value = canonical_name(kind, text)
        return normalize(value) if value else normalize(text) or None
    if kind == "vehicle":
        return entity_patterns.plate_key(text) or None
    return None


def canonical_name(kind: str, phrase: str) -> str | None:
    """The canonical name of the district or agency that the whole of `phrase` spells, if known."""
    tokens = fold_phrase(phrase)
    for form in (" ".join(tokens), "".join(tokens), normalize(phrase)):
        for term in lexicon().get(form, ()):
            if term.kind == kind:
                return term.value
    return None
