"""An import's contents read in worker processes while the import decrypts.

Decrypting and filing run in the importing process; reading each content for its
report's record (`review.analysis.records.read`: entity extraction and the hashes
of its words), the larger part of an import's work, needs nothing of theirs but the
content. So a large import hands each content, as soon as it is decrypted, to
worker processes on the machine's other cores, and finds the readings waiting when
it files the reports; what no worker has started by then, the importer reads itself
while the workers finish. A reading is a function of the content alone: it is the very
one the importing process would make, whichever process makes it. Plaintext goes to
the workers through pipes, in memory, as it stays in the importing process; nothing
reaches a disk. A worker that dies leaves its contents to be read here instead.

Workers are started fresh (`spawn`), not forked: they hold no copy of the keys,
the workspace or any thread of the importing process.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final

from review.analysis.copies import WordHashes
from review.analysis.records import Reading, read
from review.casework.reports import Content

# Below this many items an import reads in its own process: starting a worker
# (an interpreter, the gazetteers, the pipes) costs about what a thousand reports take.
POOL_MIN: Final = 2000
# Contents sent to a worker at once: few enough round trips, soon enough to start.
_BATCH: Final = 100
_MOST_WORKERS: Final = 4


@functools.cache
def _words() -> WordHashes:
    """A worker's cache of word hashes, kept from one batch to the next."""
    return WordHashes()


def _warm() -> None:
    """Load the gazetteers in a new worker before its first contents arrive."""
    read(Content(message="SHO Rana Tariq, Thana Saddar Lahore"), WordHashes())


def _read_all(contents: list[Content]) -> list[Reading]:
    return [read(content, _words()) for content in contents]


def workers() -> int:
    """How many worker processes an import may use: every core but the importer's own."""
    return min((os.cpu_count() or 1) - 1, _MOST_WORKERS)


class Ahead:
    """Contents handed over as they come, their readings fetched when first asked for.

    Use as a context manager, or `close`: that stops the workers, whatever happened.
    """

    def __init__(self, items: int) -> None:
        count = workers() if items >= POOL_MIN else 0
        self._pool = (
            ProcessPoolExecutor(
                count, mp_context=multiprocessing.get_context("spawn"), initializer=_warm
            )
            if count > 0
            else None
        )
        self._batch: list[Content] = []
        self._sent: list[tuple[list[Content], Future[list[Reading]]]] = []
        # Readings by the identity of the content handed over, which they keep alive.
        self._found: dict[int, tuple[Content, Reading]] | None = None
        self._words = WordHashes()  # for contents read here
        self.pooled = 0  # contents a worker read

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; contents not yet read are dropped with them."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def add(self, content: Content) -> None:
        """Hand over a content whose reading will be asked for (ignored without workers)."""
        if self._pool is None or self._found is not None:
            return
        self._batch.append(content)
        if len(self._batch) >= _BATCH:
            self._send()

    def read(self, content: Content) -> Reading:
        """The reading of `content`: as a worker made it (if this very object was handed over),
        or made now. Found by identity, so no text is joined or hashed again to find it."""
        if self._found is None:
            self._found = self._gather()
        found = self._found.get(id(content))
        if found is not None and found[0] is content:
            return found[1]
        return read(content, self._words)

    def _send(self) -> None:
        assert self._pool is not None  # noqa: S101 - add checks it
        batch, self._batch = self._batch, []
        self._sent.append((batch, self._pool.submit(_read_all, batch)))

    def _gather(self) -> dict[int, tuple[Content, Reading]]:
        """Collect every reading, reading here what no worker has started.

        By now the importer has nothing else to do: rather than wait, it reads the
        batches still queued, from the last back, while the workers finish theirs.
        """
        found: dict[int, tuple[Content, Reading]] = {}
        unsent, self._batch = self._batch, []
        self._read_here(unsent, found)
        while self._sent and self._sent[-1][1].cancel():
            self._read_here(self._sent.pop()[0], found)
        for contents, future in self._sent:
            try:
                readings = future.result()
                found.update((id(c), (c, r)) for c, r in zip(contents, readings, strict=True))
                self.pooled += len(contents)
            except BrokenProcessPool:
                continue  # a worker died (out of memory, killed): these are read here
        self._sent = []
        self.close()
        return found

    def _read_here(
        self, contents: list[Content], found: dict[int, tuple[Content, Reading]]
    ) -> None:
        """Read `contents` in this process, into `found`."""
        found.update((id(c), (c, read(c, self._words))) for c in contents)
