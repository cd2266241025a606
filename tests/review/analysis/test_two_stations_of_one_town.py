"""Posted men of one name at two police stations of one town: a report set in the town,
at neither station, may be either man.

A probe of session 18, not from any corpus: "ASI Zafar Iqbal of Thana Saddar Phalia" and
"ASI Zafar Iqbal of Thana City Phalia" are two men (or one, transferred), and their
reports link weakly on the name (stations apart). A third report's "ASI Zafar Iqbal at
Phalia" joined both strongly: the spread rule (`links.spread`) counted a report set in
a town as placed, since a town stands for its station, and Phalia has two.
"""

from __future__ import annotations

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence

KEY = "zafar iqbal"
SADDAR = "ASI Zafar Iqbal of Thana Saddar Phalia registered no FIR against the agent."
CITY = "ASI Zafar Iqbal of Thana City Phalia took Rs 50,000 from the boys' fathers."
TOWN = "ASI Zafar Iqbal at Phalia told us the boys had gone to Libya of their own will."


def test_a_report_in_the_town_joins_neither_station_strongly() -> None:
    corpus = corpus_of([SADDAR, CITY, TOWN])
    assert person_evidence(corpus, 1, 2, KEY).strength.level == links.WEAK
    for other in (1, 2):
        evidence = person_evidence(corpus, 3, other, KEY)
        assert evidence.strength.level == links.WEAK
        assert "two police stations of one town" in evidence.strength.why
        assert not evidence.counts


def test_with_one_station_known_the_town_still_stands_for_it() -> None:
    corpus = corpus_of([SADDAR, TOWN])
    evidence = person_evidence(corpus, 1, 2, KEY)
    assert evidence.strength.level == links.STRONG
    assert evidence.counts


def test_a_report_naming_both_stations_sets_its_man_at_neither() -> None:
    # One report names both of Phalia's stations: it places no man at two of them.
    both = (
        "ASI Zafar Iqbal of Thana Saddar Phalia sent us to Thana City Phalia, where nobody"
        " wrote our complaint."
    )
    corpus = corpus_of([SADDAR, both, TOWN])
    assert person_evidence(corpus, 1, 3, KEY).strength.level == links.STRONG
