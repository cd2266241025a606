"""A review workstation seized while powered off: what its disk says of an escalation.

An escalation tells an accused officer that an investigation is coming: who on the
review team wrote it, and to which oversight body it went, is what he would most like
to know. The attack: escalate through the command line, as a reviewer does, then read
the database file's bytes (its rollback journal and freed pages with them) and its rows
as whoever holds the disk and no passphrase.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto.encoding import b64encode, canonical_json
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.escalation import load
from review.workspace import escalations, head, roster
from review.workspace.schema import transaction
from tests.review.escalation import test_escalation
from tests.review.escalation.test_escalation import (
    SUMMARY,
    VICTIM,
    VICTIM_URDU,
    Case,
    _escalate,
)
from tests.review.support import all_bytes, on_the_disk, review
from tests.review.workspace.test_tampered_rows import ALTERED

# Two reports in review and a registered body: the escalation tests' starting point.
case = test_escalation.case

AUTHOR = "demo-reviewer"


def _rows(root: Path) -> list[dict[str, object]]:
    """Each escalation's row, column by column, as a seizer reads it."""
    conn = sqlite3.connect(root / ws.DB_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM escalations")]
    finally:
        conn.close()


def test_a_seized_workspace_does_not_say_who_escalated_nor_to_which_body(case: Case) -> None:
    """Attack: `escalations.author` and `escalations.body` were kept in the clear, so the
    disk said which reviewer escalated, and to which body (the number of its row)."""
    _escalate(case)
    (row,) = _rows(case.workspace)
    clear = {
        column: value
        for column, value in row.items()
        if not isinstance(value, bytes) and column not in {"id", "blob"}
    }
    assert clear == {}, f"the disk says who escalated, and to which body: {clear}"
    assert AUTHOR not in {str(value) for value in row.values()}


def test_no_word_of_an_escalation_is_in_a_seized_workspaces_bytes(case: Case) -> None:
    """Attack: the database file, its journal and its freed pages, read byte by byte, for
    what the escalation says, names or is for (the body's name, jurisdiction and contact)."""
    _escalate(case)
    words = [
        SUMMARY,
        "Rana Tariq",
        VICTIM,
        VICTIM_URDU,
        "Chak 41",
        "Anti-Trafficking Cell",
        "By hand, to the registrar",
        "Punjab",
    ]
    found = {
        (str(path.relative_to(case.workspace)), word)
        for path, data in all_bytes(case.workspace)
        for word in words
        if word.encode("utf-8") in data or word.encode("utf-16-le") in data
    }
    assert found == set()
    # Pages freed by the escalation's writes are kept, zeroed (`secure_delete`), not dropped.
    leaves = _free_leaves((case.workspace / ws.DB_NAME).read_bytes())
    assert [n for n, page in leaves if page.strip(b"\0")] == []


def _free_leaves(db: bytes) -> list[tuple[int, bytes]]:
    """Each free leaf page of an SQLite file (number, bytes), read from its freelist."""
    size = int.from_bytes(db[16:18], "big")
    size = 65536 if size == 1 else size
    leaves, trunk = [], int.from_bytes(db[32:36], "big")
    while trunk:
        page = db[(trunk - 1) * size : trunk * size]
        count = int.from_bytes(page[4:8], "big")
        for i in range(count):
            n = int.from_bytes(page[8 + 4 * i : 12 + 4 * i], "big")
            leaves.append((n, db[(n - 1) * size : n * size]))
        trunk = int.from_bytes(page[0:4], "big")
    return leaves


def keep_as_schema_15(conn: sqlite3.Connection, key: WorkspaceKey) -> None:
    """Take each escalation's body and author out of its record and into clear columns, as
    the tool of schema 15 kept them (in the caller's transaction)."""
    rows = conn.execute("SELECT id, blob, sealed FROM escalations ORDER BY id").fetchall()
    conn.execute("DROP TABLE escalations")
    conn.execute(
        "CREATE TABLE escalations (id INTEGER PRIMARY KEY,"
        " body INTEGER NOT NULL REFERENCES bodies(id),"
        " author TEXT NOT NULL REFERENCES reviewers(id), blob TEXT NOT NULL, sealed BLOB NOT NULL)"
    )
    for esc_id, blob, sealed in rows:
        record = json.loads(key.open_record(sealed, escalations.context(esc_id)))
        body, author = record.pop("body"), record.pop("author")
        data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
        resealed = key.seal_record(data, escalations.context(esc_id))
        conn.execute(
            "INSERT INTO escalations VALUES (?, ?, ?, ?, ?)", (esc_id, body, author, blob, resealed)
        )


def as_schema_15_left_it(root: Path, form: int = 4) -> str:
    """Leave the workspace as the tool of schema 15 did: escalations' bodies and authors in
    the clear, the head tagged in form 4 (or an older `form`), the roster saying so; the tag."""
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        with transaction(u.conn) as conn:
            keep_as_schema_15(conn, u.key)
            tag = b64encode(head._tag(conn, u.key, head.stored(conn), form=form))
            stored = json.loads(
                conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()[0]
            )
            listed = {"keys": stored["keys"], "reviewers": stored["reviewers"]}
            listed[roster.HEAD_KEPT] = form
            kept = {**listed, "tag": b64encode(u.key.roster_tag(canonical_json(listed)))}
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (tag, head.TAG))
            conn.execute("UPDATE meta SET value = ? WHERE key = 'roster'", (json.dumps(kept),))
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(form + 11),))
    finally:
        u.workspace.close()
    return tag


def _listed(root: Path) -> str:
    shown = review(root, "escalation", "list")
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_a_schema_15_workspace_has_its_escalations_sealed_at_the_first_unlock_losing_none(
    case: Case,
) -> None:
    _escalate(case)
    _escalate(case)
    before = _listed(case.workspace)
    as_schema_15_left_it(case.workspace)
    with on_the_disk(case.workspace) as conn:
        authors = [a for (a,) in conn.execute("SELECT author FROM escalations ORDER BY id")]
    assert authors == [AUTHOR, AUTHOR]
    assert _listed(case.workspace) == before
    (first,) = _rows(case.workspace)[:1]
    assert set(first) == {"id", "blob", "sealed"}
    with on_the_disk(case.workspace) as conn:
        assert roster.head_form(conn) == head.FORM == 5
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("16",)
    u = ws.Workspace.open(case.workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        kept = [(e.body, e.author) for e in (load(u, 1), load(u, 2))]
    finally:
        u.workspace.close()
    assert kept == [(1, AUTHOR), (1, AUTHOR)]
    shown = review(case.workspace, "escalation", "show", "2")
    assert shown.exit_code == 0, shown.output


def test_the_form_4_tag_put_back_after_the_escalations_are_sealed_is_refused(
    case: Case,
) -> None:
    """Attack: the tag of schema 15, kept from a copy of the disk, put back once the
    escalations are sealed: the form it is in covers columns no longer there."""
    _escalate(case)
    copied = as_schema_15_left_it(case.workspace)
    _listed(case.workspace)
    with on_the_disk(case.workspace) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (copied, head.TAG))
    refused = review(case.workspace, "escalation", "list")
    assert refused.exit_code == 1, f"the form-4 tag was taken again: {refused.output}"
    assert ALTERED in refused.output, refused.output


def test_an_escalations_record_put_back_from_an_older_copy_is_refused_at_unlock(
    case: Case,
) -> None:
    """Attack: a packet sent, its record put back as it was before it went: the tool showed
    it "ready", and a second export sent it again as new (a new deadline, another entry)."""
    _escalate(case)
    with on_the_disk(case.workspace) as conn:
        (ready,) = conn.execute("SELECT sealed FROM escalations WHERE id = 1").fetchone()
    sent = review(
        case.workspace, "escalation", "export", "1", "--out", str(case.workspace.parent / "p.rzp")
    )
    assert sent.exit_code == 0, sent.output
    with on_the_disk(case.workspace) as conn:
        conn.execute("UPDATE escalations SET sealed = ? WHERE id = 1", (ready,))
    listed = review(case.workspace, "escalation", "list")
    assert listed.exit_code == 1, f"the record of before it was sent was taken: {listed.output}"
    assert ALTERED in listed.output, listed.output


def test_a_schema_15_escalation_whose_record_does_not_open_is_named_and_nothing_is_lost(
    case: Case,
) -> None:
    """Its record cut short on the disk (form 4 does not cover it): the first unlock says
    which escalation, and leaves every escalation and the clear columns as they were."""
    _escalate(case)
    _escalate(case)
    as_schema_15_left_it(case.workspace)
    with on_the_disk(case.workspace) as conn:
        conn.execute("UPDATE escalations SET sealed = substr(sealed, 1, 40) WHERE id = 2")
        before = conn.execute("SELECT * FROM escalations ORDER BY id").fetchall()
    refused = review(case.workspace, "escalation", "list")
    assert refused.exit_code == 1, refused.output
    assert "escalation 2's record does not open" in refused.output, refused.output
    assert "Traceback" not in refused.output
    with on_the_disk(case.workspace) as conn:
        assert conn.execute("SELECT * FROM escalations ORDER BY id").fetchall() == before
        assert roster.head_form(conn) == 4
