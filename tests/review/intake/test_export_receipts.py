"""The workstation confirms which exports arrived, under its seal (reply format 5).

The attack: whoever holds a staff member's cookie, password and a live code (or
the console) exports, and keeps the stick. Its reports were marked exported and
went out of every later bundle: the workstation named a gap, and only an
administrator's `raazdar export --resend` brought them back. Now each reply
bundle says, under the workspace's seal, the newest export number its chain is
complete through, and until the server's newest export is confirmed every export
carries every item still there again; the workstation files what it has already
once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto.bundle import BundleReader
from crypto.errors import VerificationError
from crypto.exchange import ReplyManifest
from review import workspace as ws
from review.casework import replies
from review.intake import exports
from review.intake.importer import import_bundle
from tests.review.support import Server


def _reply_manifest(bundle: Path, u: ws.Unlocked) -> dict[str, object]:
    """A reply bundle's signed manifest, as the server reads it."""
    with bundle.open("rb") as src:
        return dict(BundleReader(src, [u.signing.verify_key]).manifest)


def _confirm(server: Server, u: ws.Unlocked, out: Path) -> None:
    """The workstation's next reply bundle, applied on the server."""
    replies.export_replies(u, out)
    summary = server.apply(out)
    assert summary.confirmed == exports.complete_through(u.conn)


def test_a_bundle_taken_on_the_way_reaches_the_workstation_in_the_next_export(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    server.submit("The SHO sold the girls to the agent.")
    assert import_bundle(unlocked, server.export(tmp_path / "1.rzb")).filed == 1
    replies.export_replies(unlocked, tmp_path / "r1.rzr")
    manifest = _reply_manifest(tmp_path / "r1.rzr", unlocked)
    assert (manifest["format"], manifest["imported"], manifest["restore"]) == (6, 1, None)
    assert server.apply(tmp_path / "r1.rzr").confirmed == 1
    server.submit("The DSP takes a cut from the brick kiln.")
    server.export(tmp_path / "stolen.rzb")  # bundle 2: taken, never imported here
    server.submit("The inspector keeps the passports.")
    third = import_bundle(unlocked, server.export(tmp_path / "3.rzb"))
    assert third.filed == 2, (
        f"{2 - third.filed} of 1 report(s) of the bundle taken on the way reached the "
        "workstation only through an administrator's --resend"
    )
    assert exports.gaps(unlocked.conn).missing == ()
    assert exports.complete_through(unlocked.conn) == 3
    # Confirmed: the next export carries only what is new.
    _confirm(server, unlocked, tmp_path / "r2.rzr")
    server.submit("A fourth report.")
    fourth = import_bundle(unlocked, server.export(tmp_path / "4.rzb"))
    assert (fourth.filed, fourth.items, fourth.already) == (1, 1, 0)


def test_an_item_carried_again_before_its_confirmation_is_filed_once(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    server.submit("The SHO sold the girls to the agent.")
    assert import_bundle(unlocked, server.export(tmp_path / "1.rzb")).filed == 1
    _confirm(server, unlocked, tmp_path / "r1.rzr")
    server.submit("The DSP takes a cut from the brick kiln.")
    assert import_bundle(unlocked, server.export(tmp_path / "2.rzb")).filed == 1
    # Bundle 2 is not confirmed yet (no reply bundle since): bundle 3 carries its item again.
    again = import_bundle(unlocked, server.export(tmp_path / "3.rzb"))
    assert (again.filed, again.already) == (0, 1)
    count = unlocked.conn.execute("SELECT count(*) FROM items").fetchone()[0]
    assert count == 2
    _confirm(server, unlocked, tmp_path / "r2.rzr")
    assert import_bundle(unlocked, server.export(tmp_path / "4.rzb")).items == 0


def test_the_confirmation_is_under_the_seal_and_cannot_be_raised_alone(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """A courier who edits `imported` (to stop the carrying again of a bundle they kept)
    breaks the reviewer's signature; re-signed with a reviewer's key file, the seal fails."""
    server.submit("The SHO sold the girls to the agent.")
    assert import_bundle(unlocked, server.export(tmp_path / "1.rzb")).filed == 1
    replies.export_replies(unlocked, tmp_path / "r1.rzr")
    manifest = _reply_manifest(tmp_path / "r1.rzr", unlocked)
    ReplyManifest.from_json(manifest)  # the control: as written, it reads
    with pytest.raises(VerificationError, match="seal"):
        ReplyManifest.from_json({**manifest, "imported": 9})
