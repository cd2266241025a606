"""No trace of what reviewers write: editors without history, arguments warned, prompts."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import click
import pytest
from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from crypto import PrivateKey
from review.casework import triage
from review.cli import cli, sensitive
from review.present import disk
from review.workspace import Workspace, held
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.editor import stub_editor
from tests.review import killed
from tests.review.support import Server, review


@pytest.fixture
def filed(server: Server, workspace: Path, tmp_path: Path) -> Path:
    """A workspace holding one report."""
    server.submit("the SHO of Thana Saddar takes a cut")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    return workspace


def asked(workspace: Path, *args: str, answers: str) -> tuple[int, str]:
    """Run a command that asks for its text after the passphrase."""
    result = CliRunner().invoke(
        cli, ["--workspace", str(workspace), *args], input=f"{DEMO_PASSPHRASE}\n{answers}\n"
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "command"), [("vim", "note"), ("nvim", "reply"), ("nano", "note")]
)
def test_notes_and_replies_open_the_editor_without_traces(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, command: str
) -> None:
    editor, record = stub_editor(tmp_path, name)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    result = review(filed, command, "1")
    assert result.exit_code == 0, result.output
    seen = json.loads(record.read_text())
    expected = sensitive.NANO_ARGS if name == "nano" else sensitive.VIM_ARGS
    assert seen["argv"][1:-1] == list(expected)
    draft = Path(seen["argv"][-1])
    ram = held.ram_dir()
    assert ram is not None
    assert draft.is_relative_to(ram)
    assert seen["env"]["TMPDIR"] == str(draft.parent)
    assert not draft.parent.exists()
    assert "history" not in result.output


def test_search_tags_and_fields_are_asked_for_and_not_warned(filed: Path) -> None:
    code, out = asked(filed, "search", answers="thana")
    assert (code, "history" in out) == (0, False)
    assert "no reports" not in out
    code, out = asked(filed, "tag", "1", answers="police extortion")
    assert (code, "history" in out) == (0, False)
    code, out = asked(filed, "agency", "1", answers="Punjab Police")
    assert (code, "history" in out) == (0, False)
    workspace = Workspace.open(filed)
    u = workspace.unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    state = triage.load_state(u, 1)
    assert (state.agency, sorted(state.tags)) == ("Punjab Police", ["extortion", "police"])


@pytest.mark.parametrize(
    "args",
    [
        ("search", "thana"),
        ("note", "1", "seen it"),
        ("tag", "1", "a", "b"),
        ("district", "1", "Lahore"),
        ("list", "--agency", "Police"),
    ],
)
def test_text_given_as_an_argument_is_warned_about_once(filed: Path, args: tuple[str, ...]) -> None:
    result = review(filed, *args)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("shell's history keeps it") == 1


def test_redactions_are_asked_for_one_per_line_until_a_blank_one() -> None:
    @click.command()
    def ask_terms() -> None:
        for term in sensitive.asked_lines("Also redact", interactive=True):
            click.echo(f"got {term}")
        assert list(sensitive.asked_lines("never asked", interactive=False)) == []

    result = CliRunner().invoke(ask_terms, input="person:Shazia Bibi\nChak 41\n\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["got person:Shazia Bibi", "got Chak 41"]


@pytest.mark.parametrize("command", ["note", "reply"])
def test_a_text_taken_from_a_file_on_a_disk_is_named_as_left_there(
    filed: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
    command: str,
) -> None:
    """The attack: a reviewer drafts a note or a reply in a file and gives it with --file; sealed
    in the workspace, it stays in the clear in that file, and in the disk's blocks once removed."""
    _image, mount = ext4
    draft = mount / "draft.txt"
    draft.write_text("The second source saw the same agent.", "utf-8")
    result = review(filed, command, "1", "--file", str(draft))
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"warning: {draft} is on a disk: the text stays readable there" in flat, result.output


# An editor that saves the draft as vim does (written, then fsync'd) and leaves a file of
# its own beside it (a swap or backup file of an editor the tool does not tame).
_SAVING_EDITOR = """#!{python}
import os, sys
draft = sys.argv[-1]
for path in (draft, os.path.join(os.path.dirname(draft), ".draft.txt.swp")):
    with open(path, "w") as out:
        out.write({text!r} * 64)
        out.flush()
        os.fsync(out.fileno())
"""


def test_a_draft_written_on_a_disk_is_not_left_in_its_freed_blocks(
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack: with no memory-backed directory (a system without /dev/shm, or
    $XDG_RUNTIME_DIR on a disk) the draft of a note or reply is written on the disk, and
    removed as it was: its blocks, and those of what the editor left beside it, keep the
    text for whoever reads the seized disk's blocks."""
    image, mount = ext4
    secret = "Inspector Qadir Bux of Thana Kotri sells the girls. "
    editor = tmp_path / "bin" / "saving-editor"
    editor.parent.mkdir()
    editor.write_text(_SAVING_EDITOR.format(python=sys.executable, text=secret))
    editor.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    # The one memory-backed place the tool looks for is on this disk: as on a system
    # whose runtime directory is not a tmpfs.
    monkeypatch.setattr(held, "_RAM_DIRS", ("$XDG_RUNTIME_DIR",))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(mount))
    assert sensitive.edit_text().startswith(secret)
    assert list(mount.iterdir()) == [mount / "lost+found"]  # removed, as before
    os.sync()
    assert secret.encode() not in image.read_bytes(), "the draft is in the disk's freed blocks"


# An editor that leaves a file that cannot be overwritten: a socket (nvim's server socket,
# which it makes under $TMPDIR and leaves when it is killed).
_SOCKET_EDITOR = """#!{python}
import os, socket, sys
draft = sys.argv[-1]
with open(draft, "w") as out:
    out.write("written in the editor")
socket.socket(socket.AF_UNIX).bind(os.path.join(os.path.dirname(draft), "nvim.0"))
"""


def test_what_cannot_be_overwritten_beside_a_draft_is_removed_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "bin" / "socket-editor"
    editor.parent.mkdir()
    editor.write_text(_SOCKET_EDITOR.format(python=sys.executable))
    editor.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    # A short directory, as /run/user/N is: under pytest's numbered directories past the
    # thousandth the socket's path came to 108 bytes, more than AF_UNIX takes, and the editor
    # failed to make it.
    ram = Path(tempfile.mkdtemp(prefix="rz-"))
    try:
        monkeypatch.setattr(held, "_RAM_DIRS", ("$XDG_RUNTIME_DIR",))
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(ram))
        assert sensitive.edit_text() == "written in the editor"
        assert list(ram.iterdir()) == [], "the draft's directory is left behind"
    finally:
        shutil.rmtree(ram)


# Text options whose values are public or the tool's own (ids, keys, days, numbers, key
# file labels, which key files keep in the clear anyway): a shell's history may keep them.
PUBLIC_TEXT: Final = {
    ("workspace init", "instance_id"),
    ("workspace init", "server_key"),
    ("workspace init", "authorities"),
    ("workspace init", "reviewer"),
    ("workspace init", "name"),
    ("workspace enrol", "reviewer"),
    ("workspace enrol", "name"),
    ("keys subkeys destroy", "weeks"),
    ("keys reviewer-new", "label"),
    ("keys authority-init", "holders"),
    ("keys authority-init", "reviewers"),
    ("keys reviewer-add", "reviewer"),
    ("keys reviewer-add", "name"),
    ("keys reviewer-revoke", "reviewer"),
    ("keys admin-grant", "reviewer"),
    ("keys timestamp-new", "label"),
    ("exchange take-back", "bundle_id"),
    ("exchange take-back", "withdraw"),
    ("exchange take-back", "drop"),
    ("report list", "assignee"),
    ("report list", "since"),
    ("report list", "until"),
    ("report view", "pages"),
    ("triage assign", "reviewer"),
    ("escalation new", "attach"),
    ("escalation new", "as_is"),
    ("escalation ack", "deadline"),
    ("bodies keygen", "label"),
    ("bodies add", "encryption_key"),
    ("bodies add", "signing_key"),
    ("bodies open", "signers"),
}


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if name in getattr(group, "shortcuts", {}):
            continue  # the same command as under its group
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def test_every_text_the_workspace_seals_is_warned_about_when_typed_as_an_argument() -> None:
    """A tag, a designation or a body's name typed on the command line stays in the shell's
    history file in the clear, although the workspace keeps it only sealed."""
    unwarned = sorted(
        {
            (name, p.name or "")
            for name, command in _commands(cli)
            for p in command.params
            if isinstance(p.type, click.types.StringParamType)
            and not getattr(p, "is_flag", False)
            and p.callback
            not in (
                sensitive.warn_argument,
                sensitive.warn_unless_number,
                sensitive.warn_unless_listed,
            )
        }
        - PUBLIC_TEXT
    )
    assert unwarned == [], f"typed on the command line with no warning: {unwarned}"


@pytest.mark.parametrize(
    "args",
    [
        ("report", "list", "--tag", "gujrat"),
        ("names", "add", "1", "person", "x", "--designation", "SHO"),
    ],
)
def test_a_tag_or_designation_given_as_an_option_is_warned_about(
    filed: Path, args: tuple[str, ...]
) -> None:
    result = review(filed, *args)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("shell's history keeps it") == 1


def test_a_bodys_name_and_jurisdiction_are_asked_for_when_left_out(workspace: Path) -> None:
    key = PrivateKey.generate().public_key.to_text()
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(workspace), "bodies", "add", "--encryption-key", key, "--contact", "c"],
        input=f"Anti-Corruption Cell\nPunjab police\n{DEMO_PASSPHRASE}\n",
    )
    assert result.exit_code == 0, result.output
    assert "body 1: Anti-Corruption Cell" in result.output


def test_a_draft_left_by_a_command_killed_outright_is_removed_by_the_next(
    filed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: SIGKILL reaches no `finally`, so a command killed with the editor open
    left the note's draft in plaintext in memory-backed /dev/shm until the machine
    restarts, for whoever takes it running, or reads the locked account's files."""
    from tests.review.support import start_review

    secret = "Inspector Qadir Bux keeps the ledger in his car"
    path, record = killed.editor(tmp_path, secret)
    killed.use_editor(monkeypatch, path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    draft = killed.kill_at_editor(start_review(filed, "note", "1", cwd=cwd), record, 30)
    assert draft.read_text() == secret  # left in memory by the killed command

    stub, _seen = stub_editor(tmp_path, "vim")
    monkeypatch.setenv("EDITOR", str(stub))
    result = review(filed, "note", "1")
    assert result.exit_code == 0, result.output
    assert not draft.parent.exists(), (
        "the draft of a command killed outright stayed in memory-backed storage: "
        f"{sorted(p.name for p in draft.parent.iterdir())}"
    )


def _errors(output: str) -> str:
    """The tool's error, warning and hint lines: what reaches the normal screen unasked.

    (A prompt's own line, with what was typed, is drawn aside on a terminal.)
    """
    return "\n".join(line for line in output.splitlines() if line.startswith(sensitive.PROG))


@pytest.mark.parametrize(
    ("args", "answers"),
    [
        (("names", "confirm", "1"), "Nasreen Akhtar "),
        (("names", "confirm", "1"), "  Nasreen Akhtar"),
        (("names", "reject", "1"), "Nasreen Akhtar\t"),
        (("names", "correct", "1"), "Nasreen Akhtar \nNasreen"),
        (("names", "add", "1", "cnic"), " 0301 7654321 "),
    ],
)
def test_a_name_typed_with_a_stray_space_stays_out_of_the_error(
    filed: Path, args: tuple[str, ...], answers: str
) -> None:
    """The attack: a name typed at the prompt with a space before or after it (as a name copied
    from a report comes) was quoted back whole in the error, "report 1 names no entity
    'Nasreen Akhtar '", on the normal screen: only the typed value's exact quoted form went."""
    code, out = asked(filed, *args, answers=answers)
    assert code == 1, out
    said = _errors(out)
    assert "(what you gave)" in said, out
    assert "Nasreen" not in said
    assert "7654321" not in said


def test_a_value_given_is_taken_out_of_an_error_unquoted_too() -> None:
    """The attack: an error that echoes what was typed without quotes ("no agency Punjab
    Police here"), or in other case or spacing, drew it on the normal screen."""
    with click.Context(cli):
        sensitive.given("Nasreen Akhtar ")
        sensitive.given("0301-7654321")
        sensitive.given("in")  # short: left alone where unquoted, or every word would go
        said = sensitive.unquoted(
            "report 1 names no entity NASREEN   akhtar; in 0301-7654321 or 0301-76543210"
        )
    assert said == "report 1 names no entity (what you gave); in (what you gave) or 0301-76543210"


def test_a_report_number_asked_for_is_not_said_back_in_an_error(filed: Path) -> None:
    """`show -` asks for the number so that no command line holds it: "no report 99" on the
    normal screen would leave it in the scrollback all the same."""
    result = CliRunner().invoke(
        cli, ["--workspace", str(filed), "show", "-"], input=f"99\n{DEMO_PASSPHRASE}\n"
    )
    assert result.exit_code == 1, result.output
    said = _errors(result.output)
    assert "no report (what you gave)" in said
    assert "99" not in said
    shown = CliRunner().invoke(
        cli, ["--workspace", str(filed), "show", "-"], input=f"1\n{DEMO_PASSPHRASE}\n"
    )
    assert shown.exit_code == 0, shown.output
    assert "the SHO of Thana Saddar takes a cut" in shown.output


def test_an_editor_whose_crash_goes_to_a_crash_reporter_is_warned_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack: the tool's core limit of 0 holds no piped dump. An editor it starts is
    dumpable again once exec'd, and with apport in kernel.core_pattern its crash hands its
    memory, the note being written, to a program that keeps crash reports in /var/crash:
    the editor opened without a word of it."""
    pattern = tmp_path / "core_pattern"
    monkeypatch.setattr(disk, "_CORE_PATTERN", pattern)
    editor, _ = stub_editor(tmp_path, "vim")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))

    pattern.write_text("|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E\n")
    assert sensitive.edit_text() == "written in the editor"
    said = " ".join(capsys.readouterr().err.split())
    assert "a crash of the editor is handed to /usr/share/apport/apport" in said, said

    pattern.write_text("core\n")  # a core file, which the core limit of 0 the tool sets stops
    assert sensitive.edit_text() == "written in the editor"
    assert "crash" not in capsys.readouterr().err
