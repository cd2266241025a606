"""A man in a post is known by his post and where he holds it; a police post is not a thana.

The attacks, each a false link that counted as corroboration:
- A naib risaldar at a Levies checkpost in Noshki, and a hari of his name from a village
  the checkpost's boys come from. Both reports are set in Noshki, the hari's report gives
  its man no rank and names no station, and the name linked them strongly: the hari looked
  like a corrupt officer's second source.
- A constable's report of the "Airport police post" in Islamabad, and families' reports of
  "Thana Airport Islamabad": a post (a chowki) is a unit under a thana, with its own men,
  and it was keyed as the thana, so the reports were joined as one station.
- A father who writes "my name is Bashir Ahmed" of the agent "Haji Bashir" who took his son,
  and a munshi who writes of "Bashir Ahmed alias Haji", the agent: the alias is the agent's
  title, and without it the agent was keyed as the father.
"""

from __future__ import annotations

import pytest

from review.analysis import links
from review.analysis.entities import extract
from tests.review.analysis.person_links import person_link, shared_link

HARI = (
    "I am a hari near Noshki. The landlord keeps my family in debt. A man named Nazeer Jatoi "
    "from our village was taken too."
)
OFFICER = {
    "en": "Naib Risaldar Nazeer Jatoi runs the Levies checkpost at Noshki and takes Rs 5,000.",
    "ru": "noshki ki levies chowki pe naib risaldar nazeer jatoi har coaster se 5000 leta hai.",
    "ur": "نوشکی میں لیویز کی چوکی پر نائب رسالدار نذیر جتوئی ہر کوسٹر سے پانچ ہزار لیتا ہے۔",
}


@pytest.mark.parametrize("register", sorted(OFFICER))
def test_a_man_in_a_post_is_not_a_name_met_only_in_his_district(register: str) -> None:
    key, strength = person_link(HARI, OFFICER[register])
    assert key == "nazir jatoi"
    assert strength.level == links.WEAK
    assert "a rank or trade in one report and none in the other" in strength.why


def test_a_man_in_a_post_is_not_a_name_met_at_his_station_either() -> None:
    # No rank in one report, though both name the station where he holds his post: a kiln
    # owner of his name by the same thana is not the ASI (rank against none, session 13).
    officer = "ASI Rafiq Anjum came to Thana City Khanewal on 4 May and took Rs 50,000."
    owner = "The kiln of Rafiq Anjum keeps families in debt; Thana City Khanewal returns them."
    assert person_link(officer, owner)[1].level == links.WEAK
    again = "At Thana City Khanewal, ASI Rafiq Anjum wrote no FIR."
    assert person_link(officer, again)[1].level == links.STRONG


def test_a_man_in_a_post_at_two_stations_of_a_district_is_weak() -> None:
    # heldout37.txt (session 13): an ASI Muhammad Riaz of Swat's Cantt station and one of
    # Mingora's were counted as one man. A transfer, or two men: a reviewer says which.
    a = "ASI Rafiq Anjum of Thana City Khanewal took Rs 50,000."
    b = "At Thana Saddar Khanewal ASI Rafiq Anjum beat my brother."
    strength = person_link(a, b)[1]
    assert strength.level == links.WEAK
    assert "different police stations" in strength.why
    district = "In Khanewal, ASI Rafiq Anjum returns the boys who run from the kilns."
    assert person_link(a, district)[1].level == links.STRONG  # one station named, one district


def test_two_men_without_a_post_still_meet_in_their_district() -> None:
    # The rule is about posts: an agent named in two reports of one district still links.
    a = "The agent Rafiq Anjum of Khanewal took Rs 50,000 for my son."
    b = "In Khanewal, Rafiq Anjum, an agent, collects boys for the Gulf."
    assert person_link(a, b)[1].level == links.STRONG


def _stations(text: str) -> list[str]:
    return [e.key for e in extract(text) if e.kind == "police_station"]


POST = "I was posted as a constable at the Airport police post in Islamabad."
THANA = "The families went to Thana Airport Islamabad to report him."


def test_a_police_post_is_keyed_apart_from_the_thana_of_its_name() -> None:
    (post,) = _stations(POST)
    (thana,) = _stations(THANA)
    assert thana == "airport/islamabad"
    assert post != thana
    assert post.startswith("post ")
    assert links.strength("police_station", post).level == links.STRONG


@pytest.mark.parametrize(
    "text",
    [
        "Police post Airport in Islamabad stops nobody.",
        "islamabad ki police chowki airport pe sab ko pata hai",
        "The SHO sends his men to the Airport police post, Islamabad.",
    ],
)
def test_one_police_post_in_two_reports_is_one_key(text: str) -> None:
    assert _stations(text) == _stations(POST)


FATHER = (
    "Haji Bashir took my son Imran to Iran and never sent word. My name is Bashir Ahmed, "
    "I sell fruit from a cart in Jhang."
)
MUNSHI = (
    "At Thana Saddar Jhang the biggest payer was Bashir Ahmed alias Haji, a Sargodha man "
    "who keeps a house in Jhang."
)
AGENT = "In Jhang, Haji Bashir Ahmed takes seven lakh a boy for Greece."


def test_a_title_said_as_an_alias_is_the_mans_title() -> None:
    people = [(e.text, e.key) for e in extract(MUNSHI) if e.kind == "person"]
    assert people == [("Bashir Ahmed", "haji bashir ahmed")]  # "Haji" is no second man
    father = {e.key for e in extract(FATHER) if e.kind == "person"}
    assert "bashir ahmed" in father
    assert "haji bashir ahmed" not in father
    assert person_link(MUNSHI, AGENT)[0] == "haji bashir ahmed"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("بشیر احمد عرف حاجی نے لڑکے بھیجے۔", "haji bashir ahmed"),
        ("agent tariq mehmood urf chaudhry ne paise liye", "chaudhry tariq mehmood"),
        ("Bashir Ahmed alias Bashira took the boys.", "bashir ahmed"),  # a nickname, no title
    ],
)
def test_titles_and_nicknames_after_alias(text: str, key: str) -> None:
    assert key in [e.key for e in extract(text) if e.kind == "person"]


def _station_link(a: str, b: str) -> tuple[str, links.Strength]:
    return shared_link(a, b, "police_station")


DISTRICT_HQ = "I am a constable posted at Thana Saddar Okara; the SHO takes Rs 20,000 a family."
IN_THE_TOWN = {
    "en": "In Depalpur eleven families are chained on a landlord's land. Thana Saddar knows.",
    "ru": "depalpur wala rao 11 gharano ko qarzay me rakhta he. thana sadar ka sho uska banda he.",
    "ur": "دیپالپور میں گیارہ خاندان قید ہیں۔ تھانہ صدر کے ایس ایچ او ڈیرے پر کھاتے ہیں۔",
}


@pytest.mark.parametrize("register", sorted(IN_THE_TOWN))
def test_a_station_placed_by_its_town_is_not_surely_the_districts(register: str) -> None:
    # Depalpur, a tehsil of Okara, has a Thana Saddar of its own: a bare "Thana Saddar" in a
    # Depalpur story is keyed with Okara, and may be Okara's or Depalpur's.
    key, strength = _station_link(DISTRICT_HQ, IN_THE_TOWN[register])
    assert key == "saddar/okara"
    assert strength.level == links.WEAK
    assert "by a town" in strength.why


def test_a_station_its_reports_key_with_the_district_links_strongly() -> None:
    other = "At Thana Saddar Okara the munshi keeps the kiln owners' envelopes."
    assert _station_link(DISTRICT_HQ, other)[1].level == links.STRONG
