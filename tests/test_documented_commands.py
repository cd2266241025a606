"""The commands the docs teach keep report content off the command line, and so out of history.

Every `raazdar-submit` and `raazdar-review` command in the shell blocks of
docs/submit.md and docs/review-workstation.md is parsed exactly as written by
the tool's own command line: none may give a value to a parameter that the
tool marks as sensitive (the ones that warn about shell history), and so no
report text, note, search term, name or redaction string is in its argv. The
client's commands are also run as written (tests/submit/test_documented.py).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from review.cli import cli as review_cli
from review.cli import sensitive as review_sensitive
from submit import sensitive as submit_sensitive
from submit.cli import cli as submit_cli

DOCS = Path(__file__).parents[1] / "docs"
TOOLS = {"raazdar-submit": submit_cli, "raazdar-review": review_cli}
WARNINGS = (submit_sensitive.warn_argument, review_sensitive.warn_argument)


def documented(name: str) -> list[str]:
    """The tools' command lines in a doc's ```sh blocks, continuation lines joined."""
    text = (DOCS / name).read_text("utf-8")
    blocks = re.findall(r"^\s*```sh\n(.*?)^\s*```", text, flags=re.MULTILINE | re.DOTALL)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip().split(" ")[0] in TOOLS]


def given(group: click.Group, args: list[str]) -> Iterator[tuple[click.Parameter, object]]:
    """Each parameter the arguments give a value to, resolved as click resolves them."""
    ctx = group.make_context("prog", list(args), resilient_parsing=True)
    while True:
        for param in ctx.command.params:
            value = ctx.params.get(param.name or "")
            source = ctx.get_parameter_source(param.name or "")
            if source == click.core.ParameterSource.COMMANDLINE:
                yield param, value
        rest = [*ctx._protected_args, *ctx.args]
        if not isinstance(ctx.command, click.Group) or not rest:
            return
        name, command, rest = ctx.command.resolve_command(ctx, rest)
        assert command is not None, rest
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=True)


def sensitive(param: click.Parameter) -> bool:
    return param.callback in WARNINGS


@pytest.mark.parametrize("doc", ["submit.md", "review-workstation.md"])
def test_no_documented_command_puts_report_content_on_the_command_line(doc: str) -> None:
    commands = documented(doc)
    assert len(commands) >= 5, commands
    for line in commands:
        words = shlex.split(line, comments=True)
        found = [(p.name, v) for p, v in given(TOOLS[words[0]], words[1:]) if sensitive(p) and v]
        assert found == [], line
        assert not {"-m", "--message", "--summary", "--redact", "--note"} & set(words), line


def test_the_gate_sees_a_sensitive_argument_where_there_is_one() -> None:
    words = shlex.split("raazdar-review --as x note 12 'the SHO took money'")
    assert [p.name for p, _ in given(review_cli, words[1:]) if sensitive(p)] == ["text"]
    words = shlex.split("raazdar-submit send -m 'what happened' a.jpg")
    assert [p.name for p, _ in given(submit_cli, words[1:]) if sensitive(p)] == ["message"]
