"""`names list --report N` on a report naming thousands of people answers at once."""

from __future__ import annotations

import time
from pathlib import Path

from review import workspace as ws
from review.analysis import records
from review.intake.importer import import_bundle
from review.workspace import head
from review.workspace.schema import transaction
from tests.review.support import Server, review

# A report of 1.7 MB of names, each spelt many ways: what its sealed record holds.
NAMES = 20_000


def test_names_list_of_one_report_of_thousands_of_names_is_bounded(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    server.submit("SHO Rana Tariq Mehmood of Thana Saddar Kasur takes money.")
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    record = records.load_record(unlocked, 1) or records.Record()
    record.found += [
        {
            "kind": "person",
            "key": f"~name {i}",
            "texts": [f"ASI Name{i} Khan{j}" for j in range(4)],
            "designations": ["ASI"],
        }
        for i in range(NAMES)
    ]
    record.found[0]["texts"] += [f"Rana Tariq{'i' * n}" for n in range(2_000)]
    total = len(record.mentions())
    with transaction(unlocked.conn):
        records.store_record(unlocked, 1, record)
        head.put(unlocked.conn, unlocked.key)  # as the audit entry after each writer does
    began = time.monotonic()
    shown = review(unlocked.workspace.root, "names", "list", "--report", "1")
    took = time.monotonic() - began
    assert shown.exit_code == 0, shown.output
    # The attack: a source names thousands of people; the reviewer waited 48 s for all.
    assert took < 5, f"names list --report took {took:.1f} s"
    out = " ".join(shown.output.split())
    assert "Rana Tariq Mehmood" in out
    assert f"{total - 50:,} more: use --limit or --kind" in out
    assert f"(+{len(record.found[0]['texts']) - 5:,} more)" in out
