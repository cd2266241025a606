"""Sealing a large input on three threads: reading ahead, encrypting, writing behind.

Reading a chunk from a file and writing its ciphertext out cost the kernel,
together, almost as much as libsodium spends encrypting it (copies to and from
the page cache, and new pages for the output). All three run without the GIL
(cffi releases it around libsodium calls, file objects around `readinto` and
`write`), so a large input is read into a few big buffers by one thread and its
ciphertext gathered into a few more that another thread writes out in order,
while the caller's thread only encrypts. That costs some CPU (each buffer
crosses between cores) for less time waited, where a core is free. A small
envelope (a report, the first chunks of an upload) is read and written on the
caller's thread: threads are worth starting only for a few hundred kilobytes.

Nothing here changes a byte of the envelope, or its order; the threads only
move what they are handed. Their errors (a full disk) are raised on the
caller's thread at the next buffer, or when the output is closed.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, BinaryIO, Final

from crypto import constants as C
from crypto.envelope.secretstream import Buffer, Pusher

BLOCK: Final = C.CHUNK_BYTES + C.STREAM_ABYTES
# Chunks per buffer handed to the writer thread, and buffers in flight: about
# 1 MiB of ciphertext ahead of the disk at most, in pieces that stay in cache.
_BATCH_BLOCKS: Final = 4
_BUFFERS: Final = 4
# Chunks written directly before the writer thread is started.
_DIRECT_BLOCKS: Final = 8
# How long an idle writer thread waits before checking that its owner still exists.
_IDLE_SECONDS: Final = 10.0


class _Failed:
    """The first error the writer thread met (shared with it, so the thread holds no owner)."""

    error: BaseException | None = None
    abandoned = False


def _write_batches(
    dst: BinaryIO,
    todo: queue.Queue[tuple[memoryview, int] | None],
    free: queue.Queue[memoryview],
    failed: _Failed,
    owner: weakref.ref[Output],
) -> None:
    """Write each batch handed over, in order, and hand its buffer back; stop at None."""
    while True:
        try:
            item = todo.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            if owner() is None:
                return  # the output was dropped without being closed
            continue
        if item is None:
            return
        batch, size = item
        try:
            if failed.error is None and not failed.abandoned:
                dst.write(batch[:size])
        except BaseException as exc:  # raised on the owner's thread
            failed.error = exc
        free.put(batch)


class Output:
    """Ciphertext to `dst` in order, hashed if asked; batched on a writer thread when large."""

    def __init__(self, dst: BinaryIO, hasher: Any = None) -> None:
        self._dst = dst
        self._hasher = hasher
        self.written = 0
        self._direct = 0  # chunks written directly so far
        self._thread: threading.Thread | None = None
        self._todo: queue.Queue[tuple[memoryview, int] | None] = queue.Queue()
        self._free: queue.Queue[memoryview] = queue.Queue()
        self._failed = _Failed()
        self._batch: memoryview | None = None
        self._fill = 0

    def write(self, data: Buffer) -> None:
        """Append bytes (the header, the signature)."""
        size = len(data)
        if self._batch is None:
            self._write_now(data)
            return
        if self._fill + size > len(self._batch):
            self._hand_over()
        if size > len(self._batch):
            self.flush()
            self._write_now(data)
            return
        self._batch[self._fill : self._fill + size] = data
        self._fill += size
        self.written += size

    def push(self, pusher: Pusher, chunk: Buffer, tag: int) -> None:
        """Encrypt one chunk with `pusher` straight into the output."""
        if self._batch is None:
            self._write_now(pusher.push(chunk, tag))
            self._direct += 1
            if self._direct >= _DIRECT_BLOCKS:
                self._start()
            return
        size = len(chunk) + C.STREAM_ABYTES
        if self._fill + size > len(self._batch):
            self._hand_over()
        pusher.push(chunk, tag, into=self._batch[self._fill : self._fill + size])
        self._fill += size
        self.written += size

    def digest(self) -> bytes:
        """The hash of everything appended so far (the output must have been given a hasher)."""
        if self._fill:
            self._hand_over()
        return bytes(self._hasher.digest())

    def flush(self) -> None:
        """Wait until everything appended is written; raise the writer's error, if any."""
        if self._fill:
            self._hand_over()
        if self._thread is not None:
            # Every buffer comes back once the batches before it are written.
            taken = [self._free.get() for _ in range(_BUFFERS - 1)]
            for batch in taken:
                self._free.put(batch)
        self._raise()

    def close(self) -> None:
        """Write everything appended, then stop the writer thread."""
        try:
            self.flush()
        finally:
            self._stop()

    def abandon(self) -> None:
        """Stop without writing what is still waiting (an aborted envelope never opens anyway)."""
        self._failed.abandoned = True
        self._fill = 0
        self._stop()

    def _write_now(self, data: Buffer) -> None:
        if self._hasher is not None:
            self._hasher.update(data)
        self._dst.write(data)
        self.written += len(data)

    def _start(self) -> None:
        """Move to batches written by a writer thread (from the next chunk on)."""
        for _ in range(_BUFFERS - 1):
            self._free.put(memoryview(bytearray(_BATCH_BLOCKS * BLOCK)))
        self._batch, self._fill = memoryview(bytearray(_BATCH_BLOCKS * BLOCK)), 0
        self._thread = threading.Thread(
            target=_write_batches,
            args=(self._dst, self._todo, self._free, self._failed, weakref.ref(self)),
            name="envelope-writer",
            daemon=True,
        )
        self._thread.start()

    def _hand_over(self) -> None:
        """Send the current batch to the writer thread and take a free buffer."""
        assert self._batch is not None  # noqa: S101 - only called once batching
        if self._hasher is not None:
            self._hasher.update(self._batch[: self._fill])
        self._todo.put((self._batch, self._fill))
        self._batch, self._fill = self._free.get(), 0
        self._raise()

    def _raise(self) -> None:
        error = self._failed.error
        if error is not None:
            self._failed.abandoned = True
            raise error

    def _stop(self) -> None:
        if self._thread is not None:
            self._todo.put(None)
            self._thread.join()
            self._thread = None


Readinto = Callable[[memoryview], int | None]


def read_full(readinto: Readinto, target: memoryview) -> int:
    """Fill `target` from a stream, short only at its end; return the bytes read."""
    filled = 0
    while filled < len(target):
        count = readinto(target[filled:])
        if not count:
            break
        filled += count
    return filled


def _read_batches(
    readinto: Readinto,
    free: queue.Queue[memoryview | None],
    filled: queue.Queue[memoryview | BaseException],
) -> None:
    """Fill each free buffer in turn and pass on what it holds, until the input ends."""
    while (buffer := free.get()) is not None:
        try:
            count = read_full(readinto, buffer)
        except BaseException as exc:  # raised on the owner's thread
            filled.put(exc)
            return
        filled.put(buffer[:count])
        if count < len(buffer):
            return


class ReadAhead:
    """Whole-chunk batches of an input, read on a thread a couple of batches ahead."""

    SIZE: Final = _BATCH_BLOCKS * C.CHUNK_BYTES

    def __init__(self, readinto: Readinto) -> None:
        self._free: queue.Queue[memoryview | None] = queue.Queue()
        self._filled: queue.Queue[memoryview | BaseException] = queue.Queue()
        for _ in range(_BUFFERS):
            self._free.put(memoryview(bytearray(self.SIZE)))
        self._thread = threading.Thread(
            target=_read_batches,
            args=(readinto, self._free, self._filled),
            name="envelope-reader",
            daemon=True,
        )
        self._thread.start()

    def next(self) -> memoryview:
        """The next batch: full, or short (possibly empty) when the input ends there."""
        item = self._filled.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def release(self, batch: memoryview) -> None:
        """Hand a batch's buffer back to be read into again."""
        self._free.put(memoryview(batch.obj))

    def close(self) -> None:
        """Stop the reading thread (it may have read a batch no one will ask for)."""
        self._free.put(None)
        self._thread.join()
