"""Entities found by their shape: CNICs, phone numbers, number plates and dates, in any digits.

Each pattern runs over the folded text (Urdu and Arabic-Indic digits read as
ASCII) in one regular-expression scan, so the time is linear in the text.
Keys: CNICs as #####-#######-#, Pakistani phones as +92…, other countries'
as + and their digits, plates as capitals and digits, dates as ISO
(`2024-04-01`, `2024-04` for a month, `--04-01` for a day without a year). Thirteen
digits a reference's word names ("FIR No.", "account", "IBAN", "challan", "مقدمہ نمبر")
are a reference number, keyed as its digits alone: never a CNIC's key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Final, NamedTuple

from review.workspace.search import normalize


class Found(NamedTuple):
    """A match of one pattern: kind, offsets in the folded text, key."""

    kind: str
    start: int
    end: int
    key: str


# Each month's English names, then common misspellings and Roman Urdu's spellings of the
# Urdu ("febuary", "farwari", "julai", "disambar").
_MONTH_NAMES: Final = (
    "january jan janwari janvari janurary januari",
    "february feb febuary feburary farwari farvari februari",
    "march mar",
    "april apr aprail",
    "may",
    "june jun joon",
    "july jul julai",
    "august aug agust agast augast",
    "september sep sept septmber sitambar sitamber septembar",
    "october oct octobar aktubar oktobar aktobar",
    "november nov novmber novambar navambar novembar nawambar",
    "december dec decmber disambar dasambar decembar",
)
_URDU_MONTHS: Final = (
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
)
MONTHS: Final = {
    normalize(m): i
    for table in (_MONTH_NAMES, _URDU_MONTHS)
    for i, names in enumerate(table, start=1)
    for m in names.split()
}
# Three-letter abbreviations: after one, a two-digit year is a year ("4 Mar 24").
_SHORT: Final = frozenset(m for m in MONTHS if len(m) <= 4 and m.isascii() and m != "may")
# Day words: Urdu writes the first of a month یکم ("first"), and any day in words
# ("چار مارچ", "چودہ فروری"): the Urdu numbers one to thirty-one.
_URDU_NUMBERS: Final = [
    "ایک",
    "دو",
    "تین",
    "چار",
    "پانچ",
    "چھ",
    "سات",
    "آٹھ",
    "نو",
    "دس",
    "گیارہ",
    "بارہ",
    "تیرہ",
    "چودہ",
    "پندرہ",
    "سولہ",
    "سترہ",
    "اٹھارہ",
    "انیس",
    "بیس",
    "اکیس",
    "بائیس",
    "تئیس",
    "چوبیس",
    "پچیس",
    "چھبیس",
    "ستائیس",
    "اٹھائیس",
    "انتیس",
    "تیس",
    "اکتیس",
]
_DAY_WORDS: Final = {
    normalize("یکم"): 1,
    "first": 1,
    **{normalize(w): n for n, w in enumerate(_URDU_NUMBERS, start=1)},
}
_M: Final = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_DW: Final = "|".join(re.escape(w) for w in _DAY_WORDS)
_D: Final = rf"(?:(?P<d>[0-3]?\d)(?:st|nd|rd|th)?|(?P<w>{_DW}))"
_Y: Final = r"(?P<y>(?:19|20)\d{2})(?:\s?ء)?"
_Y2: Final = r"(?P<y>(?:19|20)\d{2}|'?\d{2})(?:\s?ء)?"
# A day, then its month: tried only near a month's name (`_DAY_REACH` each side).
_DAY_FIRST: Final = re.compile(
    rf"(?<![\w/.-]){_D}(?:\s+of)?[\s,./-]*(?P<m>{_M})\.?(?:[\s,،./-]*{_Y2})?(?![\w])"
)
_DAY_REACH: Final = 32
_DATES: Final = (
    re.compile(
        r"(?<![\w/.-])(?P<d>[0-3]?\d)(?P<s>[/.-])(?P<n>[01]?\d)(?P=s)"
        r"(?P<y>(?:19|20)\d{2}|\d{2})(?:\s?ء)?(?![\w/-]|\.\d)"
    ),
    re.compile(
        r"(?<![\w/.-])(?P<y>(?:19|20)\d{2})(?P<s>[-/.])(?P<n>[01]?\d)(?P=s)(?P<d>[0-3]?\d)"
        r"(?![\w/-]|\.\d)"
    ),
)
# What every match of `_DATES` holds (a digit, a separator, a digit), and of `_YEAR_ALONE` and
# `_YEAR_IN` (a year from 1990 to 2039): a text without it is not scanned for them.
_DATE_HOLDS: Final = re.compile(r"\d[/.-]\d")
_YEAR_HOLDS: Final = re.compile(r"(?:199|20[0-3])\d")
# A year alone, after a word that makes it a time ("in 2024", "since 2019", "in summer 2023",
# Urdu's سن/سال before it, "سال ۲۰۲۳"), or before Urdu's "in" ("2023 میں", "2023 mein"):
# a year of the reports' span (1990-2039), and not 2000 before "in", which is money as often
# ("2000 میں بیچا": sold for 2,000); never before money's or a count's word.
_SEASON: Final = r"(?:(?:summer|winter|spring|autumn|early|late|mid|the\s+year)\s+(?:of\s+)?)?"
_YEAR_ALONE: Final = re.compile(
    r"(?:\b(?:in|since|during|until|till|year|saal|sal|san)|"
    + "|".join(normalize(w) for w in ("سن", "سال", "سنہ"))
    + rf")\s+{_SEASON}(?P<y>(?:199|20[0-3])\d)(?:\s?ء)?(?![\w/.,-]\d|[\w/-])"
    r"(?!\s*(?i:rs|rupees?|rupay|rupaye|pkr|riyals?|dirhams?|people|log|afrad|persons|men|"
    r"boys|girls|ladkay|larkay|km|kms|kg|feet|ft|روپے|ریال|افراد|لوگ))"
)
_YEAR_IN: Final = re.compile(
    r"(?<![\w/.,-])(?P<y>199\d|200[1-9]|20[1-3]\d)(?:\s?ء)?\s+(?:mein|main|me|"
    + normalize("میں")
    + r")(?!\w)"
)
# Dates that begin with a month's name, tried only where one begins (`_MONTH_AT`).
_MONTH_FIRST: Final = (
    re.compile(rf"(?P<m>{_M})\.?\s+{_D}[,،]?\s+{_Y}(?![\w])"),
    # days of one month and its year: "March 12-14, 2024" (keyed by its first day)
    re.compile(rf"(?P<m>{_M})\.?\s+{_D}\s?-\s?[0-3]?\d(?:st|nd|rd|th)?[,،]?\s+{_Y}(?![\w])"),
    re.compile(rf"(?P<m>{_M})\.?[,،]?\s+{_Y}(?![\w])"),
    # "March 3", "Feb 12th" without a year: only where the number ends a phrase, so that
    # "in March 20 people came" is no day.
    re.compile(
        rf"(?P<m>{_M})\.?\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
        r"(?=\s*(?:[,.;:)\u06d4]|$)|\s+(?:ko|at|when|and|se|tak|to|the|کو)\b)"
    ),
)
_MONTH_AT: Final = re.compile(rf"(?<![\w])(?:{_M})")
_HYPHENED_MONTH: Final = re.compile(rf"(?<=-)(?:{_M})(?![a-z])")
# A month alone, after a word that makes it a time ("in February", "since March"):
# English names in full, as "may" and the short forms are everyday words too.
_LONE_MONTH: Final = "|".join(n.split()[0] for n in _MONTH_NAMES if not n.startswith("may"))
# Not "of" after a week or a half ("the 2nd week of March", "the first half of June"): a
# span inside the month, which says no day of it.
_MONTH_ALONE: Final = re.compile(
    r"\b(?:in|since|by|until|till|during|early|late|mid|last|this|next|"
    r"(?<!week )(?<!weeks )(?<!half )of|between|from)\s+"
    rf"(?P<m>{_LONE_MONTH})(?![\w]|[\s,.]*\d)"
)
# A month alone before a postposition that makes it a time, in Urdu and Roman Urdu:
# "جون میں لیبیا سے", "جنوری سے", "march mein" ("in June", "since January").
_URDU_AFTER: Final = "|".join(normalize(w) for w in ("میں", "سے", "تک", "کے", "کو"))
# After a word or not ("وہ جون میں گیا", "he went in June"), but not after a day's number
# (a date of its own), nor a week of it: "مارچ کے دوسرے ہفتے" ("in March's second week"),
# as in English; nor a march that is a procession (`_MARCHES`).
_WEEK: Final = "|".join(normalize(w) for w in ("ہفتے", "ہفتہ", "ہفتوں"))
_URDU_MONTH_ALONE: Final = re.compile(
    rf"(?<!\d\s)(?<![\w\d])(?P<m>{'|'.join(normalize(m).split()[0] for m in _URDU_MONTHS)}"
    rf"|{_LONE_MONTH})\s+(?:{_URDU_AFTER}|mein|me|main|se|tak)(?!\w)"
    rf"(?!\s+\w+\s+(?:{_WEEK})(?!\w))"
)
_DAY_MONTH: Final = re.compile(rf"{_D}(?:\s+of)?[\s,./-]*(?P<m>{_M})")
# Between a card's groups: a hyphen (spaced or not), a dot, Urdu's full stop, or a space.
_CS: Final = r"(?:\s?[-.\u06d4]\s?|\s)?"
_CNIC: Final = re.compile(rf"(?<![\w-])([1-7]\d{{4}}){_CS}(\d{{7}}){_CS}(\d)(?![\w]|-\d)")
# Azad Kashmir's cards begin with 8, as many reference numbers do: only after "CNIC" (and
# so a card mistyped with 0 or 9 first).
_CUED_CNIC: Final = re.compile(
    r"(?:cnic|nic|id card|shanakhti card|card|"
    + "|".join(normalize(w) for w in ("شناختی کارڈ", "کارڈ", "شناختی"))
    + r")(?:\s+(?:no|number|nambar|is|hai|ہے|نمبر))*[\s.:#-]*"
    rf"(?<![\w-])([089]\d{{4}}){_CS}(\d{{7}}){_CS}(\d)(?![\w]|-\d)"
)
# A card's word right before thirteen digits, however they are grouped or spaced ("CNIC 3520
# 2123 4567 1", "ID card no. 3 5 2 0 2 ..."): a card's number, read as one.
_CARD_WORD: Final = (
    r"(?:cnic|nic|id card|identity card|shanakhti card|card|"
    + "|".join(normalize(w) for w in ("شناختی کارڈ", "کارڈ", "شناختی"))
    + r")(?:\s+(?:no|number|nambar|is|hai|ہے|نمبر))*[\s.:#-]*"
)
_CUED_SPACED_CNIC: Final = re.compile(
    rf"{_CARD_WORD}(?<![\w-])(\d(?:[\s-]?\d){{12}})(?![\w]|[\s-]?\d)"
)
# A reference's or a phone's word, at most two words before its number's own words: an FIR's,
# a case's, an account's, a passport's, a phone's thirteen digits are none of a card's. A
# card's word nearer the number (`_CARD_BEFORE`) makes it a card's all the same.
_REFERENCE_WORDS: Final = (
    r"fir|f\.i\.r\.?|case|account|acc|a/c|ac|iban|bank|passport|challan|chalan|tracking|"
    r"complaint|ref|reference|receipt|ticket|token|invoice|transaction|trx|tid|"
    r"roll|serial|diary|parcel|"
    + "|".join(
        normalize(w)
        for w in (
            *("ایف آئی آر", "مقدمہ", "مقدمے", "کیس", "اکاؤنٹ", "اکاونٹ", "کھاتہ", "بینک"),
            *("پاسپورٹ", "رسید", "چالان", "درخواست", "شکایت"),
        )
    )
)
# A phone's words name only the number right after them ("whatsapp 4915..."): "a phone photo
# of his CNIC: ..." is the card's.
_PHONE_WORDS: Final = r"phone|mobile|cell|whatsapp|whats app|tel|fone|" + "|".join(
    normalize(w) for w in ("فون", "موبائل", "واٹس ایپ")
)
_CONNECTORS: Final = r"(?:\s+(?:no|number|nambar|num|id|is|was|hai|ہے|نمبر|کا|کی))*[\s.:#-]*\Z"
_REFERENCE_BEFORE: Final = re.compile(
    rf"(?<!\w)(?:{_REFERENCE_WORDS})(?:\s+\S+){{0,2}}?{_CONNECTORS}"
)
_PHONE_BEFORE: Final = re.compile(rf"(?<!\w)(?:{_PHONE_WORDS}){_CONNECTORS}")
_CARD_BEFORE: Final = re.compile(rf"(?<!\w){_CARD_WORD}\Z")
# A card's word earlier in the number's clause ("Ghafoor's CNIC on the receipt: ..."): the
# card's number still, though a reference's word stands between. A clause ends at a comma,
# a semicolon, a line's end or a full stop ("CNIC No." is none).
_CARD_IN: Final = re.compile(
    r"(?<!\w)(?:cnic|nic|id card|identity card|shanakhti card|card|"
    + "|".join(normalize(w) for w in ("شناختی کارڈ", "کارڈ", "شناختی"))
    + r")(?!\w)"
)
_CLAUSE_ENDS: Final = re.compile(r"[,;\n\u060c\u061b\u06d4]|(?<!\bno)\.\s")
# A country's code before the digits ("+92 34101 ...", "0049 1512..."): a phone's.
_CODE_BEFORE: Final = re.compile(r"(?:\+|(?<!\d)00)\d{1,4}[\s-]*\(?\Z")
# How far before a number its reference's or card's words are read.
_NAMED_REACH: Final = 48


# What thirteen digits named as no card's are: a phone's (its word, or a country's code,
# before them) or a reference's (an FIR's, a case's, an account's: `REFERENCE`).
_PHONE: Final = "phone"
REFERENCE: Final = "reference"


def _named_other(folded: str, start: int) -> str | None:
    """What the thirteen digits at `start` are named as, if something other than a card's:
    a phone's or a reference's word, or a country's code, before them and no card's word."""
    before = folded[max(0, start - _NAMED_REACH) : start]
    if _CARD_BEFORE.search(before):
        return None
    cards = list(_CARD_IN.finditer(before))
    if cards and _CLAUSE_ENDS.search(before, cards[-1].end()) is None:
        return None
    if _PHONE_BEFORE.search(before) is not None or _CODE_BEFORE.search(before) is not None:
        return _PHONE
    return REFERENCE if _REFERENCE_BEFORE.search(before) is not None else None


# Any other number a reference's word names, right after it and its number's words ("FIR No.
# 245/2024", "FIR number 113 of 2023", "case no. 77/23", "challan # 4471", "account number
# 00271003456789012", "passport no. AB1234567", "tracking number RGL123456789PK", "ایف آئی آر
# نمبر ۲۴۵/۲۰۲۴"), and an IBAN wherever it stands: a source's own FIR or account tells the
# police she accuses who she is. Words between the reference's and the number are only its
# number's ("account mein Rs 5000" names no account's number).
# Roman Urdu's "FIR ka number", and a comma before a number's word ("The FIR, number 245"),
# join them too.
_REFERENCE_CUE: Final = re.compile(
    rf"(?<!\w)(?:{_REFERENCE_WORDS})(?![^\W\d_])(?:(?:\s+|\s*[.:#-]\s*|\s*,\s*(?=no|num))"
    rf"(?:{_REFERENCE_WORDS}|no|number|nambar"
    r"|numbar|num|id|is|was|hai|ہے|نمبر|کا|کی|ka|ki|ke)(?!\w))*[\s.:#-]*(?=\w)"
)
# A reference's number with a few words between its words and it: "The FIR number for the
# case is 245", "FIR no. for my son is 245/2024", "Our case number at the court is 4471"
# (its number's word, up to four words, then "is" or a colon), and "The FIR registered as
# number 245 of 2024" (up to three words, then its number's word). The words hold no digit
# and no comma or full stop, so the number is still the reference's own: "The FIR number
# for the case cost us Rs 5000" and "case ka number mangne pe munshi ne 5000 rupay liye"
# name none.
_REFERENCE_NUMBER_WORD: Final = r"(?:number|numbar|nambar|no\.?|نمبر)"
_REFERENCE_WIDE: Final = re.compile(
    rf"(?<!\w)(?:{_REFERENCE_WORDS})(?![^\W\d_])(?:\s+(?:ka|ki|ke|کا|کی))?\s*{_REFERENCE_NUMBER_WORD}"
    r"(?:\s+[^\W\d_]+){1,4}?(?:\s+(?:is|was|hai|tha|ہے|تھا)\s*[:#-]?|\s*[:#])\s*(?=\w)"
    rf"|(?<!\w)(?:{_REFERENCE_WORDS})(?![^\W\d_])(?:\s+[^\W\d_]+){{1,3}}?\s+"
    r"(?:number|numbar|nambar|no\.|نمبر)\s*[:#-]?\s*(?=\w)"
)
_IBAN: Final = re.compile(r"(?<![\w])pk\d\d\s?[a-z]{4}(?:\s?\d{4}){4}(?![\w])")
# An FIR's or a case's number and its year: "245/2024", "77/23", "113 of 2023"; not a date's
# day and month ("12/03/2024": a third part follows).
_NUMBER_OF_YEAR: Final = re.compile(
    r"(\d{1,6})\s?(?:/|-|\s+of\s+|\s+sal\s+)\s?((?:19|20)\d\d|\d\d)(?![\w]|\s?[/.-]\s?\d)"
)
# An account's digits in groups ("0123-4567-8901-23", "0027 1003 4567 8901"): ten to 24;
# a challan's or a short FIR's ("1234-5678", "2451 2345") six to nine, after an FIR's year.
_GROUPED: Final = re.compile(r"\d{2,6}(?:[\s-]\d{2,8}){1,5}(?![\w]|[/.-]\d)")
# A passport's, a parcel's: letters and five digits or more ("ab1234567", "rgl123456789pk").
_LETTERED: Final = re.compile(r"[a-z]{1,4}\d{5,20}[a-z]{0,4}(?![\w])")
_BARE: Final = re.compile(r"\d{3,24}(?![\w]|\s?[/.-]?\s?\d)")
# What makes a number a sum, not a reference ("bank 50000 rupees", "5000/-").
_SUM_AFTER: Final = re.compile(
    r"\s*(?:/-|(?:rs|rupees?|rupay|rupaye|rupe|pkr|lakh|lac|hazar|thousand|crore|"
    + "|".join(normalize(w) for w in ("روپے", "روپیہ", "ہزار", "لاکھ"))
    + r")(?!\w))"
)
# What makes a number a law's section, not a reference ("FIR 302/34 PPC").
_LAW_AFTER: Final = re.compile(r"\s*(?:ppc|p\.p\.c|crpc|cr\.p\.c|pec|ata)(?!\w)")
# A complaint's year first and its number after ("complaint no. 2024/117").
_YEAR_OF_NUMBER: Final = re.compile(r"((?:19|20)\d\d)\s?/\s?(\d{1,6})(?![\w]|\s?[/.-]\s?\d)")
_PHONE_DIGITS: Final = re.compile(r"(?:0|92|0092)?3\d{9}")
_LONE_YEAR: Final = range(1950, 2040)
_GROUPED_DIGITS: Final = range(10, 25)
_SHORT_GROUPED_DIGITS: Final = range(6, 10)
# A date's day, month and year in groups ("12-03-2024", "12 03 24"): no short reference.
_DATE_GROUPS: Final = re.compile(r"\d{1,2}[\s-]\d{1,2}[\s-](?:\d{2}|\d{4})")
_NUMBER_OF_YEAR_KEY: Final = re.compile(
    r"(\d{1,6})\s?(?:/|-|\s+of\s+|\s+sal\s+)\s?((?:19|20)\d\d|\d\d)"
)


def reference_key(text: str) -> str:
    """A reference number's key: an FIR's and its year as `245/2024`, letters and digits in
    capitals (`PK36SCBL...`, `AB1234567`), digits alone else; none ("") for words without a
    digit, which no reference is. None is a CNIC's (#####-...) or a phone's (+...)."""
    folded = normalize(text).strip()
    if _HAS_DIGIT.search(folded) is None:
        return ""
    if (m := _NUMBER_OF_YEAR_KEY.fullmatch(folded)) is not None:
        return f"{m[1]}/{m[2]}"
    if (m := _YEAR_OF_NUMBER.fullmatch(folded)) is not None:
        return f"{m[1]}/{m[2]}"
    alnum = "".join(c for c in folded if c.isascii() and c.isalnum())
    return alnum.upper() if any(c.isalpha() for c in alnum) else alnum


def _reference_at(folded: str, at: int) -> tuple[int, str] | None:
    """The end and key of the reference number that begins at `at`, after its word, if any."""
    if (m := _IBAN.match(folded, at)) is not None:
        return m.end(), reference_key(m[0])
    if (m := _GROUPED.match(folded, at)) is not None:
        digits = re.sub(r"\D", "", m[0])
        if len(digits) in _GROUPED_DIGITS and not _PHONE_DIGITS.fullmatch(digits):
            return (m.end(), digits) if not _SUM_AFTER.match(folded, m.end()) else None
    if (m := _NUMBER_OF_YEAR.match(folded, at)) is not None:
        return (m.end(), f"{m[1]}/{m[2]}") if not _LAW_AFTER.match(folded, m.end()) else None
    if (m := _YEAR_OF_NUMBER.match(folded, at)) is not None:
        return m.end(), f"{m[1]}/{m[2]}"
    if (m := _LETTERED.match(folded, at)) is not None:
        return m.end(), m[0].upper()
    if (m := _GROUPED.match(folded, at)) is not None and not _DATE_GROUPS.fullmatch(m[0]):
        digits = re.sub(r"\D", "", m[0])
        if len(digits) in _SHORT_GROUPED_DIGITS and not _SUM_AFTER.match(folded, m.end()):
            return m.end(), digits
    if (m := _BARE.match(folded, at)) is not None:
        lone_year = len(m[0]) == 4 and int(m[0]) in _LONE_YEAR
        after = m.end()
        if lone_year or _PHONE_DIGITS.fullmatch(m[0]) or _SUM_AFTER.match(folded, after):
            return None
        return (after, m[0]) if not _LAW_AFTER.match(folded, after) else None
    return None


def _references(folded: str, cards: set[int]) -> Iterator[Found]:
    """Every reference number a reference's word names, and every IBAN; none where a card's
    or a thirteen-digit reference's number already begins (`cards`)."""
    seen = set(cards)
    for m in _IBAN.finditer(folded):
        seen.add(m.start())
        yield Found(REFERENCE, m.start(), m.end(), reference_key(m[0]))
    cues = [*_REFERENCE_CUE.finditer(folded), *_REFERENCE_WIDE.finditer(folded)]
    for at in sorted({cue.end() for cue in cues}):
        if at in seen or (found := _reference_at(folded, at)) is None:
            continue
        seen.add(at)
        yield Found(REFERENCE, at, found[0], found[1])


# Seven digits after the operator's code, grouped 3-4 or 4-3 ("0300 331 4829", "0300 3314 829"),
# or read out in pairs: 3-2-2 and 2-2-3 ("0300 331 48 29", "0345-12-34-567").
_MOBILE: Final = re.compile(
    r"(?<![\w+])(?:(?:\+|00)?92[\s-]?(?:\(0\)\s?)?\(?|\(?0)(3\d{2})\)?[\s.\-\u06d4]?"
    r"(\d{3}[\s-]?\d{4}|\d{4}[\s-]\d{3}|\d{3}[\s-]\d{2}[\s-]\d{2}|\d{2}[\s-]\d{2}[\s-]\d{3})"
    r"(?!\w|-\d)"
)
# Landlines: an area code of one to four digits after 0 or +92, written apart
# ("042-35761234", "(042) 3576 1234", "+92 42 35761234", Mirpur's "05827-443102").
_LANDLINE: Final = re.compile(
    r"(?<![\w+])(?:(?:\+|00)92[\s-]?\(?|\(?0)([124-9]\d{0,3})\)?[\s-]"
    r"(\d{2,4})[\s-]?(\d{3,4})(?!\w|-\d)"
)
# A landline written in one run ("landline 0862214473"): its area code cannot be told
# from its number, so only after a word that says it is a telephone's.
_RUN_LANDLINE: Final = re.compile(
    r"(?:landline|ptcl|phone|tel|telephone|fone|number|nambar|numbar|"
    + "|".join(normalize(w) for w in ("نمبر", "فون", "لینڈ لائن", "لینڈلائن"))
    + r")[\s.:#-]*(?:(?:is|hai|ہے)\s+)?(?<![\w+])(0[124-9]\d{8,9})(?![\w]|-\d)"
)
# Other countries' numbers, written with their code: "+971 50 123 4567", "00966-5…".
# The codes of the countries reports name most (the Gulf, Iran, Afghanistan, Europe,
# East Asia), so that "00300-1234567" is not read as a number in a country "300".
_CODES: Final = (
    "971|966|974|968|965|973|964|961|962|963|967|880|977|218|98|93|90|94|91|20|86|60|62|66"
    "|44|39|30|34|33|49|31|32|40|48|1|7"
)
# After "00" a code is run into the number too ("00971501234567"): only a code of three
# digits (the Gulf's and its neighbours'), or Iran's and Afghanistan's, which no Pakistani
# number begins with.
_RUN_CODES: Final = "|".join((*(c for c in _CODES.split("|") if len(c) == 3), "98", "93"))
_FOREIGN: Final = re.compile(
    rf"(?<![\w+])(?:\+({_CODES})[\s-]?|00({_CODES})[\s-]|00({_RUN_CODES}))"
    r"((?:\d[\s-]?){6,11}\d)(?!\w|-\d)"
)
# Between a plate's letters and its number: a hyphen (spaced or not), a space ("LEA - 1234"),
# or a slash ("LEA/1234", as forms write it; only beside a vehicle's word, as references
# are written so too: "DPO/1234").
_PS: Final = r"(?:\s?[-/]\s?|\s)?"
# Punjab's plates carry one to four digits ("LEA-7", "LZ-55"): fewer than three only beside a
# vehicle's word, as "ATC 12", "Ward 12" are none.
_VEHICLE: Final = re.compile(
    rf"(?<![\w/-])(?:(ICT){_PS}([A-Z]{{1,2}}){_PS}(\d{{1,4}})"
    rf"|([A-Z]{{2,3}}){_PS}(?:(\d{{2}})[-\s])?(\d{{1,4}}))(?![\w/]|-\d)"
)
# What every match of `_VEHICLE` holds: two capitals ("ICT", or the plate's letters).
_VEHICLE_HOLDS: Final = re.compile("[A-Z][A-Z]")
# A plate in lower case (Roman Urdu: "hilux lef 1186", "van ka number lrt 7003"): three
# letters and a number, only right after a vehicle's word or "number" ("ka number"
# between at most), and no everyday word: "sal 2023", "gari aur 5000" have its shape.
# Vehicles' words in Latin letters, any case: makes, models and kinds as reports name them,
# their plurals ("two vans, BA-4471 and BA-4472", Roman Urdu "gariyan"), and the police's
# patrol car, which Pakistan calls its "mobile" ("police ki mobile lef 1186").
_VEHICLES: Final = (
    "vans?|cars?|gari|gaari|gaadi|gadi|g[a]+[dr]i[y]?[ao]n|hilux|hiaces?|coasters?|bus|bus+es|"
    "trucks?|rickshaws?|rikshaws?|pickups?|jeeps?|vigo|revo|motorcycles?|motor cycles?|"
    "motorbikes?|bikes?|scooter|scooty|tractors?|bolan|mehran|alto|cultus|corolla|civic|"
    "swift|datsun|dala|shehzore|mazda|suzuki|wagons?|coach|coaches|qingqi|chingchi|loaders?|"
    "trailers?|trolley|trolleys|trolly|dumpers?|tankers?|prado|fortuner|land cruiser|"
    "double cabin|apv|taxis?|cab|"
    r"minibus|wagon r|vitz|ambulance|vehicles?|police(?:\s+(?:ki|ka))?\s+mobile|"
    # and boats, whose numbers smugglers' launches carry as plates do ("the boat KB-4471")
    "boats?|launch|launches|lanch|trawlers?|kashti|"
    "registration|regn?|number plate|plate"
)
_URDU_VEHICLES: Final = (
    r"گاڑی|گاڑي|گاڑیاں|گاڑیوں|وین|ویگن|ویگنیں|ویگنوں|کار|ٹرک|ٹرکوں|بس|بسیں|بسوں|رکشہ|رکشا|"
    r"رکشے|جیپ|ڈالا|ڈالے|ہائی\s?لکس|ہائلکس|ویگو|ڈبل\s?کیبن|بولان|مہران|کرولا|موٹر\s?سائیکل|"
    r"بائیک|پک\s?اپ|کوچ|کوسٹر|ٹیکسی|لوڈر|چنگچی|ٹریکٹر|سوزوکی|پراڈو|ہائی\s?ایس|ڈمپر|ٹرالر|"
    r"ٹینکر|ٹرالی|مزدا|ایمبولینس|پولیس\s(?:کی\s)?موبائل|نمبر\s?پلیٹ|پلیٹ|رجسٹریشن|"
    r"لانچ|کشتی|بوٹ"
)
_LOWER_PLATE: Final = re.compile(
    r"(?<![\w-])(?:number|no|nambar|numbar|plate|registration|" + _VEHICLES + r")"
    r"(?:\s+(?:ka|ki|ke))?(?:\s+(?:number|no|nambar|numbar))?[.:]?\s+"
    r"([a-z]{3})[-\s]?(\d{3,4})(?![\w]|-\d)"
)
# What every match of `_LOWER_PLATE` holds: a space, its three letters, digits.
_LOWER_PLATE_HOLDS: Final = re.compile(r"\s[a-z]{3}[-\s]?\d\d\d")
# Two lower-case letters and a number after a vehicle's "number" ("gari ka number pr 6617",
# "van no. ba 7731", as the provinces' police and Balochistan's plates begin): not a word of
# two letters (`_NOT_TWO_LETTERS`), nor a number that begins with 0 (a phone's: "number pe
# 0300 …").
_LOWER_TWO: Final = re.compile(
    rf"(?<![\w-])(?i:{_VEHICLES})(?:\s+(?:ka|ki|ke))?\s+(?:number|no|nambar|numbar)[.:#]?\s+"
    r"([a-z]{2})[-\s]?([1-9]\d{2,3})(?![\w]|-\d)"
)
# Two lower-case letters and a number right after a vehicle's word ("pickup cp 2290", "hiace
# kn-7719", "mazda js 4018"), the letters no word of two letters.
_LOWER_TWO_BESIDE: Final = re.compile(
    rf"(?<![\w-])(?i:{_VEHICLES})\s+([a-z]{{2}})[-\s]?([1-9]\d{{2,3}})(?![\w]|-\d)"
)
_LOWER_TWO_BESIDE_HOLDS: Final = re.compile(r"\s[a-z]{2}[-\s]?[1-9]\d\d")
# What every match of `_LOWER_TWO` holds (its case-sensitive part), found at a fraction of
# its scan's cost (which tries every position): a text without it is not scanned.
_LOWER_TWO_HOLDS: Final = re.compile(r"n(?:umber|o|ambar|umbar)[.:#]?\s+[a-z]{2}[-\s]?[1-9]\d\d")
_NOT_TWO_LETTERS: Final = frozenset(
    (
        *("ko", "se", "ne", "me", "pe", "to", "ka", "ki", "ke", "hi", "na", "ya", "or", "is"),
        *("in", "on", "at", "of", "by", "be", "do", "go", "he", "it", "my", "no", "so", "up"),
        *("us", "we", "an", "as", "am", "jo", "wo", "ho", "ha", "ab", "jb", "tb", "kb", "ye"),
        *("rs", "re", "sr", "qr", "dh", "tk", "pk", "rm", "tl", "kd", "bd", "id", "af", "hy"),
        *("ek", "aj", "ap", "mn", "mj", "ny", "py", "sy", "ky", "hn", "hm", "km", "tu", "yh"),
        *("wh", "th", "au", "kr", "kh", "bs", "ik", "dy", "ly", "nh", "nd", "ok"),
    )
)
# A plate in lower case further on in the clause that names its vehicle ("uski pickup chalti
# hai, tbt 4417"): three letters and a number, the letters no everyday word, and a vehicle's
# word at most `_NEAR_REACH` characters before, with no sentence's end between.
_LOWER_ANY: Final = re.compile(r"(?<![\w-])([a-z]{3})[-\s]?(\d{3,4})(?![\w]|-\d)")
_VEHICLE_WORD: Final = re.compile(rf"(?<![\w-])(?i:{_VEHICLES}|{_URDU_VEHICLES})(?![\w])")
_CLAUSE_END: Final = re.compile(r"[.!?;\n\u06d4]")
_NEAR_REACH: Final = 48
# A plate in lower or mixed case with its hyphen, anywhere: "lea-1234", "Lhr-5521".
_HYPHENED_PLATE: Final = re.compile(r"(?<![\w-])([A-Za-z]{3})-(\d{3,4})(?![\w]|-\d)")
_HYPHEN_NUMBER: Final = re.compile(r"-\d{3,4}(?![\w]|-\d)")
_NOT_LOWER_PLATES: Final = frozenset(
    [
        *("ref", "sec", "art", "act", "vol", "ext", "tel", "fax", "ord", "seq", "doc", "emp"),
        *("inv", "acc", "txn", "trx", "sms", "cms", "app", "fir", "nic"),
        "aur",
        "hai",
        "hain",
        "tha",
        "thi",
        "the",
        "and",
        "for",
        "was",
        "has",
        "had",
        "not",
        "are",
        "but",
        "can",
        "all",
        "per",
        "par",
        "sal",
        "din",
        "rat",
        "kal",
        "das",
        "bis",
        "sau",
        "hum",
        "tum",
        "mai",
        "mein",
        "koi",
        "kya",
        "hay",
        "nay",
        "say",
        "lia",
        "lye",
        "rup",
    ]
)
# A plate right after a vehicle's word, in any register ("Police van, PR-6617", "گاڑی PR-6617",
# "a grey Bolan, MNA-5520", "gari ka number PR 6617"): two capitals and a number too (as the
# provinces' government and police vehicles are numbered), and three that would otherwise be
# a rank's or a party's ("MNA"). Only after a road vehicle's word, so that a flight's number
# ("flight PK-785") or money ("Rs 4000") never is one.
_CUE: Final = re.compile(
    rf"(?<![\w-])(?i:{_VEHICLES}|{_URDU_VEHICLES})"
    r"(?:\s+(?i:ka|ki|ke|کا|کی|کے))?(?:\s+(?i:number|no|nambar|numbar|نمبر))?"
    r"(?:\s+(?i:is|was|hai|tha|thi))?"  # "the van is KC-5519", "gari ka number tha LE-2201"
    r"(?:\s*[,،:.]?\s+\(?|\s*\()$"
)
# Or the vehicle named earlier in the clause and the plate after its "number" ("a Hilux whose
# number was PR-6617", "گاڑی جس کا نمبر PR-6617 تھا", "van with registration BA 4471").
# Its end, a vehicle's "number" right before the plate, is sought first (`_NUMBER_WORD`):
# cheaper, and most plate-shaped numbers lack it.
_NUMBER_END: Final = (
    r"(?<![\w-])(?i:number|no|nambar|numbar|plate|registration|regn?|نمبر|پلیٹ|رجسٹریشن)"
    r"\.?(?:\s+(?i:is|was|hai|tha|thi|ہے|تھا|تھی))?\s*[:#.,-]?\s*\(?$"
)
_NUMBER_WORDS: Final = ("no", "nambar", "numbar", "plate", "reg", "نمبر", "پلیٹ", "رجسٹریشن")
_NUMBER_WORD: Final = re.compile(_NUMBER_END)
_CUE_CLAUSE: Final = re.compile(
    rf"(?<![\w-])(?i:{_VEHICLES}|{_URDU_VEHICLES})(?![\w])"
    r"(?:[^.!?;\n\u06d4]|\.(?=\s*(?i:no|number)\b))*?" + _NUMBER_END
)
# Or right after it: "PR-6617 van", "PR 6617 wali gari", "PR-6617 والی گاڑی".
_CUE_AFTER: Final = re.compile(
    r"\s*[,،]?\s*(?:(?i:number|no|nambar|numbar|نمبر)\s+)?"
    r"(?:(?i:wali|wala|wale|ki|ka|والی|والا|کی|کا)\s+)?"
    rf"(?i:{_VEHICLES}|{_URDU_VEHICLES})(?![\w])"
)
# Between plates in a list: a comma, "and", "or", Roman Urdu's "aur"/"ya", Urdu's اور/یا.
_LIST_JOIN: Final = re.compile(r"\s*(?:[,،&]\s*)?(?:(?i:and|or|aur|ya|اور|یا)\s+)?$")
_LIST_REACH: Final = 8
# A plate in Urdu script: its letters by their names, as Urdu writes them ("ایل ای اے ۱۲۳۴"
# is LEA-1234), then its number: only beside a vehicle's word, as the names are words too
# (کے "of", جی "sir", بی "lady").
_URDU_LETTERS: Final = {
    normalize(name): letter
    for letter, names in (
        ("A", "اے"),
        ("B", "بی"),
        ("C", "سی"),
        ("D", "ڈی"),
        ("E", "ای"),
        ("F", "ایف"),
        ("G", "جی"),
        ("H", "ایچ"),
        ("I", "آئی آئ"),
        ("J", "جے"),
        ("K", "کے"),
        ("L", "ایل"),
        ("M", "ایم"),
        ("N", "این"),
        ("O", "او"),
        ("P", "پی"),
        ("Q", "کیو"),
        ("R", "آر"),
        ("S", "ایس"),
        ("T", "ٹی"),
        ("U", "یو"),
        ("V", "وی"),
        ("W", "ڈبلیو"),
        ("X", "ایکس"),
        ("Y", "وائی"),
        ("Z", "زیڈ زیڈ"),
    )
    for name in names.split()
}
_VARIANTS: Final = str.maketrans({"ی": "[یيى]", "ک": "[کك]", "ے": "[ےۓ]"})
_URDU_LETTER: Final = re.compile(
    "|".join(n.translate(_VARIANTS) for n in sorted(_URDU_LETTERS, key=len, reverse=True))
)
_URDU_PLATE: Final = re.compile(
    rf"(?<![\w-])((?:{_URDU_LETTER.pattern})(?:[\s-](?:{_URDU_LETTER.pattern})){{1,2}})(?![\w])"
    r"[\s-]*(\d{3,4})(?![\w]|-\d)"
)
# What every match of `_URDU_PLATE` holds: a letter's name, which ends in an Urdu letter,
# then digits (`_scan_holding`).
_URDU_PLATE_HOLDS: Final = re.compile(r"[\u0600-\u06ff][\s-]*\d\d\d")
# A record's word and "number" before a record's number, which has a plate's shape: "the
# complaint cell gave us a number, CMP-4471", "tracking no. TRK-5521" (a plate only if a
# vehicle's word is beside it). "In this case LEA-1234 was used" is a plate.
_RECORD: Final = re.compile(
    r"\b(?i:complaint|ref|reference|case|file|diary|token|ticket|receipt|challan|tracking|"
    r"application|invoice|order|درخواست|شکایت|رسید|چالان)\b"
    r"[^.\n]{0,30}?(?i:\bnumber|\bno\b|#|نمبر)[\s.:,#-]*$"
)
# A law's year after its letters, as FIRs cite Acts ("7 ATA 1997", "16 MPO-1960", "BLA 1992"):
# a number of this range after three capitals is a plate only beside a vehicle's word (or
# written so elsewhere in the report). Two reports citing one Act were linked strongly by it.
_LAW_YEARS: Final = range(1860, 2040)
# How far before a plate its vehicle's word may begin ("Hilux ka number " and some room), and
# how far when a clause joins them ("a Hilux whose registration number was ").
_CUE_REACH: Final = 40
_CLAUSE_REACH: Final = 64
# Two capitals before a number that are money or a word, never a plate's letters.
_NOT_CUED_PLATES: Final = frozenset(
    (
        *("RS", "RE", "SR", "QR", "DH", "TK", "NO", "PK", "RM", "TL", "KD", "BD", "US", "ID"),
        *("AF", "RO"),  # RO: Oman's rial, as the Gulf writes it
    )
)
# Months and money (and what money buys by its letters): never a plate, even after a
# vehicle's word ("car QAR 2000").
_NEVER_PLATES: Final = frozenset(
    (
        *("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        *("PKR", "USD", "AED", "SAR", "GBP", "EUR", "RMB", "QAR", "OMR", "KWD", "BHD", "IRR"),
        *("AFN", "INR", "MYR", "THB", "TRY", "IQD", "CNY", "JPY", "CAD", "AUD", "LYD", "EGP"),
        *("IDR", "BDT", "LKR", "NPR", "ZAR", "RUB", "CHF", "SGD", "DHS", "RPS"),
        # a cash machine's and fuels' letters before a sum ("ATM 5000 nikale", "van mein LPG
        # 1500 ka cylinder"): two families drawing one sum were linked strongly by it
        *("ATM", "LPG", "CNG"),
    )
)
# Three capitals and a number that are not number plates: ranks, agencies, laws; money, months.
_NOT_PLATES: Final = (
    frozenset(
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
            "AHT",
            "PIA",
            # Dir's plates ("coaster DIR-1190") and the dirham ("DIR 500"): a plate only beside
            # its vehicle.
            "DIR",
        )
    )
    | _NEVER_PLATES
)
_DIGITS: Final = str.maketrans(
    {**{0x0660 + d: str(d) for d in range(10)}, **{0x06F0 + d: str(d) for d in range(10)}}
)
_HAS_DIGIT: Final = re.compile(r"\d")
# Every run of digits. `_DATE_HOLDS` holds two, one character apart; `_YEAR_HOLDS` is inside
# one of four digits or more; `_SECTOR_HOLDS`'s number begins one (`_before_runs`). So each is
# asked of the runs, not by a scan of the text.
_DIGIT_RUN: Final = re.compile(r"\d+")
_YEAR_DIGITS: Final = 4
_OTHER_DIGITS: Final = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


# Dashes of every kind read as a hyphen (one character for one: offsets hold).
_DASHES: Final = str.maketrans(
    dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0xFE63, 0xFF0D), "-")
)
_OTHER_DASHES: Final = re.compile("[\u2010-\u2014\u2212\ufe63\uff0d]")


# Islamabad's sectors (a letter, a number, a subsector: "G-9", "I-8/3", "F6"), whose
# police stations reports name by them: "G-9 thana", "thana I-9", "تھانہ G-11", "Sector
# F-6 police station". Only Islamabad's plan names sectors so, and only D to I of them.
_SECTOR: Final = r"(?:sector\s+)?([d-i])-?([5-9]|1[0-8])(?:/[1-4])?(?![\w/-])"
_STATION_WORD: Final = r"(?:thana|thane|thanay|thaney|police\s+station|ps|تھانہ|تھانے)"
_SECTOR_STATION: Final = re.compile(
    rf"(?<![\w-]){_STATION_WORD}\s+{_SECTOR}|(?<![\w-]){_SECTOR}\s+{_STATION_WORD}(?!\w)"
)
# What every sector holds, as `_LOWER_TWO_HOLDS` for its pattern: a letter and a number.
_SECTOR_HOLDS: Final = re.compile(r"[d-i]-?[1-9]")


# Fewest digits a match of each pattern holds (CNIC 5+7+1; a mobile's 0 or 92, 3xx and seven;
# a landline's 0, code, exchange and line; a run of ten; a foreign one's code and seven): a
# text with fewer is not scanned for it, a scan that tries every position.
_CNIC_DIGITS: Final = 13
_MOBILE_DIGITS: Final = 10
_LANDLINE_DIGITS: Final = 7
_RUN_LANDLINE_DIGITS: Final = 10
_FOREIGN_DIGITS: Final = 8


def _scan(pattern: re.Pattern[str], text: str, digits: int, fewest: int) -> Iterator[re.Match[str]]:
    """A pattern's matches in `text`, which holds `digits` digits; none if fewer than `fewest`."""
    return pattern.finditer(text) if digits >= fewest else iter(())


def _scan_holding(
    pattern: re.Pattern[str], text: str, holds: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """A pattern's matches in `text`; none, unscanned, if it lacks what every match `holds`."""
    return pattern.finditer(text) if holds.search(text) is not None else iter(())


def find(folded: str, text: str, *, months: Sequence[int] | None = None) -> Iterator[Found]:
    """Every CNIC, reference number, phone, date and plate; offsets into `folded` (plates:
    into `text`).

    `months`: where months' names begin in `folded`, if the caller knows (none: dates in
    words are not sought); else they are sought.
    """
    digits = _HAS_DIGIT.search(folded) is not None
    if digits and _OTHER_DASHES.search(folded):
        folded, text = folded.translate(_DASHES), text.translate(_DASHES)
    runs = [m.span() for m in _DIGIT_RUN.finditer(folded)] if digits else []
    if digits:
        count = sum(end - start for start, end in runs)
        cards = set()
        for m in _scan(_CNIC, folded, count, _CNIC_DIGITS):
            named = _named_other(folded, m.start())
            if named is None:
                cards.add(m.start())
                yield Found("cnic", m.start(), m.end(), f"{m[1]}-{m[2]}-{m[3]}")
            elif named == REFERENCE:
                # no card's, but her FIR's or her account's number tells who she is as well
                cards.add(m.start())
                yield Found(REFERENCE, m.start(), m.end(), f"{m[1]}{m[2]}{m[3]}")
        for m in _scan(_CUED_CNIC, folded, count, _CNIC_DIGITS):
            cards.add(m.start(1))
            yield Found("cnic", m.start(1), m.end(), f"{m[1]}-{m[2]}-{m[3]}")
        for m in _scan(_CUED_SPACED_CNIC, folded, count, _CNIC_DIGITS):
            if m.start(1) not in cards:
                d = re.sub(r"\D", "", m[1])
                cards.add(m.start(1))
                yield Found("cnic", m.start(1), m.end(), f"{d[:5]}-{d[5:12]}-{d[12]}")
        yield from _references(folded, cards)
        for m in _scan(_MOBILE, folded, count, _MOBILE_DIGITS):
            yield Found("phone", m.start(), m.end(), f"+92{m[1]}{_digits(m[2])}")
        for m in _scan(_LANDLINE, folded, count, _LANDLINE_DIGITS):
            number = f"{m[1]}{m[2]}{m[3]}"
            if 9 <= len(number) <= 10 and not number.startswith("3"):
                yield Found("phone", m.start(), m.end(), f"+92{number}")
        for m in _scan(_RUN_LANDLINE, folded, count, _RUN_LANDLINE_DIGITS):
            yield Found("phone", m.start(1), m.end(1), f"+92{m[1][1:]}")
        for m in _scan(_FOREIGN, folded, count, _FOREIGN_DIGITS):
            found = re.sub(r"\D", "", m[4])
            if 7 <= len(found) <= 12:
                yield Found("phone", m.start(), m.end(), f"+{m[1] or m[2] or m[3]}{found}")
        written = text.translate(_DIGITS) if _OTHER_DIGITS.search(text) else text
        yield from _plates(written)
        for m in _SECTOR_STATION.finditer(folded) if _holds_sector(folded, runs) else ():
            letter, number = m[1] or m[3], m[2] or m[4]
            yield Found("police_station", m.start(), m.end(), f"{letter}-{number}/islamabad")
    at = [m.start() for m in _MONTH_AT.finditer(folded)] if months is None else months
    if months is not None and "-" in folded:
        # a month inside a hyphened word, which the lexicon's scan does not see: "5-feb-24",
        # "mid-august 2024"
        at = sorted({*at, *(m.start() for m in _HYPHENED_MONTH.finditer(folded))})
    dated, years = _holds_date(folded, runs), _holds_year(folded, runs)
    yield from _dates(folded, months=at, dated=dated, years=years)


# Spans of a text's runs of digits (`_DIGIT_RUN`), in order.
_Runs = Sequence[tuple[int, int]]


def _holds_sector(folded: str, runs: _Runs) -> bool:
    """Whether `_SECTOR_HOLDS` matches: its number begins a run, after a letter and a hyphen."""
    return any(_before_runs(_SECTOR_HOLDS, folded, [start for start, _ in runs], (2, 1)))


def _holds_date(folded: str, runs: _Runs) -> bool:
    """Whether `_DATE_HOLDS` matches: a run ends a separator before the next begins."""
    return any(b == e + 1 and folded[e] in "/.-" for (_, e), (b, _) in pairwise(runs))


def _holds_year(folded: str, runs: _Runs) -> bool:
    """Whether `_YEAR_HOLDS` matches: inside a run of four digits or more."""
    return any(_YEAR_HOLDS.search(folded, b, e) for b, e in runs if e - b >= _YEAR_DIGITS)


# Where each run of three digits or more begins. The number of every match of `_LOWER_ANY`,
# `_LOWER_PLATE_HOLDS` and `_LOWER_TWO_BESIDE_HOLDS` begins one (a letter, a hyphen or a
# space comes before it, never a digit), a fixed few characters after the match begins: each
# is tried there alone, not at every position of the text (`_before_runs`).
_RUN: Final = re.compile(r"(?<!\d)\d{3}")


def _before_runs(
    pattern: re.Pattern[str], text: str, runs: Sequence[int], reaches: tuple[int, int]
) -> Iterator[re.Match[str]]:
    """`pattern`'s match starting `reaches[0]` characters before each run, else the one
    starting `reaches[1]` before it: with a separator between letters and number, or none."""
    for at in runs:
        for reach in reaches:
            if at >= reach and (m := pattern.match(text, at - reach)) is not None:
                yield m
                break


# A model's letters before its engine size or its model year: the motorcycles and cars half
# the country drives (Honda CD 70, CG 125; Yamaha YBR 125; Suzuki GS 150, GD 110; Corolla
# GLI and XLI, Cultus VXR and VXL, Mehran VX, Civic VTI, Hilux Revo GR, "2018"). Beside a
# vehicle's word they had a plate's shape, and a plate links two reports strongly by itself.
_MODELS: Final = frozenset(
    ("CD", "CG", "YBR", "YB", "GS", "GD", "GLI", "XLI", "VXR", "VXL", "VX", "VTI", "GR")
)
_ENGINES: Final = frozenset(("70", "100", "110", "125", "150", "200", "250"))
_MODEL_YEARS: Final = range(1960, 2040)
_PLATE_KEY: Final = re.compile(r"([A-Z]+)(\d+)")


def _model(key: str) -> bool:
    """Whether a plate's key is a vehicle's model and its engine size or year (`_MODELS`)."""
    m = _PLATE_KEY.fullmatch(key)
    return (
        m is not None
        and m[1] in _MODELS
        and (m[2] in _ENGINES or (len(m[2]) == 4 and int(m[2]) in _MODEL_YEARS))
    )


def _plates(written: str) -> Iterator[Found]:
    """Every number plate in the text as written (its digits ASCII), but a vehicle's model
    (`_model`)."""
    return (f for f in _shaped_plates(written) if not _model(f.key))


def _shaped_plates(written: str) -> Iterator[Found]:
    """Every number plate in the text as written (its digits ASCII).

    A plate's shape that wants a vehicle's word beside it is one without it too where it
    continues a list of plates ("two vans, BA-4471 and BA-4472") or where the report
    writes the same plate beside a vehicle's word elsewhere ("PR 6617 wali van … PR 6617
    mein 6 larkay aye").
    """
    found: list[Found] = []
    waiting: list[Found] = []  # a plate's shape that lacked only a vehicle's word
    ends: set[int] = set()
    for m in _scan_holding(_VEHICLE, written, _VEHICLE_HOLDS):
        letters = m[4]
        key = f"ICT{m[2]}{m[3]}" if letters is None else f"{letters}{m[5] or ''}{m[6]}"
        plate = Found("plate", m.start(), m.end(), key)
        if letters is None or _may_plate(written, m, letters) or _listed(written, m.start(), ends):
            found.append(plate)
            ends.add(m.end())
        elif letters not in _NEVER_PLATES and letters not in _NOT_CUED_PLATES:
            waiting.append(plate)
    for m in _scan_holding(_URDU_PLATE, written, _URDU_PLATE_HOLDS):
        if _vehicle_beside(written, m) or _listed(written, m.start(), ends):
            letters = "".join(_URDU_LETTERS[normalize(n)] for n in _URDU_LETTER.findall(m[1]))
            found.append(Found("plate", m.start(), m.end(), f"{letters}{m[2]}"))
            ends.add(m.end())
    for h in _HYPHEN_NUMBER.finditer(written):  # cheaper than the whole shape's scan
        hyphened = _HYPHENED_PLATE.match(written, h.start() - 3) if h.start() >= 3 else None
        if hyphened is None:
            continue
        as_written, letters = hyphened[1], hyphened[1].upper()
        if (
            as_written != letters
            and letters not in _NOT_PLATES
            and as_written.lower() not in _NOT_LOWER_PLATES
        ):
            found.append(
                Found("plate", hyphened.start(), hyphened.end(), f"{letters}{hyphened[2]}")
            )
    runs = [m.start() for m in _RUN.finditer(written)]
    lower_plates = any(_before_runs(_LOWER_PLATE_HOLDS, written, runs, (5, 4)))
    for m in _LOWER_PLATE.finditer(written) if lower_plates else ():
        if not (
            m[1].upper() in _NOT_PLATES or m[1] in _NOT_LOWER_PLATES or m[1] in _NOT_NEAR_PLATES
        ):
            found.append(Found("plate", m.start(1), m.end(), f"{m[1].upper()}{m[2]}"))
            ends.add(m.end())
    for m in (
        *_scan_holding(_LOWER_TWO, written, _LOWER_TWO_HOLDS),
        *(
            _LOWER_TWO_BESIDE.finditer(written)
            if any(_before_runs(_LOWER_TWO_BESIDE_HOLDS, written, runs, (4, 3)))
            else ()
        ),
    ):
        if m[1] not in _NOT_TWO_LETTERS and m.end() not in ends:
            found.append(Found("plate", m.start(1), m.end(), f"{m[1].upper()}{m[2]}"))
            ends.add(m.end())
    for m in _before_runs(_LOWER_ANY, written, runs, (4, 3)):
        letters = m[1]
        if letters.upper() in _NOT_PLATES or letters in _NOT_LOWER_PLATES:
            continue
        if letters in _NOT_NEAR_PLATES:
            continue
        plate = Found("plate", m.start(), m.end(), f"{letters.upper()}{m[2]}")
        if (
            _vehicle_before(written, m.start())
            or _CUE_AFTER.match(written, m.end()) is not None
            or _listed(written, m.start(), ends)
        ):
            found.append(plate)
            ends.add(m.end())
        else:
            waiting.append(plate)
    yield from found
    if waiting:
        keys = {f.key for f in found}
        yield from (w for w in waiting if w.key in keys)


def _listed(text: str, start: int, ends: set[int]) -> bool:
    """Whether a plate ends just before `start`, joined to it as the next in a list."""
    if not ends or not any(e in ends for e in range(start - _LIST_REACH, start)):
        return False
    join = _LIST_JOIN.search(text, max(0, start - _LIST_REACH), start)
    return join is not None and join.start() in ends


def _may_plate(text: str, m: re.Match[str], letters: str) -> bool:
    """Whether a plate's shape is one by its letters: three that are no rank's, party's,
    money or month; two with the year of issue between ("LE-15-1234", Punjab's plates);
    two ("PR-6617"), or three that are a rank's ("MNA-5520") or before a law's year ("ATA
    1997": `_LAW_YEARS`), only right after or before a vehicle's word, and never money or
    a month. Fewer than three digits, or a slash, only beside a vehicle's word too."""
    if len(m[6]) < 3 or "/" in m.group():
        return (
            letters not in _NOT_PLATES
            and letters not in _NOT_CUED_PLATES
            and _vehicle_beside(text, m)
        )
    if len(letters) == 3 and letters not in _NOT_PLATES:
        if m[5] is None and int(m[6]) in _LAW_YEARS:
            return _vehicle_beside(text, m)
        return _RECORD.search(text, max(0, m.start() - _CUE_REACH), m.start()) is None or (
            _vehicle_beside(text, m)
        )
    if letters in (_NOT_CUED_PLATES if len(letters) == 2 else _NEVER_PLATES):
        return False
    if len(letters) == 2 and m[5] is not None:
        return True
    return _vehicle_beside(text, m)


def _vehicle_before(text: str, start: int) -> bool:
    """Whether a vehicle's word stands in the clause before `start`, near it."""
    window = text[max(0, start - _NEAR_REACH) : start]
    ends = [e.end() for e in _CLAUSE_END.finditer(window)]
    return _VEHICLE_WORD.search(window, ends[-1] if ends else 0) is not None


# Everyday words of three letters that a number follows in a clause about a vehicle ("bus
# ran 300 km", "gari mei 5000 diye"): never a plate's letters, right after a vehicle's word
# or further on.
_NOT_NEAR_PLATES: Final = frozenset(
    (
        *("ran", "got", "sab", "mei", "mey", "bhi", "kia", "dia", "pay", "due", "off", "out"),
        *("now", "new", "old", "big", "two", "six", "ten", "one", "her", "his", "him", "its"),
        *("our", "who", "how", "why", "did", "use", "any", "few", "yes", "abi", "aik", "tak"),
        *("sat", "ath", "nau", "lac", "hzr", "kam", "jab", "tab", "aaj", "pur", "fee", "kms"),
        *("mil", "saw", "ney", "liy", "diy", "kar"),
        # pronouns and quantifiers of Roman Urdu before a number ("woh 5000 le gaya")
        *("yeh", "woh", "wuh", "jis", "uss", "iss", "kis", "unn", "inn", "aap", "har", "kul"),
        *("sub", "bas", "tax", "toh", "per", "fir", "phr", "ham", "jin", "un"),
        *("way", "day", "yrs", "age", "men", "boy", "sit", "set", "let", "get", "put", "own"),
    )
)


def _vehicle_beside(text: str, m: re.Match[str]) -> bool:
    """Whether a vehicle's word stands right before the plate-shaped match or right after it."""
    start = m.start()
    return (
        _CUE.search(text, max(0, start - _CUE_REACH), start) is not None
        or _CUE_AFTER.match(text, m.end()) is not None
        or (
            any(w in text[max(0, start - _CUE_REACH) : start].lower() for w in _NUMBER_WORDS)
            and _NUMBER_WORD.search(text, max(0, start - _CUE_REACH), start) is not None
            and _CUE_CLAUSE.search(text, max(0, start - _CLAUSE_REACH), start) is not None
        )
    )


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def plate_key(text: str) -> str:
    """A number plate as a reviewer may type it, in the key's form."""
    return re.sub(r"[^A-Z0-9]", "", text.upper().translate(_DIGITS))


def _dates(folded: str, *, months: Sequence[int], dated: bool, years: bool) -> Iterator[Found]:
    words = bool(months)
    if words:
        for m in _MONTH_ALONE.finditer(folded):
            yield Found("date", m.start("m"), m.end(), f"--{MONTHS[m['m']]:02d}")
        # The patterns that begin with a month's name are tried where one begins, as the
        # lexicon's scan found them: no scan of the text for each.
        for at in months:
            # A day before the month ("4 March 2024", "یکم اپریل"): sought near it alone,
            # each month's own (the match whose month is this one).
            for m in _DAY_FIRST.finditer(folded, max(0, at - _DAY_REACH), at + _DAY_REACH):
                if m.start("m") == at:
                    yield from _dated(folded, m)
                    break
            alone = _URDU_MONTH_ALONE.match(folded, at)
            if alone is not None and not _a_march(folded, at):
                yield Found("date", at, alone.end("m"), f"--{MONTHS[alone['m']]:02d}")
            for pattern in _MONTH_FIRST:
                if (first := pattern.match(folded, at)) is not None:
                    yield from _dated(folded, first)
    for pattern in _DATES if dated else ():
        for m in pattern.finditer(folded):
            yield from _dated(folded, m)
    for pattern in (_YEAR_ALONE, _YEAR_IN) if years else ():
        for m in pattern.finditer(folded):
            yield Found("date", m.start("y"), m.end("y"), m["y"])


# Words before "march" that make it a procession: "long march mein", "عورت مارچ میں".
_MARCHES: Final = frozenset(
    normalize(w)
    for w in (
        *("long", "azadi", "aurat", "million", "protest", "peace", "kisan", "haqooq"),
        *("لانگ", "آزادی", "عورت", "ملین", "احتجاجی", "امن", "کسان", "حقوق"),
    )
)
_WORD_BEFORE: Final = re.compile(r"(\w+)\s+$")


def _a_march(folded: str, at: int) -> bool:
    """Whether the month's name at `at` is a procession's "march" ("long march mein")."""
    before = _WORD_BEFORE.search(folded, max(0, at - 16), at)
    return before is not None and before[1] in _MARCHES


def _dated(folded: str, m: re.Match[str]) -> Iterator[Found]:
    key = _date_key(m)
    if key is not None:
        yield Found("date", m.start(), m.end(), key)
    elif all(m.groupdict().get(g) for g in ("y", "d", "m")):
        # "4 March 20 people": the day and month stand without the number after
        key = _date_key(_DAY_MONTH.match(folded, m.start(), m.end("m")) or m)
        if key is not None:
            yield Found("date", m.start(), m.end("m"), key)


def _date_key(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    month = MONTHS[groups["m"]] if groups.get("m") else int(groups["n"])
    day = _DAY_WORDS[groups["w"]] if groups.get("w") else None
    day = int(groups["d"]) if groups.get("d") else day
    year: int | None = None
    if groups.get("y"):
        written = groups["y"].lstrip("'")
        if len(written) == 2 and groups.get("m") and groups["m"] not in _SHORT:
            return None  # "4 March 20 people": a short year only after "Mar"
        year = int(written)
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
