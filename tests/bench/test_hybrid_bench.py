"""Keep the hybrid envelope benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_hybrid_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """Run a 1 MiB benchmark once; check the exit code, the keys and the sizes, never speeds."""
    argv = [sys.executable, "-m", "tests.bench.hybrid", "--size", "1", "--repeat", "1"]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )

    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) == {"fixed", "kem", "bulk"}
    assert set(figures["fixed"]) == {"v1_r3", "v2_r3", "v1_r10", "v2_r10"}
    # 4 KiB of content and its record pad to 4 352: with the stream header and one
    # chunk's overhead, 4 393 bytes follow a header of 20 + 130 r + 48 (v1), 20 + 1581 r + 48 (v2).
    assert figures["fixed"]["v1_r3"]["bytes"] == 20 + 130 * 3 + 48 + 4393
    assert figures["fixed"]["v2_r10"]["bytes"] == 20 + 1581 * 10 + 48 + 4393
    assert {"v2_over_v1_seal", "v2_over_v1_open"} <= set(figures["bulk"])
