"""A fault nobody foresaw, with a report's words in hand: said, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from submit import uploads
from tests.submit.support import Device

SECRET = "Inspector Qadir Bux took the money at Thana Kotri"


def test_an_unforeseen_error_shows_no_traceback_nor_what_the_report_says(
    device: Device, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a bug (an exception nobody foresaw) in `send` while the report's words are
    in hand. Python printed its traceback, the exception's message holding those words,
    into the terminal's scrollback (Termux keeps its sessions in the background) or the
    file stderr went to, where whoever takes the device reads them."""

    def broken(text: str, _language: str) -> bytes:
        raise ValueError(f"cannot seal {text!r}")

    monkeypatch.setattr(uploads, "report_bytes", broken)
    args = ("send", "--message-file", "-", "--codename-file", str(codename_file))
    result = device.run(*args, input=SECRET)
    assert isinstance(result.exception, SystemExit), (
        f"a {type(result.exception).__name__} escaped as a traceback: {result.exception}"
    )
    assert result.exit_code == 1
    assert SECRET not in result.output, "the error drew the report's words"
    assert "raazdar-submit: error: an unexpected ValueError" in result.stderr, result.stderr
