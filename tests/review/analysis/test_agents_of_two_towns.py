"""Two men of one name placed at home in two towns of one district are two men.

The attack (heldout56, a blind development corpus written on Bannu-Tank ground): an agent
Noor Muhammad "of Serai Naurang" and an agent Noor Muhammad "of Pezu", both towns of Lakki
Marwat, each told of in two registers. Their reports linked strongly on the name: homes
were compared by district only, Pezu was no town the extractor knew, and "pezu wala agent
noor muhammad" (a place and "wala" *before* the name) placed no one. Nine false links
counted as corroboration.

And as with posted men at two stations (`test_spread_names`), once the archive holds the two
men placed apart, a third report's agent Noor Muhammad placed in neither town may be either
of them, and corroborates neither until a reviewer says which; a matchmaker of the name at
home in Pezu leaves the agents' name as it was, since his trade tells him apart.

What still links: a report that names the other man's town too ties them ("the agent of
Jauharabad who takes boys from Quaidabad"), one town may lie within another's tehsil, and
an agent placed at home still meets his name in a report set where he works.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import assert_joins_neither, corpus_of, person_evidence

KEY = "noor muhammad"
NAURANG = {
    "en": "The agent Noor Muhammad of Serai Naurang took Rs 300,000 each for Dubai visas.",
    "ru": "serai naurang wala agent noor muhammad 30 bandon se paisay le gaya, dubai ke visay.",
    "ur": "سرائے نورنگ کے ایجنٹ نور محمد نے دبئی کے ویزوں کے نام پر تیس بندوں سے پیسے لیے۔",
}
PEZU = {
    "en": "Agent Noor Muhammad from Pezu sent twelve boys to Saudi Arabia on free visas.",
    "ru": "pezu wala agent noor muhammad kehta hai larkay saudia me khush hain.",
    "ur": "پیزو کے ایجنٹ نور محمد نے بارہ لڑکوں کو سعودیہ بھیجا۔",
}


@pytest.mark.parametrize(
    ("text", "home"),
    [
        ("pezu wala agent noor muhammad ab kehta hai", "Agent, of pezu"),
        ("پیزو کے ایجنٹ نور محمد نے بارہ لڑکوں کو بھیجا", "Agent, of pezu"),
        ("مندرہ والے نور محمد سے قرض لیا تھا", "of mandra"),
        ("lakki marwat wala asi noor muhammad paise leta hai", "ASI, of lakki marwat"),
    ],
)
def test_a_place_and_wala_before_the_name_places_the_man(text: str, home: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert person.designation == home


def test_only_the_mans_own_rank_may_stand_between_wala_and_his_name() -> None:
    text = "karak ki bachi 4 lakh me becha gujrat wale budhe ko. sho noor muhammad sab janta hai"
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert person.designation == "SHO"


@pytest.mark.parametrize("first", sorted(NAURANG))
@pytest.mark.parametrize("second", sorted(PEZU))
def test_agents_at_home_in_two_towns_of_one_district_do_not_corroborate(
    first: str, second: str
) -> None:
    corpus = corpus_of([NAURANG[first], PEZU[second]])
    evidence = person_evidence(corpus, 1, 2, KEY)
    assert evidence.strength.level == links.WEAK
    assert "places its man where the other is not" in evidence.strength.why
    assert not evidence.counts
    assert corpus.related(1).corroborating == 0


def test_one_mans_reports_in_his_town_still_corroborate() -> None:
    corpus = corpus_of([NAURANG["en"], NAURANG["ur"]])
    assert person_evidence(corpus, 1, 2, KEY).strength.level == links.STRONG
    assert corpus.related(1).corroborating == 1


def test_a_report_that_names_both_towns_ties_them() -> None:
    tied = "Agent Noor Muhammad of Pezu takes boys from Serai Naurang to Dubai on visit visas."
    corpus = corpus_of([NAURANG["en"], tied])
    assert person_evidence(corpus, 1, 2, KEY).strength.level == links.STRONG


def test_an_agent_placed_at_home_meets_his_name_where_he_works() -> None:
    working = "In Pezu the agent Noor Muhammad collected passports at the bus stand."
    corpus = corpus_of([NAURANG["en"], working])
    assert person_evidence(corpus, 1, 2, KEY).strength.level == links.STRONG


UNHOMED = {
    "en": "The agent Noor Muhammad took our passports at the Lakki Marwat bus stand.",
    "ru": "lakki marwat adda pe agent noor muhammad ne passport rakh liye.",
    "ur": "لکی مروت کے اڈے پر ایجنٹ نور محمد نے ہمارے پاسپورٹ رکھ لیے۔",
}


@pytest.mark.parametrize("register", sorted(UNHOMED))
def test_an_agent_at_no_home_joins_neither_of_two_placed_apart(register: str) -> None:
    corpus = corpus_of([NAURANG["en"], PEZU["ur"], UNHOMED[register]])
    assert_joins_neither(corpus, 3, (1, 2), KEY, "men at home in towns apart")


def test_a_namesake_of_another_trade_leaves_the_agent_unambiguous() -> None:
    matchmaker = "The matchmaker Noor Muhammad of Pezu sold a girl of twelve to a man in Karak."
    corpus = corpus_of([NAURANG["en"], matchmaker, UNHOMED["en"]])
    assert person_evidence(corpus, 3, 1, KEY).strength.level == links.STRONG
