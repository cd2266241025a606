"""A report number asked for (`-`) is not said back when the command succeeds either.

The attack: `triage status - in-review` asks for the number so that neither the shell's
history nor the command line every user reads (`ps`) holds which report was worked on;
errors left it out already. But the success line, "report 1: in-review", went to the
normal screen, and the terminal's scrollback kept it all the same: 25 such lines, in
triage, links, names, replies, `report open` and escalations.
"""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from review.cli import cli
from tests.review.support import Server, review

CLI: Path = Path(__file__).parents[3] / "review" / "cli"


def test_a_report_number_asked_for_is_not_in_the_success_line(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("the SHO of Thana Saddar takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0

    done = CliRunner().invoke(
        cli,
        ["--workspace", str(workspace), "triage", "status", "-", "in-review"],
        input=f"1\n{DEMO_PASSPHRASE}\n",
    )

    assert done.exit_code == 0, done.output
    said = done.output.partition("Passphrase")[2]  # after the prompts' echo
    assert "in-review" in said
    assert "1" not in said, said

    # A count that happens to equal the number is still said: "1 in all" became
    # "(what you gave) in all".
    tagged = CliRunner().invoke(
        cli,
        ["--workspace", str(workspace), "triage", "tag", "-", "ledger"],
        input=f"1\n{DEMO_PASSPHRASE}\n",
    )
    assert tagged.exit_code == 0, tagged.output
    said = " ".join(tagged.output.partition("Passphrase")[2].split())
    assert "report (what you gave): tags added, 1 in all" in said, said


def _report_commands(tree: ast.Module) -> list[ast.FunctionDef]:
    """The module's commands given a report number (`type=REPORT`), not paged."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        marks = [ast.unparse(d) for d in node.decorator_list]
        if any("type=REPORT" in m for m in marks) and "paging.paged" not in marks:
            found.append(node)
    return found


def _echoes(node: ast.AST, helpers: dict[str, ast.FunctionDef], seen: set[str]) -> list[str]:
    """Direct `click.echo`/`click.secho` calls in `node` and the module's functions it calls."""
    out = []
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        name = ast.unparse(call.func)
        if name in ("click.echo", "click.secho"):
            out.append(f"line {call.lineno}: {ast.unparse(call)[:80]}")
        elif name in helpers and name not in seen:
            seen.add(name)
            out += _echoes(helpers[name], helpers, seen)
    return out


def test_every_command_given_a_report_number_speaks_through_tell() -> None:
    """Every unpaged command taking a report number (and each helper it calls) writes through
    `sensitive.tell`, which takes out a number asked for, never `click.echo` itself."""
    direct = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        for command in _report_commands(tree):
            direct += [f"{path.name} {command.name} {e}" for e in _echoes(command, helpers, set())]
    assert not direct, "\n".join(direct)
