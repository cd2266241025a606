"""A name the report only repeats from others ("people say SHO Rana took it") links weakly.

The attack (left by session 39): a source who saw nothing writes what the station's munshi
told them, or what the village says: "the munshi said ASI Tariq took the money, but he
lies", "log kehte hain ke SHO Rana ne paise liye", "سنا ہے کہ ...". The name was read as
a man the report accuses, like any other, and linked strongly to another report accusing
him: a rumour, or the munshi's grudge, counted as a second witness against him, and a
rumour two families repeat counted as two. A name the report gives only as hearsay is
marked so in its designation, and a link on it is weak, for a reviewer to read; a man the
writer saw, or heard say it himself, links as before.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import extract
from tests.review.analysis.person_links import corpus_of, person_evidence

ACCUSING = "SHO Rana Tariq Mehmood of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
HEARSAY = [
    "At Thana Saddar Kasur the munshi said SHO Rana Tariq Mehmood took the money, but he lies.",
    "Thana Saddar Kasur mein log kehte hain ke SHO Rana Tariq Mehmood ne paise liye.",
    "Thana Saddar Kasur ke bare mein kaha jata hai ke SHO Rana Tariq Mehmood ne paise liye.",
    "Thana Saddar Kasur: suna hai ke SHO Rana Tariq Mehmood ne bhatta malik se paise liye.",
    "Thana Saddar Kasur mein SHO Rana Tariq Mehmood ne paise liye, aisa log kehte hain.",
    "تھانہ صدر قصور میں سنا ہے کہ ایس ایچ او رانا طارق محمود نے پیسے لیے۔",
    "تھانہ صدر قصور کے بارے میں لوگ کہتے ہیں کہ ایس ایچ او رانا طارق محمود نے پیسے لیے۔",
    "تھانہ صدر قصور کے منشی نے بتایا کہ ایس ایچ او رانا طارق محمود نے پیسے لیے۔",
    "There is a rumour at Thana Saddar Kasur that SHO Rana Tariq Mehmood took the money.",
    "I heard from the munshi of Thana Saddar Kasur that SHO Rana Tariq Mehmood took the money.",
    "At Thana Saddar Kasur, people say SHO Rana Tariq Mehmood took a share of the money.",
    "At Thana Saddar Kasur SHO Rana Tariq Mehmood is said to have taken the money.",
]


@pytest.mark.parametrize("text", HEARSAY)
def test_a_name_only_heard_of_is_marked_so(text: str) -> None:
    said = {e.key: designations.parse(e.designation) for e in extract(text) if e.kind == "person"}
    assert said["rana tariq mehmood"].heard, said


@pytest.mark.parametrize("text", HEARSAY)
def test_a_name_only_heard_of_does_not_link_strongly_to_a_report_accusing_him(
    text: str,
) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.WEAK, evidence
    assert "repeats what others say" in evidence.strength.why
    assert not evidence.counts


@pytest.mark.parametrize(
    "text",
    [
        "I saw SHO Rana Tariq Mehmood take the money at Thana Saddar Kasur.",
        "Maine khud dekha ke Thana Saddar Kasur mein SHO Rana Tariq Mehmood ne paise liye.",
        "میں نے خود دیکھا کہ تھانہ صدر قصور میں ایس ایچ او رانا طارق محمود نے پیسے لیے۔",
        "I heard SHO Rana Tariq Mehmood ask the kiln owner for Rs 50,000 at Thana Saddar Kasur.",
        # the teller is the witness's own man, said before the cue: his name is no hearsay
        "At Thana Saddar Kasur SHO Rana Tariq Mehmood said the money was for the DSP.",
        # what the writer saw for themselves keeps the man accused, whatever is said besides
        "I saw SHO Rana Tariq Mehmood take the money at Thana Saddar Kasur. People say SHO"
        " Rana Tariq Mehmood takes from every kiln.",
        # "the said" of a record's English is no speech
        "At Thana Saddar Kasur the said SHO Rana Tariq Mehmood took Rs 50,000 from us.",
    ],
)
def test_a_name_the_writer_witnessed_still_links_strongly(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.STRONG, evidence


def test_the_teller_of_hearsay_is_not_hearsay_himself() -> None:
    text = "At Thana Saddar Kasur Munshi Abdul Sattar said SHO Rana Tariq Mehmood took the money."
    said = {e.key: designations.parse(e.designation) for e in extract(text) if e.kind == "person"}
    assert said["rana tariq mehmood"].heard, said
    assert not said["abdul sattar"].heard, said


def test_a_cue_ends_at_but() -> None:
    text = (
        "At Thana Saddar Kasur people say ASI Tariq Javed took a share, but I saw SHO Rana"
        " Tariq Mehmood take the money myself."
    )
    said = {e.key: designations.parse(e.designation) for e in extract(text) if e.kind == "person"}
    assert said["tariq javed"].heard, said
    assert not said["rana tariq mehmood"].heard, said


def test_a_short_form_only_heard_of_links_weakly_to_the_full_name() -> None:
    heard = "At Thana Saddar Kasur people say SHO Tariq Mehmood took the money."
    seen = "At Thana Saddar Kasur I saw SHO Tariq Mehmood take the money."
    for text, level in ((heard, links.WEAK), (seen, links.STRONG)):
        corpus = corpus_of([ACCUSING, text])
        (evidence,) = [e for e in corpus.related(1).links[2].evidence if e.kind == "person"]
        assert evidence.key == "tariq mehmood < rana tariq mehmood"
        assert evidence.strength.level == level, evidence


# Left by session 40's first round: what reached the writer as "it came to be known", "according
# to" someone, "allegedly", "mubayyana taur par" was read as her own witness. The corpora
# write "baad mein pata chala ke ...", "ab pata chala hai ke ...", and "according to" after the
# names it covers, its teller after it ("..., according to a boy who worked for him").
HEARSAY_CUES_40 = [
    "Thana Saddar Kasur ka munshi mila, baad mein pata chala ke SHO Rana Tariq Mehmood ne"
    " paise liye.",
    "Ab pata chala hai keh Thana Saddar Kasur ke SHO Rana Tariq Mehmood ne paise liye.",
    "At Thana Saddar Kasur SHO Rana Tariq Mehmood took the money, according to a boy who"
    " worked for him.",
    "According to the munshi of Thana Saddar Kasur, SHO Rana Tariq Mehmood took the money.",
    "At Thana Saddar Kasur SHO Rana Tariq Mehmood allegedly took the money.",
    "Allegedly, SHO Rana Tariq Mehmood of Thana Saddar Kasur took the money.",
    "At Thana Saddar Kasur SHO Rana Tariq Mehmood reportedly took the money.",
    "Thana Saddar Kasur mein SHO Rana Tariq Mehmood ne mubayyana taur par paise liye.",
    "تھانہ صدر قصور میں ایس ایچ او رانا طارق محمود نے مبینہ طور پر پیسے لیے۔",
    "تھانہ صدر قصور کے منشی کے مطابق ایس ایچ او رانا طارق محمود نے پیسے لیے۔",
]


@pytest.mark.parametrize("text", HEARSAY_CUES_40)
def test_a_name_known_only_by_report_or_allegation_links_weakly(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.WEAK, evidence
    assert "repeats what others say" in evidence.strength.why


@pytest.mark.parametrize(
    "text",
    [
        "I saw SHO Rana Tariq Mehmood take the money at Thana Saddar Kasur, according to no"
        " law at all.",
        "At Thana Saddar Kasur SHO Rana Tariq Mehmood did not act according to law and took"
        " Rs 50,000 from us.",
        "Maine dekha ke Thana Saddar Kasur mein SHO Rana Tariq Mehmood ne paise liye, qanoon ke"
        " mutabiq kuch nahi hua.",
        "تھانہ صدر قصور میں ایس ایچ او رانا طارق محمود نے قانون کے مطابق کچھ نہیں کیا اور"
        " پیسے لیے۔",
        # the teller of "according to" is no hearsay himself
        "At Thana Saddar Kasur the money went to the DSP, according to SHO Rana Tariq Mehmood"
        " himself.",
    ],
)
def test_a_name_seen_or_only_beside_according_to_law_still_links_strongly(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.STRONG, evidence


# Left by session 40: a name first given as hearsay and then repeated with no cue of its own
# ("People say SHO Rana took it. ... Rana also ...") counted as witnessed, since only a name
# every mention of which is under a cue was heard: the rumour linked strongly again.
REPEATED_HEARSAY = [
    "At Thana Saddar Kasur people say SHO Rana Tariq Mehmood takes money from every kiln."
    " SHO Rana Tariq Mehmood also keeps the bonded families' CNICs.",
    "Thana Saddar Kasur mein log kehte hain ke SHO Rana Tariq Mehmood ne paise liye. SHO Rana"
    " Tariq Mehmood bhatta malikon se bhi leta hai.",
    "تھانہ صدر قصور میں سنا ہے کہ ایس ایچ او رانا طارق محمود نے پیسے لیے۔ ایس ایچ او رانا طارق"
    " محمود بھٹہ مالکان سے بھی لیتا ہے۔",
]


@pytest.mark.parametrize("text", REPEATED_HEARSAY)
def test_a_heard_name_repeated_with_no_cue_is_still_heard(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.WEAK, evidence
    assert "repeats what others say" in evidence.strength.why


@pytest.mark.parametrize(
    "text",
    [
        "At Thana Saddar Kasur people say SHO Rana Tariq Mehmood takes money. Last week I saw"
        " SHO Rana Tariq Mehmood take Rs 50,000 from the kiln owner.",
        "Thana Saddar Kasur mein log kehte hain ke SHO Rana Tariq Mehmood paise leta hai. Maine"
        " khud dekha ke SHO Rana Tariq Mehmood ne bhatta malik se paise liye.",
        "تھانہ صدر قصور میں سنا ہے کہ ایس ایچ او رانا طارق محمود پیسے لیتا ہے۔ میں نے دیکھا کہ ایس"
        " ایچ او رانا طارق محمود نے بھٹہ مالک سے پیسے لیے۔",
    ],
)
def test_a_heard_name_the_writer_then_saw_links_strongly(text: str) -> None:
    corpus = corpus_of([ACCUSING, text])
    evidence = person_evidence(corpus, 1, 2, "rana tariq mehmood")
    assert evidence.strength.level == links.STRONG, evidence


def test_a_name_first_witnessed_stays_witnessed_whatever_is_said_after() -> None:
    text = (
        "SHO Rana Tariq Mehmood of Thana Saddar Kasur took Rs 50,000 from my father. People"
        " say SHO Rana Tariq Mehmood takes from every kiln."
    )
    said = {e.key: designations.parse(e.designation) for e in extract(text) if e.kind == "person"}
    assert not said["rana tariq mehmood"].heard, said
