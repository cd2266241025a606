"""The three command lines fail alike: `TOOL: error:`/`TOOL: hint:` lines, exit 1 or 2, no escapes.

`raazdar`, `raazdar-review` and `raazdar-submit` each have their own error frame
(the packages may not import each other, and `crypto/` holds key material, not
terminal output), so this one test pins the behaviour they share: it runs the
installed tools' error paths and compares what each prints, with the tool's
name taken out. An error that quotes a path or a value from outside must not
put a control character on the terminal: a file name can hold an escape
sequence that rewrites the screen.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from app.cli import base as app_frame
from review.cli import base as review_frame
from review.present import text as review_text
from submit import cli as submit_frame

BIN = Path(sys.executable).parent
ESCAPE = "\x1b[2J\x1b]0;owned\x07"
# Each tool's entry point, and the click group it runs.
ENTRIES: dict[str, tuple[Callable[[], None], click.Group]] = {
    "raazdar": (app_frame.run, app_frame.main),
    "raazdar-review": (review_frame.main, review_frame.cli),
    "raazdar-submit": (submit_frame.main, submit_frame.cli),
}
CLEANERS: dict[str, Callable[[str], str]] = {
    "raazdar": app_frame.clean,
    "raazdar-review": review_text.clean,
    "raazdar-submit": submit_frame.clean,
}


def run(tool: str, *args: str, cwd: Path) -> tuple[int, str, list[str]]:
    """Run an installed tool; return its exit status, stdout and stderr lines, name replaced."""
    done = subprocess.run(  # noqa: S603 - our own tools, from this venv
        [str(BIN / tool), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout, done.stderr.replace(tool, "TOOL").splitlines()


def control(ch: str) -> bool:
    """A C0 or C1 control character other than a line break or a tab."""
    return (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in "\n\t"


def unreadable(tool: str, where: Path) -> list[str]:
    """Arguments that make `tool` fail on a path it cannot read, named with an escape sequence."""
    missing = str(where / f"gone{ESCAPE}")
    return {
        "raazdar": ["--instance", missing, "migrate"],
        "raazdar-review": ["--workspace", missing, "audit", "verify"],
        "raazdar-submit": ["--state", str(where), "replies", "--codename-file", missing],
    }[tool]


@pytest.mark.parametrize("text", ["ok\tline\nnext", "\x1b[31m", "a\rb", "\x7f\x9b\x00", "اردو"])
def test_every_frame_cleans_text_alike(text: str) -> None:
    cleaned = {tool: clean(text) for tool, clean in CLEANERS.items()}
    assert len(set(cleaned.values())) == 1, cleaned
    (result,) = set(cleaned.values())
    assert not any(control(ch) for ch in result)
    assert result.replace("\ufffd", "") == "".join(ch for ch in text if not control(ch))


def test_the_three_tools_share_one_error_frame(tmp_path: Path) -> None:
    seen: dict[str, list[object]] = {}
    for tool in CLEANERS:
        usage = run(tool, "--no-such-option", cwd=tmp_path)
        command = run(tool, "no-such-command", cwd=tmp_path)
        status, out, err = run(tool, *unreadable(tool, tmp_path), cwd=tmp_path)
        # What varies by tool is only the wording of the project's own error.
        assert status == 1, err
        assert out == ""
        assert err[0].startswith("TOOL: error: "), err
        assert all(line.startswith(("TOOL: error: ", "TOOL: hint: ")) for line in err), err
        assert "gone\ufffd[2J\ufffd]0;owned\ufffd" in err[0]
        assert not any(ch < " " for line in err for ch in line), err
        seen[tool] = [usage, command]
    assert seen["raazdar"] == [
        (
            2,
            "",
            [
                "TOOL: error: No such option '--no-such-option'.",
                "TOOL: hint: run `TOOL --help` for usage",
            ],
        ),
        (
            2,
            "",
            [
                "TOOL: error: No such command 'no-such-command'.",
                "TOOL: hint: run `TOOL --help` for usage",
            ],
        ),
    ]
    assert seen["raazdar-review"] == seen["raazdar"]
    assert seen["raazdar-submit"] == seen["raazdar"]


@pytest.mark.parametrize(
    ("raised", "status", "lines"),
    [
        (click.exceptions.Abort(), 1, ["TOOL: error: aborted"]),
        (
            click.UsageError("bad value \x1b[2J"),
            2,
            ["TOOL: error: bad value \ufffd[2J", "TOOL: hint: run `TOOL --help` for usage"],
        ),
        (
            click.ClickException("the editor failed"),
            1,
            ["TOOL: error: the editor failed", "TOOL: hint: run `TOOL --help` for usage"],
        ),
    ],
    ids=["abort", "usage", "click-error"],
)
def test_every_entry_point_frames_aborts_and_click_errors_alike(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: Exception,
    status: int,
    lines: list[str],
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise raised

    for tool, (entry, group) in ENTRIES.items():
        monkeypatch.setattr(group, "main", interrupted)
        with pytest.raises(SystemExit) as exited:
            entry()
        assert exited.value.code == status, tool
        err = capsys.readouterr().err.replace(tool, "TOOL").splitlines()
        assert err == lines, tool
