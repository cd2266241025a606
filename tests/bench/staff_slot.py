"""Benchmark: a staff member's logins while a holder of a staff device's key floods the slot.

    python -m tests.bench.staff_slot [--flooders 8 32 128] [--rtt 0.5] [--seconds 40]

Whoever holds a staff onion client key (a colleague removed but not yet revoked, a
laptop stolen) reaches the staff login page, and each login under any name, with any
password, takes the staff's own slot for one Argon2id hash (`app.kdf_pool.staff_slot`:
one slot, four places, first come, first served; a login that finds every place taken
is told "busy" at once). Here flooders each send a login again `--rtt` seconds after
their answer (a Tor round trip) while one staff member tries to log in every two
seconds. It uses the real slot and places (lock files in a temporary directory); the
hash is stood in by a sleep of the time this machine takes for one at the staff's cost
(measured first). It prints, per number of flooders, how many of the staff member's
logins were let in, and after how long the first. Figures, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from app import kdf_pool
from crypto import PASSWORD_COST, hash_password, verify_password

WAIT_SECONDS = 10.0
TRY_EVERY = 2.0


def hash_seconds() -> float:
    """The time of one staff password check at the staff's cost, on this machine (median of 5)."""
    encoded = hash_password("correct horse battery staple", PASSWORD_COST)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        verify_password(encoded, "a guess at the password")
        times.append(time.perf_counter() - started)
    return sorted(times)[2]


def measure(flooders: int, rtt: float, seconds: float, check: float) -> tuple[int, int, float]:
    """The staff member's logins let in, tried, and the seconds until the first (or -1)."""
    root = Path(tempfile.mkdtemp())
    kdf_pool.prepare(root, 1, 4)
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set():
            try:
                with kdf_pool.staff_slot(root, WAIT_SECONDS):
                    time.sleep(check)
            except kdf_pool.KdfBusy:
                pass
            time.sleep(rtt)

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(flooders)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    tried = let_in = 0
    first = -1.0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        tried += 1
        try:
            with kdf_pool.staff_slot(root, WAIT_SECONDS):
                time.sleep(check)
            let_in += 1
            if first < 0:
                first = time.monotonic() - began
        except kdf_pool.KdfBusy:
            pass
        time.sleep(TRY_EVERY)
    stop.set()
    for thread in threads:
        thread.join()
    return let_in, tried, first


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flooders", type=int, nargs="+", default=[4, 8, 32, 128])
    parser.add_argument("--rtt", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    check = hash_seconds()
    print(f"one staff password check: {check:.3f} s")
    for flooders in args.flooders:
        let_in, tried, first = measure(flooders, args.rtt, args.seconds, check)
        after = f"the first after {first:.1f} s" if first >= 0 else "none"
        print(f"{flooders} flooders: the staff member let in {let_in} of {tried} ({after})")


if __name__ == "__main__":
    main()
