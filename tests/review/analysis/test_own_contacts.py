"""A number the writer gives as their own makes two reports one writer's, for counting only."""

from __future__ import annotations

from pathlib import Path

import pytest

from review import workspace as ws
from review.analysis import contacts, writers
from review.analysis.corpus import Corpus
from review.analysis.entities import extract
from review.intake.importer import import_bundle
from tests.review.analysis.person_links import corpus_of
from tests.review.support import Server, review

# A constable writes about his SHO and gives his number to be called back.
FIRST = (
    "I am a constable at Thana Saddar Kasur. SHO Rana Tariq Mehmood takes Rs 20,000 a month "
    "from the kiln owner at Chunian and sends back the labourers who run away. {own}"
)
# He lost his codename and writes again, in other words, under a new designation.
AGAIN = (
    "Maine pehle bhi likha tha magar codename kho gaya. Thana Saddar Kasur ke SHO Rana Tariq "
    "Mehmood ne do larkiyan bhatta malik ko wapas kar di aur unke baap ko thane mein band kiya. "
    "{own}"
)

OWN = [
    ("My number is 0301-7654321, please call after dark.", "Mera number 03017654321 hai."),
    ("You can call me on +92 301 7654321.", "میرا نمبر ۰۳۰۱-۷۶۵۴۳۲۱ ہے"),
    ("My mobile no. is 0092-301-7654321.", "0301 7654321 mera number hai, raat ko call karein."),
    ("My WhatsApp number: 0301\u2013765 4321.", "Mujh se is number par rabta karein: ۰۳۰۱۷۶۵۴۳۲۱"),
    ("My CNIC is 35102-1234567-1.", "میرا شناختی کارڈ نمبر ۳۵۱۰۲۱۲۳۴۵۶۷۱ ہے"),
]


@pytest.mark.parametrize(("first", "again"), OWN)
def test_one_writers_own_number_in_two_reports_is_one_source(first: str, again: str) -> None:
    corpus = corpus_of([FIRST.format(own=first), AGAIN.format(own=again)])
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    # The attack: one writer, two codenames, counted as two independent sources of the SHO.
    assert (sho.sources, sho.corroborating) == (1, 1), "one writer counted as two sources"
    assert corpus.source_group(2) == corpus.source_group(1)
    # The reviewer is told why, and nothing either report says is merged into the other.
    (same,) = corpus.related(2).same_source
    assert same.other == 1
    assert same.reason.startswith("gives the same ")
    assert same.reason.endswith(" as the writer's own" + writers.CLAIMED)
    assert not same.sure
    assert sho.texts == {1: ("Rana Tariq Mehmood",), 2: ("Rana Tariq Mehmood",)}
    assert corpus.related(1).links[2].level == "strong"


NOT_OWN = [
    "My brother's number is 0301-7654321.",
    "The SHO's number is 0301-7654321.",
    "Mere bhai ka number 0301-7654321 hai.",
    "SHO ne kaha mera number 0301-7654321 hai, paise is par bhejo.",
    'The munshi told us: "my number is 0301-7654321, call me if anyone runs."',
    "ایس ایچ او کا نمبر ۰۳۰۱۷۶۵۴۳۲۱ ہے",
    "He called me from 0301-7654321 at night.",
]


@pytest.mark.parametrize("said", NOT_OWN)
def test_a_number_the_writer_does_not_give_as_their_own_joins_no_sources(said: str) -> None:
    # Two witnesses who both give the SHO's (or a relative's) number are not one writer
    # for it (a sentence both copy whole may still be their shared rare phrasing).
    assert not any(e.designation == contacts.OWN for e in extract(said))
    corpus = corpus_of([FIRST.format(own=said), AGAIN.format(own=said)])
    assert not any("writer's own" in s.reason for s in corpus.related(2).same_source)


def test_two_writers_with_numbers_of_their_own_stay_two_sources() -> None:
    corpus = corpus_of(
        [
            FIRST.format(own="My number is 0301-7654321."),
            AGAIN.format(own="Mera number 0333-1112223 hai."),
        ]
    )
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert (sho.sources, sho.corroborating) == (2, 2)


def test_a_rejected_own_number_groups_nothing() -> None:
    """A reviewer who rejects the number in one report (a misreading) parts the two again."""
    corpus = corpus_of(
        [
            FIRST.format(own="My number is 0301-7654321."),
            AGAIN.format(own="Mera number 03017654321 hai."),
        ]
    )
    record = corpus.facts[2].record
    record.decisions["phone\t+923017654321"] = "rejected"
    (sho,) = Corpus(corpus.facts).lookup("Rana Tariq Mehmood", "person")
    assert sho.sources == 2


def test_links_show_says_why_two_designations_are_one_writer(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    for num, text in enumerate(
        [
            FIRST.format(own="My number is 0301-7654321."),
            AGAIN.format(own="میرا نمبر ۰۳۰۱۷۶۵۴۳۲۱ ہے"),
        ],
        start=1,
    ):
        server.submit(text)
        import_bundle(unlocked, server.export(tmp_path / f"{num}.rzb"))
    sources = unlocked.conn.execute("SELECT DISTINCT source FROM reports").fetchall()
    assert len(sources) == 2  # two designations, as the server gave them
    shown = review(unlocked.workspace.root, "links", "show", "2", "--rtl", "logical")
    assert shown.exit_code == 0, shown.output
    out = " ".join(shown.output.split())
    # One writer by a claimed number alone: counted as one, shown as weak.
    assert "no: maybe same source (a claimed contact)" in out
    assert "gives the same phone number +923017654321 as the writer's own (weak" in out
    assert "Corroboration: 0 independent sources" in out


OWN_NAME = [
    ("My name is Asif Iqbal Gondal.", "Main constable Asif Iqbal Gondal hun."),
    ("I am Constable Asif Iqbal Gondal.", "میرا نام آصف اقبال گوندل ہے"),
    ("Mera naam Asif Iqbal Gondal hai.", "میں کانسٹیبل آصف اقبال گوندل ہوں"),
]


@pytest.mark.parametrize(("first", "again"), OWN_NAME)
def test_one_writers_own_name_in_two_reports_is_one_source(first: str, again: str) -> None:
    corpus = corpus_of([FIRST.format(own=first), AGAIN.format(own=again)])
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert (sho.sources, sho.corroborating) == (1, 1), "one writer counted as two sources"
    (same,) = corpus.related(2).same_source
    assert same.reason == "gives the same name asif iqbal gondal as the writer's own" + (
        writers.CLAIMED
    )


@pytest.mark.parametrize(
    "said",
    [
        "I am SHO Asif Iqbal Gondal's driver.",
        "I am told that Asif Iqbal Gondal took the money.",
        "SHO ne kaha main Asif Iqbal Gondal hun, mujhe sab jante hain.",
        "My name is Muhammad Ali.",  # a name that tells no one apart: two writers may bear it
    ],
)
def test_a_name_the_writer_does_not_give_as_their_own_joins_no_sources(said: str) -> None:
    corpus = corpus_of([FIRST.format(own=said), AGAIN.format(own=said)])
    assert not any("writer's own" in s.reason for s in corpus.related(2).same_source)
