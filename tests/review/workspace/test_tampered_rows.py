"""The rows on the workstation's disk that say who reads what reviewers write, changed for a night.

The attack: whoever can write where the workspace lies (a seized and returned
laptop, or the backup stick in the safe, docs/review-workstation.md §5) changes a
row the tool reads in the clear, or puts back a sealed one from an older copy:
the escalation rule (how many reviewers must sign a packet), an escalation
body's record (retired for a key that leaked), a source's reply key, which of
their one-time reply keys were used, the hashes of the envelopes filed (what
names a copy as old words), which reply bundles were taken back (what later
bundles void), or which report an attachment or note is on, which packet an
escalation is, and which envelope a reply is and whether it went out. Each decides
who reads what the reviewers write, or what is shown as news, and none was tagged:
the tool must refuse to go on (`review.workspace.head` tags them since schema 14).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import PrivateKey, PublicKey
from crypto.binding import SourceBinding
from crypto.errors import CryptoError
from review import escalation
from review import workspace as ws
from review.casework import replies, reports, triage
from review.errors import UnlockError
from review.escalation.bodies import find_body
from review.intake.importer import import_bundle
from tests.review.casework.test_prekeys import _keys, _prekeys, _record, _sealed_to
from tests.review.escalation.test_escalation import _add_body
from tests.review.escalation.test_escalation_attachments import _escalate as _escalate_args
from tests.review.intake.test_binding import _bundle
from tests.review.intake.test_receipts import _manifest, _reply_and_export
from tests.review.intake.test_replayed import WORDS, _copied_by_the_server
from tests.review.support import Server, on_the_disk, review

ALTERED = "what is on the disk is not what this workspace's tool last wrote"


def _unlock(root: Path) -> ws.Unlocked:
    return ws.Workspace.open(root).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)


def _taken(root: Path, use: Callable[[ws.Unlocked], object]) -> object:
    """What the tool makes of the disk as it is (`use` of it), or the unlock's refusal."""
    try:
        u = _unlock(root)
    except UnlockError as exc:
        return exc
    try:
        return use(u)
    finally:
        u.workspace.close()


@pytest.mark.parametrize(
    "lowered",
    ["UPDATE meta SET value = '0' WHERE key = ?", "DELETE FROM meta WHERE key = ?"],
    ids=["set-to-none", "removed"],
)
def test_an_escalation_rule_lowered_on_the_disk_is_refused_at_unlock(
    workspace: Path, lowered: str
) -> None:
    """One administrator alone may not weaken the two-person rule: nor may the disk."""
    assert review(workspace, "escalation", "rule", "1").exit_code == 0
    with on_the_disk(workspace) as conn:
        conn.execute(lowered, (escalation.POLICY_KEY,))
    found = _taken(workspace, escalation.policy)
    assert isinstance(found, UnlockError), (
        f"the escalation rule lowered on the disk was taken: a packet needs {found}"
        " countersignatures"
    )
    assert ALTERED in str(found)


def test_a_retired_body_put_back_from_an_older_copy_is_refused_at_unlock(workspace: Path) -> None:
    """A body retired for a key that leaked, its older record put back: packets to its name
    would be sealed to that key again, ahead of the key that replaced it."""
    _add_body(workspace)
    with on_the_disk(workspace) as conn:
        (before,) = conn.execute("SELECT sealed FROM bodies WHERE id = 1").fetchone()
    retired = review(workspace, "bodies", "retire", "1")
    assert retired.exit_code == 0, retired.output
    _add_body(workspace)  # the same name, its new key: body 2
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE bodies SET sealed = ? WHERE id = 1", (before,))
    found = _taken(workspace, lambda u: find_body(u, "Anti-Trafficking Cell").id)
    assert isinstance(found, UnlockError), (
        f"a retired body put back on the disk was taken: packets to its name go to body {found}"
    )
    assert ALTERED in str(found)


def test_a_sources_reply_key_swapped_on_the_disk_gets_no_reply(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Whoever holds the disk and the server would read the replies sealed to their key."""
    server.submit("The SHO at Kotri took money to let the girls across.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    theirs = PrivateKey.generate().public_key
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE sources SET public_key = ?", (theirs.to_text(),))
    found = _taken(
        workspace, lambda u: _sealed_to(u, replies.queue_reply(u, 1, "Who else saw it?").reply_id)
    )
    assert isinstance(found, UnlockError), (
        "a reply was sealed on a disk whose source key was swapped; to the planted key:"
        f" {found == theirs.fingerprint.key_id}"
    )
    assert ALTERED in str(found)


def test_a_reply_prekey_marked_unused_on_the_disk_is_not_sealed_to_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Two replies to one prekey: the source's device deleted its secret after the first."""
    source = _keys()
    _secrets, public = _prekeys()
    binding = SourceBinding.make(source.public_key, source.signing_key, public)
    bundle = _bundle(
        server, tmp_path, source.public_key, None, records=((_record(public), binding),)
    )
    u = _unlock(workspace)
    try:
        assert import_bundle(u, bundle).filed == 1
        first = _sealed_to(u, replies.queue_reply(u, 1, "Question?").reply_id)
    finally:
        u.workspace.close()
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE reply_prekeys SET used = 0")
    found = _taken(workspace, lambda u: _sealed_to(u, replies.queue_reply(u, 1, "Again?").reply_id))
    assert isinstance(found, UnlockError), (
        f"a prekey marked unused on the disk was sealed to again: the same one {found == first}"
    )
    assert ALTERED in str(found)


def test_the_envelopes_filed_removed_on_the_disk_let_no_copy_be_filed_as_news(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The hashes of the envelopes filed name a copy the server exports again under a new id
    (`review.intake.copies`): removed, a source's old words were filed as a new report."""
    server.submit(WORDS)
    assert review(workspace, "import", str(server.export(tmp_path / "1.rzb"))).exit_code == 0
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM envelopes")
    _copied_by_the_server(server)
    again = review(workspace, "import", str(server.export(tmp_path / "2.rzb")))
    assert again.exit_code == 1, f"a copy was filed as a new report: {again.output}"
    assert ALTERED in again.output, again.output


def test_a_reply_bundle_taken_back_and_cleared_on_the_disk_is_still_voided(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Every later reply bundle voids one taken back (`review.intake.receipts`), so the
    server refuses it if the lost stick is handed in; cleared on the disk, none did."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    first = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    assert review(workspace, "exchange", "take-back", first.bundle_id).exit_code == 0
    (tmp_path / "reply.txt").write_text("reply r2")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE reply_bundles SET taken_back = NULL, carried = NULL")
    out = tmp_path / "r2.rzr"
    exported = review(workspace, "export-replies", "--out", str(out))
    assert exported.exit_code == 1, (
        f"a reply bundle was written voiding {len(_manifest(out).voids)} bundle(s) taken back"
    )
    assert ALTERED in exported.output, exported.output


def test_a_report_moved_to_another_source_on_the_disk_gets_no_reply(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A reply goes to the key of the report's source (`reports.source`): moved on the disk
    to a designation whose key the server's holder has, it was sealed to them."""
    server.submit("The SHO at Kotri took money to let the girls across.")
    server.submit("a second source, whose key is theirs")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    with on_the_disk(workspace) as conn:
        (other,) = conn.execute("SELECT source FROM reports WHERE num = 2").fetchone()
        (theirs,) = conn.execute(
            "SELECT public_key FROM sources WHERE designation = ?", (other,)
        ).fetchone()
        conn.execute("UPDATE reports SET source = ? WHERE num = 1", (other,))
    found = _taken(
        workspace, lambda u: _sealed_to(u, replies.queue_reply(u, 1, "Who else saw it?").reply_id)
    )
    assert isinstance(found, UnlockError), (
        "a reply to report 1 was sealed on a disk that moved it to another source; to that"
        f" source's key: {found == PublicKey.from_text(theirs).fingerprint.key_id}"
    )
    assert ALTERED in str(found)


def _two_reports(server: Server, workspace: Path, tmp_path: Path) -> tuple[int, int]:
    """Two reports filed, the first with a photo: (the photo's report, the other)."""
    server.submit(
        "The SHO at Kotri took money to let the girls across.",
        [("files", "IMG_0042 Kotri.jpg", b"\xff\xd8\xff\xe0 the checkpost at night", "image/jpeg")],
    )
    server.submit("a second report, about another district")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    with on_the_disk(workspace) as conn:
        (photo,) = conn.execute("SELECT report FROM items WHERE kind != 'report'").fetchone()
        (other,) = conn.execute("SELECT num FROM reports WHERE num != ?", (photo,)).fetchone()
    return photo, other


def test_an_attachment_moved_to_another_report_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A photo moved on the disk from one report to another: the reviewer reads, and
    escalates, the first report's evidence as the second's."""
    photo, other = _two_reports(server, workspace, tmp_path)
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE items SET report = ? WHERE report = ?", (other, photo))
    found = _taken(workspace, lambda u: [a.name for a in reports.attachments(u, other)])
    assert isinstance(found, UnlockError), (
        f"an attachment moved on the disk was taken: report {other} lists {found}"
    )
    assert ALTERED in str(found)


@pytest.mark.parametrize(
    "planted",
    [
        "UPDATE items SET blob = CAST(blob AS BLOB) WHERE report = ?",
        "UPDATE reports SET day = CAST(day AS BLOB) WHERE num = ?",
    ],
    ids=["item-blob", "report-day"],
)
def test_a_value_written_as_bytes_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path, planted: str
) -> None:
    """The same value, of another type: the tag reads every value with its type, and a value
    it cannot write as JSON is refused as altered, never a crash."""
    photo, _other = _two_reports(server, workspace, tmp_path)
    with on_the_disk(workspace) as conn:
        conn.execute(planted, (photo,))
    found = _taken(workspace, lambda u: [a.name for a in reports.attachments(u, photo)])
    assert isinstance(found, UnlockError), f"a blob name of another type was taken: {found}"
    assert ALTERED in str(found)


def test_a_note_moved_to_another_report_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A note moved on the disk opens for no report: the reviewer's notes would be lost
    from the one and an error on the other, with nothing said of the disk."""
    photo, other = _two_reports(server, workspace, tmp_path)
    u = _unlock(workspace)
    try:
        triage.add_note(u, photo, "The driver named the SHO.")
    finally:
        u.workspace.close()
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE notes SET report = ?", (other,))

    def read(u: ws.Unlocked) -> object:
        try:
            return [n.text for n in triage.notes(u, other)]
        except CryptoError as exc:  # what the reviewer is shown instead of the notes
            return exc

    found = _taken(workspace, read)
    assert isinstance(found, UnlockError), (
        f"a note moved on the disk was taken: report {other}'s notes are {found!r}"
    )
    assert ALTERED in str(found)


def test_an_escalation_pointed_at_another_packet_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """An escalation's packet (`escalations.blob`) swapped on the disk for another's: the
    packet written out for one body is the other's."""
    _num, _body, args = _escalate_args(server, workspace, tmp_path, "note.txt", b"the ledger page")
    for summary in ("first", "second"):
        done = review(workspace, *args[:-4], "--summary", summary, *args[-2:])
        assert done.exit_code == 0, done.output
    with on_the_disk(workspace) as conn:
        blobs = [b for (b,) in conn.execute("SELECT blob FROM escalations ORDER BY id")]
        conn.execute("UPDATE escalations SET blob = ? WHERE id = 1", (blobs[1],))
    found = _taken(workspace, lambda u: escalation.load(u, 1).blob)
    assert isinstance(found, UnlockError), (
        f"an escalation pointed at another packet on the disk was taken: its blob is {found}"
        f" ({found == blobs[1]}: the second's)"
    )
    assert ALTERED in str(found)


@pytest.mark.parametrize("changed", ["exported-in-cleared", "envelope-swapped"])
def test_a_reply_marked_unsent_or_given_another_envelope_on_the_disk_is_refused(
    server: Server, workspace: Path, tmp_path: Path, changed: str
) -> None:
    """A reply marked unsent on the disk went out twice; one given another's envelope
    carried the other's words to its source."""
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "e1.rzb"))).exit_code == 0
    _reply_and_export(workspace, tmp_path, "r1")
    (tmp_path / "reply.txt").write_text("reply r2")
    assert review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt")).exit_code == 0
    with on_the_disk(workspace) as conn:
        if changed == "exported-in-cleared":
            conn.execute("UPDATE replies SET exported_in = NULL")
        else:
            conn.execute(
                "UPDATE replies SET envelope = (SELECT envelope FROM replies WHERE"
                " exported_in IS NOT NULL) WHERE exported_in IS NULL"
            )
    out = tmp_path / "r2.rzr"
    exported = review(workspace, "export-replies", "--out", str(out))
    assert exported.exit_code == 1, (
        f"a reply bundle was written carrying {len(_manifest(out).replies)} reply(ies)"
    )
    assert ALTERED in exported.output, exported.output


def test_a_reviewers_own_work_on_every_row_the_tag_covers_unlocks_again(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Each writer of the items, notes, escalations and replies tags the head it changed:
    else the reviewer's own next unlock is refused as if the disk were altered."""
    num, _body, args = _escalate_args(server, workspace, tmp_path, "note.txt", b"the ledger")
    u = _unlock(workspace)
    try:
        triage.add_note(u, num, "The driver named the SHO.")
        reports.read_attachment(u, num, "1")
    finally:
        u.workspace.close()
    first = _manifest(_reply_and_export(workspace, tmp_path, "r1"))
    assert review(workspace, "exchange", "take-back", first.bundle_id).exit_code == 0
    _reply_and_export(workspace, tmp_path, "r2")
    done = review(workspace, *args)
    assert done.exit_code == 0, done.output
    server.submit("a later report")
    assert review(workspace, "import", str(server.export(tmp_path / "e2.rzb"))).exit_code == 0
    found = _taken(workspace, lambda u: len(reports.attachments(u, num)))
    assert found == 1, f"the reviewer's own work was refused at the next unlock: {found}"
