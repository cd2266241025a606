"""Two names Urdu writes alike but Latin letters tell apart are two names where both reports
write them in Latin ("Gill" and "Gul").

The attack (session 38): the names list keys Gill and Gul as one word, since Urdu writes
both گل (its short vowels unwritten); so "ASI Shahbaz Gill" of a Punjabi Christian family's
report and "ASI Shahbaz Gul" of a Pashtun family's, at one station, were one man, linked
strongly and counted as corroboration, though both writers had spelt the names apart.
A report in Urdu letters still links to either: it does not say which it means.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence, person_link

GILL = "ASI Shahbaz Gill of Thana Saddar Okara took Rs 20,000 from the kiln workers."
GUL = "ASI Shahbaz Gul of Thana Saddar Okara beat my brother and locked him up."
URDU = "تھانہ صدر اوکاڑہ کے اے ایس آئی شہباز گل نے میرے بھائی کو مارا۔"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (GILL, GUL),
        (GILL, "asi shahbaz gul thana saddar okara mein paise leta hai"),
    ],
)
def test_names_urdu_writes_alike_spelt_apart_in_latin_link_weakly(a: str, b: str) -> None:
    key, _strength = person_link(a, b)
    strength = person_evidence(corpus_of([a, b]), 1, 2, key).strength
    assert strength.level == links.WEAK, strength
    assert "spell it in Latin letters as two names" in strength.why


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (GILL, "ASI Shahbaz Gill of Thana Saddar Okara threatened us."),
        (GUL, "asi shahbaz gul thana saddar okara ne dhamki di"),
        (GILL, URDU),
        (GUL, URDU),
        (
            "Moharrir Abrar Hussain of Thana City Sahiwal wrote a false FIR.",
            "محرر ابرار حسین تھانہ سٹی ساہیوال نے جھوٹی ایف آئی آر لکھی۔",
        ),
        # Abrar and Ibrar are two Latin spellings of one name, ابرار: not told apart.
        (
            "Moharrir Abrar Hussain of Thana City Sahiwal wrote a false FIR.",
            "Moharrir Ibrar Hussain of Thana City Sahiwal took Rs 10,000.",
        ),
    ],
)
def test_one_spelling_or_urdu_letters_still_link_strongly(a: str, b: str) -> None:
    key, _strength = person_link(a, b)
    assert person_evidence(corpus_of([a, b]), 1, 2, key).strength.level == links.STRONG
