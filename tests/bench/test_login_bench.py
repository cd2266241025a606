"""Keep the login benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_login_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """Three sources, a small flood, fast key derivation; check the figures, never the speeds."""
    argv = [
        sys.executable,
        "-m",
        "tests.bench.login",
        "--sources",
        "3",
        "--rounds",
        "2",
        "--flooders",
        "2",
        "--proof-flooders",
        "1",
        "--workers",
        "2",
        "--kdf",
        "testing",
    ]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"p50_ratio", "p95_ratio", "peak_concurrent_derivations", "worker_peak_rss_mib"} <= set(
        figures
    )
    assert figures["real_logins"] == 12
    assert figures["real_logins_failed"] == 0
    assert len(figures["worker_peak_rss_mib"]) == 2
    assert 0 <= figures["peak_concurrent_derivations"] <= figures["kdf_slots"]
