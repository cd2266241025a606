"""Benchmark: real sources' logins under a flood of wrong codenames and garbage proofs.

    python -m tests.bench.login [--sources 8] [--rounds 3] [--flooders 6] [--flood-circuits 1]
                                [--kdf interactive]

It starts gunicorn (several workers) on a demo instance with the chosen Argon2id
cost, creates the sources, and times each real login (the POST, from the first
byte sent to the redirect) first with nothing else running, then while flooders
send well-formed wrong codenames to /login and garbage request proofs to the API
as fast as the server answers. It prints the flood/quiet ratios of the p50 and
p95 login times (target <= 3 at p95 on the 2-core machine), how many Argon2id
derivations ran at once at the peak (read from /proc/locks: the pool's slots
held), the workers' peak RSS, and one JSON line. A login told "busy" (503) or
refused counts as failed: every real login must succeed.

Every connection starts as tor's do for an onion that names circuits
(HiddenServiceExportCircuitID, as `raazdar serve` publishes the source onion):
each real source comes on a circuit of its own, the flooders on
`--flood-circuits` circuits between them (one, by default: more cost the
flooder an introduction each, which tor's proof-of-work defence prices under
attack). With `--flood-circuits 0` tor names no circuits, and the queue is
first come, first served, as behind an attached tor.

The flooders run in a process of their own, so the real sources' timings do
not include waiting for the benchmark's own interpreter lock. To show where the
time goes it also prints, per phase, the CPU the workers and the flood client
used, and the derivation time the slots achieved under flood (slots x seconds /
derivations). And it prints the floor a fair queue sets: with F flooders and
r real sources logging in at once (closed loops: each sends again as soon as
answered) over S slots, a login waits behind everyone, so the flood/quiet ratio
cannot be below max(1, (F + r) / S) / max(1, r / S) for any scheduler that
does not tell flooders from sources; counting each circuit once when circuits
are named.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.operations.setup import initialise
from crypto import KdfParams
from tests.app.flood import (
    Flood,
    cpu_count,
    derivation_peak,
    gunicorn_pids,
    log_in,
    new_source,
    signed_in,
    worker_peak_rss_mib,
)
from tests.app.live import live_server

# Real sources log in this many at a time, in both phases.
REAL_AT_ONCE = 2

KDFS = {"testing": KdfParams.TESTING, "interactive": KdfParams.INTERACTIVE}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


# Circuits: real sources are 1, 2, ...; flooders come on FLOOD_CIRCUIT, + 1, ...
FLOOD_CIRCUIT = 1_000_000


def _circuit(circuits: bool, number: int) -> int | None:
    return number if circuits else None


def _logins(base: str, codenames: list[str], circuits: bool, visit: int) -> tuple[list[float], int]:
    """Each source logs in once (two at a time, each on its own circuit); times and failures.

    Each `visit` (a round of a phase) comes on circuits of its own, as a source's visits
    on other days do. Logged in again and again on one circuit within seconds, a source
    spent her circuit's own turns (`app.circuits.CIRCUIT_BURST`; an account page takes 16)
    and then drew on the pool the flood drains: 8 of 24 logins failed at 4 rounds, and
    in CI, at load, 3 of 12 at 2 rounds. One login a visit stays within its own turns.
    """

    def one(numbered: tuple[int, str]) -> tuple[float, bool]:
        number, codename = numbered
        circuit = _circuit(circuits, (visit + 1) * len(codenames) + number + 1)
        browser, status, seconds = log_in(base, codename, circuit)
        try:
            return seconds, status == 303 and signed_in(browser)
        finally:
            browser.close()

    with ThreadPoolExecutor(max_workers=REAL_AT_ONCE) as pool:
        results = list(pool.map(one, enumerate(codenames)))
    return [s for s, _ in results], sum(not ok for _, ok in results)


def _flood_process(
    base: str, logins: int, proofs: int, circuits: tuple[int, ...], stop: Any, counts: Any
) -> None:  # pragma: no cover - runs in the flood's own process
    """Flood until `stop` is set; put (requests, told busy, wrong logins) in `counts`."""
    with Flood(base, logins, proofs, circuits) as flood:
        stop.wait(3600)
    used = os.times()
    cpu = used.user + used.system
    counts.put((flood.sent[0], flood.busy[0], flood.wrong_logins[0], round(cpu, 1)))


@contextlib.contextmanager
def _flood_elsewhere(
    base: str, logins: int, proofs: int, circuits: tuple[int, ...]
) -> Iterator[dict[str, Any]]:
    """Run the flood in its own process for the block; yield its figures, filled at the end."""
    spawn = multiprocessing.get_context("spawn")
    stop, counts = spawn.Event(), spawn.Queue()
    process = spawn.Process(
        target=_flood_process, args=(base, logins, proofs, circuits, stop, counts)
    )
    figures: dict[str, Any] = {}
    process.start()
    try:
        time.sleep(1)  # the flood is under way before anything is timed
        yield figures
    finally:
        stop.set()
        sent, busy, wrong, cpu = counts.get(timeout=120)
        process.join(timeout=60)
        figures.update(sent=sent, busy=busy, wrong_logins=wrong, client_cpu_s=cpu)


def _cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes `pids` have used so far (or used, if reaped)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core) since boot."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _phase(instance: Path, totals: dict[str, float]) -> Iterator[None]:
    """Time the block; add its seconds and the CPU the server and the machine used to `totals`."""
    pids = list(gunicorn_pids(instance))
    cpu, busy, started = _cpu_seconds(pids), _machine_busy_seconds(), time.monotonic()
    yield
    for name, value in (
        ("seconds", time.monotonic() - started),
        ("server_cpu_s", _cpu_seconds(pids) - cpu),
        ("machine_cpu_s", _machine_busy_seconds() - busy),
    ):
        totals[name] = round(totals.get(name, 0.0) + value, 2)


def fair_floor(flooders: int, real: int, slots: int) -> float:
    """The least flood/quiet ratio a fair scheduler can give `flooders` clients (closed loops).

    A flooder is a circuit when tor names circuits (its requests take turns
    behind everyone else's), else each request in flight.
    """
    return round(max(1.0, (flooders + real) / slots) / max(1.0, real / slots), 2)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        initialise(instance, signed=None, database_url=None, kdf=KDFS[args.kdf], demo=True)
        circuits = args.flood_circuits > 0
        env = {"RAAZDAR_TOR_CIRCUITS": "1" if circuits else "0"}
        flood_circuits = tuple(FLOOD_CIRCUIT + n for n in range(args.flood_circuits))
        log = Path(tmp) / "gunicorn.log"
        with live_server(instance, workers=args.workers, log=log, env=env) as base:
            codenames = [new_source(base, _circuit(circuits, n + 1)) for n in range(args.sources)]
            quiet: list[float] = []
            flooded: list[float] = []
            quiet_phase: dict[str, float] = {}
            flood_phase: dict[str, float] = {}
            flood: dict[str, Any] = {}
            quiet_failed = flooded_failed = 0
            # Quiet and flooded rounds take turns, so both meet the same load from
            # other programs on the machine (a shared machine's load drifts).
            with derivation_peak(instance) as peak:
                for visit in range(0, 2 * args.rounds, 2):
                    with _phase(instance, quiet_phase):
                        times, failed = _logins(base, codenames, circuits, visit)
                    quiet += times
                    quiet_failed += failed
                    with (
                        _flood_elsewhere(
                            base, args.flooders, args.proof_flooders, flood_circuits
                        ) as counts,
                        _phase(instance, flood_phase),
                    ):
                        times, failed = _logins(base, codenames, circuits, visit + 1)
                    flooded += times
                    flooded_failed += failed
                    for name, value in counts.items():
                        flood[name] = round(flood.get(name, 0) + value, 2)
            rss = worker_peak_rss_mib(instance)
    slots = cpu_count()
    derivations = flood["wrong_logins"] + len(flooded)
    derivation_s = slots * flood_phase["seconds"] / max(1, derivations)
    figures = {
        "kdf": args.kdf,
        "workers": args.workers,
        "flooders": args.flooders,
        "flood_circuits": args.flood_circuits,
        "proof_flooders": args.proof_flooders,
        "kdf_slots": slots,
        "real_logins": len(quiet) + len(flooded),
        "real_logins_failed": quiet_failed + flooded_failed,
        "quiet_p50_s": round(statistics.median(quiet), 4),
        "quiet_p95_s": round(_p95(quiet), 4),
        "flood_p50_s": round(statistics.median(flooded), 4),
        "flood_p95_s": round(_p95(flooded), 4),
        "flood_requests": flood["sent"],
        "flood_told_busy": flood["busy"],
        "flood_wrong_logins": flood["wrong_logins"],
        "quiet_seconds": quiet_phase["seconds"],
        "quiet_server_cpu_s": quiet_phase["server_cpu_s"],
        "flood_seconds": flood_phase["seconds"],
        "flood_server_cpu_s": flood_phase["server_cpu_s"],
        "flood_client_cpu_s": flood["client_cpu_s"],
        "quiet_machine_cpu_s": quiet_phase["machine_cpu_s"],
        "flood_machine_cpu_s": flood_phase["machine_cpu_s"],
        # Derivation time under flood, if the slots were never idle (they are not, flooded).
        "flood_derivation_s": round(derivation_s, 4),
        "peak_concurrent_derivations": peak[0],
        "worker_peak_rss_mib": rss,
    }
    figures["p50_ratio"] = round(figures["flood_p50_s"] / figures["quiet_p50_s"], 2)
    figures["p95_ratio"] = round(figures["flood_p95_s"] / figures["quiet_p95_s"], 2)
    flooders = min(args.flooders, args.flood_circuits) if args.flood_circuits else args.flooders
    figures["fair_floor_p50"] = fair_floor(flooders, REAL_AT_ONCE, slots)
    # How many derivation times a flooded login took: the queue it met, apart from
    # how fast each derivation went (which the machine's other programs sway).
    figures["flood_p50_in_derivations"] = round(
        figures["flood_p50_s"] / derivation_s if derivation_s else 0.0, 2
    )
    figures["target_met"] = figures["p95_ratio"] <= 3 and not figures["real_logins_failed"]
    return figures


def main() -> None:
    """Parse the options, run, print a summary and the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", type=int, default=8, help="real sources (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="logins per source and phase")
    parser.add_argument("--flooders", type=int, default=6, help="wrong-codename flooders")
    parser.add_argument("--proof-flooders", type=int, default=2, help="garbage-proof flooders")
    parser.add_argument(
        "--flood-circuits",
        type=int,
        default=1,
        help="Tor circuits the flooders share (default 1; 0: tor names no circuits)",
    )
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
        f"fair-queue floor: x{figures['fair_floor_p50']} ({figures['flooders']} flooders on "
        f"{figures['flood_circuits'] or 'unnamed'} circuit(s) and "
        f"{REAL_AT_ONCE} real sources at once over {figures['kdf_slots']} slots); derivation "
        f"{figures['quiet_p50_s']:.3f} s quiet (p50 login), "
        f"{figures['flood_derivation_s']:.3f} s flooded (slots x time / derivations); "
        f"a flooded login took {figures['flood_p50_in_derivations']} derivation times (p50)"
    )
    print(
        f"CPU: server {figures['quiet_server_cpu_s']} s in {figures['quiet_seconds']} s quiet, "
        f"{figures['flood_server_cpu_s']} s in {figures['flood_seconds']} s flooded; "
        f"flood client {figures['flood_client_cpu_s']} s; whole machine "
        f"{figures['quiet_machine_cpu_s']} s quiet, {figures['flood_machine_cpu_s']} s flooded "
        f"({cpu_count()} cores; the rest is other programs)"
    )
    print(
        f"flood: {figures['flood_requests']} requests, {figures['flood_told_busy']} told busy; "
        f"peak concurrent derivations {figures['peak_concurrent_derivations']} "
        f"(slots {figures['kdf_slots']}); workers' peak RSS {figures['worker_peak_rss_mib']} MiB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
