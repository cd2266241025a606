"""Keep the upload benchmark runnable: run it small, end to end, and read its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_upload_benchmark_runs_end_to_end_and_ends_with_its_figures() -> None:
    """One small upload each way; check the figures are there and consistent, never the speeds."""
    argv = [sys.executable, "-m", "tests.bench.upload", "--sizes", "0.0625", "--repeat", "1"]
    # Our own interpreter running the benchmark module; no shell, no untrusted input.
    done = subprocess.run(  # noqa: S603
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    (upload,) = figures["uploads"]
    assert upload["size_mib"] == 0.0625
    for name in (
        *("server_s", "app_s", "returning_s", "seal_s", "submission_seal_s", "floor_s"),
        *("bare_request_s", "least_handler_s", "least_handler_cpu_s"),
        *("app_close_s", "returning_close_s", "floor_close_s"),
        *("least_returning_s", "least_returning_cpu_s"),
        *("production_kdf_new_s", "production_kdf_derive_s"),
    ):
        assert upload[name] > 0, name
    # Seconds to the microsecond, ratios to the hundredth: each ratio is of the times shown.
    for ratio, time in (
        ("floor_ratio", "floor_s"),
        ("returning_ratio", "returning_s"),
        ("least_handler_ratio", "least_handler_s"),
    ):
        assert upload[ratio] == pytest.approx(upload[time] / upload["seal_s"], abs=0.01)
    # Ratios in the tens or hundreds: the microsecond's rounding moves them by more than 0.01.
    for ratio, time in (
        ("least_returning_ratio", "least_returning_s"),
        ("production_kdf_ratio", "production_kdf_new_s"),
    ):
        assert upload[ratio] == pytest.approx(upload[time] / upload["seal_s"], rel=2e-3), ratio
    # The honest figure of a real instance's new source: the derivation with its real settings.
    assert any(
        line.startswith("a new source's first upload with the key derivation") for line in lines
    )
    both = (upload["floor_s"] + upload["bare_request_s"]) / upload["seal_s"]
    assert upload["floor_and_bare_ratio"] == pytest.approx(both, abs=0.01)
    # Below 1 MiB the target does not apply: the verdict is on the sizes it names, or all.
    assert isinstance(figures["target_met"], bool)
    assert isinstance(figures["floor_within_target"], bool)
    assert any(line.startswith("target: the app's time <= 1.5x") for line in lines)
    assert figures["baseline_rss_mib"] > 0
