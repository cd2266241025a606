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


def _pages(db: bytes, data: bytes) -> list[int]:
    """The pages of the file holding `data`'s bytes (each a sample of 32 found where it lies)."""
    size = int.from_bytes(db[16:18], "big")
    size = 65536 if size == 1 else size
    # Past the envelope's header, which every envelope shares; a sample found once only.
    samples = (data[i : i + 32] for i in range(1024, len(data) - 32, size // 2))
    found = ((db.find(sample), db.rfind(sample)) for sample in samples)
    return sorted({first // size + 1 for first, last in found if first == last >= 0})


def test_a_large_escalations_pages_do_not_say_between_which_imports_it_was_made(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: a packet larger than a page is written to overflow pages SQLite takes from the
    free list or the end of the file as it writes them; read in page order, the file put it
    after the pages of one import's blobs and before those of the next (each import's day is
    clear, in `bundles`): the report went to an oversight body between the two."""
    num, _, args = _escalate(server, workspace, tmp_path, "scan.bin", os.urandom(60 * 1024))
    sent = review(workspace, *args, "--as-is", f"{num}:1", "--out", str(tmp_path / "p.rzp"))
    assert sent.exit_code == 0, sent.output
    files = [("files", f"{n}.bin", os.urandom(20 * 1024), "x/y") for n in range(3)]
    server.submit("The same SHO took a second bribe.", files)
    assert review(workspace, "import", str(server.export(tmp_path / "f.rzb"))).exit_code == 0
    db = (workspace / "workspace.db").read_bytes()
    conn = sqlite3.connect(workspace / "workspace.db")
    try:
        rows = conn.execute(
            "SELECT b.rowid, coalesce(i.bundle, 'escalation'), b.data FROM blob_data b"
            " LEFT JOIN items i ON i.blob = b.name WHERE length(b.data) > 8192"
        ).fetchall()
        bundles = [b for (b,) in conn.execute("SELECT id FROM bundles ORDER BY imported, rowid")]
    finally:
        conn.close()
    # The first page of each blob's bytes, its rowid, and the bundle it came in.
    placed = sorted((min(_pages(db, data)), rowid, kind) for rowid, kind, data in rows)
    assert len(placed) == 5
    assert [kind for *_, kind in placed].count("escalation") == 1
    by_page = [rowid for _, rowid, _ in placed]
    # Laid out by rowid, which is drawn at random (`blobs.inline_row`), the pages say nothing of
    # when each was written; in the order of writing, five rows fall so once in 120 runs.
    assert by_page == sorted(by_page), (
        f"in page order, as written: {[kind for *_, kind in placed]} (bundles {bundles})"
    )
