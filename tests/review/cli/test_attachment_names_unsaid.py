"""An attachment named by the file name its source gave it: warned of, and never said back."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from review.cli import sensitive
from tests.review.support import Server, review

# A source's file name says whose statement it is.
NAME: Final = "Nasreen Akhtar statement.txt"
WARNING: Final = "shell's history keeps it"


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report with one attachment its source named."""
    server.submit("see the file", [("files", NAME, b"sold at Thana Kotri", "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


def _said(output: str) -> str:
    """The tool's error, warning and hint lines: what reaches the normal screen unasked."""
    return "\n".join(line for line in output.splitlines() if line.startswith(sensitive.PROG))


def test_an_attachment_named_by_its_file_name_is_warned_about_once(filed: Path) -> None:
    """The attack: `report view 1 "Nasreen Akhtar statement.txt"` left the source's file
    name in the shell's history file, and in the command line every user of the machine
    reads while it runs (`ps`), with no word of it, as a tag or a body's name is warned of."""
    result = review(filed, "report", "view", "1", NAME)
    assert result.exit_code == 0, result.output
    assert "sold at Thana Kotri" in result.output
    assert result.stderr.count(WARNING) == 1, result.stderr


@pytest.mark.parametrize("command", [("view",), ("open", "--yes", "--out")])
def test_an_attachment_name_mistyped_is_not_said_back_in_the_error(
    filed: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """The attack: a name typed with a letter wrong came back whole on the normal screen,
    "report 1 has no attachment 'Nasreen Akhtar statment.txt'", for the scrollback."""
    args = ["report", command[0], "1", "Nasreen Akhtar statment.txt", *command[1:]]
    if command[0] == "open":
        args.append(str(tmp_path / "out.txt"))
    result = review(filed, *args)
    assert result.exit_code == 1, result.output
    said = _said(result.output)
    assert "has no attachment" in said, said
    assert "Nasreen" not in said, said


def test_an_attachment_given_by_its_number_is_not_warned_about(filed: Path) -> None:
    result = review(filed, "report", "view", "1", "1")
    assert result.exit_code == 0, result.output
    assert WARNING not in result.stderr
