"""A short form of a name in one report and the full name in another: linked, and how strongly."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from review.analysis import links
from review.analysis.entities import extract
from review.analysis.links import CONFIRMED, STRONG, WEAK, Evidence, Named
from tests.review.analysis.person_links import corpus_of, person_evidence
from tests.review.analysis.person_links import people as _people
from tests.review.corpus import heldout


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("chandio", "mumtaz ali chandio"),  # the surname alone
        ("mumtaz chandio", "mumtaz ali chandio"),  # given name and surname
        ("haji bashir", "haji bashir ahmed"),  # title and given name
        ("rana naveed", "rana naveed anjum"),
        ("soomro", "ghulam mustafa soomro"),
        ("abdul ~kl", "haji abdul ~kl"),
    ],
)
def test_a_short_form_of_a_full_name(short: str, full: str) -> None:
    assert links.short_form(short, full)


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("khan", "sher khan"),  # a common word says nothing
        ("muhammad", "muhammad aslam"),
        ("haji", "haji bashir ahmed"),  # a title alone
        ("mumtaz", "mumtaz ali chandio"),  # a given name alone: anyone of that name
        ("chandio mumtaz", "mumtaz ali chandio"),  # out of order
        ("ali chandio", "mumtaz chandio"),  # a word the full name lacks
        ("mumtaz ali chandio", "mumtaz ali chandio"),  # the same name: an exact key
        ("bashir ahmed", "haji bashir ahmed khan"),  # neither its surname nor its start
    ],
)
def test_not_a_short_form(short: str, full: str) -> None:
    assert not links.short_form(short, full)


def _levels(texts: dict[int, str]) -> dict[tuple[int, int, str, str], str]:
    people, where = _people(texts)
    out = {}
    for a, b, evidence in links.short_form_links(people, where):
        short, _, full = evidence.key.partition(" < ")
        out[(a, b, short, full)] = evidence.strength.level
    return out


def test_a_surname_links_strongly_to_the_full_name_at_the_same_station_and_rank() -> None:
    levels = _levels(
        {
            1: "Mumtaz Ali Chandio SHO of Thana Saddar, Badin, took the money.",
            2: "Chandio SHO of Thana Saddar Badin sent the haris back.",
            3: "ایس ایچ او چانڈیو تھانہ صدر بدین میں ہے۔",
        }
    )
    assert levels[(2, 1, "chandio", "mumtaz ali chandio")] == STRONG
    assert levels[(3, 1, "chandio", "mumtaz ali chandio")] == STRONG


def test_a_short_form_under_another_rank_is_weak_and_elsewhere_no_link() -> None:
    levels = _levels(
        {
            1: "Mumtaz Ali Chandio SHO of Thana Saddar, Badin, took the money.",
            2: "In Larkana, Chandio SHO of Thana Saddar Larkana took money too.",
            3: "ASI Chandio of Thana Saddar Badin wrote the FIR.",
            4: "A man called Chandio came from Badin.",
            5: "A man called Chandio came.",  # set nowhere
        }
    )
    assert (2, 1, "chandio", "mumtaz ali chandio") not in levels  # another district
    assert levels[(3, 1, "chandio", "mumtaz ali chandio")] == WEAK  # ASI is not SHO
    assert levels[(4, 1, "chandio", "mumtaz ali chandio")] == WEAK  # no rank to compare
    assert not any(a == 5 for a, *_ in levels)


def test_a_short_form_that_two_full_names_there_could_be_is_weak() -> None:
    levels = _levels(
        {
            1: "Mumtaz Ali Chandio SHO of Thana Saddar, Badin, took the money.",
            2: "Nawaz Chandio SHO of Thana Saddar, Badin, before him, did the same.",
            3: "Chandio SHO of Thana Saddar Badin sent the haris back.",
        }
    )
    assert levels[(3, 1, "chandio", "mumtaz ali chandio")] == WEAK
    assert levels[(3, 2, "chandio", "nawaz chandio")] == WEAK


def test_a_short_form_of_a_common_name_never_counts_by_itself() -> None:
    levels = _levels(
        {
            1: "ASI Muhammad Aslam of Thana Saddar, Sargodha, took Rs 5,000.",
            2: "ASI Aslam of Thana Saddar, Sargodha, took it again.",
        }
    )
    assert levels[(2, 1, "aslam", "muhammad aslam")] == WEAK  # "Muhammad Aslam" is anyone


def test_two_people_of_one_common_name_never_link_by_a_short_form() -> None:
    people, where = _people(
        {
            1: "SHO Muhammad Aslam of Thana Saddar, Sargodha, took Rs 50,000.",
            2: "The sub-agent Muhammad Aslam of Dina sends boys to Libya.",
        }
    )
    assert links.short_form_links(people, where) == []  # one key: an exact link, not a short


def test_a_weak_short_form_link_is_no_corroboration_until_a_reviewer_confirms_it() -> None:
    people, where = _people(
        {
            1: "Mumtaz Ali Chandio SHO of Thana Saddar, Badin, took the money.",
            2: "A man called Chandio came from Badin.",  # no rank to compare
        }
    )
    ((a, b, evidence),) = links.short_form_links(people, where)
    assert (a, b, evidence.key) == (2, 1, "chandio < mumtaz ali chandio")
    assert evidence.written == {2: ("Chandio",), 1: ("Mumtaz Ali Chandio",)}
    assert evidence.strength.level == WEAK
    assert not evidence.counts
    assert evidence.state == WEAK
    confirmed = Evidence("person", evidence.key, evidence.strength, evidence.written, CONFIRMED)
    assert confirmed.counts
    assert not Evidence("person", evidence.key, evidence.strength, {}, links.REJECTED).counts


def test_a_short_form_in_a_report_that_gives_the_full_name_it_shortens_is_that_name() -> None:
    levels = _levels(
        {
            1: "Mumtaz Ali Chandio SHO of Thana Saddar, Badin, took the money.",
            2: "ASI Nawaz Chandio of Thana Saddar Badin wrote nothing. Chandio laughed.",
        }
    )
    assert not any(short == "chandio" and a == 2 for a, _b, short, _f in levels)


@pytest.mark.parametrize("name", ["heldout.txt", "heldout2.txt", "heldout3.txt"])
def test_short_form_links_on_the_development_corpora_are_never_false_and_strong(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Development sets only: heldout4.txt, the blind corpus, is never read here.
    reports = heldout.load(Path(heldout.__file__).with_name(name))
    people: dict[int, list[Named]] = {}
    where: dict[int, frozenset[str]] = {}
    ids: dict[tuple[int, str], set[str]] = defaultdict(set)  # (report, key): gold ids
    for num, report in enumerate(reports):
        pairs = heldout._match(report, extract(report.text))
        roles: dict[str, set[str]] = defaultdict(set)
        for entity, gold in pairs:
            if entity.kind == "person":
                roles[entity.key].update([entity.designation] if entity.designation else [])
                ids[(num, entity.key)].update([gold.ident] if gold is not None else [])
        people[num] = [Named(k, tuple(sorted(r))) for k, r in roles.items()]
        where[num] = links.places((e.kind, e.key) for e, _ in pairs)
    tally: Counter[str] = Counter()
    for a, b, evidence in links.short_form_links(people, where):
        short, _, full = evidence.key.partition(" < ")
        right = bool(ids[(a, short)] & ids[(b, full)])
        tally[f"{'right' if right else 'false'} {evidence.strength.level}"] += 1
    with capsys.disabled():
        print(f"\nshort-form links on {name}: {dict(sorted(tally.items()))}")
    assert tally["false strong"] == 0
    assert tally["right strong"] + tally["right weak"] > tally["false weak"]


@pytest.mark.parametrize(
    ("short", "full", "given"),
    [
        ("mumtaz", "mumtaz ali chandio", True),
        ("ramzan", "ramzan khaskheli", True),
        ("chandio", "mumtaz ali chandio", False),  # a surname: a short form, not a given name
        ("muhammad", "muhammad aslam", False),  # a common word says nothing
        ("haji", "haji bashir ahmed", False),  # a title
        ("ali", "mumtaz ali chandio", False),  # not the first word
        ("mumtaz", "mumtaz", False),  # the same name
        # a pet form: the name's first sounds, two consonants or more
        ("zulfi", "zulfiqar ali", True),
        ("~sj", "sajjad baloch", True),  # "Sajju", unknown to the lists, keyed by its sounds
        ("~sk", "shaukat butt", True),  # "Shoki"
        ("~s", "saleem akhtar", False),  # one consonant says nothing
        ("~mh", "muhammad aslam", False),  # a common name's pet form is anyone's
        ("~nd", "aslam khan", False),
        # a pet form with the rest of the name as written in full: "Shoki Butt", "Zulfi Khosa"
        ("~sk butt", "shaukat butt", True),
        ("zulfi khosa", "zulfiqar ali khosa", False),  # a word left out too: no pet form alone
        ("zulfi khosa", "zulfiqar khosa", True),
        ("~sk butt", "shaukat gill", False),  # another surname: another man
        ("~mh butt", "muhammad butt", False),  # a common name's pet form is anyone's
        # the given name and a byname in place of the surname: "Naveed Pardesi", "Aslam Pehlwan"
        ("naveed ~prds", "naveed mirza", True),
        ("aslam ~pln", "aslam butt", True),
        ("aslam ~pln", "khalid aslam", False),  # his given name is not the other's
        ("aslam butt", "aslam mirza", False),  # a surname is no byname
        ("muhammad ~prds", "muhammad aslam", False),  # a common name and a byname: anyone
    ],
)
def test_a_given_name_alone(short: str, full: str, *, given: bool) -> None:
    assert links.given_name(short, full) is given


def test_a_given_name_alone_links_weakly_and_only_at_the_same_place() -> None:
    levels = _levels(
        {
            1: "Mumtaz Ali Chandio, an agent in Larkana, took the passports.",
            2: "In Larkana, Mumtaz took Rs 200,000 for the visa.",
            3: "In Gujrat, Mumtaz the agent sent boys to Libya.",
            4: "In Larkana, Mumtaz Ali Chandio gave his card; Mumtaz lied.",
        }
    )
    assert levels[(2, 1, "mumtaz", "mumtaz ali chandio")] == WEAK  # never strong
    assert not any(a == 3 for a, *_ in levels)  # another district: no link at all
    assert not any(a == 4 and s == "mumtaz" for a, _b, s, _f in levels)  # its own full name


def _wings(texts: dict[int, str]) -> dict[tuple[int, int], str]:
    found = {num: extract(text) for num, text in texts.items()}
    agencies = {
        num: {e.key: (e.text,) for e in es if e.kind == "agency"} for num, es in found.items()
    }
    where = {num: links.places((e.kind, e.key) for e in es) for num, es in found.items()}
    out = {}
    for a, b, evidence in links.wing_links(agencies, where):
        assert evidence.strength.level == links.CONTEXT  # an agency never corroborates
        assert not evidence.counts
        out[(a, b)] = evidence.key
    return out


def test_a_bare_agency_meets_its_one_wing_in_the_same_district_as_context() -> None:
    wings = _wings(
        {
            1: "The FIA Anti-Human Trafficking Circle in Sukkur took the case.",
            2: "In Sukkur the FIA did nothing for us.",
            3: "In Rawalpindi the FIA did nothing for us.",  # another city's circle
        }
    )
    assert wings == {(2, 1): "federal investigation agency < anti-human trafficking circle"}


def test_a_bare_agency_where_two_of_its_wings_are_named_meets_neither() -> None:
    wings = _wings(
        {
            1: "The FIA Anti-Human Trafficking Circle in Sukkur took the case.",
            2: "FIA Immigration at Sukkur airport let them fly.",
            3: "In Sukkur the FIA did nothing for us.",
        }
    )
    assert wings == {}


def test_a_wing_in_lower_case_roman_urdu_is_the_wing() -> None:
    (agency,) = [e for e in extract("airport pe fia immigration ka banda") if e.kind == "agency"]
    assert (agency.text, agency.key) == ("fia immigration", "fia immigration")


def test_a_short_form_that_many_names_there_could_be_links_to_none() -> None:
    given = ["Mumtaz", "Nawaz", "Sikandar", "Qadir", "Rasool"][: links.MOST_NAMES + 1]
    texts = {n: f"{g} Chandio of Thana Saddar, Badin, came." for n, g in enumerate(given)}
    texts[99] = "Chandio of Thana Saddar, Badin, took the money."
    assert not any(a == 99 for a, *_ in _levels(texts))
    del texts[0]  # one name fewer: each is a weak candidate
    levels = _levels(texts)
    assert {b for a, b, *_ in levels if a == 99} == set(texts) - {99}
    assert {level for (a, *_), level in levels.items() if a == 99} == {WEAK}


def test_a_name_with_and_without_its_title_links_as_a_short_form_would() -> None:
    texts = {
        1: "Chaudhry Manzoor Hussain, the kiln owner, keeps us at Thana Saddar, Sargodha.",
        2: "Manzoor Hussain kiln owner of Thana Saddar Sargodha took our CNICs.",
        3: "ASI Manzoor Hussain of Thana Saddar, Sargodha, wrote no FIR.",
        4: "Chaudhry Manzoor of Thana Saddar, Sargodha, sent his munshi.",
    }
    levels = _levels(texts)
    # one man: the title written in one report only, one station, one trade, no other
    # name there it could be
    assert levels[(2, 1, "manzoor hussain", "chaudhry manzoor hussain")] == STRONG
    # an ASI of the name: linked for the reviewer to see, never counted
    assert levels[(3, 1, "manzoor hussain", "chaudhry manzoor hussain")] == WEAK
    # the given name with the title, the full name without: weak, at one place only
    assert levels[(4, 2, "chaudhry manzoor", "manzoor hussain")] == WEAK
    # a Rana of the name at that station too: either could be meant; and no Chaudhry is him
    texts[5] = "Rana Manzoor Hussain, the kiln owner, of Thana Saddar, Sargodha, beat us."
    levels = _levels(texts)
    assert levels[(2, 1, "manzoor hussain", "chaudhry manzoor hussain")] == WEAK
    assert levels[(2, 5, "manzoor hussain", "rana manzoor hussain")] == WEAK
    assert not any(a == 4 and b == 5 for a, b, *_names in levels)


def test_a_short_form_with_the_surname_links_weakly_to_the_full_name_set_elsewhere() -> None:
    levels = _levels(
        {
            1: "The agent Rana Zafar Iqbal Cheema keeps his office in Gujranwala.",
            2: "In Dubai the agent Zafar Cheema took our passports.",
            3: "Ghulam Rasool Langah SHO of Thana Saddar, Muzaffargarh, took the money.",
            4: "My cousin Ghulam Rasool went to Libya.",
            5: "Haji Allah Ditta Bhatti owns the kiln near Multan.",
            6: "Allah Ditta sent the boys.",
        }
    )
    # its given name and surname: as telling as a full name's own key, so linked, weakly
    assert levels[(2, 1, "zafar cheema", "rana zafar iqbal cheema")] == WEAK
    # given names alone ("Ghulam Rasool", "Allah Ditta") are many men's: only at one place
    assert not any(a in (4, 6) for a, *_ in levels)


def test_a_title_that_says_nothing_of_a_family_makes_no_short_form_link_set_elsewhere() -> None:
    levels = _levels(
        {
            1: "Haji Sikandar Mengal took our money at Quetta.",
            2: "Sikandar Mengal was in Karachi that day.",
            3: "Sardar Sikandar Mengal lives in Kalat.",
        }
    )
    # a pilgrim's title in one, none in the other, no place shared: no link
    assert not any({a, b} == {1, 2} for a, b, *_ in levels)
    # a family's title ("Sardar") left out: the name itself, linked weakly
    assert levels[(2, 3, "sikandar mengal", "sardar sikandar mengal")] == WEAK


def test_a_title_and_given_name_meets_its_one_full_name_anywhere_weakly() -> None:
    texts = {
        1: "The agent Rana Shahbaz Kharal took our money in Okara.",
        2: "Rana Shahbaz sent the boys from Sialkot.",
        3: "In Muscat, Shahbaz Kharal met them at the airport.",
    }
    levels = _levels(texts)
    # the title and given name, the full name, and its given name and surname: one man
    assert levels[(2, 1, "rana shahbaz", "rana shahbaz kharal")] == WEAK
    assert levels[(2, 3, "rana shahbaz", "shahbaz kharal")] == WEAK
    # a second full name under that title and given name: either could be meant, none is
    texts[4] = "Rana Shahbaz Ahmed Tarar runs the kiln near Hafizabad."
    assert not any(a == 2 and b != 4 for a, b, *_ in _levels(texts))


def test_a_pilgrim_s_title_and_given_name_meets_no_full_name_set_elsewhere() -> None:
    levels = _levels(
        {
            1: "Haji Shahbaz Kharal owns the coaches in Okara.",
            2: "Haji Shahbaz took the passports in Sialkot.",
        }
    )
    assert not any(a == 2 for a, *_ in levels)  # any pilgrim named Shahbaz


def test_a_pet_form_links_weakly_to_the_full_name_at_the_same_place_only() -> None:
    levels = _levels(
        {
            1: "SHO Zulfiqar Ali of Thana Saddar, Okara, took the money.",
            2: "Zulfi SHO of Thana Saddar Okara sent us away.",
            3: "In Gujrat a man called Zulfi sold tickets.",
        }
    )
    assert levels[(2, 1, "zulfi", "zulfiqar ali")] == WEAK
    assert not any(a == 3 for a, *_ in levels)


def test_a_short_form_with_a_title_its_report_s_full_name_lacks_is_another_man() -> None:
    # The writer is "Muhammad Rafiq", his son went with "Haji Rafiq": two men of one given
    # name in one report; the pilgrim meets the full name with his title in another report.
    levels = _levels(
        {
            1: "Haji Rafiq Bhatti, an agent in Okara, took the passports.",
            2: "Mera naam Rafiq Anjum hai, Okara se. Mere bete ko Haji Rafiq le gaya.",
            3: "In Okara, Haji Rafiq Bhatti came at night; Haji Rafiq lied, Rafiq laughed.",
        }
    )
    assert (2, 1, "haji rafiq", "haji rafiq bhatti") in levels
    # its own full name, with the title or without it
    assert not any(a == 3 and s in ("haji rafiq", "rafiq") for a, _b, s, _f in levels)


def test_a_given_name_and_a_byname_links_weakly_to_the_full_name_at_the_same_place() -> None:
    levels = _levels(
        {
            1: "The agent Shahid Mehmood of Sialkot keeps the passports.",
            2: "Shahid Pardesi of Sialkot sent my son to Greece; his man took Rs 900,000.",
            3: "ایجنٹ شاہد پردیسی نے سیالکوٹ میں پیسے لیے۔",
            4: "In Gujrat, Shahid Pardesi is said to be in Dubai.",
        }
    )
    assert levels[(2, 1, "shahid ~prds", "shahid mehmood")] == WEAK
    assert levels[(3, 1, "shahid ~prds", "shahid mehmood")] == WEAK
    assert not any(a == 4 for a, *_ in levels)  # another district: no link at all


@pytest.mark.parametrize(
    ("short", "full"),
    [
        # Muhammad written where the other name gives another given name: two names, not
        # one left short ("muhammad aslam gondal" was read as "aslam gondal" of Mehboob's).
        ("muhammad aslam gondal", "mehboob aslam gondal"),
        ("muhammad tariq", "ghulam tariq"),
        ("muhammad aslam gondal", "ghulam rasool aslam gondal"),
    ],
)
def test_muhammad_is_no_short_form_of_another_given_name(short: str, full: str) -> None:
    assert not links.short_form(short, full), "two given names read as one name written short"


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("aslam gondal", "muhammad aslam gondal"),  # Muhammad left out
        ("naveed anjum", "muhammad naveed anjum"),
        ("warraich", "muhammad aslam warraich"),
        ("tariq mehmood", "muhammad tariq mehmood"),
    ],
)
def test_a_name_written_without_its_muhammad_is_still_its_short_form(short: str, full: str) -> None:
    assert links.short_form(short, full)


def test_an_sho_muhammad_and_an_sho_mehboob_of_one_station_do_not_corroborate() -> None:
    texts = {
        1: "SHO Mehboob Aslam Gondal of Thana Saddar Kasur took Rs 50,000 from the kiln owner.",
        2: "SHO Muhammad Aslam Gondal of Thana Saddar Kasur beat the labourers at night.",
    }
    assert not [key for (*_, key) in _levels(texts)], "two SHOs linked as one name written short"


MEHBOOB = "SHO Mehboob Aslam Gondal of Thana Saddar Kasur took Rs 50,000 from the kiln owner."
MUHAMMAD = "SHO Muhammad Aslam Gondal of Thana Saddar Kasur beat the labourers at night."
INITIAL = "At Thana Saddar Kasur, SHO M. Aslam Gondal sent two girls back to the kiln."


def test_an_initial_another_name_here_begins_with_too_links_weakly() -> None:
    # "M." is read as Muhammad; where the archive holds a Mehboob Aslam Gondal of the
    # station too, the initial does not say which SHO it means.
    corpus = corpus_of([MEHBOOB, MUHAMMAD, INITIAL])
    evidence = person_evidence(corpus, 3, 2, "muhammad aslam gondal")
    assert evidence.strength.level == WEAK, "an initial counted as Muhammad's corroboration"
    assert "an initial" in evidence.strength.why
    (muhammad,) = corpus.lookup("Muhammad Aslam Gondal", "person")
    assert muhammad.corroborating == 1


def test_an_initial_no_other_name_here_begins_with_still_links_strongly() -> None:
    corpus = corpus_of([MUHAMMAD, INITIAL])
    assert person_evidence(corpus, 2, 1, "muhammad aslam gondal").strength.level == STRONG
    # Two reports writing the name in full still join, whoever else is named.
    both = corpus_of([MEHBOOB, MUHAMMAD, MUHAMMAD.replace("beat", "robbed")])
    assert person_evidence(both, 3, 2, "muhammad aslam gondal").strength.level == STRONG


@pytest.mark.parametrize("short", ["Mohd.", "Muhd.", "Mohd", "Md."])
def test_muhammad_abbreviated_with_a_full_stop_is_the_whole_name(short: str) -> None:
    abbreviated = f"At Thana Saddar Kasur, SHO {short} Aslam Gondal sent two girls back."
    corpus = corpus_of([MUHAMMAD, abbreviated])
    # The attack: "Mohd." ended the name, so the SHO was "muhammad" and a bare "Aslam
    # Gondal" with no rank: the same SHO, written as records write him, not linked.
    assert person_evidence(corpus, 2, 1, "muhammad aslam gondal").strength.level == STRONG


def test_an_abbreviated_muhammad_is_no_initial_of_another_m_name() -> None:
    abbreviated = "At Thana Saddar Kasur, SHO Mohd. Aslam Gondal sent two girls back."
    corpus = corpus_of([MEHBOOB, abbreviated])
    people = [e for e in corpus.related(2).links[1].evidence if e.kind == "person"]
    assert not people, "Mohd. read as any name beginning with M"
