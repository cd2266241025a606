"""`raazdar-review init --server-info FILE`: nothing typed, one fingerprint read aloud."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.cli import main
from crypto import SigningKey
from tests.review.support import Server, review


def server_info(server: Server, tmp_path: Path) -> tuple[Path, str]:
    """Run `raazdar server-info --out FILE`; return the file and what it printed."""
    out = tmp_path / "server-info.json"
    result = CliRunner().invoke(
        main, ["--instance", str(server.instance), "server-info", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_server_info_says_its_keyring_pin_is_the_servers_word(
    server: Server, tmp_path: Path
) -> None:
    """A source copying pins from `server-info` of a seized server pins the seizer's keys:
    the output says where pins come from instead, apart from the lines scripts read."""
    result = CliRunner().invoke(main, ["--instance", str(server.instance), "server-info"])
    assert result.exit_code == 0, result.output
    assert "keyring pin            1 " in result.stdout
    assert "this server's word" in result.stderr, (
        f"server-info printed a source's keyring pin as if it vouched for it: {result.output}"
    )
    assert "raazdar-review keys show" in result.stderr
    assert "server's word" not in result.stdout  # deploy/demo.sh reads the lines from stdout


def init(root: Path, server: Server, *extra: str) -> str:
    result = review(
        root,
        "init",
        *extra,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    return f"{result.exit_code}\n{result.output}"


def test_server_info_prints_what_the_workstation_pins_and_no_private_key(
    server: Server, tmp_path: Path
) -> None:
    out, printed = server_info(server, tmp_path)
    public = server.signing_key_text
    fingerprint = str(
        SigningKey.from_text(server.paths.signing_key.read_text()).verify_key.fingerprint
    )
    assert f"instance id            {server.instance_id}" in printed
    assert f"server key             {public}" in printed
    assert f"server key fingerprint {fingerprint}" in printed
    assert "keyring version        1" in printed
    assert "keyring pin            1 " in printed  # a source's pins name it (docs/submit.md)
    assert "authority" in printed
    assert "onion" in printed
    private = server.paths.signing_key.read_text().strip()
    assert private not in printed
    assert private not in out.read_text()
    info = json.loads(out.read_text())
    assert info["server_key"] == public
    assert info["instance_id"] == server.instance_id


def test_init_takes_everything_from_the_server_info_and_prints_the_same_fingerprint(
    server: Server, tmp_path: Path
) -> None:
    out, printed = server_info(server, tmp_path)
    fingerprint = json.loads(out.read_text())["server_key_fingerprint"]
    result = init(tmp_path / "ws", server, "--server-info", str(out))
    assert result.startswith("0\n"), result
    assert f"server key fingerprint {fingerprint}" in result
    assert fingerprint in printed
    server.submit("a report")
    imported = review(tmp_path / "ws", "import", str(server.export(tmp_path / "export.rzb")))
    assert imported.exit_code == 0, imported.output


def test_a_server_info_whose_fingerprint_does_not_match_its_key_is_refused(
    server: Server, tmp_path: Path
) -> None:
    out, _ = server_info(server, tmp_path)
    info = json.loads(out.read_text())
    info["server_key"] = SigningKey.generate().verify_key.to_text()
    out.write_text(json.dumps(info))
    result = init(tmp_path / "ws", server, "--server-info", str(out))
    assert result.startswith("1\n"), result
    assert "server info refused: the server key's fingerprint does not match the key" in result
    assert not (tmp_path / "ws").exists()


def test_a_typed_server_key_must_agree_with_the_server_info(server: Server, tmp_path: Path) -> None:
    out, _ = server_info(server, tmp_path)
    typed = SigningKey.generate().verify_key.to_text()
    result = init(tmp_path / "ws", server, "--server-info", str(out), "--server-key", typed)
    assert result.startswith("1\n"), result
    assert "--server-key differs from the server info's server key" in result
