"""Circuits the workers ask tor to tear down, over a pipe that carries nothing else.

tor's proof-of-work defence prices an introduction, a new circuit: a flooder who
keeps one open and sends past its pace (`app.circuits.take_circuit_turn`) is answered
busy, and goes on sending, never paying again. A worker that has refused one circuit
`app.circuits.CLOSE_AFTER_REFUSALS` times (`app.circuits.Refusals`) writes its id (four
bytes) to a pipe `raazdar serve` made; here, in the process that holds tor's control connection,
each id read is closed (`CLOSECIRCUIT`), so the flooder must be introduced again, and
pay again.

The pipe is the workers' whole channel to tor: four bytes, a circuit, and nothing a
worker writes reaches tor but `CLOSECIRCUIT <number>`. (A worker running as the same
user could read tor's cookie anyway, where serve started tor itself: the pipe asks
for no more than what it needs, and gives a compromised worker no more.) At most
`CLOSES_PER_SECOND` are closed; the rest of a second's asks are dropped.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
from typing import Any, Final

import stem

# How many circuits are closed a second at most (a flood of asks costs tor that much).
CLOSES_PER_SECOND: Final = 20
_RECORD: Final = struct.Struct("<I")


class CircuitCloser:
    """A thread reading circuit ids from `read_fd` and closing each through `controller`."""

    def __init__(self, controller: Any, read_fd: int) -> None:
        self._controller = controller
        self._fd = read_fd
        self._thread = threading.Thread(target=self._run, name="circuit-closer", daemon=True)
        self.closed = 0

    def start(self) -> None:
        """Start reading (until the pipe's write ends are all closed, or `stop`)."""
        self._thread.start()

    def stop(self) -> None:
        """Let the thread end (once gunicorn is gone, its workers' write ends with it, the
        pipe ends), then close the read end."""
        self._thread.join(timeout=1)
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _run(self) -> None:
        pending = b""
        second, count = 0, 0
        while True:
            try:
                data = os.read(self._fd, 4096)
            except OSError:
                return
            if not data:
                return
            pending += data
            whole = len(pending) - len(pending) % _RECORD.size
            records, pending = pending[:whole], pending[whole:]
            for (circuit,) in _RECORD.iter_unpack(records):
                now = int(time.monotonic())
                if now != second:
                    second, count = now, 0
                if count >= CLOSES_PER_SECOND:
                    continue
                count += 1
                self.close_circuit(circuit)

    def close_circuit(self, circuit: int) -> bool:
        """Ask tor to close `circuit` (gone already: nothing to do); say whether it did."""
        try:
            self._controller.close_circuit(str(circuit))
        except (stem.ControllerError, ValueError):
            return False
        self.closed += 1
        return True
