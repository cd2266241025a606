"""A short form two men's full names share at one police station tells neither.

Found on heldout59 (session 19's development set, written blind, its writer asked for posted
namesakes at one station): Thana Saddar Mandi Bahauddin had an SHO Zulfiqar Ali Ranjha in
2022 and, after his transfer, an SHO Zulfiqar Ali Tarar from 2024. Reports that wrote only
"SHO Zulfiqar Ali" keyed one name, "zulfiqar ali", and linked each other strongly, whichever
of the two each meant. A short form meeting a full name was already weak when more than one
full name there could be it; two short forms meeting each other were not.
"""

from __future__ import annotations

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence

SHORT = "zulfiqar ali"
RANJHA = (
    "In 2022 Inspector Zulfiqar Ali Ranjha, SHO of Thana Saddar Mandi Bahauddin, forced a"
    " compromise on six families whose boys were sent to Iran."
)
TARAR = (
    "In January 2024 Inspector Zulfiqar Ali Tarar became SHO of Thana Saddar Mandi Bahauddin"
    " and registered an FIR against the sub-agent."
)
ONE = "SHO Zulfiqar Ali of Thana Saddar Mandi Bahauddin took Rs 200,000 from the agent."
OTHER = "Thana Saddar Mandi Bahauddin ke SHO Zulfiqar Ali ne hamari darkhwast phaar di."


def test_two_short_forms_at_a_station_of_two_full_names_join_weakly() -> None:
    corpus = corpus_of([RANJHA, TARAR, ONE, OTHER])
    evidence = person_evidence(corpus, 3, 4, SHORT)
    assert evidence.strength.level == links.WEAK
    assert "which reports give two men where a report here is set" in evidence.strength.why
    assert not evidence.counts


def test_with_one_full_name_there_the_short_forms_join() -> None:
    corpus = corpus_of([RANJHA, ONE, OTHER])
    assert person_evidence(corpus, 2, 3, SHORT).strength.level == links.STRONG


def test_one_mans_two_spellings_are_not_two_men() -> None:
    # "Haji Zulfiqar Ali Tarar" and "Zulfiqar Ali Tarar" may be one man (`_one_name`).
    haji = TARAR.replace("Inspector Zulfiqar", "Inspector Haji Zulfiqar")
    corpus = corpus_of([TARAR, haji, ONE, OTHER])
    assert person_evidence(corpus, 3, 4, SHORT).strength.level == links.STRONG


def test_full_names_at_another_station_leave_the_short_forms_alone() -> None:
    elsewhere = [t.replace("Saddar Mandi Bahauddin", "City Phalia") for t in (RANJHA, TARAR)]
    corpus = corpus_of([*elsewhere, ONE, OTHER])
    assert person_evidence(corpus, 3, 4, SHORT).strength.level == links.STRONG


def test_crowded_places_are_where_both_full_names_are_given() -> None:
    saddar = frozenset({"station:saddar/mandi bahauddin", "district:mandi bahauddin"})
    phalia = frozenset({"station:city/phalia", "district:mandi bahauddin"})
    fulls = [("zulfiqar ali ranjha", saddar), ("zulfiqar ali tarar", saddar)]
    assert links.crowded(SHORT, fulls) == {"station:saddar/mandi bahauddin"}
    assert links.crowded(SHORT, [fulls[0], ("zulfiqar ali tarar", phalia)]) == frozenset()
    assert links.crowded(SHORT, [*fulls, ("zulfiqar ali", saddar)]) == {
        "station:saddar/mandi bahauddin"
    }
