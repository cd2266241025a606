"""A circuit the workers ask closed is torn down by tor: the number tor names is its own."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
import socks

from app.operations.tor.closer import CircuitCloser
from app.operations.tor.control import Tor
from app.worker_reads import tor_circuit
from devnet.private_network import LOOPBACK, PrivateNetwork

pytestmark = pytest.mark.tor

TIMEOUT = 30


def _named_circuits(listener: socket.socket, named: list[int]) -> None:
    """Accept connections, note the circuit tor's first line names, answer it (four bytes), and
    keep them open."""
    kept = []
    with contextlib.suppress(OSError):
        while True:
            conn, _ = listener.accept()
            kept.append(conn)
            conn.settimeout(TIMEOUT)
            line = b""
            while not line.endswith(b"\r\n"):
                line += conn.recv(1)
            circuit = tor_circuit(line[:-2])
            if circuit is not None:
                named.append(circuit)
            conn.sendall(struct.pack("<I", 0 if circuit is None else circuit))


def _stream(network: PrivateNetwork) -> socks.socksocket:
    """A stream through the client's SOCKS port, on a circuit of its own (a new username)."""
    stream = socks.socksocket()
    stream.set_proxy(
        socks.SOCKS5,
        LOOPBACK,
        network.socks_port,
        rdns=True,
        username=secrets.token_hex(8),
        password="x",
    )
    stream.settimeout(TIMEOUT)
    return stream


def test_a_circuit_asked_closed_through_the_pipe_is_torn_down(
    network: PrivateNetwork, tmp_path: Path
) -> None:
    """A worker writes the number of the circuit tor named on a connection to the pipe;
    the closer sends CLOSECIRCUIT for it, and the client's stream on it dies: the flooder
    must build a new circuit, and be introduced (and pay) again."""
    listener = socket.create_server((LOOPBACK, 0))
    named: list[int] = []
    threading.Thread(target=_named_circuits, args=(listener, named), daemon=True).start()
    tor = Tor.launch(tmp_path / "tor", extra=network.join_config())
    read, write = os.pipe()
    closer = CircuitCloser(tor.controller, read)
    closer.start()
    stream = _stream(network)
    try:
        [address] = tor.publish_naming_circuits(
            [(tmp_path / "onion.key", tmp_path / "service")],
            f"{LOOPBACK}:{listener.getsockname()[1]}",
        )
        network.wait_published(tor, address, timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                stream.connect((address, 80))
                break
            except (OSError, socks.ProxyError):
                if time.monotonic() > deadline:
                    raise
                stream.close()
                stream = _stream(network)
                time.sleep(1)
        circuit = stream.recv(4)
        assert len(circuit) == 4, "the stream was not answered"
        assert struct.unpack("<I", circuit)[0] in named, named
        os.write(write, circuit)  # as a worker asks (`app.circuits.ask_to_close`)
        stream.settimeout(10)
        try:
            answer = stream.recv(1)
        except TimeoutError:
            answer = b"(still open after 10 s)"
        except OSError:
            answer = b""
        assert answer == b"", f"the stream outlived its circuit: {answer!r}"
        deadline = time.monotonic() + 5
        while closer.closed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert closer.closed == 1, "tor knew no circuit by the number it named"
    finally:
        stream.close()
        os.close(write)
        closer.stop()
        tor.close()
        listener.close()
