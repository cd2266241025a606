"""What the file system says of when a report was escalated, to a seizer without a passphrase.

Audit entries seal what was done and when; but a file keeps its birth time (statx
`stx_btime`, ext4's `i_crtime`), which no `utime` or `clear_times` can change. An
escalation kept as a file of its own in `blobs/` would date, to the nanosecond, the
moment a report went to an oversight body: that an investigation is coming.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.review.escalation.test_escalation_attachments import _escalate
from tests.review.support import Server, review


def _birth(path: Path) -> int:
    """The file's birth time in whole seconds (0 where the file system keeps none)."""
    out = subprocess.run(  # noqa: S603 - coreutils' stat, which asks statx
        ["stat", "-c", "%W", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def _kept(workspace: Path) -> tuple[str, bool]:
    """The escalation's blob name, and whether the database holds it (not a file)."""
    conn = sqlite3.connect(workspace / "workspace.db")
    try:
        (blob,) = conn.execute("SELECT blob FROM escalations").fetchone()
        row = conn.execute("SELECT 1 FROM blob_data WHERE name = ?", (blob,)).fetchone()
    finally:
        conn.close()
    return blob, row is not None


def test_a_large_escalation_is_kept_in_no_file_whose_birth_time_dates_it(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: an escalation carrying an attachment (a packet past 256 KiB) was written to a
    file of its own in `blobs/`; its birth time, which survives `clear_times`, told a seizer
    when the report was escalated."""
    num, _, args = _escalate(server, workspace, tmp_path, "scan.bin", os.urandom(400 * 1024))
    before = int(time.time())
    sent = review(workspace, *args, "--as-is", f"{num}:1", "--out", str(tmp_path / "p.rzp"))
    assert sent.exit_code == 0, sent.output
    blob, inline = _kept(workspace)
    path = workspace / "blobs" / blob
    born = _birth(path) if path.exists() else None
    assert born is None, f"the escalation is a file born at {born}, escalated at {before} or after"
    assert inline
    # The packet still opens from where it is kept.
    assert review(workspace, "escalation", "show", "1").exit_code == 0


def test_an_escalation_an_older_version_kept_as_a_file_goes_into_the_database_at_a_rewrap(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: an escalation written as a file before this version kept its birth time
    through every rewrap (each wrote a new file), dating the escalation, or the rewrap."""
    num, _, args = _escalate(server, workspace, tmp_path, "scan.bin", os.urandom(300 * 1024))
    sent = review(workspace, *args, "--as-is", f"{num}:1", "--out", str(tmp_path / "p.rzp"))
    assert sent.exit_code == 0, sent.output
    # As an older version left it: the blob a file of its own in `blobs/`.
    conn = sqlite3.connect(workspace / "workspace.db")
    try:
        (blob,) = conn.execute("SELECT blob FROM escalations").fetchone()
        row = conn.execute("SELECT data FROM blob_data WHERE name = ?", (blob,)).fetchone()
        with conn:
            conn.execute("DELETE FROM blob_data WHERE name = ?", (blob,))
    finally:
        conn.close()
    if row is not None:  # else a file already: `escalate` before this fix made one
        (workspace / "blobs" / blob).write_bytes(row[0])
    assert review(workspace, "escalation", "show", "1").exit_code == 0
    done = review(workspace, "--as", "demo-reviewer", "keys", "rewrap")
    assert done.exit_code == 0, done.output
    moved, inline = _kept(workspace)
    assert inline, "the rewrap wrote the escalation to a new file, born at the rewrap"
    assert not (workspace / "blobs" / blob).exists()
    assert not (workspace / "blobs" / moved).exists()
    assert review(workspace, "escalation", "show", "1").exit_code == 0
