"""No core file of a server process, and no reading of its memory by other processes."""

from __future__ import annotations

import ctypes
import resource
import sys
from typing import Final

# prctl(2): whether a crash may be dumped (and others of this user may trace us).
_PR_SET_DUMPABLE: Final = 4


def forbid_core_dumps() -> None:
    """Let no crash write this process's memory to a core file, nor another process read it.

    A worker's memory holds what a browser source sends while it is sealed, and
    the codename typed at a login, long after the request. The core limit holds
    for every child; a process that is not dumpable is dumped by no crash
    reporter, whatever core_pattern says, and its /proc/PID/mem and environ are
    root's alone. The flag does not survive execve, so gunicorn's master sets it
    again (`app/gunicorn.conf.py`), and the workers it forks inherit it.
    (review/ and submit/ do the same for their own processes.)
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
