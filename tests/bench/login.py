"""Benchmark: real sources' logins under a flood of wrong codenames and garbage proofs.

    python -m tests.bench.login [--sources 8] [--rounds 3] [--flooders 6] [--kdf interactive]

It starts gunicorn (several workers) on a demo instance with the chosen Argon2id
cost, creates the sources, and times each real login (the POST, from the first
byte sent to the redirect) first with nothing else running, then while flooders
send well-formed wrong codenames to /login and garbage request proofs to the API
as fast as the server answers. It prints the flood/quiet ratios of the p50 and
p95 login times (target <= 3 at p95 on the 2-core machine), how many Argon2id
derivations ran at once at the peak (read from /proc/locks: the pool's slots
held), the workers' peak RSS, and one JSON line. A login told "busy" (503) or
refused counts as failed: every real login must succeed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.setup import initialise
from crypto import KdfParams
from tests.app.flood import (
    Flood,
    cpu_count,
    derivation_peak,
    log_in,
    new_source,
    worker_peak_rss_mib,
)
from tests.app.live import live_server

KDFS = {"testing": KdfParams.TESTING, "interactive": KdfParams.INTERACTIVE}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _logins(base: str, codenames: list[str], rounds: int) -> tuple[list[float], int]:
    """Each source logs in `rounds` times (two at a time); return the times and the failures."""

    def one(codename: str) -> tuple[float, bool]:
        browser, status, seconds = log_in(base, codename)
        browser.close()
        return seconds, status == 303

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, [c for _ in range(rounds) for c in codenames]))
    return [s for s, _ in results], sum(not ok for _, ok in results)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        initialise(instance, signed=None, database_url=None, kdf=KDFS[args.kdf], demo=True)
        with live_server(instance, workers=args.workers, log=Path(tmp) / "gunicorn.log") as base:
            codenames = [new_source(base) for _ in range(args.sources)]
            quiet, quiet_failed = _logins(base, codenames, args.rounds)
            with (
                derivation_peak(instance) as peak,
                Flood(base, args.flooders, args.proof_flooders) as flood,
            ):
                flooded, flooded_failed = _logins(base, codenames, args.rounds)
            rss = worker_peak_rss_mib(instance)
    figures = {
        "kdf": args.kdf,
        "workers": args.workers,
        "kdf_slots": cpu_count(),
        "real_logins": len(quiet) + len(flooded),
        "real_logins_failed": quiet_failed + flooded_failed,
        "quiet_p50_s": round(statistics.median(quiet), 4),
        "quiet_p95_s": round(_p95(quiet), 4),
        "flood_p50_s": round(statistics.median(flooded), 4),
        "flood_p95_s": round(_p95(flooded), 4),
        "flood_requests": flood.sent[0],
        "flood_told_busy": flood.busy[0],
        "peak_concurrent_derivations": peak[0],
        "worker_peak_rss_mib": rss,
    }
    figures["p50_ratio"] = round(figures["flood_p50_s"] / figures["quiet_p50_s"], 2)
    figures["p95_ratio"] = round(figures["flood_p95_s"] / figures["quiet_p95_s"], 2)
    figures["target_met"] = figures["p95_ratio"] <= 3 and not figures["real_logins_failed"]
    return figures


def main() -> None:
    """Parse the options, run, print a summary and the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", type=int, default=8, help="real sources (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="logins per source and phase")
    parser.add_argument("--flooders", type=int, default=6, help="wrong-codename flooders")
    parser.add_argument("--proof-flooders", type=int, default=2, help="garbage-proof flooders")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--kdf", choices=sorted(KDFS), default="interactive", help="Argon2id cost")
    figures = run(parser.parse_args())
    print(
        f"real logins: p50 {figures['quiet_p50_s']:.3f} s quiet, "
        f"{figures['flood_p50_s']:.3f} s flooded (x{figures['p50_ratio']}); "
        f"p95 {figures['quiet_p95_s']:.3f} s quiet, {figures['flood_p95_s']:.3f} s flooded "
        f"(x{figures['p95_ratio']}, target <= 3); failed {figures['real_logins_failed']}"
        f"/{figures['real_logins']}"
    )
    print(
        f"flood: {figures['flood_requests']} requests, {figures['flood_told_busy']} told busy; "
        f"peak concurrent derivations {figures['peak_concurrent_derivations']} "
        f"(slots {figures['kdf_slots']}); workers' peak RSS {figures['worker_peak_rss_mib']} MiB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
