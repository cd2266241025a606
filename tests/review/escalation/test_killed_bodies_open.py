"""`bodies open` killed outright leaves no packet's plaintext beside the directory it was writing.

The attack: `bodies open` writes a packet's text and files (the reports, redacted, and
their attachments) to a hidden `.NAME.XXXXXXXX.part` directory beside its target,
renamed into place once whole and destroyed when anything fails. Killed outright
(SIGKILL, the out-of-memory killer) no `finally` runs: the directory kept what was
written so far, named by no warning, after the next command that writes and until
someone finds it. `report open` left a note for the next writer to sweep; this did not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from review.casework import writing
from review.workspace.held import ram_dir

CANARY = "Nasreen Akhtar, sold at Thana Kotri"

# The child writes the packet's first file, then is killed as the OOM killer would kill it.
_KILLED = """
import os, signal, sys
from pathlib import Path
from types import SimpleNamespace
from review.escalation import opened

real = opened.write_new
def write_then_die(path, data):
    real(path, data)
    os.kill(os.getpid(), signal.SIGKILL)
opened.write_new = write_then_die
content = SimpleNamespace(
    document={"summary": sys.argv[2]}, files=[], packet_id="p1", created="2026-12-06"
)
opened.write_opened(SimpleNamespace(content=content, signers=[]), Path(sys.argv[1]))
"""


def test_a_packet_write_killed_outright_is_destroyed_by_the_next_writer(tmp_path: Path) -> None:
    assert ram_dir() is not None, "the notes are kept in memory: this system has nowhere"
    out = tmp_path / "packet"
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _KILLED, str(out), CANARY], capture_output=True, check=False
    )
    assert done.returncode == -9, done.stderr
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1  # what the killed command left
    assert CANARY in (parts[0] / "packet.txt").read_text()

    # The next command that writes plaintext out sweeps what killed ones left.
    with writing.noted(tmp_path / "other.txt"):
        pass

    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir()), "plaintext left"
