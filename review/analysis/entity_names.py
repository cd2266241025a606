"""Names in report text: which words make a person's or a station's name, and their keys.

English marks a name with capitals; Urdu has none, so an Urdu name is a run of
words from the names list (`review/data/names.txt`, the extractor's Latin and
Urdu spellings of each name), or one unknown word where a name must end (before
نے or صاحب). Titles that are part of a name (Haji, Rana) never make one alone, and
everyday words that are names too (شریف, ملک) only beside another name word. A
name's key is its words' canonical Latin spellings, honorifics left out; a word the
lists do not know by its spelling is matched to them by its consonants in either
script (`sound`, from the cited table `data/letters.txt`), else keyed by them, so
one key spans Urdu, Roman Urdu and English.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Final

from review.analysis.entity_text import (
    Doc,
    data,
    fold_phrase,
    has_digit,
    weak_words,
    word_set,
    words,
)
from review.workspace.search import normalize


@functools.cache  # called per token: one lookup, not two
def names() -> dict[str, str]:
    """Each spelling of a name word (folded) to its key word: one key to a spelling, so lines
    of the list that share a spelling are one name's ("Javed | Javaid", "Javaid | Jawed";
    "Gul | گل", "Gill | گِل": Urdu writes Gul and Gill alike), keyed by the first's in
    Latin letters."""
    listed = words("names.txt")
    parent: dict[str, str] = {}
    order: dict[str, int] = {}  # each line's key word: where it is first met

    def root(word: str) -> str:
        while parent.get(word, word) != word:
            word = parent[word]
        return word

    for line in data("names.txt"):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        canonical = normalize(variants[0])
        order.setdefault(canonical, len(order))
        for token in (t for v in variants for t in fold_phrase(v)):
            a, b = root(listed[token]), root(canonical)
            if a != b:  # the line met first keys both
                first, later = sorted((a, b), key=lambda w: (not w.isascii(), order[w]))
                parent[later] = first
    return {spelling: root(canonical) for spelling, canonical in listed.items()}


# Name words Urdu writes alike, short vowels unwritten, that Latin letters tell apart: the
# Punjabi clan Gill (گِل, its mark dropped by folding) and the Pashto Gul (گل), which
# `names` keys as one, so that either in Urdu letters meets both. Each Latin spelling to
# the name it writes. (Abrar and Ibrar, Mahar and Mehar are Latin spellings of one name.)
LATIN_APART: Final = {"gill": "gill", "gul": "gul"}


# Name words Latin letters write alike that Urdu writes with two letters, each a name of its
# own: نذیر ("one who warns") and نظیر ("a peer"), both "Nazir". `urdu_form` reads ذ, ز, ظ
# and ض (and a weak ain or alif) as one, since writers type them for one another, so
# `names` keys each pair as one word; two reports spelling the two link only weakly
# (`review.analysis.corpus`). Each Urdu spelling (folded), as written.
_URDU_PAIRS: Final = (
    ("نذیر", "نظیر"),
    ("نذر", "نظر"),
    ("ذکی", "زکی"),
    ("ظاہر", "زاہر"),
    ("شفیع", "شافی"),
    ("اسد", "اسعد"),
)
URDU_APART: Final = {normalize(w): w for pair in _URDU_PAIRS for w in pair}


@functools.cache
def urdu_apart_keys() -> frozenset[str]:
    """The key words of the names in `URDU_APART` ("nazir", "asad")."""
    return frozenset(canonical_word(w) for w in URDU_APART)


# Answers kept for the last words met by `known` and `sound`, asked of the same words in
# text after text: bounded, so that no text can grow them without end.
_WORDS_KEPT: Final = 16384


@functools.lru_cache(maxsize=_WORDS_KEPT)
def known(word: str) -> bool:
    """A word of the names list, a Latin spelling of one it lacks ("Gulam"), or a compound of
    one ("عبدالستار", "Sanaullah")."""
    if word in names():
        return True
    if word.isascii() and len(word) > 3 and _spelt_listed(word):
        return True  # "Gulam" of Ghulam, "Peer" of Pir
    return (
        len(word) > 5
        and (word.startswith(_COMPOUND_HEADS) or word.endswith(_COMPOUND_TAILS))
        and word not in _NOT_COMPOUNDS
    )


# Everyday words that end as a compound name does: والدین "parents" (not "-uddin"),
# ان شاء اللہ and ما شاء اللہ written as one word.
_NOT_COMPOUNDS: Final = frozenset(
    normalize(w) for w in ("والدین", "انشاءاللہ", "ماشاءاللہ", "انشااللہ", "ماشااللہ")
)


@functools.lru_cache(maxsize=4096)  # called per token: the form once a word
def _spelt_listed(word: str) -> bool:
    return word.isalpha() and roman_form(word) in _by_roman(False)


@functools.cache
def station_words() -> dict[str, str]:
    return words("stations.txt")


@functools.cache
def all_words() -> dict[str, str]:
    return {**station_words(), **names()}


@functools.cache
def _vocabulary(station: bool) -> dict[str, str]:
    """The spellings a station's or a person's name words are keyed by: for a person, the
    names list and the stations' names of one word ("Sachal"), never a word of a station's
    longer name ("آدم" of "ٹنڈو آدم", Tando Adam; "جام" of "جام پور", Jampur), which is a
    name's word too (Adam, Jam) and no station's alone."""
    if station:
        return all_words()
    singles = _station_singles()
    return {**{w: c for w, c in station_words().items() if w in singles}, **names()}


@functools.cache
def spellings() -> dict[str, frozenset[str]]:
    """Each canonical name word to every spelling of it (folded) that the names list holds."""
    out: dict[str, set[str]] = {}
    for spelling, canonical in names().items():
        out.setdefault(canonical, {canonical}).add(spelling)
    return {canonical: frozenset(s) for canonical, s in out.items()}


@functools.cache
def common_words() -> frozenset[str]:
    """Every spelling (folded) of the name words too common to tell people apart."""
    return _common_names(given=False)


@functools.cache
def given_words() -> frozenset[str]:
    """The second elements of theophoric names ("Bakhsh", "Ditta": "given by"), lines
    marked [B] in common_names.txt: a name's own word, read as one, that tells no man
    apart from another of the same first element (Kareem Bakhsh, Allah Ditta)."""
    return _common_names(given=True)


def _common_names(*, given: bool) -> frozenset[str]:
    words: set[str] = set()
    for line in data("common_names.txt"):
        entry, _, sources = line.partition("#")
        if ("[B]" in sources) == given:
            for variant in entry.split("|"):
                words.update(normalize(variant).split())
    return frozenset(words)


@functools.cache
def stopwords() -> frozenset[str]:
    return word_set("stopwords.txt")


@functools.cache
def titles() -> frozenset[str]:
    """Words that are part of a name but never a name alone (Haji, Rana, Chaudhry)."""
    return word_set("titles.txt")


# Urdu words that end a name for sure: an unknown word is a name's only before one of these.
# (and "son of", "daughter of", "wife of": "رمضان ولد اللہ دتہ" names two men)
# (and "alias": "ندیم عرف نادو" names one man twice)
_UR_ENDERS: Final = frozenset(
    normalize(w) for w in ("نے", "صاحب", "جی", "ولد", "بنت", "زوجہ", "عرف")
)
# Postpositions after which a name that can be nothing else stands alone: "عبدالستار کا نمبر".
_UR_CASES: Final = frozenset(normalize(w) for w in ("کا", "کے", "کی", "کو", "سے", "پر"))
_ABD: Final = normalize("عبدال")
# Names written as one word: "عبدالستار" is "Abdul Sattar", "ثناءاللہ" is "Sanaullah".
_COMPOUND_HEADS: Final = (normalize("عبدال"), normalize("عبد"), "abdul", "abdur")
_COMPOUND_TAILS: Final = (normalize("اللہ"), "ullah", "ullah", "uddin", normalize("الدین"))
# Honorifics: part of the text as written, never of a name's key; and "Mst." (Musammat),
# which court papers, FIRs and CNIC-style records put before every woman's name.
_HONORIFICS: Final = frozenset(
    normalize(w)
    for w in (
        *("mr", "mrs", "ms", "sahib", "sahab", "sb", "saheb", "janab", "جناب", "صاحب"),
        *("mst", "musammat", "mussammat", "musammaat", "مسماۃ", "مسمات", "مسماة"),
        # "Alhaj": a pilgrim's honorific as Haji is, which reports write one way or the other
        *("alhaj", "alhaaj", "alhajj", "الحاج"),
    )
)
# Honorifics only after a name: Sindhi's and Seraiki's "sain" ("Jatoi sain", "وڈیرو سائیں"),
# which before a name may be one (Sain Bux, Sain Dad).
_HONORIFICS_AFTER: Final = frozenset(normalize(w) for w in ("sain", "saeen", "sayin", "سائیں"))
# What a man is called by, not his name: a teacher "Master", a clerk "Babu", an elder brother
# "Lala" ("Master Ghulam Nabi", "بابو شوکت علی", "Lala Dad Karim"). The lists know none of
# them, so Urdu's finder leaves them out where Latin capitals take them in: left out of a
# key when two name words remain, kept with one ("Master Saleem" is no bare Saleem).
_CALLED: Final = frozenset(
    normalize(w) for w in ("master", "babu", "lala", "ماسٹر", "بابو", "لالہ")
)
# Words after a name that make it a place's or a firm's: "Faisal Town", "Shah Faisal Colony",
# "علی پور", "Bashir Travels", "علامہ اقبال ایئرپورٹ".
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
        "ایئرپورٹ",
        "ائیرپورٹ",
        "travels",
        "traders",
        "enterprises",
        "overseas",
        "manpower",
        "associates",
        "brothers",
        "trust",
        # a bank, an airline, a company or a welfare body: "Meezan Bank", "Western Union"
        "bank",
        "union",
        "airways",
        "airlines",
        "agency",
        "company",
        "limited",
        "ltd",
        "pvt",
        "foundation",
        "welfare",
        "society",
        "council",
        "committee",
        "ٹریولز",
        "ٹریڈرز",
        "انٹرپرائزز",
        "اوورسیز",
        # a tribe or caste named as a people, not a person: "the Kolhi community", "مری قبیلہ"
        "community",
        "communities",
        "tribe",
        "tribes",
        "tribesmen",
        "caste",
        "clan",
        "family",
        "families",
        "khandan",
        "khaandan",
        "khandaan",
        "biradari",
        "baradari",
        "qabeela",
        "qabila",
        "qaum",
        "قبیلہ",
        "قبیلے",
        "برادری",
        "قوم",
        "خاندان",
    )
)


def place_words() -> frozenset[str]:
    """Words after a name that make it a place's or a firm's ("Town", "Travels")."""
    return _PLACE_WORDS


SENTENCE_ENDS: Final = frozenset((".", "۔", "!", "?", "؟", "\n"))


def _in_cued_place(doc: Doc, k: int) -> bool:
    """Whether token k is inside a place's name that only a cue makes one ("Shah Faisal")."""
    return any(
        t.cue and t.kind == "district" and t.size > k - s
        for s in range(max(k - 3, 0), k)
        for t in doc.hits.get(s, ())
    )


def is_word(doc: Doc, k: int, *, station: bool, first: bool) -> bool:
    """Whether token k may be part of a name (of a person, or of a police station)."""
    word = doc.words[k]
    if doc.punct(k) or word[0].isdigit() or word in stopwords():
        return False
    if k in doc.inside and not station and not _in_cued_place(doc, k):
        return False  # "Commissioner" of "Deputy Commissioner"
    hits = doc.hits.get(k, ())
    if not station and word in names():
        # a name word, even if some rank or place begins with it ("Rahim", "Mandi"),
        # unless a longer place or agency does ("Mandi Bahauddin"), and that is no place
        # only a cue makes one ("Shah Faisal", a man's name and Karachi's locality)
        if hits and any(
            t.size > 1 and t.kind in ("district", "agency", "blocked") and not t.cue for t in hits
        ):
            return False
    elif station:
        for t in hits:  # a loop, not `any`: asked for most tokens by a station's keyword
            if t.kind not in ("district", "blocked") or (not first and t.kind == "district"):
                return False
    elif hits or word in station_words():
        return False  # "DPO Kasur", "DSP Model Town", "SHO Chunian" are offices
    if doc.latin(k):
        if doc.capital(k):
            return True
        known = station_words() if station else names()
        return word in known or (station and bool(doc.hit(k, "district")))
    return doc.urdu(k)


def name_end(doc: Doc, j: int, *, station: bool, ranked: bool = False) -> int:
    """Where a name starting at token j ends (j itself if there is none)."""
    k, count = j, 0
    latin = j < doc.size and doc.latin(j)
    most = 3 if station else 4
    while k < doc.size and count < most:
        if doc.words[k] == "." and latin and count and _abbreviation(doc.words[k - 1]):
            k += 1  # "Ch. Aslam", "Mohd. Aslam"
            continue
        if doc.latin(k) != latin:
            break
        if count and latin and not station and _article_inside(doc, k):
            k += 2  # "Zia ul Haq", "inam ul haq": the article and the word it joins
            count += 1
            continue
        lower = latin and not station and not doc.capital(k)
        if lower and ((count == 0 and not ranked) or doc.words[k] not in names()):
            break  # in lower case, only known names after a rank or inside a run of them
        if not is_word(doc, k, station=station, first=count == 0):
            break
        if not latin and not urdu_name_word(doc, k, first=count == 0, station=station):
            break
        if count and not station and _starts_another(doc, k):
            break  # "naseem bibi haji nazir": a title after a name begins the next one
        k += 1
        count += 1
    if count and k < doc.size and doc.words[k] in _TRIBE_TAILS:
        k += 1  # "شیر خان اچک زئی": a tribe's ending written apart is still its word
    while k > j and doc.words[k - 1] == ".":
        k -= 1
    return k if count else j


# Names' abbreviations longer than two letters, written with a full stop ("Mohd. Aslam").
_ABBREVIATIONS: Final = frozenset(("mohd", "muhd"))


def _abbreviation(word: str) -> bool:
    """Whether a word before a "." inside a name abbreviates it ("Ch.", "M.", "Mohd.")."""
    return len(word) <= 2 or word in _ABBREVIATIONS


def _article_inside(doc: Doc, k: int) -> bool:
    """Whether token k is the Arabic article of a name written apart in Latin letters, between
    a name's word and the word it joins ("Zia ul Haq", "Shafiq ur Rehman", "qamar uz zaman"):
    the word after it is capitalised as the one before is, or is a listed name."""
    if doc.words[k] not in _LATIN_ARTICLES or doc.capital(k) or k + 1 >= doc.size:
        return False
    nxt = k + 1
    if doc.punct(nxt) or not doc.latin(nxt) or doc.words[nxt] in stopwords():
        return False
    if doc.capital(k - 1):
        return doc.capital(nxt)
    return doc.words[nxt] in names() or len(doc.words[nxt]) <= 3  # "haq", "din"


def _starts_another(doc: Doc, k: int) -> bool:
    """Whether token k is a title that begins a second name ("Haji" of "Haji Nazir"), or
    names a man by itself with an honorific ("ذوالفقار علی حاجی صاحب کا دوست": "Haji sahib")."""
    title_words = titles()
    return (
        doc.words[k] in title_words
        and k + 1 < doc.size
        and (doc.words[k + 1] in names() or doc.words[k + 1] in _HONORIFICS)
        and doc.words[k + 1] not in title_words
    )


def urdu_name_word(doc: Doc, k: int, *, first: bool, station: bool) -> bool:
    """Urdu has no capitals: a word is a name's if it is a known name word, or a name ends next."""
    known_words = station_words() if station else names()
    if doc.words[k] in known_words or (not station and known(doc.words[k])):
        return True
    nxt = k + 1 if k + 1 < doc.size else None
    if station:
        return first or nxt is None or doc.punct(nxt) or doc.words[nxt] in stopwords()
    if nxt is not None and doc.words[nxt] in _TAILS:
        return True  # the first half of a compound written apart: "اچک زئی", "نصیب اللہ"
    ends = nxt is None or doc.punct(nxt) or doc.words[nxt] in _UR_ENDERS
    if not first and nxt is not None and doc.words[k - 1] in _titles_before():
        ends = ends or doc.words[nxt] in stopwords()  # "رانا گلفام ہر روز": a title's name
    return ends or (first and nxt is not None and doc.words[nxt] in known_words)


# Titles that follow a woman's given name, never begin one: after "نسیم بی بی" comes what
# the sentence says of her ("نسیم بی بی نو سال سے", "for nine years"), not more of her name.
_AFTER_HER: Final = frozenset(normalize(w) for w in ("بی", "خاتون"))


@functools.cache
def _titles_before() -> frozenset[str]:
    return titles() - _AFTER_HER


def name_start(doc: Doc, k: int, *, station: bool) -> int:
    """Where a name ending just before token k starts (k itself if there is none)."""
    j = k
    known_words = station_words() if station else names()
    while j > 0 and k - j < 4:
        w = doc.words[j - 1]
        if w == "." and j > 1 and doc.latin(j - 2) and len(doc.words[j - 2]) <= 2:
            j -= 1  # "Ch. Aslam"
            continue
        if not is_word(doc, j - 1, station=station, first=True):
            break
        # an Urdu name's word, or a compound of one ("عبدالغفور اے ایس آئی")
        if doc.urdu(j - 1) and w not in known_words and (station or not known(w)):
            break
        if doc.latin(j - 1) and not doc.capital(j - 1) and w not in known_words:
            break
        j -= 1
    while j < k and doc.words[j] == ".":
        j += 1  # "Mr. Zahoor": the mark after a word left out
    return j


_GOD: Final = frozenset(normalize(w) for w in ("allah", "اللہ", "god", "khuda", "خدا"))
_PROPHET: Final = frozenset(normalize(w) for w in ("رسول", "rasool", "rasul"))


def is_name(doc: Doc, i: int, j: int) -> bool:
    """Whether tokens i..j hold a name: not titles alone, nor one everyday word that is a name."""
    weak, title_words = weak_words("names.txt"), titles()
    if j - i == 1 and doc.words[i] in _GOD:
        return False  # "Allah knows": God, never a man, though a name's word ("Allah Ditta")
    if j - i == 2 and doc.words[i] in _PROPHET and doc.words[i + 1] in _GOD:
        return False  # "رسول اللہ نے فرمایا": the Prophet, though Rasool is a name's word
    count = 0
    for k in range(i, j):
        w = doc.words[k]
        if doc.punct(k) or w in title_words:
            continue
        if len(w) == 1 and doc.latin(k):
            if _letter(doc, k):
                return False  # "M Block", "M.A.", "p.m. Aslam": a letter, no initial
            continue
        if w not in weak or (doc.latin(k) and doc.capital(k)):
            return True
        count += 1
    # "اللہ دتہ", "غلام رسول": everyday words, but a name together; or one after the record's
    # mark ("ولد اکرام")
    return count >= 2 or (j - i == 1 and _kin_before(doc, i))


# The record's mark in Urdu letters before a father's or husband's name (`parentage`): a word
# the list holds as a name is his name after it, though an everyday word too ("ولد اکرام",
# son of Ikram, not "of honour"; "ولد امیر", son of Amir). Lost, his son met every other
# man's son of his name, strongly. Not in Latin letters: a capital says a name there, and
# Roman Urdu's lower case "s/o sher dil" has a name of two words ("Sher Dil"), not "sher".
_KIN_BEFORE: Final = frozenset(normalize(w) for w in ("ولد", "بنت", "زوجہ", "ابن"))


def _kin_before(doc: Doc, k: int) -> bool:
    """Whether token k is an Urdu word just after the record's mark of whose son, daughter
    or wife a name is."""
    return k >= 1 and doc.urdu(k) and doc.words[k - 1] in _KIN_BEFORE


def _letter(doc: Doc, k: int) -> bool:
    """Whether token k is a Latin letter alone that is no initial of a name."""
    return len(doc.words[k]) == 1 and doc.latin(k) and not _initial(doc, k)


def _initial(doc: Doc, k: int) -> bool:
    """Whether the letter at k is a given name's initial ("M. Aslam", "munshi m aslam"): a
    listed name after it (past its "."), and no abbreviation before it ("p.m.")."""
    if k and doc.words[k - 1] == ".":
        return False
    nxt = k + 2 if k + 2 < doc.size and doc.words[k + 1] == "." else k + 1
    return (
        nxt < doc.size
        and doc.words[nxt] in names()
        and doc.words[nxt] not in weak_words("names.txt")
    )


def people_by_name(doc: Doc) -> Iterator[tuple[int, int]]:
    """People named without a rank, as token spans: runs of names ("Haji Bashir Ahmed")."""
    n, done = doc.size, 0
    spelt = {w for w in set(doc.words) if known(w)}
    for k in itertools.compress(range(n), map(spelt.__contains__, doc.words)) if spelt else ():
        if k < done or _letter(doc, k):
            continue  # a letter alone ("M Block"), no initial
        start = name_start(doc, k, station=False) if doc.latin(k) and doc.capital(k) else k
        start = min(start, k)
        while start < k and (
            doc.punct(start)
            or (_sentence_start(doc, start) and not known(doc.words[start]))
            or _letter(doc, start)
        ):
            start += 1  # "Contact Nadeem": a capital at a sentence's start says nothing;
            # nor does "p.m." before "Aslam"
        if start == k and _compound_head(doc, k - 1):
            start -= 1  # "نصر اللہ خان", "عطاء اللہ": a compound's first half the lists lack
        if _cue_before_name(doc, start):
            start += 1  # "دوست بلا": "friend", a name too (Dost Muhammad), is Billa's cue here
        end = name_end(doc, start, station=False, ranked=not doc.capital(start))
        done = max(end, k + 1)
        if end <= start or not is_name(doc, start, end):
            continue
        if any(doc.words[x] in _PLACE_WORDS for x in range(start + 1, min(end + 1, n))):
            continue  # "Faisal Town", "Bashir Travels": a place's or a firm's name
        if (
            doc.latin(start)
            and not doc.capital(start)
            and sum(1 for x in range(start, end) if known(doc.words[x])) < 2
            and not _named_alone(doc, start, end)
        ):
            continue  # Roman Urdu in lower case: two known name words at least
        if doc.urdu(start) and end - start == 1:
            nxt = end if end < n else None
            word = doc.words[start]
            plain = word.startswith(_ABD) or (word in names() and word not in _not_alone())
            enders = _UR_ENDERS | _UR_CASES if plain else _UR_ENDERS
            if nxt is not None and not (
                doc.punct(nxt)
                or doc.words[nxt] in enders
                or (plain and (_paired(doc, nxt) or _paired(doc, start - 1, before=True)))
                or (plain and _after_wala(doc, start))
                or _kin_before(doc, start)
            ):
                continue  # one Urdu word is a name only before نے, صاحب or a mark, or
                # after "ولد" (a listed name that is no everyday word or title, or a
                # compound of عبدال, before کا, کو, سے too, or "اور" and another name)
        yield start, end


# Words before "Allah" that make a phrase of faith, never a name: "ان شاء اللہ", "inshallah",
# "ماشاء اللہ", "سبحان اللہ", "الحمد للہ", "یا اللہ", "فی امان اللہ"; "رسول اللہ", the Prophet.
_FAITH: Final = frozenset(
    normalize(w)
    for w in (
        *("انشاء", "شاء", "ماشاء", "ماشا", "سبحان", "الحمد", "بسم", "یا", "استغفر", "جزاک"),
        *("الا", "لا", "اللہ", "insha", "inshaa", "masha", "mashaa", "subhan", "ya"),
        *("alhamdu", "bismillah", "allah", "in", "sha", "shaa", "رسول", "rasool", "rasul"),
    )
)
# "In" before "امان اللہ": "فی امان اللہ" is a farewell; "امان اللہ" alone, Amanullah.
_FAITH_BEFORE: Final = frozenset(normalize(w) for w in ("فی", "fi", "fee"))


def _compound_head(doc: Doc, k: int) -> bool:
    """Whether token k is the first half, unlisted, of a compound name written apart before
    its ending ("نصر اللہ", "عطاء اللہ", "nasar ullah"), not a word of faith ("ان شاء اللہ")."""
    if k < 0 or k + 1 >= doc.size or doc.words[k + 1] not in _TAILS or doc.punct(k):
        return False
    word = doc.words[k]
    if doc.latin(k) != doc.latin(k + 1) or word in stopwords() or word in _FAITH:
        return False
    if k and doc.words[k - 1] in _FAITH_BEFORE:
        return False
    if k in doc.hits or k in doc.inside or has_digit(word):
        return False
    if len(word) < (3 if doc.latin(k) else 2):
        return False
    # a listed compound ("Nasrullah"), or a name's run or its ender after it: "باقی اللہ
    # کی مرضی" ("the rest is God's will") is none
    nxt = k + 2
    after = doc.words[nxt] if nxt < doc.size else ""
    return (
        not key_of((word, doc.words[k + 1])).startswith("~")
        or after in _UR_ENDERS
        or after in _RU_ENDERS
        or (after in names() and after not in _not_alone())
    )


def _cue_before_name(doc: Doc, k: int) -> bool:
    """Whether token k is an everyday word that is a name too and a designation ("دوست",
    friend, and Dost) before a listed name that is no common one (Muhammad of "Dost Muhammad")."""
    return (
        k + 1 < doc.size
        and doc.words[k] in weak_words("names.txt")
        and doc.hit(k, "rank") is not None
        and doc.words[k + 1] in names()
        and doc.words[k + 1] not in common_words()
    )


# Roman Urdu after a name alone: "soomro ne kaha", "soomro sahib", "aslam sb ka banda";
# and the case endings after a listed name that is no everyday word: "mehwish ki ammi".
_RU_ENDERS: Final = frozenset(("ne", "sahib", "sahab", "saheb", "sb"))
_RU_CASES: Final = frozenset(("ka", "ki", "ke", "ko", "se"))


# Verbs (and Roman Urdu's ergative "ne", its honorifics and case endings) after which a
# capitalised word the lists do not know is a person's name: "Zorawar took the money",
# "Zorawar ne paise liye", "Shahmir ko bataya"; and verbs before one: "I paid Shahmir".
_DOER_CUES: Final = frozenset(
    (
        *("said", "says", "told", "tells", "asked", "asks", "demanded", "demands"),
        *("threatened", "threatens", "beat", "beats", "slapped", "promised", "refused"),
        *("took", "takes", "paid", "pays", "sold", "sells", "brought", "kept", "keeps"),
        *("locked", "forced", "warned", "abused", "kidnapped", "collected", "collects"),
        *("owns", "runs", "raped", "tortured", "confiscated", "snatched", "seized"),
        *_RU_ENDERS,
        *_RU_CASES,
    )
)
_OBJECT_CUES: Final = frozenset(
    (
        *("paid", "pay", "pays", "told", "tell", "asked", "ask", "called", "call", "phoned"),
        *("rang", "met", "meet", "gave", "give", "handed", "contacted", "begged", "warned"),
        *("threatened", "bribed", "informed", "sold", "beat", "slapped", "married"),
    )
)


# Honorifics before a name: "Mr Zorawar", "Mrs Zarina".
_MISTER: Final = frozenset(("mr", "mrs", "miss", "ms", "madam"))
# A name's possessive before a person, kin or a man's place: "Zorawar's men", "Behram's kiln".
_APOSTROPHES: Final = frozenset(("'", "\u2019"))
_POSSESSED: Final = frozenset(
    (
        *("man", "men", "brother", "brothers", "son", "sons", "cousin", "nephew", "wife"),
        *("father", "uncle", "people", "agent", "agents", "munshi", "guards", "driver"),
        *("friend", "friends", "kiln", "dera", "house", "number", "phone", "family", "boys"),
    )
)
_CUES: Final = _DOER_CUES | _OBJECT_CUES | _MISTER | _APOSTROPHES | {"name"}
_IS: Final = frozenset(("is", "was"))


def people_by_cue(doc: Doc) -> Iterator[tuple[int, int]]:
    """People the lists do not know, named in capitals beside a verb that only a person does
    or undergoes: "Zorawar took the money", "I paid Shahmir", "Zorawar ne paise liye"."""
    n, present = doc.size, _CUES.intersection(doc.vocabulary)
    for k in itertools.compress(range(n), map(present.__contains__, doc.words)) if present else ():
        word = doc.words[k]
        if word in _APOSTROPHES and not _possessive(doc, k):
            continue
        if (word in _DOER_CUES or word in _APOSTROPHES) and k and _capitalised(doc, k - 1):
            start = name_start(doc, k, station=False)
            first = start < k and _sentence_start(doc, start)
            plain = not (first and (word in _RU_CASES or _plural(doc, start, k)))
            if start < k and plain and _unknown_name(doc, start, k):
                yield start, k
        if word == "name" and k + 1 < n and doc.words[k + 1] in _IS:
            k += 1  # "the driver's name is Zorawar"
        elif word not in _OBJECT_CUES and word not in _MISTER:
            continue
        j = k + 2 if k + 2 < n and doc.words[k + 1] in _HIM else k + 1  # "call him Shoki"
        # (a listed name there, and the capitals after it, `people_by_name` finds)
        if j < n and _capitalised(doc, j) and not known(doc.words[j]):
            end = name_end(doc, j, station=False)
            if end > j and _unknown_name(doc, j, end):
                yield j, end


_HIM: Final = frozenset(("him", "her"))


def _possessive(doc: Doc, k: int) -> bool:
    """Whether the apostrophe at k makes the word before it a possessive of a person's."""
    return k + 2 < doc.size and doc.words[k + 1] == "s" and doc.words[k + 2] in _POSSESSED


def _plural(doc: Doc, start: int, end: int) -> bool:
    """Whether one unknown word is an English plural ("Boys took us", "Agents said") or an
    adverb ("Suddenly said"): names in "-s" (Abbas, Ilyas) and "-ly" (Dolly) are listed."""
    word = doc.words[start]
    return end - start == 1 and (
        (word.endswith("s") and not word.endswith("ss")) or word.endswith("ly")
    )


# "is" in Urdu and Roman Urdu, after a name given as one: "اس کا نام زورآور ہے", "naam zorawar hai".
COPULAS: Final = frozenset(
    normalize(w) for w in ("ہے", "تھا", "تھی", "hai", "he", "ha", "tha", "thi", "hain")
)


def roman_unlisted(doc: Doc, k: int, *, named: bool = False) -> int:
    """Where a lower-case Roman Urdu name the lists lack, right after a rank at k, ends (k if
    there is none): one word before "ne" or "sahib" ("munshi zorawar ne"), or, `named`
    (after "naam"), before "hai" ("naam zorawar hai")."""
    if k + 1 >= doc.size or not doc.latin(k) or doc.capital(k) or k in doc.hits:
        return k
    word = doc.words[k]
    if word in stopwords() or word in station_words() or word in titles():
        return k
    after = doc.words[k + 1]
    return k + 1 if after in _RU_ENDERS or (named and after in COPULAS) else k


def _capitalised(doc: Doc, k: int) -> bool:
    return doc.latin(k) and doc.capital(k)


def _unknown_name(doc: Doc, start: int, end: int) -> bool:
    """Whether capitalised tokens start..end make a person's name: no acronym ("HRCP"), no
    service with its number ("Rescue 1122"), no place ("Faisal Town"), no title alone."""
    if not all(_capitalised(doc, x) for x in range(start, end)):
        return False
    if any(len(r := doc.raw(x)) > 1 and r.isupper() for x in range(start, end)):
        return False
    if end < doc.size and doc.words[end][0].isdigit():
        return False
    if any(doc.words[x] in _PLACE_WORDS for x in range(start + 1, min(end + 1, doc.size))):
        return False
    return is_name(doc, start, end)


# "and" between two names, or a comma in a list of them: "سونیا اور روتھ", "Sonia and Ruth",
# "یعقوب، غفار اور نادر", "yaqoob, ghaffar aur nadir".
_AND: Final = frozenset(normalize(w) for w in ("اور", "و", "aur", "and", ",", "،"))


def _paired(doc: Doc, k: int, *, before: bool = False) -> bool:
    """Whether token k is "and" (or a list's comma) before a listed name that stands alone
    (no everyday word), or, `before`, after one: the last of a list ("غفار اور نادر وہاں")."""
    if not 0 <= k < doc.size or doc.words[k] not in _AND:
        return False
    x = k - 1 if before else k + 1
    return 0 <= x < doc.size and doc.words[x] in names() and doc.words[x] not in _not_alone()


def _named_alone(doc: Doc, start: int, end: int) -> bool:
    """Whether one lower-case Roman Urdu word is a name by what follows, as in Urdu before
    نے or صاحب, a case ending ("mehwish ki") or "aur" and another name: a listed name
    that is no title, common word (khan) or everyday word (sher, "lion"; names.txt's "?"
    spellings)."""
    if end - start != 1 or end >= doc.size:
        return False
    after = doc.words[end]
    if (
        after not in _RU_ENDERS
        and after not in _RU_CASES
        and not _paired(doc, end)
        and not _paired(doc, start - 1, before=True)
        and not _kin_after(doc, end)
        and not _after_wala(doc, start)
    ):
        return False
    word = doc.words[start]
    return word in names() and word not in _not_alone()


# "-wala" after a trade's word names the man who plies it, and a name may follow: "کشتی والا
# طاہر", "gari wala aslam" ("the boatman Tahir", "the driver Aslam").
_WALA: Final = frozenset(normalize(w) for w in ("والا", "wala", "walla", "vala"))


def _after_wala(doc: Doc, k: int) -> bool:
    """Whether token k follows a "-wala" word that follows a noun ("کشتی والا طاہر")."""
    return k >= 2 and doc.words[k - 1] in _WALA and not doc.punct(k - 2)


# A name's record in Roman Urdu or English: "aslam s/o nazir", "saima d/o rafiq", "walad";
# and a second name for one man: "nadeem urf nadu", "jamshed aka jimmy".
_KIN_MARKS: Final = frozenset(("walad", "bint", "zauja", "zoja", "urf", "alias", "aka"))
_SLASHED: Final = frozenset(("s", "d", "w"))


def _kin_after(doc: Doc, k: int) -> bool:
    """Whether tokens from k say whose son, daughter or wife a name is ("s/o", "walad")."""
    if doc.words[k] in _KIN_MARKS:
        return True
    return (
        doc.words[k] in _SLASHED
        and k + 2 < doc.size
        and doc.words[k + 1] == "/"
        and doc.words[k + 2] == "o"
    )


@functools.cache
def _not_alone() -> frozenset[str]:
    """Listed name words that never make a name alone: titles, common and everyday words."""
    return titles() | common_words() | weak_words("names.txt")


def _sentence_start(doc: Doc, k: int) -> bool:
    return k == 0 or doc.words[k - 1] in SENTENCE_ENDS or doc.words[k - 1] in (":", '"')


def name_key(doc: Doc, i: int, j: int) -> str:
    return key_of(doc.words[k] for k in range(i, j) if not doc.punct(k))


@functools.cache
def _station_singles() -> dict[str, str]:
    """Each one-word spelling in the stations list to its canonical name: "بی" is B, while
    "خان" of "خان پور" stays a word of its own (Khan), not Khanpur."""
    out: dict[str, str] = {}
    for line in data("stations.txt"):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        for v in variants:
            tokens = fold_phrase(v)
            if len(tokens) == 1:
                out.setdefault(tokens[0], normalize(variants[0]))
    return out


@functools.cache
def _station_pairs() -> dict[tuple[str, str], str]:
    """Each spelling of two words in the stations list of a station word written as one
    ("ٹاؤن شپ", Township), to that word."""
    out: dict[tuple[str, str], str] = {}
    for line in data("stations.txt"):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        if len(fold_phrase(variants[0])) == 1:
            for v in variants:
                if len(tokens := fold_phrase(v)) == 2:
                    out.setdefault((tokens[0], tokens[1]), normalize(variants[0]))
    return out


def _station_spelling(word: str) -> list[str]:
    """A Latin word the stations list lacks as the listed word it spells in the singular or
    plural ("Civil Line" of "Civil Lines"). Two listed words run together are not split:
    Urdu runs them together too ("Shahkot", "شاہکوٹ")."""
    listed = _station_singles()
    if word + "s" in listed:
        return [word + "s"]
    if word.endswith("s") and word[:-1] in listed:
        return [word[:-1]]
    return [word]


def station_key(tokens: Iterable[str]) -> str:
    """A police station's name's key: its words as the stations list spells them first.

    Words joined by a hyphen count apart ("A-Section" is "اے سیکشن"), a place's ending
    written apart is joined ("سمن آباد" is "Samanabad"), and a word that is a station's
    and a person's ("بی": B, and Bibi) is read as the station's.
    """
    listed, joined, pairs = _station_singles(), _joined("stations.txt"), _station_pairs()
    parts: list[str] = []
    for p in (p for w in tokens if w[0].isalnum() for p in w.split("-") if p):
        if p in _PLACE_TAILS and parts:  # "سمن آباد" as "Samanabad" is written
            p = parts.pop() + p
            p = joined.get(p, p)
        elif parts and (parts[-1], p) in pairs:  # "ٹاؤن شپ" as "Township" is written
            p = pairs[(parts.pop(), p)]
        elif p not in listed and p.isascii():
            parts.extend(_station_spelling(p))
            continue
        parts.append(p)
    return key_of((v if " " not in (v := listed.get(p, p)) else p for p in parts), station=True)


def key_of(tokens: Iterable[str], *, station: bool = False) -> str:
    """A name's key from its folded words (a report names its people again and again: the
    keys of the last names met are kept, at most `_KEYS_KEPT`)."""
    return _key_of(tuple(tokens), station)


_KEYS_KEPT: Final = 4096


@functools.lru_cache(maxsize=_KEYS_KEPT)
def _key_of(tokens: tuple[str, ...], station: bool) -> str:
    out: list[str] = []
    rest: list[str] = []  # the words still to come of the last listed name of several
    words = _articles([t for t in tokens if t not in _HONORIFICS])
    if not station:
        words = [p for w in words for p in _unspaced(w)]
    if len(words) > 1 and words[-1] in _HONORIFICS_AFTER:
        words = words[:-1]  # "Ghulam Mustafa Jatoi sain": Sindhi's "sir", after the name
    if len(words) > 2 and words[0] in _CALLED and words[1] not in _CALLED:
        words = words[1:]
    if not station:
        words = _lady_last(words)
    for w in _compounds(words if station else _given_compounds(words)):
        for prefix in _ABDUL_JOINED:  # "عبدالستار", "Abdurrehman", "عبدالحق"; not "Abdullah"
            if w.startswith(prefix) and len(w) > len(prefix) + _ABDUL_TAIL[w.isascii()]:
                if w in names():
                    break
                out.append("abdul")
                w = w[len(prefix) :]
                break
        word = canonical_word(w, station=station)
        parts = word.split()  # a listed name of several words: "Kot Radha Kishan"
        if rest and parts == rest[:1]:
            del rest[0]  # a later word of it that is listed alone too: "Misri Shah"'s Shah
            continue
        overlap = next((m for m in range(len(parts), 0, -1) if out[-m:] == parts[:m]), 0)
        if overlap:
            del out[-overlap:]  # its first words, keyed one by one ("kot"), are in it
        if not out or out[-1] != word:  # "بی بی" is one word, Bibi
            out.append(word)
            rest = parts[overlap + 1 :]
        else:
            del rest[:1]
    return " ".join(out)


# "Abdul" joined to the name after it, and the fewest letters that name has: two in Urdu
# ("عبدالحق", Abdul Haq), three in Latin letters ("Abdulhaq"). A listed name that begins
# so ("Abdullah", "عبداللہ") is one name, not Abdul and another.
_ABDUL_JOINED: Final = ("عبدال", "abdul", "abdur", "abdus")
_ABDUL_TAIL: Final = {False: 1, True: 2}

# A woman's honorific written before her name or after it, one name either way: "Begum
# Nasreen" and "Nasreen Begum", "Bibi Aisha" and "Aisha Bibi", keyed after it as most
# reports write them; "Mukhtaran Mai" and "Mai Mukhtaran", keyed before it as Mai mostly is.
_LADIES_AFTER: Final = frozenset(("begum", "bibi"))
_MAI: Final = "mai"


def _lady_last(tokens: list[str]) -> list[str]:
    """A name's words with a woman's honorific on the side its key keeps it."""
    if len(tokens) < 2:
        return tokens
    if names().get(tokens[-1]) == _MAI:
        return [tokens[-1], *tokens[:-1]]
    if names().get(tokens[0]) not in _LADIES_AFTER:
        return tokens
    if len(tokens) > 2 and tokens[1] == tokens[0]:  # "بی بی" written as two words
        return [*tokens[2:], *tokens[:2]]
    return [*tokens[1:], tokens[0]]


# Endings of Persian and Punjabi compound given names, "given by", "cherished by", "friend
# of", "of the age" and the like: Urdu writes them apart ("اللہ بخش", "قادر بخش", "رب
# نواز", "اللہ یار"), Latin letters as often joined ("Allahbux", "Qadirbux", "Allahyar").
_GIVEN_TAILS: Final = (
    *("bakhsh", "bakhash", "baksh", "bux", "buksh", "ditta", "dita", "dad", "dino"),
    *("nawaz", "yar", "zaman", "wasaya", "rakha"),
)


def _given_compounds(tokens: list[str]) -> list[str]:
    """A compound given name keyed alike written as one word or two: two words that the names
    list holds as one ("Shah Nawaz", "شاہ نواز": Shahnawaz) joined; one unlisted Latin word of
    a listed name and a compound's ending ("Allahbux", "Qadirbux") split as Urdu writes it."""
    listed, out = names(), list[str]()
    for t in tokens:
        if out and (out[-1] + t in listed or _spelt_joined(out[-1], t)):
            out[-1] += t
            continue
        tail = next((e for e in _GIVEN_TAILS if t.endswith(e)), None) if t.isascii() else None
        head = t[: -len(tail)] if tail else ""
        if tail and t not in listed and len(head) >= 3 and _head_of_given(head):
            out.extend((head, tail))
            continue
        out.append(t)
    return out


def _spelt_joined(a: str, b: str) -> bool:
    """Whether two Latin words are, joined, another spelling of a name listed as one word
    ("Noor Jehan" of "Noorjahan", as "Noor Jahan" is): two listed words no other way."""
    return a.isascii() and b.isascii() and roman_form(a + b) in _by_roman(False)


def _head_of_given(word: str) -> bool:
    """Whether a word may begin a compound given name: a listed name that is no title
    ("Mian" of "Miandad", one name Urdu writes as one word too)."""
    return word in names() and word not in titles()


# The Arabic article inside a name, as Latin writes it apart ("Zia ul Haq", "Fazal-ur-Rehman",
# "Shams ud Din"): Urdu joins it to the word after ("ضیاء الحق"), so it is no word of the key.
_LATIN_ARTICLES: Final = frozenset(
    ("ul", "ur", "us", "ud", "un", "uz", "ush", "al", "el", "ar", "ad")
)
_UR_ARTICLE: Final = normalize("ال")
# "عبد" (servant of) written apart from the name after it: "عبد الرحمان" is "Abdul Rehman".
_ABD_APART: Final = frozenset((normalize("عبد"), "abd"))


def _articles(tokens: list[str]) -> list[str]:
    """Name words with hyphens split ("Abdul-Sattar", "Sana-ullah"), and the article of an
    Arabic name left out in either script ("Zia ul Haq" and "ضیاء الحق": zia, haq; "عبد
    الرحمان" and "Abd-ur-Rehman": abdul, rehman). A word the lists know that begins with
    "ال" (الطاف Altaf, الیاس Ilyas, اللہ Allah) keeps it; so does a name's first word."""
    tokens = [p for n, t in enumerate(tokens) for p in _unjoined(t, last=n == len(tokens) - 1)]
    if not any("-" in t or t in _LATIN_ARTICLES or t.startswith(_UR_ARTICLE) for t in tokens):
        return tokens  # most names: nothing to split or drop, and no walk over them
    parts = [p for t in tokens for p in (t.split("-") if "-" in t and t[0] != "-" else (t,)) if p]
    out: list[str] = []
    dropped = False
    for n, p in enumerate(parts):
        if out and p in _LATIN_ARTICLES:
            if n + 1 < len(parts) and (one := out[-1] + p + parts[n + 1]) in all_words():
                out[-1], parts[n + 1] = one, ""  # "Mehr un Nisa", listed as "Mehrunnisa"
            dropped = True  # "Shams ud Din": the article and "Din" are a compound's ending
            continue
        if not p:
            continue
        if out and p.startswith(_UR_ARTICLE) and out[-1] + p in all_words():
            out[-1] = out[-1] + p  # "مہر النساء", listed as "مہرالنساء"
            continue
        if dropped and p in ("din", "deen"):
            p = "uddin"
        dropped = False
        if (
            out
            and p.startswith(_UR_ARTICLE)
            and len(p) > 3
            and p not in all_words()
            and p not in _TAILS
            and not p.startswith(_UR_ARTICLE + _UR_ARTICLE[-1])
        ):
            p = p[len(_UR_ARTICLE) :]
        if out and out[-1] in _ABD_APART:
            out[-1] = "abdul"
        out.append(p)
    return out


# The article joined inside one Latin word: "Samiulhaq", "Fazlur Rehman", "Zahoorul Hassan".
_JOINED_LATIN: Final = re.compile(r"u(?:sh|[lrsdnz])")
# Endings of compounds that `_compounds` and `known` already read ("Nasrullah", "Nizamuddin").
_NOT_JOINED: Final = ("ullah", "ulla", "uddin", "udin")


@functools.lru_cache(maxsize=_KEYS_KEPT)
def _unjoined(word: str, *, last: bool) -> tuple[str, ...]:
    """A word the lists lack that is a listed name, the Arabic article and a name, written as
    one ("Samiulhaq", "قمرالزمان"), as three words: as the same name written apart keys
    ("Sami ul Haq", "قمر الزمان"). Its first part must be a listed name; its last, a listed
    name or a short word ("haq"), or nothing when another word follows ("Fazlur Rehman")."""
    if _listed(word) or word.startswith(_COMPOUND_HEADS) or word.endswith(_NOT_JOINED):
        return (word,)
    if word.isascii():
        for m in _JOINED_LATIN.finditer(word, 3):
            head, art, tail = word[: m.start()], m.group(), word[m.end() :]
            if _listed(head) and ((not tail and not last) or _short_or_listed(tail)):
                return (head, art, tail) if tail else (head, art)
        return (word,)
    at = word.find(_UR_ARTICLE, 2)
    head, tail = word[:at], word[at:]
    if at < 0 or tail.startswith(_UR_ARTICLE + _UR_ARTICLE[-1]) or not _listed(head):
        return (word,)  # "جلال", "اقبال": no article; "ثناءاللہ": a compound of Allah
    return (head, tail) if _short_or_listed(tail[len(_UR_ARTICLE) :]) or _listed(tail) else (word,)


# Urdu letters that join no letter after them: a space after one changes nothing on the
# screen, and writers leave it out ("محمداکرم" looks as "محمد اکرم" does).
_NON_JOINING: Final = frozenset(normalize("اآأدڈذرڑزژوؤےۓۃ"))


@functools.lru_cache(maxsize=_KEYS_KEPT)
def _unspaced(word: str) -> tuple[str, ...]:
    """An Urdu word the lists lack that is listed names typed with no space after a letter
    that joins nothing ("محمداکرم", "نذیراحمد"), as those names: as the same name typed
    with its spaces keys. Keyed as one word by its consonants, "محمداکرم" (Muhammad Akram)
    and "محمداکرام" (Muhammad Ikram) were one `~mdkrm`: two men were one. A compound the
    lists read ("نصراللہ", "عبدالستار") is left whole."""
    if word.isascii() or len(word) < _UNSPACED_SHORTEST or _listed(word):
        return (word,)
    if word.startswith(_COMPOUND_HEADS) or word.endswith((*_COMPOUND_TAILS, *_TAILS)):
        return (word,)
    if word.endswith(tuple(_PLACE_TAILS)):
        return (word,)  # a place's name: "محمدآباد", Muhammadabad
    return _split_unspaced(word) or (word,)


# Fewest letters of two Urdu name words typed as one ("علیرضا", Ali Raza, has five).
_UNSPACED_SHORTEST: Final = 4


def _split_unspaced(word: str) -> tuple[str, ...] | None:
    """`word` as listed name words, each ending but the last in a letter that joins nothing,
    or None; the first split from the left whose rest splits too."""
    if word in names() or (len(word) > 2 and urdu_form(word) in _by_urdu(False)):
        return (word,)
    for at in range(2, len(word) - 1):
        head = word[:at]
        if head[-1] in _NON_JOINING and head in names():
            rest = _split_unspaced(word[at:])
            if rest is not None:
                return (head, *rest)
    return None


def _listed(word: str) -> bool:
    """Whether the lists know a word, by its spelling or the form its spellings share."""
    if word in all_words():
        return True
    if word.isascii():
        return len(word) > 3 and roman_form(word) in _by_roman(False)
    return len(word) > 2 and urdu_form(word) in _by_urdu(False)


def _short_or_listed(word: str) -> bool:
    """A listed word, or one too short to be anything but a name's last ("haq", "حق")."""
    return bool(word) and (_listed(word) or len(word) <= (3 if word.isascii() else 2))


# The second half of a compound name written apart ("سیف اللہ", "Saif Ullah", "نظام الدین",
# "اچک زئی") or as one word ("Saifullah", "Nizamuddin", "Achakzai"); as written apart, to
# its one-word ending. The names list spells compounds as one word, so that "سیف" is no
# key of its own that would make "رحمت علی" a "Rahmatullah" (a test holds it to that).
_TAILS: Final = {
    normalize("اللہ"): normalize("اللہ"),
    normalize("اللّٰہ"): normalize("اللہ"),
    "ullah": "ullah",
    "ulla": "ullah",
    normalize("الدین"): normalize("دین"),  # as Latin writes it: "uddin", no "l"
    "uddin": "uddin",
    # Pashtun tribes' endings: "اچک زئی" is "Achakzai", "عثمان خیل" "Utmankhel"
    normalize("زئی"): normalize("زئی"),
    "zai": "zai",
    normalize("خیل"): normalize("خیل"),
    "khel": "khel",
}


# Names that follow "Allah" as a word of its own: "Allah Ditta", "Allah Bux", "اللہ ڈنو".
_AFTER_ALLAH: Final = frozenset(("ditta", "bakhsh", "dino", "rakha", "wasaya", "dad", "yar"))


# In Urdu letters only: Roman Urdu's "khel" is "play" too ("sher khan khel raha tha").
_TRIBE_TAILS: Final = frozenset((normalize("زئی"), normalize("خیل")))


# A place's ending written apart from its name: "سمن آباد" is "Samanabad", "علی پور" "Alipur".
_PLACE_TAILS: Final = {
    t: t
    for t in (
        *(normalize(w) for w in ("آباد", "پور", "پورہ", "نگر", "گڑھ", "کوٹ")),
        *("abad", "pur", "pura", "nagar", "garh", "kot"),
    )
}


@functools.cache
def _joined(name: str) -> dict[str, str]:
    """Each spelling of two words in a list whose second is a compound's or a place's ending
    ("سمن آباد", "سیف اللہ"), written as one word, to its canonical word."""
    tails = {**_TAILS, **_PLACE_TAILS}
    out: dict[str, str] = {}
    for line in data(name):
        variants = [v.strip().lstrip("?") for v in line.split("|") if v.strip()]
        for v in variants:
            tokens = v.split()
            tail = tails.get(normalize(tokens[-1])) if len(tokens) == 2 else None
            if tail is not None:
                out.setdefault(normalize(tokens[0]) + tail, normalize(variants[0]))
    return out


def _compounds(tokens: list[str]) -> list[str]:
    """Tokens with a compound's halves written apart joined into one word, as it is mostly
    written in Latin letters: "نصیب اللہ" and "Naseebullah" key alike. "اللہ دتہ" (Allah
    first) and "Muhammad Allah Ditta" (a name after it) are no compounds."""
    if _TAILS.keys().isdisjoint(tokens):
        return tokens  # most names: no compound, and no walk over them
    out: list[str] = []
    for n, w in enumerate(tokens):
        tail = _TAILS.get(w)
        follows = n + 1 < len(tokens) and names().get(tokens[n + 1]) in _AFTER_ALLAH
        if tail is not None and out and not follows and out[-1] not in titles():
            joined = out.pop() + tail
            out.append(_joined("names.txt").get(joined, joined))
        else:
            out.append(w)
    return out


# --- one key across scripts -------------------------------------------------------------------

_LATIN_DROPPED: Final = frozenset("aeiouwvyh")
_LATIN_AS: Final = {"q": "k", "c": "k", "x": "ks"}


@functools.cache
def _letters() -> dict[str, str]:
    rows = (line.split() for line in data("letters.txt"))
    return {p[0]: p[1] for p in rows if p[1] not in ("=", ">")}


@functools.lru_cache(maxsize=_WORDS_KEPT)
def sound(word: str) -> str:
    """A word's sound key: its consonants, Urdu letters and Latin alike (`data/letters.txt`).

    "غنی" and "ghani" are "gn"; "فیروزوالہ" and "ferozewala" are "frzl". Repeated letters
    count once ("bhatti", "بھٹی": "bt"). Empty for a word with no letter either script has.
    """
    letters, out = _letters(), list[str]()
    chars = word.replace("ch", "C") if word.isascii() else word
    for ch in chars:
        if ch == "C":
            c = "c"
        elif ch.isascii():
            c = "" if ch in _LATIN_DROPPED or not ch.isalpha() else _LATIN_AS.get(ch, ch)
        else:
            c = letters.get(ch, "")
        for x in c:
            if not out or out[-1] != x:
                out.append(x)
    return "".join(out)


@functools.cache
def _by_sound(station: bool) -> dict[str, str]:
    """Each sound key of the name and station lists to its one canonical word (none if two)."""
    found: dict[str, set[str]] = {}
    for spelling, canonical in _vocabulary(station).items():
        s = sound(spelling)
        if len(s) >= _MIN_SOUND:
            found.setdefault(s, set()).add(canonical)
    return {s: next(iter(c)) for s, c in found.items() if len(c) == 1}


# A sound key shorter than this ("l" of "Ali") says too little to stand for a word.
_MIN_SOUND: Final = 3


# Roman spellings of one name differ in doubled letters and a few vowels and consonants
# ("Muhamad", "Mohammad"; "Waqaas", "Waqas"; "Younus", "Yunus"; "Tarique", "Tariq";
# "Saifulla", "Saifullah"): each spelling reduced to one form, applied alike to the list's.
_ROMAN_RULES: Final = (
    (re.compile(r"que$"), "q"),
    (re.compile(r"ph"), "f"),
    # an aspirate's h, which Roman spellings keep or drop ("Gulam", "Bhati", "Chaudry")
    (re.compile(r"(?<=[bdgjkt])h"), ""),
    (re.compile(r"q"), "k"),
    # a first vowel written "ai", "e" or "i" for one Urdu letter ("Aijaz", "Ejaz", "Ijaz")
    (re.compile(r"^ai(?=[^aeiou])"), "e"),
    (re.compile(r"^e"), "i"),
    (re.compile(r"ee|ea"), "i"),
    (re.compile(r"oo|ou|o"), "u"),
    (re.compile(r"w"), "v"),
    (re.compile(r"(?<=.)e(?=.)"), "a"),
    (re.compile(r"(.)\1+"), r"\1"),
    # y as a vowel's glide, written or not ("Riyaz", "Riaz"; "Fayaz", "Fiaz"; "Chandyo")
    (re.compile(r"iy(?=[aeiou])"), "i"),
    (re.compile(r"(?<=.)ay(?=a)"), "i"),
    (re.compile(r"(?<=[^aeiou])y(?=[aeiou])"), "i"),
    (re.compile(r"(?<=..)h$"), ""),
    # a last "y" after a consonant for the vowel "i" ("Jafry", "Jafri"; "Gilany", "Gilani")
    (re.compile(r"(?<=[^aeiou])y$"), "i"),
)


# Arabic names of the pattern fa'il ("Khalid", "Hamid", "Rashid", "Taher", "Amir") as Arabic
# and Bengali spellings write them, an "e" for the "i" of the last syllable: "Khaled",
# "Hamed", "Rashed", "Taher", "Amer". Read as "i" first (Hamed is Hamid, not Hammad); a
# cluster before it ("Ahmed", "Akber", "Anwer") is no fa'il, and "e" stays "a" there.
_FAIL_E: Final = re.compile(r"^([^aeiou]{0,2}aa?[^aeiouy]h?)e([^aeiouy])$")


def roman_form(word: str) -> str:
    """A Latin spelling reduced to the form its other spellings share ("mohammad": "muhamad")."""
    for pattern, to in _ROMAN_RULES:
        word = pattern.sub(to, word)
    return word


@functools.cache
def _by_roman(station: bool) -> dict[str, str]:
    """Each Roman form of a Latin spelling in the lists to its one canonical word (none if two)."""
    found: dict[str, set[str]] = {}
    for spelling, canonical in _vocabulary(station).items():
        if spelling.isascii() and spelling.isalpha():
            found.setdefault(roman_form(spelling), set()).add(canonical)
    return {f: next(iter(c)) for f, c in found.items() if len(c) == 1}


# Urdu spellings of one name differ in letters that sound alike, in hamza, and in how a
# word ends: "ذوالفقار" and "زوالفقار", "طاہر" and "تاہر", "صغراں" and "صغران". Each
# spelling reduced to one form (the letters' table in `data/letters.txt`), as `roman_form`
# does for Latin letters, and applied alike to the list's.
@functools.cache
def _urdu_as() -> dict[int, str | None]:
    pairs = (line.split(">") for line in data("letters.txt") if ">" in line)
    return {ord(normalize(a.strip())): b.strip().strip("-") or None for a, b in pairs}


# A word's last letter: bari ye as ye, alif as heh ("سلیمے", "رضوانا").
_URDU_ENDS: Final = ((re.compile("\u06d2$"), "\u06cc"), (re.compile("\u0627$"), "\u06c1"))
_URDU_REPEATS: Final = re.compile(r"(.)\1+")


def urdu_form(word: str) -> str:
    """An Urdu spelling reduced to the form its other spellings share ("ظہیر": "زہیر")."""
    word = word.translate(_urdu_as())
    for pattern, to in _URDU_ENDS:
        word = pattern.sub(to, word)
    return _URDU_REPEATS.sub(r"\1", word)


@functools.cache
def _by_urdu(station: bool) -> dict[str, str]:
    """Each Urdu form of an Urdu spelling in the lists to its one canonical word (none if two)."""
    found: dict[str, set[str]] = {}
    for spelling, canonical in _vocabulary(station).items():
        if not spelling.isascii():
            found.setdefault(urdu_form(spelling), set()).add(canonical)
    return {f: next(iter(c)) for f, c in found.items() if len(c) == 1}


def canonical_word(word: str, *, station: bool = False) -> str:
    """A word's key: its canonical spelling if the lists know it (by spelling, else by sound).

    "فیروزوالہ" is the list's "Ferozewala" (listed as "فیروزوالا"). A spelling the lists lack
    is matched by its form (`roman_form`, `urdu_form`), else by its sound; an Urdu one whose
    sound two names share, by the vowels it writes (`_by_vowels`). A word of two sounds or
    more that the lists do not know is keyed by its sound after a "~", in either script,
    so "عبدالغنی" and "Abdul Ghani" share `abdul ~gn`; a shorter one stays as it is.
    """
    known = _vocabulary(station).get(word)
    if known is not None:
        return known
    if not station and (of_head := _of_listed_head(word)) is not None:
        return of_head
    if word.isascii() and len(word) > 3:
        spelt = _by_roman(station).get(roman_form(_FAIL_E.sub(r"\1i\2", word)))
        spelt = spelt or _by_roman(station).get(roman_form(word))
        if spelt is not None:
            return spelt
    elif not word.isascii() and len(word) > 2:
        spelt = _by_urdu(station).get(urdu_form(word))
        if spelt is not None:
            return spelt
    if not station and (of_stem := _of_listed_stem(word)) is not None:
        return of_stem
    if not station and (nisba := _of_listed_nisba(word)) is not None:
        return nisba
    s = sound(word)
    if len(s) < 2:
        # one consonant: "حق" and "Haq", "عین" and "Ain" meet by it; a letter stays itself
        return f"~{s}" if s and len(word) >= (3 if word.isascii() else 2) else word
    found = _by_sound(station).get(s) if len(s) >= _MIN_SOUND else None
    if found is not None and not _ends_alike(word, found):
        found = None  # "Mansha", "منشا" are no Minhas; "Saleema" no Saleem
    if found is not None and not station and not _vowels_fit(word, found):
        found = None  # "ظافر" (Zafir) is no Zafar (ظفر)
    if found is None:
        found = _by_vowels(word, s, station=station)
    return found or f"~{s}{OPEN_A if _ends_in_a(word) else ''}"


# The endings of compounds of Allah and of the faith, and of a Pashtun clan's name ("son
# of", "sons of"), in either script (Urdu's "الدین" as `_compounds` joins it when written
# apart: "دین"), to the Latin ending the names list spells them with. Longer endings
# first: "جمالالدین" ends in "دین" too.
_COMPOUND_ENDINGS: Final = {
    "ullah": "ullah",
    "ulla": "ullah",
    normalize("اللہ"): "ullah",
    "uddin": "uddin",
    "udin": "uddin",
    normalize("الدین"): "uddin",
    normalize("دین"): "uddin",
    "zai": "zai",
    normalize("زئی"): "zai",
    "khel": "khel",
    normalize("خیل"): "khel",
}


def _of_listed_head(word: str) -> str | None:
    """A compound of Allah or of the faith, or a clan's name, that the lists lack whose first
    half is a listed name, keyed as that name and its ending: "Akram Ullah", "Akramullah"
    and "اکرم اللہ" are all `akramullah`; "Jamal ud Din" and "جمال الدین" `jamaluddin`;
    "Umarzai", "Omarzai" and "عمر زئی" `umarzai`.

    Matched by its form or its sound, such a compound took the key of the listed compound
    nearest it, or of its consonants: "Akramullah" was the listed "Ikramullah";
    "Ahmadullah" and "Imdadullah" were one `~mdla`, "Jamaluddin" and "Jamiluddin" one
    `~jmldn`, "Umarzai" and "Amirzai" one `~mrz`; two men of two names were one. Its first
    half says which name it is. A spelling of a listed compound (the list's first or
    another) keeps that compound's key."""
    for tail, latin in _COMPOUND_ENDINGS.items():
        head = word[: -len(tail)] if word.endswith(tail) else ""
        if len(head) < (3 if word.isascii() else 2) or not _head_of_given(head):
            continue
        name = names()[head]
        if " " in name:
            return None
        return names().get(name + latin, name + latin)
    return None


def _of_listed_stem(word: str) -> str | None:
    """A woman's name the lists lack that is a listed given name and the vowel "a", keyed as
    that name and the vowel: "Ameera", "Amira", "Ameerah" and "امیرہ" are all `amira`,
    "Ammara" and "عمارہ" `ammara`.

    Keyed by its consonants and the "a" alone (`OPEN_A`), such a name was one with every
    other of its consonants: Ameera (of Amir) and Ammara (of Ammar) were one `~mra`, Karima
    and Ikrama one `~krma`, Shamima and Hashima one `~sma`; two women of two names were one.
    The name before the "a" says which name it is."""
    ends = _LATIN_A_ENDS if word.isascii() else _URDU_A_ENDS
    for end in ends:
        stem = word[: -len(end)] if word.endswith(end) else ""
        if len(stem) < (3 if word.isascii() else 2):
            continue
        name = _given_spelt(stem)
        if name is not None and " " not in name:
            return names().get(name + OPEN_A, name + OPEN_A)
    return None


def _of_listed_nisba(word: str) -> str | None:
    """A surname of descent (a nisba) the lists lack that is a listed given name and "i",
    keyed as that name and the "i": "Karimi", "Kareemi" and "کریمی" are all `kareemi`,
    "Akrami" and "اکرمی" `akrami`.

    Keyed by its consonants alone, such a surname was one with every other of its
    consonants: Karimi (of Karim) and Akrami (of Akram) were one `~krm`, Saeedi and Asadi
    one `~sd`; two men of two names were one. The name before the "i" says which name it
    is. A nisba whose usual Latin spelling drops the name's vowel ("Hashmi", "Qasmi") is
    listed with its other spellings ("Hashimi", "ہاشمی"), and the list's key wins."""
    ends = _LATIN_I_ENDS if word.isascii() else _URDU_I_ENDS
    for end in ends:
        stem = word[: -len(end)] if word.endswith(end) else ""
        if len(stem) < (3 if word.isascii() else 2):
            continue
        if word.isascii() and (stem[-1] in _VOWELS or (stem[-1] == "h" and stem[-2] in _VOWELS)):
            continue  # "Kaloi", "Jatoi", "Agahi": a tribe's or a word's, no name's and "i"
        name = _given_spelt(stem)
        if name is not None and " " not in name:
            return names().get(name + _NISBA_I, name + _NISBA_I)
    return None


# How a nisba ends: Latin "i" or "y" ("Karimi", "Karimy"), Urdu ye ("کریمی"); keyed "i".
_LATIN_I_ENDS: Final = ("i", "y")
_URDU_I_ENDS: Final = tuple(dict.fromkeys(normalize(c) for c in "یي"))
_NISBA_I: Final = "i"
# A Latin stem ending in a vowel, or in an "h" after one, takes no nisba: Urdu writes "-oi",
# "-ai" with hamza ("کلوئی"), so a Latin "Kaloi" read as Kalu and "i" would meet no Urdu
# spelling of it; and Roman spellings drop such an "h" ("Agahi" is no Agha and "i").
_VOWELS: Final = frozenset("aeiouy")


def _given_spelt(word: str) -> str | None:
    """The listed given name (no title) a word spells, by its spelling or by the form its
    spellings share, if the lists know it as one name only."""
    listed = names()
    name = listed.get(word)
    if name is None and word.isascii() and len(word) > 3:
        name = _by_roman(False).get(roman_form(word))
    elif name is None and not word.isascii() and len(word) > 2:
        name = _by_urdu(False).get(urdu_form(word))
    if name is None or name not in spellings() or word in titles() or name in titles():
        return None
    return name


# How a woman's name in "a" ends: in Latin letters "a" or "ah" ("Ameera", "Ameerah"); in
# Urdu letters heh, teh marbuta or alif ("امیرہ", "امیرا").
_LATIN_A_ENDS: Final = ("ah", "a")
_URDU_A_ENDS: Final = tuple(dict.fromkeys(normalize(c) for c in "ہۃا"))


# Written after a sound key whose word ends in the vowel "a": a woman's name is so often a
# man's with it ("Naushada", نوشادہ, is no Naushad; "Shahnaza" no Shahnaz) that a key of
# consonants alone made the two one person. No sound holds it: vowels are dropped.
OPEN_A: Final = "a"


def _ends_in_a(word: str) -> bool:
    """Whether a word ends in the vowel "a", as `_ends_alike` reads an end: a Latin one in
    "a" or "ah" ("Naushada", "Naushadah"), an Urdu one in alif, heh or teh marbuta."""
    if word.isascii():
        return roman_form(word)[-1:] == "a"
    return _URDU_ENDS_AS.get(word[-1:], "") == "a"


_URDU_OPEN_ENDS: Final = frozenset(normalize("عءئ"))


def _ends_alike(word: str, canonical: str) -> bool:
    """Whether a word the lists know only by its consonants ends as a spelling of the listed
    word does, in a vowel or not: consonants alone would make "Mansha" (منشا) the surname
    Minhas, and a woman's name in -a ("Saleema", "Sitara") the man's (Saleem, Sattar)."""
    last = word[-1:]
    if not word.isascii() and (not last or last in _URDU_OPEN_ENDS):
        return True
    ends = _OPEN.get(roman_form(word)[-1:], "") if word.isascii() else _URDU_ENDS_AS.get(last, "")
    latin = [w for w in spellings().get(canonical, (canonical,)) if w.isascii()]
    return not latin or any(_same_end(_OPEN.get(roman_form(w)[-1:], ""), ends) for w in latin)


def _same_end(vowel: str, ends: str) -> bool:
    return vowel in ends if vowel else not ends


# A last vowel, in Latin letters, as the vowel it writes; each that a last Urdu letter may
# write. An open end must be the same vowel: "Pathana" (پٹھانا) is no Pathani, nor
# "Jamna" a "Jammo". Ye may be read "a" ("مصطفیٰ", Mustafa); a consonant ends as "".
_OPEN: Final = {"a": "a", "e": "i", "i": "i", "y": "i", "o": "u", "u": "u"}
_URDU_ENDS_AS: Final = {
    **{normalize(c): "a" for c in "اہۃ"},
    **{normalize(c): "ia" for c in "یےى"},
    normalize("و"): "u",
}


# Urdu letters as Roman Urdu writes them, in `roman_form`'s letters (q as k, an aspirate's
# h dropped, w as v): the cited table's consonants, and the long vowels Urdu does write
# (alif a, vav u, ye i), so that a word's written vowels say which of the list's names
# with its consonants it is ("اشفاق" is Ishfaq, not Shafique).
@functools.cache
def _roman_of() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in data("letters.txt"):
        parts = line.split()
        if ">" not in parts:
            out[normalize(parts[0])] = parts[-1].strip("-")
    return out


_ROMAN_VOWELS: Final = frozenset("aeiu")


@functools.lru_cache(maxsize=_KEYS_KEPT)
def _vowel_pattern(word: str) -> re.Pattern[str] | None:
    """A Roman form that an Urdu spelling could be written as: its letters in Roman, a short
    vowel (which Urdu leaves unwritten) allowed between two consonants; None if a letter of
    it has no Roman."""
    out: list[str] = []
    for n, ch in enumerate(word):
        if ch in _VAV_YE:
            first_or_after_vowel = n == 0 or (bool(out) and out[-1][-1:] in _ROMAN_VOWELS)
            r = _VAV_YE[ch][0 if first_or_after_vowel else 1]
            if not first_or_after_vowel and n < len(word) - 1:
                # a vowel, a diphthong ("عمیر" Umair, "چوہدری" Chaudhry) or a consonant
                # ("سید" Syed, "جواد" Jawad)
                consonant, vowel = _VAV_YE[ch]
                r = f"(?:a?{vowel}|a?{consonant}a?)"
        elif ch in _roman_of():
            r = _roman_of()[ch]
        else:
            return None
        if n == len(word) - 1 and ch == _HEH:
            # "رضوانہ" Rizwana; "شاہ" Shah, as `roman_form` leaves it ("sha"): a vowel the
            # Latin writes too, so "ستارہ" (Sitara) and "سلیمہ" (Saleema) are no Sattar, Saleem
            r = "a"
        elif ch == _AIN or (n == 0 and ch == _ALIF):
            r = "[aiu]" if n == 0 else "[aiu]?"  # "ارشاد" Irshad, "اکرم" Akram; "عمر" Umar
        if not r or (out and out[-1] == r):
            continue
        if out and _consonant(out[-1]) and _consonant(r):
            out.append("[aiu]?")
        out.append(r)
    return re.compile("".join(out)) if out else None


_HEH: Final = "\u06c1"  # heh goal, last in a word: a vowel or an h


def _consonant(r: str) -> bool:
    return r[0] not in _ROMAN_VOWELS and r[-1] not in "]?"


# Alif first, and ain anywhere, carry a short vowel Urdu does not say: any of the three.
_AIN: Final = "\u0639"
_ALIF: Final = "\u0627"
_VAV_YE: Final = {normalize("و"): ("v", "u"), normalize("ی"): ("y", "i")}


@functools.cache
def _by_consonants(station: bool) -> dict[str, frozenset[tuple[str, str]]]:
    """Each sound key of the lists' Latin spellings to their Roman forms and canonical words."""
    found: dict[str, set[tuple[str, str]]] = {}
    for spelling, canonical in _vocabulary(station).items():
        if spelling.isascii() and spelling.isalpha():
            found.setdefault(sound(spelling), set()).add((roman_form(spelling), canonical))
    return {s: frozenset(f) for s, f in found.items()}


def _by_vowels(word: str, s: str, *, station: bool = False) -> str | None:
    """The one canonical word among the lists' with an Urdu word's consonants (sound key
    `s`) whose Latin spelling fits the vowels the Urdu writes, if only one does. Urdu to
    Latin only: a Latin spelling's vowels do not say which Urdu ones are long ("Adil",
    عادل, would fit "عدیلہ", Adeela), so a Latin word the lists lack keeps its sound key."""
    pattern = None if word.isascii() else _vowel_pattern(word)
    if pattern is None:
        return None
    fits = {c for form, c in _by_consonants(station).get(s, ()) if pattern.fullmatch(form)}
    if len(fits) != 1:
        return None
    (found,) = fits
    return found if station or _long_vowels_fit(word, found) else None


def _vowels_fit(word: str, found: str) -> bool:
    """Whether the vowels an Urdu word writes fit listed word `found`, its consonants' one
    listed name: a Latin spelling of it that they fit (`_vowel_pattern`), and as many long
    vowels as an Urdu spelling of it writes. A Latin word says nothing here: its vowels do
    not say which are long, and Roman spellings of one name differ in them ("Bisharat",
    "Basharat"), so only the names list tells a Latin "Kashaf" from "Kashif"."""
    pattern = None if word.isascii() else _vowel_pattern(word)
    if pattern is None:
        return True
    latin = [roman_form(w) for w in spellings().get(found, ()) if w.isascii() and w.isalpha()]
    if latin and not any(pattern.fullmatch(form) for form in latin):
        return False
    return _long_vowels_fit(word, found)


def _long_vowels_fit(word: str, found: str) -> bool:
    """Whether an Urdu word writes no more long vowels than some Urdu spelling of `found`:
    "اسلام" (Islam) writes one that "اسلم" (Aslam) has not, "ظافر" (Zafir) one that "ظفر"
    (Zafar) has not. Fewer is allowed: writers drop one ("چھٹو" for "چھوٹو", Chhotu), so
    "کشف" (Kashaf) is told from "کاشف" (Kashif) by the names list holding it."""
    urdu = [w for w in spellings().get(found, ()) if not w.isascii()]
    return not urdu or any(_long_vowels(w) >= _long_vowels(word) for w in urdu)


# Alif, vav and ye inside a word: its long vowels (or a consonant vav or ye, alike in both).
_LONG: Final = frozenset(normalize("\u0627\u0648\u06cc"))  # alif, vav, ye


def _long_vowels(word: str) -> int:
    return sum(ch in _LONG for ch in word[1:-1])
