"""The audit log: every action signed and chained; any edit, deletion or reordering is named."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto.encoding import b64encode, canonical_json
from review import workspace as ws
from review.casework import conflicts, triage
from review.errors import UnlockError, WorkspaceError
from review.intake.importer import import_bundle
from review.keys.rewrap import rewrap
from review.workspace import audit, schema
from review.workspace.schema import transaction
from tests.review.support import Server, enrol_second_reviewer, review


@pytest.fixture
def logged(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """A workspace whose log holds a handful of entries (init, the demo's subkeys adopted,
    import, three changes)."""
    server.submit("a report for the log")
    import_bundle(unlocked, server.export(tmp_path / "e.rzb"))
    triage.set_status(unlocked, 1, "in-review")
    triage.tag(unlocked, 1, ["checked"])
    triage.add_note(unlocked, 1, "a note")
    assert audit.verify(unlocked.workspace).ok
    return unlocked


def _db(workspace: Path) -> sqlite3.Connection:
    return sqlite3.connect(workspace / ws.DB_NAME, isolation_level=None)


def _flip_sealed(record: str) -> str:
    """Change one character of the sealed part: what the entry did, to which report, when."""
    start = record.index('"sealed":"') + len('"sealed":"') + 10
    return record[:start] + ("A" if record[start] != "A" else "B") + record[start + 1 :]


def _edit_action(db: sqlite3.Connection) -> None:
    (record,) = db.execute("SELECT record FROM audit WHERE seq = 3").fetchone()
    db.execute("UPDATE audit SET record = ? WHERE seq = 3", (_flip_sealed(record),))


def _edit_actor(db: sqlite3.Connection) -> None:
    (record,) = db.execute("SELECT record FROM audit WHERE seq = 2").fetchone()
    db.execute(
        "UPDATE audit SET record = ? WHERE seq = 2", (record.replace("demo-reviewer", "someone"),)
    )


def _delete_middle(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM audit WHERE seq = 3")


def _delete_last(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")


def _swap(db: sqlite3.Connection) -> None:
    db.execute("UPDATE audit SET seq = -1 WHERE seq = 3")
    db.execute("UPDATE audit SET seq = 3 WHERE seq = 4")
    db.execute("UPDATE audit SET seq = 4 WHERE seq = -1")


def _forge_signature(db: sqlite3.Connection) -> None:
    (signature,) = db.execute("SELECT signature FROM audit WHERE seq = 4").fetchone()
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    db.execute("UPDATE audit SET signature = ? WHERE seq = 4", (forged,))


def _relink(db: sqlite3.Connection) -> None:
    db.execute("UPDATE audit SET link = ? WHERE seq = 2", ("00" * 32,))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_edit_action, "entry 3 was altered"),
        (_edit_actor, "entry 2 was altered"),
        (_delete_middle, "entry 3 is missing"),
        (_delete_last, "entries after entry 5 are missing"),
        (_swap, "entry 3 is out of order (it holds entry 4)"),
        (_forge_signature, "entry 4: its signature does not verify"),
        (_relink, "entry 2 was altered"),
    ],
)
def test_tampering_with_the_log_is_found_and_named(
    logged: ws.Unlocked,
    workspace: Path,
    tamper: Callable[[sqlite3.Connection], None],
    expected: str,
) -> None:
    db = _db(workspace)
    tamper(db)
    db.close()
    verdict = audit.verify(ws.Workspace.open(workspace))
    assert verdict.problem == expected
    result = review(workspace, "audit", "verify")
    assert result.exit_code == 1
    assert f"raazdar-review: error: the audit log does not verify: {expected}" in result.output


def test_an_entry_signed_by_a_key_that_is_not_the_actors_is_refused(
    logged: ws.Unlocked, workspace: Path
) -> None:
    from crypto import SigningKey

    db = _db(workspace)
    db.execute(
        "UPDATE audit SET signer = ? WHERE seq = 2", (SigningKey.generate().verify_key.to_text(),)
    )
    db.close()
    assert audit.verify(ws.Workspace.open(workspace)).problem == (
        "entry 2: signed by a key that is not the actor's"
    )


def test_details_are_sealed_and_shown_only_when_unlocked(
    logged: ws.Unlocked, workspace: Path
) -> None:
    db = _db(workspace)
    records = " ".join(r[0] for r in db.execute("SELECT record FROM audit"))
    db.close()
    assert "a note" not in records
    assert "checked" not in records
    shown = review(workspace, "audit", "show", "--report", "1").output
    assert "checked" in shown
    assert "in-review" in shown


def test_a_key_slipped_into_the_tables_cannot_re_sign_the_log(
    logged: ws.Unlocked, workspace: Path
) -> None:
    """Rewrite entry 3 and every later one, signed by a key added straight to the database."""
    import json

    from crypto import GENESIS, SigningKey, chain_link
    from crypto.encoding import b64encode, canonical_json

    forger = SigningKey.generate()
    db = _db(workspace)
    db.execute(
        "UPDATE reviewer_keys SET signing_key = ? WHERE reviewer = 'demo-reviewer'",
        (forger.verify_key.to_text(),),
    )
    rows = db.execute("SELECT seq, record, link FROM audit ORDER BY seq").fetchall()
    previous = GENESIS
    for seq, text, link in rows:
        record = json.loads(text)
        if seq >= 3:
            if seq == 3:
                record["action"] = "nothing-happened"
            new_link = chain_link(previous, record)
            db.execute(
                "UPDATE audit SET record = ?, link = ?, signer = ?, signature = ? WHERE seq = ?",
                (
                    canonical_json(record).decode(),
                    new_link.hex(),
                    forger.verify_key.to_text(),
                    b64encode(forger.sign(audit.SIG_CONTEXT_AUDIT, new_link)),
                    seq,
                ),
            )
            previous = new_link
        else:
            previous = bytes.fromhex(link)
    db.execute(
        "UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{len(rows)}:{previous.hex()}",)
    )
    db.close()
    assert audit.verify(ws.Workspace.open(workspace)).problem == (
        "entry 3: signed by a key that is not the actor's"
    )


def test_keys_enrolled_through_the_log_can_sign_it(
    logged: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    from crypto import KdfParams, KeyFile, KeyPair
    from review.keys.enrolment import enrol_key

    data = KeyFile.create(
        KeyPair.generate(), "pw", kind="reviewer", label="Second", params=KdfParams.TESTING
    ).to_bytes()
    enrol_key(logged, reviewer="second", name="Second", key_file=data, ask=lambda _: "pw")
    second = ws.Workspace.open(workspace).unlock("second", lambda _: "pw")
    triage.tag(second, 1, ["by-second"])
    verdict = audit.verify(second.workspace)
    assert verdict.ok, verdict.problem
    assert verdict.entries == 8


def _append_legacy(u: ws.Unlocked, action: str, target: int, detail: dict[str, str]) -> None:
    """An entry as schema version 2 wrote it: time, action and report in the clear."""
    from crypto import GENESIS, chain_link
    from crypto.encoding import b64encode, canonical_json

    row = u.conn.execute("SELECT seq, link FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (row[0] + 1, bytes.fromhex(row[1])) if row else (1, GENESIS)
    sealed = u.key.seal_record(canonical_json(detail), f"audit:{seq}".encode())
    record = {
        "seq": seq,
        "at": "2025-01-02T03:04:05Z",
        "actor": u.reviewer,
        "action": action,
        "target": target,
        "detail": b64encode(sealed),
        "enrols": None,
    }
    link = chain_link(previous, record)
    signature = u.signing.sign(audit.SIG_CONTEXT_AUDIT, link)
    u.conn.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?)",
        (
            seq,
            canonical_json(record).decode(),
            link.hex(),
            u.signing.verify_key.to_text(),
            b64encode(signature),
        ),
    )
    u.conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{seq}:{link.hex()}",))


def test_entries_of_the_older_form_still_verify_and_read_beside_sealed_ones(
    logged: ws.Unlocked, workspace: Path
) -> None:
    _append_legacy(logged, "note", 1, {"text": "an old note"})
    triage.tag(logged, 1, ["later"])
    assert audit.verify(ws.Workspace.open(workspace)).ok
    shown = [(e.action, e.target, e.detail) for e in audit.entries(logged, target=1)]
    assert ("note", 1, {"text": "an old note"}) in shown
    assert shown[-1][:2] == ("tag", 1)
    db = _db(workspace)
    newest = db.execute("SELECT record FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0]
    db.close()
    assert set(json.loads(newest)) == {"format", "seq", "actor", "sealed", "enrols"}


def test_a_session_unlocked_before_another_rewrapped_writes_nothing(logged: ws.Unlocked) -> None:
    """What the stale session would seal goes under the key the rewrap replaced."""
    root = logged.workspace.root
    other = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        rewrap(other)
    finally:
        other.workspace.close()
    before = len(logged.conn.execute("SELECT seq FROM audit").fetchall())
    # A declaration reads nothing sealed before it writes, when it is the reviewer's first.
    with pytest.raises(UnlockError, match="re-sealed under a new key since this session"):
        conflicts.declare(logged, districts=["Gujrat"])
    assert len(logged.conn.execute("SELECT seq FROM audit").fetchall()) == before
    assert logged.conn.execute("SELECT count(*) FROM conflicts").fetchone() == (0,)
    fresh = logged.workspace.reopen(logged)
    conflicts.declare(fresh, districts=["Gujrat"])
    triage.add_note(fresh, 1, "written under the new key")
    assert review(root, "audit", "verify").exit_code == 0


def _cut_after(db: sqlite3.Connection, keep: int) -> None:
    """Remove every entry after `keep` and write the head kept apart as `append` wrote it then."""
    (link,) = db.execute("SELECT link FROM audit WHERE seq = ?", (keep,)).fetchone()
    db.execute("DELETE FROM audit WHERE seq > ?", (keep,))
    db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{keep}:{link}",))


def test_the_last_entries_cut_with_the_head_rewritten_are_refused_at_unlock(
    logged: ws.Unlocked, workspace: Path
) -> None:
    """A seized workstation returned with its last actions erased: the entries after the
    import cut, and the head kept apart written to match, in the clear as it was."""
    logged.workspace.close()
    db = _db(workspace)
    _cut_after(db, 3)
    db.close()
    listed = review(workspace, "list")
    assert listed.exit_code == 1, f"a log cut after entry 3 unlocked as whole: {listed.output}"
    assert "the audit log on this disk was cut" in listed.output, listed.output
    assert "Traceback" not in listed.output


def test_the_head_kept_apart_removed_is_refused_at_unlock(
    logged: ws.Unlocked, workspace: Path
) -> None:
    """Nor does removing the head's tag (or the head) make the log look like an older tool's."""
    logged.workspace.close()
    db = _db(workspace)
    _cut_after(db, 3)
    db.execute("DELETE FROM meta WHERE key LIKE 'audit_head%'")
    db.close()
    listed = review(workspace, "list")
    assert listed.exit_code == 1, f"a log cut after entry 3 unlocked as whole: {listed.output}"
    assert "the audit log on this disk was cut" in listed.output, listed.output


def test_the_tools_own_actions_keep_the_head_it_checks(logged: ws.Unlocked) -> None:
    """Each entry, a rewrap and an enrolment carry the head along: the next unlock opens."""
    root = logged.workspace.root
    done, _ = rewrap(logged)
    triage.add_note(done, 1, "after the rewrap")
    enrol_second_reviewer(done)
    done.workspace.close()
    listed = review(root, "--as", "demo-reviewer", "list")
    assert listed.exit_code == 0, listed.output
    assert review(root, "audit", "verify").exit_code == 0


def test_a_workspace_the_tool_before_left_gets_its_head_tagged_at_its_first_unlock(
    logged: ws.Unlocked, workspace: Path
) -> None:
    """Trust on first use, as for the roster: then a cut is refused as in any other."""
    conn = logged.conn
    with transaction(conn):  # as the tool before tagged heads left it: a roster without the word
        stored = json.loads(
            conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()[0]
        )
        listed = {"keys": stored["keys"], "reviewers": stored["reviewers"]}
        tagged = {**listed, "tag": b64encode(logged.key.roster_tag(canonical_json(listed)))}
        conn.execute("UPDATE meta SET value = ? WHERE key = 'roster'", (json.dumps(tagged),))
        conn.execute("DELETE FROM meta WHERE key = 'audit_head_tag'")
    logged.workspace.close()
    listed_out = review(workspace, "list")
    assert listed_out.exit_code == 0, listed_out.output
    db = _db(workspace)
    _cut_after(db, 3)
    db.close()
    listed_out = review(workspace, "list")
    assert listed_out.exit_code == 1, listed_out.output
    assert "the audit log on this disk was cut" in listed_out.output, listed_out.output


def test_the_tool_before_tagged_heads_is_told_the_workspace_is_newer(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It would append entries without the tag, which this tool would refuse as a cut log."""
    made = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 10)  # as the tool before tagged heads reads
    with pytest.raises(WorkspaceError, match=f"schema version {made}; this tool reads 1-10"):
        ws.Workspace.open(workspace)
