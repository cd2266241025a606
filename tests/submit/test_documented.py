"""The client's commands in docs/submit.md run as written, and warn about nothing."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfWriter

from submit.cli import cli as submit_cli
from tests.submit.support import camera_photo
from tests.test_documented_commands import documented


def test_the_client_commands_of_the_docs_run_as_written(
    tmp_path: Path, server: str, authorities: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "pins.txt").write_text(
        f"instance {server}\n" + "".join(f"authority {a}\n" for a in authorities)
    )
    (tmp_path / "ledger.jpg").write_bytes(camera_photo())
    statement = PdfWriter()
    statement.add_blank_page(100, 100)
    with (tmp_path / "statement.pdf").open("wb") as out:
        statement.write(out)
    monkeypatch.chdir(tmp_path)
    codename = previous = ""
    for line in documented("submit.md"):
        words = shlex.split(line.replace("/media/stick", str(stick)), comments=True)
        # Loopback is reached directly; the test device and instance derive keys fast.
        args = ["--direct", "--fast-kdf", "--insecure-test-kdf", *words[1:]]
        if "--no-state" not in args:
            args = ["--state", str(tmp_path / "state"), *args]
        # `carry` takes the codename used so far, then the one `new` made last.
        typed = f"{previous}\n{codename}\n" if words[1] == "carry" else f"{codename}\n"
        result = CliRunner().invoke(submit_cli, args, input=typed)
        assert result.exit_code == 0, (line, result.output)
        assert "history" not in result.stderr, line
        if words[1:] == ["new"]:
            codename, previous = result.stdout.strip(), codename
