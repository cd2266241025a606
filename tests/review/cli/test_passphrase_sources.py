"""Passphrases from a file or a file descriptor, for scripts: no prompt, no warning noise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from review.cli import cli
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
