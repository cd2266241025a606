"""Sealing a large input: mapped rather than read, its ciphertext written behind on a thread.

Reading a chunk from a file and writing its ciphertext out cost the kernel,
together, almost as much as libsodium spends encrypting it: a copy from the page
cache, a copy into it, and new pages for the output. A large regular file is
therefore mapped, a window at a time (`mapped_input`), so libsodium reads the
page cache in place; and the ciphertext is gathered into a few big buffers that
a writer thread writes out in order while the next ones fill (`Output`). Libsodium and `write`
both run without the GIL (cffi releases it around C calls), so where a core is
free the two overlap; each buffer crossing between cores costs some CPU for
that, so only a whole file handed over at once (`seal`, `write_from`) is written
behind; plaintext pushed piecemeal (an upload streaming through a server's
request thread) and any small envelope are written as they are sealed, on the
caller's thread.

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
from collections.abc import Callable, Generator, Iterator
from typing import Any, BinaryIO, Final

from crypto import constants as C
from crypto.envelope.secretstream import Buffer, Pusher

BLOCK: Final = C.CHUNK_BYTES + C.STREAM_ABYTES
# Chunks per buffer handed to the writer thread, and buffers in flight: about
# 1 MiB of ciphertext ahead of the disk at most, in pieces that stay in cache.
_BATCH_BYTES: Final = 4 * BLOCK
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


class _Writer:
    """One output's writer thread and the queues it shares with it."""

    def __init__(self, dst: BinaryIO, owner: Output) -> None:
        self.todo: queue.Queue[tuple[memoryview, int] | None] = queue.Queue()
        self.free: queue.Queue[memoryview] = queue.Queue()
        self.failed = _Failed()
        for _ in range(_BUFFERS - 1):
            self.free.put(memoryview(bytearray(_BATCH_BYTES)))
        self._thread = threading.Thread(
            target=_write_batches,
            args=(dst, self.todo, self.free, self.failed, weakref.ref(owner)),
            name="envelope-writer",
            daemon=True,
        )
        self._thread.start()

    def send(self, batch: memoryview, size: int) -> memoryview:
        """Queue `size` bytes of `batch` to be written; return a free buffer (waiting for one)."""
        self.todo.put((batch, size))
        return self.free.get()

    def wait(self) -> None:
        """Wait until every batch sent is written: all buffers but the caller's are back."""
        taken = [self.free.get() for _ in range(_BUFFERS - 1)]
        for batch in taken:
            self.free.put(batch)

    def check(self) -> None:
        """Raise the thread's error, if it met one; nothing more is written after it."""
        error = self.failed.error
        if error is not None:
            self.failed.abandoned = True
            raise error

    def stop(self) -> None:
        """End the thread once it has done what it was sent (or skipped it, if abandoned)."""
        self.todo.put(None)
        self._thread.join()


class Output:
    """Ciphertext to `dst` in order, hashed if asked; batched on a writer thread when large."""

    def __init__(self, dst: BinaryIO, hasher: Any = None) -> None:
        self._dst = dst
        self._hasher = hasher
        self.written = 0
        self._direct = 0  # chunks written directly so far
        self._writer: _Writer | None = None
        # Whether a writer thread may be started: for a whole file handed over at
        # once, where someone waits; not for writes pushed piecemeal by a server's
        # request thread, whose machine's other cores serve other requests.
        self.write_behind = False
        self._batch = memoryview(b"")  # the buffer being filled, once batching
        self._fill = 0

    def write(self, data: Buffer) -> None:
        """Append bytes (the header, the signature)."""
        size = len(data)
        if self._writer is None:
            self._write_now(data)
            return
        if self._fill + size > len(self._batch):
            self._hand_over()
        self._batch[self._fill : self._fill + size] = data
        self._fill += size
        self.written += size

    def push(self, pusher: Pusher, chunk: Buffer, tag: int) -> None:
        """Encrypt one chunk with `pusher` straight into the output."""
        if self._writer is None:
            self._write_now(pusher.push(chunk, tag))
            self._direct += 1
            if self._direct >= _DIRECT_BLOCKS and self.write_behind:
                self._batch, self._fill = memoryview(bytearray(_BATCH_BYTES)), 0
                self._writer = _Writer(self._dst, self)
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

    def close(self) -> None:
        """Write everything appended, then stop the writer thread; raise its error, if any."""
        if self._writer is None:
            return
        try:
            if self._fill:
                self._hand_over()
            self._writer.wait()
            self._writer.check()
        finally:
            self._writer.stop()
            self._writer = None

    def abandon(self) -> None:
        """Stop without writing what is still waiting (an aborted envelope never opens anyway)."""
        if self._writer is not None:
            self._writer.failed.abandoned = True
            self._writer.stop()
            self._writer = None
        self._fill = 0

    def _write_now(self, data: Buffer) -> None:
        if self._hasher is not None:
            self._hasher.update(data)
        self._dst.write(data)
        self.written += len(data)

    def _hand_over(self) -> None:
        """Send the current batch to the writer thread and take a free buffer."""
        assert self._writer is not None  # noqa: S101 - only called once batching
        if self._hasher is not None:
            self._hasher.update(self._batch[: self._fill])
        self._batch, self._fill = self._writer.send(self._batch, self._fill), 0
        self._writer.check()


Readinto = Callable[[memoryview], int | None]
# Inputs at least this large are mapped rather than read, a window at a time.
_MAP_AT_LEAST: Final = 1024 * 1024
_WINDOW: Final = 4 * 1024 * 1024  # a multiple of the chunk size


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
def mapped_input(src: BinaryIO | None) -> Iterator[Iterator[tuple[memoryview, bool]] | None]:
    """The rest of `src` as mapped windows (each with whether it is the last), if it is a
    large regular file; else None.

    Each window's pages leave this process's mapping (not the page cache) once the
    next is asked for, so resident memory stays flat however large the file. The
    stream is left positioned after the last window. A file truncated by someone
    else while it is mapped makes reading it fault (SIGBUS): the envelope is then
    left without its final chunk, and never opens.
    """
    if src is None:
        yield None
        return
    try:
        fd, start = src.fileno(), src.tell()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        yield None
        return
    if not stat.S_ISREG(info.st_mode) or info.st_size - start < _MAP_AT_LEAST:
        yield None
        return
    mapping = mmap.mmap(fd, info.st_size, access=mmap.ACCESS_READ)
    windows = _windows(mapping, start, info.st_size)
    try:
        mapping.madvise(mmap.MADV_SEQUENTIAL)
        src.seek(info.st_size)
        yield windows
    finally:
        windows.close()
        # Views a traceback still holds keep the mapping until they go; it is then unmapped.
        with contextlib.suppress(BufferError):
            mapping.close()


def _windows(mapping: mmap.mmap, start: int, end: int) -> Generator[tuple[memoryview, bool]]:
    view = memoryview(mapping)
    try:
        while start < end:
            stop = min(start + _WINDOW, end)
            window = view[start:stop]
            yield window, stop == end
            window.release()
            page = start - start % mmap.PAGESIZE
            mapping.madvise(mmap.MADV_DONTNEED, page, stop - page)
            start = stop
    finally:
        view.release()
