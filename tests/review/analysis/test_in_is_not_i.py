"""Urdu's میں is "I" and "in" alike ("main", "mein" in Roman Urdu): after a place it is "in",
and the name after it is no writer's own.

The attack (session 38): two families wrote "اگر تھانے میں ایس ایچ او طارق محمود ہوں تو ..."
("if SHO Tariq Mehmood is at the station, then ...", the verb in its respectful plural). "میں
... ہوں" was read as "I am ...": the accused SHO was shown to reviewers as each report's
writer ("SHO, the writer"), and the two families were grouped as one writer by his name.
"""

from __future__ import annotations

import pytest

from review.analysis import designations
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of

IN_A_PLACE = [
    (
        "اگر تھانے میں ایس ایچ او طارق محمود ہوں تو ہر بھٹے والے کو پیسے دینے پڑتے ہیں۔"
        " تھانہ صدر قصور میں یہی ہوتا ہے۔"
    ),
    "جب تھانہ صدر قصور میں طارق محمود ہوں تو کوئی ایف آئی آر نہیں کٹتی۔ میرے بیٹے کو مارا گیا۔",
    (
        "agar thane main SHO Tariq Mehmood hon to har bhatte wale ko paise dene parte hain."
        " thana saddar kasur"
    ),
    "jab thana saddar kasur mein Tariq Mehmood hon to koi FIR nahi katti. mere bete ko mara gaya.",
]


@pytest.mark.parametrize("text", IN_A_PLACE)
def test_a_name_after_in_a_place_is_not_the_writers(text: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert not designations.parse(found.designation).writer, found.designation


@pytest.mark.parametrize(("first", "second"), [(0, 1), (2, 3)])
def test_two_families_naming_the_sho_so_are_two_writers(first: int, second: int) -> None:
    corpus = corpus_of([IN_A_PLACE[first], IN_A_PLACE[second]])
    assert corpus.source_group(1) != corpus.source_group(2), corpus.related(1).same_source


@pytest.mark.parametrize(
    "text",
    [
        "میں کانسٹیبل آصف اقبال گوندل ہوں۔",
        "السلام علیکم، میں کانسٹیبل آصف اقبال گوندل ہوں۔",
        "Thana Saddar Okara. Main constable Asif Iqbal Gondal hun.",
        "salam, main constable Asif Iqbal Gondal hun aur sab janta hun.",
        "Sab ko pata hai aur main Asif Iqbal Gondal hun, is liye likh raha hun.",
        "میں نے بہت سوچا اور میں آصف اقبال گوندل ہوں، اس لیے لکھ رہا ہوں۔",
    ],
)
def test_i_at_a_clauses_start_still_gives_the_writers_name(text: str) -> None:
    (found,) = [e for e in extract(text) if e.kind == "person"]
    assert designations.parse(found.designation).writer, found.designation
