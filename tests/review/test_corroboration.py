"""Corroboration through the real import: entities per report, sources counted once, flags, CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crypto.errors import DecryptionError
from review import audit, corroboration
from review import workspace as ws
from review.corroboration import Corpus, shared_entities
from review.errors import InvalidValue, NotFound
from review.importer import import_bundle
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
    assert source.visitor.send(page, message).status_code in (302, 303)


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


def _group(u: ws.Unlocked, name: str, kind: str = "person") -> corroboration.Group:
    (group,) = Corpus.load(u).lookup(name, kind)
    return group


def test_import_extracts_entities_into_sealed_records(filed: ws.Unlocked) -> None:
    rows = filed.conn.execute("SELECT report FROM report_entities ORDER BY report").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    kinds = {(m.kind, m.key) for m in corroboration.report_mentions(filed, 1)}
    assert {
        ("person", "rana tariq"),
        ("police_station", "saddar"),
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
    assert set(related.shared) == {2, 3, 4, 5}
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
    assert set(tariq) == {"kind", "name", "reports", "sources", "first", "last"}
    assert tariq["reports"] == [1, 2, 5]
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
        (("entity-confirm", "1", "Nobody Here"), "report 1 names no entity 'Nobody Here'"),
        (("entity-add", "1", "cnic", "12"), "'12' is not a cnic the tool can match"),
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
