"""What a check says (ok, warn or fail, and a sentence), and what the doctor looks at."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from app.operations.serve import GUNICORN_CONF

# What holds the `app` package: the checkout (/opt/raazdar), or site-packages for a wheel.
CODE_DIR: Final = Path(__file__).resolve().parents[3]


class Status(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One check's verdict, in words an administrator can act on."""

    name: str
    status: Status
    message: str


@dataclass(frozen=True)
class Surroundings:
    """What the doctor looks at besides the instance: environment, tor, gunicorn, disks, code."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    tor_binary: str | None = field(default_factory=lambda: shutil.which("tor"))
    gunicorn_conf: Path = GUNICORN_CONF
    mounts: Path = Path("/proc/self/mounts")
    swaps: Path = Path("/proc/swaps")
    block_devices: Path = Path("/sys/block")
    # The host's root: journald's settings under etc/, run/ and usr/lib/, var/log/journal.
    system: Path = Path("/")
    code: Path = CODE_DIR
    clock: Callable[[], float] = time.time
    # The running kernel's release (`uname -r`): what ext4 leaves of a deleted name is its.
    kernel: str = field(default_factory=lambda: os.uname().release)


def guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; a check that breaks is a failure, and the others still run."""
    try:
        return check()
    except Exception as exc:
        return Check(name, Status.FAIL, f"could not be checked: {type(exc).__name__}: {exc}")
