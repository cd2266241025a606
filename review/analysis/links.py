"""Links between reports: the shared entities behind each, how strong each is, reviewers' word.

A link between two reports is made of the entity keys they share. Each key is
strong (a CNIC, a phone number, a vehicle; a person's name of two or more words
that is not a common name; a police station keyed with its district,
`<station>/<district>`) or weak (a one-word name, a name made only of the
common name words in `data/common_names.txt`, a station without its district, a
reference number: an FIR's, a case's or an account's, never a CNIC).
A district, an agency or a date is context: it never links two reports alone.
Between two particular reports a strong name is weak unless they are set in the
same place (a police station both name, or a district; when a report names a
police station, the station and its district are where it is set), and weak when
the two reports give the name ranks or trades that one person would not hold in
both ("ASI Tariq Mehmood" and "SHO Tariq Mehmood"; `data/roles.txt`), or when the
reports place the man apart by the place written onto his name ("ASI Nazir, larkana
wala" against a report set where Larkana is not named; `review.analysis.homes`), or
give him different fathers ("s/o Gul Khan", "s/o Sher Ali"; `review.analysis.parentage`) or
different CNICs or phone numbers (`review.analysis.numbers`), or
one names him as the writer's kin and the other gives him a post ("my brother Abdul
Wahid", "Naib Risaldar Abdul Wahid"), or one report gives him a rank or trade and the
other none, or one names him as the writer's kin and the other bare, or neither gives a
rank and no word of the name tells a man apart ("Allah Ditta"), or the reports are set
at different police stations and do not give him one trade that travels (an agent's);
or a report names five police stations or more (a roundup); see `pair_strength`.
A short form of a name in one report ("Chandio", "Soomro SHO"; or the name without the
title or the "Muhammad" the other writes: "Manzoor Hussain", "Ch. Aslam") and the full
name in another ("Mumtaz Ali Chandio", "Chaudhry Manzoor Hussain") make a link of their
own (`short_form_links`), strong only with the same place and rank and no other full
name there it could be; two families' titles ("Rana Tariq", "Malik Tariq") never meet.
A weak key counts as corroboration between two reports only once a reviewer
confirms it for that pair; a rejected one never counts again. Decisions are
sealed records in `link_decisions`, one per pair and key, audited by the caller.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

from review.analysis import designations
from review.analysis.entity_names import OPEN_A, common_words, given_words, sound, titles
from review.analysis.entity_text import towns
from review.workspace import Unlocked
from review.workspace.search import normalize

# Words every city's quarters share ("Usman Colony", "Zaman Town", "Yousuf Goth"), as
# station keys write them: a station keyed by these alone ("colony/karachi", when the
# word that told the quarter was missed) could be any of a city's many. ("Market" is
# Hyderabad's Market police station's whole name, and left out.) So is "site" alone: Karachi's
# trading estate has SITE-A, SITE-B and SITE Super Highway stations, and Hyderabad and Kotri
# have estates of the name too; and "kot" or "kotla" ("fort") alone, the rest of a name
# like Mughal Kot or Kot Jai lost.
QUARTERS_WORDS: Final = frozenset(
    (
        *("colony", "town", "goth", "bazar", "bazaar", "road", "nagar", "park"),
        *("bagh", "ganj", "garden", "gate", "chowk", "square", "extension", "plaza"),
        *("quarters", "abad", "lines", "site", "kot", "kotla"),
    )
)
STRONG: Final = "strong"
WEAK: Final = "weak"
CONTEXT: Final = "context"
CONFIRMED: Final = "confirmed"
REJECTED: Final = "rejected"
DECISIONS: Final = (CONFIRMED, REJECTED)
# The kind a reviewer's word on two reports being one writer is kept under (`writers`):
# confirmed, one writer; rejected, two.
WRITER: Final = "writer"
# A police station's designation when its report names its district only by a town in it
# ("district from the town depalpur"; `entities`): a link on its key is weak.
TOWN_STATION: Final = "district from the town"
PLACED_STATION: Final = "district from the report, which names several"

_STRONG_KINDS: Final = {
    "cnic": "a CNIC",
    "phone": "a phone number",
    "vehicle": "a vehicle registration",
}
_CONTEXT_KINDS: Final = {
    "district": "a district alone",
    "agency": "an agency alone",
    "date": "a date alone",
}

# One reviewer decision's identity: the pair of reports (lower first), the kind and the key.
Ident = tuple[int, int, str, str]


@dataclass(frozen=True)
class Strength:
    """How much a shared key says that two reports name the same thing, and why."""

    level: str  # strong, weak or context
    why: str


def strength(kind: str, key: str) -> Strength:
    """How strong a link on this key is, by its kind and form alone."""
    if kind in _STRONG_KINDS:
        return Strength(STRONG, _STRONG_KINDS[kind])
    if kind in _CONTEXT_KINDS:
        return Strength(CONTEXT, _CONTEXT_KINDS[kind])
    if kind == "reference":
        # An FIR's or an account's number may be the source's own or the agent's: a reviewer
        # reads whose before it corroborates, and it is never a man's CNIC.
        return Strength(WEAK, "a reference number (an FIR's, a case's, an account's)")
    if kind == "police_station":
        station, _, district = key.partition("/")
        if _quarters_only(key):
            why = "a police station named only by words every city's quarters share"
            return Strength(WEAK, why)
        if station.strip() and district.strip():
            return Strength(STRONG, "a police station with its district")
        return Strength(WEAK, "a police station without its district")
    if kind == "person":
        words = key.split()
        if len(words) < 2:
            return Strength(WEAK, "a one-word name")
        if all(w in common_words() for w in words):
            return Strength(WEAK, "a common name")
        return Strength(STRONG, "a name of two or more words, not a common one")
    return Strength(WEAK, f"a {kind}")


@functools.cache
def role_groups() -> dict[str, frozenset[int]]:
    """Each designation (folded) to the groups of compatible ones it belongs to (`roles.txt`)."""
    groups: dict[str, set[int]] = defaultdict(set)
    for n, (line, tag) in enumerate(_role_lines()):
        if tag != _KIN:
            for role in line.split("|"):
                groups[normalize(role)].add(n)
    return {role: frozenset(g) for role, g in groups.items()}


@functools.cache
def posts() -> frozenset[str]:
    """Designations (folded) that are posts held at a place (`roles.txt`, "[post]")."""
    return _tagged(_POST)


@functools.cache
def kin() -> frozenset[str]:
    """Designations (folded) that are a tie to the writer (`roles.txt`, "[kin]")."""
    return _tagged(_KIN)


_POST: Final = "[post]"
_KIN: Final = "[kin]"


def _tagged(tag: str) -> frozenset[str]:
    return frozenset(normalize(r) for line, t in _role_lines() if t == tag for r in line.split("|"))


def _role_lines() -> list[tuple[str, str | None]]:
    text = resources.files("review").joinpath("data", "roles.txt").read_text("utf-8")
    out: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            tag = next((t for t in (_POST, _KIN) if line.rstrip().endswith(t)), None)
            out.append((line.rstrip().removesuffix(tag or "").strip(), tag))
    return out


def roles_conflict(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether two sets of designations of one name cannot be one man's (ASI and SHO; agent, ASI).

    Designations that are no rank or trade (kinship, "named") say nothing; nor does a side
    with no rank at all.
    """
    a, b = _groups(roles_a), _groups(roles_b)
    return bool(a and b) and not any(x & y for x in a for y in b)


def _groups(roles: Iterable[str]) -> list[frozenset[int]]:
    """The groups of compatible designations each known one of these belongs to."""
    known = role_groups()
    ranks = (_rank(role) for role in roles)
    return [known[r] for r in ranks if r in known]


def _rank(designation: str) -> str:
    """The rank or trade of a designation, folded ("asi" of "ASI, of larkana")."""
    return normalize(designations.parse(designation).rank)


def ranked(designation: str) -> bool:
    """Whether a designation is a rank or trade (`roles.txt`), not kinship or "named"."""
    return _rank(designation) in role_groups()


def _home_places(roles: Iterable[str]) -> frozenset[str]:
    """The places written onto a report's man's name: districts, towns, localities."""
    return frozenset(normalize(place) for role in roles if (place := designations.parse(role).home))


def _homes(roles: Iterable[str]) -> frozenset[str]:
    """The districts a report places its man in, by the places written onto his name."""
    found = _home_places(roles)
    return frozenset(f"district:{d}" for p in found for d in (p, towns().get(p)) if d)


def _home_towns(roles: Iterable[str]) -> frozenset[str]:
    """The towns (`data/towns.txt`, localities) written onto a report's man's name."""
    return frozenset(p for p in _home_places(roles) if p in towns())


def _towns_apart(
    roles_a: Iterable[str],
    places_a: frozenset[str],
    roles_b: Iterable[str],
    places_b: frozenset[str],
) -> bool:
    """Whether two reports place their men of one name in two towns of one district, each
    report naming only its own: "the agent of Serai Naurang" is not "Pezu's agent" of the
    same name, though both towns are Lakki Marwat's. A report that names the other's town
    too ties the two ("the agent of Jauharabad who takes boys from Quaidabad"), and a town
    may lie within another's tehsil (Mandra, Gujar Khan), so then nothing tells them apart."""
    towns_a, towns_b = _home_towns(roles_a), _home_towns(roles_b)
    if not towns_a or not towns_b or towns_a & towns_b:
        return False
    named_a, named_b = _local(places_a), _local(places_b)
    return not any(f"town:{t}" in named_b for t in towns_a) and not any(
        f"town:{t}" in named_a for t in towns_b
    )


def _warned(roles: Iterable[str], others: Iterable[str]) -> bool:
    """Whether a report's source says another man bears the name (`namesakes`), and the
    other report does not give him the rank this one keeps beside the warning: "SHO
    Ghulam Rasool, not the ASI" meets another report's SHO Ghulam Rasool, not its
    Ghulam Rasool with no rank, who may be the other man."""
    said = [designations.parse(role) for role in roles]
    if not any(d.namesake for d in said):
        return False
    kept = [d.rank for d in said if d.namesake and d.rank]
    return not (kept and _one_role(kept, others))


def _denied(roles: Iterable[str]) -> bool:
    """Whether a report says its man of the name was not the one (`denials`): "not SHO Rana
    but ASI Tariq" accuses no Rana, and a link on him would count a witness against him."""
    return any(designations.parse(role).denied for role in roles)


def _heard(roles: Iterable[str]) -> bool:
    """Whether a report names its man of the name only as others speak of him (`hearsay`):
    "log kehte hain ke SHO Rana ne paise liye" is a rumour, not a second witness."""
    return any(designations.parse(role).heard for role in roles)


def _kin_of(roles: Iterable[str]) -> frozenset[tuple[str, str]]:
    """Whose son, daughter or wife a report says its man is (`parentage`): (relation, key)."""
    said = (designations.parse(role).kin_of for role in roles)
    return frozenset((k[:3], k[4:]) for k in said if k)


# Relations two records may give one person: a son's and a daughter's father tell a man
# from a woman; a woman's father and her husband say nothing of each other.
_KIN_COMPARED: Final = frozenset(
    (("s/o", "s/o"), ("d/o", "d/o"), ("w/o", "w/o"), ("s/o", "d/o"), ("d/o", "s/o"))
)


def _numbers(roles: Iterable[str]) -> frozenset[tuple[str, str]]:
    """The CNICs and phone numbers a report writes onto its man's name (`numbers`)."""
    said = [designations.parse(role) for role in roles]
    return frozenset(
        [("cnic", d.cnic) for d in said if d.cnic] + [("phone", d.phone) for d in said if d.phone]
    )


def _numbers_apart(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether the reports give their man of one name a different CNIC, or a different phone
    number: two men."""
    return _differ(_numbers(roles_a), _numbers(roles_b))


def _differ(numbers_a: frozenset[tuple[str, str]], numbers_b: frozenset[tuple[str, str]]) -> bool:
    """Whether two reports' numbers for a man include a CNIC each, or a phone each, and
    share none of that kind."""
    for kind in ("cnic", "phone"):
        of_a = {n for k, n in numbers_a if k == kind}
        of_b = {n for k, n in numbers_b if k == kind}
        if of_a and of_b and of_a.isdisjoint(of_b):
            return True
    return False


def _grades(roles: Iterable[str]) -> frozenset[str]:
    """Whether a report calls its man of the name the senior or the junior (`grades`)."""
    return frozenset(g for role in roles if (g := designations.parse(role).grade))


def _graded_apart(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether one report's man of the name is the senior and the other's the junior."""
    grades_a, grades_b = _grades(roles_a), _grades(roles_b)
    return bool(grades_a and grades_b) and grades_a.isdisjoint(grades_b)


def _kin_apart(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether the reports give their man of one name different fathers (or husbands):
    "Constable Muhammad Iqbal s/o Gul Khan" and "Constable Muhammad Iqbal s/o Sher Ali"
    are two men; "s/o Gul Khan" and "s/o Haji Gul Khan" may be one."""
    kin_a, kin_b = _kin_of(roles_a), _kin_of(roles_b)
    compared = [(a, b) for a in kin_a for b in kin_b if (a[0], b[0]) in _KIN_COMPARED]
    return bool(compared) and not any(a[0] == b[0] and _one_name(a[1], b[1]) for a, b in compared)


def _kin_crossed(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether one report gives the name as the child of a man the other gives as its
    spouse: "Nasreen Akhtar d/o Gul Khan" and "Nasreen Akhtar w/o Gul Khan" are two women,
    his daughter and his wife."""
    kin_a, kin_b = _kin_of(roles_a), _kin_of(roles_b)
    return any(
        ((a[0] == "w/o") != (b[0] == "w/o")) and _one_name(a[1], b[1]) for a in kin_a for b in kin_b
    )


def _one_name(a: str, b: str) -> bool:
    """Whether two person keys may name one man: the same, a short form of the other, or the
    same but for a title or Muhammad ("gul khan", "haji gul khan")."""
    if a == b or short_form(a, b) or short_form(b, a):
        return True
    s, f = _untitled(a, b)
    return bool(s) and s == f


def posted(designation: str) -> bool:
    """Whether a designation's rank is a post held at a place (`posts`: an ASI, an SHO)."""
    return _rank(designation) in posts()


def _posted(roles: Iterable[str]) -> bool:
    return any(posted(role) for role in roles)


def _services(roles: Iterable[str]) -> frozenset[str]:
    """The services written onto a report's man's rank (`homes`): an agency, a wing by its
    agency ("fia immigration": the FIA), and every provincial force as "police"."""
    wings = agency_wings()
    out = set()
    for role in roles:
        if service := designations.parse(role).service:
            agency = wings.get(service, service)
            out.add("police" if "police" in agency and "motorway" not in agency else agency)
    return frozenset(out)


def _served_apart(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether the reports give their men of one name different services: "FIA Sub-
    Inspector Imran Haider" at the airport and "SI Imran Haider" of Thana Township are two
    men, as are an FIA man and a police one. A man given no service is police where his
    report writes a police station onto his post ("SI Imran Haider of Thana Township")."""
    roles_a, roles_b = tuple(roles_a), tuple(roles_b)
    served_a, served_b = _services(roles_a), _services(roles_b)
    if served_a and served_b:
        return served_a.isdisjoint(served_b)
    if not (served_a or served_b):
        return False
    served, roles = (served_a, roles_b) if served_a else (served_b, roles_a)
    return "police" not in served and any(designations.parse(r).station for r in roles)


def _kin_and_post(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether one report names the man only as the writer's kin and the other gives him a
    post ("my uncle, Inspector Tariq" gives both, and meets the inspector)."""

    roles_a, roles_b = tuple(roles_a), tuple(roles_b)
    posted_a, posted_b = _posted(roles_a), _posted(roles_b)
    return (_kinned(roles_a) and not posted_a and posted_b) or (
        _kinned(roles_b) and not posted_b and posted_a
    )


def _placed_apart(
    roles_a: Iterable[str],
    places_a: frozenset[str],
    roles_b: Iterable[str],
    places_b: frozenset[str],
) -> bool:
    """Whether the reports place their men of one name apart (`homes`): both place him, in
    different districts or towns (`_towns_apart`); or one places him where the other
    report never goes, and one side gives him a post held at a place (an ASI "larkana
    wala"; a naib risaldar at a Noshki checkpost against a hari "from Nasirabad"). An
    agent or an owner placed at home still meets his name where he works."""
    homes_a, homes_b = _homes(roles_a), _homes(roles_b)
    if homes_a and homes_b:
        return not homes_a & homes_b or _towns_apart(roles_a, places_a, roles_b, places_b)
    if not (homes_a or homes_b) or not (_posted(roles_a) or _posted(roles_b)):
        return False
    home, where = (homes_a, places_b) if homes_a else (homes_b, places_a)
    districts = {p.partition(":")[2] for p in where if p.startswith("district:")}
    return not home & {f"district:{d}" for p in districts for d in (p, towns().get(p)) if d}


# The designation of a district or town named only as a road's ("on the Pindi Bhattian
# road, district Hafizabad"): the report is set in its district, not in it (`setting`).
ROAD: Final = "road"


def setting(kind: str, key: str, designations: Iterable[str | None]) -> tuple[str, str]:
    """What a mention says of where its report is set, as `places` reads it: its kind and
    key, but a town named only as a road's (`ROAD`) by its district alone. The road says
    where it goes, not where the report is: a kiln "on the Pindi Bhattian road" of Hafizabad
    is in Hafizabad district, not in Pindi Bhattian, and its SHO is not Pindi Bhattian's."""
    if kind == "district" and ROAD in designations:
        return kind, towns().get(key, key)
    return kind, key


def places(keys: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Where a report is set, from its (kind, key) pairs: districts and police stations.

    A station keyed with its district (`saddar/kasur`) sets the report in that district too,
    and a town (`data/towns.txt`: Depalpur) in the district it lies in (Okara). A station
    keyed bare is set in the report's one district if it names only one.
    """
    found: set[str] = set()
    bare: set[str] = set()
    for kind, key in keys:
        district = key if kind == "district" else key.partition("/")[2]
        if kind == "police_station" and not _quarters_only(key):
            (found if district else bare).add(f"station:{key}")
        if kind in ("district", "police_station") and district:
            found.add(f"district:{district}")
            if district in towns():
                found.add(f"district:{towns()[district]}")
    # A station written bare in a report that names one district, or only it and its
    # towns, is that district's ("Thana Saddar" in a report about Jhelum and Sohawa).
    districts = {p for p in found if p.startswith("district:")}
    one = {p for p in districts if p.partition(":")[2] not in towns()}
    if bare and len(one) == 1 and all(_within(p, *one) for p in districts):
        district = next(iter(one)).partition(":")[2]
        return frozenset(found | {f"{station}/{district}" for station in bare})
    return frozenset(found | bare)


def own_places(places: frozenset[str], roles: Iterable[str]) -> frozenset[str]:
    """Where a report sets its man: `places`, but only the police station it writes onto his
    post if it writes one ("posted at": `homes`), of the stations it names.

    "Thana Bhalwal's men caught him and handed him to Inspector Ghulam Abbas of Thana Kot
    Momin" sets its Ghulam Abbas at Kot Momin: he is not corroborated by Bhalwal's
    Inspector Ghulam Abbas, who may be another man, for the report naming Bhalwal too.
    Its districts are kept: the stations a man's post is written onto are in them. Every
    mention of the name that gives him a post must give its station, or none is his own."""
    said = [designations.parse(role) for role in roles]
    held = [d for d in said if posted(d.rank)]
    # A mention of the name with a post and no station may be another man of it ("the City
    # SHO, whose name is Inspector Javed Iqbal too"): the report is set at all its stations.
    if not held or not all(d.station for d in held):
        return places
    own = {d.station for d in held if d.station}
    names = {o.partition("/")[0] for o in own}
    kept = {
        p
        for p in places
        if p.startswith("station:")
        and ((key := p.removeprefix("station:")) in own or key.partition("/")[0] in names)
    }
    if not kept:
        return places
    return frozenset(p for p in places if not p.startswith("station:") or p in kept)


def _quarters_only(station: str) -> bool:
    """Whether a police station's key is only words every city's quarters share
    ("colony/karachi", "kot/dera ismail khan"): it sets its report in the district, not at a
    station, which it may be any of (two posted men of one name at Mughal Kot and at Kot
    Jai are at two stations)."""
    name = station.partition("/")[0]
    return bool(name.strip()) and set(name.split()) <= QUARTERS_WORDS


def _within(place: str, district: str) -> bool:
    name = place.partition(":")[2]
    return place == district or towns().get(name) == district.partition(":")[2]


def pair_strength(
    kind: str,
    strength: Strength,
    places_a: frozenset[str],
    places_b: frozenset[str],
    roles_a: Iterable[str] = (),
    roles_b: Iterable[str] = (),
    *,
    key: str,
    spread: Spread | bool = False,
    crowded: frozenset[str] = frozenset(),
    stations: frozenset[str] = frozenset(),
    ranks: Mapping[str, frozenset[Ranks]] | None = None,
) -> Strength:
    """How strong a link on `key`, of `strength`, is between two reports set in these places.

    A person's full, uncommon name is still only a name: "Tariq Mehmood" the SHO in
    Kasur and "Tariq Mehmood" the agent in Gujrat are two men. So a name links two
    reports strongly only when they are set in the same place, and the ranks they give
    it (`roles_a`, `roles_b`: the designations each report writes beside it) could be
    one man's; otherwise it is weak until a reviewer confirms it. `spread` says what the
    archive's reports say of the name together (`spread`): that they give it to posted men
    at police stations apart, place men of it at home in towns apart, or give men of it
    different fathers, CNICs or phone numbers. `crowded` is where the archive's reports give
    two men's full names that `key` is a short form of (`crowded`), or say two men bear it
    (`said_two`); `stations`, the police stations at which reports give it a posted man
    (`posted_at`); `ranks`, where reports give it ranks no one man holds, and the ranks
    given there (`ranked_apart`).
    """
    roles_a, roles_b = tuple(roles_a), tuple(roles_b)
    if kind == "police_station" and strength.level == STRONG:
        if any(r.startswith(TOWN_STATION) for r in (*roles_a, *roles_b)):
            why = "a police station whose district a report gives only by a town in it"
            return Strength(WEAK, why)
        if PLACED_STATION in (*roles_a, *roles_b):
            why = "a police station written bare, in a report that names several districts"
            return Strength(WEAK, why)
        return strength
    if kind != "person" or strength.level != STRONG:
        return strength
    # A roundup is one whatever its men's posts: it gathers what others said (`_roundup`).
    roundup = _roundup(places_a) or _roundup(places_b)
    places_a, places_b = own_places(places_a, roles_a), own_places(places_b, roles_b)
    if _denied(roles_a) or _denied(roles_b):
        return Strength(WEAK, "the same name, but a report says it was not this man")
    if _heard(roles_a) or _heard(roles_b):
        return Strength(WEAK, "the same name, but a report only repeats what others say of him")
    if _warned(roles_a, roles_b) or _warned(roles_b, roles_a):
        return Strength(WEAK, "a report says another man bears this name")
    if roles_conflict(roles_a, roles_b):
        return Strength(WEAK, "the same name, but ranks or trades one person would not hold both")
    if _served_apart(roles_a, roles_b):
        why = "the same name, but the reports give its man different services (FIA, police)"
        return Strength(WEAK, why)
    if _kin_apart(roles_a, roles_b):
        return Strength(WEAK, "the same name, but the reports give different fathers or husbands")
    if _kin_crossed(roles_a, roles_b):
        why = "the same name, but one report gives a man as its father, the other as its husband"
        return Strength(WEAK, why)
    if _numbers_apart(roles_a, roles_b):
        why = "the same name, but the reports give different CNICs or phone numbers"
        return Strength(WEAK, why)
    if _graded_apart(roles_a, roles_b):
        why = "the same name, but one report's man is the senior, the other's the junior"
        return Strength(WEAK, why)
    if _kin_and_post(roles_a, roles_b):
        why = "the same name, but the writer's kin in one report, in a post in the other"
        return Strength(WEAK, why)
    if _placed_apart(roles_a, places_a, roles_b, places_b):
        return Strength(WEAK, "the same name, but a report places its man where the other is not")
    if not _same_place(places_a, places_b):
        return Strength(WEAK, "the same name, but not set at the same police station or district")
    if roundup:
        why = (
            f"the same name, but a report names {ROUNDUP} or more police stations: a roundup"
            " sets its men at none of them"
        )
        return Strength(WEAK, why)
    if spread & Spread.POSTED and _unplaced(places_a, roles_a, places_b, roles_b):
        why = (
            "the same name, which reports give posted men at police stations apart, and a"
            " report here names none of its own"
        )
        return Strength(WEAK, why)
    if len(stations) > 1 and any(_among_stations(p, stations) for p in (places_a, places_b)):
        why = (
            "the same name, which reports give posted men at two police stations a report here"
            " names"
        )
        return Strength(WEAK, why)
    if spread and (told := _spread_apart(spread, places_a, roles_a, places_b, roles_b)):
        return Strength(WEAK, f"the same name, which reports {told}")
    if crowded & (_where(places_a) | _where(places_b)) and not (_told(roles_a) and _told(roles_b)):
        why = "the same name, which reports give two men where a report here is set, and it does"
        return Strength(WEAK, why + " not say which it means")
    if ranks and any(
        _either_of_two(ranks, p, r) for p, r in ((places_a, roles_a), (places_b, roles_b))
    ):
        why = (
            "the same name, which reports give men of ranks no one man holds where a report"
            " here is set, and it gives a rank either could hold"
        )
        return Strength(WEAK, why)
    return _by_rank_and_name(key, places_a, places_b, roles_a, roles_b) or strength


def _spread_apart(
    spread: Spread | bool,
    places_a: frozenset[str],
    roles_a: tuple[str, ...],
    places_b: frozenset[str],
    roles_b: tuple[str, ...],
) -> str | None:
    """Why a name the archive's reports give to men told apart (`spread`) is weak between
    these two reports, if it is: one of them does not tell its man the same way."""
    posted = _posted(roles_a) or _posted(roles_b)
    told = (
        (
            Spread.TOWN,
            not posted or (_stationed(places_a) and _stationed(places_b)),
            "give posted men at two police stations of one town, and a report here names no"
            " station of its own",
        ),
        (
            Spread.NUMBERS,
            bool(_numbers(roles_a) and _numbers(roles_b)),
            "give men of different CNICs or phone numbers, and a report here gives none",
        ),
        (
            Spread.KIN,
            bool(_kin_of(roles_a) and _kin_of(roles_b)),
            "give men of different fathers, and a report here names no father",
        ),
        (
            Spread.GRADE,
            bool(_grades(roles_a) and _grades(roles_b)),
            "call one man of it the senior and another the junior, and a report here says neither",
        ),
        (
            Spread.HOMES,
            bool(_home_towns(roles_a) and _home_towns(roles_b)),
            "give men at home in towns apart, and a report here places its man in none",
        ),
    )
    return next((why for flag, ok, why in told if spread & flag and not ok), None)


def _told(roles: Iterable[str]) -> bool:
    """Whether a report tells its man of the name apart the way records and colleagues do:
    by seniority, father, CNIC or phone, or home (each compared by its own rule)."""
    roles = tuple(roles)
    return bool(_grades(roles) or _kin_of(roles) or _numbers(roles) or _home_towns(roles))


def _unplaced(
    places_a: frozenset[str],
    roles_a: Iterable[str],
    places_b: frozenset[str],
    roles_b: Iterable[str],
) -> bool:
    """Whether a posted man's name is in a report set at no police station or town of its
    own, which of a name posted at several the man is cannot be told from."""
    posted = _posted(roles_a) or _posted(roles_b)
    return posted and not (_local(places_a) and _local(places_b))


def _among_stations(places: frozenset[str], posted_at: frozenset[str]) -> bool:
    """Whether a report names two police stations or more at which other reports, each naming
    that one station, give the name a posted man: "my brother was taken to Thana Saddar
    Phalia, then to Thana City Mandi Bahauddin, where ASI Zafar Iqbal beat him" may mean
    either station's ASI Zafar Iqbal (as a report naming two stations of one town places its
    man at neither, `_two_in_a_town`)."""
    return sum(p in posted_at for p in places if p.startswith("station:")) > 1


def posted_at(named: Iterable[tuple[frozenset[str], Iterable[str]]]) -> frozenset[str]:
    """The police stations at which reports naming that one station give the name a posted
    man (`named`: as for `spread`); past `_SPREAD_MOST` of them, no more are kept."""
    out: set[str] = set()
    for places, roles in named:
        roles = tuple(roles)
        stations = [p for p in own_places(places, roles) if p.startswith("station:")]
        if len(stations) == 1 and _posted(roles) and len(out) <= _SPREAD_MOST:
            out.add(stations[0])
    return frozenset(out)


# Past this many different stations or towns a name is given posted men at, it is spread:
# no pair of them is sought (a hostile archive could give one name a thousand places).
_SPREAD_MOST: Final = 32


class Spread(enum.IntFlag):
    """What the reports naming one name say of its men together (`spread`)."""

    POSTED = 1  # posted men of the name at police stations or towns apart
    HOMES = 2  # men of the name placed at home in towns apart (`_towns_apart`)
    KIN = 4  # men of the name given different fathers or husbands (`_kin_apart`)
    NUMBERS = 8  # men of the name given different CNICs or phones (`_numbers_apart`)
    TOWN = 16  # posted men of the name at two police stations of one town (`_town_stations`)
    GRADE = 32  # a senior and a junior man of the name (`_graded_apart`)


def spread(named: Iterable[tuple[frozenset[str], Iterable[str]]]) -> Spread:
    """Whether reports give one name to posted men at police stations or towns apart,
    whether they place men of it, under trades one man could hold, at home in towns apart,
    whether they give men of it different fathers (or husbands), CNICs or phone numbers,
    and whether they set posted men of it at two police stations of one town (Thana City
    Phalia and Thana Saddar Phalia: a report set at Phalia alone may mean either).

    `named` is each report naming it: where the report is set (`places`) and the ranks it
    writes beside it. An "SHO Tariq Mehmood" of Thana City Hafizabad and one of Thana
    Saddar Hafizabad are two men, or one transferred: a third report's "Hafizabad's SHO
    Tariq Mehmood", set at neither, may be either, and joins neither strongly. So with
    "the agent Noor Muhammad of Serai Naurang" and "Pezu's agent Noor Muhammad": a report's
    agent Noor Muhammad placed at no home may be either man."""
    seen: dict[frozenset[str], frozenset[str]] = {}  # stations and towns: a report's places
    homes: dict[frozenset[str], tuple[tuple[str, ...], frozenset[str]]] = {}
    kin: dict[frozenset[tuple[str, str]], tuple[str, ...]] = {}
    cards: set[frozenset[tuple[str, str]]] = set()
    grades: set[str] = set()
    for places, roles in named:
        roles = tuple(roles)
        grades |= _grades(roles)
        if _posted(roles) and (local := frozenset(_local(own := own_places(places, roles)))):
            seen.setdefault(local, own)
        if home := _home_places(roles):
            homes.setdefault(home, (roles, places))
        if of := _kin_of(roles):
            kin.setdefault(of, roles)
        if len(cards) <= _SPREAD_MOST and (card := _numbers(roles)):
            cards.add(card)
    out = Spread(0)
    if len(grades) > 1:
        out |= Spread.GRADE
    if len(seen) > _SPREAD_MOST or _two_in_a_town(seen.values()):
        out |= Spread.TOWN
    if len(cards) > _SPREAD_MOST or any(_differ(a, b) for a, b in itertools.combinations(cards, 2)):
        out |= Spread.NUMBERS
    if len(kin) > _SPREAD_MOST or any(
        _kin_apart(a, b) for a, b in itertools.combinations(kin.values(), 2)
    ):
        out |= Spread.KIN
    if len(seen) > _SPREAD_MOST or any(
        _stations_apart(a, b) for a, b in itertools.combinations(seen.values(), 2)
    ):
        out |= Spread.POSTED
    if len(homes) > _SPREAD_MOST or any(
        _towns_apart(*a, *b) and not roles_conflict(a[0], b[0])
        for a, b in itertools.combinations(homes.values(), 2)
    ):
        out |= Spread.HOMES
    return out


def crowded(key: str, fulls: Iterable[tuple[str, frozenset[str]]]) -> frozenset[str]:
    """The police stations and towns where reports give two men's full names that person
    `key` is a short form of: "SHO Zulfiqar Ali Ranjha" and, after his transfer, "SHO
    Zulfiqar Ali Tarar", both of Thana Saddar Mandi Bahauddin. Two reports' "SHO Zulfiqar
    Ali" there share a key, but which man each means, the name does not say.

    `fulls` is each report naming a name that may be such a full name: its key and where
    the report is set (`places`). Names one man may bear ("Zulfiqar Ali Tarar", "Haji
    Zulfiqar Ali Tarar") are one; past `_SPREAD_MOST` names at a place, no more are read.
    """
    at: dict[str, set[str]] = defaultdict(set)
    for full, places in fulls:
        if full != key and short_form(key, full):
            for p in _local(places):
                if len(at[p]) <= _SPREAD_MOST:
                    at[p].add(full)
    return frozenset(
        p
        for p, names in at.items()
        if any(not _one_name(a, b) for a, b in itertools.combinations(sorted(names), 2))
    )


def said_two(named: Iterable[tuple[frozenset[str], Iterable[str]]]) -> frozenset[str]:
    """Where reports say two men bear the name (`designations.TWO`: "there are two ASIs named
    Gul Zaman", "another Gul Nawaz is SHO now", "دوسرا محمد اشرف"): their police stations and
    towns, or their districts where they name none (`named`: as for `spread`)."""
    out: set[str] = set()
    for places, roles in named:
        if any(designations.parse(role).two for role in roles):
            out |= _where(places)
    return frozenset(out)


# Ranks one report gives a name, as `ranked_apart` keeps them: its designations, one of each
# rank or trade.
Ranks = tuple[str, ...]


def ranked_apart(
    named: Iterable[tuple[frozenset[str], Iterable[str]]],
) -> dict[str, frozenset[Ranks]]:
    """Where reports give the name ranks or trades no one man holds ("SI Gul Nawaz" and
    "Inspector Gul Nawaz" of one station; an agent and an ASI of one town): the ranks each
    report set there gives it, by police station and town, or district (`_where`; `named`:
    as for `spread`). There are two men of the name there, and a report whose ranks either
    could hold ("SHO Gul Nawaz": an SI or an Inspector commands a station) does not say
    which it means (`_either_of_two`). A roundup sets its men nowhere; past `_SPREAD_MOST`
    ranks at a place, no more are kept."""
    at: dict[str, dict[str, Ranks]] = defaultdict(dict)
    for places, roles in named:
        given = {_rank(r): r for r in roles if ranked(r)}
        if not given or _roundup(places):
            continue
        ranks = tuple(given[r] for r in sorted(given))
        for w in _where(places):
            if len(at[w]) <= _SPREAD_MOST:
                at[w].setdefault(" ".join(sorted(given)), ranks)
    return {
        w: frozenset(by.values())
        for w, by in at.items()
        if any(roles_conflict(x, y) for x, y in itertools.combinations(by.values(), 2))
    }


def _either_of_two(
    ranked: Mapping[str, frozenset[Ranks]], places: frozenset[str], roles: Iterable[str]
) -> bool:
    """Whether a report set where reports give its name ranks no one man holds
    (`ranked_apart`) gives it ranks that either of two such men could hold. A report that
    gives none is weak against one that does already (`_by_rank_and_name`)."""
    roles = tuple(roles)
    if not _any_rank(roles):
        return False
    for w in _where(places):
        for x, y in itertools.combinations(sorted(ranked.get(w, ())), 2):
            if roles_conflict(x, y) and _fits(x, roles) and _fits(y, roles):
                return True
    return False


def _fits(ranks: Ranks, roles: tuple[str, ...]) -> bool:
    """Whether a man given `ranks` could be the man given every one of `roles`."""
    return not any(roles_conflict(ranks, (role,)) for role in roles)


def _where(places: frozenset[str]) -> set[str]:
    """A report's police stations and towns (`_local`), or its districts if it names none."""
    return _local(places) or {p for p in places if p.startswith("district:")}


def longer_names(key: str, holding: Mapping[str, Collection[str]]) -> list[str]:
    """The names in `holding` (each telling word to the names holding it) that person `key`
    is a short form of, found by its rarest telling word."""
    words = [w for w in key.split() if telling(w)]
    if not words:
        return []
    rarest = min(words, key=lambda w: len(holding.get(w, ())))
    return [k for k in holding.get(rarest, ()) if k != key and short_form(key, k)]


def _town_stations(places: frozenset[str]) -> Iterable[tuple[str, str]]:
    """Each police station a report names, with the town it is in: "city/phalia" is Phalia's
    City station; "phalia/mandi bahauddin", the town's own, is left out (it is whichever
    of the town's stations a writer means by the town's name)."""
    for p in places:
        if p.startswith("station:"):
            name, _, district = p.removeprefix("station:").partition("/")
            if district in towns():
                yield district, name


def _two_in_a_town(places: Iterable[frozenset[str]]) -> bool:
    """Whether reports set posted men of one name at two police stations of one town, each
    report naming that one station and no other. (A report that names two stations sets
    its man at neither.)"""
    stations: dict[str, set[str]] = defaultdict(set)
    for where in places:
        if sum(p.startswith("station:") for p in where) != 1:
            continue
        for town, station in _town_stations(where):
            stations[town].add(station)
            if len(stations[town]) > 1:
                return True
    return False


def _stationed(places: frozenset[str]) -> bool:
    return any(p.startswith("station:") for p in places)


def _by_rank_and_name(
    key: str,
    places_a: frozenset[str],
    places_b: frozenset[str],
    roles_a: tuple[str, ...],
    roles_b: tuple[str, ...],
) -> Strength | None:
    """Why a name two reports set in one place is still weak, if it is: by the ranks, trades
    and kinship they write beside it, the words of it that tell a man apart
    (`_telling_words`), and the police stations they are set at.

    A rank or trade is how a source tells its man from the others of his name, so a report
    that gives none has met only the name, which a victim's father, a kiln's munshi and an
    ASI of one district may all bear: "Munshi Ghulam Qadir" of a kiln by Thana Saddar does
    not corroborate "Ghulam Qadir", the father of a boy held there, nor "Agent Naveed
    Akhtar" a bare "Naveed Akhtar". Kinship tells a man apart only to his own family's
    source ("my brother-in-law Naveed Akhtar"), and not from a bare name another source
    writes. Two reports that give no rank or trade do not corroborate each other on a name
    alone, however telling its words: "Tariq Mehmood" who sold a boy and "Tariq Mehmood"
    whose son was taken, both at Thana City Khanewal, are two men, and nothing either
    source wrote says which. Only two reports that both name the man as the writer's kin
    may still join on a name, and then only if some word of it tells a man apart ("Allah
    Ditta" does not). A reviewer who reads both confirms the rest (`links pending`). And
    a district's police stations each have their own men: two reports set at different
    ones join on a name only under one trade that goes from station to station (an
    agent's, a broker's); an "ASI Muhammad Riaz" of Swat's Cantt station and one of
    Mingora's are a transfer or two men, for a reviewer to say.
    """
    ranked_a, ranked_b = _any_rank(roles_a), _any_rank(roles_b)
    if ranked_a != ranked_b:
        why = "the same name, with a rank or trade in one report and none in the other"
        return Strength(WEAK, why)
    if not ranked_a and _kinned(roles_a) != _kinned(roles_b):
        return Strength(
            WEAK, "the same name, the writer's kin in one report and a name alone in the other"
        )
    if not ranked_a and not _telling_words(key):
        why = "a name no word of which tells a man apart, with no rank or trade in either report"
        return Strength(WEAK, why)
    travels = (
        ranked_a and _one_role(roles_a, roles_b) and not (_posted(roles_a) or _posted(roles_b))
    )
    if _stations_apart(places_a, places_b) and not travels:
        why = (
            "the same name, in reports set at different police stations, not under one trade"
            " that goes between them"
        )
        return Strength(WEAK, why)
    if not ranked_a and not _kinned(roles_a):
        why = (
            "the same name, with no rank, trade or kinship beside it in either report:"
            " a name alone, which namesakes at one place share"
        )
        return Strength(WEAK, why)
    return None


def _kinned(roles: Iterable[str]) -> bool:
    """Whether a report names its man as the writer's kin ("my uncle", "her father")."""
    return any(_rank(role) in kin() for role in roles)


def _any_rank(roles: Iterable[str]) -> bool:
    """Whether a report gives its man a rank or trade (not only kinship or "named")."""
    return any(ranked(role) for role in roles)


# A report that names this many police stations or more is a roundup ("Pattern across this
# year's reports: in Islamabad Thana Golra, Thana Shalimar ...; in Taxila ..."): it names its
# men among all of them, so it sets none at any one, and as often it gathers what other
# reports said rather than saying anything of its own.
ROUNDUP: Final = 5


def _roundup(places: frozenset[str]) -> bool:
    return sum(p.startswith("station:") for p in places) >= ROUNDUP


def _telling_words(key: str) -> int:
    """How many words of a name tell a man apart ("Bashir Ahmed", "Allah Ditta", "Abdul
    Ghafoor": Ahmed, Allah and Abdul tell no one apart). A name of one such word is many
    men's in a district: between two reports set at different police stations of it, it
    joins them strongly only under one rank (a travel agent by Thana Saddar Kohat and a
    matchmaker whose victims went to Kohat Cantt are two men). The second element of a
    theophoric name ("Bakhsh", "Ditta": `given_words`) counts as no telling word here."""
    return sum(telling(w) and w not in given_words() for w in key.split())


def _stations_apart(places_a: frozenset[str], places_b: frozenset[str]) -> bool:
    """Whether both reports are set at police stations and share none, or in towns (a
    station or a town each) and share none.

    A town stands for its police station: "Head Constable Ghafoor Jatoi" of a report set
    in Moro and one of a report set at Thana Kandiaro are of two towns of Naushahro
    Feroze, and so of two stations. A station named after its town ("kotri/jamshoro")
    is in that town; two stations of one town are still two. A station written bare ("Saddar
    police station") may be any town's, so it is apart from no town."""
    if _same_station(places_a, places_b):
        return False
    stationed = all(any(p.startswith("station:") for p in x) for x in (places_a, places_b))
    if stationed:
        return True
    local_a, local_b = _local(places_a), _local(places_b)
    if not (local_a and local_b) or local_a & local_b:
        return False
    return not any(p.startswith("station:") and "/" not in p for p in (*local_a, *local_b))


def _local(places: frozenset[str]) -> set[str]:
    """A report's police stations and towns (not districts): where a posted man serves."""
    out = set()
    for p in places:
        kind, _, rest = p.partition(":")
        name = rest.partition("/")[0]
        if kind == "station":
            out.add(p)
        if name in towns() and (kind == "station" or kind == "district"):
            out.add(f"town:{name}")
    return out


def _settings(where: frozenset[str]) -> frozenset[str]:
    """Where a report is set: its police stations and their districts if it names any.

    A report that names a station is about that station; the other districts it names
    are mostly where people came from or were sent ("girls from Okara and Kasur").
    """
    stations = {p for p in where if p.startswith("station:")}
    if not stations:
        return where
    districts = {d for p in stations if (d := p.partition("/")[2])}
    districts |= {towns()[d] for d in districts if d in towns()}  # Depalpur is in Okara
    return frozenset(stations | {f"district:{d}" for d in districts})


def _same_place(places_a: frozenset[str], places_b: frozenset[str]) -> bool:
    a, b = _settings(places_a), _settings(places_b)
    return bool(a & b) or _bare_station_met(a, b)


def _same_station(places_a: frozenset[str], places_b: frozenset[str]) -> bool:
    """Whether the two reports name one police station (a bare one: any of its name)."""
    a = {p for p in places_a if p.startswith("station:")}
    b = {p for p in places_b if p.startswith("station:")}
    return bool(a & b) or _bare_station_met(a, b)


def _bare_station_met(a: Collection[str], b: Collection[str]) -> bool:
    # A station written without its district ("Thana Saddar") is any district's of that name.
    bare_a = {p for p in a if p.startswith("station:") and "/" not in p}
    bare_b = {p for p in b if p.startswith("station:") and "/" not in p}
    return any(p.partition("/")[0] in bare_a for p in b) or any(
        p.partition("/")[0] in bare_b for p in a
    )


@dataclass(frozen=True)
class Evidence:
    """One shared key behind a link: how each report writes it, its strength, any decision."""

    kind: str
    key: str
    strength: Strength
    written: Mapping[int, tuple[str, ...]]
    decision: str | None = None

    @property
    def counts(self) -> bool:
        """Say whether this key makes the two reports corroborate each other."""
        if self.strength.level == CONTEXT or self.decision == REJECTED:
            return False
        return self.decision == CONFIRMED or self.strength.level == STRONG

    @property
    def state(self) -> str:
        """strong, weak or context; or the reviewer's decision when there is one."""
        return self.decision or self.strength.level


@dataclass(frozen=True)
class Link:
    """Two reports and the shared keys that join them (rejected ones left out)."""

    reports: tuple[int, int]
    evidence: tuple[Evidence, ...]

    @property
    def corroborates(self) -> bool:
        """Say whether some key of it is strong or confirmed: corroboration, not a guess."""
        return any(e.counts for e in self.evidence)

    @property
    def level(self) -> str:
        """strong (a strong key), confirmed (a reviewer's word), weak, or context only."""
        if any(e.counts and e.strength.level == STRONG for e in self.evidence):
            return STRONG
        if any(e.counts for e in self.evidence):
            return CONFIRMED
        if any(e.strength.level == WEAK for e in self.evidence):
            return WEAK
        return CONTEXT


# --- a short form of a name in one report, the full name in another --------------------------


# A short form that more full names than this in the reports set where it is could be
# says nothing: no link ("Khan" is a common word anyway; a surname as common there, too).
MOST_NAMES: Final = 4


def short_form(short: str, full: str) -> bool:
    """Whether person key `short` is a shorter way to write `full`.

    A surname alone ("chandio" of "mumtaz ali chandio"), a given name and surname ("mumtaz
    chandio"), or a title and given name ("haji bashir" of "haji bashir ahmed"): its words
    in order among the full name's, with its surname or its first two words, and one word
    at least that is no common name or title ("khan" of "sher khan" says nothing).
    A given name alone is not (`given_name`).
    """
    if _shorter(short.split(), full.split()):
        return True
    s, f = _untitled(short, full)
    if s == f and any(telling(w) for w in s):
        # one name, its title written in one report only: the shorter key is the short one
        return (len(short.split()), short) < (len(full.split()), full)
    # Else its surname, its title left out ("manzoor hussain" of "chaudhry manzoor hussain"):
    # the title is the start of a name ("bashir ahmed" is no start of "haji bashir ahmed khan").
    return bool(s and f) and s[-1] == f[-1] and _shorter(s, f)


def _shorter(s: list[str], f: list[str]) -> bool:
    if not 0 < len(s) < len(f) or not any(telling(w) for w in s):
        return False
    rest = iter(f)
    if not all(w in rest for w in s):  # in order: each found after the one before
        return False
    return s[-1] == f[-1] or (len(s) >= 2 and s == f[: len(s)])


def given_name(short: str, full: str) -> bool:
    """Whether person key `short` is the given name alone of `full` ("mumtaz" of "mumtaz ali
    chandio"): one uncommon word, the full name's first or a pet form of it ("zulfi" of
    "zulfiqar ali", `_nickname`); or a pet form of the given name with the rest of the name
    as the full one writes it ("shoki butt" of "shaukat butt"). Anyone of that name could be
    meant, so it links only weakly, and only between reports that name one place."""
    return any(
        (len(s) == 1 < len(f) and telling(s[0]) and (s[0] == f[0] or _nickname(s[0], f[0])))
        or (1 < len(s) == len(f) and s[1:] == f[1:] and _nickname(s[0], f[0]))
        or (len(s) == 2 <= len(f) and _epithet(s[1]) and s[1] not in f and given_name(s[0], full))
        for s, f in ((short.split(), full.split()), _untitled(short, full))
    )


def _epithet(word: str) -> bool:
    """Whether a word of a person's key is a byname that goes after a given name in place of
    the surname ("Tariq Pardesi", the one who works abroad; "Aslam Pehlwan", the wrestler):
    the man's given name, said with what he is known for, not his family's name."""
    return word in _EPITHETS


# Bynames said after a given name, keyed as the extractor keys words the lists lack (by
# their consonants, one key across scripts: "Pardesi", "پردیسی", "pardaisi").
_EPITHETS: Final = frozenset(
    f"~{sound(w)}" for w in ("pardesi", "pardaisi", "pehlwan", "pehalwan", "phalwan")
)


def _nickname(word: str, name: str) -> bool:
    """Whether one word of a person's key is a pet form of a given name: its first sounds and
    more ("Zulfi" of Zulfiqar, "Sajju" of Sajjad, "Shoki" of Shaukat; `sound`)."""
    pet, full = _sound(word), _sound(name)
    return _NICK <= len(pet) < len(full) and full.startswith(pet) and telling(name)


# A pet form keeps two consonants of the name at least: "Sajju" (s-j) of Sajjad.
_NICK: Final = 2


def _pets(name: str) -> list[str]:
    """The sounds a pet form of a given name may have: its first consonants, two or more."""
    full = _sound(name)
    return [full[:n] for n in range(_NICK, len(full))]


@functools.cache
def _sound(word: str) -> str:
    """A key word's consonants: a word the lists lack is keyed by them already ("~sk")."""
    return word[1:].removesuffix(OPEN_A) if word.startswith("~") else sound(word)


# Titles that say nothing of a man's family: a pilgrim, a scholar, a woman's. Any other
# title is a family's or a caste's (Rana, Malik, Chaudhry, Syed), so two names under two
# such titles and none shared are two men ("Rana Tariq", "Malik Tariq Mehmood").
_PERSONAL_TITLES: Final = frozenset(
    normalize(w)
    for w in (
        "haji",
        "hajji",
        "hafiz",
        "maulana",
        "molvi",
        "maulvi",
        "allama",
        "pir",
        "begum",
        "bibi",
        "mai",
        "حاجی",
        "حافظ",
        "مولانا",
        "مولوی",
        "پیر",
        "بیگم",
        "بی",
        "مائی",
    )
)
# A Syed's surname as many write it after the name: "Syed Imran Ali" is "Imran Ali Shah".
_SYED: Final = frozenset(("syed", "sayed", "shah", normalize("سید"), normalize("شاہ")))


def _untitled(short: str, full: str) -> tuple[list[str], list[str]]:
    """Two person keys' words, titles left out when one of the names is written without its
    title ("chaudhry manzoor" of "manzoor hussain"; "haji bashir" of "bashir ahmed"), and
    Muhammad when one side writes it and the other does not. A family's title on each side,
    and none the same, keeps them: two families, two men."""
    s, f = short.split(), full.split()
    title_words = titles()
    ts = {w for w in s if w in title_words} - _PERSONAL_TITLES
    tf = {w for w in f if w in title_words} - _PERSONAL_TITLES
    if ts and tf and not ts & tf:
        return s, f
    if ts & _SYED and f[-1] in _SYED - title_words:
        f = f[:-1]  # "syed imran ali", "imran ali shah": one Syed, a title each way
    elif tf & _SYED and s[-1] in _SYED - title_words:
        s = s[:-1]
    s, f = [w for w in s if w not in title_words], [w for w in f if w not in title_words]
    if (_MUHAMMAD in s) != (_MUHAMMAD in f) and _left_out(s, f):
        s, f = [w for w in s if w != _MUHAMMAD], [w for w in f if w != _MUHAMMAD]
    return s, f


def _left_out(s: list[str], f: list[str]) -> bool:
    """Whether the Muhammad one name writes is left out of the other ("Ch. Aslam" of "Ch.
    Muhammad Aslam Warraich"), not written where the other gives another given name: a
    leading Muhammad is left out only when the other begins with a word of its name, or a
    pet form of the word after it ("muhammad aslam gondal" and "mehboob aslam gondal" are
    two men)."""
    has, other = (s, f) if _MUHAMMAD in s else (f, s)
    if has.index(_MUHAMMAD) > 0 or len(has) == 1 or not other:
        return True
    first = other[0]
    return first in has or _nickname(first, has[1]) or _nickname(has[1], first)


# Written before so many men's given names that most leave it out when they name them.
_MUHAMMAD: Final = "muhammad"


def telling(word: str) -> bool:
    """Whether a name word tells a man apart: no common name, title, initial or byname."""
    return (
        word not in common_words() and word not in titles() and len(word) > 2 and not _epithet(word)
    )


@dataclass(frozen=True)
class Named:
    """A person as one report names them: the key, the ranks or trades beside it, the texts."""

    key: str
    roles: tuple[str, ...] = ()
    written: tuple[str, ...] = ()


def short_form_key(short: str, full: str) -> str:
    """The key a short-form link is shown and decided under: "chandio < mumtaz ali chandio"."""
    return f"{short} < {full}"


def short_form_links(
    people: Mapping[int, Iterable[Named]], where: Mapping[int, frozenset[str]]
) -> list[tuple[int, int, Evidence]]:
    """Reports that name one person, one by a short form of the name the other gives in full.

    Each is (report with the short form, report with the full name, evidence keyed by
    `short_form_key`). Only between reports that name one place, a district or a station:
    a surname alone says too little of a man named only elsewhere (the full name's own
    key still links reports that give it in full), and so each short form meets only the
    full names of its places, never every report; but a given name and the surname ("Ejaz
    Gopang" of "Malik Ejaz Gopang"), or a family's title and the given name of one full name
    ("Malik Ejaz"), meet it anywhere, weakly. Strong only when
    the evidence says it is one man: both reports set at one police station or district
    (`_settings`), ranks given on both sides that one man holds, a full name of two uncommon
    words or more (so "Aslam" of "Muhammad Aslam", a given name alone, is weak), and no
    other full name in the reports set there that the short form could be. Otherwise weak:
    shown to the reviewer, counted only once confirmed, as for any weak key. A short form in
    a report that gives a full name it shortens is that name's ("Nawaz Chandio ... Chandio"),
    linked by the full name's own key.
    """
    named = {num: list(ns) for num, ns in people.items()}
    # Where each report is set, in the broad sense: every district and station it names;
    # and anywhere, for the short forms that say enough of a man (`_ANYWHERE`).
    settings = {num: where.get(num, frozenset()) for num in named}
    # A word and a place: the full names holding it in reports set there, by key.
    fulls: dict[tuple[str, str], dict[str, list[tuple[int, Named]]]] = defaultdict(dict)
    for num, ns in named.items():
        for n in ns:
            if len(n.key.split()) >= 2:
                first = n.key.split()[0]
                pets = (f"~{p}" for p in _pets(first)) if telling(first) else ()
                for w in {*n.key.split(), *pets}:
                    if telling(w):
                        for place in (*settings[num], _ANYWHERE):
                            fulls[(w, place)].setdefault(n.key, []).append((num, n))
    out = []
    # One short form's candidates at one setting, once: reports repeat names and places.
    candidates = functools.lru_cache(maxsize=None)(functools.partial(_candidates, fulls))
    # Each name's reports, to say whether it is given posted men at stations apart.
    by_key: dict[str, list[tuple[frozenset[str], tuple[str, ...]]]] = defaultdict(list)
    for num, ns in named.items():
        for n in ns:
            by_key[n.key].append((where.get(num, frozenset()), n.roles))
    spread_of = functools.lru_cache(maxsize=None)(lambda key: spread(by_key[key]))
    # Where reports say two men bear a name, and the stations at which they give it posted
    # men: a short form meets the full name only as the full name meets itself there.
    two_of = functools.lru_cache(maxsize=None)(lambda key: said_two(by_key[key]))
    ranks_of = functools.lru_cache(maxsize=None)(lambda key: ranked_apart(by_key[key]))
    posted_of = functools.lru_cache(maxsize=None)(lambda key: posted_at(by_key[key]))
    for a, ns in named.items():
        for short in ns:
            words = tuple(w for w in short.key.split() if telling(w))
            if not words or any(_its_own(short.key, n.key) for n in ns):
                continue
            shorter, given = candidates(short.key, words, settings[a])
            there = _reports(fulls, words, a, settings[a], shorter | given)
            # The full names it could be in the reports set where it is (their station).
            set_here = {k for (b, k) in there if k in shorter and _same_setting(where, a, b)}
            for (b, key), full in sorted(there.items()):
                level = (
                    Strength(WEAK, "a given name alone, in a report naming the same place")
                    if key in given
                    else _short_strength(
                        short,
                        full,
                        where,
                        (a, b),
                        len(set_here),
                        spread_of(full.key),
                        crowded=two_of(short.key) | two_of(full.key),
                        stations=posted_of(short.key) | posted_of(full.key),
                        ranks=ranks_of(full.key),
                    )
                )
                written = {a: short.written, b: full.written}
                out.append(
                    (a, b, Evidence("person", short_form_key(short.key, key), level, written))
                )
            if len(words) < 2 and not _family_titled(short.key):
                continue  # one uncommon word: only where the full name is set
            anywhere = frozenset((_ANYWHERE,))
            shorter, given = candidates(short.key, words, anywhere)
            keep = (
                {k for k in shorter if _surnamed(short.key, k)}
                if len(words) >= 2
                else _one_full_name(short.key, shorter | given)
            )
            wide = _reports(fulls, words, a, anywhere, keep) if keep else {}
            why = Strength(WEAK, "a short form of the name, in reports naming no place in common")
            for (b, key), full in sorted(wide.items() - there.items()):
                written = {a: short.written, b: full.written}
                evidence = Evidence("person", short_form_key(short.key, key), why, written)
                out.append((a, b, evidence))
    return out


def _its_own(short: str, full: str) -> bool:
    """Whether a short form is the full name its own report gives ("Nawaz Chandio ...
    Chandio"; "Haji Bashir Ahmed ... Haji Bashir"). Not when the short form carries a title
    the full name lacks: a writer who names "Bashir Ahmed" and then "Haji Bashir" names two
    men (a namesake set beside the writer's own name, a father and the agent), for the
    title is what they would drop, not add, when naming one man again."""
    if not (short_form(short, full) or given_name(short, full)):
        return False
    title_words = titles()
    return all(w in full.split() for w in short.split() if w in title_words)


def _family_titled(short: str) -> bool:
    """Whether a name is a family's title and a given name ("Malik Ejaz", "Rana Shahbaz")."""
    words = short.split()
    return len(words) == 2 and words[0] in titles() and words[0] not in _PERSONAL_TITLES


def _one_full_name(short: str, keys: frozenset[str]) -> frozenset[str]:
    """The names a family's title and a given name ("Malik Ejaz") may be anywhere: one full
    name with the title ("Malik Ejaz Gopang") and its given name and surname ("Ejaz Gopang"),
    when no other name could be it; none otherwise ("Chaudhry Aslam": "Muhammad Aslam" and
    "Chaudhry Muhammad Aslam Warraich" both could)."""
    title = short.split()[0]
    full = [k for k in keys if title in k.split() and all(o == k or short_form(o, k) for o in keys)]
    if len(full) != 1 or not _PERSONAL_TITLES.isdisjoint(full[0].split()):
        return frozenset()
    rest = keys - set(full)
    if any(sum(map(telling, k.split())) < 2 or not _surnamed(k, full[0]) for k in rest):
        return frozenset()
    return keys


# Any report, wherever it is set: a short form of two uncommon words that ends in the full
# name's surname ("Ejaz Gopang" of "Malik Ejaz Gopang", "Zafar Cheema" of "Zafar Iqbal
# Cheema") says as much of a man as a full name's own key, which links reports set apart
# too, weakly (`pair_strength`); so it meets the full names of every report, weakly, unless
# more than `MOST_NAMES` full names in them could be it. So does a family's title and a
# given name ("Malik Ejaz") where one full name in all the reports is all it could be.
_ANYWHERE: Final = "*"


def _surnamed(short: str, full: str) -> bool:
    """Whether a short form keeps the full name's surname and the full name holds no title of
    a pilgrim or a scholar ("Haji Allah Ditta": "Allah Ditta" is the given name, no surname).
    Given names alone ("Ghulam Rasool", "Muhammad Aslam") are many men's, anywhere."""
    return short.split()[-1] == full.split()[-1] and _PERSONAL_TITLES.isdisjoint(full.split())


def _candidates(
    fulls: Mapping[tuple[str, str], Mapping[str, list[tuple[int, Named]]]],
    short: str,
    words: tuple[str, ...],
    places: frozenset[str],
) -> tuple[frozenset[str], frozenset[str]]:
    """The full names' keys in reports set at these places that a short form could be: those
    it shortens and those it gives the given name of; none if more than `MOST_NAMES` could."""
    keys = set().union(*(_holding(fulls, w, places) for w in _lookups(words)))
    shorter = frozenset(k for k in keys if short_form(short, k))
    given = frozenset(k for k in keys if given_name(short, k))
    if len(shorter | given) > MOST_NAMES:
        return frozenset(), frozenset()  # a short form that many names there could be says nothing
    return shorter, given


def _reports(
    fulls: Mapping[tuple[str, str], Mapping[str, list[tuple[int, Named]]]],
    words: Sequence[str],
    a: int,
    places: frozenset[str],
    keys: Iterable[str],
) -> dict[tuple[int, str], Named]:
    """The other reports set at these places that give one of these full names, by (report,
    key)."""
    return {
        (b, n.key): n
        for lookup in _lookups(words)
        for place in places
        for key in keys
        for b, n in fulls.get((_rarest(fulls, lookup, place), place), {}).get(key, ())
        if b != a
    }


def _lookups(words: Sequence[str]) -> tuple[Sequence[str], ...]:
    """The words to find a short form's full names by: its uncommon words, and for one word
    the list knows ("Zulfi"), the sounds a given name it is a pet form of begins with."""
    if len(words) == 1 and not words[0].startswith("~"):
        return (words, (f"~{_sound(words[0])}",))
    return (words,)


def _rarest(
    fulls: Mapping[tuple[str, str], Mapping[str, list[tuple[int, Named]]]],
    words: Sequence[str],
    place: str,
) -> str:
    return min(words, key=lambda w: len(fulls.get((w, place), ())))


def _holding(
    fulls: Mapping[tuple[str, str], Mapping[str, list[tuple[int, Named]]]],
    words: Sequence[str],
    places: frozenset[str],
) -> set[str]:
    """The full names set at one of these places holding the rarest there of these words."""
    return {key for place in places for key in fulls.get((_rarest(fulls, words, place), place), ())}


def _same_setting(where: Mapping[int, frozenset[str]], a: int, b: int) -> bool:
    return bool(_settings(where.get(a, frozenset())) & _settings(where.get(b, frozenset())))


def _short_strength(
    short: Named,
    full: Named,
    where: Mapping[int, frozenset[str]],
    reports: tuple[int, int],
    names_there: int,
    spread: Spread | bool = False,
    *,
    crowded: frozenset[str] = frozenset(),
    stations: frozenset[str] = frozenset(),
    ranks: Mapping[str, frozenset[Ranks]] | None = None,
) -> Strength:
    """How strong a short form's link to a full name is: never stronger than the full name
    would be, written in the short form's report beside the same ranks (`pair_strength`).
    "SHO Ghulam Mustafa" of Johi is not "SHO Ghulam Mustafa Chandio" of Thana Saddar because
    both stations are Dadu's: two reports set at different police stations of one district
    join on a posted man's name only through a reviewer, shortened or not. Nor where a
    report says two men bear either name (`crowded`, `said_two`), or where reports give
    either posted men at two stations a report here names (`stations`, `posted_at`)."""
    a, b = reports
    if _telling_words(full.key) < 2:
        # "Aslam" of "Muhammad Aslam": a given name alone, whoever else bears it
        return Strength(WEAK, "a short form of a name with one uncommon word")
    if not _same_setting(where, a, b):
        return Strength(WEAK, "a short form of the name; the reports name one place, not set there")
    if names_there > 1:
        return Strength(WEAK, "a short form that more than one full name there could be")
    if not _one_role(short.roles, full.roles):
        return Strength(WEAK, "a short form of the name, without one rank on both sides")
    places_a, places_b = where.get(a, frozenset()), where.get(b, frozenset())
    as_full = pair_strength(
        "person",
        Strength(STRONG, ""),
        places_a,
        places_b,
        short.roles,
        full.roles,
        key=full.key,
        spread=spread,
        crowded=crowded,
        stations=stations,
        ranks=ranks,
    )
    if as_full.level == WEAK:
        return Strength(WEAK, f"a short form of the name; {as_full.why}")
    return Strength(STRONG, "a short form of the name, at the same place, under the same rank")


def _one_role(roles_a: Iterable[str], roles_b: Iterable[str]) -> bool:
    """Whether both sides give the name a rank or trade that one man holds (`roles.txt`)."""
    return any(x & y for x in _groups(roles_a) for y in _groups(roles_b))


# --- an agency named bare in one report, one of its wings in another --------------------------


@functools.cache
def agency_wings() -> dict[str, str]:
    """Each wing's agency key to its parent agency's (`data/agency_wings.txt`)."""
    text = resources.files("review").joinpath("data", "agency_wings.txt").read_text("utf-8")
    pairs = (line.split(">") for line in text.splitlines() if ">" in line and line[0] != "#")
    return {normalize(wing): normalize(agency) for wing, agency in pairs}


def wing_key(agency: str, wing: str) -> str:
    """The key a wing link is shown under: "federal investigation agency < fia immigration"."""
    return f"{agency} < {wing}"


def wing_links(
    agencies: Mapping[int, Mapping[str, tuple[str, ...]]], where: Mapping[int, frozenset[str]]
) -> list[tuple[int, int, Evidence]]:
    """Reports naming an agency bare and reports naming one of its wings, in one district.

    Each is (report with the bare agency, report with the wing, evidence keyed by
    `wing_key`), context like any agency: it never corroborates. "FIA" in a report set in
    Sukkur and "FIA Anti-Human Trafficking Circle" in one set in Sukkur are likely one
    office; in Rawalpindi, another circle, so reports set apart are never joined; and where
    reports set there name two wings of it (the circle and Immigration), the bare name could
    be either, so none is joined. A report that names the wing too, or a report that names
    the bare agency too, is already joined by that key.
    """
    parents = agency_wings()
    # A parent agency and a place: the reports set there naming one of its wings (never
    # comparing every pair of reports).
    by_place: dict[tuple[str, str], set[tuple[int, str]]] = defaultdict(set)
    for b, keys in agencies.items():
        for key in keys:
            if key in parents and parents[key] not in keys:
                for place in _settings(where.get(b, frozenset())):
                    by_place[(parents[key], place)].add((b, key))
    why = Strength(CONTEXT, "an agency and its wing, both set in one district")
    out = []
    for a, keys in agencies.items():
        for parent in keys:
            there = {
                (b, wing)
                for place in _settings(where.get(a, frozenset()))
                for b, wing in by_place.get((parent, place), ())
                if b != a
            }
            wings = {wing for _b, wing in there}
            if len(wings) != 1 or wings & keys.keys():
                continue  # two wings there: the bare name could be either
            for b, wing in sorted(there):
                written = {a: keys[parent], b: agencies[b][wing]}
                out.append((a, b, Evidence("agency", wing_key(parent, wing), why, written)))
    return out


def ident(a: int, b: int, kind: str, key: str) -> Ident:
    """A decision's identity: the pair in order, the kind and the key."""
    return (min(a, b), max(a, b), kind, key)


def load_decisions(u: Unlocked) -> dict[Ident, str]:
    """Every reviewer decision on a link, unsealed."""
    return {i: d for _seq, i, d in _rows(u)}


def store_decision(u: Unlocked, which: Ident, decision: str) -> None:
    """Record a decision (replacing any earlier one on the same pair and key), in a transaction."""
    for seq, i, _d in _rows(u):
        if i == which:
            u.conn.execute("DELETE FROM link_decisions WHERE seq = ?", (seq,))
    row = u.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM link_decisions").fetchone()
    seq = int(row[0])
    a, b, kind, key = which
    record = {"reports": [a, b], "kind": kind, "key": key, "decision": decision}
    sealed = u.key.seal_record(
        json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        decision_context(seq),
    )
    u.conn.execute("INSERT INTO link_decisions VALUES (?, ?)", (seq, sealed))


def decision_context(seq: int) -> bytes:
    """The context a link decision is sealed under (for `review.keys.rewrap`)."""
    return f"link-decision:{seq}".encode("ascii")


def _rows(u: Unlocked) -> list[tuple[int, Ident, str]]:
    out = []
    for seq, sealed in u.conn.execute("SELECT seq, sealed FROM link_decisions ORDER BY seq"):
        obj = json.loads(u.key.open_record(sealed, decision_context(seq)))
        a, b = obj["reports"]
        out.append((seq, ident(int(a), int(b), obj["kind"], obj["key"]), str(obj["decision"])))
    return out
