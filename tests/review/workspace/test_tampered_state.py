"""The sealed rows of a report's casework, rolled back or deleted alone for a night.

The attack: whoever can write where the workspace lies (a seized and returned laptop,
or the backup stick in the safe, docs/review-workstation.md §5) cannot write a sealed
row, but can delete one, or put back the one an older copy of the same disk held: it
opens under the same key and context. A report's state rolled back from "closed" to
"new" (or to the assignee of then), a reviewer's rejection of a weak link deleted so it
counts again as corroboration, a confirmation put back after it was rejected, a report's
entities or the search index cut so it is found by nobody, a source's notice dropped,
or the record of earlier workspace keys deleted: the tool must refuse to go on
(`review.workspace.head` tags them in form 4).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from review import workspace as ws
from review.analysis import corroboration, links, records
from review.casework import notices, triage
from review.errors import UnlockError
from review.workspace.search import SearchIndex
from tests.review.support import Server, on_the_disk, review
from tests.review.workspace.test_tampered_rows import _taken, _unlock

ALTERED = "what is on the disk is not what this workspace's tool last wrote"


@contextmanager
def _unlocked(root: Path) -> Iterator[ws.Unlocked]:
    u = _unlock(root)
    try:
        yield u
    finally:
        u.workspace.close()


def _two_reports(server: Server, workspace: Path, tmp_path: Path) -> None:
    server.submit("The SHO at Kotri took money to let the girls across.")
    server.submit("At Kotri the SHO was paid to let the girls across the river.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0


def _rows(root: Path, query: str, args: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    with on_the_disk(root) as conn:
        return list(conn.execute(query, args).fetchall())


def test_a_closed_reports_state_rolled_back_to_new_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A report closed (or escalated, or taken from a reviewer) is "new" again on the disk."""
    _two_reports(server, workspace, tmp_path)
    ((before,),) = _rows(workspace, "SELECT state FROM reports WHERE num = 1")
    with _unlocked(workspace) as u:
        triage.set_status(u, 1, "in-review")
        triage.assign(u, 1, "demo-reviewer")
        triage.set_status(u, 1, "closed", "resolved")
    with on_the_disk(workspace) as conn:
        conn.execute("UPDATE reports SET state = ? WHERE num = 1", (before,))
    found = _taken(workspace, lambda u: triage.load_state(u, 1))
    assert isinstance(found, UnlockError), f"a state rolled back on the disk was taken: {found}"
    assert ALTERED in str(found)


def test_a_rejected_link_deleted_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A reviewer's rejection deleted, the weak link counts again as corroboration."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:
        corroboration.decide_writer(u, 1, 2, same=False)
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM link_decisions")
    found = _taken(workspace, links.load_decisions)
    assert isinstance(found, UnlockError), f"a rejection deleted on the disk was taken: {found}"
    assert ALTERED in str(found)


def test_a_confirmed_link_put_back_after_its_rejection_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The confirmation of an older copy put back over the rejection that replaced it."""
    _two_reports(server, workspace, tmp_path)
    with _unlocked(workspace) as u:
        corroboration.decide_writer(u, 1, 2, same=True)
    confirmed = _rows(workspace, "SELECT seq, sealed FROM link_decisions")
    with _unlocked(workspace) as u:
        corroboration.decide_writer(u, 1, 2, same=False)
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM link_decisions")
        conn.executemany("INSERT INTO link_decisions VALUES (?, ?)", confirmed)
    found = _taken(workspace, links.load_decisions)
    assert isinstance(found, UnlockError), f"a confirmation put back was taken: {found}"
    assert ALTERED in str(found)


def test_a_reports_entities_deleted_on_the_disk_are_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Without its record a report shares no name with any other: it links to none."""
    _two_reports(server, workspace, tmp_path)
    assert _rows(workspace, "SELECT report FROM report_entities WHERE report = 1")
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM report_entities WHERE report = 1")
    found = _taken(workspace, lambda u: records.load_record(u, 1))
    assert isinstance(found, UnlockError), f"a report's entities deleted were taken: {found}"
    assert ALTERED in str(found)


def test_the_search_index_cut_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """A segment deleted, a search for the SHO found none of the reports that name him."""
    _two_reports(server, workspace, tmp_path)
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM search_segments")
    found = _taken(workspace, lambda u: SearchIndex.load(u).search("Kotri"))
    assert isinstance(found, UnlockError), f"a cut search index was taken: found {found}"
    assert ALTERED in str(found)


def test_a_sources_notice_rolled_back_on_the_disk_is_refused_at_unlock(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The notice that a report was closed, put back as the older "received": never sent."""
    _two_reports(server, workspace, tmp_path)
    before = _rows(workspace, "SELECT source, sealed FROM notices")
    with _unlocked(workspace) as u:
        triage.set_status(u, 1, "closed", "resolved")
    with on_the_disk(workspace) as conn:
        conn.executemany(
            "UPDATE notices SET sealed = ? WHERE source = ?", [(s, d) for d, s in before]
        )
    found = _taken(workspace, notices.pending)
    assert isinstance(found, UnlockError), f"a notice rolled back was taken: {found}"
    assert ALTERED in str(found)


def test_the_earlier_workspace_keys_deleted_on_the_disk_are_refused_at_unlock(
    workspace: Path,
) -> None:
    """Deleted after a rewrap, the audit details sealed under an earlier key open for nobody."""
    done = review(workspace, "--as", "demo-reviewer", "keys", "rewrap")
    assert done.exit_code == 0, done.output
    assert _rows(workspace, "SELECT value FROM meta WHERE key = ?", (ws.HISTORY,))
    with on_the_disk(workspace) as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (ws.HISTORY,))
    found = _taken(workspace, lambda u: len(u.history))
    assert isinstance(found, UnlockError), f"the key history deleted was taken: {found} keys"
    assert ALTERED in str(found)
