"""A reader over an envelope's bytes: lines for the header, exact blocks for the payload.

It can hold back a fixed-size tail (the sender signature) and hash everything it
hands out, so one pass over the input both decrypts and checks the signature.

The look-ahead is one immutable `bytes` object and an offset, and reads are
sized to whole payload blocks: after the first block each one arrives in a
single read and is handed on without a copy. (A sliding `bytearray` here was
reallocated across glibc's mmap threshold on every block, and its page faults
cost a third of the opening speed.)
"""

from __future__ import annotations

from typing import Any, BinaryIO

from crypto import constants as C
from crypto.errors import FormatError

BLOCK = C.CHUNK_BYTES + C.STREAM_ABYTES


class EnvelopeReader:
    """Buffered reading from a binary stream, with an optional held-back tail."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._data = b""
        self._pos = 0
        self._eof = False
        self._hold = 0
        self._hasher: Any = None

    def hold_tail(self, size: int, hasher: Any) -> None:
        """From now on, keep the last `size` bytes back and hash what is handed out."""
        self._hold = size
        self._hasher = hasher

    def _available(self) -> int:
        return len(self._data) - self._pos

    def _fill(self, want: int) -> None:
        need = want + self._hold - self._available()
        while need > 0 and not self._eof:
            data = self._stream.read(max(need, BLOCK))
            if not data:
                self._eof = True
                return
            if self._pos == len(self._data):
                self._data = data
            else:
                self._data = self._data[self._pos :] + data
            self._pos = 0
            need = want + self._hold - self._available()

    def readline(self, limit: int) -> bytes:
        """Return the next line without its LF; a line longer than `limit` is malformed."""
        while True:
            end = self._data.find(b"\n", self._pos, self._pos + limit + 1)
            if end >= 0:
                line = self._data[self._pos : end]
                self._take(end + 1 - self._pos)
                return line
            if self._available() > limit or self._eof:
                raise FormatError("envelope header line is too long or unterminated")
            self._fill(self._available() + 1)

    def read(self, size: int) -> bytes:
        """Return `size` bytes, or fewer only at the end of the input (before the tail)."""
        self._fill(size)
        return self._take(max(0, min(size, self._available() - self._hold)))

    def at_end(self) -> bool:
        """Say whether nothing but the held-back tail remains."""
        self._fill(1)
        return self._available() <= self._hold

    def tail(self) -> bytes:
        """Return the held-back tail once the input is exhausted."""
        self._fill(1)
        if not self._eof or self._available() != self._hold:
            raise FormatError("envelope does not end where expected")
        return self._data[self._pos :]

    def _take(self, size: int) -> bytes:
        if self._pos == 0 and size == len(self._data):
            data, self._data = self._data, b""
        else:
            data = self._data[self._pos : self._pos + size]
            self._pos += size
        if self._hasher is not None:
            self._hasher.update(data)
        return data
