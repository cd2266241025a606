"""Benchmark: a staff member's logins while a holder of a staff device's key floods the slot.

    python -m tests.bench.staff_slot [--flooders 8 32 128] [--rtt 0.5] [--seconds 40]
                                     [--unnamed | --fresh] [--known-device]

Whoever holds a staff onion client key (a colleague removed but not yet revoked, a
laptop stolen) reaches the staff login page, and each login under any name, with any
password, takes the staff's own slot for one Argon2id hash (`app.kdf_pool.staff_slot`:
one slot, four places, taken in turn by the circuit tor names, two at most a circuit; a
login that finds every place taken, and may push no waiter out, is told "busy" at once).
Here flooders each send a login again `--rtt` seconds after their answer (a Tor round
trip), each on a circuit of its own, while one staff member tries to log in every two
seconds on theirs (Tor Browser keeps a site's circuit for ten minutes). `--unnamed`: tor
names no circuit (first come, first served, as before the staff onion named them);
`--fresh`: each flood login on a new circuit (a new introduction and rendezvous each,
some seconds over Tor, which this does not charge). `--known-device`: the staff member's
browser holds a known device's cookie (`app.services.staff_devices`), so their logins wait
in the places kept for those (`kdf_pool.STAFF_DEVICE_PLACES`), which the flood, holding
none, never reaches. It uses the real slot and places
(lock files in a temporary directory); the hash is stood in by a sleep of the time this
machine takes for one at the staff's cost (measured first). It prints, per number of
flooders, how many of the staff member's logins were let in, and after how long the
first. Figures, not a test.

Measured 7 December 2026 on a shared 2-core machine (`--seconds 30`; the time of one check
varied with the machine's load and is given per run), the staff member's logins let in
(the first after):

    flooders  before the fix      --unnamed           named               --fresh
              (0.67 s a check)    (0.07 s)            (0.11 s)            (0.09 s)
    4         4 of 13 (8.9 s)     15 of 15 (0.1 s)    14 of 14 (0.1 s)    15 of 15 (0.1 s)
    8         0 of 15 (none)      15 of 15 (0.1 s)    14 of 14 (0.1 s)    14 of 14 (0.3 s)
    32        1 of 15 (26.0 s)    3 of 15 (14.3 s)    13 of 13 (0.2 s)    2 of 15 (6.3 s)
    128       0 of 15 (none)      4 of 15 (2.3 s)     13 of 13 (0.4 s)    0 of 15 (none)

"before the fix" (on the commit before it) and "--unnamed" and "--fresh" with a warm-up
of 2 s; "named" with the default (each flooder's circuit served once first): within that
first stretch a flood's circuits are as new as the staff member's.

With a known device's cookie, measured the same day on the same machine, one after another
(`--seconds 30 --warmup 2`, with and without `--known-device`):

    flooders  --unnamed          --fresh            --unnamed           --fresh
                                                    --known-device      --known-device
              (0.21 s a check)   (0.11 s)           (0.20 s)            (0.21 s)
    4         12 of 12 (0.5 s)   14 of 14 (0.2 s)   14 of 14 (0.4 s)    13 of 13 (0.4 s)
    8         3 of 14 (4.8 s)    5 of 15 (20.4 s)   13 of 13 (0.2 s)    13 of 13 (0.4 s)
    32        1 of 15 (4.8 s)    0 of 15 (none)     13 of 13 (0.4 s)    13 of 13 (0.4 s)
    128       3 of 14 (4.8 s)    0 of 15 (none)     13 of 13 (0.4 s)    13 of 13 (0.3 s)
"""

from __future__ import annotations

import argparse
import itertools
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


# Every circuit of a run, the flooders' and the staff member's, is one never used before in
# it: the pool's table of circuits served lately outlives one measure.
_new_circuits = itertools.count(1)


def measure(
    flooders: int,
    rtt: float,
    seconds: float,
    check: float,
    circuits: str,
    warmup: float,
    device: int | None = None,
) -> tuple[int, int, float]:
    """The staff member's logins let in, tried, and the seconds until the first (or -1).

    `circuits`: "named" (each flooder on its own), "unnamed" or "fresh" (a new one a login);
    `device`: the key of the staff member's known device, if their browser holds a cookie.
    """
    root = Path(tempfile.mkdtemp())
    kdf_pool.prepare(root, 1, 4)
    stop = threading.Event()

    def flood(circuit: int) -> None:
        while not stop.is_set():
            if circuits == "fresh":
                circuit = next(_new_circuits)
            try:
                with kdf_pool.staff_slot(root, WAIT_SECONDS, _named(circuit, circuits)):
                    time.sleep(check)
            except kdf_pool.KdfBusy:
                pass
            time.sleep(rtt)

    threads = [
        threading.Thread(target=flood, args=(next(_new_circuits),), daemon=True)
        for _ in range(flooders)
    ]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    # A login told "busy" is sent again on the same circuit; one let in is done, and the
    # next is a later visit, on a new circuit (a retry within two minutes of a check on
    # the same circuit, after a typo, waits behind circuits not served lately).
    staff_circuit = next(_new_circuits)
    tried = let_in = 0
    first = -1.0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        tried += 1
        try:
            circuit = _named(staff_circuit, circuits)
            with kdf_pool.staff_slot(root, WAIT_SECONDS, circuit, device):
                time.sleep(check)
            let_in += 1
            staff_circuit = next(_new_circuits)
            if first < 0:
                first = time.monotonic() - began
        except kdf_pool.KdfBusy:
            pass
        time.sleep(TRY_EVERY)
    stop.set()
    for thread in threads:
        thread.join()
    return let_in, tried, first


def _named(circuit: int, circuits: str) -> int | None:
    """The circuit the staff's slot is told, if tor names them."""
    return None if circuits == "unnamed" else circuit


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flooders", type=int, nargs="+", default=[4, 8, 32, 128])
    parser.add_argument("--rtt", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds the flood runs before the staff member's first login (default: until "
        "each flooder's circuit can have been served once; till then each counts as new)",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--unnamed", action="store_true", help="tor names no circuit")
    how.add_argument("--fresh", action="store_true", help="a new circuit for each flood login")
    parser.add_argument(
        "--known-device",
        action="store_true",
        help="the staff member's browser holds a known device's cookie (the flood's none)",
    )
    args = parser.parse_args()
    device = 1 if args.known_device else None
    circuits = "unnamed" if args.unnamed else "fresh" if args.fresh else "named"
    check = hash_seconds()
    print(f"one staff password check: {check:.3f} s")
    for flooders in args.flooders:
        warmup = args.warmup if args.warmup is not None else 2 + 1.5 * flooders * check
        let_in, tried, first = measure(
            flooders, args.rtt, args.seconds, check, circuits, warmup, device
        )
        after = f"the first after {first:.1f} s" if first >= 0 else "none"
        print(f"{flooders} flooders: the staff member let in {let_in} of {tried} ({after})")


if __name__ == "__main__":
    main()
