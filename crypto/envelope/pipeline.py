"""Where sealed chunks go (`Output`), and how a whole input is read (`read_full`).

Every chunk is encrypted and written on the caller's thread, as it comes. A
large file handed over at once (`seal`, `SealingWriter.write_from`) is read a
chunk at a time straight into one of the pusher's two inboxes, where OpenSSL
encrypts it in place (`Pusher.push_inbox`): one copy by the kernel in, one out,
and none in between. Earlier passes mapped the file instead and wrote the
ciphertext behind on a second thread; with OpenSSL's AEAD, which holds the GIL,
the two threads took turns more than they overlapped, and reading in place cost
less CPU than mapping (docs/benchmarks.md, the envelope's fourth pass).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from crypto.envelope.secretstream import Buffer, Pusher

Readinto = Callable[[memoryview], int | None]


class Output:
    """Ciphertext to `dst` in order, hashed if asked, counted."""

    def __init__(self, dst: BinaryIO, hasher: Any = None) -> None:
        self._dst = dst
        self._hasher = hasher
        self.written = 0

    def write(self, data: Buffer) -> None:
        """Append bytes (the header, a chunk's ciphertext, the signature)."""
        if self._hasher is not None:
            self._hasher.update(data)
        self._dst.write(data)
        self.written += len(data)

    def push(self, pusher: Pusher, chunk: Buffer, tag: int) -> None:
        """Encrypt one chunk with `pusher` and append its ciphertext."""
        self.write(pusher.push(chunk, tag))

    def push_inbox(self, pusher: Pusher, which: int, size: int, tag: int) -> None:
        """Encrypt the chunk read into `pusher.inbox(which)` and append its ciphertext."""
        self.write(pusher.push_inbox(which, size, tag))

    def digest(self) -> bytes:
        """The hash of everything appended so far (the output must have been given a hasher)."""
        return bytes(self._hasher.digest())


def read_full(readinto: Readinto, target: memoryview) -> int:
    """Fill `target` from a stream, short only at its end; return the bytes read."""
    filled = readinto(target) or 0  # a file's read is whole but at its end: no slice then
    while filled and filled < len(target):
        count = readinto(target[filled:])
        if not count:
            break
        filled += count
    return filled
