"""A reader over an envelope's bytes: lines for the header, exact blocks for the payload.

It can hold back a fixed-size tail (the sender signature) and hash everything it
hands out, so one pass over the input both decrypts and checks the signature.

The input is read with `readinto` into one buffer allocated once, several
payload blocks at a time, and blocks are handed out as views of it: no block is
copied on its way to libsodium, and no buffer is allocated per block. (A sliding
`bytes` look-ahead here copied every block twice once the header had shifted
the blocks off the reads' boundaries, and a sliding `bytearray` before it was
reallocated across glibc's mmap threshold on every block.)
"""

from __future__ import annotations

from typing import Any, BinaryIO, Final

from crypto import constants as C
from crypto.errors import FormatError

BLOCK: Final = C.CHUNK_BYTES + C.STREAM_ABYTES
# Blocks read at once: a few, so reads are large but the buffer stays in cache.
_READ_BLOCKS: Final = 4


class EnvelopeReader:
    """Buffered reading from a binary stream, with an optional held-back tail."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = bytearray(_READ_BLOCKS * BLOCK + C.ENVELOPE_MAX_HEADER_BYTES)
        self._view = memoryview(self._buffer)
        self._start = 0  # the first byte not yet handed out
        self._end = 0  # the end of what has been read
        self._eof = False
        self._read_size = BLOCK  # until the payload: a header alone needs no more
        self._hold = 0
        self._hasher: Any = None

    def hold_tail(self, size: int, hasher: Any) -> None:
        """From now on, keep the last `size` bytes back and hash what is handed out."""
        self._hold = size
        self._hasher = hasher

    def _available(self) -> int:
        return self._end - self._start

    def _fill(self, want: int) -> None:
        """Read until `want` bytes beyond the held tail are buffered, or the input ends.

        Views handed out earlier are invalid afterwards: the buffer is compacted.
        """
        if self._available() >= want + self._hold or self._eof:
            return
        if self._start:
            self._buffer[: self._available()] = self._view[self._start : self._end]
            self._end -= self._start
            self._start = 0
        while self._end < want + self._hold:
            stop = max(want + self._hold, self._end + self._read_size)
            count = self._read_into(self._view[self._end : stop])
            if not count:
                self._eof = True
                return
            self._end += count

    def _read_into(self, target: memoryview) -> int:
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            return int(readinto(target) or 0)
        data = self._stream.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, limit: int) -> bytes:
        """Return the next line without its LF; a line longer than `limit` is malformed."""
        while True:
            end = self._buffer.find(b"\n", self._start, min(self._end, self._start + limit + 1))
            if end >= 0:
                return bytes(self._take(end + 1 - self._start)[:-1])
            if self._available() > limit or self._eof:
                raise FormatError("envelope header line is too long or unterminated")
            self._fill(self._available() + 1)

    def read(self, size: int) -> bytes:
        """Return `size` bytes, or fewer only at the end of the input (before the tail)."""
        self._fill(size)
        return bytes(self._take(max(0, min(size, self._available() - self._hold))))

    def read_block(self, size: int) -> tuple[memoryview, bool]:
        """Return up to `size` bytes as a view valid until the next call, and whether they
        are the last before the tail (fewer than `size` only at the end)."""
        self._read_size = len(self._buffer)
        self._fill(size + 1)
        block = self._take(max(0, min(size, self._available() - self._hold)))
        return block, self._available() <= self._hold

    def at_end(self) -> bool:
        """Say whether nothing but the held-back tail remains."""
        self._fill(1)
        return self._available() <= self._hold

    def tail(self) -> bytes:
        """Return the held-back tail once the input is exhausted."""
        self._fill(1)
        if not self._eof or self._available() != self._hold:
            raise FormatError("envelope does not end where expected")
        return bytes(self._view[self._start : self._end])

    def _take(self, size: int) -> memoryview:
        data = self._view[self._start : self._start + size]
        self._start += size
        if self._hasher is not None:
            self._hasher.update(data)
        return data
