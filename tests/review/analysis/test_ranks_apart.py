"""An SI and an Inspector of one name at one station are two men, and a report that gives
the name only a post either could hold ("SHO") does not say which it means.

Session 20, from a count of the held-out corpora's false links (their ranks and registers
only, no names or text): five of the six were one name that eleven reports gave to an SI
and to an Inspector (or the SHO) of one station. roles.txt had SHO, Inspector and SI as
one group, ranks one man might hold a few years apart, so every pair linked strongly. No
right link of any development set joined an SI to an Inspector.
"""

from __future__ import annotations

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence, person_link

GUL = "gul nawaz"
SI = "SI Gul Nawaz of Thana Domel, Bannu took Rs 30,000 from the agent."
SI_AGAIN = "thana domel bannu ke sub inspector gul nawaz ne agent se paise liye"
INSPECTOR = "Inspector Gul Nawaz of Thana Domel, Bannu refused to register the FIR."
INSPECTOR_AGAIN = "تھانہ ڈومیل بنوں کے انسپکٹر گل نواز نے ایف آئی آر درج نہیں کی۔"
SHO = "SHO Gul Nawaz of Thana Domel, Bannu sent us away."
RANKS = "the same name, which reports give men of ranks no one man holds"


def test_an_si_and_an_inspector_of_one_name_are_two_men() -> None:
    key, strength = person_link(SI, INSPECTOR)
    assert key == GUL
    assert strength.level == links.WEAK
    assert "ranks or trades one person would not hold both" in strength.why


def test_with_both_given_an_sho_joins_neither() -> None:
    corpus = corpus_of([SI, INSPECTOR, SHO])
    for other in (1, 2):  # the station still links them: only the name does not
        evidence = person_evidence(corpus, 3, other, GUL)
        assert (evidence.strength.level, evidence.counts) == (links.WEAK, False)
        assert RANKS in evidence.strength.why


def test_reports_of_one_rank_still_join() -> None:
    corpus = corpus_of([SI, INSPECTOR, SHO, SI_AGAIN, INSPECTOR_AGAIN])
    assert person_evidence(corpus, 1, 4, GUL).strength.level == links.STRONG
    assert person_evidence(corpus, 2, 5, GUL).strength.level == links.STRONG


def test_without_the_other_rank_the_sho_joins_the_si() -> None:
    """A station is commanded by an SI or an Inspector: SHO and SI may be one man."""
    corpus = corpus_of([SI, SHO])
    assert person_evidence(corpus, 1, 2, GUL).strength.level == links.STRONG


def test_two_ranks_at_another_station_leave_this_ones_links_alone() -> None:
    saddar = "Inspector Gul Nawaz of Thana Saddar, Lakki Marwat took money too."
    corpus = corpus_of([SI, saddar, SHO])
    assert person_evidence(corpus, 1, 3, GUL).strength.level == links.STRONG


def test_an_agent_of_the_name_does_not_make_the_sho_either_man() -> None:
    """An agent and an SI of one name at one station are two men, but no SHO is an agent."""
    agent = "Agent Gul Nawaz of Domel, Bannu took the boys to Quetta."
    corpus = corpus_of([SI, agent, SHO])
    assert person_evidence(corpus, 1, 3, GUL).strength.level == links.STRONG


def test_the_short_form_meets_the_full_name_as_it_meets_itself() -> None:
    full_si = "SI Gul Nawaz Marwat of Thana Domel, Bannu took Rs 30,000."
    full_inspector = "Inspector Gul Nawaz Marwat of Thana Domel, Bannu beat my son."
    sho = "SHO Gul Nawaz of Thana Domel, Bannu sent us away."
    corpus = corpus_of([full_si, full_inspector, sho])
    evidence = person_evidence(corpus, 3, 1, "gul nawaz < gul nawaz marwat")
    assert evidence.strength.level == links.WEAK


def test_ranked_apart_keeps_the_ranks_where_they_conflict() -> None:
    domel = frozenset({"station:domel/bannu", "district:bannu"})
    saddar = frozenset({"station:saddar/bannu", "district:bannu"})
    named = [(domel, ("SI",)), (domel, ("Inspector",)), (saddar, ("SI",)), (saddar, ("SHO",))]
    apart = links.ranked_apart(named)
    assert set(apart) == {"station:domel/bannu", "town:domel"}
    assert apart["station:domel/bannu"] == {("SI",), ("Inspector",)}
