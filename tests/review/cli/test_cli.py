"""The command line: errors and hints, exit codes, passphrases only ever prompted."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KeyFile
from review import bidi
from review import workspace as ws
from review.cli import base, cli, main
from review.present import disk
from review.workspace import head
from tests.review.support import Server, on_the_disk, review


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report with one attachment."""
    server.submit("one report", [("files", "a.txt", b"attached", "text/plain")])
    assert (
        review(workspace, "exchange", "import", str(server.export(tmp_path / "e.rzb"))).exit_code
        == 0
    )
    return workspace


def test_a_wrong_passphrase_is_an_error_with_a_hint(filed: Path) -> None:
    result = review(filed, "list", passphrase="not the passphrase")
    assert result.exit_code == 1
    assert "raazdar-review: error: the key file 'Demo reviewer' does not unlock" in result.output
    assert "raazdar-review: hint: wrong passphrase" in result.output


def test_a_reviewer_not_enrolled_cannot_unlock(filed: Path) -> None:
    result = review(filed, "--as", "nobody", "list")
    assert result.exit_code == 1
    assert "no reviewer 'nobody' is enrolled" in result.output
    assert "hint: enrolled: demo-reviewer" in result.output


def test_a_missing_workspace_says_how_to_make_one(tmp_path: Path) -> None:
    result = review(tmp_path / "nowhere", "list")
    assert result.exit_code == 1
    assert "no workspace at" in result.output
    assert "raazdar-review workspace init" in result.output


def test_init_refuses_an_existing_workspace(filed: Path, server: Server) -> None:
    args = ["--instance-id", server.instance_id, "--server-key", server.signing_key_text]
    args += ["--key-file", str(server.reviewer_key_file), "--reviewer", "demo-reviewer"]
    result = review(filed, "workspace", "init", *args)
    assert result.exit_code == 1
    assert "already exists" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("triage", "status", "1", "escalated"), "report 1 cannot go from new to escalated"),
        (("triage", "status", "1", "closed"), "closing a report needs a reason"),
        (("show", "7"), "no report 7"),
        (("report", "open", "1", "9", "--out", "x", "--yes"), "report 1 has no attachment '9'"),
        (("links", "add", "1", "1"), "a report cannot be linked to itself"),
    ],
)
def test_refusals_are_errors_with_exit_status_1(
    filed: Path, args: tuple[str, ...], message: str
) -> None:
    result = review(filed, *args)
    assert result.exit_code == 1
    assert f"raazdar-review: error: {message}" in result.output


def test_open_never_overwrites_a_file(filed: Path, tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_bytes(b"mine")
    result = review(filed, "report", "open", "1", "1", "--out", str(target), "--yes")
    assert result.exit_code == 1
    assert target.read_bytes() == b"mine"


def test_open_refuses_to_write_plaintext_inside_the_workspace(filed: Path) -> None:
    result = review(
        filed, "report", "open", "1", "1", "--out", str(filed / "tmp" / "photo.jpg"), "--yes"
    )
    assert result.exit_code == 1
    assert "the workspace holds no plaintext" in result.output
    assert not (filed / "tmp" / "photo.jpg").exists()


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() run inside the test process: its signal handlers (SIGTERM and SIGHUP) and its
    lock on all memory would outlive the test, so they are left out (core files:
    tests/conftest.py)."""
    monkeypatch.setattr(base, "end_cleanly_on_signals", lambda: None)
    monkeypatch.setattr(disk, "lock_memory", lambda: False)


@pytest.mark.usefixtures("in_process")
def test_usage_errors_exit_2_in_the_tools_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["raazdar-review", "no-such-command"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("raazdar-review: error:")
    assert "raazdar-review: hint:" in err


@pytest.mark.usefixtures("in_process")
def test_runtime_errors_exit_1_through_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["raazdar-review", "-w", str(tmp_path / "none"), "list"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    assert "raazdar-review: error: no workspace at" in capsys.readouterr().err


def _commands(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found.append(command)
        if isinstance(command, click.Group):
            found += _commands(command)
    return found


def test_no_command_takes_a_passphrase_as_an_option_and_every_one_has_help() -> None:
    for command in [cli, *_commands(cli)]:
        assert command.help, command.name
        for param in command.params:
            # Where to read passphrases from, never a passphrase itself, nor from the environment.
            if param.name in ("passphrase_file", "passphrase_fd"):
                assert command is cli
                assert isinstance(param, click.Option)
                assert param.envvar is None
                continue
            assert "passphrase" not in (param.name or ""), (command.name, param.name)
            if isinstance(param, click.Option):
                assert param.help, (command.name, param.name)


def test_a_reply_can_be_written_in_the_editor_and_the_draft_is_removed(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.sh"
    drafts = tmp_path / "drafts.txt"
    editor.write_text(f'#!/bin/sh\necho "$1" >> {drafts}\nprintf "جواب from the editor" > "$1"\n')
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    result = review(filed, "reply", "1")
    assert result.exit_code == 0, result.output
    assert "جواب from the editor" in review(filed, "show", "1").output
    (draft,) = drafts.read_text().split()
    assert not Path(draft).exists()


def test_terminal_escapes_and_markup_in_a_report_are_shown_inert(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("clear \x1b[2J\x1b]0;owned\x07 screen [bold]not bold[/bold] [/oops]")
    assert (
        review(workspace, "exchange", "import", str(server.export(tmp_path / "e.rzb"))).exit_code
        == 0
    )
    result = review(workspace, "show", "1")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "[bold]not bold[/bold] [/oops]" in result.output


# Unicode's explicit embeddings, overrides and isolates (LRE ... PDI).
EXPLICIT_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_an_override_in_a_name_reaches_no_entity_listing(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source writes a right-to-left override inside an officer's name. The
    # names the tool finds keep it as written, and `names list` drew it in a table cell,
    # unclosed: a terminal that lays out bidi text reverses the rest of the row (the key,
    # the designation, the status the reviewer decides by), so a name reads as another.
    server.submit("SHO Ta\u202eriq Mehmood of Thana Saddar Kasur took the money \u2067at night")
    exported = server.export(tmp_path / "e.rzb")
    assert review(workspace, "exchange", "import", str(exported)).exit_code == 0
    for args in (("names", "list", "--report", "1"), ("names", "list", "--kind", "person")):
        result = review(workspace, *args)
        assert result.exit_code == 0, result.output
        leaked = [hex(ord(ch)) for ch in result.output if ch in EXPLICIT_BIDI]
        assert not leaked, f"`{' '.join(args)}` drew {leaked} to the terminal"
        assert "Tariq Mehmood" in result.output, result.output


def _flip_last_byte(workspace: Path, query: str, update: str) -> None:
    import sqlite3

    db = sqlite3.connect(workspace / "workspace.db", isolation_level=None)
    for key, data in db.execute(query).fetchall():
        damaged = bytearray(data)
        damaged[-1] ^= 1
        db.execute(update, (bytes(damaged), key))
    db.close()


def test_a_tampered_blob_is_refused_and_nothing_is_written(filed: Path, tmp_path: Path) -> None:
    _flip_last_byte(
        filed, "SELECT name, data FROM blob_data", "UPDATE blob_data SET data = ? WHERE name = ?"
    )
    out = tmp_path / "out" / "a.txt"
    out.parent.mkdir()
    result = review(filed, "report", "open", "1", "1", "--out", str(out), "--yes")
    assert result.exit_code == 1
    assert "raazdar-review: error:" in result.output
    assert list(out.parent.iterdir()) == []


def test_a_tampered_triage_record_is_an_error_not_a_traceback(filed: Path) -> None:
    u = ws.Workspace.open(filed).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    key = u.key
    u.workspace.close()
    _flip_last_byte(
        filed, "SELECT num, state FROM reports", "UPDATE reports SET state = ? WHERE num = ?"
    )
    refused = review(filed, "show", "1")
    assert refused.exit_code == 1
    # The head's tag covers the states: the unlock refuses the disk (test_tampered_state).
    assert "raazdar-review: error: the audit log on this disk was cut" in refused.output
    # Tagged again, as no attacker can: a record that does not open is still an error.
    with on_the_disk(filed) as conn:
        head.put(conn, key)
    result = review(filed, "show", "1")
    assert result.exit_code == 1
    assert "raazdar-review: error: record does not open" in result.output
    assert "audit verify" in result.output


URDU = "ایس ایچ او نے بھٹہ مالک سے رشوت لی"


@pytest.mark.parametrize(("rtl", "drawn"), [("visual", bidi.visual(URDU)), ("logical", URDU)])
def test_show_lays_urdu_out_as_the_terminal_ui_does(
    server: Server, workspace: Path, tmp_path: Path, rtl: str, drawn: str
) -> None:
    server.submit(URDU)
    assert (
        review(workspace, "exchange", "import", str(server.export(tmp_path / "u.rzb"))).exit_code
        == 0
    )
    result = review(workspace, "show", "1", "--rtl", rtl)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    (line,) = [line for line in lines if line.strip() == drawn]
    assert line.startswith(" ")  # right-aligned, as in the UI
    assert bidi.visual(URDU) != URDU


def test_a_key_file_of_test_grade_work_is_named_when_it_enters_a_workspace(
    server: Server, tmp_path: Path
) -> None:
    """The attack: the seizer copies the key file kept in keys/ and tries passphrases against it
    offline. One made with the tests' Argon2id work (`--fast-kdf`, as the demo's here) costs each
    try almost nothing: the tool took it in without a word."""
    root = tmp_path / "ws"
    created = review(
        root,
        "init",
        "--instance-id",
        server.instance_id,
        "--server-key",
        server.signing_key_text,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert created.exit_code == 0, created.output
    (kept,) = (root / "keys").iterdir()
    assert KeyFile.from_bytes(kept.read_bytes()).kdf.is_testing  # what the seizer finds
    flat = " ".join(created.output.split())
    assert "warning: the key file 'Demo reviewer' guards its keys with test-grade Argon2id" in flat


_WRITES = """#!{python}
import sys
with open(sys.argv[-1], "w") as out:
    out.write({text!r})
"""


def test_an_unforeseen_error_shows_no_traceback_and_keeps_what_was_written(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a bug (an exception nobody foresaw) in a command that had a report's words
    in hand. Python printed its traceback, the exception's message holding those words,
    into the terminal's scrollback (or the file stderr went to), and the note just written
    in the editor was lost with it."""
    from review.casework import triage

    secret = "Inspector Qadir Bux took the money"

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError(f"cannot file {secret!r}")

    editor = tmp_path / "bin" / "writes"
    editor.parent.mkdir()
    editor.write_text(_WRITES.format(python=sys.executable, text=secret))
    editor.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setattr(triage, "add_note", broken)
    result = review(filed, "triage", "note", "1")
    assert isinstance(result.exception, SystemExit), (
        f"a {type(result.exception).__name__} escaped as a traceback: {result.exception}"
    )
    assert result.exit_code == 1
    assert secret not in result.output, "the error drew the report's words"
    assert "raazdar-review: error: " in result.output
    assert "ValueError" in result.output
    assert "`raazdar-review triage note 1` opens it again" in result.output, result.output
