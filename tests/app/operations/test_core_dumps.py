"""A worker's memory holds what a browser source sent (plaintext, the codename) while it is
sealed, and after: neither a crash nor another process of the service's user may read it.

The attack: the server runs outside systemd's `LimitCORE=0` (`raazdar serve` from
a shell, a container, a distribution with a crash reporter, or a unit someone
copied without it). A source sends a report through the browser form. A crash of
a worker (a SIGSEGV stands for a fault in a C library it loads) writes the
worker's memory to a core file, and a seizer reads the report from the disk. Or
an operator with a shell as the `raazdar` user (`sudo -u raazdar`, as
deploy/README.md's alias has every administrator run commands) reads it straight
from /proc/PID/mem, which the kernel lets any process of the same user read.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.app.flood import Browser, inputs
from tests.app.live import ROOT, demo_instance
from tests.ports import free_port

CANARY: Final = "canary-C0RE-serv3r"
# `raazdar` from this tree (the installed script may import another checkout's).
RAAZDAR: Final = (sys.executable, "-c", "from app.cli.base import run; run()")
START_TIMEOUT: Final = 120.0
# prctl(2): take a capability out of the bounding set, so no exec grants it again.
_PR_CAPBSET_DROP: Final = 24
# Another process of the server's user reads a worker's writable memory; it prints
# "read" when `needle` is there, "denied" when the kernel refuses, "absent" otherwise.
_READER: Final = """
import sys
pid, needle = sys.argv[1], sys.argv[2].encode()
try:
    maps = open(f"/proc/{pid}/maps").read().splitlines()
    memory = open(f"/proc/{pid}/mem", "rb", buffering=0)
except PermissionError:
    print("denied")
    raise SystemExit
for line in maps:
    span, perms = line.split()[:2]
    if perms.startswith("rw"):
        start, end = (int(x, 16) for x in span.split("-"))
        try:
            memory.seek(start)
            if needle in memory.read(end - start):
                print("read")
                raise SystemExit
        except (OSError, ValueError, OverflowError):
            pass
print("absent")
"""


def _unprivileged() -> None:
    """No capability after the next exec, as the service's user has none (the suite may be root).

    Two processes of one user, neither privileged: what the kernel lets one see of the other.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for capability in range(64):
        prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)  # past the last one: EINVAL, ignored


def _shell() -> None:
    """The operator's shell: `ulimit -c unlimited`, and no privilege."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    _unprivileged()


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc/PID/stat, readable by anyone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


def _memory_read(pid: int, needle: str) -> str:
    """What an unprivileged process of the server's user finds of `needle` in `pid`'s memory."""
    reader = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _READER, str(pid), needle],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        preexec_fn=_unprivileged,
    )
    return reader.stdout.strip()


@contextlib.contextmanager
def serving(instance: Path, cwd: Path) -> Iterator[tuple[str, int]]:
    """`raazdar serve --tor off` started from a shell allowing core files; yield URL and PID."""
    port = free_port()
    command = [*RAAZDAR, "--instance", str(instance), "serve", "--tor", "off"]
    command += ["--port", str(port), "--staff-port", str(free_port()), "--workers", "1"]
    process = subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
        command,
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_shell,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        give_up = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, "raazdar serve stopped"
            assert time.monotonic() < give_up, "raazdar serve did not answer in time"
            browser = Browser(base)
            try:
                if browser.get("/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
            finally:
                browser.close()
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _send_report(base: str, message: str) -> None:
    browser = Browser(base)
    try:
        status, html = browser.get("/submit")
        assert status == 200, status
        fields = {k: v for k, v in inputs(html).items() if k in ("csrf_token", "codename")}
        assert browser.post_multipart("/submit", {**fields, "message": message}) == 200
    finally:
        browser.close()


@pytest.mark.slow
def test_a_worker_s_memory_is_neither_dumped_nor_read_by_another_process(tmp_path: Path) -> None:
    instance = demo_instance(tmp_path / "instance")
    cwd = tmp_path / "cwd"  # where the kernel writes `core` when core_pattern is a file name
    cwd.mkdir()
    with serving(instance, cwd) as (base, serve_pid):
        _send_report(base, f"{CANARY} the SHO of Thana Saddar sold the girls' papers " * 200)
        (master,) = _children(serve_pid)
        (worker,) = _children(master)
        read = _memory_read(worker, CANARY)
        os.kill(worker, signal.SIGSEGV)
        give_up = time.monotonic() + 60
        while Path(f"/proc/{worker}").exists() and time.monotonic() < give_up:
            time.sleep(0.2)
    assert read != "read", "a process of the server's user read the report in a worker's memory"
    assert read == "denied", read
    dumped = [p.name for p in cwd.iterdir() if CANARY.encode() in p.read_bytes()]
    assert dumped == [], "a worker's crash wrote the report's plaintext to a core file"
