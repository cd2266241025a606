"""The pipe through which workers ask tor to close a circuit: circuits in, CLOSECIRCUIT out."""

from __future__ import annotations

import os
import struct
import time

import stem

from app.operations.tor import closer
from app.operations.tor.closer import CircuitCloser


class _Controller:
    """stem's controller as far as the closer uses it: the circuits it was asked to close."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    def close_circuit(self, circuit_id: str) -> None:
        if circuit_id == "404":
            raise stem.InvalidArguments(message='Unknown circuit "404"')
        self.closed.append(circuit_id)


def test_only_whole_circuit_ids_reach_tor_and_at_a_bounded_rate() -> None:
    """Each four bytes written are one circuit, closed by number (nothing else a worker
    writes reaches tor's control connection); one gone already is passed over; past
    `CLOSES_PER_SECOND` in a second the rest are dropped; the thread ends with the pipe."""
    controller = _Controller()
    read, write = os.pipe()
    closing = CircuitCloser(controller, read)
    closing.start()
    many = closer.CLOSES_PER_SECOND * 3
    os.write(write, struct.pack("<I", 7) + struct.pack("<I", 404) + b"\x01\x00")
    os.write(write, b"\x00\x00" + b"".join(struct.pack("<I", 1000 + i) for i in range(many)))
    started = time.monotonic()
    os.close(write)
    closing.stop()
    assert not closing._thread.is_alive(), "the closer outlived its pipe"
    assert controller.closed[:3] == ["7", "1", "1000"]
    if time.monotonic() - started < 0.9:  # all read within one second
        assert len(controller.closed) <= closer.CLOSES_PER_SECOND, len(controller.closed)
    assert all(c.isdigit() for c in controller.closed)
