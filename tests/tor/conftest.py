"""Fixtures of the Tor tier: one private Tor network per session, and the instance behind it.

Starting the network costs about 10-15 s and a few CPU-seconds, so it is
session-scoped; so are the demo instance, its gunicorn and the service tor
that publishes the instance's source onion.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from stem.control import EventType

from app.operations.tor.control import Tor
from devnet.private_network import PrivateNetwork
from tests.app.live import demo_instance, live_server

log = logging.getLogger(__name__)


@dataclass
class Service:
    """The instance's source onion, published by a service tor on the private network."""

    tor: Tor
    address: str
    target: str
    tor_dir: Path
    published_after: float
    pow_events: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def _require_tor() -> None:
    """Skip without tor, except in CI, where a silently skipped tier would hide a broken setup."""
    missing = [b for b in ("tor", "tor-gencert") if shutil.which(b) is None]
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {' and '.join(missing)} not installed: the Tor tier must run")
    pytest.skip(f"{' and '.join(missing)} not installed")


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateNetwork]:
    """A private Tor network on loopback, with a client whose SOCKS port reaches it."""
    _require_tor()
    started = time.monotonic()
    net = PrivateNetwork(tmp_path_factory.mktemp("tor-network"))
    with net.start(timeout=120):
        log.info("private Tor network started in %.1f s", time.monotonic() - started)
        yield net


@pytest.fixture(scope="session")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo instance (its reviewer key is in demo-keys/, passphrase `demo`)."""
    return demo_instance(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def server(instance: Path) -> Iterator[str]:
    """gunicorn serving the instance on a free loopback port; yields its base URL."""
    with live_server(instance) as url:
        yield url


@pytest.fixture(scope="session")
def service(network: PrivateNetwork, instance: Path, server: str) -> Iterator[Service]:
    """The instance's source onion (key in <instance>/tor/), with PoW defences, published."""
    tor_dir = instance / "tor"
    tor_dir.mkdir(mode=0o700, exist_ok=True)
    target = server.removeprefix("http://").rstrip("/")
    started = time.monotonic()
    tor = Tor.launch(tor_dir / "service", extra=network.join_config())
    pow_events: list[str] = []

    def on_info(event: Any) -> None:
        if "pow" in str(event.message).lower():
            pow_events.append(str(event.message))

    try:
        # Listening from before the only onion of this tor is added, and until it is
        # published, so whatever it says about PoW is about this onion.
        tor.controller.add_event_listener(on_info, EventType.INFO)
        address = tor.publish(tor_dir / "source-onion.key", target, pow_defence=True)
        network.wait_published(tor, address, timeout=60)
        tor.controller.remove_event_listener(on_info)
        published_after = time.monotonic() - started
        log.info("source onion published %.1f s after its tor was launched", published_after)
        yield Service(tor, address, target, tor_dir, published_after, pow_events)
    finally:
        tor.close()
