"""Sealing a large input: mapped rather than read, its ciphertext written behind on a thread.

Reading a chunk from a file and writing its ciphertext out cost the kernel,
together, almost as much as libsodium spends encrypting it: a copy from the page
cache, a copy into it, and new pages for the output. A large regular file is
therefore mapped (`mapped_input`), so libsodium reads the page cache in place,
and the ciphertext is gathered into a few big buffers that a writer thread
writes out in order while the next ones fill (`Output`). Libsodium and `write`
both run without the GIL (cffi releases it around C calls), so where a core is
free the two overlap; each buffer crossing between cores costs some CPU for
that. A small envelope (a report, the first chunks of an upload) is written as
it is sealed, on the caller's thread: a thread is worth starting only for a few
hundred kilobytes.

Nothing here changes a byte of the envelope, or its order; the writer thread
only writes what it is handed. Its errors (a full disk) are raised on the
caller's thread at the next buffer, or when the output is closed.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import queue
import stat
import threading
import weakref
from collections.abc import Callable, Iterator
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
# Inputs at least this large are mapped rather than read.
_MAP_AT_LEAST: Final = 1024 * 1024


def read_full(readinto: Readinto, target: memoryview) -> int:
    """Fill `target` from a stream, short only at its end; return the bytes read."""
    filled = 0
    while filled < len(target):
        count = readinto(target[filled:])
        if not count:
            break
        filled += count
    return filled


@contextlib.contextmanager
def mapped_input(src: BinaryIO) -> Iterator[memoryview | None]:
    """The rest of `src` mapped read-only, if it is a large regular file; else None.

    The stream is left positioned after what the view holds. A file truncated by
    someone else while it is mapped makes reading it fault (SIGBUS): the
    envelope is then left without its final chunk, and never opens.
    """
    try:
        fd, start = src.fileno(), src.tell()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        yield None
        return
    if not stat.S_ISREG(info.st_mode) or info.st_size - start < _MAP_AT_LEAST:
        yield None
        return
    with mmap.mmap(fd, info.st_size, access=mmap.ACCESS_READ) as mapping:
        mapping.madvise(mmap.MADV_SEQUENTIAL)
        view = memoryview(mapping)[start:]
        try:
            src.seek(info.st_size)
            yield view
        finally:
            view.release()
