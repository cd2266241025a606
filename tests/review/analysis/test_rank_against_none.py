"""A common name with a rank in one report and none in the other is not corroboration.

The attacks, each a false link counted as corroboration by blind corpora of session 12
(heldout21.txt, heldout25.txt, heldout26.txt), between two men of one common name at one
police station or in one district:
- A kiln's munshi "Allah Ditta" whose kiln pays Thana Saddar Sheikhupura, and a poor man
  "Allah Ditta" whose daughter was sold and who went to that thana. One report gives the
  name a trade, the other none: only "Ditta" and the station joined them.
- A money changer "Kareem Bakhsh" (sarraf, hawala) who pays the SHO of Thana Saddar
  Turbat, and the agent "Kareem Bakhsh" whose guest house Thana City Turbat's ASI visits.
  "Bakhsh" ("given by") tells no one apart, as "Ditta" does not; and "sarraf" was no trade.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link

MUNSHI = (
    "At the kiln of Rana Maqsood near Sharaqpur, munshi Allah Ditta keeps the accounts. When a "
    "labourer's brother reached Thana Saddar Sheikhupura, the SHO called the munshi."
)
FATHER = {
    "en": "The daughter of Allah Ditta of Muridke was sold for two lakh. He went to Thana Saddar "
    "Sheikhupura and the SHO said it was a family matter.",
    "ru": "muridke k allah ditta ki beti ko becha gaya. thana saddar sheikhupura walon ne fir "
    "nahi kati.",
    "ur": "مریدکے کے اللہ دتہ کی بیٹی بیچ دی گئی۔ وہ تھانہ صدر شیخوپورہ گیا تو ایس ایچ او نے کہا "
    "گھر کا معاملہ ہے۔",
}


@pytest.mark.parametrize("register", sorted(FATHER))
def test_a_common_name_with_a_trade_against_none_at_one_station_is_weak(register: str) -> None:
    key, strength = person_link(MUNSHI, FATHER[register])
    assert key == "allah ditta"
    assert strength.level == links.WEAK
    assert "a rank or trade in one report and none in the other" in strength.why


def test_a_common_name_under_one_trade_at_one_station_still_links() -> None:
    other = "The munshi Allah Ditta phoned Thana Saddar Sheikhupura; the SHO came to the kiln."
    assert person_link(MUNSHI, other)[1].level == links.STRONG


def test_a_common_name_without_rank_in_both_at_one_station_still_links() -> None:
    # The rule asks for a rank on both sides only when one gives one: two reports that
    # give none agree on all they say (and the father's two reports are one man).
    key, strength = person_link(FATHER["en"], FATHER["ru"])
    assert key == "allah ditta"
    assert strength.level == links.STRONG


def test_a_name_of_two_telling_words_with_a_trade_against_none_still_links() -> None:
    a = "At the kiln near Sharaqpur, munshi Rafiq Anjum pays Thana Saddar Sheikhupura."
    b = "Rafiq Anjum went to Thana Saddar Sheikhupura with the kiln's money."
    assert person_link(a, b)[1].level == links.STRONG


SARRAF = {
    "en": "In Turbat the money changer Karim Bakhsh sends the agents' money to Karachi; the SHO "
    "of Thana Saddar Turbat takes an envelope from him every month.",
    "ru": "thana saddar turbat ka sho har mahinay sarraf karim bakhsh se lifafa leta hai.",
    "ur": "تربت کا صراف کریم بخش ایجنٹوں کا پیسہ کراچی بھیجتا ہے۔ تھانہ صدر تربت کا ایس ایچ او ہر "
    "ماہ اس سے حصہ لیتا ہے۔",
}
GUEST_HOUSE = (
    "Forty men reached the guest house of Karim Bakhsh in Turbat today. The ASI of Thana City "
    "Turbat came himself."
)


@pytest.mark.parametrize("register", sorted(SARRAF))
def test_a_money_changer_and_an_agents_guest_house_of_one_name_are_weak(register: str) -> None:
    key, strength = person_link(SARRAF[register], GUEST_HOUSE)
    assert key == "kareem bakhsh"
    assert strength.level == links.WEAK
    assert "one telling word" in strength.why


def test_a_theophoric_second_element_tells_no_one_apart_but_keeps_the_name() -> None:
    # "Bakhsh" and "Ditta" ("given by") count for nothing between two men of one first
    # element, but are still a name's words: the key is kept, not a bare common name.
    assert links.strength("person", "kareem bakhsh").level == links.STRONG
    assert links.strength("person", "allah ditta").level == links.STRONG
    short = [e for e in extract("Ditta phoned the munshi at nine.") if e.kind == "person"]
    assert [e.key for e in short] == ["ditta"]


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("children work at the kiln where Allah Ditta is munshi.", "Munshi"),
        ("Rana Tariq was SHO of Thana Saddar then.", "SHO"),
        ("the daughter of Allah Ditta, a daily wager of Muridke, was sold", "Labourer"),
        (
            "He works with a property dealer on Military Road, Imran Ali Soomro, who takes it.",
            "Property Dealer",
        ),
        ("a broker from Sukkur, Imran Ali, took the money.", "Broker"),
        ("thana saddar turbat ka sho sarraf karim bakhsh se lifafa leta hai", "Money Changer"),
        ("تربت کا صراف کریم بخش پیسہ بھیجتا ہے", "Money Changer"),
        ("Abdul Rahim, a mason from Gwadar, has not heard from his son.", "Mason"),
    ],
)
def test_trades_said_around_a_name(text: str, designation: str) -> None:
    people = [e for e in extract(text) if e.kind == "person" and e.designation]
    assert designation in {(e.designation or "").partition(",")[0] for e in people}


@pytest.mark.parametrize(
    "text",
    [
        "Everyone knows that was SHO business.",
        "The man in Kasur is SHO now.",
        "the agent in Dubai, Karachi and Lahore, took them.",
    ],
)
def test_no_man_is_read_into_a_rank_without_a_name(text: str) -> None:
    assert [e for e in extract(text) if e.kind == "person"] == []
