"""The command tree: a short top level, groups that list their commands, the old names kept.

The old top-level names (`entity-add`, `export-replies`, …) are hidden aliases
for one release: each is the very command of its new path, runs the same with
the same options, is absent from --help, and only a person at a terminal is
told the new name (on stderr).
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from review.cli import cli
from review.cli.base import follow
from review.cli.groups import ALIASES, SHORTCUTS
from tests.review.support import Server, review
from tests.test_documented_help import documented

ROOT = Path(__file__).resolve().parents[3]
RUN_TOOL = "import sys; from review.cli import main; sys.argv[0] = 'raazdar-review'; main()"


def listed(help_text: str, section: str = "Commands") -> list[str]:
    """The names a --help output lists in one section (`Commands:`, `Shortcuts:`)."""
    body = help_text.split(f"\n{section}:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  (\S+)", body, flags=re.MULTILINE)


def test_the_top_level_lists_at_most_15_entries_and_no_old_name() -> None:
    out = CliRunner().invoke(cli, ["--help"], prog_name="raazdar-review").output
    shown, shortcuts = listed(out), listed(out, "Shortcuts")
    assert len(shown) + len(shortcuts) <= 15, shown + shortcuts
    assert shown + shortcuts == list(cli.commands)
    assert not set(shown + shortcuts) & set(ALIASES)
    assert shortcuts == list(SHORTCUTS)
    assert "  list  same as `report list`\n" in out


@pytest.mark.parametrize(
    "group",
    [c for c in cli.commands.values() if isinstance(c, click.Group)],
    ids=lambda g: g.name,
)
def test_each_group_help_lists_its_commands(group: click.Group) -> None:
    result = CliRunner().invoke(cli, [group.name or "", "--help"], prog_name="raazdar-review")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: raazdar-review {group.name} ")
    assert sorted(listed(result.output)) == sorted(group.commands)
    assert len(group.commands) >= 2


@pytest.mark.parametrize(("old", "new"), sorted(ALIASES.items()))
def test_an_old_name_is_its_new_command_and_hidden(old: str, new: tuple[str, ...]) -> None:
    assert old not in cli.commands  # else the alias would never be reached
    assert cli.get_command(click.Context(cli), old) is follow(cli, new)
    assert old not in cli.list_commands(click.Context(cli))


def test_every_old_top_level_name_still_resolves() -> None:
    # The 38 names `raazdar-review --help` listed before the regrouping.
    before = [
        "agency",
        "assign",
        "audit",
        "bodies",
        "category",
        "conflicts",
        "district",
        "enrol",
        "entities",
        "entities-extract",
        "entity",
        "entity-add",
        "entity-confirm",
        "entity-correct",
        "entity-reject",
        "escalate",
        "escalation",
        "export-replies",
        "import",
        "init",
        "keys",
        "link",
        "link-confirm",
        "link-reject",
        "list",
        "note",
        "open",
        "open-packet",
        "related",
        "reply",
        "reply-bundle-refused",
        "search",
        "severity",
        "show",
        "status",
        "tag",
        "tui",
        "view",
    ]
    context = click.Context(cli)
    assert [n for n in before if cli.get_command(context, n) is None] == []


def _arguments(server: Server, tmp_path: Path) -> dict[str, list[str]]:
    """For each old name, arguments that reach its command's body (a refusal or a read)."""
    taken = tmp_path / "exists.rzr"
    taken.write_bytes(b"")
    return {
        "init": [
            *("--instance-id", server.instance_id, "--server-key", server.signing_key_text),
            *("--key-file", str(server.reviewer_key_file), "--reviewer", "demo-reviewer"),
        ],
        "enrol": ["--key-file", str(server.reviewer_key_file), "--reviewer", "nobody"],
        "import": [str(tmp_path / "missing.rzb")],
        "export-replies": ["--out", str(taken)],
        "reply-bundle-refused": ["no-such-bundle"],
        "open": ["1", "9", "--out", str(tmp_path / "x"), "--yes"],
        "view": ["1", "9"],
        "search": ["report"],
        "status": ["1", "escalated"],
        "assign": ["7", "demo-reviewer"],
        "category": ["7", "x"],
        "agency": ["7", "x"],
        "district": ["7", "x"],
        "severity": ["7", "high"],
        "tag": ["7", "x"],
        "note": ["7", "x"],
        "entities": ["--kind", "person"],
        "entity": ["nobody-named-so"],
        "entity-add": ["7", "person", "x"],
        "entity-correct": ["7", "x", "y"],
        "entity-confirm": ["7", "x"],
        "entity-reject": ["7", "x"],
        "entities-extract": ["7"],
        "related": ["1"],
        "link": ["1", "1"],
        "link-confirm": ["1", "7", "x"],
        "link-reject": ["1", "7", "x"],
        "escalate": ["7", "--to", "no-such-body", "--summary", "x"],
        "open-packet": [str(taken), "--key-file", str(taken), "--out", str(tmp_path / "o")],
    }


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit("one report about the report", [])
    assert (
        review(workspace, "exchange", "import", str(server.export(tmp_path / "e.rzb"))).exit_code
        == 0
    )
    return workspace


def test_each_old_name_runs_its_command_exactly_as_the_new_path(
    filed: Path, server: Server, tmp_path: Path
) -> None:
    arguments = _arguments(server, tmp_path)
    assert set(arguments) == set(ALIASES)
    for old, new in sorted(ALIASES.items()):
        was = review(filed, old, *arguments[old])
        now = review(filed, *new, *arguments[old])
        assert was.exit_code in (0, 1), (old, was.output)  # the body ran: not a usage error
        assert (was.exit_code, was.output) == (now.exit_code, now.output), old


def test_an_old_name_changes_what_its_new_path_changes(filed: Path) -> None:
    assert review(filed, "status", "1", "in-review").exit_code == 0
    assert review(filed, "tag", "1", "kiln").exit_code == 0
    shown = review(filed, "report", "list", "--tag", "kiln").output
    assert "in-review" in shown
    assert review(filed, "links", "add", "1", "1").exit_code == 1


def test_old_link_remove_still_unlinks_and_links_remove_says_it(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("first", [])
    server.submit("second", [])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    assert review(workspace, "links", "add", "1", "2").stdout == "reports 1 and 2: linked\n"
    assert review(workspace, "link", "1", "2", "--remove").stdout == "reports 1 and 2: unlinked\n"
    assert review(workspace, "links", "add", "1", "2").exit_code == 0
    assert review(workspace, "links", "remove", "1", "2").stdout == "reports 1 and 2: unlinked\n"


def _at_a_terminal(args: list[str]) -> tuple[str, str]:
    """Run the tool's entry point in a child whose stderr is a terminal: its stdout and stderr."""
    leader, follower = pty.openpty()
    try:
        child = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [sys.executable, "-c", RUN_TOOL, *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "100"},
        )
        os.close(follower)
        err = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(leader)
    return child.stdout, err.decode()


def test_at_a_terminal_an_old_name_names_its_new_one_on_stderr_only() -> None:
    out, err = _at_a_terminal(["entity-add", "--help"])
    new = CliRunner().invoke(cli, ["names", "add", "--help"], prog_name="raazdar-review")
    assert "raazdar-review: hint: `entity-add` is now `raazdar-review names add`" in err
    assert out.startswith("Usage: raazdar-review entity-add [OPTIONS] NUM")
    # The same help below the usage line (wrapped to its own length).
    assert out.split("\n\n", 1)[1] == new.stdout.split("\n\n", 1)[1]


def test_scripts_see_nothing_new_from_an_old_name() -> None:
    result = CliRunner().invoke(cli, ["export-replies", "--help"], prog_name="raazdar-review")
    assert result.stderr == ""
    assert result.stdout.startswith("Usage: raazdar-review export-replies [OPTIONS]")


def test_the_docs_show_only_the_new_names() -> None:
    context = click.Context(cli)
    for tool, path in documented():
        if tool != "raazdar-review":
            continue
        group: click.Command = cli
        for word in path:
            assert isinstance(group, click.Group)
            assert word in group.list_commands(context), f"the docs show an old name: {path}"
            group = group.commands[word]
