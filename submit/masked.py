"""An unfinished upload's envelope on the disk: masked there, plain to whoever reads or writes it.

Kept as they are, a pending envelope's bytes and hash are those the server
records under the source's account: whoever seizes both ties the device to the
account without the codename. Masked under a key that only the codename's
sealed state holds (`Pending.mask`, `crypto.mask`), they match nothing the
server has. Any range reads on its own, so an upload resumes at any offset.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, cast

from crypto.mask import masked


class MaskedFile(io.RawIOBase):
    """`raw` seen through the mask of (`key`, `stream`); with no key, `raw` as it is."""

    def __init__(self, raw: BinaryIO, key: bytes | None, stream: int) -> None:
        super().__init__()
        self._raw = raw
        self._key = key
        self._stream = stream

    def readable(self) -> bool:
        return self._raw.readable()

    def writable(self) -> bool:
        return self._raw.writable()

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def _through(self, offset: int, data: bytes) -> bytes:
        return data if self._key is None else masked(self._key, self._stream, offset, data)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        offset = self._raw.tell()
        data = self._through(offset, self._raw.read(len(buffer)))
        buffer[: len(data)] = data
        return len(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        offset = self._raw.tell()
        plain = bytes(data)
        self._raw.write(self._through(offset, plain))
        return len(plain)


def stream_of(path: Path) -> int:
    """An envelope's keystream: its number in the pending directory (`3.rze`: 3)."""
    return int(path.name.split(".", 1)[0])


def unmasked(raw: BinaryIO, key: bytes | None, stream: int) -> BinaryIO:
    """`raw` as a plain binary file: what is read from it unmasked, what is written masked."""
    return cast(BinaryIO, MaskedFile(raw, key, stream))
