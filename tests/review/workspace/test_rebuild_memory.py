"""The memory a rebuild of the workspace database takes, and what it leaves on the disk.

`VACUUM` copies the database into a temporary one, then back; with the workspace's
connection keeping temporary data in memory (`temp_store = MEMORY`, so that nothing
spills to $TMPDIR), that copy was as large as the database: a workspace of a few GiB did
not rebuild on a small laptop, and each import and escalation failed to hide its order.
The database is driven in a process of its own, so its peak memory is its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_TREE = Path(__file__).parents[3]
_MIB = 1024 * 1024

_CHILD = """
import os, random, re, sys
from pathlib import Path
from review.workspace import schema

path = Path(sys.argv[1])
if len(sys.argv) > 2:  # made in a process of its own, whose memory is not counted
    conn = schema.connect(path)
    schema.create(conn)
    rng = random.Random(41)
    with schema.transaction(conn):
        for n in range(int(sys.argv[2])):  # rows of 100-200 kB, as attachments' blobs
            row = (rng.getrandbits(62), f"{n:06}.rze", os.urandom(rng.randrange(100_000, 200_000)))
            conn.execute("INSERT INTO blob_data (rowid, name, data) VALUES (?, ?, ?)", row)
    sys.exit()


def peak():
    # This process's own peak (ru_maxrss keeps the parent's across exec: pytest's).
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024


conn = schema.connect(path)
before = peak()
assert schema.rebuild(conn)
print(os.path.getsize(path), peak() - before)
"""


def _child(*args: object) -> str:
    """What the script above prints, run in a process of its own."""
    return subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", _CHILD, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(_TREE)},
    ).stdout


def test_a_rebuild_takes_far_less_memory_than_the_database_is_large(tmp_path: Path) -> None:
    """Attack (on the rebuild itself): a 64 MiB workspace took 64 MiB more memory to rebuild."""
    db = tmp_path / "workspace.db"
    _child(db, "440")
    size, grown = map(int, _child(db).split())
    assert size > 60 * _MIB
    assert grown < 16 * _MIB, f"rebuilding {size / _MIB:.0f} MiB took {grown / _MIB:.0f} MiB more"
    # Its copy is destroyed beside the database, its journal with it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workspace.db"]
