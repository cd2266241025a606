"""How tests/run.sh's two pytest-xdist workers share the suite: by file, and the Tor tier whole.

A file's tests run on one worker, so its module fixtures (a browser, a live server) are
made once; the Tor tier (tests/tor/, and any file that borrows its session fixtures)
runs on one, so its private network is started once. pytest-xdist's own `loadgroup`
cannot do this under pytest 9.2: it groups by rewriting each test's node id, which
pytest 9.2 no longer lets a plugin do, and so every file was spread over both workers.
"""

from __future__ import annotations

import functools
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TOR_TIER = "tests/tor/"


class ByFileTorTogether(LoadScopeScheduling):  # type: ignore[misc]  # untyped base
    """LoadScopeScheduling whose scope is the test's file, or "tor" for the Tor tier."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return "tor" if in_tor_tier(path) else path


@functools.cache
def in_tor_tier(path: str) -> bool:
    """Whether the test file at `path` (from the root) is, or borrows from, the Tor tier."""
    if path.startswith(TOR_TIER):
        return True
    try:
        source = (Path(__file__).resolve().parents[1] / path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "from tests.tor" in source
