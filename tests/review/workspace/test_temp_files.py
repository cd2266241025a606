"""A big sort or a large write in the workspace database leaves nothing in the temporary directory.

SQLite spills a sort, or a statement's journal, that outgrows its cache to a
temporary file in $SQLITE_TMPDIR or $TMPDIR (often another disk, /var/tmp),
unlinked at once but its blocks never overwritten: pages of the workspace
database, the old wrapped keys of a rewrap among them, left where a seizer who
reads the raw disk finds them. The workspace's connection keeps them in memory.

The temporary directory is read once, when SQLite starts, so the database is
driven in a process of its own, which watches the directory (inotify) itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_TREE = Path(__file__).parents[3]

_CHILD = """
import ctypes, os, sys
from pathlib import Path
from review.workspace import schema

libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
assert fd >= 0 and libc.inotify_add_watch(fd, os.environ["SQLITE_TMPDIR"].encode(), 0x100) >= 0
conn = schema.connect(Path(sys.argv[1]))
schema.create(conn)
rows = ((f"{i:06}.rze", os.urandom(300)) for i in range(40000))
with schema.transaction(conn):
    conn.executemany("INSERT INTO blob_data VALUES (?, ?)", rows)
with schema.transaction(conn):  # as a rewrap re-seals every row: a statement journal
    conn.execute("UPDATE blob_data SET data = randomblob(300)")
assert len(conn.execute("SELECT name FROM blob_data ORDER BY data").fetchall()) == 40000
try:
    created = len(os.read(fd, 65536))  # IN_CREATE events: one per file made there
except BlockingIOError:
    created = 0
print(created)
"""


def test_a_big_sort_and_rewrite_write_no_temporary_file(tmp_path: Path) -> None:
    watched = tmp_path / "tmp"
    watched.mkdir()
    done = subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [sys.executable, "-c", _CHILD, str(tmp_path / "workspace.db")],
        env={
            **os.environ,
            "PYTHONPATH": str(_TREE),
            "SQLITE_TMPDIR": str(watched),
            "TMPDIR": str(watched),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", (
        f"SQLite wrote temporary files to {watched}: {done.stdout.strip()} bytes of events"
    )
