"""Benchmark the audit head's tag at each action of a reviewer on a large workspace.

    python -m tests.bench.head_tag [--items 10000] [--entries 15]

Imports one export bundle of `--items` reports (`tests.bench.review.make_bundle`), then
makes audit entries the way a reviewer's work does (a tag on a report, then a note, in
turn), alternately with the digests kept between entries (`review.workspace.head._Kept`,
what the tool does) and with every table read again at each (what it did before), and
prints the median CPU milliseconds per entry of each, their ratio, and the unlock's tag
(which always reads every table). Figures, not a test: the machine is shared, so only the
ratio within one run means much.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from review.casework import triage
from review.intake.importer import import_bundle
from review.workspace import head
from tests.bench.review import make_bundle


def _entry(u: object, n: int) -> None:
    if n % 2:
        triage.add_note(u, 1 + n % 50, f"Note {n}: called the number given, no answer.")  # type: ignore[arg-type]
    else:
        triage.tag(u, 1 + n % 50, [f"batch-{n}"])  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="reports in the workspace")
    parser.add_argument("--entries", type=int, default=15, help="audit entries timed each way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rz-bench-head-") as tmp:
        work = Path(tmp)
        bundle, new_workspace = make_bundle(args.items, work)
        u = new_workspace(work / "ws")
        summary = import_bundle(u, bundle)
        assert summary.filed == args.items, summary
        times: dict[str, list[float]] = {"kept": [], "read all": []}
        for n in range(2 * args.entries):
            way = "kept" if n % 2 else "read all"
            if way == "read all":  # what the connection kept forgotten: every table is read
                u.conn.execute("DELETE FROM temp.head_seen")
            start = time.process_time()
            _entry(u, n)
            times[way].append(time.process_time() - start)
        start = time.process_time()
        head.check(u.conn, u.key)
        unlock = time.process_time() - start
        u.workspace.close()
    kept, full = (statistics.median(times[w]) * 1000 for w in ("kept", "read all"))
    print(f"an audit entry at {args.items:,} reports, median CPU of {args.entries} each:")
    print(f"  every table read again: {full:.1f} ms; digests kept: {kept:.1f} ms;")
    print(f"  ratio {full / kept:.2f}; the unlock's check (every table read):", end=" ")
    print(f"{unlock * 1000:.1f} ms")
    figures = {
        "items": args.items,
        "entry_read_all_ms": round(full, 2),
        "entry_kept_ms": round(kept, 2),
        "unlock_check_ms": round(unlock * 1000, 2),
    }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
