"""Benchmark: what sorting a staff request's head costs the worker's main loop.

    python -m tests.bench.staff_heads [--heads 20000]

It makes a demo instance, logs a staff account in (Flask's test client, in-process), and
has a worker built in this process (`tests.app.test_worker._busy_worker`) sort `--heads`
heads of each kind the way its main loop does (`HeadFirstWorker._staff_turn`: the cookies
read, a login opened, a device's MAC and its account's tag checked, a budget's turn taken),
printing the main loop's CPU (`time.thread_time`) per head, best of three rounds. Run on a
tree before the head sorted them, it times what stood there (`_refused_again`: the session
cookie read and opened). Figures, not a test: a loaded machine gives others.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask

from app import create_app
from app.config import config_for
from app.operations.setup import initialise
from app.services import staff_devices
from app.services.staff import get_account
from crypto import KdfParams
from tests.app.staff_support import login, make_staff, page_token, staff_client
from tests.app.test_worker import _busy_worker

ROUNDS = 3


def _heads(app: Flask) -> dict[str, bytes]:
    """A head of each kind: no cookie, a live login's, an ended login's, a known device's, an
    administrator's link for a new browser (`staff_devices.link`)."""
    alice, mallory = staff_client(app), staff_client(app)
    login(alice, app, make_staff(app, "alice"))
    login(mallory, app, make_staff(app, "mallory"))
    ended = mallory.get_cookie("rz")
    mallory.post("/staff/logout", data={"csrf_token": page_token(mallory)})
    live, device = alice.get_cookie("rz"), alice.get_cookie("rz_device", path="/staff")
    assert live is not None
    assert ended is not None
    assert device is not None

    def head(path: str, cookie: str) -> bytes:
        sent = f"Cookie: {cookie}\r\n" if cookie else ""
        return f"GET {path} HTTP/1.1\r\nHost: x.onion\r\n{sent}\r\n".encode()

    with app.test_request_context():
        session = app.extensions["raazdar.db"].new_session()
        link = staff_devices.link(get_account(session, "alice"))
        session.close()
    return {
        "no cookie": head("/staff/login", ""),
        "live login": head("/staff/", f"rz={live.value}"),
        "ended login": head("/staff/", f"rz={ended.value}"),
        "known device": head("/staff/login", f"rz_device={device.value}"),
        "device link": head(link, ""),
    }


def _per_head(sort: Any, head: bytes, count: int) -> float:
    """The main loop's CPU seconds per head of `count` sorted."""
    conn = SimpleNamespace(head=head, staff=True)
    started = time.thread_time()
    for _ in range(count):
        sort(conn)
    return (time.thread_time() - started) / count


def main() -> None:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--heads", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "instance"
        initialise(root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        app = create_app(config_for(root))
        heads = _heads(app)
        with _busy_worker(app) as worker:
            sort = getattr(worker, "_staff_turn", None) or worker._refused_again
            figures = {
                kind: round(min(_per_head(sort, head, args.heads) for _ in range(ROUNDS)) * 1e6, 2)
                for kind, head in heads.items()
            }
    print(f"{sort.__name__}, us of the main loop's CPU per head (best of {ROUNDS}): {figures}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
