"""Conflicts of interest: declared agencies and districts hide reports and route them to others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crypto import KdfParams, KeyFile, KeyPair
from review import workspace as ws
from review.casework import conflicts, replies, reports, triage
from review.errors import InvalidValue, NotFound, ReviewError, UnlockError
from review.intake.importer import import_bundle
from review.keys.enrolment import enrol_key
from review.workspace import audit
from review.workspace.search import SearchIndex
from review.workspace.state import State, read_state
from tests.review.support import Server, on_the_disk, review
from tests.review.workspace.test_tampered_rows import ALTERED

PW = "pw"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the airport ledger"
FIELD = "Agents paid at the airport counter to let the girls through. canary-FIELD"
TEXT = "The FIA inspector in Gujrat took money at the airport. canary-TEXT"
NEUTRAL = "The land mafia in Sofia town runs the kiln; the munshi keeps a ledger."
URDU = "ایف آئی اے کے اہلکار نے رشوت لی اور ایجنٹ کو چھوڑ دیا"
DISTRICT = "The munshi kept a second ledger of the debts."


@dataclass
class Team:
    """A workspace with five reports, an administrator and two reviewers."""

    root: Path
    admin: ws.Unlocked  # demo-reviewer, the workspace's first reviewer
    second: ws.Unlocked
    third: ws.Unlocked


@pytest.fixture
def team(server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path) -> Iterator[Team]:
    """Reports 1 (FIA in its agency field, with a photo), 2 (FIA and Gujrat in its text),
    3 (neither, though "mafia" holds "fia"), 4 (FIA in Urdu), 5 (Gujrat as its district)."""
    submissions: list[tuple[str, dict[str, str | list[str]] | None]] = [
        (FIELD, {"agency": "fia"}),
        (TEXT, None),
        (NEUTRAL, None),
        (URDU, None),
        (DISTRICT, {"district": "Gujrat"}),
    ]
    for i, (message, choices) in enumerate(submissions):
        files = [("files", "ledger.jpg", PHOTO, "image/jpeg")] if i == 0 else None
        server.submit(message, files, choices)
        import_bundle(unlocked, server.export(tmp_path / f"{i}.rzb"))
    opened = [unlocked]
    for reviewer in ("second", "third"):
        data = KeyFile.create(
            KeyPair.generate(), PW, kind="reviewer", label=reviewer, params=KdfParams.TESTING
        ).to_bytes()
        enrol_key(
            unlocked, reviewer=reviewer, name=reviewer.title(), key_file=data, ask=lambda _: PW
        )
        opened.append(ws.Workspace.open(workspace).unlock(reviewer, lambda _: PW))
    yield Team(workspace, *opened)
    for u in opened[1:]:
        u.workspace.close()


def _visible(u: ws.Unlocked) -> list[int]:
    return [r.num for r in triage.list_reports(u, triage.Filters(include_closed=True))]


def _routes(u: ws.Unlocked) -> list[tuple[int | None, str]]:
    return [
        (e.target, str((e.detail or {}).get("reviewer")))
        for e in audit.entries(u)
        if e.action == "route"
    ]


def test_routing_hides_what_it_must(team: Team, tmp_path: Path) -> None:
    new, routed = conflicts.declare(team.second, agencies=["FIA"])
    assert [(d.kind, d.name) for d in new] == [("agency", "FIA")]
    # The agency field, the English text and the Urdu text name FIA; "mafia" does not.
    assert _visible(team.second) == [3, 5]
    assert sorted(r.report for r in routed.routings) == [1, 2, 4]
    assert _visible(team.third) == [1, 2, 3, 4, 5]
    assert conflicts.hidden(team.second) == {1, 2, 4}
    # Search runs through the same list: the hidden report is not found.
    found = SearchIndex.load(team.second).search("airport")
    assert found == [1, 2]
    filters = triage.Filters(include_closed=True, only=set(found))
    assert triage.list_reports(team.second, filters) == []
    refused = "report 1 is not available to you"
    attempts: list[Callable[[], object]] = [
        lambda: reports.read_report(team.second, 1),
        lambda: reports.open_attachment(team.second, 1, "1", tmp_path / "out.jpg"),
        lambda: replies.queue_reply(team.second, 1, "Which airport?"),
        lambda: triage.set_status(team.second, 1, "in-review"),
        lambda: triage.assign(team.second, 1, None),
        lambda: triage.set_field(team.second, 1, "category", "bribery"),
        lambda: triage.set_severity(team.second, 1, "high"),
        lambda: triage.tag(team.second, 1, ["airport"]),
        lambda: triage.add_note(team.second, 1, "seen"),
        lambda: triage.link(team.second, 1, 3),
        lambda: triage.link(team.second, 3, 1),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound, match=refused) as caught:
            attempt()
        assert caught.value.hint is None
    assert not (tmp_path / "out.jpg").exists()
    assert reports.read_report(team.third, 1).contents[0].message == FIELD
    assert triage.load_state(team.second, 3).links == ()  # nothing half-done by the link


def test_a_declared_urdu_name_hides_urdu_text(team: Team) -> None:
    conflicts.declare(team.second, agencies=["ایف آئی اے"])
    assert 4 not in _visible(team.second)
    conflicts.declare(team.third, districts=["گجرات"])  # Gujrat, written in Urdu
    assert _visible(team.third) == [1, 3, 4]


@pytest.mark.parametrize(
    ("kind", "name", "agency", "district", "text", "named"),
    [
        ("agency", "FIA", "Federal Investigation Agency (FIA)", None, "", True),
        ("agency", "fia", None, None, "The Federal Investigation Agency came", True),
        ("agency", "FIA", None, None, "وفاقی تحقیقاتی ادارہ نے چھاپہ مارا", True),
        ("agency", "FIA", None, None, "the land mafia of Sofia", False),
        ("agency", "FIA", None, "FIA", "", False),  # a district field does not name an agency
        ("district", "Gujrat", None, "GUJRAT", "", True),
        ("district", "gujrat", None, None, "گجرات میں", True),
        ("district", "Gujrat", None, None, "Gujranwala", False),
        ("agency", "Sindh Police", None, None, "the sindh   police station", True),
    ],
)
def test_what_names_a_declaration(
    kind: str, name: str, agency: str | None, district: str | None, text: str, named: bool
) -> None:
    d = conflicts.Declaration(1, "second", kind, name, "2024-01-01")
    assert conflicts.names(d, State(agency=agency, district=district), text) is named


def test_a_report_assigned_to_the_conflicted_reviewer_goes_to_the_least_loaded(
    team: Team,
) -> None:
    for num in (1, 2):
        triage.assign(team.admin, num, "second")
    triage.assign(team.admin, 3, "demo-reviewer")
    _, routed = conflicts.declare(team.second, agencies=["FIA"])
    # third had nothing and takes 1; then both have one, and the tie goes by id.
    assert read_state(team.admin, 1).assignee == "third"
    assert read_state(team.admin, 2).assignee == "demo-reviewer"
    assert {(r.report, r.to) for r in routed.routings if r.unassigned} == {
        (1, "third"),
        (2, "demo-reviewer"),
    }
    entries = [e for e in audit.entries(team.admin) if e.action == "route"]
    assert [(e.target, e.actor) for e in entries] == [(1, "second"), (2, "second"), (4, "second")]
    assert entries[0].detail == {
        "reviewer": "second",
        "unassigned": True,
        "to": "third",
        "unroutable": False,
    }
    assert audit.verify(team.admin.workspace).ok
    verified = review(team.root, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    # Nobody can hand it back to the reviewer it was routed away from.
    with pytest.raises(InvalidValue, match="cannot be assigned to second"):
        triage.assign(team.admin, 1, "second")


def test_routing_is_idempotent(team: Team, server: Server, tmp_path: Path) -> None:
    conflicts.declare(team.second, agencies=["FIA"])
    count = len(audit.entries(team.admin))
    again, routed = conflicts.declare(team.second, agencies=["fia"])
    assert again == []
    assert routed.routings == []
    for _ in range(3):
        _visible(team.second)
        _visible(team.admin)
        conflicts.unroutable(team.admin)
    assert import_bundle(team.admin, server.export(tmp_path / "empty.rzb")).filed == 0
    assert len(audit.entries(team.admin)) == count
    assert len(conflicts.declarations(team.second, "second")) == 1


def test_an_import_routes_new_reports_once(team: Team, server: Server, tmp_path: Path) -> None:
    conflicts.declare(team.second, districts=["Gujrat"])
    assert _routes(team.admin) == [(2, "second"), (5, "second")]
    server.submit("Another kiln in Gujrat, the SHO takes a share")
    bundle = server.export(tmp_path / "new.rzb")
    # Reports are sealed on the server to the demo reviewer's key: they import them.
    import_bundle(team.admin, bundle)
    import_bundle(team.admin, bundle)
    assert _routes(team.admin) == [(2, "second"), (5, "second"), (6, "second")]
    (entry,) = [e for e in audit.entries(team.admin) if e.target == 6 and e.action == "route"]
    assert entry.actor == "demo-reviewer"
    assert 6 not in _visible(team.second)


def test_a_report_that_comes_to_name_a_declaration_is_routed_when_listed(team: Team) -> None:
    conflicts.declare(team.second, districts=["Gujrat"])
    triage.assign(team.admin, 3, "second")
    triage.set_field(team.admin, 3, "district", "Gujrat")
    assert 3 not in _visible(team.second)
    assert read_state(team.admin, 3).assignee == "demo-reviewer"  # a tie at 0: by id
    assert _routes(team.admin).count((3, "second")) == 1
    _visible(team.second)
    assert _routes(team.admin).count((3, "second")) == 1


def test_only_another_administrator_withdraws_a_declaration(team: Team) -> None:
    (mine,), _ = conflicts.declare(team.second, agencies=["FIA"])
    with pytest.raises(UnlockError, match="only an administrator"):
        conflicts.withdraw(team.second, mine.id)
    with pytest.raises(UnlockError, match="only an administrator"):
        conflicts.withdraw(team.third, mine.id)
    (own,), _ = conflicts.declare(team.admin, districts=["Gujrat"])
    with pytest.raises(ReviewError, match="cannot withdraw your own"):
        conflicts.withdraw(team.admin, own.id)
    with pytest.raises(NotFound):
        conflicts.withdraw(team.admin, 99)
    assert conflicts.withdraw(team.admin, mine.id) == mine
    assert conflicts.declarations(team.second, "second") == []
    assert _visible(team.second) == [1, 2, 3, 4, 5]
    (entry,) = [e for e in audit.entries(team.admin) if e.action == "withdraw"]
    assert entry.actor == "demo-reviewer"
    assert (entry.detail or {}).get("reviewer") == "second"
    # Declared again, the same reports are routed, and logged, again.
    conflicts.declare(team.second, agencies=["FIA"])
    assert _routes(team.admin).count((1, "second")) == 2
    assert audit.verify(team.admin.workspace).ok


def test_a_report_every_reviewer_is_conflicted_with_is_flagged(team: Team) -> None:
    for u in (team.admin, team.second, team.third):
        conflicts.declare(u, districts=["Gujrat"])
    assert conflicts.unroutable(team.admin) == [2, 5]
    listed = review(team.root, "--as", "demo-reviewer", "conflicts", "list")
    assert listed.exit_code == 0, listed.output
    assert "warning: no reviewer is free of a declared conflict with report(s) 2, 5" in (
        listed.output
    )
    for reviewer in ("second", "third", "demo-reviewer"):
        assert reviewer in listed.output  # an administrator sees every declaration
    inbox = review(team.root, "--as", "demo-reviewer", "list")
    assert "2 reports are routed to other reviewers" in inbox.output
    assert "report(s) 2, 5" in inbox.output
    theirs = review(team.root, "--as", "second", "list", passphrase=PW)
    assert "report(s) 2, 5" not in theirs.output  # only administrators are told


def test_the_command_line_hides_and_routes(team: Team, tmp_path: Path) -> None:
    def as_second(*args: str) -> tuple[int, str]:
        result = review(team.root, "--as", "second", *args, passphrase=PW)
        return result.exit_code, result.output

    code, out = as_second("conflicts", "declare", "--district", "Gujrat", "--agency", "NADRA")
    assert code == 0, out
    assert "declared an agency (declaration 1" in out
    assert "declared a district (declaration 2" in out
    assert "2 reports are routed to other reviewers" in out
    code, out = as_second("list")
    assert code == 0, out
    assert "2 reports are routed to other reviewers" in out
    assert "Gujrat" not in out
    for args in [
        ("show", "2"),
        ("open", "2", "1", "--out", str(tmp_path / "x"), "--yes"),
        ("status", "5", "in-review"),
        ("district", "5", "--clear"),
        ("note", "5", "a note"),
    ]:
        code, out = as_second(*args)
        assert code == 1, (args, out)
        assert f"error: report {args[1]} is not available to you" in out
        for leak in ("canary", "Gujrat", "hint"):
            assert leak not in out, (args, leak)
    reply = tmp_path / "reply.txt"
    reply.write_text("Which airport?", "utf-8")
    code, out = as_second("reply", "2", "--file", str(reply))
    assert (code, "report 2 is not available to you" in out) == (1, True)
    code, out = as_second("search", "inspector")
    assert (code, "no reports" in out) == (0, True)
    code, out = as_second("conflicts", "list")
    assert ("Gujrat" in out, "NADRA" in out) == (True, True)
    code, out = as_second("conflicts", "withdraw", "2")
    assert (code, "only an administrator may withdraw" in out) == (1, True)
    shown = review(team.root, "--as", "third", "show", "2", passphrase=PW)
    assert (shown.exit_code, TEXT in shown.output) == (0, True)
    listed = review(team.root, "--as", "third", "conflicts", "list", passphrase=PW)
    assert "Gujrat" not in listed.output  # a reviewer sees only their own declarations
    withdrawn = review(team.root, "--as", "demo-reviewer", "conflicts", "withdraw", "2")
    assert withdrawn.exit_code == 0, withdrawn.output
    # Said on the normal screen, the name would stay in the terminal's scrollback.
    assert "Gujrat" not in withdrawn.output, "`conflicts withdraw` drew the name withdrawn"
    assert "withdrew declaration 2" in withdrawn.output
    code, out = as_second("show", "2")
    assert (code, TEXT in out) == (0, True)
    assert review(team.root, "audit", "verify").exit_code == 0


def test_declare_needs_a_name(team: Team) -> None:
    # Asked for an agency and a district, the reviewer leaves both blank.
    result = review(team.root, "--as", "second", "conflicts", "declare", passphrase=f"{PW}\n\n")
    assert result.exit_code == 2
    with pytest.raises(InvalidValue):
        conflicts.declare(team.second, agencies=["   "])


def test_the_audit_log_shows_no_detail_of_a_hidden_report(team: Team) -> None:
    triage.tag(team.admin, 2, ["canarynote"])
    conflicts.declare(team.second, agencies=["FIA"])
    shown = review(team.root, "--as", "second", "audit", "show", passphrase=PW)
    assert shown.exit_code == 0, shown.output
    assert "canarynote" not in shown.output
    assert "are not shown" in shown.output
    assert "canarynote" in review(team.root, "--as", "third", "audit", "show", passphrase=PW).output


def test_corroboration_views_show_no_hidden_report(team: Team) -> None:
    conflicts.declare(team.second, agencies=["FIA"])
    hidden = dict(team.admin.conn.execute("SELECT num, source FROM reports WHERE num IN (1, 2, 4)"))

    def as_second(*args: str) -> tuple[int, str]:
        result = review(team.root, "--as", "second", *args, passphrase=PW)
        return result.exit_code, " ".join(result.output.split())

    # The attack: a reviewer recused from FIA reports read, through corroboration, which
    # source designation wrote each of them, on what day, and how it spelt whom it named.
    code, out = as_second("names", "show", "Gujrat")
    assert code == 0, out
    assert hidden[2] not in out, "names show listed a hidden report's source"
    code, out = as_second("links", "show", "2")
    assert (code, "error: report 2 is not available to you" in out) == (1, True), out
    assert hidden[2] not in out
    code, out = as_second("links", "show", "5")
    assert (code, hidden[2] in out) == (0, False), out
    code, out = as_second("names", "list")
    assert (code, "FIA" in out) == (0, False), out
    # Another reviewer sees them all.
    shown = review(team.root, "--as", "third", "names", "show", "Gujrat", passphrase=PW)
    assert hidden[2] in " ".join(shown.output.split())


@pytest.mark.parametrize("deleted", ["conflicts", "routings"])
def test_a_declaration_or_routing_deleted_on_the_disk_is_refused_at_unlock(
    team: Team, deleted: str
) -> None:
    """The attack: a recusal binds its reviewer, and only another administrator lifts it
    (`conflicts.withdraw`); its row deleted on the disk (by that reviewer, with sqlite3 on
    the workstation) lifted it alone and quietly, and the reports it hid were listed to
    them again. A routing deleted was made, and logged, again: the audit log said twice
    that the report was routed away."""
    conflicts.declare(team.second, agencies=["FIA"])
    assert _visible(team.second) == [3, 5]
    with on_the_disk(team.root) as conn:
        conn.execute(f"DELETE FROM {deleted}")  # noqa: S608 - one of two table names

    def listed() -> list[int] | UnlockError:
        try:
            again = ws.Workspace.open(team.root).unlock("second", lambda _: PW)
        except UnlockError as exc:
            return exc
        try:
            return _visible(again)
        finally:
            again.workspace.close()

    found = listed()
    assert isinstance(found, UnlockError), (
        f"{deleted} deleted on the disk were taken: the reviewer now lists reports {found}"
    )
    assert ALTERED in str(found)


def test_a_seizer_cannot_tell_when_a_declaration_was_made_from_the_routings_order(
    team: Team, server: Server, tmp_path: Path
) -> None:
    """Attack: `routings.seq` counted up beside each routed report in the clear: read in seq
    order, the routings of reports 1, 2 and 4 came after report 6's, so the declaration that
    routed them was made after report 6's import, whose day is clear."""
    conflicts.declare(team.second, districts=["Gujrat"])  # routes 2 and 5
    server.submit("Another kiln in Gujrat, the SHO takes a share")
    import_bundle(team.admin, server.export(tmp_path / "new.rzb"))  # routes 6
    conflicts.declare(team.third, agencies=["FIA"])  # routes 1, 2 and 4
    written = [2, 5, 6, 1, 2, 4]
    with on_the_disk(team.root) as conn:
        by_seq = [num for (num,) in conn.execute("SELECT report FROM routings ORDER BY seq")]
    assert sorted(by_seq) == sorted(written)
    # Before: exactly the order of routing. (Random seqs put these six in it once in 360.)
    assert by_seq != written, "the routings lie in the order they were made"
