"""A reviewer whose subkeys leaked re-keys this week and the weeks ahead, the same day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from crypto import Period, SignedManifest, verify_subkeys
from crypto.subkeys import check_install
from review import workspace as ws
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.workspace import audit
from tests.review.subkey_bundles import Chain, seal_report
from tests.review.support import Server, review

WEEK1 = Period(2026, 49)
ISSUED = dt.date(2026, 12, 1)  # in WEEK1
MONDAY3 = dt.date(2026, 12, 14)


@pytest.fixture
def server(server_format_2: Server) -> Server:
    """A server from before v2: each test issues the store it needs, none adopted from the demo."""
    return server_format_2


def test_a_compromised_week_is_re_keyed_the_same_day_and_what_was_sealed_to_it_still_opens(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    """A copy of the store leaked: every week it holds from this one on is the thief's. The
    workstation had no way to give them new keys (each list repeats the weeks held), so
    reports went on being sealed to keys the thief holds."""
    leaked, _ = subkeys.issue(unlocked, 8, ISSUED)
    rekeyed, made = subkeys.issue(unlocked, 8, ISSUED, rekey=True)
    reviewer = unlocked.signing.verify_key
    old = verify_subkeys(leaked, reviewer, ISSUED)
    new = verify_subkeys(rekeyed, reviewer, ISSUED)
    assert made == tuple(p for p, _ in old.subkeys)
    assert (new.first, new.last, new.issued) == (old.first, old.last, old.issued)
    assert all(new.key_for(p) != key for p, key in old.subkeys)
    # The server takes it only on its installer's word (`--rekeyed`).
    manifest = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    assert check_install(manifest, rekeyed, leaked, ISSUED, rekeyed=True)
    rekeys = [e.detail for e in audit.entries(unlocked) if e.action == "subkeys-rekey"]
    assert rekeys == [{"weeks": [str(p) for p in made]}]

    # Reports sealed to the replaced key before the new list was installed still open.
    before, after = old.key_for(WEEK1), new.key_for(WEEK1)
    assert before is not None
    assert after is not None
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("sealed before", before), seal_report("sealed after", after)], MONDAY3
    )
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (2, [])
    assert "sealed before" in review(workspace, "show", "1").output
    assert "sealed after" in review(workspace, "show", "2").output
    # And both go when the week may be destroyed.
    assert WEEK1 in subkeys.after_import(unlocked, MONDAY3)
    held = subkeys.held_keys(unlocked)
    assert all(k.public_key not in (before, after) for k in held)


def test_a_re_keyed_list_repeats_its_new_keys_after(unlocked: ws.Unlocked) -> None:
    subkeys.issue(unlocked, 4, ISSUED)
    rekeyed, _ = subkeys.issue(unlocked, 4, ISSUED, rekey=True)
    again, made = subkeys.issue(unlocked, 6, ISSUED)
    assert made == (WEEK1.after(4), WEEK1.after(5))
    reviewer = unlocked.signing.verify_key
    first = verify_subkeys(rekeyed, reviewer, ISSUED)
    second = verify_subkeys(again, reviewer, ISSUED)
    assert all(second.key_for(p) == key for p, key in first.subkeys)


def test_the_cli_re_keys_and_says_how_to_install(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    first = review(workspace, "keys", "subkeys", "new", "--out", str(tmp_path / "a.json"))
    assert first.exit_code == 0, first.output
    result = review(
        workspace, "keys", "subkeys", "new", "--rekey", "--out", str(tmp_path / "b.json")
    )
    assert result.exit_code == 0, result.output
    assert "new keys for" in result.output
    assert "raazdar keyring subkeys install --rekeyed b.json" in result.output
    assert "--subkeys b.json" in result.output  # and the timestamp naming it


def test_reports_sealed_to_a_replaced_subkey_are_named_at_import(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    """A server whose compromised list file was put back, and whose audit entries that forbid
    it were rewritten, seals browser reports to the leaked subkey: the workstation opened
    them with the replaced key it keeps and filed them without a word, so nobody learnt
    that the thief could read them, nor that the server had been rolled back."""
    leaked, _ = subkeys.issue(unlocked, 8, ISSUED)
    rekeyed, _ = subkeys.issue(unlocked, 8, ISSUED, rekey=True)
    reviewer = unlocked.signing.verify_key
    before = verify_subkeys(leaked, reviewer, ISSUED).key_for(WEEK1)
    after = verify_subkeys(rekeyed, reviewer, ISSUED).key_for(WEEK1)
    assert before is not None
    assert after is not None
    unlocked.workspace.close()
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("to the leaked key", before), seal_report("to the new key", after)],
        ISSUED,
    )
    imported = review(workspace, "import", str(bundle))
    assert imported.exit_code == 0, imported.output
    assert "1 item(s) filed here were sealed to a weekly subkey replaced" in imported.output, (
        f"a report sealed to a leaked subkey was filed without a word: {imported.output}"
    )
    assert "tell the administrators and the oversight body" in imported.output
    # Filed all the same (it is a report), and the import's audit entry names the item.
    assert "to the leaked key" in review(workspace, "show", "1").output
    again = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        (detail,) = [e.detail for e in audit.entries(again) if e.action == "import"]
    finally:
        again.workspace.close()
    assert detail is not None
    assert len(detail["replaced_subkey"]) == 1
