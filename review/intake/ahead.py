"""An import's contents read in worker processes while the import decrypts.

Decrypting and filing run in the importing process; reading each content for its
report's record (`review.analysis.records.read`: entity extraction and the hashes
of its words), the larger part of an import's work, needs nothing of theirs but the
content. So a large import hands each content, as soon as it is decrypted, to
worker processes on the machine's other cores, and finds the readings waiting when
it files the reports. It seals the records of the reports whose readings are in while
the workers read on (`Ahead.ready_first`), so that little is left to it alone once they
have finished; what no worker has started by then, the importer reads itself. A
reading is a function of the content alone: it is the very one the importing process
would make, whichever process makes it. Plaintext goes to the workers through pipes,
in memory, as it stays in the importing process; nothing reaches a disk. A worker that
dies leaves its contents to be read here instead.

Workers are started fresh (`spawn`), not forked: they hold no copy of the keys,
the workspace or any thread of the importing process.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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
        # Batches sent and not yet collected, by the order they were sent in.
        self._sent: dict[int, tuple[list[Content], Future[list[Reading]]]] = {}
        # The batch each content handed over went in, by its identity (kept alive here).
        self._batch_of: dict[int, tuple[Content, int]] = {}
        # Readings by the identity of the content handed over, which they keep alive.
        self._found: dict[int, tuple[Content, Reading]] = {}
        self._reading = False  # set once readings are asked for: no more are handed over
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
        if self._pool is None or self._reading:
            return
        self._batch.append(content)
        if len(self._batch) >= _BATCH:
            self._send()

    def read(self, content: Content) -> Reading:
        """The reading of `content`: as a worker made it (if this very object was handed over),
        or made now. Found by identity, so no text is joined or hashed again to find it."""
        self._start_reading()
        if self._outstanding(content) is not None:
            # Not collected yet: every batch is, reading here those no worker has started.
            while self._sent:
                self._step()
        found = self._found.get(id(content))
        if found is not None and found[0] is content:
            return found[1]
        return read(content, self._words)

    def ready_first(self, groups: Mapping[int, Sequence[Content]]) -> Iterator[int]:
        """Each key of `groups`, those whose contents can all be `read` without waiting first.

        What the caller does with the readings of one group while the workers read
        on is work the importer would otherwise do alone once they have finished.
        When no group is ready, the importer reads a batch no worker has started
        (the last one queued) or, if none is left, waits for a worker's batch.
        """
        self._start_reading()
        waits: dict[int, set[int]] = {}  # a group's batches not yet collected
        groups_of: dict[int, list[int]] = {}  # the groups waiting on a batch
        for key, parts in groups.items():
            batches = {n for c in parts if (n := self._outstanding(c)) is not None}
            if not batches:
                yield key
                continue
            waits[key] = batches
            for n in batches:
                groups_of.setdefault(n, []).append(key)
        while waits:
            # A batch collected by a `read` meanwhile is only announced once all are in.
            for n in self._step() if self._sent else list(groups_of):
                for key in groups_of.pop(n, ()):
                    waits[key].discard(n)
                    if not waits[key]:
                        del waits[key]
                        yield key

    def _start_reading(self) -> None:
        """Send what is left of the last batch, once: from here on contents are only read."""
        if self._reading:
            return
        self._reading = True
        if self._batch and self._pool is not None:
            self._send()

    def _outstanding(self, content: Content) -> int | None:
        """The batch `content` went in, while it is neither collected nor read here."""
        sent = self._batch_of.get(id(content))
        if sent is None or sent[0] is not content or sent[1] not in self._sent:
            return None
        return sent[1]

    def _send(self) -> None:
        assert self._pool is not None  # noqa: S101 - add checks it
        batch, self._batch = self._batch, []
        number = len(self._batch_of)
        self._batch_of.update((id(c), (c, number)) for c in batch)
        self._sent[number] = (batch, self._pool.submit(_read_all, batch))

    def _step(self) -> list[int]:
        """Collect the batches done; if none is, read here the last batch no worker has
        started, or else wait for a worker's. Returns the batches no longer outstanding."""
        done = [n for n, (_, future) in self._sent.items() if future.done()]
        if not done:
            last = max(self._sent)
            batch, future = self._sent[last]
            if future.cancel():
                self._found.update((id(c), (c, read(c, self._words))) for c in batch)
                del self._sent[last]
                self._finish()
                return [last]
            wait([f for _, f in self._sent.values()], return_when=FIRST_COMPLETED)
            done = [n for n, (_, future) in self._sent.items() if future.done()]
        for n in done:
            contents, future = self._sent.pop(n)
            try:
                readings = future.result()
            except BrokenProcessPool:
                continue  # a worker died (out of memory, killed): these are read here
            self._found.update((id(c), (c, r)) for c, r in zip(contents, readings, strict=True))
            self.pooled += len(contents)
        self._finish()
        return done

    def _finish(self) -> None:
        """Stop the workers once no batch is left to them."""
        if not self._sent:
            self.close()
