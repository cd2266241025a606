"""A name with a rank in one report and none in the other is not corroboration; nor a
name with no rank, trade or kinship in either (however telling its words); nor a writer's
kin against a bare name.

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


def test_a_name_no_word_of_which_tells_a_man_apart_is_weak_without_ranks() -> None:
    # heldout26.txt (session 12): two unranked men "Allah Ditta" at one station were one
    # man. "Allah" and "Ditta" tell no one apart; with no rank on either side, nothing does
    # (here the father's two reports are one man, for a reviewer to confirm).
    key, strength = person_link(FATHER["en"], FATHER["ru"])
    assert key == "allah ditta"
    assert strength.level == links.WEAK
    assert "no word of which tells a man apart" in strength.why


def test_a_name_of_two_telling_words_with_a_trade_against_none_is_weak() -> None:
    # The rule of session 12 asked for one telling word; a kiln's "munshi Rafiq Anjum" and a
    # bare "Rafiq Anjum" at his thana are as likely two men (session 13).
    a = "At the kiln near Sharaqpur, munshi Rafiq Anjum pays Thana Saddar Sheikhupura."
    b = "Rafiq Anjum went to Thana Saddar Sheikhupura with the kiln's money."
    strength = person_link(a, b)[1]
    assert strength.level == links.WEAK
    assert "none in the other" in strength.why


# Session 15: the last false links of the development sets (heldout26, 29, 33, 35, 39 and
# 43) were all one kind: a common full name, with no rank, trade or kinship on either side,
# in two reports set at one police station or district, and two men. Every word of the name
# may tell men apart ("Tariq Mehmood", "Manzoor Ahmed") and it is still a name thousands
# bear: nothing either source wrote says which of them it meant.
SELLER = {
    "en": "Tariq Mehmood took the boy from our lane to a hotel in Khanewal. Thana City Khanewal "
    "took money from him and sent us away.",
    "ru": "tariq mehmood hamaray mohallay ka larka khanewal k hotel le gaya. thana city "
    "khanewal walon ne us se paise liye.",
    "ur": "طارق محمود ہمارے محلے کا لڑکا خانیوال کے ہوٹل لے گیا۔ "
    "تھانہ سٹی خانیوال نے اس سے پیسے لیے۔",
}
FATHER_OF_A_TAKEN_BOY = (
    "The son of Tariq Mehmood, a boy of twelve, was taken from the bus stand. At Thana City "
    "Khanewal nobody would write the report."
)


@pytest.mark.parametrize("register", sorted(SELLER))
def test_a_common_full_name_with_no_rank_on_either_side_at_one_station_is_weak(
    register: str,
) -> None:
    key, strength = person_link(SELLER[register], FATHER_OF_A_TAKEN_BOY)
    assert key == "tariq mehmood"
    assert strength.level == links.WEAK
    assert "no rank, trade or kinship beside it in either report" in strength.why


def test_a_name_of_two_telling_words_without_ranks_at_one_station_is_weak() -> None:
    # Session 13 linked these strongly: two telling words, one station. They may be one man;
    # a reviewer who reads both says so (`links pending`), not the name.
    a = "Rafiq Anjum keeps the boys' passports; Thana Saddar Sheikhupura knows him."
    b = "Rafiq Anjum went to Thana Saddar Sheikhupura with the kiln's money."
    strength = person_link(a, b)[1]
    assert strength.level == links.WEAK
    assert "a name alone" in strength.why


def test_a_name_the_writers_both_call_kin_still_links_at_one_station() -> None:
    # Two of a family writing of one relative: kinship on both sides tells the man apart.
    a = "My uncle Rafiq Anjum keeps the boys' passports; Thana Saddar Sheikhupura knows him."
    b = "Our uncle Rafiq Anjum went to Thana Saddar Sheikhupura with the kiln's money."
    assert person_link(a, b)[1].level == links.STRONG


KIN = {
    "en": "My brother-in-law Naveed Akhtar took the boys from Gujar Khan to Thana Waris Khan.",
    "ru": "mera behnoi naveed akhtar larkon ko gujar khan se thana waris khan le gaya.",
    "ur": "میرا بہنوئی نوید اختر لڑکوں کو گوجر خان سے تھانہ وارث خان لے گیا۔",
}
BARE = "In Rawalpindi, Naveed Akhtar sends boys to Greece; Thana Waris Khan does nothing."


@pytest.mark.parametrize("register", sorted(KIN))
def test_a_writers_kin_against_a_bare_name_is_weak(register: str) -> None:
    # heldout35.txt (session 13): a source's brother-in-law and another source's bare
    # "Naveed Akhtar" of Rawalpindi were counted as one man. "My brother-in-law" tells the
    # man apart to his own family's source alone.
    key, strength = person_link(KIN[register], BARE)
    assert key == "naveed akhtar"
    assert strength.level == links.WEAK
    assert "the writer's kin in one report" in strength.why


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
    assert "none in the other" in strength.why


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


# Urdu writes a rank's initials with its full stop ("۔") between them, as English "S.H.O.".
DOTTED_URDU = [
    ("ایس ایچ او", "ایس۔ایچ۔او", "SHO"),
    ("اے ایس آئی", "اے۔ایس۔آئی", "ASI"),
    ("ایس آئی", "ایس۔آئی", "SI"),
    ("ڈی ایس پی", "ڈی۔ایس۔پی", "DSP"),
]


@pytest.mark.parametrize(("spaced", "dotted", "rank"), DOTTED_URDU)
def test_an_urdu_rank_written_with_full_stops_is_the_rank(
    spaced: str, dotted: str, rank: str
) -> None:
    text = "تھانہ صدر قصور کے {rank} طارق محمود نے بھٹہ مالک سے پیسے لیے۔"
    (person,) = [e for e in extract(text.format(rank=dotted)) if e.kind == "person"]
    # The attack: the rank unread, so the man met another report's SHO of his name as
    # "a rank in one report and none in the other", weak.
    assert (person.designation or "").startswith(rank), person.designation
    _, strength = person_link(text.format(rank=spaced), text.format(rank=dotted))
    assert strength.level == links.STRONG, strength.why
