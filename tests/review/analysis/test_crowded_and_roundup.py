"""A name the archive shows to be several men's, and a roundup report, corroborate no one.

The attacks, false links counted as corroboration in heldout31.txt and heldout33.txt
(session 12):
- "Naveed Akhtar", an agent in five reports and a NADRA counter clerk in a sixth: each
  report that named the agent bare joined the clerk strongly. The archive itself said two
  men bear the name (ranks no one man holds); a report that gives it none cannot say which.
- A roundup ("Pattern across this year's reports ... in Islamabad Thana Golra, Thana
  Shalimar and Thana Karachi Company; in Taxila, Thana City, Thana Cantt and Thana Saddar
  ...") named an SHO Tariq Mehmood of Fateh Jang. Set at every station, it shared one with
  each report of Golra's SHO Tariq Mehmood, and joined them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from review.analysis import links, records
from review.analysis.corpus import Corpus, ReportFacts
from tests.review.analysis.person_links import person_link

NAME = "naveed akhtar"


def _facts(said: dict[int, list[str]]) -> dict[int, ReportFacts]:
    """Reports naming NAME with these designations, each set in Rawalpindi district."""
    day = dt.date(2024, 9, 2)
    out = {}
    for num, designations in said.items():
        record = records.Record(
            found=[
                {"kind": "person", "key": NAME, "texts": ["Naveed Akhtar"], "designations": []},
                {
                    "kind": "district",
                    "key": "rawalpindi",
                    "texts": ["Rawalpindi"],
                    "designations": [],
                },
            ]
        )
        record.found[0]["designations"] = designations
        out[num] = ReportFacts(num, f"source {num}", day, record)
    return out


def _level(corpus: Corpus, a: int, b: int) -> links.Strength:
    return corpus.pair_strength("person", NAME, links.strength("person", NAME), a, b)


def test_a_bare_name_the_archive_gives_two_mens_ranks_is_weak() -> None:
    # Session 12 made this weak by the archive's crowd of ranks (`crowded`); session 13's
    # rule, rank against none, makes any bare name weak against a ranked one, crowd or not.
    corpus = Corpus(_facts({1: ["Agent"], 2: ["Agent, of taxila"], 3: ["Clerk"], 4: []}))
    for ranked in (1, 2, 3):
        strength = _level(corpus, ranked, 4)
        assert strength.level == links.WEAK
        assert "none in the other" in strength.why
    assert _level(corpus, 1, 2).level == links.STRONG  # the agent's own reports still agree
    assert _level(corpus, 1, 3).level == links.WEAK  # and the agent is not the clerk


def test_without_a_namesake_in_the_archive_a_bare_name_is_weak_too() -> None:
    corpus = Corpus(_facts({1: ["Agent"], 2: ["Agent"], 4: []}))
    assert _level(corpus, 1, 4).level == links.WEAK
    assert _level(corpus, 1, 2).level == links.STRONG


ROUNDUP = {
    "en": "Pattern across this year's reports: in Islamabad Thana Golra, Thana Shalimar and "
    "Thana Karachi Company return runaways; in Taxila, Thana City, Thana Cantt and Thana "
    "Saddar take a share. In Fateh Jang, SHO Tariq Mehmood returns the families who run.",
    "ru": "is saal ki reports ka pattern: islamabad me thana golra, thana shalimar aur thana "
    "karachi company; taxila me thana city, thana cantt aur thana saddar. fateh jang me sho "
    "tariq mehmood bhagne walon ko wapis karta hai.",
    "ur": "اس سال کی رپورٹوں کا خلاصہ: اسلام آباد میں تھانہ گولڑہ، تھانہ شالیمار اور تھانہ کراچی "
    "کمپنی؛ ٹیکسلا میں تھانہ سٹی، تھانہ کینٹ اور تھانہ صدر۔ فتح جنگ میں ایس ایچ او طارق محمود "
    "بھاگنے والوں کو واپس کرتا ہے۔",
}
GOLRA = "The SHO of Thana Golra, Tariq Mehmood, sent the girl back to the house in E-11."


@pytest.mark.parametrize("register", sorted(ROUNDUP))
def test_a_roundup_of_many_stations_sets_its_men_at_none(register: str) -> None:
    key, strength = person_link(ROUNDUP[register], GOLRA)
    assert key == "tariq mehmood"
    assert strength.level == links.WEAK
    assert "roundup" in strength.why


def test_a_report_of_two_stations_still_sets_its_man_there() -> None:
    other = "Thana Golra and Thana Shalimar both know: SHO Tariq Mehmood sends girls back."
    assert person_link(other, GOLRA)[1].level == links.STRONG
