"""A file's name on a stick reaches the reviewer's terminal only as text, never as its commands.

The carrier of the sticks names the files on them. A name holding escape sequences,
echoed as it is, would be run by the terminal: it could erase the warnings printed
just before it (a fork, a rewritten audit log), retitle the window, or put a command
on the clipboard (OSC 52). Every name the tool echoes goes through `clean`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.review.support import Server, review

# Up a line and erase it, five times over, then a clipboard write: what a name could do.
HOSTILE = "\x1b[1A\x1b[2K" * 5 + "\x1b]52;c;cm0gLXJmIH4K\x07" + "\u202e"


def _no_controls(output: str) -> None:
    assert "\x1b" not in output
    assert "\x07" not in output
    assert "\u202e" not in output


def test_an_export_bundles_name_on_the_stick_cannot_drive_the_terminal(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a report")
    stick = tmp_path / "stick"
    stick.mkdir()
    bundle = server.export(stick / f"export{HOSTILE}.rzb")

    result = review(workspace, "import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "1 new report(s)" in result.output
    _no_controls(result.output)

    again = review(workspace, "import", str(stick / f"gone{HOSTILE}.rzb"))
    assert again.exit_code == 1
    _no_controls(again.output)


def test_a_reply_bundle_renamed_on_the_stick_cannot_drive_the_terminal_at_the_next_export(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a report")
    stick = tmp_path / "stick"
    stick.mkdir()
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    first = stick / "r1.rzr"
    assert review(workspace, "export-replies", "--out", str(first)).exit_code == 0
    # The carrier puts a copy of the bundle back as an export cut short would have left it.
    shutil.copy(first, stick / f".r2{HOSTILE}.part")
    server.submit("another report")
    assert review(workspace, "import", str(server.export(tmp_path / "c.rzb"))).exit_code == 0

    result = review(workspace, "export-replies", "--out", str(stick / "r2.rzr"))
    assert result.exit_code == 0, result.output
    assert "recorded here that an export cut short" in result.output  # still said
    _no_controls(result.output)
