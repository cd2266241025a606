"""One lock shared by every thread of every gunicorn worker on this host.

`app.circuits` and `app.kdf_pool` keep their tables in memory the gunicorn
master maps before forking. Reading a cell and then writing it are two steps:
two workers (or two threads of one) that both read before either wrote each
acted as if alone, and one circuit made two accounts in its minute, or held
more places than its share. A step taken under a `HostLock` is one step.

A thread lock orders this process's threads; a POSIX record lock
(`fcntl.lockf`) on an anonymous file in memory, made before the fork, orders
the processes. The kernel drops a process's record lock the moment it dies,
so a killed worker never leaves the lock held, and nothing touches a disk.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from types import TracebackType
from typing import Final

# How long a lock the kernel called a deadlock is waited for before it is asked again.
_DEADLOCK_PAUSE: Final = 0.001


class HostLock:
    """A lock held by one thread on this host at a time; made at import, before the fork."""

    def __init__(self, name: str) -> None:
        self._fd = os.memfd_create(name, os.MFD_CLOEXEC)
        self._threads = threading.Lock()
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        # A thread of the parent that held it at the fork does not exist in the child.
        self._threads = threading.Lock()

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            while True:
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX)
                    return
                except OSError as exc:
                    if exc.errno != errno.EDEADLK:
                        raise
                # The kernel looks for deadlocks between processes, not threads: this
                # worker's one thread holding another host lock, while a worker that holds
                # this one waits for that, is a cycle to it, though that thread lets its
                # lock go waiting for nothing. Raised in the main loop, it ended the worker
                # and every connection it held (tests/app/test_worker_crashes.py).
                time.sleep(_DEADLOCK_PAUSE)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()
