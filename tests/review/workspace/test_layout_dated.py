"""What the database file's layout says of the work done since the last import, to a seizer.

An import rewrites the database (`VACUUM`, `review.workspace.schema.rebuild`): each table
then lies in the order of its rows' keys, page after page, and in each page the rows'
bytes lie in key order too. What is written after lies elsewhere: SQLite puts a row that
grows, or a new one, at the free end of its page, and a page it adds at the file's end.
The attack: read the file's pages (SQLite's `dbstat`, and each page's cell pointers) as
whoever holds the disk and no passphrase, and list what lies out of the rebuilt order:
which reports were triaged or annotated since the last import (whose day is clear, in
`bundles.imported`), and in which order.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework import triage
from tests.review.support import Server, review

# SQLite's page types of a b-tree leaf: of a table (rows by rowid) and of an index.
_TABLE_LEAF, _INDEX_LEAF = 13, 10


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's variable-length integer at `at`, and where the next field begins."""
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9


def out_of_place_pages(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """The pages (their table, and number) lying after a page of a table a rebuild writes later.

    A rebuild copies the tables one after another, each with its indexes, in the order
    they were made; a page past the pages of a table made after its own was added since.
    """
    tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    schema = conn.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall()
    rank = {name: tables.index(table) for name, table in schema if table in tables}
    roots = {root for (root,) in conn.execute("SELECT rootpage FROM sqlite_schema")}
    found, highest = [], -1
    for name, page in conn.execute("SELECT name, pageno FROM dbstat ORDER BY pageno"):
        if page in roots or name not in rank:  # every root page is made first, in a block
            continue
        if rank[name] < highest:
            found.append((name, page))
        highest = max(highest, rank[name])
    return found


def out_of_order_rows(db: bytes, conn: sqlite3.Connection) -> list[tuple[int, str, int]]:
    """The rows whose bytes lie out of key order in their page: (offset, table, rowid or -1).

    Sorted by offset, lowest first: the lower in its page, the later it was written.
    """
    size = int.from_bytes(db[16:18], "big")
    size = 65536 if size == 1 else size
    leaves = conn.execute(
        "SELECT name, pageno FROM dbstat WHERE pagetype = 'leaf' AND name <> 'sqlite_schema'"
    ).fetchall()
    found = []
    for name, page in leaves:
        header = (page - 1) * size + (100 if page == 1 else 0)
        kind, count = db[header], int.from_bytes(db[header + 3 : header + 5], "big")
        if kind not in (_TABLE_LEAF, _INDEX_LEAF):
            continue
        at = [header + 8 + 2 * i for i in range(count)]
        offsets = [int.from_bytes(db[a : a + 2], "big") for a in at]
        for i, offset in enumerate(offsets):
            # Rebuilt, each row lies below the ones before it in key order, above those after.
            if any(later > offset for later in offsets[i + 1 :]):
                rowid = -1
                if kind == _TABLE_LEAF:
                    _, at_rowid = _varint(db, (page - 1) * size + offset)
                    rowid, _ = _varint(db, at_rowid)
                found.append((offset, name, rowid))
    return sorted(found)


Layout = tuple[list[tuple[str, int]], list[tuple[int, str, int]]]


def seized_layout(root: Path, into: Path) -> Layout:
    """What a copy of the seized database's layout says was written out of the rebuilt order."""
    copy = into / "seized.db"
    shutil.copyfile(root / ws.DB_NAME, copy)
    conn = sqlite3.connect(copy)
    try:
        return out_of_place_pages(conn), out_of_order_rows(copy.read_bytes(), conn)
    finally:
        conn.close()


def _imported(server: Server, workspace: Path, tmp_path: Path) -> None:
    """Three reports imported: the import rewrote the database."""
    for n in range(3):
        server.submit(f"Report {n}: the SHO of Saddar took money at the checkpost.")
    done = review(workspace, "exchange", "import", str(server.export(tmp_path / "e.rzb")))
    assert done.exit_code == 0, done.output


def test_the_layout_right_after_an_import_is_the_rebuilt_one(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The attack's own check: on a file just rebuilt, it finds nothing out of order."""
    _imported(server, workspace, tmp_path)
    assert seized_layout(workspace, tmp_path) == ([], [])


def test_the_layout_does_not_say_which_reports_were_worked_on_since_the_last_import(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: after an import, a reviewer triages report 2, then writes a long note on report 1.
    The file's layout said so: report 2's row out of key order in its page, the note's
    pages past every table's, and each audit entry's since."""
    _imported(server, workspace, tmp_path)
    for args in (
        ("triage", "tag", "2", "sho-saddar", "asi-rana-tariq", "chak-41", "bonded-labour"),
        ("triage", "district", "2", "Sheikhupura"),
        ("triage", "agency", "2", "Punjab Police"),
        ("triage", "note", "1", "Spoke to the munshi again; " * 300),
    ):
        done = review(workspace, *args)
        assert done.exit_code == 0, done.output
    pages, rows = seized_layout(workspace, tmp_path)
    # Before: pages [('notes', 53), ('notes', 54)], rows [(2627, 'reports', 2)]: a long
    # note was written, and report 2 triaged, since the last import.
    assert (pages, rows) == ([], []), f"written since the last import: {pages}; {rows}"


def test_a_command_that_only_reads_leaves_the_database_as_it_was(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A rebuild costs what writing the file five times does: a command that wrote nothing
    (`report list`, `report show`) must not pay it, nor change the file."""
    _imported(server, workspace, tmp_path)
    before = (workspace / ws.DB_NAME).read_bytes()
    for args in (("report", "list"), ("report", "show", "1")):
        done = review(workspace, *args)
        assert done.exit_code == 0, done.output
    assert (workspace / ws.DB_NAME).read_bytes() == before


def test_what_a_session_cut_off_wrote_is_rebuilt_by_the_next_command_even_one_that_reads(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: a session cut off (a power cut, SIGKILL) never reached its end, where the file
    is rebuilt; the next commands only read, and the layout kept what it wrote out of order."""
    _imported(server, workspace, tmp_path)
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:  # as a command does before its end, which this one never reaches
        triage.add_note(u, 1, "Spoke to the munshi again; " * 300)
    finally:
        u.workspace.close()
    assert seized_layout(workspace, tmp_path) != ([], [])
    done = review(workspace, "report", "list")
    assert done.exit_code == 0, done.output
    assert seized_layout(workspace, tmp_path) == ([], [])
