"""Keep the review benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_review_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """Import 50 items and search 500 reports; check the figures' keys, never the speeds."""
    argv = [sys.executable, "-m", "tests.bench.review", "--items", "50", "--search", "500"]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"import_s", "index_load_s", "search_s", "targets_met"} <= figures.keys()
    assert (figures["items"], figures["search_reports"]) == (50, 500)
    assert figures["search_hits"] > 0
