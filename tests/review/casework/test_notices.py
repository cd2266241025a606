"""A source is shown the latest status the workstation issued, whatever order bundles arrive in.

Staff carry reply bundles from the workstation to the server on a stick. A
courier (or whoever holds the stick) who keeps back a bundle whose notice says
"needs-info" and hands it in after a later one that says "closed" would show
the source a request the reviewers had withdrawn: the source comes back, and
answers, a case already closed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from app.models import Source as SourceRow
from crypto.exchange import NOTICE_SEQ_MAX
from review import workspace as ws
from review.casework import notices, replies, triage
from review.intake.importer import import_bundle
from review.workspace.schema import transaction
from tests.app.support import db_session, source_id
from tests.review.support import Server, Source, review


def browser_report(server: Server, u: ws.Unlocked, tmp_path: Path) -> Source:
    """A browser source whose report is filed, as report 1."""
    source = server.submit("The SHO sold the girls to the agent.")
    assert import_bundle(u, server.export(tmp_path / "e.rzb")).filed == 1
    return source


def _shown(server: Server, source: Source) -> str | None:
    """The status notice the server shows the source."""
    with db_session(server.app) as session:
        row = session.get(SourceRow, source_id(server.app, source.codename))
        assert row is not None
        return row.notice


def test_a_notice_held_back_and_handed_in_late_does_not_replace_a_later_one(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    source = browser_report(server, unlocked, tmp_path)
    triage.set_status(unlocked, 1, "needs-info")
    held_back = tmp_path / "held-back.rzr"
    replies.export_replies(unlocked, held_back)
    triage.set_status(unlocked, 1, "closed", "resolved")
    later = tmp_path / "later.rzr"
    replies.export_replies(unlocked, later)

    assert server.apply(later).notices == 1
    assert _shown(server, source) == "closed"
    applied = server.apply(held_back)  # its replies and acks would still be applied
    assert _shown(server, source) == "closed", (
        "a notice held back and handed in after a later one replaced it"
    )
    assert (applied.notices, applied.stale_notices) == (0, 1)


def test_each_notice_is_numbered_one_past_the_last_one_for_its_source(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    browser_report(server, unlocked, tmp_path)
    (received,) = notices.pending(unlocked)
    triage.set_status(unlocked, 1, "in-review")
    (in_review,) = notices.pending(unlocked)
    assert (received.status, received.seq) == ("received", 1)
    assert (in_review.status, in_review.seq) == ("under-review", 2)
    replies.export_replies(unlocked, tmp_path / "r.rzr")
    triage.set_status(unlocked, 1, "needs-info")
    assert notices.pending(unlocked)[0].seq == 3


def test_a_notice_dropped_at_take_back_is_still_counted(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    # The server may have applied the dropped notice after all: the next must be numbered
    # past it, or the server would take every later notice for an older one.
    source = browser_report(server, unlocked, tmp_path)
    triage.set_status(unlocked, 1, "needs-info")
    first = replies.export_replies(unlocked, tmp_path / "first.rzr")
    server.apply(tmp_path / "first.rzr")
    (designation,) = notices.in_bundle(unlocked, first.bundle_id)
    replies.take_back(unlocked, first.bundle_id, drop_notices=[designation])
    assert notices.pending(unlocked) == []
    triage.set_status(unlocked, 1, "closed", "resolved")
    replies.export_replies(unlocked, tmp_path / "second.rzr")
    assert server.apply(tmp_path / "second.rzr").notices == 1
    assert _shown(server, source) == "closed"


def test_a_workspace_put_back_from_an_older_copy_goes_on_from_the_servers_count(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The workspace is put back from last week's copy: its counts are last week's, so the
    server took every notice it issued for one older than the one it shows, and the source
    kept seeing a status the reviewers had replaced (skipped, until the count passed)."""
    source = server.submit("The SHO sold the girls to the agent.")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    copy = tmp_path / "older-copy"
    shutil.copytree(workspace, copy)
    for status in ("in-review", "needs-info"):
        assert review(workspace, "status", "1", status).exit_code == 0
        out = tmp_path / f"{status}.rzr"
        assert review(workspace, "export-replies", "--out", str(out)).exit_code == 0
        server.apply(out)
    assert _shown(server, source) == "needs-info"
    shutil.rmtree(workspace)
    shutil.copytree(copy, workspace)  # put back: its count for the source is 1, the server's 3

    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert review(workspace, "status", "1", "closed", "--reason", "resolved").exit_code == 0
    closed = tmp_path / "closed.rzr"
    assert review(workspace, "export-replies", "--out", str(closed)).exit_code == 0
    applied = server.apply(closed)
    assert _shown(server, source) == "closed", (
        "a notice from a workspace put back from an older copy was taken for an older one: "
        f"the source is still shown {_shown(server, source)!r}"
    )
    assert (applied.notices, applied.stale_notices) == (1, 0)
    assert "a notice numbered past any this workspace issued" in result.output, result.output


def test_a_notice_taken_back_after_the_servers_count_was_learned_is_numbered_past_it(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    browser_report(server, unlocked, tmp_path)
    sent = replies.export_replies(unlocked, tmp_path / "lost.rzr")  # the stick is lost
    (waiting,) = notices.in_bundle(unlocked, sent.bundle_id).values()
    with transaction(unlocked.conn):
        behind = notices.catch_up(unlocked, {waiting.source: 5})  # an export says 5
    assert behind is not None
    assert behind.counts == ((waiting.source, 1, 5),)
    replies.take_back(unlocked, sent.bundle_id)
    assert [n.seq for n in notices.pending(unlocked)] == [6], (
        "a notice queued again kept a number the server shows past: it would be skipped"
    )


def test_a_server_count_at_the_last_number_leaves_reply_bundles_writable(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    # A server in the wrong hands can say any count: reply bundles must still be written.
    browser_report(server, unlocked, tmp_path)
    (waiting,) = notices.pending(unlocked)
    with transaction(unlocked.conn):
        notices.catch_up(unlocked, {waiting.source: NOTICE_SEQ_MAX, "Another Source": 4})
    assert [n.seq for n in notices.pending(unlocked)] == [NOTICE_SEQ_MAX]
    triage.set_status(unlocked, 1, "needs-info")
    replies.export_replies(unlocked, tmp_path / "r.rzr")
    assert server.apply(tmp_path / "r.rzr").refused == []
