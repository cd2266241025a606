"""A name joins two reports set at different police stations only under one trade that
travels; a name of one telling word ("Bashir Ahmed") is weak at one station, too, under
ranks that are not one man's.

The attacks, each a false link that counted as corroboration between two men of one
common name in one district:
- A travel agent "Haji Bashir Ahmed" whose report is set by Thana Saddar Kohat, and a
  matchmaker "Bashir Ahmed" whose victims' families went to Kohat Cantt police station.
  Neither report gives its man a rank; "Ahmed" tells no one apart, so only "Bashir" and
  the district joined them.
- "An agent called Bashir Ahmed" who takes girls to Lahore's houses, and "the broker Bashir
  Ahmed" of a cattle market who sold a family's debt, both in Kasur. The naming word hid
  the agent's trade, and an agent and a broker were one trade.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link

AGENT = (
    "I am a clerk near Thana Saddar Kohat. Haji Bashir Ahmed runs a travel office there; "
    "the families were told to settle with Bashir Ahmed."
)
MATCHMAKER = {
    "en": "My uncle went to Kohat Cantt police station about the match Bashir Ahmed arranged.",
    "ru": "kohat ka rishta wala bashir ahmed larkiyan bhejta hai. cantt thana kohat walay chup.",
    "ur": "میرے چچا نے بشیر احمد کے کہنے پر رشتہ کیا۔ تھانہ کینٹ کوہاٹ والوں نے کچھ نہ کیا۔",
}


@pytest.mark.parametrize("register", sorted(MATCHMAKER))
def test_a_common_name_without_rank_at_two_stations_is_weak(register: str) -> None:
    key, strength = person_link(AGENT, MATCHMAKER[register])
    assert key == "bashir ahmed"
    assert strength.level == links.WEAK
    # "rishta wala" is a matchmaker's trade: rank against none, before the stations
    why = "a rank or trade in one report" if register == "ru" else "different police stations"
    assert why in strength.why


def test_a_common_name_at_one_station_still_links_under_one_trade() -> None:
    a = "I am a clerk near Thana Saddar Kohat. The agent Bashir Ahmed runs a travel office there."
    other = "The agent Bashir Ahmed sits every evening outside Thana Saddar Kohat with the munshi."
    assert person_link(a, other)[1].level == links.STRONG
    # With no trade on either side, the name alone is weak (test_rank_against_none.py).
    bare = "Bashir Ahmed sits every evening outside Thana Saddar Kohat with the munshi."
    assert person_link(AGENT, bare)[1].level == links.WEAK


def test_a_name_of_two_telling_words_at_two_stations_of_a_district_is_weak_too() -> None:
    # heldout35.txt (session 13): a "Tariq Mehmood" of Dina's police station and another of
    # Thana Saddar Jhelum, neither given a rank, were counted as one man. A district's
    # stations each have their own men, whatever the name.
    a = "I am a clerk near Thana Saddar Kohat. Rafiq Anjum runs a travel office there."
    b = "My uncle went to Kohat Cantt police station about the match Rafiq Anjum arranged."
    strength = person_link(a, b)[1]
    assert strength.level == links.WEAK
    assert "different police stations" in strength.why


def test_an_agent_at_two_stations_of_a_district_still_links() -> None:
    # The control: an agent's trade goes from station to station.
    a = "I am a clerk near Thana Saddar Kohat. The agent Rafiq Anjum runs a travel office."
    b = "Kohat Cantt police station knows the agent Rafiq Anjum, who took my son's passport."
    assert person_link(a, b)[1].level == links.STRONG


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("Girls go to Lahore through an agent called Bashir Ahmed, known as Bashira.", "Agent"),
        ("a munshi named Gulab Khan keeps the register", "Munshi"),
        ("یہ سودا بروکر بشیر احمد نے کرایا تھا", "Broker"),
        ("The agent is known as Kaka Butt.", "Named"),  # a verb between: no rank of his
    ],
)
def test_a_rank_before_a_naming_word_is_the_mans(text: str, designation: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person" and " " in e.key]
    assert person.designation == designation


def test_an_agent_and_a_broker_of_one_name_are_two_men() -> None:
    agent = "In Kasur, girls go to Lahore's houses through an agent called Bashir Ahmed."
    broker = "At the cattle market in Kasur, the broker Bashir Ahmed sold the family's debt."
    key, strength = person_link(agent, broker)
    assert key == "bashir ahmed"
    assert strength.level == links.WEAK
    assert "ranks or trades" in strength.why
    dalal = "Kasur ki mandi mein dalal bashir ahmed ne qarz becha."
    assert person_link(broker, dalal)[1].level == links.STRONG


LABOURER = {
    "en": "Allah Ditta, a labourer of Golarchi in Badin, lost his daughter; Thana Saddar Badin "
    "sent him away.",
    "ru": "mazdoor allah ditta ki beti gayab hai, thana saddar badin walay nahi sunte.",
    "ur": "مزدور اللہ دتہ کی بیٹی غائب ہے، تھانہ صدر بدین والے نہیں سنتے۔",
}
KAMDAR = "Near Tando Bago in Badin the kamdar, Allah Ditta, keeps the haris' CNICs."


@pytest.mark.parametrize("register", sorted(LABOURER))
def test_a_labourer_is_not_the_kamdar_of_his_name(register: str) -> None:
    # A girl's father, a labourer, and a landlord's kamdar of one name in one district: the
    # kamdar who holds bonded haris is not the labourer whose daughter was taken.
    key, strength = person_link(LABOURER[register], KAMDAR)
    assert key == "allah ditta"
    assert strength.level == links.WEAK
    assert "ranks or trades" in strength.why


def test_a_father_in_roman_urdu_is_kin() -> None:
    (father,) = [e for e in extract("uska baap allah ditta thane gaya") if e.kind == "person"]
    assert father.designation == "Father"


RYK_AGENT = "The agent Allah Ditta of Sadiqabad sends boys to Dubai; Thana City Sadiqabad knows."
RYK_FATHER = "Allah Ditta went to Thana Saddar Rahim Yar Khan about his boy taken to the Gulf."


def test_a_theophoric_name_has_one_telling_word() -> None:
    # "Allah Ditta", "Abdul Ghafoor", "Ghulam Rasool": the first word tells no one apart.
    assert not links.telling("allah")
    assert not links.telling("abdul")
    assert not links.telling("ghulam")
    assert links.strength("person", "abdul ghafoor").level == links.STRONG  # a name still
    assert links.strength("person", "ghulam muhammad").level == links.WEAK  # all common


def test_a_name_of_one_telling_word_at_two_stations_under_a_rank_and_none_is_weak() -> None:
    key, strength = person_link(RYK_AGENT, RYK_FATHER)
    assert key == "allah ditta"
    assert strength.level == links.WEAK
    assert "a rank or trade in one report and none in the other" in strength.why


def test_a_name_of_one_telling_word_under_one_rank_at_two_stations_links() -> None:
    other = "At Thana Saddar Rahim Yar Khan the agent Allah Ditta took Rs 300,000 for a visa."
    assert person_link(RYK_AGENT, other)[1].level == links.STRONG


AGENT_OF = "Some passengers had come through Shahid Hussain, the Gujar Khan agent, in 2024."
DEALER = {
    "en": "We mortgaged our land in Gujar Khan to Shahid Hussain, a property dealer on GT Road.",
    "ru": "gujar khan k property dealer shahid hussain ne hamari zameen pe qabza kr lia.",
    "ur": "گوجر خان کا پراپرٹی ڈیلر شاہد حسین ہماری زمین پر قبضہ کر چکا ہے۔",
}


@pytest.mark.parametrize("register", sorted(DEALER))
def test_a_property_dealer_is_not_the_agent_of_his_name(register: str) -> None:
    key, strength = person_link(AGENT_OF, DEALER[register])
    assert key == "shahid hussain"
    assert strength.level == links.WEAK
    assert "ranks or trades" in strength.why


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("Some had come through Shahid Hussain, the Gujar Khan agent.", "Agent"),
        ("Rana Tariq, the Kasur SHO, took it.", "SHO"),
        ("Their village agent was Allah Ditta; the visas were arranged.", "Agent"),
        ("لیاقت پور کا رشتہ کروانے والا اللہ دتہ لڑکیوں کی شادی کرواتا ہے", "Matchmaker"),
        ("kohat ka rishta wala bashir ahmed larkiyan bhejta hai", "Matchmaker"),
    ],
)
def test_trades_and_ranks_said_around_a_name(text: str, designation: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert designation == (person.designation or "").partition(",")[0]
