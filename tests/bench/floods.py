"""Benchmark: what a flood on the serving layer costs a source's report, side by side.

    python -m tests.bench.floods [--reports 5] [--flooders 8] [--rate 0] [--slow-heads 1000]

It starts gunicorn (tests/app/live.py, tor naming each connection's circuit, as in
production) on a fresh demo instance, and times a source's report (GET /submit, then
POST the form with a message and a 64 KiB file, on a circuit of its own) quiet, then
under each flood in turn, each flooder on a circuit of its own, then quiet again:

- `urlencoded`: 1 MiB forms of `%41` posted to /submit, no cookie (decoded before the
  CSRF check; now refused 413 past 3 MiB, read in C below);
- `cookies`: GETs carrying three Cookie fields of `a=b; ` (13 KiB, within the head the main
  loop reads; now refused 400 there);
- `slow-heads`: that many connections each sending a head a few bytes at a time (each
  holds a place and its bytes, no thread, until `HEAD_SECONDS`);
- `fat-heads`: as many, each sending 15 KB of its head at once (60 KB before heads were held
  to 16 KiB), then dripping;
- `churn`: connections opened, a page asked for, and closed, as fast as they go.

For each it prints the report's p50 and slowest seconds and their ratio to quiet, the
reports filed, the flood's requests sent, and the workers' peak RSS; then one JSON line.
Figures, not a test: a loaded machine gives other ones.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.operations.setup import initialise
from crypto import KdfParams
from tests.app.flood import Browser, inputs, sampled_peak, worker_pids
from tests.app.live import live_server, tor_line
from tests.app.support import multipart

REPORT_BYTES = 64 * 1024
# Circuits of the benchmark's own: the sources', then each flooder's from FLOOD_CIRCUITS on.
SOURCE_CIRCUITS = 0x5EED0000
FLOOD_CIRCUITS = 0x5EED1000


def _report(base: str, circuit: int) -> tuple[float, bool]:
    """A source's report of a message and a 64 KiB file: its seconds, and whether it was filed."""
    browser = Browser(base, circuit)
    try:
        started = time.monotonic()
        status, html = browser.get("/submit")
        if status != 200:
            return time.monotonic() - started, False
        fields = {k: v for k, v in inputs(html).items() if k in ("csrf_token", "codename")}
        body, content_type = multipart(
            [*fields.items(), ("message", "The SHO takes money every Thursday.")],
            [("files", "ledger.bin", os.urandom(REPORT_BYTES), "application/octet-stream")],
        )
        status = browser.request("POST", "/submit", body, {"Content-Type": content_type})[0]
        return time.monotonic() - started, status == 200
    except OSError:
        return time.monotonic() - started, False
    finally:
        browser.close()


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _ask(base: str, circuit: int, request: bytes) -> None:
    """Send one request on a new connection of `circuit`, read its answer's start, close."""
    try:
        with socket.create_connection(_address(base), timeout=30) as sock:
            sock.sendall(tor_line(circuit) + request)
            sock.recv(4096)
    except OSError:
        pass


_ESCAPES = b"%41" * ((1024 * 1024 - 8) // 3)


def _urlencoded(base: str, circuit: int) -> None:
    body = b"message=" + _ESCAPES
    head = (
        "POST /submit HTTP/1.1\r\nHost: x.onion\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    _ask(base, circuit, head + body)


_COOKIES = b"".join(b"Cookie: " + b"a=b; " * 900 + b"\r\n" for _ in range(3))


def _cookies(base: str, circuit: int) -> None:
    _ask(base, circuit, b"GET /submit HTTP/1.1\r\nHost: x.onion\r\n" + _COOKIES + b"\r\n")


def _churn(base: str, circuit: int) -> None:
    _ask(base, circuit, b"GET / HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n")


Flooder = Callable[[str, int], None]
FLOODS: dict[str, Flooder] = {"urlencoded": _urlencoded, "cookies": _cookies, "churn": _churn}


def _flooding(
    base: str, flood: Flooder, flooders: int, rate: float, stop: threading.Event
) -> list[int]:
    """Start `flooders` threads sending `flood` until `stop`, each as fast as it is answered,
    or `rate` a second if given (a flood held by tor's bandwidth, not by the server's answers:
    one refused cheaply is sent again sooner); the count sent, filled in."""
    sent = [0]

    def run(n: int) -> None:
        circuit = FLOOD_CIRCUITS + n * 256
        next_at = time.monotonic()
        while not stop.is_set():
            circuit += 1
            flood(base, circuit)
            sent[0] += 1
            if rate:
                next_at += 1 / rate
                stop.wait(max(0.0, next_at - time.monotonic()))

    for n in range(flooders):
        threading.Thread(target=run, args=(n,), daemon=True).start()
    return sent


def _slow_heads(base: str, count: int, fat: int, stop: threading.Event) -> list[int]:
    """Hold `count` connections, each sending `fat` bytes of head at once, then a few bytes
    every second."""
    socks: list[socket.socket] = []
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"x" * 4000) for n in range(fat // 4012))
    for n in range(count):
        try:
            sock = socket.create_connection(_address(base), timeout=5)
            circuit = FLOOD_CIRCUITS + (0x200000 if fat else 0x100000) + n
            sock.sendall(tor_line(circuit) + b"GET / HTTP/1.1\r\n" + padding)
            socks.append(sock)
        except OSError:
            break

    def drip() -> None:
        while not stop.wait(1.0):
            for sock in list(socks):
                try:
                    sock.sendall(b"X-a: b\r\n")
                except OSError:
                    socks.remove(sock)
        for sock in socks:
            sock.close()

    threading.Thread(target=drip, daemon=True).start()
    return [len(socks)]


def _rss_mib(instance: Path) -> float:
    total = 0.0
    for pid in worker_pids(instance):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def _reports(base: str, count: int, first: int) -> list[tuple[float, bool]]:
    return [_report(base, SOURCE_CIRCUITS + first + n) for n in range(count)]


def _figures(name: str, done: list[tuple[float, bool]], quiet: float, sent: int) -> dict[str, Any]:
    seconds = sorted(s for s, _ in done)
    p50 = seconds[len(seconds) // 2]
    return {
        "flood": name,
        "p50_s": round(p50, 3),
        "slowest_s": round(seconds[-1], 3),
        "p50_vs_quiet": round(p50 / quiet, 1) if quiet else None,
        "filed": sum(ok for _, ok in done),
        "reports": len(done),
        "flood_sent": sent,
    }


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One server; the reports quiet, then under each flood."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        instance = root / "instance"
        initialise(instance, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        env = {"RAAZDAR_TOR_CIRCUITS": "1"}
        with live_server(instance, log=root / "gunicorn.log", env=env) as base:
            _reports(base, 2, 0)  # warm up
            quiet = _reports(base, args.reports, 100)
            quiet_p50 = sorted(s for s, _ in quiet)[len(quiet) // 2]
            results.append(_figures("quiet", quiet, quiet_p50, 0))
            floods: list[tuple[str, Callable[[threading.Event], list[int]]]] = [
                (name, partial(_flooding, base, flood, args.flooders, args.rate))
                for name, flood in FLOODS.items()
            ]
            floods.append(("slow-heads", partial(_slow_heads, base, args.slow_heads, 0)))
            # Each holding as much of a head as the main loop reads, less a field.
            fat = args.fat_head_bytes
            floods.append(("fat-heads", partial(_slow_heads, base, args.slow_heads, fat)))
            for index, (name, start) in enumerate(floods):
                stop = threading.Event()
                with sampled_peak(lambda: _rss_mib(instance), 0.2) as peak:
                    sent = start(stop)
                    time.sleep(1.0)  # the flood under way
                    done = _reports(base, args.reports, 1000 * (index + 1))
                    stop.set()
                figures = _figures(name, done, quiet_p50, sent[0])
                figures["workers_peak_rss_mib"] = round(peak[0], 1)
                results.append(figures)
                time.sleep(2.0)  # the flood's connections gone
            after = _reports(base, args.reports, 100_000)
            results.append(_figures("quiet again", after, quiet_p50, 0))
    return results


def main() -> None:
    """Parse the options, run, print a table and the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reports", type=int, default=5, help="reports timed per flood")
    parser.add_argument("--flooders", type=int, default=8, help="threads flooding at once")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="each flooder's requests a second (0: at once)"
    )
    parser.add_argument(
        "--fat-head-bytes", type=int, default=15_000, help="of each fat head, sent at once"
    )
    parser.add_argument("--slow-heads", type=int, default=1000, help="slow-head connections")
    args = parser.parse_args()
    results = run(args)
    for f in results:
        print(
            f"{f['flood']:>12}: report p50 {f['p50_s']} s ({f['p50_vs_quiet']}x quiet), slowest "
            f"{f['slowest_s']} s, {f['filed']}/{f['reports']} filed; flood sent "
            f"{f['flood_sent']}; workers' peak RSS {f.get('workers_peak_rss_mib', '-')} MiB"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
