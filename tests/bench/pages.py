"""Benchmark: one account's pages sent down many circuits, and what real sources pay for them.

    python -m tests.bench.pages [--circuits 24] [--sources 6] [--seconds 8] [--settle 1]

It starts gunicorn (tests/app/live.py, tor naming each connection's circuit, as in
production) on a fresh demo instance (`SOURCE_REPLIES_WEIGHED` 24, as deployed), and:

- weighs a page: the workers' CPU for an account page and for a cheap page (/resources),
  each loaded a dozen times by one signed-in source;
- times real sources quiet: each logs in and loads the account page on a circuit of its
  own, and files a report (a message and a 64 KiB file) on another;
- then again while an attacker's one account, signed in once, has its cookie sent down
  `--circuits` circuits, each loading the account page as fast as it is answered
  (`tests.app.flood.PageFlood`, in a process of its own), and counts the workers' CPU and
  the attacker's pages built and refused;
- then again while as many circuits load a cheap page (/resources) so: what any visitor
  may send, within each circuit's pace, set beside it.

Each flood runs `--settle` seconds before the sources are timed: past the first seconds,
where each circuit spends its own burst and the pool they share (`app.circuits`), to what
the flood keeps up after them; what it had meanwhile is printed beside.

It prints each phase's p50 and slowest seconds, then one JSON line. Figures, not a test:
a loaded machine gives other ones.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from app.operations.setup import initialise
from crypto import KdfParams
from tests.app.flood import Browser, PageFlood, log_in, new_source, page_after_login, worker_pids
from tests.app.live import live_server
from tests.bench.floods import _report

# Circuits of the benchmark's own: the sources', the reports', the attacker's.
SOURCE_CIRCUITS = 0x7A6E0000
REPORT_CIRCUITS = 0x7A6F0000
ATTACK_CIRCUITS = 0x7A700000
WEIGHED_PAGES = 12
# The floods, in turn: the attacker's account page, then a cheap page on as many circuits
# (what any visitor may send, within each circuit's pace), to set beside it.
_FLOODS = (("accounts", "/account"), ("cheap", "/resources"))
_TICK = os.sysconf("SC_CLK_TCK")


def _flood_in_a_process(
    base: str,
    cookies: dict[str, str],
    circuits: range,
    path: str,
    counts: Any,
    stop: Any,
) -> None:
    """Run a `PageFlood` until `stop` is set, writing what it had into `counts` (built,
    served, refused) as it goes."""
    with PageFlood(base, cookies, circuits, path) as flood:
        while True:
            counts[:] = [flood.built[0], flood.served[0], flood.refused[0]]
            if stop.wait(0.05):
                break
    counts[:] = [flood.built[0], flood.served[0], flood.refused[0]]


class _Flood:
    """A `PageFlood` in a process of its own: in the sources' process, its threads took the
    interpreter's lock from the sources' own requests, and a flood answered busy at once
    (hundreds a second) slowed them there, not in the server."""

    def __init__(self, base: str, cookies: dict[str, str], circuits: range, path: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._counts = context.Array("q", 3)
        self._stop = context.Event()
        self._process = context.Process(
            target=_flood_in_a_process,
            args=(base, dict(cookies), circuits, path, self._counts, self._stop),
            daemon=True,
        )

    def __enter__(self) -> _Flood:
        """Start the flood's process, once its loaders are under way."""
        self._process.start()
        while not any(self._counts[:]) and self._process.is_alive():
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop the flood and wait for its process."""
        self._stop.set()
        self._process.join(timeout=60)

    @property
    def built(self) -> list[int]:
        """The attacker's account pages built so far, as `PageFlood.built`."""
        return [int(self._counts[0])]

    @property
    def served(self) -> list[int]:
        """Pages answered 200 so far, as `PageFlood.served`."""
        return [int(self._counts[1])]

    @property
    def refused(self) -> list[int]:
        """Requests answered busy so far, as `PageFlood.refused`."""
        return [int(self._counts[2])]


def _cpu_seconds(instance: Path) -> float:
    """The CPU the workers serving `instance` have used, user and system."""
    total = 0
    for pid in worker_pids(instance):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICK


def _cpu_ms_per_page(instance: Path, browser: Browser, path: str) -> float:
    """The workers' CPU, in ms, for each of `WEIGHED_PAGES` loads of `path`."""
    before = _cpu_seconds(instance)
    for _ in range(WEIGHED_PAGES):
        status, _html = browser.get(path)
        assert status == 200, (path, status)
    time.sleep(0.2)  # the last answer's CPU counted
    return (_cpu_seconds(instance) - before) * 1000 / WEIGHED_PAGES


def _phase(
    base: str, codenames: list[str], first: int
) -> tuple[list[tuple[str, float]], list[tuple[float, bool]]]:
    """Each real source's login and page, then a report each; on circuits from `first` on."""
    pages = [
        page_after_login(base, c, SOURCE_CIRCUITS + first + n) for n, c in enumerate(codenames)
    ]
    reports = [_report(base, REPORT_CIRCUITS + first + n) for n in range(len(codenames))]
    return pages, reports


def _figures(
    name: str, pages: list[tuple[str, float]], reports: list[tuple[float, bool]]
) -> dict[str, Any]:
    def p50(values: list[float]) -> float:
        return round(sorted(values)[len(values) // 2], 3)

    page_s = [s for _, s in pages]
    report_s = [s for s, _ in reports]
    return {
        "phase": name,
        "login_and_page_p50_s": p50(page_s),
        "login_and_page_slowest_s": round(max(page_s), 3),
        "signed_in": sum(a == "in" for a, _ in pages),
        "report_p50_s": p50(report_s),
        "report_slowest_s": round(max(report_s), 3),
        "filed": sum(ok for _, ok in reports),
        "sources": len(pages),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One server: a page weighed, the sources quiet, then under the attacker's pages."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        instance = root / "instance"
        initialise(instance, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        env = {"RAAZDAR_TOR_CIRCUITS": "1"}
        with live_server(instance, log=root / "gunicorn.log", env=env) as base:
            codenames = [
                new_source(base, SOURCE_CIRCUITS + 0xF000 + n) for n in range(args.sources)
            ]
            weigher = new_source(base, ATTACK_CIRCUITS + 0xF000)
            browser, status, _ = log_in(base, weigher, ATTACK_CIRCUITS + 0xF001)
            assert status == 303, status
            weighed: dict[str, Any] = {
                "account_page_cpu_ms": round(_cpu_ms_per_page(instance, browser, "/account"), 1),
                "cheap_page_cpu_ms": round(_cpu_ms_per_page(instance, browser, "/resources"), 1),
            }
            browser.close()
            quiet = _figures("quiet", *_phase(base, codenames, 0))
            attacker = new_source(base, ATTACK_CIRCUITS + 0xF002)
            browser, status, _ = log_in(base, attacker, ATTACK_CIRCUITS + 0xF003)
            browser.close()
            assert status == 303, status
            phases = [quiet]
            for index, (name, path) in enumerate(_FLOODS):
                # Each flood on circuits of its own, whose pace the one before did not spend.
                first = ATTACK_CIRCUITS + (index + 1) * 0x100
                circuits = range(first, first + args.circuits)
                before, started = _cpu_seconds(instance), time.monotonic()
                with _Flood(base, browser.cookies, circuits, path) as flood:
                    time.sleep(args.settle)  # the flood under way
                    settled = flood.served[0], flood.refused[0], _cpu_seconds(instance)
                    flooded = _figures(name, *_phase(base, codenames, 0x1000 * (index + 1)))
                    time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
                    seconds = time.monotonic() - started
                    used = _cpu_seconds(instance) - before
                    # From the sources' first login on: what the flood had once its first
                    # seconds (and its circuits' bursts) were behind it.
                    late = time.monotonic() - started - args.settle
                    flooded.update(
                        late_served_per_s=round((flood.served[0] - settled[0]) / late, 1),
                        late_refused_per_s=round((flood.refused[0] - settled[1]) / late, 1),
                        late_workers_cpu_s_per_s=round(
                            (_cpu_seconds(instance) - settled[2]) / late, 2
                        ),
                    )
                flooded.update(
                    attacker_pages_built=flood.built[0],
                    attacker_served=flood.served[0],
                    attacker_refused=flood.refused[0],
                    flood_seconds=round(seconds, 1),
                    workers_cpu_s_per_s=round(used / seconds, 2),
                )
                phases.append(flooded)
                time.sleep(2.0)  # the flood's requests done
    return {"weighed": weighed, "phases": phases, "circuits": args.circuits}


def main() -> None:
    """Parse the options, run, print a table and the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--circuits", type=int, default=24, help="circuits the attacker uses")
    parser.add_argument("--sources", type=int, default=6, help="real sources timed per phase")
    parser.add_argument("--seconds", type=float, default=8.0, help="the flood's least length")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds the flood runs before the sources are timed (past its circuits' bursts)",
    )
    args = parser.parse_args()
    results = run(args)
    weighed = results["weighed"]
    print(
        f"CPU a page: account {weighed['account_page_cpu_ms']} ms, "
        f"cheap {weighed['cheap_page_cpu_ms']} ms"
    )
    for f in results["phases"]:
        extra = (
            f"; attacker's account pages built {f['attacker_pages_built']}, pages served "
            f"{f['attacker_served']}, requests refused {f['attacker_refused']} in "
            f"{f['flood_seconds']} s; workers' CPU "
            f"{f['workers_cpu_s_per_s']} s/s; while the sources were timed: "
            f"{f['late_served_per_s']} served/s, {f['late_refused_per_s']} refused/s, workers' "
            f"CPU {f['late_workers_cpu_s_per_s']} s/s"
            if "attacker_pages_built" in f
            else ""
        )
        print(
            f"{f['phase']:>8}: login+page p50 {f['login_and_page_p50_s']} s (slowest "
            f"{f['login_and_page_slowest_s']}), {f['signed_in']}/{f['sources']} in; report p50 "
            f"{f['report_p50_s']} s (slowest {f['report_slowest_s']}), "
            f"{f['filed']}/{f['sources']} filed{extra}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
