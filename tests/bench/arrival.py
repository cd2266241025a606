"""What hiding arrival order costs: SQLite commit modes, and the sweep's copy of new envelopes.

Run from the repository root: `python -m tests.bench.arrival [--rows N] [--envelopes N]`.
Three ways to commit one small row per transaction are timed: WAL as before
(the WAL keeps every change in order until a checkpoint), WAL emptied after
each writing connection is handed back (what `app.db` does now), and a rollback
journal (`journal_mode=DELETE`). Then the sweep of N held envelopes of 1 MiB.
Figures go to stdout, as ratios to the old WAL and as MiB/s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from app.db import make_engine
from app.store import EnvelopeStore

ROW = 200


def _plain_wal(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: object, _record: object) -> None:
        for pragma in ("secure_delete = ON", "journal_mode = WAL", "synchronous = FULL"):
            connection.execute(f"PRAGMA {pragma}")  # type: ignore[attr-defined]

    return engine


def _rollback_journal(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: object, _record: object) -> None:
        for pragma in ("secure_delete = ON", "journal_mode = DELETE", "synchronous = FULL"):
            connection.execute(f"PRAGMA {pragma}")  # type: ignore[attr-defined]

    return engine


def _commits(make: Callable[[str], Engine], rows: int) -> float:
    """Seconds for `rows` one-row transactions, each in a session of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make(f"sqlite:///{tmp}/bench.db")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID"))
        start = time.perf_counter()
        for _ in range(rows):
            with Session(engine) as session:
                session.execute(
                    text("INSERT INTO t VALUES (:i, :v)"),
                    {"i": secrets.token_hex(16), "v": os.urandom(ROW)},
                )
                session.commit()
        elapsed = time.perf_counter() - start
        engine.dispose()
    return elapsed


def _sweep(envelopes: int, size: int) -> float:
    """Seconds to sweep `envelopes` held envelopes of `size` bytes into the store."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        (root / ".staging").mkdir(parents=True)
        store = EnvelopeStore(root, root / ".staging")
        for _ in range(envelopes):
            envelope_id, staged = store.stage_ciphertext(os.urandom(size))
            store.publish(envelope_id, staged)
        start = time.perf_counter()
        store.sweep(renew=lambda _id, _info: False)
        return time.perf_counter() - start


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--envelopes", type=int, default=50)
    args = parser.parse_args()
    modes = {
        "WAL, kept until a checkpoint (before)": _plain_wal,
        "WAL, emptied after each write (now)": make_engine,
        "rollback journal (DELETE)": _rollback_journal,
    }
    base = None
    print(f"{args.rows} one-row commits (fsync on every commit):")
    for name, make in modes.items():
        seconds = _commits(make, args.rows)
        base = base or seconds
        print(f"  {name:<40} {1000 * seconds / args.rows:7.2f} ms/commit  x{seconds / base:.2f}")
    size = 1024 * 1024
    seconds = _sweep(args.envelopes, size)
    print(
        f"sweep of {args.envelopes} envelopes of 1 MiB: {seconds:.2f} s "
        f"({args.envelopes / seconds:.0f} envelopes/s, {args.envelopes / seconds:.0f} MiB/s)"
    )


if __name__ == "__main__":
    main()
