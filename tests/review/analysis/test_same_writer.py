"""Who is one writer: no wrong merge (a public document, a planted number, a bridge), no
wrong split (one writer's own number under two designations), a reviewer's word both ways."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from review.analysis import links
from review.analysis.corpus import Corpus
from review.analysis.writers import Reports, Writers
from tests.review.analysis.person_links import corpus_of

# Each report names one SHO; each is a designation of its own.
SHO = "SHO Rana Tariq Mehmood of Thana Saddar Kasur"
TEXTS = [
    f"I am a constable at Thana Saddar Kasur. {SHO} takes Rs 20,000 a month from the kiln. {{}}",
    f"Maine pehle bhi likha tha. {SHO} ne do larkiyan bhatta malik ko wapas kar di. {{}}",
    f"Our village elders say {SHO} protects the kiln owner at Chunian. {{}}",
    f"A driver told me that {SHO} collects money every Friday night. {{}}",
]
P1, P2 = "0301-7654321", "0333-1112223"
C1, C2 = "35102-1234567-1", "35102-7654321-3"
# An official e-FIR, as the police's portal hands it to anyone who asks.
EFIR = "9f" * 32


def _corpus(*owns: str, decisions: dict[links.Ident, str] | None = None) -> Corpus:
    made = corpus_of([TEXTS[i].format(own) for i, own in enumerate(owns)])
    return Corpus(made.facts, decisions)


def _sources(corpus: Corpus) -> int:
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert sho.sources == sho.corroborating
    return sho.sources


def test_two_sources_attaching_one_public_document_stay_two_writers() -> None:
    corpus = _corpus("", "")
    for num in (1, 2):
        corpus.facts[num].record.files[EFIR] = f"efir-{num}.pdf"
    corpus = Corpus(corpus.facts)
    # The attack: two honest sources attach the same e-FIR, and count as one writer.
    assert _sources(corpus) == 2, "a shared public document made two sources one writer"
    # The reviewer is told, and told it is shared evidence, counted apart.
    (apart,) = corpus.related(2).apart
    assert apart.other == 1
    assert "holds the same attached file, byte for byte ('efir-2.pdf')" in apart.reason
    assert "counted apart" in apart.reason
    assert not corpus.related(2).same_source


@pytest.mark.parametrize(
    "hostile",
    [
        f"My number is {P1}. My WhatsApp number is {P2}.",
        f"My number is {P1}. My CNIC is {C2}.",
    ],
)
def test_one_report_giving_two_writers_contacts_as_its_own_joins_neither(hostile: str) -> None:
    second = f"My number is {P2}." if P2 in hostile else f"My CNIC is {C2}."
    corpus = _corpus(f"My number is {P1}.", second, hostile)
    # The attack: a third report quotes each source's number as its own and makes the two
    # honest sources (and itself) one writer: three sources of the SHO counted as one.
    assert corpus.source_group(1) != corpus.source_group(2), "one report bridged two writers"
    assert _sources(corpus) == 3
    reasons = " ".join(s.reason for s in corpus.related(3).apart)
    assert "gives as its own the contacts of two writers" in reasons


def test_an_own_number_contradicted_by_another_own_cnic_joins_no_one() -> None:
    corpus = _corpus(f"My number is {P1}. My CNIC is {C1}.", f"My number is {P1}. My CNIC is {C2}.")
    # The attack: a hostile report gives a source's number beside a CNIC of its own.
    assert _sources(corpus) == 2, "a number contradicted by two CNICs joined two writers"
    (apart,) = corpus.related(2).apart
    assert "other contacts each gives as its own tell the writers apart" in apart.reason


def test_one_writer_under_several_designations_with_one_number_is_still_one() -> None:
    # No wrong split: one person cannot pose as three corroborators by changing codename.
    corpus = _corpus(
        f"My number is {P1}.", f"Mera number {P1.replace('-', '')} hai.", f"Call me on {P1}."
    )
    assert _sources(corpus) == 1
    assert {corpus.source_group(n) for n in (1, 2, 3)} == {1}
    # One who adds a CNIC beside the same number is still that writer.
    corpus = _corpus(f"My number is {P1}.", f"My number is {P1}. My CNIC is {C1}.")
    assert _sources(corpus) == 1


def test_a_report_that_alone_would_join_two_writers_is_shown_for_a_reviewer() -> None:
    # The cost of the rule: one writer's number under one codename, CNIC under another and
    # both under a third is three until a reviewer says so; `links show` says why.
    corpus = _corpus(
        f"My number is {P1}.", f"My number is {P1}. My CNIC is {C1}.", f"My CNIC is {C1}."
    )
    assert _sources(corpus) == 3
    assert [s.other for s in corpus.related(2).apart] == [1, 3]
    same = {
        links.ident(1, 2, links.WRITER, ""): links.CONFIRMED,
        links.ident(2, 3, links.WRITER, ""): links.CONFIRMED,
    }
    assert _sources(Corpus(corpus.facts, same)) == 1


def test_a_reviewer_parts_two_reports_said_to_be_one_writer_and_joins_two_others() -> None:
    apart = {links.ident(1, 2, links.WRITER, ""): links.REJECTED}
    corpus = _corpus(f"My number is {P1}.", f"My number is {P1}.", decisions=apart)
    assert _sources(corpus) == 2
    (shown,) = corpus.related(1).apart
    assert "a reviewer said they are not one writer" in shown.reason
    # A third report with the number may join one of them, never both.
    corpus = _corpus(
        f"My number is {P1}.", f"My number is {P1}.", f"{P1} is my number", decisions=apart
    )
    assert corpus.source_group(1) != corpus.source_group(2)
    # A shared file, which joins no one alone, joins them when a reviewer says so.
    same = {links.ident(1, 2, links.WRITER, ""): links.CONFIRMED}
    corpus = _corpus("", "", decisions=same)
    assert _sources(corpus) == 1
    (why,) = corpus.related(2).same_source
    assert why.reason == "a reviewer said they are one writer"


@pytest.mark.parametrize(
    "claims",
    [
        lambda n: {("phone", P1), ("person", "asif iqbal gondal")},  # one writer, many times
        lambda n: {("phone", P1), ("cnic", f"cnic {n}")},  # a crowd told apart
        lambda n: {("phone", P1), ("phone", P2), ("cnic", f"cnic {n}")},
    ],
)
def test_grouping_a_flood_of_claims_takes_linear_time(
    claims: Callable[[int], set[tuple[str, str]]],
) -> None:
    # The attack: 3,000 reports giving one number as their own (and their own CNICs, so
    # none joins another) kept every corpus load, each `links show`, busy for 70-100 s
    # when each group was compared with every other.
    def grouping(count: int) -> float:
        reports = range(1, count + 1)
        own = {n: frozenset(claims(n)) for n in reports}
        corpus = Reports({n: f"source {n}" for n in reports}, own, {})
        taken = []
        for _ in range(3):
            began = time.process_time()
            Writers(corpus, [], {})
            taken.append(time.process_time() - began)
        return min(taken)

    # Ten times the reports: ten times the time if linear, a hundred if each group meets
    # every other. Compared in one run, since the machine's other jobs stretch any bound.
    small, large = grouping(300), grouping(3_000)
    assert large < 30 * small + 0.05, f"300 reports took {small:.3f} s, 3,000 {large:.3f} s"


def test_a_report_giving_a_crowd_of_contacts_as_its_own_joins_no_one() -> None:
    many = " ".join(f"My number is 0301-765432{i}." for i in range(8))
    corpus = _corpus(f"My number is {P1}.", f"{many} My number is {P1}.")
    assert _sources(corpus) == 2
    (apart,) = corpus.related(1).apart
    assert "gives more than 6 contacts as its own" in apart.reason


# Two honest sources' own words, as two escalation packets carried them (names redacted).
PASSAGE_A = (
    "Every Friday night the munshi of the kiln drives to the police station in a white"
    " car and leaves an envelope on the desk of the duty officer, who counts the notes"
    " in front of the labourers so that everyone knows who is paid and who is not."
)
PASSAGE_B = (
    "When the families tried to leave in the winter the owner locked the gate and sent"
    " for two constables, who beat the eldest son with a rifle butt and told his mother"
    " that the debt would pass to her grandchildren if she complained to anyone again."
)


def test_a_report_quoting_two_sources_passages_joins_neither() -> None:
    # The attack: one who read two leaked packets writes a report quoting both; its
    # shared passages made it, and the two sources it quoted, one writer.
    corpus = _corpus(f"{PASSAGE_A} ", f"{PASSAGE_B} ", f"{PASSAGE_A} {PASSAGE_B} ")
    assert corpus.source_group(1) != corpus.source_group(2), "one report's quotes joined two"
    assert _sources(corpus) == 3
    reasons = " ".join(s.reason for s in corpus.related(3).apart)
    assert "shares passages with two writers who share none" in reasons
    # A reviewer who knows better says so.
    same = {links.ident(1, 3, links.WRITER, ""): links.CONFIRMED}
    assert Corpus(corpus.facts, same).source_group(3) == 1


def test_one_writer_reusing_a_passage_under_three_designations_is_still_one() -> None:
    # No wrong split: the passage all three hold binds them.
    corpus = _corpus(f"{PASSAGE_A} ", f"Again: {PASSAGE_A} ", f"{PASSAGE_A} {PASSAGE_B} ")
    assert _sources(corpus) == 1


def test_a_join_on_a_claimed_contact_alone_is_shown_as_weak() -> None:
    # The attack: a report giving a real source's number as its own is that source's, as
    # far as anything here can tell (a source who lost a codename writes so too); it was
    # shown as surely one writer, so a reviewer could take its claims for the source's
    # and answer it as them.
    corpus = _corpus(f"My number is {P1}.", f"Call me on {P1}.")
    assert _sources(corpus) == 1  # counted as one: never two sources of one man's word
    (same,) = corpus.related(2).same_source
    assert "anyone who knows it can write it" in same.reason, "a claim was shown as sure"
    assert not same.sure
    # Their own words, or a reviewer's word, make it sure.
    said = {links.ident(1, 2, links.WRITER, ""): links.CONFIRMED}
    (same,) = Corpus(corpus.facts, said).related(2).same_source
    assert same.sure
    (same,) = _corpus(f"{PASSAGE_A} ", f"{PASSAGE_A} ").related(2).same_source
    assert same.sure


@pytest.mark.parametrize(
    "own",
    [
        "My number is 0300-0000000.",  # a number written not to give one
        "My number is 0300-1234567.",  # the form's example, as every form prints it
        "Mera number 0333-3333333 hai.",
        "My CNIC is 12345-1234567-1.",  # NADRA's example
        "My CNIC is 11111-1111111-1.",
        "My number is 042-99212000.",  # a landline: an office's or a household's
    ],
)
def test_a_number_no_one_person_holds_joins_no_two_writers(own: str) -> None:
    # The attack: two sources who would not give their number wrote a filler, or the
    # station's landline, as their own, and were counted as one writer.
    corpus = _corpus(own, own)
    assert corpus.source_group(2) == 2, "a filler number joined two writers"
    assert _sources(corpus) == 2


def test_a_planted_contact_between_a_writers_reports_is_named_to_the_reviewer() -> None:
    # A writer gives a number (1), then again with a CNIC (3); between them a planted
    # report gives the number beside a CNIC of its own (2). Nothing here tells which of 2
    # and 3 is the number's writer, so 1 goes with the first it meets and 3 stays apart.
    corpus = _corpus(
        f"My number is {P1}.",
        f"My number is {P1}. My CNIC is {C2}.",
        f"My number is {P1}. My CNIC is {C1}.",
    )
    assert (corpus.source_group(2), corpus.source_group(3)) == (1, 3)
    # The attack: the reviewer was told only that "other contacts" kept 3 apart from 1,
    # though 1 gives none: the planted report that did was not named, nor the way out.
    (apart,) = [s for s in corpus.related(3).apart if s.other == 1]
    assert "#2" in apart.reason, "the report keeping one writer's two reports apart was unnamed"
    assert f"#2 gives CNIC {C2}" in apart.reason
    assert f"#3 gives CNIC {C1}" in apart.reason
    assert "`links writer 1 3 same`" in apart.reason
    # The reviewer's word settles it, both ways.
    said = {
        links.ident(1, 3, links.WRITER, ""): links.CONFIRMED,
        links.ident(1, 2, links.WRITER, ""): links.REJECTED,
    }
    settled = Corpus(corpus.facts, said)
    assert (settled.source_group(2), settled.source_group(3)) == (2, 1)


# A complaint a legal-aid lawyer drafted once and gave to each client to fill in.
TEMPLATE = (
    "I, {who}, holder of CNIC {cnic}, respectfully submit that I was employed at the brick"
    " kiln at Chunian against an advance which the owner says can never be repaid, that the"
    " officials of the police station were informed of our confinement on several occasions"
    " and took no action against the owner, and that I request a fair inquiry into the"
    " matter by an independent officer. My name is {who}. {tail}"
)
CLIENTS = [
    ("Constable Asif Iqbal Gondal", C1, f"{SHO} took money."),
    ("Constable Tahir Mehmood Sipra", C2, f"{SHO} was told."),
    ("Constable Waqar Haider Kharal", "35102-1112223-5", f"{SHO} knew it."),
]


def test_clients_filling_in_one_lawyers_template_are_as_many_writers() -> None:
    corpus = corpus_of([TEMPLATE.format(who=w, cnic=c, tail=t) for w, c, t in CLIENTS])
    assert corpus.phrasing[1], "the template was no shared passage to begin with"
    # The attack: a template a lawyer gave three clients, each filled in with the client's
    # own name and CNIC, made the three one writer by its shared passage.
    assert corpus.source_group(2) == 2, "three clients of one template were one writer"
    assert _sources(corpus) == 3
    reasons = " ".join(s.reason for s in corpus.related(2).apart)
    assert "shares its writer's words, but other contacts each gives as its own" in reasons


def test_one_writer_reusing_words_under_a_longer_form_of_the_name_is_still_one() -> None:
    # No wrong split: a name that holds the other may be one man's, a phone may change.
    first = TEMPLATE.format(who="Constable Asif Iqbal", cnic=C1, tail="My number is 0301-1112223.")
    again = TEMPLATE.format(who="Constable Asif Iqbal Gondal", cnic=C1, tail=f"My number is {P2}.")
    corpus = corpus_of([f"{first} {SHO} took money.", f"{again} {SHO} was told."])
    assert corpus.source_group(2) == 1
