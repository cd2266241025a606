"""A reader over an envelope's bytes: lines for the header, exact blocks for the payload.

It can hold back a fixed-size tail (the sender signature) and hash everything it
hands out, so one pass over the input both decrypts and checks the signature.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from crypto import constants as C
from crypto.errors import FormatError

_READ_SIZE = C.CHUNK_BYTES + C.STREAM_ABYTES + 1


class EnvelopeReader:
    """Buffered reading from a binary stream, with an optional held-back tail."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._eof = False
        self._hold = 0
        self._hasher: Any = None

    def hold_tail(self, size: int, hasher: Any) -> None:
        """From now on, keep the last `size` bytes back and hash what is handed out."""
        self._hold = size
        self._hasher = hasher

    def _fill(self, want: int) -> None:
        while not self._eof and len(self._buf) < want + self._hold:
            data = self._stream.read(max(_READ_SIZE, want + self._hold - len(self._buf)))
            if not data:
                self._eof = True
            else:
                self._buf += data

    def readline(self, limit: int) -> bytes:
        """Return the next line without its LF; a line longer than `limit` is malformed."""
        while True:
            end = self._buf.find(b"\n", 0, limit + 1)
            if end >= 0:
                line = bytes(self._buf[:end])
                self._consume(end + 1)
                return line
            if len(self._buf) > limit or self._eof:
                raise FormatError("envelope header line is too long or unterminated")
            self._fill(len(self._buf) + 1)

    def read(self, size: int) -> bytes:
        """Return `size` bytes, or fewer only at the end of the input (before the tail)."""
        self._fill(size)
        available = len(self._buf) - self._hold
        take = max(0, min(size, available))
        data = bytes(self._buf[:take])
        self._consume(take)
        return data

    def at_end(self) -> bool:
        """Say whether nothing but the held-back tail remains."""
        self._fill(1)
        return len(self._buf) <= self._hold

    def tail(self) -> bytes:
        """Return the held-back tail once the input is exhausted."""
        self._fill(1)
        if not self._eof or len(self._buf) != self._hold:
            raise FormatError("envelope does not end where expected")
        return bytes(self._buf)

    def _consume(self, size: int) -> None:
        if self._hasher is not None:
            self._hasher.update(memoryview(self._buf)[:size])
        del self._buf[:size]
