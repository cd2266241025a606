"""A CNIC written onto a person's name: the one mark that tells two men of a name apart.

A computerised national identity card's number is one person's for life. Reports give it
the way records do ("Agent Noor Muhammad, CNIC 11101-1234567-1", "Nadeem Akhtar (CNIC
34201-5673441-9)", "Usman's CNIC 34402-1187729-3", "گل محمد کا شناختی کارڈ 54400-7781234-3
ہے", "noor muhammad ka shanakhti card ..."). Two reports that give one name with two
different numbers name two men, whatever else they share; a link on the name between
them is weak (`links.pair_strength`). So the number is kept with the person's designation
("Agent, CNIC 11101-1234567-1"; `designations`), where a reviewer sees it.

Only a number written right after the name, with nothing between but the card's words,
is the person's: "جانی نے بھائی کا شناختی کارڈ ... چھین لیا" (Jani took his brother's card)
gives Jani none.
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
_OWN: Final = re.compile(
    r"\s*(?:"
    rf"['\u2019]s\s+{_CARD}(?:\s+(?:is|reads))?"  # "Usman's CNIC (is)"
    rf"|\s*\(\s*{_CARD}\s*:?"  # "Nadeem Akhtar (CNIC"
    rf"|\s*,\s*{_CARD}\s*:?"  # "Noor Muhammad, CNIC"
    rf"|\s+{_CARD}\s*:"  # "Noor Muhammad CNIC:"
    rf"|\s+(?:ka|ki|کا|کی)\s+{_CARD}(?:\s+(?:hai|ہے))?"  # "گل محمد کا شناختی کارڈ"
    r")\s*:?\s*",
    re.IGNORECASE,
)
_MOST_GAP: Final = 40


def mark(text: str, mentions: Sequence[M]) -> list[M]:
    """`mentions`, each person's designation carrying the CNIC written onto the name."""
    out = list(mentions)
    for i in range(len(out) - 1):
        person, card = out[i], out[i + 1]
        if person.kind != "person" or card.kind != "cnic":
            continue
        if card.start - person.end > _MOST_GAP or not _OWN.fullmatch(text, person.end, card.start):
            continue
        said = designations.parse(person.designation)
        if said.cnic:
            continue
        written = designations.compose(
            said.rank, said.namesake, said.home, said.kin_of, cnic=card.key
        )
        out[i] = dataclasses.replace(person, designation=written)  # type: ignore[type-var]
    return out
