"""Corroboration through the real import: entities per report, sources counted once, flags, CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import DecryptionError
from review import bidi
from review import workspace as ws
from review.analysis import copies, corroboration, entities, entity_names, links, records
from review.analysis.corpus import Corpus, Group, ReportFacts, shared_entities
from review.analysis.entities import Entity
from review.casework.reports import Content
from review.errors import InvalidValue, NotFound
from review.intake.importer import import_bundle
from review.workspace import audit, head
from review.workspace.schema import transaction
from review.workspace.search import normalize
from tests.app.support import form
from tests.review.support import Server, Source, all_bytes, review

FIRST = (
    "I drive for a brick kiln near Chunian. SHO Rana Tariq of Saddar police station took "
    "Rs 50,000 from the kiln owner on 12 March 2024 and brought back two labourers who ran "
    "away, in the police van LEA-4512. The kiln owner's number is 0300-1234567."
)
# Another witness, in Urdu, in their own words.
SECOND = (
    "قصور کے بھٹے پر ایس ایچ او رانا طارق ہر مہینے آتا ہے اور بھٹہ مالک سے پیسے لیتا ہے۔"
    " پولیس کی گاڑی LEA-4512 میں مزدوروں کو واپس لایا گیا۔"
)
# A third, in English, told differently.
THIRD = (
    "My uncle was held at the kiln for a debt he did not owe. When we complained at the "
    "Saddar police station, SHO Rana Tariq tore up our application and told us to pay the owner."
)
# The first source again, later, with a codename of its own: one source.
AGAIN = (
    "Again on 2 April 2024 SHO Rana Tariq came to the kiln near Chunian and took money. "
    "The kiln owner called him from 0300-1234567 before the labourers were beaten."
)
# Someone who lost their codename and wrote it again: a near-duplicate, other designations.
COPY = FIRST.replace("Rs 50,000", "fifty thousand rupees")
# The same author's distinctive wording about other officials: shared rare phrasing.
PHRASING_A = (
    "Whoever tries to leave the kiln is chained at night behind the drying sheds and the munshi "
    "writes their debt again in the green register. ASI Muhammad Aslam comes on Fridays."
)
PHRASING_B = (
    "The families at another kiln say the same. Whoever tries to leave the kiln is chained at "
    "night behind the drying sheds and the munshi writes their debt again in the green register. "
    "Constable Imran Butt was there on 5 May 2024."
)


def _again(server: Server, source: Source, message: str) -> None:
    """The same source sends another report from its account page."""
    page = form(source.account_page(), "/account")
    source.visitor.filed(source.visitor.send(page, message))


@pytest.fixture
def filed(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """Reports 1-7: three witnesses, the first source twice more, and a copy; all imported.

    Each is exported and imported on its own: the server keeps no order of arrival, so
    this is the only way their numbers follow the order they were sent in.
    """
    first = None
    for num, message in enumerate(
        [FIRST, SECOND, THIRD, AGAIN, COPY, PHRASING_A, PHRASING_B], start=1
    ):
        if message is AGAIN:
            assert first is not None
            _again(server, first, AGAIN)  # 4: same designation as 1
        else:
            source = server.submit(message)
            first = first or source
        import_bundle(unlocked, server.export(tmp_path / f"{num}.rzb"))
    return unlocked


def _group(u: ws.Unlocked, name: str, kind: str = "person") -> Group:
    (group,) = Corpus.load(u).lookup(name, kind)
    return group


def test_import_extracts_entities_into_sealed_records(filed: ws.Unlocked) -> None:
    rows = filed.conn.execute("SELECT report FROM report_entities ORDER BY report").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    kinds = {(m.kind, m.key) for m in corroboration.report_mentions(filed, 1)}
    assert {
        ("person", "rana tariq"),
        # the station's district from context, a town's: Chunian is in Kasur (data/towns.txt)
        ("police_station", "saddar/kasur"),
        ("vehicle", "LEA4512"),
        ("phone", "+923001234567"),
        ("date", "2024-03-12"),
    } <= kinds


def test_one_source_does_not_look_like_three(filed: ws.Unlocked) -> None:
    tariq = _group(filed, "رانا طارق")
    assert tariq.reports == (1, 2, 3, 4, 5)
    assert tariq.designations_of_sources == 4  # 1 and 4 share one designation
    assert tariq.sources == 3  # and 5 is a copy of 1: witnesses 1, 2 and 3
    phone = _group(filed, "0300 1234567", "phone")
    assert phone.reports == (1, 4, 5)
    assert phone.designations_of_sources == 2
    assert phone.sources == 1
    ranked = Corpus.load(filed).groups("person")
    assert ranked[0].key == "rana tariq"


def test_near_duplicates_and_same_source_are_flagged_apart(filed: ws.Unlocked) -> None:
    related = Corpus.load(filed).related(1)
    assert set(related.links) == {2, 3, 4, 5}
    assert [other for other, _ in related.near_duplicates] == [5]
    reasons = {s.other: s.reason for s in related.same_source}
    assert reasons[4] == "same source designation"
    assert reasons[5].startswith("near-duplicate text")
    assert 2 not in reasons
    assert 3 not in reasons


def test_shared_rare_phrasing_marks_one_author(filed: ws.Unlocked) -> None:
    corpus = Corpus.load(filed)
    related = corpus.related(7)
    assert related.near_duplicates == []
    assert [(s.other, s.reason.split()[0]) for s in related.same_source] == [(6, "shares")]
    assert corpus.source_group(7) == corpus.source_group(6)
    assert corpus.source_group(2) != corpus.source_group(3)


def test_shared_entities_for_escalation(filed: ws.Unlocked) -> None:
    shared = shared_entities(filed, [1, 2, 5])
    by_name = {(d["kind"], d["name"]): d for d in shared}
    tariq = by_name[("person", "Rana Tariq")]
    assert set(tariq) == {"kind", "key", "name", "reports", "sources", "first", "last"}
    assert tariq["reports"] == [1, 2, 5]
    # 1 names Saddar police station at Chunian, a town of Kasur, and 2 names Kasur: set in
    # one district, the name links them strongly; 5 is a copy of 1. Two sources.
    assert tariq["sources"] == 2
    assert isinstance(tariq["first"], str)
    assert ("vehicle", "LEA-4512") in by_name
    with pytest.raises(NotFound):
        shared_entities(filed, [1, 99])


def test_reviewers_confirm_reject_add_and_correct_with_audit(filed: ws.Unlocked) -> None:
    corroboration.decide(filed, 3, "Rana Tariq", "rejected")
    assert _group(filed, "Rana Tariq").reports == (1, 2, 4, 5)
    assert _group(filed, "Rana Tariq").sources == 2
    corroboration.decide(filed, 2, "LEA 4512", "confirmed")
    assert _group(filed, "LEA-4512", "vehicle").confirmed
    corroboration.add(filed, 3, "person", "Rana Tariq", "SHO")
    assert _group(filed, "Rana Tariq").sources == 3
    corroboration.correct(filed, 6, "Muhammad Aslam", "Muhammad Aslam Gondal", "person")
    keys = {m.key: m.status for m in corroboration.report_mentions(filed, 6)}
    assert keys["muhammad aslam"] == "rejected"
    assert keys["muhammad aslam gondal"] == "added"
    actions = [(e.action, e.target, e.detail) for e in audit.entries(filed)]
    assert ("entity-reject", 3, {"kind": "person", "key": "rana tariq"}) in actions
    assert ("entity-confirm", 2, {"kind": "vehicle", "key": "LEA4512"}) in actions
    assert any(a == "entity-add" and t == 3 for a, t, _ in actions)
    assert any(a == "entity-correct" and t == 6 for a, t, _ in actions)
    assert audit.verify(filed.workspace).ok


def test_decisions_survive_a_rerun_of_the_extractor(filed: ws.Unlocked) -> None:
    corroboration.decide(filed, 3, "Rana Tariq", "rejected")
    corroboration.add(filed, 2, "district", "Kasur")
    before = {n: corroboration.report_mentions(filed, n) for n in range(1, 8)}
    assert corroboration.reextract(filed) == 7
    after = {n: corroboration.report_mentions(filed, n) for n in range(1, 8)}
    assert after == before
    assert audit.entries(filed)[-1].action == "entities-extract"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda u: corroboration.decide(u, 1, "Nobody Here", "confirmed"), NotFound),
        (lambda u: corroboration.decide(u, 99, "Rana Tariq", "confirmed"), NotFound),
        (lambda u: corroboration.decide(u, 1, "Rana Tariq", "maybe"), InvalidValue),
        (lambda u: corroboration.add(u, 1, "planet", "Mars"), InvalidValue),
        (lambda u: corroboration.add(u, 1, "cnic", "not a number"), InvalidValue),
        (lambda u: corroboration.add(u, 42, "person", "Rana Tariq"), NotFound),
    ],
)
def test_bad_entity_changes_are_refused(
    filed: ws.Unlocked, call: Callable[[ws.Unlocked], object], error: type[Exception]
) -> None:
    count = len(audit.entries(filed))
    with pytest.raises(error):
        call(filed)
    assert len(audit.entries(filed)) == count


def test_cli_entities_entity_and_related(filed: ws.Unlocked) -> None:
    root = filed.workspace.root
    result = review(root, "entities", "--kind", "person")
    assert result.exit_code == 0, result.output
    assert "Rana Tariq" in result.output
    assert "Muhammad Aslam" in result.output
    result = review(root, "entity", "رانا طارق")
    assert result.exit_code == 0, result.output
    assert "5 reports, 3 independent sources (4 source designations)" in result.output
    assert "with #1" in result.output
    result = review(root, "related", "1")
    assert result.exit_code == 0, result.output
    assert "Near-duplicate texts" in result.output
    assert "same source designation" in result.output
    assert "no: likely same source" in result.output
    result = review(root, "entities", "--report", "1")
    assert "LEA4512" in result.output
    result = review(root, "entity-reject", "3", "Rana Tariq")
    assert result.exit_code == 0, result.output
    assert "rejected" in review(root, "entities", "--report", "3").output
    result = review(root, "entity-add", "3", "person", "Rana Tariq", "--designation", "SHO")
    assert result.exit_code == 0, result.output
    assert review(root, "entities-extract", "3").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("related", "99"), "no report 99"),
        (("entity-confirm", "1", "Nobody Here"), "report 1 names no entity (what you gave)"),
        (("entity-add", "1", "cnic", "12"), "(what you gave) is not a cnic the tool can match"),
    ],
)
def test_cli_refusals(filed: ws.Unlocked, args: tuple[str, ...], message: str) -> None:
    result = review(filed.workspace.root, *args)
    assert result.exit_code == 1
    assert f"raazdar-review: error: {message}" in result.output


def test_entity_text_is_not_at_rest(server: Server, workspace: Path, tmp_path: Path) -> None:
    name, added = "Zorvak Qelmir", "Yuntaz Pirvolk"
    urdu = "ژورواک قیلمیر"
    server.submit(f"SHO {name} took the money. ایس ایچ او {urdu} نے پیسے لیے۔ Call 0300-9876543.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    assert review(workspace, "entity-confirm", "1", name).exit_code == 0
    assert review(workspace, "entity-add", "1", "person", f"ASI {added}").exit_code == 0
    assert review(workspace, "entities-extract").exit_code == 0
    assert name in review(workspace, "entity", name).output  # all there, when unlocked
    needles = [
        s.encode(e)
        for s in (name, name.lower(), added, added.lower(), urdu, "+923009876543", "9876543")
        for e in ("utf-8", "utf-16-le")
    ]
    files = all_bytes(workspace)
    assert any(p.name == "workspace.db" for p, _ in files)
    for path, data in files:
        for needle in needles:
            assert needle not in data, (path, needle)


def test_a_record_moved_to_another_report_does_not_open(filed: ws.Unlocked) -> None:
    sealed = filed.conn.execute("SELECT sealed FROM report_entities WHERE report = 1").fetchone()
    filed.conn.execute("UPDATE report_entities SET sealed = ? WHERE report = 2", sealed)
    with pytest.raises(DecryptionError):
        corroboration.report_mentions(filed, 2)


# --- links: evidence, strength, reviewers' decisions ------------------------------------------
# Each report is written by its own source in its own words; its entities are set
# directly, in the key format the extractor agreed on (`<station>/<district>`), so these
# tests hold whatever the extractor finds.
PLAIN = (
    "I worked at the brick kiln for two winters before my brother found a lawyer.",
    "The family next to ours has owed the owner money since their grandfather's time.",
    "Nobody at the station wrote down our complaint; they sent us home that night.",
    "My cousin was taken across the border in a truck and has not called since March.",
)
CNIC = "35202-1234567-1"
ENTITIES = {
    1: [
        ("person", "muhammad ali", "SHO Muhammad Ali"),
        ("police_station", "saddar", "Thana Saddar"),
        ("cnic", CNIC, CNIC),
        ("district", "kasur", "Kasur"),
    ],
    2: [
        ("person", "muhammad ali", "ایس ایچ او محمد علی"),
        ("police_station", "saddar", "تھانہ صدر"),
        ("district", "kasur", "قصور"),
    ],
    3: [
        ("cnic", CNIC, "35202 1234567 1"),
        ("police_station", "saddar/kasur", "Thana Saddar, Kasur"),
    ],
    4: [
        ("police_station", "saddar/kasur", "PS Saddar District Kasur"),
        ("district", "kasur", "Kasur"),
        ("agency", "punjab police", "Punjab Police"),
    ],
}


def _set_entities(
    u: ws.Unlocked, num: int, found: list[tuple[str, str, str]], ranks: tuple[str, ...] = ()
) -> None:
    """Store a report's entities; `ranks` are the designations written beside its people."""
    record = records.Record(
        found=[
            {
                "kind": k,
                "key": key,
                "texts": [t],
                "designations": list(ranks) if k == "person" else [],
            }
            for k, key, t in found
        ]
    )
    sealed = u.key.seal_record(record.encode(), records.entities_context(num))
    u.conn.execute(
        "INSERT INTO report_entities VALUES (?, ?) ON CONFLICT(report) DO UPDATE"
        " SET sealed = excluded.sealed",
        (num, sealed),
    )
    head.put(u.conn, u.key)  # as the audit entry after each writer does: they are under the tag


@pytest.fixture
def linked(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """Reports 1-4 from four sources: 1-2 share a common name and a bare station (weak),
    1-3 a CNIC, 3-4 a station with its district (strong), 1-4 only a district."""
    for num, message in enumerate(PLAIN, start=1):
        server.submit(message)
        import_bundle(unlocked, server.export(tmp_path / f"{num}.rzb"))
    for num, found in ENTITIES.items():
        _set_entities(unlocked, num, found)
    return unlocked


@pytest.mark.parametrize(
    ("kind", "key", "level"),
    [
        ("cnic", CNIC, "strong"),
        ("phone", "+923001234567", "strong"),
        ("vehicle", "LEA4512", "strong"),
        ("person", "rana tariq", "strong"),
        ("person", "muhammad aslam gondal", "strong"),
        ("person", "muhammad ali", "weak"),  # every word a common one
        ("person", "ali khan", "weak"),
        ("person", "bibi", "weak"),
        ("person", "tariq", "weak"),  # one word
        ("police_station", "saddar/kasur", "strong"),
        ("police_station", "civil lines/lahore", "strong"),
        ("police_station", "saddar", "weak"),
        ("police_station", "saddar/", "weak"),
        ("district", "kasur", "context"),
        ("agency", "fia", "context"),
        ("date", "2024-03-12", "context"),
    ],
)
def test_strength_of_a_link_by_its_key(kind: str, key: str, level: str) -> None:
    assert links.strength(kind, key).level == level


def test_common_names_are_read_in_every_listed_spelling() -> None:
    words = entity_names.common_words()
    assert {"muhammad", "mohammed", "محمد", "khan", "خان", "chaudhry", "ch"} <= words
    assert "tariq" not in words
    assert not any("#" in w or "[" in w for w in words)  # sources are comments, not names


def test_a_bare_station_or_a_common_name_makes_a_weak_link(linked: ws.Unlocked) -> None:
    related = Corpus.load(linked).related(1)
    link = related.links[2]
    assert link.level == "weak"
    assert not link.corroborates
    states = {(e.kind, e.key): e.state for e in link.evidence}
    assert states == {
        ("person", "muhammad ali"): "weak",
        ("police_station", "saddar"): "weak",
        ("district", "kasur"): "context",
    }


def test_a_shared_cnic_makes_a_strong_link_with_its_evidence(linked: ws.Unlocked) -> None:
    link = Corpus.load(linked).related(1).links[3]
    assert link.level == "strong"
    assert link.corroborates
    (evidence,) = link.evidence
    assert (evidence.kind, evidence.key) == ("cnic", CNIC)
    assert evidence.written == {1: (CNIC,), 3: ("35202 1234567 1",)}
    assert evidence.strength.why == "a CNIC"


def test_a_station_with_its_district_links_strongly_and_a_district_alone_not_at_all(
    linked: ws.Unlocked,
) -> None:
    corpus = Corpus.load(linked)
    assert corpus.related(3).links[4].level == "strong"
    related = corpus.related(1)
    assert 4 not in related.links  # only "Kasur" in common
    assert related.context_only == 1
    assert _group(linked, "Kasur", "district").corroborating == 0


def test_a_weak_link_is_not_corroboration_until_a_reviewer_confirms_it(
    linked: ws.Unlocked,
) -> None:
    before = Corpus.load(linked).related(1)
    assert (before.corroborating, before.weak_only) == (1, 1)  # 3 by CNIC; 2 only weakly
    ali = _group(linked, "Muhammad Ali")
    assert (ali.sources, ali.corroborating) == (2, 1)
    (shared,) = [d for d in shared_entities(linked, [1, 2]) if d["kind"] == "person"]
    assert shared["sources"] == 1

    evidence = corroboration.decide_link(linked, 2, 1, "Muhammad Ali", "confirmed", "person")
    assert (evidence.key, evidence.state) == ("muhammad ali", "confirmed")

    after = Corpus.load(linked).related(1)
    assert (after.corroborating, after.weak_only) == (2, 0)
    assert after.links[2].level == "confirmed"
    # Per pair and key: the bare station the two reports share is still only weak.
    states = {e.key: e.state for e in after.links[2].evidence}
    assert states == {"muhammad ali": "confirmed", "saddar": "weak", "kasur": "context"}
    assert _group(linked, "Muhammad Ali").corroborating == 2
    (shared,) = [d for d in shared_entities(linked, [1, 2]) if d["kind"] == "person"]
    assert shared["sources"] == 2
    entry = audit.entries(linked)[-1]
    assert (entry.action, entry.target) == ("link-confirm", 1)
    assert entry.detail == {"other": 2, "kind": "person", "key": "muhammad ali"}
    assert audit.verify(linked.workspace).ok


def test_a_name_links_strongly_only_between_reports_set_in_the_same_place(
    linked: ws.Unlocked,
) -> None:
    """Two men share a full, uncommon name: only a place in common makes one of them."""
    name = ("person", "tariq mehmood", "SHO Tariq Mehmood")
    sho = ("SHO",)  # a name alone is weak at one place too (test_rank_against_none.py)
    _set_entities(linked, 1, [name, ("district", "kasur", "Kasur")], sho)
    _set_entities(linked, 2, [name, ("police_station", "saddar/kasur", "Thana Saddar Kasur")], sho)
    _set_entities(linked, 3, [name, ("district", "gujrat", "Gujrat")], sho)
    _set_entities(linked, 4, [name], sho)
    assert links.strength("person", "tariq mehmood").level == "strong"  # as a key, alone
    related = Corpus.load(linked).related(1)
    assert related.links[2].level == "strong"  # Kasur, and a station in Kasur
    for other in (3, 4):
        (evidence,) = related.links[other].evidence
        assert evidence.state == "weak"
        why = "the same name, but not set at the same police station or district"
        assert evidence.strength.why == why
    assert (related.corroborating, related.weak_only) == (1, 2)
    assert _group(linked, "Tariq Mehmood").corroborating == 2

    corroboration.decide_link(linked, 1, 3, "Tariq Mehmood", "confirmed", "person")
    assert _group(linked, "Tariq Mehmood").corroborating == 3
    assert Corpus.load(linked).related(1).links[3].level == "confirmed"


def test_a_name_under_ranks_no_one_man_holds_is_two_men_until_confirmed(
    linked: ws.Unlocked,
) -> None:
    """ASI Tariq Mehmood and SHO Tariq Mehmood, both in Kasur: a weak link, not corroboration."""
    name = ("person", "tariq mehmood", "Tariq Mehmood")
    kasur = ("district", "kasur", "Kasur")
    _set_entities(linked, 1, [name, kasur], ("SHO",))
    _set_entities(linked, 2, [name, kasur], ("ASI",))
    _set_entities(linked, 3, [name, kasur], ("Inspector", "Uncle"))  # an SHO is an inspector
    _set_entities(linked, 4, [name, kasur], ("Agent",))
    related = Corpus.load(linked).related(1)
    assert related.links[3].level == "strong"
    for other in (2, 4):
        (evidence, _district) = related.links[other].evidence
        assert evidence.state == "weak"
        assert "ranks or trades one person would not hold both" in evidence.strength.why
    assert (related.corroborating, related.weak_only) == (1, 2)
    assert _group(linked, "Tariq Mehmood").corroborating == 2  # 1 and 3; 2 and 4 apart
    corroboration.decide_link(linked, 1, 2, "Tariq Mehmood", "confirmed", "person")
    assert Corpus.load(linked).related(1).links[2].level == "confirmed"


def test_a_name_at_two_different_police_stations_is_weak(linked: ws.Unlocked) -> None:
    """Both name Kasur, but each is set at its own station: the girls' home is not his post."""
    name = ("person", "tariq mehmood", "Tariq Mehmood")
    _set_entities(
        linked,
        1,
        [
            name,
            ("police_station", "saddar/kasur", "Thana Saddar Kasur"),
            ("district", "kasur", "K"),
        ],
        ("SHO",),
    )
    _set_entities(
        linked,
        2,
        [
            name,
            ("police_station", "model town/lahore", "Model Town police station"),
            ("district", "kasur", "Kasur"),
        ],
        ("SHO",),
    )
    _set_entities(linked, 3, [name, ("police_station", "saddar", "Thana Saddar")], ("SHO",))
    related = Corpus.load(linked).related(1)
    person = {o: next(e for e in related.links[o].evidence if e.kind == "person") for o in (2, 3)}
    assert person[2].state == "weak"
    assert person[3].state == "strong"  # a station written without its district: Saddar, any


def test_a_rejected_link_never_shows_as_corroboration_again(linked: ws.Unlocked) -> None:
    evidence = corroboration.decide_link(linked, 1, 3, None, "rejected")  # the CNIC: all they share
    assert (evidence.kind, evidence.state) == ("cnic", "rejected")
    related = Corpus.load(linked).related(1)
    assert 3 not in related.links
    assert related.corroborating == 0
    assert _group(linked, CNIC, "cnic").corroborating == 1
    assert audit.entries(linked)[-1].action == "link-reject"
    # A confirmed weak link can be rejected later; the last word holds, once.
    corroboration.decide_link(linked, 1, 2, "Muhammad Ali", "confirmed", "person")
    corroboration.decide_link(linked, 1, 2, "Muhammad Ali", "rejected", "person")
    link = Corpus.load(linked).related(1).links[2]
    assert "muhammad ali" not in {e.key for e in link.evidence}
    assert len(linked.conn.execute("SELECT seq FROM link_decisions").fetchall()) == 2


def test_link_decisions_are_sealed(linked: ws.Unlocked) -> None:
    corroboration.decide_link(linked, 1, 2, "Muhammad Ali", "confirmed", "person")
    ((sealed,),) = linked.conn.execute("SELECT sealed FROM link_decisions").fetchall()
    assert b"muhammad" not in sealed
    assert b"confirmed" not in sealed


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda u: corroboration.decide_link(u, 1, 1, "Muhammad Ali", "confirmed"), InvalidValue),
        (lambda u: corroboration.decide_link(u, 1, 99, None, "confirmed"), NotFound),
        (lambda u: corroboration.decide_link(u, 1, 2, "Muhammad Ali", "maybe"), InvalidValue),
        (lambda u: corroboration.decide_link(u, 1, 3, "Muhammad Ali", "confirmed"), NotFound),
        (lambda u: corroboration.decide_link(u, 1, 2, None, "confirmed"), InvalidValue),
        (lambda u: corroboration.decide_link(u, 1, 4, "Kasur", "confirmed"), InvalidValue),
        (lambda u: corroboration.decide_link(u, 1, 4, None, "confirmed"), NotFound),
    ],
)
def test_bad_link_decisions_are_refused(
    linked: ws.Unlocked, call: Callable[[ws.Unlocked], object], error: type[Exception]
) -> None:
    count = len(audit.entries(linked))
    with pytest.raises(error):
        call(linked)
    assert len(audit.entries(linked)) == count
    assert linked.conn.execute("SELECT count(*) FROM link_decisions").fetchone() == (0,)


def test_cli_shows_each_links_strength_and_evidence(linked: ws.Unlocked) -> None:
    root = linked.workspace.root
    out = review(root, "related", "1", "--rtl", "logical").output
    assert "SHO Muhammad Ali = #2 ایس ایچ او محمد علی" in out
    assert "[muhammad ali; a common name]" in out
    assert "#1 Thana Saddar = #2 تھانہ صدر  [saddar; a police station without its district]" in out
    assert "#1 35202-1234567-1 = #3 35202 1234567 1" in out
    assert "Corroboration: 1 independent sources through strong or confirmed links;" in out
    assert "1 more only through weak links" in out
    assert "1 more reports share only a district, agency or date" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "weak" in rows["2"].split("│")[4]
    assert "strong" in rows["3"].split("│")[4]

    result = review(root, "link-confirm", "1", "2", "Muhammad Ali", "--kind", "person")
    assert result.exit_code == 0, result.output
    assert "reports 1 and 2: link on a person confirmed" in result.output
    out = review(root, "related", "1").output
    assert "confirmed person: #1 SHO Muhammad Ali" in out
    assert "Corroboration: 2 independent sources" in out
    out = review(root, "entity", "Muhammad Ali", "--kind", "person").output
    assert "weak: a common name" in out
    assert "corroboration: 2 independent sources joined by strong or confirmed links" in out
    assert "#1 - #2 │ confirmed" in out

    result = review(root, "link-confirm", "3", "4", "Saddar")  # the station, keyed with Kasur
    assert "reports 3 and 4: link on a police station confirmed" in result.output
    assert review(root, "link-reject", "1", "3").exit_code == 0  # the CNIC, the only key
    out = review(root, "related", "1").output
    assert "35202 1234567 1" not in out
    assert "Corroboration: 1 independent sources" in out


def test_cli_shows_urdu_evidence_in_visual_order_when_asked(linked: ws.Unlocked) -> None:
    root = linked.workspace.root
    visual = review(root, "related", "1", "--rtl", "visual").output
    assert bidi.visual("ایس ایچ او محمد علی") in visual
    assert "ایس ایچ او محمد علی" not in visual
    out = review(root, "entity", "Muhammad Ali", "--kind", "person", "--rtl", "visual").output
    assert bidi.visual("ایس ایچ او محمد علی") in out


def test_an_override_in_a_name_cannot_reorder_the_evidence(linked: ws.Unlocked) -> None:
    _set_entities(linked, 2, [("person", "muhammad ali", "SHO \u202eilA dammahuM")])
    out = review(linked.workspace.root, "related", "1", "--rtl", "logical").output
    assert "\u202e" not in out
    assert "SHO ilA dammahuM" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("link-confirm", "1", "2"), "reports 1 and 2 share 2 entities: name the one you mean"),
        (("link-confirm", "1", "4", "Kasur"), "a district alone never links two reports"),
        (("link-reject", "1", "3", "Nobody"), "report 1 names no entity (what you gave)"),
    ],
)
def test_cli_link_refusals(linked: ws.Unlocked, args: tuple[str, ...], message: str) -> None:
    result = review(linked.workspace.root, *args)
    assert result.exit_code == 1
    assert f"raazdar-review: error: {message}" in result.output


def test_confirmed_pairs_join_a_weak_key_and_only_some_pairs_are_listed() -> None:
    day = dt.date(2024, 3, 1)
    record = records.Record(
        found=[
            {
                "kind": "police_station",
                "key": "saddar",
                "texts": ["Thana Saddar"],
                "designations": [],
            }
        ]
    )
    facts = {n: ReportFacts(n, f"source {n}", day, record) for n in range(1, 13)}
    confirmed = {
        links.ident(1, 2, "police_station", "saddar"): "confirmed",
        links.ident(3, 2, "police_station", "saddar"): "confirmed",
        links.ident(5, 6, "police_station", "saddar"): "rejected",
    }
    corpus = Corpus(facts, confirmed)
    (saddar,) = corpus.groups("police_station")
    assert (saddar.sources, saddar.corroborating) == (12, 3)  # 1-2-3, joined by confirmation
    assert Corpus(facts).groups("police_station")[0].corroborating == 1
    shown, total = corpus.pairs(saddar, 4)
    assert total == 66
    assert [(a, b, e.state) for a, b, e in shown] == [
        (1, 2, "confirmed"),
        (2, 3, "confirmed"),
        (5, 6, "rejected"),
        (1, 3, "weak"),
    ]


def _words_reference(text: str, masked: Sequence[Entity]) -> list[str]:
    """The words 5-grams are made of: masked entities as one word each, no punctuation."""
    for ent in sorted(masked, key=lambda e: e.start, reverse=True):
        text = f"{text[: ent.start]} \x00{ent.kind} {text[ent.end :]}"
    return [w for w in normalize(text).split() if any(c.isalnum() for c in w) or "\x00" in w]


def _grams_reference(words: list[str], masked: bool) -> list[list[str]]:
    grams = [words] if len(words) < 5 else [words[i : i + 5] for i in range(len(words) - 4)]
    if masked:
        grams = [g for g in grams if sum("\x00" in w for w in g) <= 1]
    return grams if words else []


def _shingles_reference(text: str, masked: Sequence[Entity]) -> set[int]:
    """The plainest form of the shingles (hashing scheme 2): a reference the fast one must equal."""
    k = 0x9E3779B97F4A7C15
    out = set()
    for gram in _grams_reference(_words_reference(text, masked), bool(masked)):
        h = 0
        for w in gram:
            word = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big")
            h = (h * k + (word | 1)) % 2**64
        out.add(h >> 16)
    return out


def _shingles_v1(text: str, masked: Sequence[Entity]) -> set[int]:
    """Hashing scheme 1, as records made before scheme 2 hold it: blake2b of each 5-gram."""
    return {
        int.from_bytes(hashlib.blake2b(" ".join(g).encode(), digest_size=6).digest(), "big")
        for g in _grams_reference(_words_reference(text, masked), bool(masked))
    }


_PIECES = st.sampled_from(
    [
        "SHO Rana Tariq",
        " of ",
        "Thana Saddar",
        ", Kasur. ",
        "ایس ایچ او رانا طارق",
        " نے ",
        "تھانہ صدر",
        "۔ ",
        "0300-1234567",
        " — ",
        "took Rs 50,000",
        "\u00a0",
        "\u0640",
        "...",
        "\n",
    ]
)


@given(st.lists(_PIECES, max_size=40), st.booleans())
@settings(max_examples=300, deadline=None)
def test_shingles_equal_their_plain_reference(pieces: list[str], mask: bool) -> None:
    text = "".join(pieces)
    found = entities.extract(text) if mask else []
    words = copies.WordHashes()
    assert copies.shingles(text, found, words) == _shingles_reference(text, found)
    assert copies.shingles(text, found, words) == _shingles_reference(text, found)


@given(st.text(), st.lists(st.integers(0, 200), max_size=6), st.booleans())
@settings(max_examples=500, deadline=None)
def test_shingles_of_any_text_equal_their_plain_reference(
    text: str, cuts: list[int], mask: bool
) -> None:
    """Folding token by token is folding the whole text, for any text and any masks."""
    points = sorted({min(c, len(text)) for c in cuts})
    masked = [
        Entity("person", text[a:b], "k", a, b)
        for a, b in zip(points[::2], points[1::2], strict=False)
        if mask and a < b
    ]
    words = copies.WordHashes()
    for _ in range(2):  # the second time, from what the first one kept
        assert copies.shingles(text, masked, words) == _shingles_reference(text, masked)


def _make_v1(u: ws.Unlocked, num: int, text: str) -> None:
    """Turn report `num`'s record into one written before hashing scheme 2 (no `hashing`)."""
    (sealed,) = u.conn.execute(
        "SELECT sealed FROM report_entities WHERE report = ?", (num,)
    ).fetchone()
    obj = json.loads(u.key.open_record(sealed, records.entities_context(num)))
    del obj["hashing"]
    obj["shingles"] = sorted(_shingles_v1(text, []))
    obj["phrases"] = sorted(_shingles_v1(text, entities.extract(text)))
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()
    u.conn.execute(
        "UPDATE report_entities SET sealed = ? WHERE report = ?",
        (u.key.seal_record(data, records.entities_context(num)), num),
    )


def _record(u: ws.Unlocked, num: int) -> records.Record:
    (sealed,) = u.conn.execute(
        "SELECT sealed FROM report_entities WHERE report = ?", (num,)
    ).fetchone()
    return records.Record.decode(u.key.open_record(sealed, records.entities_context(num)))


@pytest.fixture
def old_first(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """Report 1 (FIRST), its record as hashing scheme 1 wrote it."""
    server.submit(FIRST)
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    _make_v1(unlocked, 1, FIRST)
    return unlocked


def test_a_record_of_the_old_hashing_still_finds_its_copies(
    server: Server, old_first: ws.Unlocked, tmp_path: Path
) -> None:
    """Report 1 filed under hashing scheme 1, its copy 2 under scheme 2: still one source."""
    unlocked = old_first
    server.submit(COPY)
    import_bundle(unlocked, server.export(tmp_path / "2.rzb"))
    old, new = _record(unlocked, 1), _record(unlocked, 2)
    assert (old.hashing, new.hashing) == (1, copies.HASHING)
    # Compared as they are, the two schemes' hashes never meet: the copy would go unseen.
    facts = {
        n: ReportFacts(n, f"source {n}", dt.date(2024, 1, 1), r) for n, r in ((1, old), (2, new))
    }
    assert not old.shingles & new.shingles
    assert Corpus(facts).near[1] == {}

    corpus = Corpus.load(unlocked)  # hashes record 1 again from its report first
    assert corpus.near[1][2] >= copies.NEAR_DUPLICATE
    assert corpus.source_group(2) == 1
    again = _record(unlocked, 1)
    assert again.hashing == copies.HASHING
    assert again.shingles == _shingles_reference(FIRST, [])
    assert (again.found, again.decisions) == (old.found, old.decisions)
    entry = audit.entries(unlocked)[-1]
    assert (entry.action, entry.detail) == (
        "entities-rehash",
        {"reports": [1], "hashing": copies.HASHING, "version": records.EXTRACTOR_VERSION},
    )
    Corpus.load(unlocked)  # nothing old is left: nothing is written again
    assert audit.entries(unlocked)[-1].seq == entry.seq


def test_new_contents_for_a_report_of_the_old_hashing_hash_it_all_again(
    old_first: ws.Unlocked,
) -> None:
    unlocked = old_first
    with transaction(unlocked.conn):
        corroboration.file_contents(unlocked, {1: [Content(message="SHO Imran Butt again")]})
    record = _record(unlocked, 1)
    assert record.hashing == copies.HASHING
    assert record.shingles == _shingles_reference(FIRST, []) | _shingles_reference(
        "SHO Imran Butt again", []
    )
    assert "imran butt" in {e["key"] for e in record.found}


def test_a_key_an_older_extractor_gave_is_read_again_before_it_links(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """A record keeps the keys the extractor of its day gave. Version 1 keyed "Akram Ullah"
    as the listed "Ikramullah"; a workspace that filed report 1 then kept linking it to
    every Ikramullah Khosa filed after, strongly. Now a record of an older extractor is
    read again from its report before it is compared, its reviewers' decisions kept."""
    server.submit("ASI Akram Ullah Khosa of Thana Saddar Kasur took Rs 50,000 from the owner.")
    server.submit("ASI Ikram Ullah Khosa of Thana Saddar Kasur beat my brother at the thana.")
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    (akram,) = [
        n for n in (1, 2) if "akramullah khosa" in {e["key"] for e in _record(unlocked, n).found}
    ]
    ikram = 3 - akram
    (sealed,) = unlocked.conn.execute(
        "SELECT sealed FROM report_entities WHERE report = ?", (akram,)
    ).fetchone()
    obj = json.loads(unlocked.key.open_record(sealed, records.entities_context(akram)))
    for e in obj["found"]:  # as version 1 keyed it
        e["key"] = e["key"].replace("akramullah", "ikramullah")
    obj["version"] = 1
    obj["decisions"] = {records.ident("person", "khan"): "rejected"}
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()
    unlocked.conn.execute(
        "UPDATE report_entities SET sealed = ? WHERE report = ?",
        (unlocked.key.seal_record(data, records.entities_context(akram)), akram),
    )

    corpus = Corpus.load(unlocked)
    linked = corpus.related(akram).links.get(ikram)
    assert linked is None or not [e for e in linked.evidence if e.kind == "person"], linked
    again = _record(unlocked, akram)
    assert again.version == records.EXTRACTOR_VERSION
    assert "akramullah khosa" in {e["key"] for e in again.found}
    assert again.decisions == {records.ident("person", "khan"): "rejected"}
    entry = audit.entries(unlocked)[-1]
    assert (entry.action, entry.detail) == (
        "entities-rehash",
        {"reports": [akram], "hashing": copies.HASHING, "version": records.EXTRACTOR_VERSION},
    )


def test_a_record_of_the_old_hashing_is_not_added_to_unhashed() -> None:
    with pytest.raises(ValueError, match="rehash"):
        records.Record(hashing=1).merge([Content(message="text")])


def test_a_short_form_of_a_name_links_reports_with_its_evidence_and_strength(
    linked: ws.Unlocked,
) -> None:
    """'SHO Chandio' at the station where another report names SHO Mumtaz Ali Chandio: strong;
    'Chandio' with no rank in that district: weak, shown, counted only once a reviewer
    confirms it; 'Chandio' in a report set elsewhere: no link."""
    station = ("police_station", "saddar/kasur", "Thana Saddar Kasur")
    full = ("person", "mumtaz ali chandio", "Mumtaz Ali Chandio")
    _set_entities(linked, 1, [full, station], ("SHO",))
    _set_entities(linked, 2, [("person", "chandio", "Chandio"), station], ("SHO",))
    _set_entities(linked, 3, [("person", "chandio", "چانڈیو"), ("district", "kasur", "Kasur")])
    _set_entities(linked, 4, [("person", "chandio", "Chandio"), ("district", "gujrat", "Gujrat")])
    related = Corpus.load(linked).related(1)
    short = {o: next(e for e in related.links[o].evidence if "<" in e.key) for o in (2, 3)}
    assert short[2].key == "chandio < mumtaz ali chandio"
    assert (short[2].state, short[3].state) == ("strong", "weak")
    assert short[2].written == {2: ("Chandio",), 1: ("Mumtaz Ali Chandio",)}
    assert "without one rank on both sides" in short[3].strength.why
    assert 4 not in related.links
    assert (related.links[3].level, related.links[3].corroborates) == ("weak", False)
    assert (related.corroborating, related.weak_only) == (1, 1)

    root = linked.workspace.root
    result = review(root, "related", "1")
    assert result.exit_code == 0, result.output
    assert "chandio < mumtaz ali chandio" in result.output
    assert "strong" in result.output
    assert "weak" in result.output
    result = review(root, "entity", "Mumtaz Ali Chandio")
    assert result.exit_code == 0, result.output
    assert "Short forms of this name linked to full names (short - full)" in result.output
    assert "#2 - #1" in result.output
    assert "#3 - #1" in result.output

    evidence = corroboration.decide_link(linked, 3, 1, "Chandio", "confirmed", "person")
    assert (evidence.key, evidence.state) == ("chandio < mumtaz ali chandio", "confirmed")
    after = Corpus.load(linked).related(1)
    assert after.links[3].level == "confirmed"
    assert (after.corroborating, after.weak_only) == (2, 0)
    corroboration.decide_link(linked, 1, 2, "Chandio", "rejected", "person")
    rejected = Corpus.load(linked).related(1)
    # The rejected short form is gone; the station both name still links them.
    assert [e.key for e in rejected.links[2].evidence] == ["saddar/kasur"]


def test_weak_short_forms_wait_under_their_full_name_until_decided(linked: ws.Unlocked) -> None:
    """'SHO Chandio' at the full name's station is strong: nothing to decide. A bare
    'چانڈیو' in Kasur is weak: it waits under the full name until a reviewer decides it."""
    station = ("police_station", "saddar/kasur", "Thana Saddar Kasur")
    full = ("person", "mumtaz ali chandio", "Mumtaz Ali Chandio")
    _set_entities(linked, 1, [full, station], ("SHO",))
    _set_entities(linked, 2, [("person", "chandio", "Chandio"), station], ("SHO",))
    _set_entities(linked, 3, [("person", "chandio", "چانڈیو"), ("district", "kasur", "Kasur")])
    waiting = [p for p in Corpus.load(linked).pending("person") if p.short]
    assert [(p.group.key, [(a, b) for a, b, _ in p.pairs]) for p in waiting] == [
        ("mumtaz ali chandio", [(3, 1)])
    ]
    (_, _, evidence) = waiting[0].pairs[0]
    assert evidence.key == "chandio < mumtaz ali chandio"
    assert evidence.written == {3: ("چانڈیو",), 1: ("Mumtaz Ali Chandio",)}
    assert not any(p.short for p in Corpus.load(linked).pending("police_station"))

    out = review(linked.workspace.root, "links", "pending", "--rtl", "logical").output
    assert "Short forms not yet decided (short - full)" in out
    assert "#3 - #1" in out
    assert "#2 - #1" not in out  # strong: nothing to decide

    # Decided as the terminal UI decides it: by how the short form's report writes it.
    corroboration.decide_link(linked, 3, 1, "چانڈیو", "confirmed", "person")
    assert not any(p.short for p in Corpus.load(linked).pending())
    assert Corpus.load(linked).related(1).links[3].level == "confirmed"


def test_a_short_form_of_one_source_with_its_full_name_is_not_waiting() -> None:
    facts = {
        1: _facts(1, "a", [("person", "mumtaz ali chandio"), ("district", "kasur")]),
        2: _facts(2, "a", [("person", "chandio"), ("district", "kasur")]),
        3: _facts(3, "b", [("person", "chandio"), ("district", "kasur")]),
    }
    # 2-1 is one source's; the bare "chandio" of 2 and 3 waits first, then 3's short form.
    waiting = Corpus(facts).pending()
    assert [(p.group.key, p.short, [(a, b) for a, b, _ in p.pairs]) for p in waiting] == [
        ("chandio", False, [(2, 3)]),
        ("mumtaz ali chandio", True, [(3, 1)]),
    ]
    assert [p.group.key for p in Corpus(facts).pending(limit=1)] == ["chandio"]
    assert (
        Corpus(facts, {(1, 3, "person", "chandio < mumtaz ali chandio"): "rejected"}).pending(
            "person"
        )
        == waiting[:1]
    )


def test_the_weak_links_waiting_for_a_reviewer_are_listed_until_decided(
    linked: ws.Unlocked,
) -> None:
    # 1-2 share a common name and a bare station, weakly; 3-4 a station with its district
    # (strong: not waiting); 1-4 only a district (context: never a link).
    waiting = Corpus.load(linked).pending()
    assert [(p.group.key, [(a, b) for a, b, _ in p.pairs]) for p in waiting] == [
        ("muhammad ali", [(1, 2)]),
        ("saddar", [(1, 2)]),
    ]
    (_, _, evidence) = waiting[0].pairs[0]
    assert (evidence.state, evidence.strength.why) == ("weak", "a common name")

    corroboration.decide_link(linked, 1, 2, "Muhammad Ali", "confirmed", "person")
    assert [p.group.key for p in Corpus.load(linked).pending()] == ["saddar"]
    assert [p.group.key for p in Corpus.load(linked).pending("person")] == []
    corroboration.decide_link(linked, 1, 2, "Saddar", "rejected", "police_station")
    assert Corpus.load(linked).pending() == []


def _facts(num: int, source: str, found: list[tuple[str, str]]) -> ReportFacts:
    record = records.Record(
        found=[
            {"kind": kind, "key": key, "texts": [key.title()], "designations": []}
            for kind, key in found
        ]
    )
    return ReportFacts(num, source, dt.date(2024, 3, num), record)


def test_waiting_leaves_out_one_sources_pairs_and_pairs_already_joined() -> None:
    name = ("person", "muhammad ali")  # a common name: every pair weak
    facts = {
        1: _facts(1, "a", [name]),
        2: _facts(2, "a", [name]),  # the same source as 1: confirming would join nothing
        3: _facts(3, "b", [name]),
        4: _facts(4, "c", [name]),
    }
    decided = {(1, 3, "person", "muhammad ali"): links.CONFIRMED}
    (waiting,) = Corpus(facts, decided).pending()
    # 1-3 confirmed joins 1, 2 (one source) and 3: only the pairs that reach 4 are left.
    assert [(a, b) for a, b, _ in waiting.pairs] == [(1, 4), (2, 4), (3, 4)]
    assert (waiting.group.sources, waiting.group.corroborating, waiting.more) == (3, 2, False)
    (first,) = Corpus(facts, decided).pending(limit=1)
    assert [(a, b) for a, b, _ in first.pairs] == [(1, 4)]
    assert first.more


def test_waiting_shows_first_the_entities_confirming_would_add_most_to() -> None:
    few = ("person", "ali khan")
    many = ("police_station", "saddar")
    facts = {
        1: _facts(1, "a", [few, many]),
        2: _facts(2, "b", [few, many]),
        3: _facts(3, "c", [many]),
        4: _facts(4, "d", [many]),
    }
    waiting = Corpus(facts).pending()
    assert [(p.group.key, len(p.pairs)) for p in waiting] == [("saddar", 6), ("ali khan", 1)]
    limited = Corpus(facts).pending(limit=4)
    assert [(p.group.key, len(p.pairs), p.more) for p in limited] == [("saddar", 4, True)]


def test_cli_lists_the_weak_links_waiting_and_how_to_decide_them(linked: ws.Unlocked) -> None:
    root = linked.workspace.root
    result = review(root, "links", "pending", "--rtl", "logical")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "person: SHO Muhammad Ali  (key muhammad ali): 2 independent sources, 1 joined" in out
    assert "#1 - #2" in out
    assert "SHO Muhammad Ali = ایس ایچ او محمد علی" in out
    assert "a common name" in out
    assert "a police station without its district" in out
    assert "`links confirm NUM OTHER NAME`" in out
    assert "saddar/kasur" not in out  # strong: nothing to decide
    assert "kasur;" not in out  # a district alone is no link

    for name in ("Muhammad Ali", "Saddar"):
        assert review(root, "links", "reject", "1", "2", name).exit_code == 0
    out = review(root, "links", "pending").output
    assert "no weak link is waiting for a reviewer's word" in out
    assert review(root, "links", "pending", "--limit", "0").exit_code != 0
