"""`raazdar staff-onion`: authorising and revoking staff devices for the staff onion."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.cli import main
from app.operations.tor.clients import StaffClients
from crypto.onion import OnionServiceKey, parse_client_public, parse_private_line
from tests.app.support import audit_trail

PRIVATE_LINE = re.compile(r"^    ([a-z2-7]{56}:descriptor:x25519:[A-Z2-7]{52})$", re.MULTILINE)
PRIVATE_KEY = re.compile(r"^    ([A-Z2-7]{52})$", re.MULTILINE)


def onion(runner: CliRunner, instance: Path, *args: str) -> Result:
    return runner.invoke(main, ["--instance", str(instance), "staff-onion", *args])


def shown_line(output: str) -> str:
    found = PRIVATE_LINE.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def test_add_client_prints_the_private_key_once_and_stores_only_the_public_half(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    result = onion(runner, instance, "add-client", "Alice-Laptop", "--shared")
    assert result.exit_code == 0, result.output
    assert "raazdar: authorised device alice-laptop" in result.output
    line = shown_line(result.output)
    service_id, key = parse_private_line(line)
    assert PRIVATE_KEY.findall(result.output) == [key.private_b32]
    assert "SIGHUP" in result.output  # the hint: how a running server picks it up

    tor_dir = instance / "tor"
    address = OnionServiceKey.from_tor((tor_dir / "staff-onion.key").read_text()).address
    assert address == f"{service_id}.onion"
    assert f"http://{address}/staff/" in result.output

    stored = tor_dir / "staff-clients" / "alice-laptop.pub"
    assert stored.read_text() == f"descriptor:x25519:{key.public_b32}\n"
    assert parse_client_public(stored.read_text()) == key.public_b32
    for path in (stored, tor_dir / "staff-onion.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    # The private half is nowhere under the instance.
    for path in instance.rglob("*"):
        if path.is_file():
            assert key.private_b32.encode() not in path.read_bytes(), path
    assert audit_trail(app)[-1] == (
        "console",
        "staff-onion-client-added",
        {"device": "alice-laptop", "shared": True},
    )


def test_each_device_gets_its_own_key_for_the_same_address(
    runner: CliRunner, instance: Path
) -> None:
    first = parse_private_line(
        shown_line(onion(runner, instance, "add-client", "a", "--shared").output)
    )
    second = parse_private_line(
        shown_line(onion(runner, instance, "add-client", "b", "--shared").output)
    )
    assert first[0] == second[0]
    assert first[1] != second[1]


def test_adding_a_name_twice_is_refused_and_keeps_the_first_key(
    runner: CliRunner, instance: Path
) -> None:
    onion(runner, instance, "add-client", "alice", "--shared")
    stored = instance / "tor" / "staff-clients" / "alice.pub"
    before = stored.read_text()
    result = onion(runner, instance, "add-client", "ALICE", "--shared")
    assert result.exit_code == 1
    assert "raazdar: error: a device named 'alice' is already authorised" in result.output
    assert stored.read_text() == before


@pytest.mark.parametrize(
    "name",
    ["", "-alice", "alice-", "al ice", "alice/../x", "../alice", "a" * 33, "alice.pub", "ålice"],
)
def test_bad_device_names_are_refused(runner: CliRunner, instance: Path, name: str) -> None:
    result = onion(runner, instance, "add-client", "--shared", "--", name)
    assert result.exit_code == 1
    assert "raazdar: error: bad device name" in result.output
    assert not (instance / "tor" / "staff-clients").exists() or not any(
        (instance / "tor" / "staff-clients").iterdir()
    )


def test_remove_client_revokes_just_that_device(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    onion(runner, instance, "add-client", "alice", "--shared")
    onion(runner, instance, "add-client", "bob", "--shared")
    result = onion(runner, instance, "remove-client", "Alice")
    assert result.exit_code == 0, result.output
    assert "raazdar: revoked device alice" in result.output
    assert "SIGHUP" in result.output
    assert StaffClients(instance / "tor").names() == ["bob"]
    assert audit_trail(app)[-1] == ("console", "staff-onion-client-removed", {"device": "alice"})

    result = onion(runner, instance, "remove-client", "bob")
    assert "the staff onion will not be published" in result.output


def test_removing_an_unknown_device_is_an_error(runner: CliRunner, instance: Path) -> None:
    result = onion(runner, instance, "remove-client", "nobody")
    assert result.exit_code == 1
    assert "raazdar: error: no device named 'nobody' is authorised" in result.output


def test_list_shows_the_address_and_the_public_keys_only(runner: CliRunner, instance: Path) -> None:
    result = onion(runner, instance, "list")
    assert result.exit_code == 0
    assert "no key yet" in result.output
    assert "not published" in result.output

    line = shown_line(onion(runner, instance, "add-client", "alice", "--shared").output)
    service_id, key = parse_private_line(line)
    result = onion(runner, instance, "list")
    assert result.exit_code == 0, result.output
    assert f"staff onion: {service_id}.onion" in result.output
    assert f"alice  descriptor:x25519:{key.public_b32}" in result.output
    assert key.private_b32 not in result.output


def test_a_damaged_key_file_is_left_out_and_reported(runner: CliRunner, instance: Path) -> None:
    onion(runner, instance, "add-client", "alice", "--shared")
    (instance / "tor" / "staff-clients" / "mallory.pub").write_text(
        "descriptor:x25519:AAAA ClientAuthV3=EVIL\n"
    )
    keys, problems = StaffClients(instance / "tor").public_keys()
    assert list(keys) == ["alice"]
    assert len(problems) == 1
    assert "mallory.pub" in problems[0]
    result = onion(runner, instance, "list")
    assert "unreadable, left out" in result.output
    assert "mallory  descriptor" not in result.output
