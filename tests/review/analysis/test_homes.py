"""A man a report places by his name ("ASI Rafiq Anjum of Multan") is that place's man.

The attack: two men of one name, an ASI posted in Multan and a kiln owner in Khanewal.
One source writes of the kiln and the thana that returns its runaways, in Khanewal;
another of the ASI "multan wala" who came to a Khanewal thana to take his cut. Both
reports are set in Khanewal and share the name, so before `review.analysis.homes` the
link counted as corroboration: the kiln owner looked like a corrupt ASI, or the ASI like
a kiln owner. The second source had said where its man was from.

And a second: a source writes of "my brother Abdul Wahid", a hari; another of "Naib
Risaldar Abdul Wahid" at a Levies checkpost, in a report that names the brother's
district among the places its boys come from. The writer's kin in one report and a man
in a post in the other were counted as one man.
"""

from __future__ import annotations

import pytest

from review.analysis import designations, links
from review.analysis.entities import Entity, extract
from tests.review.analysis.person_links import person_link

OWNER_REPORT = (
    "The kiln of Rafiq Anjum on the bypass keeps twelve families in debt. When a family "
    "ran, the moharrir of Thana Saddar Khanewal brought them back."
)
OFFICER_REPORTS = {
    "en": "ASI Rafiq Anjum of Multan came to Thana City Khanewal on 4 May and took Rs 50,000.",
    "ru": "thana city khanewal mein asi rafiq anjum multan wala aya aur agent se 50 hazar liye.",
    "ur": "ملتان کا اے ایس آئی رفیق انجم تھانہ سٹی خانیوال آیا اور ایجنٹ سے پچاس ہزار لیے۔",
}


def _link(a: str, b: str) -> links.Strength:
    return person_link(a, b)[1]


@pytest.mark.parametrize("register", sorted(OFFICER_REPORTS))
def test_an_officer_placed_elsewhere_is_not_the_man_of_his_name_here(register: str) -> None:
    strength = _link(OWNER_REPORT, OFFICER_REPORTS[register])
    assert strength.level == links.WEAK
    assert "places its man" in strength.why


def test_without_his_place_the_same_name_and_station_link_strongly() -> None:
    # The control: two reports of the ASI at one station link; placed in Multan by one of
    # them, the pair is weak for that. (A report that gives him no rank is weak anyway, and
    # one at another station of the district: `test_posts`.)
    here = "At Thana City Khanewal, ASI Rafiq Anjum took the kiln's money."
    unplaced = "ASI Rafiq Anjum came to Thana City Khanewal on 4 May and took Rs 50,000."
    assert _link(here, unplaced).level == links.STRONG
    assert "places its man" in _link(here, OFFICER_REPORTS["en"]).why


def test_an_officer_placed_where_the_other_report_goes_still_links() -> None:
    # Set in Khanewal as the officer's report is, and naming Multan, where it places him.
    other = "ASI Rafiq Anjum, who comes over from Multan, took the money at Thana City Khanewal."
    assert _link(other, OFFICER_REPORTS["en"]).level == links.STRONG


def test_an_agent_placed_at_home_still_meets_his_name_where_he_works() -> None:
    # Agents travel: "of Multan" says where he lives, not that the Khanewal report's agent
    # is another man.
    home = "Agent Rafiq Anjum of Multan came to Thana City Khanewal on 4 May."
    work = "The agent Rafiq Anjum paid the moharrir of Thana City Khanewal for the boys."
    assert _link(home, work).level == links.STRONG


def test_two_reports_placing_the_man_in_different_districts_keep_it_weak() -> None:
    a = "At Thana City Khanewal the agent Rafiq Anjum of Multan took the boys."
    b = "At Thana City Khanewal the agent Rafiq Anjum of Vehari took the girls."
    assert _link(a, b).level == links.WEAK


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        ("an agent, Qurban Ali of Usta Muhammad, took him", "of usta muhammad"),
        ("Nasir Ali from Kasur paid it", "of kasur"),
        ("Nasir Ali, SHO of Kasur, refused.", "SHO, of kasur"),
        ("ASI Bashir (Okara) came", "ASI, of okara"),
        ("asi nazeer ahmed larkana wala bhi", "ASI, of larkana"),
        ("okara ka sho aslam khan ne paise liye", "SHO, of okara"),
        ("Kasur's SHO Tariq Mehmood took it", "SHO, of kasur"),
        ("ملتان کا اے ایس آئی رفیق انجم آیا", "ASI, of multan"),
        ("complaints named Rafiq Anjum (Multan), Sajid Jhelum and others", "Named, of multan"),
        ("شکایتیں انہی ناموں پر: رفیق انجم ملتان، ساجد جہلم", "of multan"),
        ("shikayat rafiq anjum multan aur sajid ke khilaf thi", "of multan"),
        ("ASI Rafiq Anjum Multan mein tha", "ASI"),
        # Words between the name and the place that are not his rank: the story's place.
        ("Aslam took them from Kasur", None),
        ("ASI Aslam took them from Kasur", "ASI"),
        ("kasur ki larkiyan aslam ne bechi", None),
        ("Nasir Ali, who lives in Kasur, refused.", None),
        ("ASI Bashir (Okara police) came", "ASI"),
    ],
)
def test_the_places_written_onto_a_name(text: str, designation: str | None) -> None:
    people = [e for e in extract(text) if e.kind == "person"]
    assert people, text
    assert people[0].designation == designation  # the first named


def test_a_home_does_not_hide_the_rank_from_the_rank_rules() -> None:
    # "ASI, of larkana" and "SHO" are still ranks one man would not hold both.
    placed = designations.compose("ASI", home="larkana")
    assert placed == "ASI, of larkana"
    assert links.roles_conflict({placed}, {"SHO"})
    assert links.ranked(placed)
    assert designations.parse(placed) == designations.Designation("ASI", False, "larkana")
    assert designations.compose(None, home="larkana") == "of larkana"
    assert designations.parse("of larkana") == designations.Designation("", False, "larkana")
    assert designations.parse("ASI") == designations.Designation("ASI")
    both = designations.compose("ASI", namesake=True, home="jhelum")
    assert both == "ASI, another of this name, of jhelum"
    assert designations.parse(both) == designations.Designation("ASI", True, "jhelum")
    assert designations.compose(None) is None


def test_a_namesake_warning_keeps_the_place_written_onto_the_name() -> None:
    text = "Nasir Ali of Kasur is not the SHO, people confuse them."
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert person.designation == "another of this name, of kasur"


KIN_REPORTS = {
    "en": "My brother Abdul Wahid is a hari in Nasirabad; the landlord took his son for a debt.",
    "ru": "mera bhai abdul wahid nasirabad mein hari hai, zamindar ne uska beta le liya.",
    "ur": "میرا بھائی عبدالواحد نصیرآباد میں ہاری ہے، زمیندار نے اس کا بیٹا لے لیا۔",
}
POST_REPORT = (
    "Naib Risaldar Abdul Wahid takes a share from every coaster of boys from Nasirabad "
    "that passes his checkpost on the Quetta road."
)


@pytest.mark.parametrize("register", sorted(KIN_REPORTS))
def test_the_writers_kin_is_not_the_man_in_a_post(register: str) -> None:
    strength = _link(KIN_REPORTS[register], POST_REPORT)
    assert strength.level == links.WEAK
    assert "kin" in strength.why


def test_kin_who_holds_the_post_still_links() -> None:
    kin = "My uncle ASI Abdul Wahid at the Quetta road checkpost told me of the coasters."
    assert _link(kin, POST_REPORT.replace("Naib Risaldar", "ASI")).level == links.STRONG


def test_kin_and_a_trade_are_for_a_reviewer() -> None:
    # Families traffic their own: the writer's uncle may well be the agent another names,
    # or not; the uncle's report gives him no trade (rank against none, session 13).
    kin = "My uncle Rafiq Anjum took the boys from Khanewal to the agent in Quetta."
    agent = "The agent Rafiq Anjum of Khanewal keeps the boys' passports in Khanewal."
    strength = _link(kin, agent)
    assert strength.level == links.WEAK
    assert "none in the other" in strength.why


def test_kin_words_are_no_rank_group() -> None:
    assert "brother" in links.kin()
    assert "naib risaldar" in links.posts()
    assert "agent" not in links.posts()
    assert "brother" not in links.role_groups()
    assert not links.roles_conflict({"Brother"}, {"Agent"})


# A report of a Jhelum thana that writes its stations bare, naming no district but Jhelum
# and a town of it (Sohawa); and a report of a Kotli thana of the same bare name.
BARE_STATIONS = {
    "ur": (
        "میں تھانہ صدر میں کانسٹیبل ہوں۔ تھانہ سٹی کے اے ایس آئی رفیق انجم گھر والوں سے پیسے "
        "لیتے ہیں۔ ڈی پی او جہلم کے دفتر سے انکوائری آئی تو سب جھوٹ لکھا۔ سوہاوہ کے ایک بوڑھے "
        "کو حوالات میں ڈال دیا۔"
    ),
    "ru": (
        "main thana saddar mein constable hun. thana city ke asi rafiq anjum gharwalon se paise "
        "lete hain. dpo jhelum ke daftar se inquiry aayi to sab jhoot likha. sohawa ke ek "
        "buzurg ko hawalat mein daal diya."
    ),
}
KOTLI_REPORT = "Rafiq Anjum, who finds girls for Gulf jobs, sits at Thana City Kotli every Friday."


@pytest.mark.parametrize("register", sorted(BARE_STATIONS))
def test_a_bare_station_in_a_report_of_one_district_is_that_districts(register: str) -> None:
    text = BARE_STATIONS[register]
    assert "station:city/jhelum" in links.places((e.kind, e.key) for e in extract(text))
    # The attack: "Thana City" written bare was any district's Thana City, so the Jhelum
    # ASI and the Kotli man of his name were set at one station and linked strongly.
    assert _link(text, KOTLI_REPORT).level == links.WEAK


def test_a_bare_station_in_a_report_of_two_districts_stays_bare() -> None:
    two = (
        "The SHO of Thana City keeps the boys in the lock-up. They were brought from Okara; "
        "their families live in Kasur."
    )
    where = links.places((e.kind, e.key) for e in extract(two))
    assert "station:city" in where
    assert not any(p.startswith("station:city/") for p in where)


# A report names its ASI in full, then by a short form; another names an SHO by that form.
FULL_THEN_SHORT = (
    "ASI Rana Tariq Mehmood at Thana Saddar Sargodha sent the mother away. Later the same "
    "Rana Tariq sat in the agent's baithak."
)
SHO_SHORT = (
    "The SHO, Rana Tariq, takes the munshi's collection at Thana Saddar every month; the "
    "boys were from Jhang and Sargodha."
)


def test_a_short_form_carries_what_the_report_said_of_the_full_name() -> None:
    people = [(e.key, e.designation) for e in extract(FULL_THEN_SHORT) if e.kind == "person"]
    posted = "ASI, posted at saddar/sargodha"
    assert people == [("rana tariq mehmood", posted), ("rana tariq", posted)]
    # The attack: the short form had no rank, so it met the other report's SHO Rana Tariq,
    # set at a Thana Saddar in a report naming Sargodha, as one man: corroboration.
    strength = _link(FULL_THEN_SHORT, SHO_SHORT)
    assert strength.level == links.WEAK
    assert "ranks or trades" in strength.why


def test_carry_takes_one_full_names_parts_and_never_guesses_between_two() -> None:
    def people(*named: tuple[str, str | None]) -> list[Entity]:
        return [Entity("person", k, k, n, n + 1, d) for n, (k, d) in enumerate(named)]

    carried = designations.carry(
        people(
            ("malik zafar iqbal", "Assistant Director, another of this name"),
            ("malik zafar", None),
            ("zafar", "of khushab"),
        ),
        links.short_form,
        links.telling,
    )
    assert [e.designation for e in carried] == [
        "Assistant Director, another of this name",
        "Assistant Director, another of this name",
        "of khushab",  # a given name alone is no short form (`links.given_name`)
    ]
    two = designations.carry(
        people(
            ("tariq mehmood butt", "ASI"), ("tariq mehmood awan", "SHO"), ("tariq mehmood", None)
        ),
        links.short_form,
        links.telling,
    )
    assert two[2].designation is None
    named = designations.carry(
        people(("arif jadoon", "Named"), ("jadoon", None)), links.short_form, links.telling
    )
    assert named[1].designation is None  # "named" is no rank to carry


def test_a_place_far_from_the_name_is_never_tried_as_its_home() -> None:
    # The shapes are tight; a gap of any length (a run of blanks a hostile text puts
    # between a name and a place) is not searched, so the pass stays linear.
    (person,) = [e for e in extract("ASI Aslam Khan" + " " * 60 + "of Kasur") if e.kind == "person"]
    assert person.designation == "ASI"
    (near,) = [e for e in extract("ASI Aslam Khan of Kasur") if e.kind == "person"]
    assert near.designation == "ASI, of kasur"


# The attack (heldout29.txt, session 12): an ASI of Digri police station and an ASI of
# Kunri police station, one name, each in a report that also names Thana Saddar
# Mirpurkhas, were one man: the station said before each man's rank was the report's.
DIGRI_ASI = (
    "At Digri police station ASI Nisar Ahmed refused to register the case and sent the "
    "father to Thana Saddar Mirpurkhas."
)
KUNRI_ASI = {
    "en": "Field notes from Mirpurkhas and Umerkot: at Thana Saddar Mirpurkhas the broker still "
    "pays. At Kunri police station ASI Nisar Ahmed released the hari once the munshi paid.",
    "ru": "thana saddar mirpurkhas wale phir paise le rahe. thana kunri ka asi nisar ahmed "
    "munshi se paise le kar hari ko chhorta hai.",
    "ur": "تھانہ صدر میرپورخاص والے پھر پیسے لے رہے ہیں۔ تھانہ کنری کا اے ایس آئی نثار احمد منشی "
    "سے پیسے لے کر ہاری کو چھوڑتا ہے۔",
}


@pytest.mark.parametrize("register", sorted(KUNRI_ASI))
def test_an_officer_placed_by_his_station_is_that_stations_man(register: str) -> None:
    key, strength = person_link(DIGRI_ASI, KUNRI_ASI[register])
    assert key == "nisar ahmed"
    assert strength.level == links.WEAK
    assert "places its man where the other is not" in strength.why


def test_an_officer_placed_by_his_station_meets_his_name_at_it() -> None:
    other = "ASI Nisar Ahmed of Digri police station took Rs 20,000 from the broker."
    assert _link(DIGRI_ASI, other).level == links.STRONG


@pytest.mark.parametrize(
    ("text", "designation"),
    [
        (
            "At Kunri police station ASI Nisar Ahmed released him.",
            "ASI, of umerkot, posted at kunri/umerkot",
        ),
        (
            "thana saddar okara ka sho aslam paisay leta hai",
            "SHO, of okara, posted at saddar/okara",
        ),
        # not his rank between: the station is where the agent went, not his post
        ("Thana Saddar Okara se agent Bashir Ahmed ne paisay liye", "Agent"),
    ],
)
def test_a_station_right_before_the_rank(text: str, designation: str) -> None:
    (person,) = [e for e in extract(text) if e.kind == "person"]
    assert person.designation == designation
