"""More of the ways a source says its man is another of his name (session 18's probe).

Not from any corpus: the probe put an "ASI Gul Zaman of Thana Cantt Bannu" who took money
in one report, and in another an ASI of the same name and station whom the source tells
apart. Only "two ASIs called Gul Zaman" was read as a warning; "a namesake of", "has the
same name as", "shares his name with", "no relation to", "not to be confused with", "a
different ASI Gul Zaman", "hamnaam", "ہم نام" were not, and the two ASIs linked strongly.
And a warning that denies no rank ("not the one who took money") kept the man's own rank,
so he still met the other ASI of the name strongly: the namesake may hold the same rank.
"""

from __future__ import annotations

import datetime as dt

import pytest

from review.analysis import designations, links, records
from review.analysis.corpus import Corpus, ReportFacts
from review.analysis.entities import extract
from review.casework.reports import Content
from tests.review.analysis.person_links import corpus_of, person_evidence

KEY = "gul zaman"
TOOK = "ASI Gul Zaman of Thana Cantt Bannu took Rs 20,000 from my father."


@pytest.mark.parametrize(
    "warned",
    [
        "ASI Gul Zaman of Thana Cantt Bannu, a namesake of the corrupt one, helped us.",
        "ASI Gul Zaman of Thana Cantt Bannu (no relation to the other Gul Zaman) helped us.",
        "ASI Gul Zaman of Thana Cantt Bannu helped us; he only shares his name with the other.",
        "ASI Gul Zaman of Thana Cantt Bannu helped us. He has the same name as the one who"
        " took money but is a different man.",
        "ASI Gul Zaman of Thana Cantt Bannu helped us. Not to be confused with the other.",
        "A different ASI Gul Zaman, of Thana Cantt Bannu, helped us.",
        "ASI Gul Zaman (the junior one, not the one who took money) at Thana Cantt Bannu"
        " helped us.",
        "thana cantt bannu ka doosra asi gul zaman, woh hamnaam hai, usne madad ki.",
        "تھانہ کینٹ بنوں کے دوسرے اے ایس آئی گل زمان نے ہماری مدد کی، وہ پیسے لینے والے گل"
        " زمان کا ہم نام ہے۔",
    ],
)
def test_a_source_telling_its_man_from_a_namesake_keeps_the_link_weak(warned: str) -> None:
    corpus = corpus_of([TOOK, warned])
    evidence = person_evidence(corpus, 1, 2, KEY)
    assert evidence.strength.level == links.WEAK
    assert not evidence.counts


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        # The warning denies another rank or a force: the rank is kept.
        ("SHO Ghulam Rasool of Thana Saddar, not the ASI, took the money.", "SHO"),
        ("Munshi Nadeem Abbasi of Civil Lines. Not the FIA man, a different one.", "Munshi"),
        # It denies no rank, or the man's own: nothing is kept.
        ("ASI Gul Zaman (not the one who beat my brother) helped us.", ""),
        ("ASI Gul Zaman, a namesake of the corrupt one, helped us.", ""),
    ],
)
def test_a_warning_keeps_the_mans_rank_only_beside_another(text: str, rank: str) -> None:
    people = [e for e in extract(text) if e.kind == "person"]
    said = designations.parse(people[0].designation)
    assert said.namesake
    assert said.rank == rank


def test_a_name_said_to_be_the_same_as_a_relatives_still_meets_the_officer() -> None:
    # "the same name as my uncle": the namesake is the writer's uncle, not another officer.
    other = "Inspector Nazir Ahmed of Thana Saddar Bannu took Rs 50,000 to release the boy."
    warned = (
        "At Thana Saddar Bannu, Inspector Nazir Ahmed, the same name as my uncle but no"
        " relation, refused to write the FIR."
    )
    evidence = person_evidence(corpus_of([other, warned]), 1, 2, "nazir ahmed")
    assert evidence.strength.level == links.STRONG


@pytest.mark.parametrize(
    "text",
    [
        "Constable Kashif Mehmood, who has the same name as my cousin, walked us out.",
        "Inspector Nazir Ahmed, a namesake of my uncle, refused to write the FIR.",
    ],
)
def test_a_name_shared_with_the_writers_kin_is_no_warning(text: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert not designations.parse(person.designation).namesake


def test_a_rejected_mention_splits_no_other_reports_link() -> None:
    """A report saying two men bear the name (the accused's own, planted to hide the
    link) made the link between two other sources' reports weak; a reviewer rejecting
    that report's mention left it weak, and the SHO corroborated by no one."""
    texts = [
        "SHO Tariq Mehmood of Thana Saddar Kasur took money from the kiln owner to free nobody.",
        "At Thana Saddar Kasur the SHO Tariq Mehmood beat my brother and kept him three days.",
        "There are two SHOs named Tariq Mehmood at Thana Saddar Kasur. The new SHO is also "
        "named Tariq Mehmood.",
    ]
    facts = {}
    for num, text in enumerate(texts, start=1):
        record = records.Record()
        record.merge([Content(message=text)])
        facts[num] = ReportFacts(num, f"source {num}", dt.date(2024, 3, num), record)
    planted = Corpus(facts)
    assert person_evidence(planted, 1, 2, "tariq mehmood").strength.level == links.WEAK
    facts[3].record.decisions[records.ident("person", "tariq mehmood")] = "rejected"
    rejected = Corpus(facts)
    assert person_evidence(rejected, 1, 2, "tariq mehmood").strength.level == links.STRONG
    (group,) = [g for g in rejected.groups("person") if g.key == "tariq mehmood"]
    assert group.corroborating == 2
