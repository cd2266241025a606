"""No trace of what the source writes: editors started without history, arguments warned."""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from submit import sensitive
from submit.cli import cli
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.editor import stub_editor
from tests.submit.support import Device


@pytest.mark.parametrize(
    ("name", "expected"),
    [("vim", sensitive.VIM_ARGS), ("nvim", sensitive.VIM_ARGS), ("nano", sensitive.NANO_ARGS)],
)
def test_a_known_editor_gets_its_no_trace_options_and_a_draft_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, expected: tuple[str, ...]
) -> None:
    editor, record = stub_editor(tmp_path, name)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    assert sensitive.edit_text() == "written in the editor"
    seen = json.loads(record.read_text())
    argv, env = seen["argv"], seen["env"]
    assert argv[1:-1] == list(expected)
    if name != "nano":
        assert argv[1:4] == ["-n", "-i", "NONE"]
        assert set(argv[5].split()) >= {"noundofile", "noswapfile", "nobackup", "nowritebackup"}
    assert argv[-1] == "draft.txt"
    draft = Path(seen["cwd"]) / argv[-1]
    ram = sensitive.ram_dir()
    assert ram is not None
    assert draft.is_relative_to(ram)
    assert env["TMPDIR"] == str(draft.parent)
    # The draft's directory is private to it, and gone afterwards with anything left in it.
    assert sorted(seen["dir"]) == [".held", "draft.txt"]  # .held: the run's, while it lives
    assert not draft.parent.exists()


def test_without_a_memory_backed_directory_no_draft_is_written_on_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Termux on Android has no /dev/shm and no $XDG_RUNTIME_DIR: a draft would go to flash."""
    editor, record = stub_editor(tmp_path, "nano")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(sensitive, "_RAM_DIRS", ("$XDG_RUNTIME_DIR",))
    disk = tmp_path / "disk"
    disk.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(disk))
    monkeypatch.setattr(sys, "stdin", io.StringIO("typed at the terminal\nsecond line\n"))
    text = sensitive.edit_text()
    drafted = json.loads(record.read_text())["argv"][-1] if record.exists() else None
    assert drafted is None, f"the editor was started on a draft on the disk: {drafted}"
    assert text == "typed at the terminal\nsecond line\n"
    assert list(disk.iterdir()) == []
    err = capsys.readouterr().err
    assert "Ctrl-D" in err
    assert "disk" in err


def test_an_unknown_editor_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    editor, record = stub_editor(tmp_path, "scribble")
    monkeypatch.setenv("VISUAL", str(editor))
    assert sensitive.edit_text() == "written in the editor"
    assert json.loads(record.read_text())["argv"][1:-1] == []
    assert "not an editor this tool knows" in capsys.readouterr().err


def test_the_message_as_an_argument_is_warned_about_once(
    device: Device, codename_file: Path
) -> None:
    result = device.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert result.exit_code == 0, result.output
    assert result.stderr.count("shell's history keeps it") == 1


def test_the_message_from_stdin_is_not_warned_about(device: Device, codename_file: Path) -> None:
    args = ["--message-file", "-", "--codename-file", str(codename_file)]
    result = device.run("send", *args, input="from stdin\n")
    assert result.exit_code == 0, result.output
    assert "history" not in result.stderr


def test_an_editor_is_known_by_what_runs_not_what_it_is_called(tmp_path: Path) -> None:
    editor, _record = stub_editor(tmp_path, "vim")
    alias = tmp_path / "bin" / "vi"
    alias.symlink_to(editor)
    assert sensitive.editor_command(str(alias))[1:] == list(sensitive.VIM_ARGS)
    other, _ = stub_editor(tmp_path, "nvi")
    (tmp_path / "bin" / "vi2").symlink_to(other)
    assert sensitive.editor_command(str(tmp_path / "bin" / "vi2")) == [
        str(tmp_path / "bin" / "vi2")
    ]


def test_a_codename_or_message_file_on_a_disk_is_named_as_left_there(
    device: Device,
    codename_file: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """The attack: a codename or a report a script read from a file stays in it, and after its
    removal in the flash's or disk's freed blocks, for whoever takes the phone; no word said so."""
    _image, mount = ext4
    on_disk = mount / "codename.txt"
    on_disk.write_text(codename_file.read_text())
    message = mount / "report.txt"
    message.write_text("The SHO at the checkpoint took money.")
    args = ["--message-file", str(message), "--codename-file", str(on_disk)]
    result = device.run("send", *args)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stderr.split())
    assert f"warning: {on_disk} is on a disk: the codename stays readable there" in flat, flat
    assert f"warning: {message} is on a disk: the report stays readable there" in flat, flat


def test_a_codename_file_in_memory_draws_no_warning(device: Device, codename_file: Path) -> None:
    ram = sensitive.ram_dir()
    if ram is None:
        pytest.skip("no memory-backed directory here")
    in_memory = Path(tempfile.mkdtemp(dir=ram)) / "codename.txt"
    try:
        in_memory.write_text(codename_file.read_text())
        result = device.run("replies", "--codename-file", str(in_memory))
        assert result.exit_code == 0, result.output
        assert "is on a disk" not in result.stderr
    finally:
        in_memory.unlink()
        in_memory.parent.rmdir()


def test_a_runtime_directory_on_the_flash_is_not_taken_for_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Termux with $XDG_RUNTIME_DIR set to its own tmp (as guides for Termux:X11 have it):
    the client took it for memory and wrote the report's draft there, on the flash, where
    removing it leaves the text in the freed blocks."""
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/block/dm-5 / f2fs rw,lazytime 0 0\n")
    monkeypatch.setattr(sensitive, "_MOUNTS", mounts)
    flash = tmp_path / "usr" / "tmp"
    flash.mkdir(parents=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(flash))
    monkeypatch.setattr(sensitive, "_RAM_DIRS", ("$XDG_RUNTIME_DIR",))
    editor, record = stub_editor(tmp_path, "nano")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setattr(sys, "stdin", io.StringIO("typed at the terminal\n"))
    text = sensitive.edit_text()
    drafted = json.loads(record.read_text())["cwd"] if record.exists() else None
    assert drafted is None, f"the editor was started on a draft on the flash, in {drafted}"
    assert text == "typed at the terminal\n"
    assert list(flash.iterdir()) == []
    assert sensitive.ram_dir() is None


def test_on_a_phone_with_no_memory_directory_no_hint_names_one(
    tmp_path: Path, device: Device, codename_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Termux, as it is: no /dev/shm, no $XDG_RUNTIME_DIR, every filesystem on the flash.
    Before: the warnings sent the frightened source to keep the codename in "memory
    (/dev/shm)", which does not exist there, so a `> /dev/shm/codename` failed, or they
    made that directory on the flash."""
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/block/dm-5 / f2fs rw,lazytime 0 0\n")
    monkeypatch.setattr(sensitive, "_MOUNTS", mounts)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(sensitive, "_RAM_DIRS", ("$XDG_RUNTIME_DIR",))
    read = device.run("replies", "--codename-file", str(codename_file))
    monkeypatch.setattr(sensitive, "output_file", lambda: tmp_path / "codename.txt")
    made = CliRunner().invoke(cli, ["--state", str(device.state), "new"])
    said = " ".join((read.stderr + made.stderr).split())
    assert said.count("is on a disk") == 2, said
    assert "/dev/shm" not in said, said
    assert "or keep the file in memory" not in said, said
    for told in ("written on its storage", "type it at the prompt", "write it down"):
        assert told in said, said


def test_the_instance_and_the_message_as_arguments_are_each_warned_about_in_their_own_words(
    device: Device, codename_file: Path
) -> None:
    """Before: one warning a run, the first option's, in the message's words: `--instance URL
    send -m TEXT` told to "leave it out to write in an editor" of the address, and said
    nothing of the report's text, which the history keeps too."""
    args = ["--instance", device.url, "send", "-m", "secret", "--codename-file", str(codename_file)]
    result = device.run(*args)
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "history keeps it" in line]
    assert len(said) == 2, said
    instance, message = said
    assert "--instance" in instance, instance
    assert "--pins-file" in instance, instance
    assert "editor" not in instance, instance
    assert "--message" in message, message
    assert "editor" in message, message
