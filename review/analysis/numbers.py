"""A CNIC or a phone number written onto a person's name: marks that tell men of a name apart.

A computerised national identity card's number is one person's for life, and a phone
number is as good as a name to those who call it. Reports give them the way records do
("Agent Noor Muhammad, CNIC 11101-1234567-1", "Nadeem Akhtar (CNIC 34201-5673441-9)",
"Usman's CNIC 34402-1187729-3", "گل محمد کا شناختی کارڈ 54400-7781234-3 ہے"; "Agent Noor
Muhammad (0300-1234567)", "agent noor muhammad ka number 0333 7654321 hai", "نور محمد کا نمبر
..."). Two reports that give one name two different CNICs name two men, whatever else
they share, and so, as sources write them, do two different phone numbers: in every
development corpus, two reports giving one man a number gave him the same one (35 pairs),
and the one pair with two numbers was two men. A man may carry two SIMs: a right link made
weak by that costs a reviewer a confirmation, a false one counted an innocent man. So each
number is kept with the person's designation ("Agent, CNIC 11101-1234567-1", "Agent, phone
+923001234567"; `designations`), where a reviewer sees it, and `links.pair_strength`
makes a link on the name weak when the numbers differ.

Only a number written right after the name, with nothing between but the card's or the
phone's words, is the person's: "جانی نے بھائی کا شناختی کارڈ ... چھین لیا" (Jani took his
brother's card) gives Jani none, nor "Aslam called 0300-..." Aslam.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Final

from review.analysis import designations
from review.analysis.designations import M

_CARD: Final = (
    r"(?:cnic|n\.?i\.?c\.?|id\s+card|identity\s+card|shanakhti\s+card|shanakhti\s+cart"
    r"|شناختی\s+کارڈ|آئی\s+ڈی\s+کارڈ)(?:\s+(?:no\.?|number|nambar|نمبر|#))?"
)
_PHONE: Final = (
    r"(?:(?:phone|mobile|cell|tel|whatsapp)(?:\s+(?:no\.?|number|nambar|#))?|number|nambar"
    r"|نمبر|موبائل(?:\s+نمبر)?|فون(?:\s+نمبر)?)"
)


def _own(words: str) -> re.Pattern[str]:
    """The gap between a name and a number that is its: `words` said of it, as written."""
    return re.compile(
        r"\s*(?:"
        rf"['\u2019]s\s+{words}(?:\s+(?:is|reads))?"  # "Usman's CNIC (is)"
        rf"|\s*\(\s*{words}\s*:?"  # "Nadeem Akhtar (CNIC"
        rf"|\s*,\s*{words}\s*:?"  # "Noor Muhammad, CNIC"
        rf"|\s+{words}"  # "Noor Muhammad CNIC:", "Noor Muhammad mobile 0300-..."
        rf"|\s+(?:ka|ki|کا|کی)\s+{words}(?:\s+(?:hai|ہے))?"  # "گل محمد کا شناختی کارڈ"
        r")\s*:?\s*",
        re.IGNORECASE,
    )


_OWN_CARD: Final = _own(_CARD)
# A phone number may also stand in brackets right after the name: "Noor Muhammad (0300-...)".
_OWN_PHONE: Final = re.compile(_own(_PHONE).pattern + r"|\s*[(,]?\s*", re.IGNORECASE)
_MOST_GAP: Final = 40


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person's designation carrying the CNIC and the phone number written
    onto the name."""
    out = list(mentions)
    for i in range(len(out) - 1):
        person, number = out[i], out[i + 1]
        if person.kind != "person" or number.kind not in ("cnic", "phone"):
            continue
        own = _OWN_CARD if number.kind == "cnic" else _OWN_PHONE
        if number.start - person.end > _MOST_GAP or not own.fullmatch(
            text, person.end, number.start
        ):
            continue
        said = designations.parse(person.designation)
        cnic = said.cnic or (number.key if number.kind == "cnic" else None)
        phone = said.phone or (number.key if number.kind == "phone" else None)
        written = designations.render(said._replace(cnic=cnic, phone=phone))
        out[i] = dataclasses.replace(person, designation=written)  # type: ignore[type-var]
    return out
