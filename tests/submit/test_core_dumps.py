"""A crash of the client: its memory (the codename, the report) must not become a core file.

The attack: a source pipes a report into `raazdar-submit send` with their
codename in a file; the client crashes before it is done (a SIGSEGV stands for
a crash in a C library it loads). A shell or a phone's distribution that allows
core files (`ulimit -c unlimited`, a crash reporter) writes the process's
memory to disk, and whoever takes the device reads the codename (and with it
every reply) and the report from it.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from crypto import generate_codename

REPORT = "canary-C0RE-subm1t: the SHO of Thana Saddar took the money"
_CLIENT: Final = (sys.executable, "-c", "from submit.cli import main; main()")
_TREE: Final = Path(__file__).parents[2]


def _allow_core_files() -> None:
    """What `ulimit -c unlimited` does in the source's shell, for the client it starts."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _core_limit(pid: int) -> str:
    """The process's core file limit as /proc shows it (soft and hard)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return " ".join(line.split()[4:6])
    raise AssertionError("no core limit in /proc")


def _waits_on_stdin(pid: int) -> bool:
    """Whether the process is blocked reading its standard input (read(2) is 0 on x86-64,
    63 on arm64)."""
    try:
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(call) > 1 and call[0] in {"0", "63"} and int(call[1], 16) == 0


def test_a_crash_while_the_report_is_read_leaves_no_core_file(tmp_path: Path) -> None:
    codename = generate_codename()
    secret = tmp_path / "codename.txt"
    secret.write_text(codename + "\n")
    cwd = tmp_path / "cwd"  # where the kernel writes `core` when core_pattern is a file name
    cwd.mkdir()
    proc = subprocess.Popen(  # noqa: S603 - our own client, fixed arguments
        [
            *_CLIENT,
            "--no-state",
            "--instance",
            "http://127.0.0.1:9",
            "--direct",
            "send",
            "--codename-file",
            str(secret),
            "--message-file",
            "-",
        ],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(_TREE)},
        preexec_fn=_allow_core_files,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(REPORT.encode())  # the report, its end not yet sent
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not _waits_on_stdin(proc.pid):
            assert time.monotonic() < deadline, "the client never read the report"
            assert proc.poll() is None, "the client ended before it read the report"
            time.sleep(0.1)
        limit = _core_limit(proc.pid)
        os.kill(proc.pid, signal.SIGSEGV)
        proc.wait(60)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait(10)
        assert proc.stdin is not None
        proc.stdin.close()
    written = [
        p.name
        for p in cwd.iterdir()
        if codename.encode() in (data := p.read_bytes()) or REPORT.encode() in data
    ]
    assert written == [], "the crash wrote the codename and the report to a core file"
    assert limit == "0 0", f"core files allowed: {limit}"
