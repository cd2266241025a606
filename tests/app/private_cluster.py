"""A PostgreSQL cluster of one test module's own, started with server settings no role may set.

Some settings that date writes are the whole cluster's and take a restart
(`track_commit_timestamp`, `shared_preload_libraries`): the shared test cluster
cannot be restarted under the other tests. This one is made with `initdb` as the
`postgres` user (root on the machine that runs the PostgreSQL tier, as in CI),
listens on a socket in its own directory only, and is stopped and removed after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

BIN: Final = Path("/usr/lib/postgresql/15/bin")
ROLE: Final = "raazdar"
DATABASE: Final = "raazdar"


def _as_postgres(*command: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments, the test's own
        ["runuser", "-u", "postgres", "--", *command],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def private_cluster(**settings: str) -> Iterator[str]:
    """A cluster started with `settings`; the URL of a database a plain role owns there."""
    if os.geteuid() != 0 or shutil.which("runuser") is None or not (BIN / "initdb").exists():
        pytest.skip("a cluster of the test's own needs root and PostgreSQL 15's initdb")
    place = Path(tempfile.mkdtemp(prefix="rz-cluster-"))
    shutil.chown(place, "postgres")
    data = place / "data"
    options = [f"-c {name}={value}" for name, value in settings.items()]
    options += ["-c listen_addresses=''", f"-c unix_socket_directories={place}", "-c fsync=off"]
    try:
        _as_postgres(
            str(BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        _as_postgres(
            str(BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            " ".join(options),
            "-l",
            str(place / "log"),
            "-w",
            "start",
        )
        try:
            psql = [
                str(BIN / "psql"),
                "-h",
                str(place),
                "-U",
                "postgres",
                "-XAtq",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                "postgres",
            ]
            _as_postgres(*psql, "-c", f"CREATE ROLE {ROLE} LOGIN")
            _as_postgres(*psql, "-c", f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
            yield f"postgresql+psycopg://{ROLE}@/{DATABASE}?host={place}"
        finally:
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(place, ignore_errors=True)
