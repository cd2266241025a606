"""Free loopback ports for the tests that start servers (no import of the app)."""

from __future__ import annotations

import contextlib
import secrets
import socket


def free_port() -> int:
    """Return a loopback port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_port_pair() -> int:
    """Return a loopback port that, with the next one, nothing listens on now.

    `raazdar serve --port P` binds the staff listener on P + 1. Picked by the kernel,
    P lies in the ephemeral range, where P + 1 may be any outgoing connection's local
    port (CI, 6 December: "connection to ('127.0.0.1', P + 1) failed: [Errno 98]
    Address already in use"). Below that range no connection takes one by itself.
    """
    for _ in range(200):
        port = secrets.randbelow(32_768 - 20_000 - 1) + 20_000
        try:
            with contextlib.ExitStack() as probes:
                for candidate in (port, port + 1):
                    probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no two free loopback ports in a row below the ephemeral range")
