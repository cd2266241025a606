"""The export chain at the workstation: a lost bundle is named, later ones still import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from app.cli import main
from app.db import db_session
from app.models import ExportHead
from crypto import SigningKey
from crypto.exchange import ExportManifest, write_export
from review import workspace as ws
from review.casework.triage import Filters, list_reports
from review.errors import ImportRefused
from review.intake import exports
from review.intake.importer import import_bundle
from tests.review.support import Server, review


def _numbered(server: Server, tmp_path: Path, count: int) -> list[Path]:
    """`count` export bundles in a row, one new report each."""
    bundles = []
    for n in range(1, count + 1):
        server.submit(f"report number {n}")
        bundles.append(server.export(tmp_path / f"export-{n}.rzb"))
    return bundles


def test_a_lost_bundle_is_reported_by_number_and_later_ones_still_import(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a stick with bundle 2 is lost (or withheld). Before the chain,
    # nothing said so, and retention later deleted its reports unseen.
    first, second, third = _numbered(server, tmp_path, 3)
    assert review(workspace, "import", str(first)).exit_code == 0
    result = review(workspace, "import", str(third))
    assert result.exit_code == 0, result.output
    assert "raazdar-review: warning: bundle 2 is missing: bundles 1, 3 imported" in result.output
    assert "raazdar-review: hint:" in result.output
    # Until it is filled, every listing says so.
    assert "bundle 2 is missing" in review(workspace, "list").output
    result = review(workspace, "import", str(second))
    assert result.exit_code == 0
    assert "missing" not in result.output
    assert "missing" not in review(workspace, "list").output


def test_a_resend_fills_every_gap_below_it(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    first, _lost, third = _numbered(server, tmp_path, 3)
    import_bundle(unlocked, first)
    import_bundle(unlocked, third)
    assert exports.gaps(unlocked.conn).missing == (2,)
    resend = server.export(tmp_path / "resend.rzb", resend=True)
    summary = import_bundle(unlocked, resend)
    assert summary.sequence == 4
    assert exports.gaps(unlocked.conn).message() is None
    # The lost bundle's report came with the resend.
    assert len(list_reports(unlocked, Filters(include_closed=True))) == 3


def test_bundles_imported_out_of_order_leave_no_gap(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    for bundle in reversed(_numbered(server, tmp_path, 3)):
        import_bundle(unlocked, bundle)
    assert exports.gaps(unlocked.conn) == exports.Gaps((), (1, 2, 3))


def test_a_server_that_restarts_its_chain_is_refused(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    # A server restored from a backup (or rewriting its past) numbers a new bundle
    # 2 again: the workstation has another bundle 2, and says the chain forked.
    _numbered(server, tmp_path, 2)
    import_bundle(unlocked, tmp_path / "export-1.rzb")
    import_bundle(unlocked, tmp_path / "export-2.rzb")
    with server.app.app_context():
        session = db_session()
        session.execute(delete(ExportHead))
        session.commit()
    server.submit("after the restore")
    again = server.export(tmp_path / "again.rzb")
    with pytest.raises(ImportRefused, match="forked"):
        import_bundle(unlocked, again)


def test_an_unnumbered_bundle_after_the_chain_began_is_refused(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    (first,) = _numbered(server, tmp_path, 1)
    import_bundle(unlocked, first)
    old = ExportManifest("a" * 32, server.instance_id, dt.date.today(), 1, (), {})
    out = tmp_path / "old.rzb"
    key = SigningKey.from_text(server.paths.signing_key.read_text())
    with out.open("wb") as dst:
        write_export(dst, old, [], key)
    with pytest.raises(ImportRefused, match="before the export chain") as refused:
        import_bundle(unlocked, out)
    assert refused.value.hint is not None
    assert "--resend" in refused.value.hint


def test_an_unnumbered_bundle_still_imports_into_a_workspace_without_the_chain(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    old = ExportManifest("b" * 32, server.instance_id, dt.date.today(), 1, (), {})
    out = tmp_path / "old.rzb"
    key = SigningKey.from_text(server.paths.signing_key.read_text())
    with out.open("wb") as dst:
        write_export(dst, old, [], key)
    assert import_bundle(unlocked, out).sequence is None
    assert exports.gaps(unlocked.conn).message() is None


@pytest.mark.parametrize(
    ("numbers", "text"),
    [((1,), "1"), ((1, 2), "1, 2"), ((1, 2, 3, 5, 7, 8), "1-3, 5, 7, 8")],
)
def test_bundle_numbers_are_written_as_ranges(numbers: tuple[int, ...], text: str) -> None:
    assert exports.Gaps((9,), numbers).message() == f"bundle 9 is missing: bundles {text} imported"


def test_a_reply_bundle_the_server_refused_is_taken_back_and_sent_again_without_the_refused(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from app.models import Item
    from app.models import Source as ServerSource
    from app.operations.exchange import BundleRefused

    sources = [server.submit("one source"), server.submit("another source")]
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    with server.app.app_context():
        session = db_session()
        designations = {s.id: s.designation for s in session.scalars(select(ServerSource))}
        first_item = session.scalars(select(Item)).first()
        assert first_item is not None
        expired = designations[first_item.source_id]
    (tmp_path / "reply.txt").write_text("Which police station?")
    for num in (1, 2):
        result = review(workspace, "reply", str(num), "--file", str(tmp_path / "reply.txt"))
        assert result.exit_code == 0, result.output
    out = tmp_path / "r1.rzb"
    assert review(workspace, "export-replies", "--out", str(out)).exit_code == 0
    # The source expires on the server (its items acknowledged elsewhere, a year idle).
    with server.app.app_context():
        session = db_session()
        source = session.scalars(
            select(ServerSource).where(ServerSource.designation == expired)
        ).one()
        session.delete(source)
        session.commit()
    with pytest.raises(BundleRefused) as refused:
        server.apply(out)
    (line,) = [r for r in refused.value.refused if r.startswith("reply ")]
    reply_id = line.split()[1].rstrip(":")
    result = review(
        workspace,
        "reply-bundle-refused",
        refused.value.bundle_id,
        "--withdraw-reply",
        reply_id,
        "--drop-notice",
        expired,
    )
    assert result.exit_code == 0, result.output
    assert "1 reply(ies)" in result.output
    again = tmp_path / "r2.rzb"
    result = review(workspace, "export-replies", "--out", str(again))
    assert result.exit_code == 0, result.output
    summary = server.apply(again)
    assert (summary.replies, summary.deleted) == (1, 1)
    # The source still known got the reply; the other one never will.
    # The expired source's account is gone: its codename no longer logs in.
    gone = [s for s in sources if not s.visitor.logs_in(s.codename)]
    assert len(gone) == 1
    (kept,) = [s for s in sources if s not in gone]
    assert "Which police station?" in kept.account_page()


def test_a_server_put_back_from_its_backup_resumes_the_chain_the_workstation_names(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The server is restored from a backup made after bundle 1: its chain is back at 1,
    # while the workstation imported 1 and 2. Every export it makes from then on forks.
    server.submit("report number 1")
    import_bundle(unlocked, server.export(tmp_path / "export-1.rzb"))
    with server.app.app_context():
        head = db_session().get(ExportHead, 1)
        assert head is not None
        backup = (head.sequence, bytes(head.digest), head.audit_entries, head.day)
    server.submit("report number 2")
    import_bundle(unlocked, server.export(tmp_path / "export-2.rzb"))
    with server.app.app_context():
        session = db_session()
        head = session.get(ExportHead, 1)
        assert head is not None
        head.sequence, head.digest, head.audit_entries, head.day = backup
        session.commit()
    server.submit("a report sent after the restore")
    with pytest.raises(ImportRefused, match="forked") as refused:
        import_bundle(unlocked, server.export(tmp_path / "forked.rzb"))
    hint = refused.value.hint or ""
    assert "--resume-chain 2:" in hint, (
        "a server put back from its backup exports nothing the workstation imports, "
        "and the refusal names no way on: " + hint
    )
    resume = hint.split("--resume-chain ")[1].split()[0]
    out = tmp_path / "resumed.rzb"
    command = ["--instance", str(server.instance), "export", "--resume-chain", resume]
    result = CliRunner().invoke(main, [*command, "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = import_bundle(unlocked, out)
    assert summary.sequence == 3
    reports = list_reports(unlocked, Filters(include_closed=True))
    assert len(reports) == 3, "the report sent after the restore did not arrive"
    assert exports.gaps(unlocked.conn).message() is None


def test_the_chain_is_never_resumed_behind_the_servers_head(server: Server, tmp_path: Path) -> None:
    for n in (1, 2, 3):
        server.submit(f"report number {n}")
        server.export(tmp_path / f"export-{n}.rzb")
    command = ["--instance", str(server.instance), "export", "--resume-chain", f"1:{'00' * 32}"]
    result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "behind.rzb")])
    assert result.exit_code == 1, result.output
    assert "raazdar: error: this server's chain is at bundle 3" in result.output
    assert not (tmp_path / "behind.rzb").exists()


def test_a_bundle_a_resend_made_up_for_is_still_named_as_never_imported(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # Whoever held a staff login took bundle 2 and kept its stick; the server's next
    # export was a resend (the workstation had not confirmed bundle 2), which fills the
    # gap: before, nothing here said a bundle of reports had gone elsewhere.
    first, _taken = _numbered(server, tmp_path, 2)
    assert review(workspace, "import", str(first)).exit_code == 0
    resend = server.export(tmp_path / "resend.rzb", resend=True)
    result = review(workspace, "import", str(resend))
    assert result.exit_code == 0, result.output
    said = "bundle 2 never came here"
    assert said in result.output, f"a bundle taken on its way went unnamed: {result.output}"
    assert said in review(workspace, "list").output
