"""A crash of the unlocked tool: its memory (keys, reports) must not become a core file on disk.

The attack: a reviewer reads a long text attachment with `report view`; the
tool crashes while it draws it (a hostile image or PDF crashing a decoder in
the process would do the same; here a SIGSEGV stands for it). A shell or a
distribution that allows core files (`ulimit -c unlimited`, a crash reporter)
writes the process's memory to disk, and a seizer reads the attachment's
plaintext, the workspace key and the reviewer's keys from it.
"""

from __future__ import annotations

import os
import resource
import select
import signal
from pathlib import Path

from tests.review.support import Server, review, start_review

CANARY = "canary-C0RE-d4mp"


def _allow_core_files() -> None:
    """What `ulimit -c unlimited` does in the reviewer's shell, for the tool it starts."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _core_limit(pid: int) -> str:
    """The process's core file limit as /proc shows it (soft and hard)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return " ".join(line.split()[4:6])
    raise AssertionError("no core limit in /proc")


def test_a_crash_while_reading_an_attachment_leaves_no_core_file(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # Longer than a pipe holds: the tool blocks while it writes the plaintext out.
    statement = (f"{CANARY} " * 40_000).encode()
    server.submit("A statement is attached.", [("files", "s.txt", statement, "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    cwd = tmp_path / "cwd"  # where the kernel writes `core` when core_pattern is a file name
    cwd.mkdir()
    proc = start_review(
        workspace, "report", "view", "1", "1", cwd=cwd, preexec_fn=_allow_core_files
    )
    try:
        assert proc.stdout is not None
        # Its first bytes: the attachment is decrypted and being drawn.
        assert select.select([proc.stdout], [], [], 120)[0], "the tool drew nothing"
        limit = _core_limit(proc.pid)
        os.kill(proc.pid, signal.SIGSEGV)
        proc.wait(60)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()
    written = [p.name for p in cwd.iterdir() if CANARY.encode() in p.read_bytes()]
    assert written == [], "the crash wrote the attachment's plaintext to a core file"
    assert limit == "0 0", f"core files allowed: {limit}"
