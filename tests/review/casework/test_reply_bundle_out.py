"""A reply bundle goes on the stick, never through a link there into the workspace.

The carrier prepares the stick. A folder on it that is a symbolic link to the
workspace (an ext4 stick holds one; its path is in the guide) would take the
reply bundle into the workspace itself: its manifest names, in the clear, the
sources answered and the status each is shown, on the workstation's own disk
long after the stick is overwritten, and the stick goes to the server empty.
"""

from __future__ import annotations

from pathlib import Path

from tests.review.support import Server, review, snapshot


def test_a_link_on_the_stick_into_the_workspace_takes_no_reply_bundle_there(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a report")
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "replies").symlink_to(workspace, target_is_directory=True)
    before = {p for p in workspace.rglob("*") if p.is_file()}

    result = review(workspace, "export-replies", "--out", str(stick / "replies" / "r.rzr"))
    assert result.exit_code == 1, result.output
    assert "workspace" in result.output
    assert {p for p in workspace.rglob("*") if p.is_file()} == before
    assert not list(workspace.glob("*.rzr*"))
    assert not list(workspace.glob(".r.rzr*"))

    # Nothing was recorded: the acknowledgement goes in the next bundle, on the stick.
    kept = snapshot(workspace)
    assert kept
    out = stick / "r.rzr"
    again = review(workspace, "export-replies", "--out", str(out))
    assert again.exit_code == 0, again.output
    assert "1 acknowledgement(s)" in again.output
    assert out.is_file()
