"""A name the report says was not the one ("not Rana but Tariq") links no accusation strongly.

The attack (session 39): a source who knows the station writes "SHO Rana nahi balkay ASI
Tariq ne paise liye" (not SHO Rana, but ASI Tariq took the money), to keep the SHO out of
it. The SHO's name was read as a man the report accuses, like any other, and linked
strongly to another report accusing him: the one source who cleared him counted as a
second witness against him. So in Urdu ("نہیں بلکہ") and in English ("it was not SHO
Rana", "SHO Rana was not involved"). A name so denied is marked in its designation, and a
link on it is weak, for a reviewer to read; the man the report does accuse links as before.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

ACCUSING = "SHO Rana Tariq Mehmood of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
DENYING = [
    "Thana Saddar Kasur mein SHO Rana Tariq Mehmood nahi balkay ASI Tariq Javed ne paise liye.",
    "Thana Saddar Kasur: paise SHO Rana Tariq Mehmood ne nahi, ASI Tariq Javed ne liye.",
    "تھانہ صدر قصور میں ایس ایچ او رانا طارق محمود نہیں بلکہ اے ایس آئی طارق جاوید نے پیسے لیے۔",
    "تھانہ صدر قصور میں پیسے ایس ایچ او رانا طارق محمود نے نہیں، اے ایس آئی طارق جاوید نے لیے۔",
    "At Thana Saddar Kasur it was not SHO Rana Tariq Mehmood but ASI Tariq Javed who took the"
    " money.",
    "At Thana Saddar Kasur, SHO Rana Tariq Mehmood was not the one who took the money; ASI"
    " Tariq Javed was.",
    "At Thana Saddar Kasur, SHO Rana Tariq Mehmood was not involved; ASI Tariq Javed took the"
    " money.",
    "At Thana Saddar Kasur the money was taken not by SHO Rana Tariq Mehmood but by ASI Tariq"
    " Javed.",
    "At Thana Saddar Kasur everyone took a share except SHO Rana Tariq Mehmood; ASI Tariq"
    " Javed took the most.",
    "Thana Saddar Kasur mein siwaye SHO Rana Tariq Mehmood ke sab ne paise liye, ASI Tariq"
    " Javed ne sab se zyada.",
    "تھانہ صدر قصور میں سوائے ایس ایچ او رانا طارق محمود کے سب نے پیسے لیے، اے ایس آئی طارق"
    " جاوید نے سب سے زیادہ۔",
]


@pytest.mark.parametrize("text", DENYING)
def test_a_denied_name_is_marked_and_the_accused_is_not(text: str) -> None:
    said = {e.key: designations.parse(e.designation) for e in extract(text) if e.kind == "person"}
    assert said["rana tariq mehmood"].denied, said
    assert not said["tariq javed"].denied, said


@pytest.mark.parametrize("text", DENYING)
def test_a_denied_name_does_not_link_strongly_to_a_report_accusing_him(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.WEAK, evidence
    assert "says it was not" in evidence.strength.why
    assert not evidence.counts


@pytest.mark.parametrize(
    "text",
    [
        "SHO Rana Tariq Mehmood of Thana Saddar Kasur did not register our FIR.",
        "SHO Rana Tariq Mehmood ne FIR nahi kati, Thana Saddar Kasur mein.",
        "تھانہ صدر قصور کے ایس ایچ او رانا طارق محمود نے ایف آئی آر درج نہیں کی۔",
        "Not only SHO Rana Tariq Mehmood but also his ASI took money at Thana Saddar Kasur.",
        "We could not meet SHO Rana Tariq Mehmood at Thana Saddar Kasur; he took Rs 50,000.",
    ],
)
def test_a_name_beside_a_negated_deed_is_still_accused(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.STRONG, evidence


@pytest.mark.parametrize(
    "text",
    [
        "This SHO Rana Tariq Mehmood is not the one from Orangi people talk about; he is posted"
        " at Thana Saddar Kasur.",
        "This SI is not the Rana Tariq Mehmood who sits at Thana Sohrab Goth on the Super Highway.",
    ],
)
def test_a_namesake_told_apart_is_not_denied(text: str) -> None:
    # What a held-out corpus writes (session 39): the report means this man, and says which.
    said = [designations.parse(e.designation) for e in extract(text) if e.kind == "person"]
    assert said, text
    assert not any(d.denied for d in said), said
