"""The whole cycle against the real server: submit, export, import, triage, reply, apply, read."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import app.operations.exchange as server_exchange
import review.cli.subkeys as subkeys_cli
from app.cli import main as server_cli
from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, KeyFile, read_header
from crypto.envelope.version import V1, V2, Version
from review import workspace as ws
from review.keys import subkeys
from review.workspace.search import SearchIndex
from tests.app.support import envelope_files, install_successor, new_reviewer
from tests.review.support import Server, init_workspace, review

MESSAGE = "The SHO of Saddar police station took money to free the agent. canary-7Q2X"
URDU = "تھانے کے ایس ایچ او نے رشوت لی اور ایجنٹ کو چھوڑ دیا"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the ledger"
REPLY = "Which police station? کون سا تھانہ؟"


def _version(envelope: Path) -> Version:
    return read_header(io.BytesIO(envelope.read_bytes())).version


def _number(workspace: Path, text: str) -> int:
    from app.demo import DEMO_PASSPHRASE

    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        (num,) = SearchIndex.load(u).search(text)
        return num
    finally:
        u.workspace.close()


def test_reports_go_round_the_whole_cycle_and_the_source_reads_the_reply(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    first = server.submit(
        MESSAGE,
        [("files", "ledger.jpg", PHOTO, "image/jpeg")],
        {"agency": "fia", "district": "Gujrat"},
    )
    second = server.submit(URDU)
    # The demo's keyring is format 3: each envelope is v2, sealed to this week's subkey.
    assert {_version(p) for p in envelope_files(server.instance)} == {V2}
    bundle = server.export(tmp_path / "export.rzb")

    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "3 item(s) filed, 2 new report(s)" in result.output

    english, urdu = _number(workspace, "saddar"), _number(workspace, "رشوت")
    shown = review(workspace, "show", str(english))
    assert shown.exit_code == 0, shown.output
    assert MESSAGE in shown.output
    assert "ledger.jpg" in shown.output
    assert "image/jpeg" in shown.output
    assert "Federal Investigation Agency" in shown.output
    assert URDU in review(workspace, "show", str(urdu)).output

    out = tmp_path / "ledger.jpg"
    opened = review(workspace, "open", str(english), "1", "--out", str(out), "--yes")
    assert opened.exit_code == 0, opened.output
    assert out.read_bytes() == PHOTO
    assert not list(tmp_path.glob(".ledger.jpg.*"))

    for args in [
        ("status", str(english), "in-review"),
        ("assign", str(english), "demo-reviewer"),
        ("category", str(english), "bribery"),
        ("district", str(english), "Gujrat"),
        ("severity", str(urdu), "critical", "--danger"),
        ("severity", str(english), "high"),
        ("tag", str(english), "fia", "ledger"),
        ("note", str(english), "The same SHO appears in report two"),
        ("link", str(english), str(urdu)),
    ]:
        result = review(workspace, *args)
        assert result.exit_code == 0, (args, result.output)

    listed = review(workspace, "list").output
    assert listed.index("DANGER TO LIFE") < listed.index("bribery")  # danger sorts first
    assert "bribery" in review(workspace, "list", "--tag", "ledger").output
    assert "bribery" not in review(workspace, "list", "--danger").output
    assert "no reports" in review(workspace, "list", "--status", "closed").output
    assert "bribery" in review(workspace, "search", "SADDAR police").output
    assert "bribery" in review(workspace, "search", "same sho").output  # notes are searched

    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(REPLY, "utf-8")
    result = review(workspace, "reply", str(english), "--file", str(reply_file))
    assert result.exit_code == 0, result.output
    replies = tmp_path / "replies.rzr"
    result = review(workspace, "export-replies", "--out", str(replies))
    assert result.exit_code == 0, result.output
    assert "1 reply(ies)" in result.output
    assert "3 acknowledgement(s)" in result.output

    summary = server.apply(replies)
    assert summary.refused == []
    assert (summary.replies, summary.deleted) == (1, 3)
    assert summary.notices == 2  # "received" for both sources, "under-review" for the first
    assert REPLY in first.account_page()
    assert REPLY not in second.account_page()

    verified = review(workspace, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    log = review(workspace, "audit", "show").output
    for action in ("init", "import", "status", "open", "reply", "export-replies"):
        assert re.search(rf"\b{action}\b", log), action


def test_a_second_export_adds_to_the_same_workspace(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("first report")
    assert review(workspace, "import", str(server.export(tmp_path / "one.rzb"))).exit_code == 0
    server.submit("second report")
    result = review(workspace, "import", str(server.export(tmp_path / "two.rzb")))
    assert "1 item(s) filed, 1 new report(s)" in result.output
    listed = review(workspace, "list").output
    assert re.search(r"\b1\b.*\bnew\b", listed)
    assert re.search(r"\b2\b.*\bnew\b", listed)


def test_nothing_to_export_is_an_error_with_exit_status_1(workspace: Path, tmp_path: Path) -> None:
    result = review(workspace, "export-replies", "--out", str(tmp_path / "r.rzr"))
    assert result.exit_code == 1
    assert "raazdar-review: error: nothing to export" in result.output
    assert not (tmp_path / "r.rzr").exists()


def test_v1_reports_of_an_instance_from_before_v2_still_import_and_open(
    server_format_2: Server, tmp_path: Path
) -> None:
    """An existing instance (keyring format 2) seals v1 to long-term keys; they still import."""
    server = server_format_2
    server.submit(MESSAGE, [("files", "ledger.jpg", PHOTO, "image/jpeg")])
    assert {_version(p) for p in envelope_files(server.instance)} == {V1}
    workspace = init_workspace(server, tmp_path / "workspace")
    result = review(workspace, "import", str(server.export(tmp_path / "export.rzb")))
    assert result.exit_code == 0, result.output
    assert "2 item(s) filed, 1 new report(s)" in result.output
    assert MESSAGE in review(workspace, "show", "1").output
    out = tmp_path / "ledger.jpg"
    assert review(workspace, "open", "1", "1", "--out", str(out), "--yes").exit_code == 0
    assert out.read_bytes() == PHOTO


def test_a_reviewer_who_rotates_under_format_3_reissues_their_list_and_reads_both_weeks_keys(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """v2 through a rotation: the new key signs a list of the same subkeys, the server takes it."""
    server.submit("before the rotation")
    assert review(workspace, "import", str(server.export(tmp_path / "one.rzb"))).exit_code == 0
    keys, rotated = new_reviewer("demo-reviewer")
    key_file = tmp_path / "rotated.key"
    key_file.write_bytes(
        KeyFile.create(
            keys, DEMO_PASSPHRASE, kind="reviewer", label="rotated", params=KdfParams.TESTING
        ).to_bytes()
    )
    enrolled = review(
        workspace,
        *("enrol", "--key-file", str(key_file), "--reviewer", "demo-reviewer"),
        passphrase=f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}",  # the admin's, then the holder's
    )
    assert enrolled.exit_code == 0, enrolled.output
    install_successor(server.instance, [rotated])
    # The installed list is signed by the old key, which the keyring no longer lists.
    assert server.app.test_client().post("/submit").status_code == 503

    listed = tmp_path / "subkeys.json"
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        signed, made = subkeys.issue(u, 8, dt.datetime.now(dt.UTC).date())
    finally:
        u.workspace.close()
    assert made == ()  # the same subkeys, now signed by the new key
    listed.write_bytes(signed.to_bytes())
    installed = CliRunner().invoke(
        server_cli,
        ["--instance", str(server.instance), "keyring", "subkeys", "install", str(listed)],
    )
    assert installed.exit_code == 0, installed.output

    server.submit("after the rotation")
    result = review(workspace, "import", str(server.export(tmp_path / "two.rzb")))
    assert "1 item(s) filed, 1 new report(s)" in result.output, result.output
    assert "before the rotation" in review(workspace, "show", "1").output
    assert "after the rotation" in review(workspace, "show", "2").output


def test_an_export_since_a_day_still_carries_every_older_item_never_exported(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle "since" a day is a link of the export chain like any other, and rule D1
    destroys the weeks before the day of a complete chain's newest link: so it must hold
    every item not exported before it too, or an older one sealed to a destroyed week
    arrives later when nobody can open it (docs/PROTOCOL.md §5A.8, Destruction)."""
    server.submit("sealed to this week's subkey canary-D1")
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=21)
    monkeypatch.setattr(server_exchange, "today", lambda: later)
    monkeypatch.setattr(subkeys_cli, "today", lambda: later)

    bundle = server.export(tmp_path / "since.rzb", since=later - dt.timedelta(days=2))
    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "1 item(s) filed, 1 new report(s)" in result.output, result.output
    assert "canary-D1" in review(workspace, "show", "1").output
