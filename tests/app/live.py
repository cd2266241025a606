"""The real server for tests: a demo instance, gunicorn serving it on loopback, what it stored."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.instance import InstancePaths
from app.operations.serve import GUNICORN_CONF
from app.operations.setup import initialise
from app.store import HOLDING_NAME
from crypto import KdfParams, Metadata, open_bytes
from tests.app.support import RETIRED_PREFIX, form, reviewer_openers
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
# The gunicorn master serving each instance `live_server` serves, by the instance's path.
# (Its workers are not dumpable: another process of their user may not read their
# /proc/PID/environ, so the tests find them from their master.)
MASTERS: dict[Path, int] = {}
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Envelope:
    """One stored envelope, opened with the demo reviewer key."""

    metadata: Metadata
    plaintext: bytes


def demo_instance(root: Path) -> Path:
    """Create a demo instance with fast key derivation in the empty directory `root`.

    Made afresh, not copied (tests/app/templates.py): live servers published on one Tor
    network each need an onion key of their own.
    """
    initialise(root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
    return root


def stored_envelopes(instance: Path) -> list[Envelope]:
    """Open every envelope in the instance's store (the reviewer's view of it)."""
    keys = reviewer_openers(instance)
    opened = []
    store = InstancePaths(instance).store
    for path in sorted([*store.glob("*.rze"), *(store / HOLDING_NAME).glob("*.rze")]):
        plaintext, info = open_bytes(path.read_bytes(), keys)
        opened.append(Envelope(info.metadata, plaintext))
    return opened


class ServerError(RuntimeError):
    """gunicorn did not start, or stopped by itself; the message ends with its log."""


@contextlib.contextmanager
def live_server(
    instance: Path,
    *,
    workers: int | None = None,
    log: Path | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve `instance` with gunicorn until the block ends; yield its base URL (no slash).

    gunicorn's output goes to `log` (a temporary file if not given) and is quoted
    in the error if it fails to start. It runs in a session of its own and is
    stopped by its PID: SIGTERM, then SIGKILL to its process group after a bound.
    `env` adds to (or overrides) its environment; with RAAZDAR_TOR_CIRCUITS=1 it
    is told that tor names each connection's circuit first, and is asked as tor would.
    """
    port = free_port()
    env = dict(
        os.environ,
        RAAZDAR_INSTANCE=str(instance),
        RAAZDAR_BIND=f"127.0.0.1:{port}",
        **(env or {}),
    )
    # gunicorn names its processes with setproctitle when it is installed (the dev extra
    # brings it, through onionbalance), which overwrites /proc/PID/environ; the tests
    # find this server's processes by the instance named there (tests/app/flood.py).
    env["SPT_NOENV"] = "1"
    if workers is not None:
        env["RAAZDAR_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"]
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "gunicorn.log"
        output = stack.enter_context(log.open("wb"))
        process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        MASTERS[instance] = process.pid
        try:
            circuit = 0 if env.get("RAAZDAR_TOR_CIRCUITS") == "1" else None
            _wait_until_up(process, port, log, time.monotonic() + startup_timeout, circuit)
            yield f"http://127.0.0.1:{port}"
            if process.poll() is not None:
                raise ServerError(_failure("gunicorn stopped during the test", log))
        finally:
            MASTERS.pop(instance, None)
            _stop(process)


def _wait_until_up(
    process: subprocess.Popen[bytes], port: int, log: Path, deadline: float, circuit: int | None
) -> None:
    """Return once a worker answers a request; raise if gunicorn exits or time runs out."""
    while True:
        if process.poll() is not None:
            raise ServerError(_failure(f"gunicorn exited with status {process.returncode}", log))
        if _answers(port, circuit):
            return
        if time.monotonic() > deadline:
            raise ServerError(_failure("gunicorn did not answer in time", log))
        time.sleep(0.1)


def tor_line(circuit: int) -> bytes:
    """The line tor sends first on each connection of an onion service that exports circuits."""
    high, low = circuit >> 16, circuit & 0xFFFF
    return f"PROXY TCP6 fc00:dead:beef:4dad::{high:x}:{low:x} ::1 65535 80\r\n".encode()


class TorConnection(http.client.HTTPConnection):
    """An HTTP connection that starts as tor's would, naming a circuit (None: as a plain client)."""

    def __init__(self, host: str, port: int | None, timeout: float, circuit: int | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self.circuit = circuit

    def connect(self) -> None:
        """Connect, then send tor's line first."""
        super().connect()
        if self.circuit is not None:
            self.sock.sendall(tor_line(self.circuit))


def _answers(port: int, circuit: int | None = None) -> bool:
    """Say whether the server answers an HTTP request, whatever the status."""
    connection = TorConnection("127.0.0.1", port, 5, circuit)
    try:
        connection.request("GET", "/keys.json")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the master; if it outlives the bound, SIGKILL the session it leads."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)


def _failure(what: str, log: Path) -> str:
    """Describe a failure, ending with the tail of gunicorn's log."""
    text = log.read_text("utf-8", errors="replace") if log.exists() else ""
    return f"{what}; its log:\n{text[-4000:]}"


def submit_form(conn: http.client.HTTPConnection) -> tuple[str, dict[str, str]]:
    """GET the submit page on `conn`: the session cookie and the form's hidden fields."""
    conn.request("GET", "/submit")
    response = conn.getresponse()
    html = response.read().decode()
    assert response.status == 200
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    return cookie, form(html, "/submit").fields


def left_behind(instance: Path) -> list[Path]:
    """Whatever staging or holding holds (a refused upload leaves neither), but what waits,
    blank, for the sweep."""
    paths = InstancePaths(instance)
    found = [*paths.staging.iterdir(), *(paths.store / HOLDING_NAME).glob("*")]
    return [p for p in found if not p.name.startswith(RETIRED_PREFIX)]
