"""Which process may use an instance now: servers share it, `migrate` takes it alone.

gunicorn's master takes a shared `flock` on the instance directory before it
binds, and its workers inherit it with their fork, so it is held while any of
them lives and the kernel drops it the moment the last one dies (nothing is
written: no file, no time). `raazdar migrate` asks for the lock exclusively
without waiting, and is refused while a server holds it; a server starting
while a migration runs is refused the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from app.errors import InstanceError


class ServerRunning(InstanceError):
    """A server holds the instance: a migration must wait until it is stopped."""

    hint = "stop it first (`systemctl stop raazdar`), then run `raazdar migrate` again"


class MigrationRunning(InstanceError):
    """`raazdar migrate` holds the instance: a server must wait until it is done."""

    hint = "wait for `raazdar migrate` to finish, then start the server again"


def hold_serving(root: Path) -> int:
    """Take the instance's shared lock for this process and its forks; return the descriptor."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise MigrationRunning(
            "`raazdar migrate` is changing this instance's database schema"
        ) from None
    return fd


@contextlib.contextmanager
def alone(root: Path) -> Iterator[None]:
    """Hold the instance's lock exclusively for the block; refuse while a server holds it."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServerRunning(
                "a server is running on this instance: migrating under it would change the "
                "schema its workers write to"
            ) from None
        yield
    finally:
        os.close(fd)
