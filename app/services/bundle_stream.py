"""A bundle written straight into its download, so that it takes no room on the server's disk.

The staff pages' export wrote its bundle whole into the store before sending it. After
a flood filled the disk to its floor (`EnvelopeStore.space_above_floor`), every such
export met a full disk and was answered busy, so no report reached the reviewers, and
no acknowledgement came back to free the disk, until an administrator wrote one with
`raazdar export --out` at a shell.

The writer (`export_bundle`) runs on a thread of its own, with its own app context and
session, and hands each piece it writes to the response only when the response asks
for the next, so it is never more than one piece ahead of what the server sent. The
last piece is held back until the writer has committed, and the writer commits only
once every piece before it was taken (`_Sink.flush`): a download cut before that (the
browser closed, the circuit lost) marks nothing exported; one cut within the last
piece is a bundle lost on the way, which the next export carries again (PROTOCOL
§13.1, §13.8).

While the writer waits for the response to ask, it holds nothing the rest of the server
waits for: the store's lock is let go (`apart`: a download read a byte a minute held
the sweep), and it asks every `CHECK_EVERY` seconds, and before each piece, whether the
download may go on (`goes_on`: a colleague removed as she downloaded got every piece but
the last). Either cuts the download as a browser that went away does.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Final

from flask import Flask

log = logging.getLogger(__name__)

# How long the writer waits for the response to take a piece (seconds): a download stalled
# longer is taken as cut, so that no writer thread waits for ever (it holds no lock and no
# transaction meanwhile: `apart`, `export_bundle`).
STALLED: Final = 15 * 60
# How often a writer waiting for the response asks `goes_on` (seconds): a download whose
# login ended stops within this (and a piece, `_Sink.write`), though its browser reads nothing.
CHECK_EVERY: Final = 1.0

# A writer of a bundle into `dst`, telling its size before its first byte (`on_size`).
Writer = Callable[[Any, Callable[[int], None]], object]


class DownloadCut(Exception):
    """The browser stopped taking the download before its end."""


class _Sink:
    """Where the writer writes: each piece goes to the response but the last, held back."""

    def __init__(self, stream: BundleStream) -> None:
        self._stream = stream
        self.held = b""

    def write(self, data: bytes) -> int:
        if self.held:
            self._stream.asked()
            self._stream.pieces.put(("piece", self.held))
        self.held = bytes(data)
        return len(data)

    def flush(self) -> None:
        """Wait until the response took every piece but the last (the writer commits next)."""
        self._stream.asked()

    def fileno(self) -> int:
        raise io.UnsupportedOperation("a download has no file")


class BundleStream:
    """A bundle's pieces for a response, its size known before the first (`start`).

    `goes_on` says whether the download may go on (its login still stands); `apart` is
    what the writer lets go of while it waits for the browser, raising `DownloadCut` as
    it takes it back if what it read meanwhile was moved. Both run on the writer's thread.
    """

    def __init__(
        self,
        app: Flask,
        write: Writer,
        *,
        goes_on: Callable[[], bool] = lambda: True,
        apart: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        self._goes_on = goes_on
        self._apart = apart
        self.pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        # True: the response asks for the next piece; False: it stopped taking them.
        self._asks: queue.Queue[bool] = queue.Queue()
        self._sink = _Sink(self)
        # Run in the request's context: its database writes count as the request's, and the
        # WAL is emptied once the response is closed (`app.db.EmptiedAfterResponse`; the
        # export's confirmation has written already), not on the writer's thread while the
        # request runs.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, app, write), name="raazdar-export", daemon=True
        )
        self.size = 0

    def _run(self, app: Flask, write: Writer) -> None:
        try:
            with app.app_context():
                write(self._sink, lambda size: self.pieces.put(("size", size)))
        except DownloadCut as cut:
            log.info("export: the download was cut short (%s); nothing was marked exported", cut)
            self.pieces.put(("cut", None))
        except BaseException as exc:  # handed to the request's thread, which says it
            self.pieces.put(("error", exc))
        else:
            self.pieces.put(("done", None))

    def asked(self) -> None:
        """Wait (on the writer's thread) until the response asks for the next piece, holding
        nothing meanwhile (`apart`); raise `DownloadCut` if the download may not go on."""
        with self._apart():
            self._wait_for_ask()

    def _wait_for_ask(self) -> None:
        deadline = time.monotonic() + STALLED
        while True:
            left = deadline - time.monotonic()
            try:
                asked: bool | None = self._asks.get(timeout=max(min(CHECK_EVERY, left), 0))
            except queue.Empty:
                asked = None
            if asked is False:
                raise DownloadCut("the response was closed")
            if not self._goes_on():
                raise DownloadCut("its login ended")
            if asked:
                return
            if left <= CHECK_EVERY:
                raise DownloadCut("stalled")

    def start(self) -> None:
        """Run the writer until it knows the size; what it raises before that is raised here."""
        self._thread.start()
        kind, value = self.pieces.get()
        if kind == "error":
            self._thread.join()
            raise value
        if kind != "size":
            raise RuntimeError("the bundle's writer ended without telling its size")
        self.size = value

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self._asks.put(True)
            kind, value = self.pieces.get()
            if kind == "piece":
                yield value
                continue
            if kind == "done":
                break
            # Headers are sent: the size left short says the download failed; nothing was
            # committed, so nothing is marked exported. Raised as a broken pipe, which the
            # server meets by closing the connection (quietly, as a client gone): ended
            # quietly here, the connection was kept, short of the size its headers named,
            # and the browser waited on it, or read the next answer as the bundle's end.
            log.warning("export: stopped before its last piece (%s)", type(value).__name__)
            raise BrokenPipeError(errno.EPIPE, "the export stopped before its end")
        yield self._sink.held

    @property
    def writing(self) -> bool:
        """Whether the writer's thread still runs."""
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the writer's thread to end, at most `timeout` seconds."""
        self._thread.join(timeout)

    def close(self) -> None:
        """Stop the writer if it has not finished (the response closed early), and wait for it."""
        if self._thread.is_alive():
            self._asks.put(False)
            self._thread.join()
