"""A key that lives for one run of the server, in memory only.

Throttle windows and spent TOTP steps are stored as tags under it: they work
while the server runs, and a copy of the database says nothing about when
they were written, not even after the key is gone. gunicorn's config makes the
key in its master process (`ensure`), so every worker it forks shares it; a
process without one (the CLI, a test's app) makes its own.
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
    """The key of this run, and the time it was made."""

    key: bytes
    started: float

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


def current() -> RunKey:
    """Return this run's key (making one for this process if none was handed down)."""
    raw = ensure()
    key_hex, _, started = raw.partition(":")
    try:
        return RunKey(bytes.fromhex(key_hex), float(started))
    except ValueError:
        # Not one of ours: replace it rather than fail a login.
        os.environ.pop(ENV)
        return current()
