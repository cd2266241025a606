"""Benchmark: how long a refused staff login takes, by why it was refused.

    python -m tests.bench.staff_login_timing [--logins 300]

It makes a demo instance (test costs: the hash is short, so what comes after it shows)
and times `app.services.staff.authenticate`, in-process, for a wrong password, a name
without an account, the right password with a wrong code, and the right password of an
account throttled for its codes, interleaved, `--logins` of each; it prints each one's
median. Every one is refused alike (the same page, the same writes,
tests/app/staff/test_staff_login_writes.py); a right password's work after the hash
(the code's count, the code tried) is more, and its median later, which a guesser timing
logins of one password again and again reads as "the password is right". Figures, not a
test: a loaded machine gives others.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from flask import Flask

from app import create_app
from app.config import config_for
from app.db import db_session
from app.operations.setup import initialise
from app.services import staff as staff_service
from crypto import KdfParams
from tests.app.staff_support import PASSWORD, STAFF_ENVIRON, make_staff

# Why each login is refused: the name it gives, and whether its password is the right one.
KINDS = {
    "wrong password": ("alice", False),
    "no such name": ("nobody", False),
    "right password, wrong code": ("alice", True),
    "right password, throttled": ("bob", True),
}


def _timed(app: Flask, name: str, right: bool) -> float:
    """Seconds one refused login takes in `authenticate`."""
    password = PASSWORD if right else f"{PASSWORD} not"
    with app.test_request_context("/staff/login", environ_base=STAFF_ENVIRON):
        started = time.perf_counter()
        refused = staff_service.authenticate(db_session(), name, password, "000000")
        took = time.perf_counter() - started
    assert refused is None
    return took


def main() -> None:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--logins", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "instance"
        initialise(root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        app = create_app(config_for(root))
        # Alice's codes are never throttled here: each of her logins counts a code.
        app.config["STAFF_LOGIN_FAILURES"] = app.config["STAFF_LOGIN_DAILY_FAILURES"] = 10**9
        make_staff(app, "alice")
        make_staff(app, "bob")
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(20):  # warm, and bob's codes tried past any limit
            for name, right in KINDS.values():
                _timed(app, name, right)
        app.config["STAFF_LOGIN_FAILURES"] = 5
        app.config["STAFF_LOGIN_DAILY_FAILURES"] = 20
        for _ in range(args.logins):
            for kind, (name, right) in KINDS.items():
                if name == "alice":
                    app.config["STAFF_LOGIN_FAILURES"] = 10**9
                    app.config["STAFF_LOGIN_DAILY_FAILURES"] = 10**9
                times[kind].append(_timed(app, name, right))
                app.config["STAFF_LOGIN_FAILURES"] = 5
                app.config["STAFF_LOGIN_DAILY_FAILURES"] = 20
    figures = {kind: round(statistics.median(values) * 1000, 2) for kind, values in times.items()}
    for kind, median in figures.items():
        print(f"{kind}: median {median} ms ({args.logins} logins)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
