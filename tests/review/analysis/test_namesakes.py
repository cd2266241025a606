"""A source who tells its man apart from another of his name: links on that name stay weak.

The attack: two men of one uncommon name in one district, an SHO and a shopkeeper. A
source writes about the shopkeeper and says, in so many words, that he is not the SHO,
naming the SHO's district while saying so. Before `review.analysis.namesakes`, the two
reports shared the name and a district and the link counted as corroboration of the
SHO; the source's own warning was ignored.
"""

from __future__ import annotations

import pytest

from review.analysis import links, namesakes
from review.analysis.entities import Entity
from tests.review.analysis.person_links import person_link

SHO_REPORT = (
    "SHO Mehboob Alam of Thana City Bannu took 80,000 from my father on 3 May 2024 "
    "to let the agent go. Mehboob Alam also keeps the boys' passports at the thana."
)
SHOPKEEPER_REPORTS = {
    "en": (
        "The Mehboob Alam who sells cloth in Bannu bazaar is not the SHO from Thana City, "
        "people confuse them. He lent my uncle the money for the agent."
    ),
    "ru": (
        "bannu bazaar mein mehboob alam ki kapray ki dukaan hai. woh thana city ka sho nahi hai, "
        "yeh kapray wala hai. usne chacha ko agent ke liye paise diye."
    ),
    "ur": (
        "بنوں بازار میں محبوب عالم کی کپڑے کی دکان ہے۔ یہ تھانہ سٹی والا ایس ایچ او نہیں، "
        "یہ کپڑے والا ہے۔ اس نے چچا کو ایجنٹ کے لیے پیسے دیے۔"
    ),
    "en, the next sentence": (
        "I am Mehboob Alam from Bannu, and I paid the agent through my cousin. "
        "Not the policeman, I want that clear: I sell cloth."
    ),
}


_link = person_link


@pytest.mark.parametrize("register", sorted(SHOPKEEPER_REPORTS))
def test_a_source_saying_its_man_is_not_the_officer_keeps_the_link_weak(register: str) -> None:
    key, strength = _link(SHO_REPORT, SHOPKEEPER_REPORTS[register])
    assert key == "mehboob alam"
    assert strength.level == links.WEAK
    assert "another man" in strength.why


def test_without_the_warning_the_same_name_and_place_link_strongly() -> None:
    """The rule is what makes the link weak: the same reports without the warning link."""
    plain = "SHO Mehboob Alam of Thana City Bannu lent my uncle the money for the agent."
    assert _link(SHO_REPORT, plain)[1].level == links.STRONG


@pytest.mark.parametrize(
    "text",
    [
        "He is not the Chakwal kiln man, this one owns coaches.",
        "This Gul Khan is not the Levies one.",
        "There are two officers with the same name and people mix them up.",
        "yeh nawabshah wala nahi hai, thanay ka munshi hai.",
        "main pindi wala asi nahi hun, plumber hun.",
        "woh kohat ka sho nahi hai, yeh swat wala hai",
        "یہ چکوال والا بھٹہ مالک نہیں، یہ ٹرانسپورٹر ہے۔",
        "میں پولیس والا نہیں، پلمبر ہوں۔",
    ],
)
def test_warnings_in_three_registers(text: str) -> None:
    assert namesakes.warnings(text)


@pytest.mark.parametrize(
    "text",
    [
        "It was not the first time the SHO took money.",
        "The woman who took her has the same name as my sister.",
        "They all said the same name: Sajjad.",
        "thane mein koi sunne wala nahi hai.",
        "sho nahi aaya us din.",
        "تھانے میں کوئی سننے والا نہیں۔",
        "ایس ایچ او نہیں آیا۔",
    ],
)
def test_no_warning_in_ordinary_negation(text: str) -> None:
    assert namesakes.warnings(text) == []


def _mentions(text: str, *names: tuple[str, str | None]) -> list[Entity]:
    out = []
    for name, rank in names:
        start = text.index(name)
        out.append(Entity("person", name, name.lower(), start, start + len(name), rank))
    return out


def _ranked(designation: str) -> bool:
    return designation in {"SHO", "ASI"}


def test_a_warning_marks_people_of_its_sentence_and_the_one_before_only() -> None:
    text = (
        "Aslam Baig came first. I am Tariq Dar from Dina. Not the policeman. Later Nadir Ali came."
    )
    people = _mentions(text, ("Aslam Baig", None), ("Tariq Dar", None), ("Nadir Ali", None))
    found = namesakes.mark(text, people, _ranked)
    assert [e.designation for e in found] == [None, namesakes.NAMESAKE, None]


def test_a_rank_the_warning_denies_is_replaced_and_one_it_does_not_is_kept() -> None:
    text = "Gulzar Khan is NOT the SHO from Kohat. SHO Omar Dar, not the ASI in Sindh, came."
    found = namesakes.mark(
        text,
        _mentions(text, ("Gulzar Khan", "SHO"), ("Omar Dar", "SHO")),
        _ranked,
    )
    assert [e.designation for e in found] == [namesakes.NAMESAKE, "SHO, another of this name"]
    named = namesakes.mark(text, _mentions(text, ("Gulzar Khan", "named")), _ranked)
    assert named[0].designation == namesakes.NAMESAKE  # "named" says nothing of a role


# A source keeps its man's rank beside the warning: he is the Munshi, not the clerk.
MUNSHI_WARNED = (
    "This is about Munshi Arif Jadoon of Thana Kotwali, Abbottabad. He is not the Nadra "
    "clerk of the same name, people mix them up. He took Rs 30,000 from us."
)


def test_a_warned_man_with_his_rank_does_not_meet_the_name_without_one() -> None:
    # The attack (as heldout12.txt's writer set it, in words of our own): before, the kept
    # rank met a report that gives the name no rank, in the same district, strongly.
    unranked = "At the Nadra office in Abbottabad, Arif Jadoon issued cards to the agent's boys."
    key, strength = _link(MUNSHI_WARNED, unranked)
    assert key == "arif jadoon"
    assert strength.level == links.WEAK
    assert "another man bears this name" in strength.why


def test_a_warned_man_with_his_rank_meets_the_same_rank() -> None:
    ranked = "Munshi Arif Jadoon of Thana Kotwali Abbottabad took money from my uncle."
    assert _link(MUNSHI_WARNED, ranked)[1].level == links.STRONG
