"""An import killed halfway (SIGKILL, a power cut): nothing is lost, nothing is left over.

The attack: the import writes large items' blob files before its one
transaction, and removes them if it fails; a process killed between the two
removes nothing. Each file is an item's plaintext sealed to the workspace key:
a file no row names is never re-sealed by `keys rewrap`, so it stays open to
the key a rewrap retired, and nothing ever erases it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework.reports import read_attachment
from review.intake import importer
from review.intake.importer import import_bundle
from review.keys.rewrap import BLOBS
from review.workspace import schema
from review.workspace.blobs import NAMING, create_file, writing
from tests.review.support import Server, review

# Past `INLINE_MAX`, so each attachment's blob is a file of its own.
LARGE = 300 * 1024


def _import_killed_at(workspace: Path, bundle: Path, nth: int) -> int | None:
    """Import in a child process that SIGKILLs itself as it creates its nth blob file."""

    def run() -> None:
        u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        calls = 0

        def dying(workspace: ws.Workspace, name: str) -> tuple[Path, BinaryIO]:
            nonlocal calls
            calls += 1
            if calls == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return create_file(workspace, name)

        importer.create_file = dying  # type: ignore[attr-defined]
        import_bundle(u, bundle)
        os._exit(0)

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    return child.exitcode


def _unnamed(w: ws.Workspace) -> list[str]:
    """Blob files that no row of the workspace names."""
    named = {
        row[0]
        for query in (
            "SELECT blob FROM items",
            "SELECT blob FROM escalations",
            "SELECT envelope FROM replies",
        )
        for row in w.conn.execute(query)
    }
    return sorted(p.name for p in w.blobs.iterdir() if p.name not in named)


def test_every_column_rewrap_reseals_is_one_the_reap_keeps() -> None:
    assert {(b.table, b.column) for b in BLOBS} <= set(NAMING)


def test_no_reap_takes_a_file_a_live_writer_has_not_committed_yet(workspace: Path) -> None:
    w = ws.Workspace.open(workspace)
    try:
        with writing(w):
            path, dst = create_file(w, "on-its-way.rze")
            dst.close()
            other = ws.Workspace.open(workspace)  # another command, meanwhile
            other.close()
            assert path.exists()
    finally:
        w.close()
    ws.Workspace.open(workspace).close()
    assert not path.exists()


def test_an_import_killed_halfway_leaves_no_blob_and_the_next_files_everything(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    photos = [os.urandom(LARGE) for _ in range(3)]
    for i, photo in enumerate(photos):
        server.submit(f"report {i}", [("files", f"p{i}.jpg", photo, "image/jpeg")])
    bundle = server.export(tmp_path / "e.rzb")
    assert _import_killed_at(workspace, bundle, 3) == -signal.SIGKILL

    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        assert _unnamed(u.workspace) == [], "a killed import's blob files are left"
        assert list(u.workspace.tmp.iterdir()) == [], "a killed import's scratch is left"
        assert import_bundle(u, bundle).filed == 6
        assert _unnamed(u.workspace) == []
        assert import_bundle(u, bundle).already == 6
        got = sorted(read_attachment(u, n, "1")[1] for n in (1, 2, 3))
        assert got == sorted(photos)
    finally:
        u.workspace.close()


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every workspace database opened from now on may not grow: SQLite says the disk is full."""
    real = schema.connect

    def full(path: Path) -> sqlite3.Connection:
        conn = real(path)
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(schema, "connect", full)


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every workspace database opened from now on refuses writes, as on a read-only mount."""
    real = schema.connect

    def read_only(path: Path) -> sqlite3.Connection:
        conn = real(path)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(schema, "connect", read_only)


@pytest.mark.parametrize("fault", [_full_disk, _read_only], ids=["disk-full", "read-only"])
def test_an_import_the_disk_refuses_says_so_writes_nothing_and_the_retry_files_all(
    server: Server,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: Callable[[pytest.MonkeyPatch], None],
) -> None:
    server.submit("report", [("files", "p.jpg", os.urandom(LARGE), "image/jpeg")])
    bundle = server.export(tmp_path / "e.rzb")
    before = sorted(p.name for p in (workspace / "blobs").iterdir())
    with monkeypatch.context() as patched:
        fault(patched)
        result = review(workspace, "import", str(bundle))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "raazdar-review: error:" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (workspace / "blobs").iterdir()) == before
    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "2 item(s) filed" in result.output
