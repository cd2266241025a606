"""A report naming two police stations, each with a posted man of one name, places its man
at neither.

A probe of session 19, not from any corpus, on the brief of heldout52.txt's writer (posted
men of one name and rank at two stations of one district): reports give an ASI Zafar Iqbal
at Thana Saddar Phalia and one at Thana City Mandi Bahauddin, and a third report follows a
brother from one station to the other, "where ASI Zafar Iqbal beat him". It linked strongly
to both ASIs' reports, since it shares a station with each; one of the two links is false,
and which, the name does not say.
"""

from __future__ import annotations

from review.analysis import links
from tests.review.analysis.person_links import corpus_of, person_evidence

ZAFAR = "zafar iqbal"
SADDAR = "ASI Zafar Iqbal of Thana Saddar Phalia took Rs 40,000 to let the agent go."
CITY = "ASI Zafar Iqbal of Thana City Mandi Bahauddin registered no FIR."
# Which station's ASI beat him, this report does not say. (Session 21: "..., then moved to
# Thana City Mandi Bahauddin, where ASI Zafar Iqbal beat him" does, and is City's ASI:
# test_posted_station.py, and the last test here.)
BOTH = (
    "My brother was first taken to Thana Saddar Phalia, then moved to Thana City Mandi"
    " Bahauddin. ASI Zafar Iqbal beat him."
)
WHY = "which reports give posted men at two police stations a report here names"


def test_a_report_of_both_stations_joins_neither_asi() -> None:
    corpus = corpus_of([SADDAR, CITY, BOTH])
    for other in (1, 2):
        evidence = person_evidence(corpus, 3, other, ZAFAR)
        assert evidence.strength.level == links.WEAK
        assert WHY in evidence.strength.why
        assert not evidence.counts


def test_with_one_station_known_for_the_name_the_report_joins_it() -> None:
    corpus = corpus_of([SADDAR, BOTH])
    assert person_evidence(corpus, 1, 2, ZAFAR).strength.level == links.STRONG


def test_reports_of_one_station_still_join() -> None:
    again = "At Thana Saddar Phalia, ASI Zafar Iqbal tore up our application."
    corpus = corpus_of([SADDAR, CITY, BOTH, again])
    assert person_evidence(corpus, 1, 4, ZAFAR).strength.level == links.STRONG


def test_posted_at_keeps_the_stations_of_one_station_reports() -> None:
    saddar = frozenset({"station:saddar/phalia", "district:phalia"})
    city = frozenset({"station:city/mandi bahauddin", "district:mandi bahauddin"})
    named = [(saddar, ("ASI",)), (city, ("ASI",)), (saddar | city, ("ASI",)), (city, ())]
    assert links.posted_at(named) == {"station:saddar/phalia", "station:city/mandi bahauddin"}


def test_a_short_form_meets_the_full_name_as_the_full_name_meets_itself() -> None:
    """Reports give "ASI Zafar Iqbal" at City and "ASI Zafar Iqbal Gondal" at Saddar; a
    report naming both stations and Gondal was joined strongly to City's bare Zafar Iqbal as
    a short form of his name, though the name is given posted men at both stations it names.
    """
    city = "ASI Zafar Iqbal of Thana City Mandi Bahauddin registered no FIR."
    gondal = "ASI Zafar Iqbal Gondal of Thana Saddar Phalia took Rs 40,000 to let the agent go."
    both = BOTH.replace("ASI Zafar Iqbal", "ASI Zafar Iqbal Gondal")
    corpus = corpus_of([city, gondal, both])
    evidence = person_evidence(corpus, 1, 3, "zafar iqbal < zafar iqbal gondal")
    assert evidence.strength.level == links.WEAK
    assert WHY in evidence.strength.why
    assert person_evidence(corpus, 2, 3, "zafar iqbal gondal").strength.level == links.STRONG


def test_where_he_beat_him_is_his_station() -> None:
    where = BOTH.replace(" Bahauddin. ASI", " Bahauddin, where ASI")
    corpus = corpus_of([SADDAR, CITY, where])
    assert person_evidence(corpus, 3, 2, ZAFAR).strength.level == links.STRONG
    assert person_evidence(corpus, 3, 1, ZAFAR).strength.level == links.WEAK
