"""A seized workspace's database: does the order its rows were written in date the casework?

The attack: whoever holds the disk, without a passphrase, reads `blob_data` in rowid
order. SQLite numbered its rows in the order they were written, and the table holds every
small blob, whatever it is for: a report's items, a reply, an escalated packet. Each
blob's name is clear in the table naming it (`items.blob`, with its import in
`items.bundle`; `replies.envelope`; `escalations.blob`), and each import's time is clear
in `bundles.imported`: so a reply's row, between two imports' rows, said in which
interval it was written, though everything about the reply is sealed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework import replies, triage
from review.casework.reports import read_report
from review.workspace.blobs import put_inline, put_inline_many
from review.workspace.schema import transaction
from tests.review.support import Server, review


def test_a_seizer_cannot_tell_between_which_imports_a_reply_was_written(
    unlocked: ws.Unlocked,
) -> None:
    first = [f"first-{n}.rze" for n in range(6)]
    second = [f"second-{n}.rze" for n in range(6)]
    with transaction(unlocked.conn):  # an import
        put_inline_many(unlocked.workspace, [(name, os.urandom(900)) for name in first])
    with transaction(unlocked.conn):  # a reply written the next day
        put_inline(unlocked.workspace, "reply.rze", os.urandom(900))
    with transaction(unlocked.conn):  # the next import
        put_inline_many(unlocked.workspace, [(name, os.urandom(900)) for name in second])
    written = [*first, "reply.rze", *second]

    rows = unlocked.conn.execute("SELECT name FROM blob_data ORDER BY rowid").fetchall()
    seen = [name for (name,) in rows if name in written]

    assert sorted(seen) == sorted(written)
    # In rowid order, before: exactly the order of writing, the reply 7th of 13, between the
    # two imports. (Random rowids put 13 rows in write order once in 13! runs.)
    assert seen != written, "the rows, in rowid order, are in the order they were written"


def test_a_seizer_cannot_tell_in_which_order_reports_were_annotated(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: `notes.seq` counted up with each note, beside its report in the clear: read in
    seq order, the notes said in which order the reports were annotated, and a note after the
    first on a report of a later import was written after that import (its day is clear)."""
    for n in range(4):
        server.submit(f"Report {n}: the munshi keeps the kiln's ledger.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        written = [(report, f"note {n}") for n, report in enumerate([3, 1, 4, 2, 1, 3, 2, 4, 1])]
        for report, text in written:
            triage.add_note(u, report, text)
        rows = u.conn.execute("SELECT report FROM notes ORDER BY seq").fetchall()
        # What the reviewer is shown: each report's notes in the order they were written.
        shown = {report: [note.text for note in triage.notes(u, report)] for report in range(1, 5)}
    finally:
        u.workspace.close()
    for report in range(1, 5):
        assert shown[report] == [text for r, text in written if r == report]
    # In seq order, before: exactly the order of writing. (Random seqs put 9 notes on these
    # reports in it once in 9!/(3! 2! 2! 2!) = 7,560 runs.)
    assert [r for (r,) in rows] != [r for r, _ in written], "notes lie in the order written"


def test_notes_written_before_their_seqs_were_random_are_still_shown_first(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A note of an older version has a counted seq and no sealed place: it came first."""
    server.submit("The munshi keeps the kiln's ledger.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        for seq, text in ((1, "older, first"), (2, "older, second")):
            body = json.dumps(
                {"author": "demo-reviewer", "at": "2026-01-01T00:00:00Z", "text": text}
            )
            sealed = u.key.seal_record(body.encode(), triage._note_context(seq, 1))
            with transaction(u.conn):
                u.conn.execute("INSERT INTO notes VALUES (?, 1, ?)", (seq, sealed))
        triage.add_note(u, 1, "newer")
        shown = [note.text for note in triage.notes(u, 1)]
    finally:
        u.workspace.close()
    assert shown == ["older, first", "older, second", "newer"]


def test_a_seizer_cannot_tell_in_which_order_reports_were_answered(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: `replies` is keyed by a random id, but SQLite numbered its rows (`rowid`) as
    they were written, beside each reply's report in the clear: read in rowid order, the
    replies said in which order the sources were answered."""
    for n in range(4):
        server.submit(f"Report {n}: the munshi keeps the kiln's ledger.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        written = [(report, f"reply {n}") for n, report in enumerate([3, 1, 4, 2, 1, 3, 2, 4, 1])]
        for report, text in written:
            replies.queue_reply(u, report, text, allow_codename_key=True)
        rows = u.conn.execute("SELECT report FROM replies ORDER BY rowid").fetchall()
        # What the reviewer is shown: each report's replies in the order they were written.
        shown = {r: [reply.text for reply in read_report(u, r).replies] for r in range(1, 5)}
    finally:
        u.workspace.close()
    for report in range(1, 5):
        assert shown[report] == [text for r, text in written if r == report]
    # In rowid order, before: exactly the order of writing (once in 7,560 runs with random
    # rowids, as for notes above).
    assert [r for (r,) in rows] != [r for r, _ in written], "replies lie in the order written"
