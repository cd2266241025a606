"""`raazdar serve` stops every tor it started, even when the stop signal comes twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.operations import serve as serve_module
from tests.app.live import demo_instance
from tests.app.operations.test_serve_demo import Gunicorn, signals  # noqa: F401 - a fixture


class _Controller:
    def close_circuit(self, _circuit: str) -> None:
        pass


class _Tor:
    """The onion services' tor: closed first."""

    def __init__(self) -> None:
        self.controller = _Controller()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Network:
    """The private network's tors. Its stop takes a moment, and the second signal comes in it,
    as `timeout`, `kill -TERM -PGID` or an operator's second Ctrl-C delivers it."""

    socks_port = 1

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the handler runs between these lines
            time.sleep(0.01)
        self.stopped = True


@pytest.mark.usefixtures("signals")
def test_a_second_stop_signal_leaves_no_tor_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handlers went back to the defaults before the tors were stopped: a second SIGINT
    (SIGTERM: the process killed) ended serve inside the network's stop, and the relays it
    had not reached yet, and gunicorn, were left running with nobody to stop them."""
    instance = demo_instance(tmp_path / "instance")
    tor, network = _Tor(), _Network()
    gunicorn: list[Gunicorn] = []

    def popen(*args: Any, **kwargs: Any) -> Gunicorn:
        gunicorn.append(Gunicorn(*args, **kwargs))
        return gunicorn[-1]

    def start_tor(_paths: Any, _how: Any, _ports: Any, served: Any, *_rest: Any) -> Any:
        return tor, network, served

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", popen)
    monkeypatch.setattr(serve_module, "_start_tor", start_tor)
    monkeypatch.setattr("app.operations.tor.private.load", lambda: object)
    first = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    first.start()
    said: list[str] = []
    try:
        status = serve_module.serve(
            instance, port=1, tor_mode="private", say=said.append, sweep_at_start=False
        )
    except KeyboardInterrupt:
        status = None
    finally:
        first.cancel()
    assert tor.closed
    assert network.stopped, "a second stop signal ended serve with the private network running"
    assert gunicorn[0].returncode == -signal.SIGTERM, "gunicorn was left running"
    assert status == 0
    assert said[-1] == "stopped"
