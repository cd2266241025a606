"""Every command the README and the docs show exists: each answers `--help` as written.

The gate enumerates: it reads every shell block of README.md, docs/*.md and
deploy/README.md, resolves each `raazdar`, `raazdar-review` or `raazdar-submit`
line through the tool's own command tree (global options skipped as the tool
parses them), fails on a subcommand the tool does not have, and asks the
deepest command it reaches for its help. tests/test_readme.py runs the
README's commands from the installed scripts; this covers every document, in
process, so that renaming or regrouping a command cannot leave a doc behind.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app.cli import main as server_cli
from review.cli import cli as review_cli
from submit.cli import cli as submit_cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "README.md"]
TOOLS: dict[str, click.Group] = {
    "raazdar": server_cli,
    "raazdar-review": review_cli,
    "raazdar-submit": submit_cli,
}
# Shell blocks: ```sh, or a bare ``` (the docs use both for commands).
BLOCK = re.compile(r"^[ \t]*```(?:sh)?\n(.*?)^[ \t]*```", flags=re.MULTILINE | re.DOTALL)


def command_lines(doc: Path) -> list[list[str]]:
    """The tool invocations in a document's shell blocks, as words (comments dropped)."""
    found = []
    for block in BLOCK.findall(doc.read_text("utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.split(r"\s(?:&&|\|\||\||;)\s", line):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:
                    words = part.split()
                if words and words[0] in TOOLS:
                    found.append(words)
    return found


def resolve(group: click.Group, words: list[str]) -> list[str]:
    """The command path the words name: options skipped, every word after a group a command."""
    path: list[str] = []
    command: click.Command = group
    rest = list(words)
    while rest and isinstance(command, click.Group):
        word = rest.pop(0)
        if word.startswith("-"):
            option = next((p for p in command.params if word.split("=")[0] in p.opts), None)
            assert option is not None, f"{' '.join(path) or 'the tool'} has no option {word}"
            takes_value = isinstance(option, click.Option) and not (option.is_flag or option.count)
            if takes_value and "=" not in word:
                rest.pop(0)
            continue
        sub = command.get_command(click.Context(command), word)
        assert sub is not None, f"{' '.join(path) or 'the tool'} has no command {word!r}"
        path.append(word)
        command = sub
    return path


def documented() -> list[tuple[str, tuple[str, ...]]]:
    """Each (tool, command path) the documents show, once each, in order."""
    seen: dict[tuple[str, tuple[str, ...]], None] = {}
    for doc in DOCS:
        for words in command_lines(doc):
            seen[(words[0], tuple(resolve(TOOLS[words[0]], words[1:])))] = None
    return list(seen)


def test_the_docs_show_each_tool_and_many_commands() -> None:
    commands = documented()
    assert {tool for tool, _ in commands} == set(TOOLS)
    assert len(commands) >= 30, commands


def test_a_command_the_tool_lacks_is_caught() -> None:
    with pytest.raises(AssertionError, match="no command 'entity-remove'"):
        resolve(review_cli, ["entity-remove", "12"])
    with pytest.raises(AssertionError, match="no option --colour"):
        resolve(server_cli, ["--colour", "doctor"])
    assert resolve(server_cli, ["--instance", "DIR", "staff", "add", "--admin", "x"]) == [
        "staff",
        "add",
    ]


@pytest.mark.parametrize(("tool", "path"), documented(), ids=lambda v: " ".join(v) or "-")
def test_each_documented_command_answers_help(tool: str, path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(TOOLS[tool], [*path, "--help"], prog_name=tool)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join([tool, *path])} ")
