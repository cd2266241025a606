"""Keep the envelope benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "seal_mbps",
    "open_mbps",
    "seal_cpu_mbps",
    "open_cpu_mbps",
    "seal_rss_mib",
    "open_rss_mib",
}


@pytest.mark.bench
def test_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """Run a 4 MiB benchmark once; check the exit code and the keys, never the speeds."""
    argv = [sys.executable, "-m", "tests.bench.envelope", "--size", "4", "--repeat", "1"]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )

    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {
        "size_mib",
        "repeat",
        "raw",
        "envelope",
        "envelope_open_to_path",
        "gpg",
        "age",
        "sequoia",
        "ratio_seal",
        "ratio_open",
        "ratio_seal_age",
        "ratio_open_age",
        "small_report_3_recipients",
        "chunk_push",
        "envelope_peak_rss_mib",
        "argon2id_interactive_median_s",
        "targets_met",
    } <= figures.keys()
    assert figures["size_mib"] == 4
    assert set(figures["raw"]) == FIGURES
    assert set(figures["envelope"]) == FIGURES
    assert set(figures["sequoia"]) == FIGURES
    assert set(figures["small_report_3_recipients"]) == {"ours_ms", "sequoia_ms"}
    assert set(figures["chunk_push"]) == {"libsodium_us", "pusher_us"}
    assert "chunk pushed" in done.stdout
    assert {f"sequoia_{step}_mbps" for step in ("seal", "open")} <= figures["ratios"].keys()
    assert "envelope seal / Sequoia" in done.stdout
    assert set(figures["targets_met"]) == {
        "seal_ratio",
        "open_ratio",
        "seal_vs_age",
        "open_vs_age",
        "small_vs_sequoia",
        "envelope_rss",
        "argon2id",
    }
