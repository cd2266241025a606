"""The README's commands: each documented command exists in the venv its first command builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOOLS = ("raazdar", "raazdar-review", "raazdar-submit")
# A word that is a subcommand, not a placeholder (N, BUNDLE.rzb) or an option.
SUBCOMMAND = re.compile(r"[a-z][a-z0-9-]*")


def sh_blocks(text: str) -> list[str]:
    """The README's shell code blocks."""
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def documented_commands() -> list[tuple[str, ...]]:
    """Every `TOOL [subcommand …]` the README's shell blocks show, once each."""
    found: dict[tuple[str, ...], None] = {}
    for block in sh_blocks(README):
        for line in block.splitlines():
            words = line.split("#", 1)[0].split()
            if not words or words[0] not in TOOLS:
                continue
            command = [words[0]]
            rest = words[1:]
            while rest and rest[0].startswith("--"):
                # A global option and its value (`--instance DIR`) come before the subcommand.
                rest = rest[2:] if len(rest) > 1 and not rest[1].startswith("-") else rest[1:]
            for word in rest:
                if not SUBCOMMAND.fullmatch(word):
                    break
                command.append(word)
            found[tuple(command)] = None
    return list(found)


def test_the_readme_documents_each_tool() -> None:
    assert {command[0] for command in documented_commands()} == set(TOOLS)


@pytest.mark.parametrize("command", documented_commands(), ids=" ".join)
def test_each_documented_command_runs_in_the_venv(command: tuple[str, ...]) -> None:
    tool = Path(sys.executable).parent / command[0]
    assert tool.exists(), f"{tool} is missing: the README's first command must install it"
    result = subprocess.run(  # noqa: S603 - a fixed tool from our own venv
        [str(tool), *command[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_both_readme_commands_install_the_same_extras() -> None:
    demo = (ROOT / "deploy" / "demo.sh").read_text(encoding="utf-8")
    tests = (ROOT / "tests" / "run.sh").read_text(encoding="utf-8")
    wanted = re.search(r'RAAZDAR_EXTRAS="([^"]+)"', tests)
    assert wanted is not None
    assert f"RAAZDAR_EXTRAS:-{wanted.group(1)}" in demo
