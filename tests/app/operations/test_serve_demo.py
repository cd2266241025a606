"""A demonstration or test instance is never served on the Tor network.

Its reviewer and authority keys lie in the instance's `demo-keys/` under the
passphrase `demo` (a test instance's derivation is fast enough to try every
codename). Served as an onion on the Tor network, it takes real reports that
whoever holds the server, or copies its disk, reads: the demo's own tor mode
is `private` (a private network on loopback) or `off`, and nothing stopped
`serve --tor launch` (which `auto` picks where tor is installed, and which an
installed `raazdar` suggests when it has no private network) or `--tor attach`
to the system's tor.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.errors import ConfigError
from app.instance import InstancePaths
from app.operations import serve as serve_module
from app.operations.tor.control import Tor
from tests.app.live import demo_instance

# How long the attached serve may run before the test stops it (as SIGTERM would).
SERVE_FOR = 20.0


class Started(Exception):
    """gunicorn would start here."""


class Gunicorn:
    """A gunicorn that runs until told to stop (nothing listens: no request is made)."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def terminate(self) -> None:
        self.returncode = -signal.SIGTERM

    def kill(self) -> None:
        self.returncode = -signal.SIGKILL

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode if self.returncode is not None else 0


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return demo_instance(tmp_path / "instance")


@pytest.fixture
def signals() -> Iterator[None]:
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("signals")
@pytest.mark.parametrize(
    ("mode", "relabelled"), [("launch", False), ("auto", False), ("launch", True)]
)
def test_a_demo_instance_is_not_launched_on_the_tor_network(
    instance: Path, monkeypatch: pytest.MonkeyPatch, mode: str, relabelled: bool
) -> None:
    if relabelled:  # "going live" by editing config.json: the demo's keys are still beside it
        config = InstancePaths(instance).config
        config.write_text(json.dumps({**json.loads(config.read_text()), "mode": "production"}))

    def popen(*_args: Any, **_kwargs: Any) -> Any:
        raise Started

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", popen)
    monkeypatch.delenv("RAAZDAR_TOR_CONTROL", raising=False)
    # `auto` launches where tor is installed: one is, here, whether or not the host has it.
    monkeypatch.setattr("app.operations.serve.shutil.which", lambda _name: "/usr/bin/tor")
    said: list[str] = []
    refused: ConfigError | None = None
    try:
        serve_module.serve(instance, port=1, tor_mode=mode, say=said.append)
    except Started:
        pytest.fail("gunicorn started for a demo instance about to be published on the Tor network")
    except ConfigError as exc:
        refused = exc
    assert refused is not None, "serve returned without refusing"
    assert "demonstration" in str(refused)
    assert refused.hint is not None
    assert "--tor private" in refused.hint


@pytest.mark.usefixtures("signals")
@pytest.mark.skipif(shutil.which("tor") is None, reason="tor is not installed")
def test_a_demo_instance_is_not_published_on_an_attached_tor_of_the_tor_network(
    instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system's tor: no testing network (its network is off, so nothing leaves the host).
    tor = Tor.launch(tmp_path / "system-tor", extra={"DisableNetwork": "1"})
    try:
        control = tmp_path / "system-tor" / "control.sock"
        monkeypatch.setenv("RAAZDAR_TOR_CONTROL", str(control.resolve()))
        monkeypatch.setattr("app.operations.serve.subprocess.Popen", Gunicorn)
        # What systemd's SIGTERM does, should serve run.
        stop = threading.Timer(SERVE_FOR, os.kill, (os.getpid(), signal.SIGTERM))
        stop.start()
        said: list[str] = []
        refused: ConfigError | None = None
        try:
            serve_module.serve(instance, port=1, tor_mode="attach", say=said.append)
        except ConfigError as exc:
            refused = exc
        finally:
            stop.cancel()
        published = [line for line in said if line.startswith("source onion service")]
        assert published == [], f"a demo instance was published on the Tor network: {published}"
        assert refused is not None, "serve did not refuse"
        assert "demonstration" in str(refused)
        assert refused.hint is not None
    finally:
        tor.close()
