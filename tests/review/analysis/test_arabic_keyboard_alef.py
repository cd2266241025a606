"""A name typed on an Arabic keyboard, its alef with a hamza (أحمد), is the name in Urdu letters.

Seen in session 38: Arabic keyboards write Ahmad, Usama and Ishaq with alef and hamza above
or below (أحمد, أسامة, إسحاق), where Urdu writes a bare alef (احمد, اسامہ, اسحاق). The
names list did not know them, and they were keyed by their consonants ("~md raza"): the
same ASI of one station written from two keyboards was two men, and no link was made.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link

AT = "تھانہ صدر اوکاڑہ کے اے ایس آئی {} رضا نے پیسے لیے۔"


@pytest.mark.parametrize(
    ("arabic", "urdu", "key"),
    [
        ("أحمد", "احمد", "ahmed raza"),
        ("أسامة", "اسامہ", "usama raza"),
        ("إسحاق", "اسحاق", "ishaq raza"),
    ],
)
def test_an_arabic_keyboards_alef_with_hamza_is_urdus_alef(
    arabic: str, urdu: str, key: str
) -> None:
    assert [e.key for e in extract(AT.format(arabic)) if e.kind == "person"] == [key]
    found, strength = person_link(AT.format(arabic), AT.format(urdu))
    assert (found, strength.level) == (key, links.STRONG)
