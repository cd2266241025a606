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
from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, subkeys_paths
from crypto import KdfParams, KeyFile, read_header
from crypto.envelope.version import V1, V2, Version
from crypto.errors import VerificationError
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


# --- Reply bundles the server never applied, and ones taken back ----------------------


def _reply(workspace: Path, tmp_path: Path, num: int, text: str, passphrase: str = "") -> str:
    """Queue a reply to report `num`; its short id as the tool prints it."""
    (tmp_path / "reply.txt").write_text(text, "utf-8")
    result = review(
        workspace,
        *("reply", str(num), "--file", str(tmp_path / "reply.txt")),
        passphrase=passphrase or DEMO_PASSPHRASE,
    )
    assert result.exit_code == 0, result.output
    found = re.search(r"reply ([0-9a-f]{8}) queued", result.output)
    assert found, result.output
    return found.group(1)


def _export_replies(workspace: Path, out: Path, passphrase: str = "") -> str:
    """Write a reply bundle; its id, as the workspace recorded it."""
    result = review(
        workspace, "export-replies", "--out", str(out), passphrase=passphrase or DEMO_PASSPHRASE
    )
    assert result.exit_code == 0, result.output
    u = ws.Workspace.open(workspace)
    try:
        (bundle_id,) = u.conn.execute(
            "SELECT id FROM reply_bundles ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
    finally:
        u.close()
    return str(bundle_id)


def _tomorrow(monkeypatch: pytest.MonkeyPatch, days: int = 1) -> dt.date:
    """Make the server's exports from now on dated `days` later than today."""
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)
    monkeypatch.setattr(server_exchange, "today", lambda: later)
    return later


def test_a_lost_reply_bundle_is_warned_of_until_taken_back_and_the_source_reads_it_once(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: the carrier drops a reply bundle. Before receipts the workstation
    counted it as sent, nothing ever said otherwise, and the source never got the reply."""
    source = server.submit("the SHO took money canary-LOST")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply(workspace, tmp_path, 1, "Which thana? canary-REPLY-LOST")
    lost = tmp_path / "r1.rzr"
    lost_id = _export_replies(workspace, lost)
    written = dt.datetime.now(dt.UTC).date()
    lost.unlink()  # the carrier drops it: it never reaches the server

    made = _tomorrow(monkeypatch)
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    warning = (
        f"raazdar-review: warning: reply bundle {lost_id} (1 replies, 1 acks) written on "
        f"{written.isoformat()} is not confirmed by the server in bundle 2 made on "
        f"{made.isoformat()}: if it was lost, `exchange take-back {lost_id}` and export "
        "replies again"
    )
    assert warning in result.output
    # Until it is dealt with, every listing says so.
    assert warning in review(workspace, "list").output

    taken = review(workspace, "exchange", "take-back", lost_id)
    assert taken.exit_code == 0, taken.output
    again = tmp_path / "r2.rzr"
    _export_replies(workspace, again)
    summary = server.apply(again)
    assert (summary.replies, summary.deleted) == (1, 1)
    assert source.account_page().count("canary-REPLY-LOST") == 1

    # The next export confirms the new bundle: no warning is left.
    result = review(workspace, "import", str(server.export(tmp_path / "e3.rzb")))
    assert result.exit_code == 0, result.output
    assert "not confirmed" not in result.output
    assert "not confirmed" not in review(workspace, "list").output


def test_a_lost_reply_bundle_that_turns_up_after_it_was_sent_again_is_refused(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stick was only late: handed in after the re-sent bundle, it must not post twice."""
    source = server.submit("the SHO took money canary-LATE")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply(workspace, tmp_path, 1, "Which thana? canary-REPLY-LATE")
    late = tmp_path / "r1.rzr"
    late_id = _export_replies(workspace, late)
    assert review(workspace, "exchange", "take-back", late_id).exit_code == 0
    again = tmp_path / "r2.rzr"
    _export_replies(workspace, again)
    assert server.apply(again).replies == 1
    with pytest.raises(VerificationError, match="taken back"):
        server.apply(late)
    assert source.account_page().count("canary-REPLY-LATE") == 1


def test_a_bundle_taken_back_that_the_server_had_applied_posts_no_reply_twice(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking back a bundle that was in fact applied (its receipt not yet home) is safe:
    the re-sent replies are not posted again, and the receipt, once home, says so."""
    source = server.submit("the SHO took money canary-TWICE")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply(workspace, tmp_path, 1, "Which thana? canary-REPLY-TWICE")
    first = tmp_path / "r1.rzr"
    first_id = _export_replies(workspace, first)
    assert server.apply(first).replies == 1
    assert review(workspace, "exchange", "take-back", first_id).exit_code == 0
    again = tmp_path / "r2.rzr"
    _export_replies(workspace, again)
    summary = server.apply(again)
    assert summary.replies == 0
    assert source.account_page().count("canary-REPLY-TWICE") == 1

    _tomorrow(monkeypatch)
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert f"reply bundle {first_id}, taken back, had been applied by the server" in result.output
    assert "not confirmed" not in result.output
    # Once the server confirms it, a bundle cannot be taken back.
    refused = review(workspace, "exchange", "take-back", first_id)
    assert refused.exit_code == 1
    assert "applied by the server" in refused.output


def test_a_taken_back_bundle_handed_in_again_is_refused_and_its_withdrawn_reply_never_shown(
    server: Server, tmp_path: Path
) -> None:
    """The attack (F5): a bundle refused for a passing reason (the reviewer's new key is not
    yet in the server's keyring) is taken back with a reply withdrawn "for good"; the carrier
    keeps the refused file and hands it in once the new keyring is installed."""
    from app.db import db_session
    from app.operations.keyring_admin import install as server_install
    from crypto import SignedManifest
    from tests.app.support import demo_authorities

    # A workspace made from the keyring, so that it can rotate its reviewer's key.
    workspace = tmp_path / "pinned"
    made = review(
        workspace,
        *("workspace", "init", "--reviewer", "demo-reviewer"),
        *("--keyring", str(server.instance / "keyring" / "manifests" / "000001.json")),
        *("--key-file", str(server.reviewer_key_file)),
    )
    assert made.exit_code == 0, made.output
    listed, sealed = subkeys_paths(server.paths.demo_keys, DEMO_REVIEWER)
    assert review(workspace, "keys", "subkeys", "adopt", str(sealed), str(listed)).exit_code == 0
    source = server.submit("report canary-F5")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    new = "new-passphrase-123"
    both = f"{new}\n{DEMO_PASSPHRASE}"
    draft = tmp_path / "next.json"
    rotated = review(
        workspace,
        *("keys", "rotate", "--draft", str(draft), "--fast-kdf"),
        passphrase=f"{DEMO_PASSPHRASE}\n{new}\n{new}",
    )
    assert rotated.exit_code == 0, rotated.output
    signed = SignedManifest.from_bytes(draft.read_bytes())
    for key in demo_authorities(server.instance)[:2]:
        signed = signed.sign(key)
    draft.write_bytes(signed.to_bytes())
    installed = review(workspace, "keys", "install", str(draft), passphrase=both)
    assert installed.exit_code == 0, installed.output

    _reply(workspace, tmp_path, 1, "canary-KEEP reply", passphrase=both)
    withdrawn = _reply(workspace, tmp_path, 1, "canary-WITHDRAWN wrong source", passphrase=both)
    refused = tmp_path / "r1.rzr"
    refused_id = _export_replies(workspace, refused, passphrase=both)
    carrier_copy = refused.read_bytes()
    with pytest.raises(VerificationError, match="not trusted"):
        server.apply(refused)
    taken = review(
        workspace,
        "exchange",
        "take-back",
        refused_id,
        "--withdraw-reply",
        withdrawn,
        passphrase=both,
    )
    assert taken.exit_code == 0, taken.output
    again = tmp_path / "r2.rzr"
    _export_replies(workspace, again, passphrase=both)
    with server.app.app_context():
        session = db_session()
        server_install(session, draft.read_bytes(), actor="admin")
        session.commit()
    assert server.apply(again).replies == 1

    replayed = tmp_path / "replayed.rzr"
    replayed.write_bytes(carrier_copy)
    with pytest.raises(VerificationError, match="taken back"):
        server.apply(replayed)
    page = source.account_page()
    assert page.count("canary-KEEP") == 1
    assert "canary-WITHDRAWN" not in page


def test_a_withdrawal_is_said_to_hold_only_if_the_voiding_bundle_reaches_the_server_first(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit (a voided bundle that arrives before its void): a carrier who kept the bundle
    taken back hands it in before the one voiding it, and the withdrawn reply is posted.
    Take-back must not promise "withdrawn for good", and the receipt must say it went."""
    source = server.submit("report canary-ORDER")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    withdrawn = _reply(workspace, tmp_path, 1, "canary-WITHDRAWN-FIRST wrong words")
    kept = tmp_path / "r1.rzr"
    kept_id = _export_replies(workspace, kept)
    taken = review(workspace, "exchange", "take-back", kept_id, "--withdraw-reply", withdrawn)
    assert taken.exit_code == 0, taken.output
    warning = (
        f"raazdar-review: warning: the withdrawal holds only if the next reply bundle is "
        f"applied before bundle {kept_id}"
    )
    assert warning in taken.output
    voiding = tmp_path / "r2.rzr"
    _export_replies(workspace, voiding)

    assert server.apply(kept).replies == 1  # the carrier's order
    assert server.apply(voiding).replies == 0
    assert source.account_page().count("canary-WITHDRAWN-FIRST") == 1
    _tomorrow(monkeypatch)
    result = review(workspace, "import", str(server.export(tmp_path / "e2.rzb")))
    assert result.exit_code == 0, result.output
    assert "the 1 reply(ies) withdrawn from it reached their sources" in result.output
