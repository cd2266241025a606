"""Benchmark: many sources at once, through the web form and through the API.

    python -m tests.bench.load [--sources 50,200] [--size-kib 1024] [--kdf interactive]

For each count of concurrent sources it starts gunicorn (tests/app/live.py,
the default workers and threads unless --workers is given) on a fresh demo
instance, and lets that many web sources (GET /submit, then POST the form with
a message and a file) and then that many API sources (a device that verified
the keyring, has its account and sealed its file beforehand; timed: the
upload) send at once. For each it prints throughput (accepted per second),
p50/p95/p99 of the time to an answer, the 503 count ("busy, try again": an
answer), other failures, the slowest answer (target: none over 30 s), the
peak RSS of each worker and in all (target with the defaults: <= 1 GiB), and
whether the database holds each accepted report exactly once (0 lost, 0
duplicated). Then one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import create_app
from app.config import config_for
from app.models import Item
from app.operations.setup import initialise
from crypto import KdfParams, derive_source_keys, generate_codename
from crypto.vault import Vault
from submit import transport
from submit.errors import ServerError
from submit.protocol import Api
from submit.state import State
from submit.trust import KeyringDocument, establish
from submit.uploads import seal_submission, upload_pending
from tests.app.flood import Browser, inputs, sampled_peak, worker_peak_rss_mib, worker_pids
from tests.app.live import live_server
from tests.app.support import db_session, demo_authorities, multipart

KDFS = {"testing": KdfParams.TESTING, "interactive": KdfParams.INTERACTIVE}
# How long a client waits for an answer before counting the request as unanswered.
CLIENT_TIMEOUT = 120.0


@dataclass
class Outcome:
    """One source's attempt: seconds to the answer, and the answer (0: none)."""

    seconds: float
    status: int


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 3)


def _web_source(base: str, payload: bytes) -> Outcome:
    """Open the form and send a report with one file; the whole time to the answer."""
    browser = Browser(base)
    started = time.monotonic()
    try:
        status, html = browser.get("/submit")
        if status != 200:
            return Outcome(time.monotonic() - started, status)
        fields = [(k, v) for k, v in inputs(html).items() if k in ("csrf_token", "codename")]
        body, content_type = multipart(
            [*fields, ("message", "load")],
            [("files", "evidence.bin", payload, "application/octet-stream")],
        )
        status = browser.request("POST", "/submit", body, {"Content-Type": content_type})[0]
        return Outcome(time.monotonic() - started, status)
    except OSError:
        return Outcome(time.monotonic() - started, 0)
    finally:
        browser.close()


@dataclass
class _Device:
    api: Api
    keys: Any
    state: State


def _devices(base: str, instance: Path, root: Path, count: int, size: int) -> list[_Device]:
    """Devices ready to upload: keyring verified, account made, one file sealed."""
    pins = frozenset(k.verify_key.fingerprint for k in demo_authorities(instance))
    devices = []
    for n in range(count):
        state = State(root / f"device-{n}", vault=Vault.derive("c", bytes(16), KdfParams.TESTING))
        api = Api(transport.session(None), base, timeout=(10.0, CLIENT_TIMEOUT))
        doc = KeyringDocument.parse(api.keyring())
        verified = establish(
            state, doc, pins, dt.date.today(), lambda _fps: None, host=None, allow_test_kdf=True
        )
        keys = derive_source_keys(generate_codename(), verified.salt, verified.kdf)
        api.ensure_account(keys)
        evidence = root / f"evidence-{n}.bin"
        evidence.write_bytes(secrets.token_bytes(size))
        # Random bytes: no file the client could clean, so sealed exactly as they are.
        seal_submission(state, verified.manifest, None, [evidence], keys=keys, keep_metadata=True)
        devices.append(_Device(api, keys, state))
    return devices


def _api_source(device: _Device) -> Outcome:
    started = time.monotonic()
    try:
        upload_pending(device.api, device.keys, device.state, retries=0)
    except ServerError as exc:  # a refusal is an answer: its status is what is measured
        return Outcome(time.monotonic() - started, exc.status)
    except Exception:  # no answer (a reset, a timeout)
        return Outcome(time.monotonic() - started, 0)
    return Outcome(time.monotonic() - started, 201)


def _figures(outcomes: list[Outcome], elapsed: float, accepted_status: int) -> dict[str, Any]:
    answered = [o.seconds for o in outcomes if o.status]
    accepted = sum(o.status == accepted_status for o in outcomes)
    return {
        "sources": len(outcomes),
        "accepted": accepted,
        "busy_503": sum(o.status == 503 for o in outcomes),
        "failed": sum(o.status not in (accepted_status, 503) for o in outcomes),
        "throughput_per_s": round(accepted / elapsed, 2) if elapsed else 0.0,
        "p50_s": _percentile(answered, 0.50),
        "p95_s": _percentile(answered, 0.95),
        "p99_s": _percentile(answered, 0.99),
        "slowest_s": round(max(answered, default=0.0), 3),
    }


def _rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def total_rss_peak(instance: Path) -> contextlib.AbstractContextManager[list[float]]:
    """Sample the workers' RSS added up every 20 ms while the block runs; yield [its peak]."""
    pids = worker_pids(instance)
    return sampled_peak(lambda: round(sum(_rss_mib(pid) for pid in pids), 1), 0.02)


def _stored_items(instance: Path) -> int:
    app = create_app(config_for(instance))
    with db_session(app) as session:
        return int(session.scalar(select(func.count()).select_from(Item)) or 0)


def run_one(args: argparse.Namespace, sources: int) -> dict[str, Any]:
    """One fresh server, `sources` web sources at once, then `sources` API sources at once."""
    payload = secrets.token_bytes(args.size_kib * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        instance = root / "instance"
        initialise(instance, signed=None, database_url=None, kdf=KDFS[args.kdf], demo=True)
        with live_server(instance, workers=args.workers, log=root / "gunicorn.log") as base:
            started = time.monotonic()
            with (
                total_rss_peak(instance) as web_peak,
                ThreadPoolExecutor(max_workers=sources) as pool,
            ):
                web = list(pool.map(lambda _n: _web_source(base, payload), range(sources)))
            web_figures = _figures(web, time.monotonic() - started, 303)
            devices = _devices(base, instance, root / "devices", sources, len(payload))
            before = _stored_items(instance)
            started = time.monotonic()
            with (
                total_rss_peak(instance) as api_peak,
                ThreadPoolExecutor(max_workers=sources) as pool,
            ):
                api = list(pool.map(_api_source, devices))
            api_figures = _figures(api, time.monotonic() - started, 201)
            rss = worker_peak_rss_mib(instance)
            after = [round(_rss_mib(pid), 1) for pid in worker_pids(instance)]
        stored = _stored_items(instance)
    # A web report is two items (its message and its file); an API source sent one file.
    expected = 2 * web_figures["accepted"] + api_figures["accepted"]
    return {
        "sources": sources,
        "kdf": args.kdf,
        "size_kib": args.size_kib,
        "web": web_figures,
        "api": api_figures,
        "worker_peak_rss_mib": rss,
        "total_peak_rss_mib": max(web_peak[0], api_peak[0]),
        "sum_of_worker_peaks_mib": round(sum(rss), 1),
        "worker_rss_after_mib": after,
        "items_stored": stored,
        "items_expected": expected,
        "web_items_before_api": before,
        "exactly_once": stored == expected,
    }


def _say(figures: dict[str, Any]) -> None:
    for kind in ("web", "api"):
        f = figures[kind]
        print(
            f"{figures['sources']} {kind} sources: {f['accepted']} accepted, {f['busy_503']} "
            f"told busy (503), {f['failed']} failed; {f['throughput_per_s']}/s; "
            f"p50 {f['p50_s']} s, p95 {f['p95_s']} s, p99 {f['p99_s']} s, "
            f"slowest {f['slowest_s']} s (target <= 30)"
        )
    print(
        f"  workers' peak RSS {figures['worker_peak_rss_mib']} MiB; at once in all "
        f"{figures['total_peak_rss_mib']} MiB (target <= 1024); sum of the workers' peaks "
        f"{figures['sum_of_worker_peaks_mib']} MiB; kept after: {figures['worker_rss_after_mib']} "
        "MiB; "
        f"items stored {figures['items_stored']} of {figures['items_expected']} expected "
        f"({'exactly once' if figures['exactly_once'] else 'LOST OR DUPLICATED'})"
    )


def main() -> None:
    """Parse the options, run each count, print a summary and the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", default="50,200", help="concurrent sources, comma-separated")
    parser.add_argument("--size-kib", type=int, default=1024, help="each file's size (KiB)")
    parser.add_argument("--kdf", choices=sorted(KDFS), default="interactive", help="Argon2id cost")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default)")
    args = parser.parse_args()
    results = []
    for count in (int(c) for c in args.sources.split(",") if c.strip()):
        figures = run_one(args, count)
        _say(figures)
        results.append(figures)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
