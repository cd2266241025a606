"""Passphrases from a file or a file descriptor, for scripts: no prompt, no warning noise."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from review.cli import cli
from review.workspace.held import ram_dir
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.review.support import Server

TOOL = Path(sys.executable).parent / "raazdar-review"


def run(workspace: Path, *args: str) -> tuple[int, str]:
    """Run with nothing on standard input: a prompt would fail."""
    result = CliRunner().invoke(cli, ["--workspace", str(workspace), *args], input="")
    return result.exit_code, result.output


def test_a_passphrase_file_unlocks_without_a_prompt(workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    status, output = run(workspace, "--passphrase-file", str(secret), "list")
    assert status == 0, output
    assert "Passphrase for" not in output


def test_a_wrong_passphrase_from_a_file_is_the_same_refusal(
    workspace: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("not the passphrase\n")
    status, output = run(workspace, "--passphrase-file", str(secret), "list")
    assert status == 1
    assert "raazdar-review: error: the key file 'Demo reviewer' does not unlock" in output


def test_an_empty_passphrase_file_says_what_is_missing(workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("")
    status, output = run(workspace, "--passphrase-file", str(secret), "list")
    assert status == 1
    assert (
        f"raazdar-review: error: no passphrase for Demo reviewer left in --passphrase-file {secret}"
    ) in output
    assert "hint: give one passphrase per line, in the order the prompts would ask" in output


def test_both_sources_at_once_is_a_usage_error(workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    status, output = run(
        workspace, "--passphrase-file", str(secret), "--passphrase-fd", "0", "list"
    )
    assert status == 2
    assert "not both" in output


def test_init_takes_the_new_workspace_passphrase_from_a_file(
    server: Server, tmp_path: Path
) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    root = tmp_path / "ws"
    keyring = server.paths.manifests / "000001.json"
    status, output = run(
        root,
        "--passphrase-file",
        str(secret),
        "init",
        "--keyring",
        str(keyring),
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert status == 0, output


def test_a_passphrase_fd_in_a_scripted_run_prints_no_warning(workspace: Path) -> None:
    read, write = os.pipe()
    os.write(write, f"{DEMO_PASSPHRASE}\n".encode())
    os.close(write)
    try:
        result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [str(TOOL), "--workspace", str(workspace), "--passphrase-fd", str(read), "list"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            pass_fds=(read,),
            check=False,
        )
    finally:
        os.close(read)
    assert result.returncode == 0, result.stderr
    assert "GetPassWarning" not in result.stderr
    assert "may be echoed" not in result.stderr
    assert "Passphrase for" not in result.stderr


def test_a_closed_fd_is_a_usage_error(workspace: Path) -> None:
    status, output = run(workspace, "--passphrase-fd", "97", "list")
    assert status == 2
    assert "file descriptor 97 is not open" in output


def test_a_passphrase_file_on_a_disk_is_named_as_a_passphrase_left_there(
    workspace: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """The attack: the passphrase a script read stays in the file, and after its removal in the
    disk's freed blocks, for whoever takes the disk; the tool used it without a word."""
    _image, mount = ext4
    secret = mount / "passphrase"
    secret.write_text(f"{DEMO_PASSPHRASE}\n")
    status, output = run(workspace, "--passphrase-file", str(secret), "list")
    assert status == 0, output
    flat = " ".join(output.split())
    assert f"warning: {secret} is on a disk" in flat, output
    assert "/dev/shm" in flat


def test_a_passphrase_file_in_memory_draws_no_warning(workspace: Path) -> None:
    ram = ram_dir()
    if ram is None:
        pytest.skip("no memory-backed directory here")
    with tempfile.TemporaryDirectory(dir=ram) as where:
        secret = Path(where) / "passphrase"
        secret.write_text(f"{DEMO_PASSPHRASE}\n")
        status, output = run(workspace, "--passphrase-file", str(secret), "list")
    assert status == 0, output
    assert "is on a disk" not in output
