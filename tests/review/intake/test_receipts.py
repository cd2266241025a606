"""Receipts of reply bundles: which the server confirmed, which it did not, and voids."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import app.operations.exchange as server_exchange
from app.cli import main
from app.db import db_session
from app.models import Item
from crypto import VerificationError
from crypto.exchange import (
    ExportManifest,
    ReplyManifest,
)
from review import workspace as ws
from review.intake import exports, receipts
from tests.review.support import Server, review


def _tomorrow(monkeypatch: pytest.MonkeyPatch) -> None:
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    monkeypatch.setattr(server_exchange, "today", lambda: later)


def _reply_and_export(workspace: Path, tmp_path: Path, name: str) -> Path:
    (tmp_path / "reply.txt").write_text(f"reply {name}")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    out = tmp_path / f"{name}.rzr"
    result = review(workspace, "export-replies", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _manifest(bundle: Path) -> ReplyManifest:
    data = io.BytesIO(bundle.read_bytes())
    data.readline()
    length = int.from_bytes(data.read(4), "big")
    return ReplyManifest.from_json(json.loads(data.read(length)))


def _conn(workspace: Path) -> ws.Workspace:
    return ws.Workspace.open(workspace)


def test_an_export_bundle_of_format_2_without_receipts_still_imports_and_warns_of_nothing(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply_and_export(workspace, tmp_path, "r1")
    # A server from before receipts writes format 2: chained, no receipts (nor audit head).
    monkeypatch.setattr(server_exchange, "_receipts", lambda _session: None)
    monkeypatch.setattr(
        server_exchange,
        "ExportManifest",
        lambda **fields: ExportManifest(
            **(
                fields
                | {"audit": None, "notice_counts": None, "unheld": None, "acks": None}
                | {"restore": None, "keyring_digest": None}
            )
        ),
    )
    _tomorrow(monkeypatch)
    old = server.export(tmp_path / "e2.rzb")
    with old.open("rb") as src:
        src.readline()
        assert json.loads(src.read(int.from_bytes(src.read(4), "big")))["format"] == 2
    result = review(workspace, "import", str(old))
    assert result.exit_code == 0, result.output
    assert "bundle 2 (" in result.output
    # It cannot say whether the reply bundle arrived, so it says nothing.
    assert "not confirmed" not in result.output
    w = _conn(workspace)
    try:
        assert not exports.seen(w.conn)[2].receipts
        assert receipts.unconfirmed(w.conn) == []
    finally:
        w.close()


def test_an_export_made_the_day_the_reply_bundle_was_written_does_not_judge_it(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply_and_export(workspace, tmp_path, "r1")
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "not confirmed" not in result.output


def test_voids_are_carried_until_a_bundle_carrying_them_is_confirmed(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    first = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    assert review(workspace, "exchange", "take-back", first.bundle_id).exit_code == 0
    # The bundle that voids it is lost too: the next one voids both.
    second = _manifest(_reply_and_export(workspace, tmp_path, "r2"))
    assert [v.bundle for v in second.voids] == [first.bundle_id]
    assert second.voids[0].replies == tuple(r.id for r in first.replies)
    assert review(workspace, "exchange", "take-back", second.bundle_id).exit_code == 0
    third_file = _reply_and_export(workspace, tmp_path, "r3")
    third = _manifest(third_file)
    assert {v.bundle for v in third.voids} == {first.bundle_id, second.bundle_id}
    summary = server.apply(third_file)
    assert (summary.voided, summary.replies) == (2, 3)  # the replies of r1, r2 and r3
    # Not yet confirmed: the next bundle voids them again (which changes nothing).
    assert len(_manifest(_reply_and_export(workspace, tmp_path, "r4")).voids) == 2
    _tomorrow(monkeypatch)
    assert review(workspace, "import", str(server.export(tmp_path / "e2.rzb"))).exit_code == 0
    fifth = _manifest(_reply_and_export(workspace, tmp_path, "r5"))
    assert fifth.voids == ()
    assert review(workspace, "exchange", "take-back", first.bundle_id).exit_code == 1


def test_a_bundle_taken_back_twice_is_refused_the_second_time(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    first = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    assert review(workspace, "exchange", "take-back", first.bundle_id).exit_code == 0
    again = review(workspace, "exchange", "take-back", first.bundle_id)
    assert again.exit_code == 1
    assert "taken back on" in again.output


def test_a_bundle_lost_the_day_a_later_one_is_confirmed_is_named_that_day(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A later bundle of this workspace confirmed and an earlier not: the earlier was not
    applied when that export was made, whatever the day (the server dates nothing)."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    lost = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    (tmp_path / "r1.rzr").unlink()  # the stick is lost
    server.apply(_reply_and_export(workspace, tmp_path, "r2"))
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert f"reply bundle {lost.bundle_id}" in result.output
    assert "not confirmed by the server in bundle 2" in result.output
    assert f"reply bundle {lost.bundle_id}" in review(workspace, "list").output


def test_a_workspace_put_back_from_an_older_copy_is_named_by_the_receipts(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A seizer copies the workstation's disk one night and puts the copy back another: the
    reviewers' reply, and whatever else they did since, are gone from it, every signature and
    tag verifies (the copy is the tool's own), and the next bundle imported without a word."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    copy = tmp_path / "seized-copy"
    shutil.copytree(workspace, copy)
    sent = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    server.apply(tmp_path / "r1.rzr")
    shutil.rmtree(workspace)
    shutil.copytree(copy, workspace)  # returned as it was that first night

    server.submit("a second report")
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "the server confirms reply bundle(s) this workspace has no record of writing" in (
        result.output
    ), f"a workspace put back from an older copy imported without a word: {result.output}"
    assert sent.bundle_id in result.output
    assert "put back from an older copy" in result.output
    # The server was not put back: its record of the bundle stands, restore id and all.
    with pytest.raises(VerificationError, match="replay"):
        server.apply(tmp_path / "r1.rzr")


def test_a_server_put_back_from_a_backup_has_what_was_acknowledged_since_deleted_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The server is restored from last night's backup: the report the reviewers acknowledged
    today is back on it, unacknowledged, and the reply bundle that did it is forgotten."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    server.backup(tmp_path / "backup")
    sent = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    assert server.apply(tmp_path / "r1.rzr").deleted == 1
    assert review(workspace, "import", str(server.export(tmp_path / "e2.rzb"))).exit_code == 0
    server.restore(tmp_path / "backup")
    server.finish_restore()  # the purge that finishes it draws a new restore id
    with server.app.app_context():
        assert db_session().get(Item, sent.acks[0]) is not None  # back, unacknowledged
    # Its carrier hands the reply bundle in again: the backup does not record it applied.
    with pytest.raises(VerificationError, match="restored"):
        server.apply(tmp_path / "r1.rzr")

    forked = review(workspace, "import", str(server.export(tmp_path / "forked.rzb")))
    assert forked.exit_code == 1
    resume = forked.output.split("--resume-chain ")[1].split()[0]
    out = tmp_path / "resumed.rzb"
    command = ["--instance", str(server.instance), "export", "--resume-chain", resume]
    exported = CliRunner().invoke(main, [*command, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    result = review(workspace, "import", str(out))
    assert result.exit_code == 0, result.output
    again = review(workspace, "exchange", "export", "--out", str(tmp_path / "r2.rzr"))
    assert again.exit_code == 0, (
        "the next reply bundle acknowledges nothing: the report stays on the restored server "
        + again.output
    )
    assert _manifest(tmp_path / "r2.rzr").acks == sent.acks
    assert server.apply(tmp_path / "r2.rzr").deleted == 1
    assert f"the server no longer confirms reply bundle {sent.bundle_id}" in result.output
    assert "put back from a backup" in result.output
    # Its reply, gone from the server, goes again once the bundle is taken back.
    assert review(workspace, "exchange", "take-back", sent.bundle_id).exit_code == 0
    review(workspace, "exchange", "export", "--out", str(tmp_path / "r3.rzr"))
    resent = _manifest(tmp_path / "r3.rzr")
    assert [r.id for r in resent.replies] == [r.id for r in sent.replies]
    assert server.apply(tmp_path / "r3.rzr").replies == 1


def _finish_restore(server: Server) -> None:
    """Mark the instance restored (as a backup's files do), vouch for its keyring again, purge."""
    from app.models import today
    from app.operations.restore import mark
    from crypto import make_timestamp
    from tests.app.test_instance_keyring import in_force, timestamp_key

    server.paths.restored.write_bytes(mark(today()))
    stamp = make_timestamp(
        in_force(server.instance), timestamp_key(server.instance), issued=today(), days=5
    )
    path = server.instance.parent / "timestamp.json"
    path.write_bytes(stamp.to_bytes())
    cli = ["--instance", str(server.instance)]
    assert CliRunner().invoke(main, [*cli, "keyring", "timestamp", str(path)]).exit_code == 0
    purged = CliRunner().invoke(main, [*cli, "purge"])
    assert "restore: finished" in purged.output, purged.output


def test_a_restore_the_chain_does_not_show_is_named_with_the_reply_bundles_it_lost(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The backup is made after the last export; a reply bundle is applied, then the server
    is put back from that backup. Its next export follows the last one imported here and
    its audit log is the one the workstation saw: no fork, no rewrite, and a reply bundle
    written the same day is not judged. The reply and the acknowledgement were gone from
    the server and nothing said so."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    server.backup(tmp_path / "backup")
    sent = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    applied = server.apply(tmp_path / "r1.rzr")
    assert (applied.replies, applied.deleted) == (1, 1)
    server.restore(tmp_path / "backup")
    _finish_restore(server)

    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    if "put back from a backup" not in said:
        pytest.fail(
            "the import said nothing of the restore: reply bundle "
            f"{sent.bundle_id}'s reply is gone from the server and the report it "
            "acknowledged is back, unacknowledged:\n" + result.output
        )
    assert "between bundle 1 and bundle 2 (its restore 1)" in said
    assert f"reply bundle {sent.bundle_id} (1 reply(ies), 1 ack(s))" in said
    assert f"`exchange take-back {sent.bundle_id}`, then `exchange export`" in said
    # The commands it names put both back on the server.
    assert review(workspace, "exchange", "take-back", sent.bundle_id).exit_code == 0
    review(workspace, "exchange", "export", "--out", str(tmp_path / "r2.rzr"))
    again = server.apply(tmp_path / "r2.rzr")
    assert (again.replies, again.deleted) == (1, 1)
    # The next export, with no restore since, names none.
    result = review(workspace, "import", str(server.export(tmp_path / "e3.rzb")))
    assert "put back from a backup" not in result.output


def test_a_workstation_that_reads_no_restore_mark_refuses_the_bundle_and_says_why(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review tool of the release before format 9 (its formats end at 8) is handed a
    bundle from an upgraded server: refused whole, with the way out, nothing filed."""
    import crypto.exchange

    server.submit("a report")
    bundle = server.export(tmp_path / "e1.rzb")
    older = crypto.exchange.EXPORT_FORMATS - {crypto.exchange.EXPORT_FORMAT}
    monkeypatch.setattr(crypto.exchange, "EXPORT_FORMATS", older)
    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "unsupported raazdar-export format 9" in said
    assert "newer release" in said, said
    assert "damaged" not in said
    assert exports.seen(_conn(workspace).conn) == {}
