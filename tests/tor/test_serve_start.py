"""`raazdar serve` start-up: says what it waits for, stops cleanly at Ctrl-C, a fixed SOCKS port."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.operations.tor.control import TorError
from devnet.private_network import PrivateNetwork, StartCancelled
from tests.app.live import demo_instance
from tests.ports import free_port_pair

pytestmark = pytest.mark.tor

RAAZDAR = Path(sys.executable).parent / "raazdar"


@pytest.fixture(autouse=True)
def _tor_installed() -> None:
    if shutil.which("tor") is None or shutil.which("tor-gencert") is None:
        pytest.skip("tor and tor-gencert not installed")


def tors_under(path: Path) -> list[int]:
    """PIDs of tor processes whose command line names a path under `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tor") and any(str(path).encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def test_a_cancelled_start_stops_every_tor_it_started(tmp_path: Path) -> None:
    network = PrivateNetwork(tmp_path / "net")
    calls = iter(range(1_000_000))
    # Cancelled once the routers are launched and waited on a little.
    with pytest.raises(StartCancelled):
        network.start(timeout=60, cancelled=lambda: next(calls) > 5)
    assert network.pids == []
    assert tors_under(tmp_path) == []


def test_a_busy_socks_port_is_refused_before_any_tor_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        network = PrivateNetwork(tmp_path / "net", socks_port=port)
        with pytest.raises(TorError, match=f"cannot use SOCKS port {port}"):
            network.start(timeout=30)
    assert tors_under(tmp_path) == []


def test_ctrl_c_during_start_up_says_stopped_exits_0_and_leaves_no_tor(tmp_path: Path) -> None:
    instance = demo_instance(tmp_path / "instance")
    port = free_port_pair()  # serve binds the staff listener on port + 1
    # A new session, as a terminal's foreground job: Ctrl-C goes to the whole group.
    process = subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
        [
            str(RAAZDAR),
            "--instance",
            str(instance),
            "serve",
            "--tor",
            "private",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    announced = False
    deadline = time.monotonic() + 60
    while not announced and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            line = process.stdout.readline()
            lines.append(line)
            announced = "starting the private Tor network" in line
    if not announced:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=60)
        pytest.fail("serve never said it was starting the private Tor network: " + "".join(lines))
    time.sleep(2)  # the tors are starting now
    os.killpg(process.pid, signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "raazdar: stopped" in output
    assert "source onion service" not in output  # no "serving" banner for a stop
    assert "exited" not in output
    assert tors_under(instance) == []
