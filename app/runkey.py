"""A key that lives for one run of the server, in memory only.

Throttle windows and spent TOTP steps are stored as tags under it: they work
while the server runs, and a copy of the database says nothing about when
they were written, not even after the key is gone. gunicorn's config makes the
key in its master process (`ensure`), so every worker it forks shares it; a
process without one (the CLI, a test's app) makes its own.

App hosts on one database pass the oldest of their keys around (`app.runshare`),
so that every host reads every other's tags; `current` is that shared key once
this host has taken it up (`adopt`). A tag this run cannot read may be one
written moments ago under another host's key: from the moment a run begins,
takes up a key or meets a new host (`doubt`), such tags count as recent for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from typing import Final

from app import environment

ENV: Final = "RAAZDAR_RUN_KEY"
# Tags are stored in integer columns: 31 bits fit every database's INTEGER.
_TAG_BITS: Final = 31


@dataclass(frozen=True)
class RunKey:
    """The key of this run, the time it was made, and since when an unread tag may be recent."""

    key: bytes
    started: float
    # From this moment on, a tag this run cannot read may have been written by another
    # host's run: the run began then, took up another key, or met another host.
    since: float = 0.0

    def tag(self, label: str, *parts: object) -> int:
        """Return a tag of `parts` under this run's key: a positive 31-bit number, never 0."""
        message = "\x1f".join([label, *map(str, parts)]).encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") % ((1 << _TAG_BITS) - 1) + 1


def ensure() -> str:
    """Make this run's key if the environment has none; processes started from here inherit it."""
    if not environment.get(ENV):
        os.environ[ENV] = f"{secrets.token_hex(32)}:{time.time():.0f}"
    return environment.get(ENV)


# By this host's own key (a test runs several hosts in one process): the key it took
# up from another host, and when it last had reason to doubt a tag it cannot read.
_adopted: dict[bytes, RunKey] = {}
_doubted: dict[bytes, float] = {}


def own() -> RunKey:
    """Return this host's own run key (making one for this process if none was handed down)."""
    raw = ensure()
    key_hex, _, started = raw.partition(":")
    try:
        return RunKey(bytes.fromhex(key_hex), float(started), float(started))
    except ValueError:
        # Not one of ours: replace it rather than fail a login.
        os.environ.pop(ENV)
        return own()


def current() -> RunKey:
    """Return the run key tags are made under: the one shared by the hosts, or this host's own."""
    mine = own()
    shared = _adopted.get(mine.key, mine)
    since = max(mine.started, _doubted.get(mine.key, 0.0))
    return RunKey(shared.key, shared.started, since)


def adopt(key: RunKey) -> None:
    """Make tags from now on under `key`, another host's (older) run key."""
    mine = own()
    _adopted[mine.key] = RunKey(key.key, key.started)
    doubt()


def doubt() -> None:
    """Count a tag this run cannot read as a recent one for a while, from now."""
    _doubted[own().key] = time.time()
