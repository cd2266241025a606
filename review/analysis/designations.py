"""A person's designation as a report gives it: the rank or trade, and what the text adds.

A mention's designation is one string, shown to reviewers as written here and stored in
the sealed readings: the rank or trade first ("ASI", "Agent", "Brother"; empty when
there is none), then, each after ", ", what the report says beside the name:
- "another of this name": the source tells its man apart from a namesake
  (`review.analysis.namesakes`);
- "one of two of this name": the source says two men bear the name, and does not say
  which this is (`review.analysis.namesakes`; read as a warning too);
- "the senior", "the junior": the seniority written onto the name ("Gul Zaman Senior",
  "چھوٹے گل زمان"; `review.analysis.grades`);
- "of <place key>": the place written onto the name ("larkana wala", "of Kasur";
  `review.analysis.homes`);
- "s/o <name key>" (or "d/o", "w/o"): whose son, daughter or wife the report says the
  person is, as a record writes it ("Muhammad Iqbal s/o Gul Khan"; `review.analysis.parentage`);
- "CNIC <number>", "phone <number>": an identity card's or a phone's number written onto
  the name (`review.analysis.numbers`);
- "posted at <station key>": the police station the report writes onto the man's post
  ("SHO Tariq of Thana Saddar Kasur", "thana saddar ka sho tariq"; `review.analysis.homes`);
- "with <agency key>": the service written onto his rank ("FIA Sub-Inspector Imran Haider",
  "ایف آئی اے کا سب انسپکٹر", "Inspector Kamran Sabir of the FIA"; `review.analysis.homes`);
- "the writer": the report gives the name as its writer's own ("My name is ...", "میں
  ... ہوں"; `review.analysis.contacts`);
- "said not to be the one": the report names the man to say it was not him ("SHO
  Rana nahi balkay ASI Tariq", "it was not SHO Rana"; `review.analysis.denials`);
- "heard from others": the report gives the name only as what others say of the man
  ("log kehte hain ke SHO Rana ne paise liye", "the munshi said ASI Tariq took it";
  `review.analysis.hearsay`).

"ASI, the senior, of jhelum, s/o gul khan" reads as it means. A designation a
reviewer types is read the same way; parts that are none of these stay with the rank's
text unread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple, Protocol, TypeVar

NAMESAKE: Final = "another of this name"
TWO: Final = "one of two of this name"
_SEP: Final = ", "
_HOME: Final = "of "
# Whose son, daughter or wife: a record's own abbreviations, which reviewers read as written.
KIN_OF: Final = ("s/o ", "d/o ", "w/o ")
_CNIC: Final = "CNIC "
_PHONE: Final = "phone "
_POSTED: Final = "posted at "
_SERVICE: Final = "with "
SENIOR: Final = "the senior"
JUNIOR: Final = "the junior"
WRITER: Final = "the writer"
DENIED: Final = "said not to be the one"
HEARD: Final = "heard from others"


class Designation(NamedTuple):
    rank: str  # the rank or trade as designated ("ASI"), or ""
    namesake: bool = False
    home: str | None = None
    kin_of: str | None = None  # "s/o gul khan": the relation's abbreviation and the key
    cnic: str | None = None  # the CNIC's key ("11101-1234567-1")
    phone: str | None = None  # the phone number's key ("+923001234567")
    grade: str | None = None  # `SENIOR` or `JUNIOR`
    two: bool = False  # the report says two men bear the name (`namesake` is then true too)
    station: str | None = None  # the police station of the man's post, as keyed ("saddar/kasur")
    service: str | None = None  # the agency written onto his rank, as keyed ("fia immigration")
    writer: bool = False  # the report gives the name as its writer's own
    denied: bool = False  # the report says it was not this man ("not Rana but Tariq")
    heard: bool = False  # the report names him only as others speak of him (hearsay, rumour)


def compose(
    rank: str | None,
    namesake: bool = False,
    home: str | None = None,
    kin_of: str | None = None,
    cnic: str | None = None,
    phone: str | None = None,
    grade: str | None = None,
    two: bool = False,
    station: str | None = None,
    service: str | None = None,
    writer: bool = False,
    denied: bool = False,
    heard: bool = False,
) -> str | None:
    """One designation string from its parts (None when there is nothing to say)."""
    parts = [rank] if rank else []
    if two or namesake:
        parts.append(TWO if two else NAMESAKE)
    if grade:
        parts.append(grade)
    if home:
        parts.append(_HOME + home)
    if kin_of:
        parts.append(kin_of)
    if cnic:
        parts.append(_CNIC + cnic)
    if phone:
        parts.append(_PHONE + phone)
    if station:
        parts.append(_POSTED + station)
    if service:
        parts.append(_SERVICE + service)
    if writer:
        parts.append(WRITER)
    if denied:
        parts.append(DENIED)
    if heard:
        parts.append(HEARD)
    return _SEP.join(parts) or None


def render(said: Designation) -> str | None:
    """The designation string of `said` (`compose` of its parts)."""
    return compose(*said)


def parse(designation: str | None) -> Designation:
    """The parts of a designation string (`compose`'s inverse)."""
    if not designation:
        return Designation("")
    rank: list[str] = []
    namesake, home, kin_of, cnic, phone, grade, two = False, None, None, None, None, None, False
    station, service, writer, denied, heard = None, None, False, False, False
    for part in designation.split(_SEP):
        if part == WRITER:
            writer = True
        elif part == DENIED:
            denied = True
        elif part == HEARD:
            heard = True
        elif part in (NAMESAKE, TWO):
            namesake, two = True, two or part == TWO
        elif part in (SENIOR, JUNIOR):
            grade = part
        elif part.startswith(_HOME):
            home = part.removeprefix(_HOME)
        elif part.startswith(KIN_OF):
            kin_of = part
        elif part.startswith(_CNIC) and part[len(_CNIC) :][:1].isdigit():
            cnic = part.removeprefix(_CNIC)
        elif part.startswith(_PHONE) and part[len(_PHONE) :][:1] in "+0123456789":
            phone = part.removeprefix(_PHONE)
        elif part.startswith(_POSTED) and len(part) > len(_POSTED):
            station = part.removeprefix(_POSTED)
        elif part.startswith(_SERVICE) and len(part) > len(_SERVICE):
            service = part.removeprefix(_SERVICE)
        else:
            rank.append(part)
    return Designation(
        _SEP.join(rank),
        namesake,
        home,
        kin_of,
        cnic,
        phone,
        grade,
        two,
        station,
        service,
        writer,
        denied,
        heard,
    )


class Mention(Protocol):
    """What the passes over a report's mentions read of each (`entities.Entity` has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def designation(self) -> str | None: ...


M = TypeVar("M", bound=Mention)


def carry(
    mentions: Sequence[M],
    shortens: Callable[[str, str], bool],
    telling: Callable[[str], bool],
) -> list[M]:
    """`mentions`, a short form of a name taking what the report says of the full name.

    "ASI Rana Tariq Mehmood ... وہی رانا طارق": the second is the ASI too, and whatever
    else the report wrote onto the full name (a namesake warning, a home) is as true of
    it. A short form (`shortens(short, full)`) of exactly one full name the report gives
    takes that name's rank where it has none of its own, and its warning, home, kin,
    numbers and seniority.
    A short form's telling words (`telling`: no title or common name) are all in its full
    name's, so only full names holding them all are tried: linear in the report however
    many names it gives.
    """
    said: dict[str, Designation] = {}
    for m in mentions:
        if m.kind == "person" and m.designation:
            d, old = parse(m.designation), said.get(m.key, Designation(""))
            said[m.key] = _merged(old, d, old.rank or d.rank)
    holding: dict[str, set[str]] = {}
    for key in said:
        for word in set(key.split()):
            holding.setdefault(word, set()).add(key)
    full_of: dict[str, str | None] = {}

    def full(short: str) -> str | None:
        if short not in full_of:
            words = sorted(
                {w for w in short.split() if telling(w)}, key=lambda w: len(holding.get(w, ()))
            )
            tried = set(holding.get(words[0], ())) if words else set()
            for w in words[1:]:
                tried &= holding.get(w, set())
            fulls = [key for key in tried if key != short and shortens(short, key)]
            full_of[short] = fulls[0] if len(fulls) == 1 else None
        return full_of[short]

    out = list(mentions)
    for i, m in enumerate(out):
        if m.kind != "person" or not (of := full(m.key)):
            continue
        own, given = parse(m.designation), said[of]
        rank = own.rank or (given.rank if given.rank != "Named" else "")
        merged = render(_merged(own, given, rank))
        if merged != m.designation:
            out[i] = dataclasses.replace(m, designation=merged)  # type: ignore[type-var]
    return out


def _merged(first: Designation, second: Designation, rank: str) -> Designation:
    """`rank`, and each other part `first` gives, else `second`'s."""
    parts = {f: getattr(first, f) or getattr(second, f) for f in Designation._fields[1:]}
    return first._replace(rank=rank, **parts)
