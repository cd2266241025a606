"""Two posted men of one name in one district, at two police stations or in two towns of
it, are not corroborated by their name: not when one report shortens it, and not when a
report gives only the town.

The attacks, false links counted as corroboration by the blind corpus heldout50.txt
(session 16), written to set such namesakes:
- "SHO Ghulam Mustafa" of Thana Johi and "SHO Ghulam Mustafa Chandio" of Thana Saddar,
  both of Dadu. The full names alone would have been weak (different stations); the short
  form was strong because the reports shared the district and the rank.
- "Head Constable Abdul Ghafoor Jatoi" of a report set in Moro and one of a report set at
  Thana Kandiaro, two towns of Naushahro Feroze. The first report names no station, so
  the reports were not "set at different police stations", only in one district.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import people, person_link

SADDAR = (
    "SHO Ghulam Mustafa Chandio of Thana Saddar Dadu keeps the haris' families in the lockup "
    "until the zamindar pays him."
)
JOHI = {
    "en": "At Thana Johi in Dadu, SHO Ghulam Mustafa sent the brick kiln workers back to the "
    "owner.",
    "ru": "dadu ke thana johi ka sho ghulam mustafa bhatta mazdooron ko wapas malik ke paas "
    "bhej deta hai.",
    "ur": "دادو کے تھانہ جوہی کا ایس ایچ او غلام مصطفیٰ بھٹہ مزدوروں کو واپس مالک کے پاس بھیج "
    "دیتا ہے۔",
}


def _short_links(a: str, b: str) -> list[tuple[str, links.Strength]]:
    """The short-form links from text `a` to text `b`: their keys and strengths."""
    named, where = people({0: a, 1: b})
    return [(ev.key, ev.strength) for x, _y, ev in links.short_form_links(named, where) if x == 0]


@pytest.mark.parametrize("register", sorted(JOHI))
def test_a_short_form_at_another_station_of_the_district_is_weak(register: str) -> None:
    ((key, strength),) = _short_links(JOHI[register], SADDAR)
    assert key == "ghulam mustafa < ghulam mustafa chandio"
    assert strength.level == links.WEAK
    assert "different police stations" in strength.why


def test_a_short_form_at_the_same_station_under_the_same_rank_still_links() -> None:
    other = "SHO Ghulam Mustafa of Thana Saddar Dadu took Rs 30,000 for each family."
    ((key, strength),) = _short_links(other, SADDAR)
    assert key == "ghulam mustafa < ghulam mustafa chandio"
    assert strength.level == links.STRONG


MORO = (
    "In Moro, Naushahro Feroze, Head Constable Abdul Ghafoor Jatoi collects the money from "
    "the agents every Thursday."
)
KANDIARO = {
    "en": "Head Constable Abdul Ghafoor Jatoi of Thana Kandiaro, Naushahro Feroze, takes a "
    "share of every family sold to the kiln.",
    "ru": "thana kandiaro naushahro feroze ka head constable abdul ghafoor jatoi har family "
    "se hissa leta hai.",
    "ur": "تھانہ کنڈیارو نوشہرو فیروز کا ہیڈ کانسٹیبل عبدالغفور جتوئی ہر خاندان سے حصہ لیتا ہے۔",
}


@pytest.mark.parametrize("register", sorted(KANDIARO))
def test_a_posted_name_in_two_towns_of_one_district_is_weak(register: str) -> None:
    key, strength = person_link(MORO, KANDIARO[register])
    assert key == "abdul ghafoor jatoi"
    assert strength.level == links.WEAK
    assert "different police stations" in strength.why


def test_a_posted_name_in_one_town_still_links() -> None:
    other = "Head Constable Abdul Ghafoor Jatoi of Moro took Rs 5,000 from my uncle."
    assert person_link(MORO, other)[1].level == links.STRONG


def test_a_station_named_after_its_town_is_in_that_town() -> None:
    station = "Head Constable Abdul Ghafoor Jatoi of Thana Moro, Naushahro Feroze, took Rs 5,000."
    assert person_link(MORO, station)[1].level == links.STRONG


def test_two_stations_of_one_town_are_still_two() -> None:
    # A town in common does not join reports set at two of its stations.
    a = "ASI Nisar Ahmed Solangi of Thana Kotri City, Jamshoro, took the boys' CNICs."
    b = "ASI Nisar Ahmed Solangi of Thana Kotri Saddar, Jamshoro, let the agent go."
    key, strength = person_link(a, b)
    assert key == "nisar ahmed solangi"
    assert strength.level == links.WEAK


def test_an_agent_is_not_held_to_one_town() -> None:
    # A trade that goes from place to place meets its name in the district's other towns.
    a = "In Moro, Naushahro Feroze, the agent Abdul Ghafoor Jatoi sells families to kilns."
    b = "At Thana Kandiaro, Naushahro Feroze, the agent Abdul Ghafoor Jatoi brought six boys."
    assert person_link(a, b)[1].level == links.STRONG


def test_a_station_written_bare_is_apart_from_no_town() -> None:
    # "Saddar police station" may be Chunian's: the name is not spread over two places.
    texts = [
        "When we complained at the Saddar police station, SHO Rana Tariq tore up our plea.",
        "On 2 April 2024 SHO Rana Tariq came to the kiln near Chunian and took money.",
    ]
    named = []
    for text in texts:
        found = extract(text)
        roles = [e.designation for e in found if e.key == "rana tariq" and e.designation]
        named.append((links.places((e.kind, e.key) for e in found), roles))
    assert all(roles for _, roles in named)
    assert not links.spread(named)
