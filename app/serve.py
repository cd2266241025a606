"""`raazdar serve`: gunicorn on loopback, and the onion service in front of it.

Tor modes: `launch` starts a tor of our own on the Tor network; `attach` uses a
running tor's control port; `private` builds a private Tor network on loopback
(a demonstration that needs no internet, and the one the test suite uses);
`off` serves on loopback only. `auto` attaches when RAAZDAR_TOR_CONTROL is set,
else launches when tor is installed, else serves on loopback only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from app.instance import InstancePaths, load_config
from app.store import EnvelopeStore
from app.tor.control import Tor, TorError

log = logging.getLogger(__name__)

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
TOR_MODES = ("auto", "launch", "attach", "private", "off")


@dataclass
class Served:
    """What is running, for the caller to report."""

    url: str
    onion: str | None = None
    tor_mode: str = "off"
    socks_port: int | None = None


def resolve_mode(mode: str) -> str:
    """Turn `auto` into a concrete mode for this machine."""
    if mode != "auto":
        return mode
    if os.environ.get("RAAZDAR_TOR_CONTROL"):
        return "attach"
    return "launch" if shutil.which("tor") else "off"


def serve(
    instance: Path,
    *,
    port: int,
    tor_mode: str,
    say: Callable[[str], None],
    workers: int | None = None,
) -> int:
    """Run until SIGTERM or SIGINT; return gunicorn's exit status."""
    paths = InstancePaths(instance)
    load_config(paths)  # fail now, plainly, if there is no instance
    EnvelopeStore(paths.store, paths.staging).clear_staging()
    mode = resolve_mode(tor_mode)
    env = dict(os.environ, RAAZDAR_INSTANCE=str(instance), RAAZDAR_BIND=f"127.0.0.1:{port}")
    if workers:
        env["RAAZDAR_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "app:create_app()"]
    gunicorn = subprocess.Popen(command, env=env)  # noqa: S603 - fixed argument list
    stop = threading.Event()
    tor: Tor | None = None
    network: Any = None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        served = Served(url=f"http://127.0.0.1:{port}/", tor_mode=mode)
        if mode != "off":
            tor, network, served = _start_tor(paths, mode, port, served)
        _report(served, say)
        while not stop.is_set() and gunicorn.poll() is None:
            stop.wait(0.5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if tor is not None:
            tor.close()
        if network is not None:
            network.stop()
        if gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
    return gunicorn.wait()


def _start_tor(
    paths: InstancePaths, mode: str, port: int, served: Served
) -> tuple[Any, Any, Served]:
    tor_dir = paths.root / "tor"
    tor_dir.mkdir(mode=0o700, exist_ok=True)
    network = None
    if mode == "attach":
        tor = Tor.attach(os.environ.get("RAAZDAR_TOR_CONTROL", "127.0.0.1:9051"))
    elif mode == "launch":
        tor = Tor.launch(tor_dir / "data")
    elif mode == "private":
        from app.tor.private_network import PrivateNetwork

        network = PrivateNetwork(tor_dir / "private-network")
        network.start()
        try:
            tor = Tor.launch(tor_dir / "private-data", extra=network.join_config())
        except TorError:
            network.stop()
            raise
        served.socks_port = network.socks_port
    else:
        raise TorError(f"unknown tor mode {mode!r}")
    served.onion = tor.publish(tor_dir / "source-onion.key", f"127.0.0.1:{port}")
    if network is not None:
        with contextlib.suppress(TorError):
            network.wait_published(tor, served.onion, timeout=60)
    return tor, network, served


def _report(served: Served, say: Callable[[str], None]) -> None:
    say(f"serving on loopback at {served.url} (bound to 127.0.0.1 only)")
    if served.onion is None:
        say("tor is off or not installed: NOT reachable as an onion service; loopback only")
        return
    say(f"source onion service: http://{served.onion}/")
    if served.tor_mode == "private":
        say(
            "tor mode 'private': a private Tor network on loopback (no internet needed); "
            f"reach the onion through its SOCKS proxy 127.0.0.1:{served.socks_port}, e.g. "
            f"curl --socks5-hostname 127.0.0.1:{served.socks_port} http://{served.onion}/"
        )
    elif served.tor_mode == "launch":
        say("tor mode 'launch': our own tor on the Tor network; publication follows bootstrap")
