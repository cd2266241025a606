"""Two names Latin letters write alike but Urdu tells apart are two names where both reports
write them in Urdu ("نذیر" and "نظیر", both "Nazir").

The attack (session 43): Urdu writers type ذ, ز, ظ and ض for one another, so the extractor
reads an Urdu spelling by the form those letters share, and نذیر (Nazir, "one who warns")
and نظیر (Nazir, "a peer") were one `nazir`. Two Urdu reports, "ASI نذیر کھوسہ" and "ASI
نظیر کھوسہ" of one station, were one man, linked strongly and counted as corroboration,
though both writers had spelt two names. A report in Latin letters still links to either:
it does not say which it means; nor does a misspelling that is neither ("نزیر").
"""

from __future__ import annotations

import pytest

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence, person_link

URDU = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے بھٹہ مالک سے پیسے لیے۔"
BEAT = "تھانہ صدر قصور کے اے ایس آئی {} کھوسہ نے میرے بھائی کو مارا۔"
LATIN = "ASI {} Khosa of Thana Saddar Kasur beat my brother at the thana."

# Names Urdu spells with two letters that Latin writes alike, each a name of its own.
TWO_NAMES = [
    ("نذیر", "نظیر"),
    ("نذر", "نظر"),
    ("ذکی", "زکی"),
    ("ظاہر", "زاہر"),
    ("شفیع", "شافی"),
    ("اسد", "اسعد"),
]


@pytest.mark.parametrize(("a", "b"), TWO_NAMES)
def test_names_latin_writes_alike_spelt_apart_in_urdu_link_weakly(a: str, b: str) -> None:
    first, second = URDU.format(a), BEAT.format(b)
    key, _strength = person_link(first, second)
    strength = person_evidence(corpus_of([first, second]), 1, 2, key).strength
    assert strength.level == links.WEAK, f"{a} and {b}, {key}: {strength}"
    assert "spell it in Urdu letters as two names" in strength.why


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (URDU.format("نذیر"), BEAT.format("نذیر")),
        (URDU.format("نظیر"), BEAT.format("نظیر")),
        (URDU.format("نذیر"), LATIN.format("Nazir")),
        (URDU.format("نظیر"), LATIN.format("Nazeer")),
        (URDU.format("نذیر"), BEAT.format("نزیر")),
        (URDU.format("اسد"), LATIN.format("Asad")),
    ],
)
def test_one_spelling_or_latin_letters_still_link_strongly(a: str, b: str) -> None:
    key, _strength = person_link(a, b)
    assert person_evidence(corpus_of([a, b]), 1, 2, key).strength.level == links.STRONG
