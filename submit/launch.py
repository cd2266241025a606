"""`raazdar-submit`'s entry point: the process list shows a bare interpreter before anything runs.

On a shared computer every user reads every process's command line (`ps`,
/proc/PID/cmdline) and name: they gave the state directory, the pins file on its
stick, the command and the files sent, and the tool's own name said that someone
here was reporting, right then. The title is set before the client is imported
(which takes long enough to be caught), so they see only the interpreter's name,
as of any Python program. sys.argv is untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import setproctitle


def main() -> None:
    """Show the interpreter's name in the process list, then run the command line."""
    setproctitle.setproctitle(Path(sys.executable).name or "python3")
    # Imported only once the title is set: the imports take long enough for `ps`.
    from submit.cli import main as run

    run()
