"""Benchmark: what a staff request refused for its account's pace costs its thread.

    python -m tests.bench.staff_refusals [--refusals 2000] [--profile]

It makes a demo instance, logs a staff account in (Flask's test client on the staff
listener, in-process), spends the account's budget (`app.page_pacing.take_staff_turns`),
then loads the dashboard `--refusals` times, each refused busy, and prints the thread's
CPU (`time.thread_time`) per refusal, best of three rounds, beside a page that is never
paced (the login page, logged in: a redirect) and the dashboard built. `--profile` prints
where one round's refusals spend it. Figures, not a test: a loaded machine gives others.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient

from app import create_app, page_pacing
from app.config import config_for
from app.operations.setup import initialise
from crypto import KdfParams
from tests.app.staff_support import login, make_staff, staff_client

ROUNDS = 3


def _per_request(browser: FlaskClient, path: str, count: int, status: int) -> float:
    """The thread's CPU seconds per request of `count` to `path`, each answered `status`."""
    started = time.thread_time()
    for _ in range(count):
        response = browser.get(path)
        assert response.status_code == status, response.status_code
        response.close()
    return (time.thread_time() - started) / count


def _spend(account_id: str) -> None:
    """Spend the account's whole budget, its clock stopped, so that every paced page is
    refused however long the rounds take."""
    stopped = time.monotonic_ns()
    page_pacing._now = lambda: stopped
    while page_pacing.take_staff_turns(account_id, None, 1) == 0:
        pass


def main() -> None:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--refusals", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "instance"
        initialise(root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
        app = create_app(config_for(root))
        user = make_staff(app, "mallory")
        browser = staff_client(app)
        login(browser, app, user)
        built = min(_per_request(browser, "/staff/", 10, 200) for _ in range(ROUNDS))
        _spend(user.id)
        _per_request(browser, "/staff/", 50, 503)  # warm
        refused = []
        for _ in range(ROUNDS):
            refused.append(_per_request(browser, "/staff/", args.refusals, 503))
        unpaced = min(_per_request(browser, "/staff/login", 200, 303) for _ in range(ROUNDS))
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            _per_request(browser, "/staff/", args.refusals, 503)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    figures = {
        "refusal_cpu_ms": round(min(refused) * 1000, 3),
        "login_redirect_cpu_ms": round(unpaced * 1000, 3),
        "dashboard_cpu_ms": round(built * 1000, 3),
    }
    print(
        f"a refused dashboard: {figures['refusal_cpu_ms']} ms of the thread's CPU "
        f"(best of {ROUNDS} rounds of {args.refusals}); the login page, logged in (a "
        f"redirect): {figures['login_redirect_cpu_ms']} ms; a dashboard built: "
        f"{figures['dashboard_cpu_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
