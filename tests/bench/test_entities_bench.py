"""Keep the extraction benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_entities_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """Time each hostile text at 1 and 4 kB; check the figures' keys, never the speeds."""
    argv = [sys.executable, "-m", "tests.bench.entities", "--sizes", "1,4", "--repeat", "1"]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["sizes_kb"] == [1, 4]
    assert {"place", "rank", "digit-run"} <= figures["texts"].keys()
    assert all({"1kB_s", "4kB_s", "ratio"} <= f.keys() for f in figures["texts"].values())
    assert figures["worst_ratio"] >= 1
