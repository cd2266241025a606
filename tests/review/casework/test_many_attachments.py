"""A forged submission with thousands of attachments is listed in part, in bounded time.

The attack: whoever seals a report (a source's client, or the server, which seals
every browser report and feeds the export) chooses how many items it has; the
browser form sends at most 20, nothing on the workstation bounded them. `report
show` drew every one as a row of a table, and the terminal UI every one as a line,
so a report of 5,000 tiny items filled the screen and the scrollback with 5,000
rows the reviewer must page past to reach the notes and replies below.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from review import workspace as ws
from review.casework import reports
from review.workspace import head
from review.workspace.schema import transaction
from tests.review.support import Server, review

FORGED = 2000  # thousands: 5,000 took 11 s to draw


def _flooded(server: Server, workspace: Path, u: ws.Unlocked, tmp_path: Path) -> None:
    """One filed report, then `FORGED` more attachments filed beside its own, as an import
    files them (each with its sealed name, type and length)."""
    server.submit("see the files", [("files", "ledger.txt", b"page one", "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    with transaction(u.conn):
        bundle, blob = u.conn.execute(
            "SELECT bundle, blob FROM items WHERE report = 1 AND kind != 'report'"
        ).fetchone()
        rows = []
        for n in range(FORGED):
            item = f"forged-{n:05d}"
            info = {"kind": "file", "name": f"f{n:05d}.txt", "type": "text/plain", "length": 1}
            sealed = u.key.seal_record(json.dumps(info).encode(), reports.item_context(item))
            rows.append((item, bundle, blob, sealed))
        u.conn.executemany(
            "INSERT INTO items (id, report, bundle, kind, status, blob, info)"
            " VALUES (?, 1, ?, 'file', 'filed', ?, ?)",
            rows,
        )
        head.put(u.conn, u.key)  # as the import does: which report each item is on is tagged


def test_a_report_of_thousands_of_attachments_is_listed_in_part(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    _flooded(server, workspace, unlocked, tmp_path)

    started = time.monotonic()
    shown = review(workspace, "report", "show", "1")
    took = time.monotonic() - started

    assert shown.exit_code == 0, shown.output
    listed = [line for line in shown.output.splitlines() if ".txt" in line]
    assert len(listed) <= reports.LISTED_MAX, f"{len(listed):,} attachments drawn in {took:.1f} s"
    # The reviewer is told how many more there are and how to read any of them.
    assert f"{FORGED + 1 - reports.LISTED_MAX:,} more attachments" in shown.output
    assert "report view 1" in shown.output
    # The terminal UI lists what the same function chooses.
    listing, unlisted = reports.listed(reports.read_report(unlocked, 1))
    assert len(listing) == reports.LISTED_MAX
    assert unlisted is not None
