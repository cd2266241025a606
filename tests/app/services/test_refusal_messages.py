"""Refused reply bundles and keyrings say what was refused, that nothing changed, what next."""

from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.demo import DEMO_PASSPHRASE
from app.instance import InstancePaths
from crypto import KeyFile, SigningKey
from tests.app.operations.test_exchange import Review, store_files, submit


def cli(instance: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--instance", str(instance), *args])
    return result.exit_code, result.output


@pytest.fixture
def review(instance: Path) -> Review:
    data = (InstancePaths(instance).demo_keys / "reviewer.key").read_bytes()
    return Review(instance, KeyFile.from_bytes(data).unlock(DEMO_PASSPHRASE))


@pytest.fixture
def replies(app: Flask, instance: Path, review: Review, tmp_path: Path) -> Path:
    """An authentic reply bundle answering a fresh export."""
    client: FlaskClient = app.test_client()
    submit(client, "a report", b"a file")
    bundle = tmp_path / "export.rzb"
    assert cli(instance, "export", "--out", str(bundle))[0] == 0
    manifest, _ = review.read(bundle, tmp_path / "items")
    return review.replies(tmp_path / "replies.rzr", manifest, "hello", acks=())


def refused(instance: Path, bundle: Path) -> list[str]:
    """Import a bundle that must be refused without a change; its error and hint lines."""
    before = store_files(instance)
    status, output = cli(instance, "import-replies", str(bundle))
    assert status == 1, output
    assert store_files(instance) == before
    return output.splitlines()


COPY = "raazdar: hint: copy it again from the review workstation (`raazdar-review exchange export`)"


def test_garbage_is_refused_as_not_a_reply_bundle(instance: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.rzr"
    garbage.write_bytes(b"{not json at all\n" * 20)
    lines = refused(instance, garbage)
    assert lines[0].startswith(
        "raazdar: error: reply bundle refused: it is not a complete, well-formed reply bundle ("
    )
    assert lines[0].endswith("): nothing changed")
    assert lines[1] == COPY.replace("hint: ", "hint: it may be truncated or damaged: ") + (
        "; reply bundles end in .rzr"
    )


def test_a_flipped_signature_is_refused_as_altered(
    instance: Path, replies: Path, tmp_path: Path
) -> None:
    data = bytearray(replies.read_bytes())
    # The version line, the manifest's length, the manifest, then its signature.
    start = data.index(b"\n") + 1
    (length,) = struct.unpack(">I", data[start : start + 4])
    data[start + 4 + length] ^= 0x01
    altered = tmp_path / "altered.rzr"
    altered.write_bytes(bytes(data))
    assert refused(instance, altered) == [
        "raazdar: error: reply bundle refused: its signature does not verify: the file was "
        "altered or damaged: nothing changed",
        COPY,
    ]


def test_altered_contents_are_refused_as_altered(
    instance: Path, replies: Path, tmp_path: Path
) -> None:
    data = bytearray(replies.read_bytes())
    data[-1] ^= 0x01  # the last item's last byte
    altered = tmp_path / "altered.rzr"
    altered.write_bytes(bytes(data))
    assert refused(instance, altered) == [
        "raazdar: error: reply bundle refused: its contents do not match its signed manifest: "
        "the file was altered or damaged: nothing changed",
        COPY,
    ]


def test_a_damaged_key_encoding_is_refused_with_what_to_do(
    instance: Path, replies: Path, tmp_path: Path
) -> None:
    data = replies.read_bytes()
    assert b"rz-ed25519-public:" in data
    damaged = tmp_path / "damaged.rzr"
    # The signer's key (the seal's, before it in the manifest, is covered by the signature).
    at = data.index(b"rz-ed25519-public:", data.index(b'"signer"'))
    damaged.write_bytes(data[:at] + b"rz-ed2%519-public:" + data[at + 18 :])
    assert refused(instance, damaged) == [
        "raazdar: error: reply bundle refused: it is not a complete, well-formed reply bundle "
        "(expected a key starting 'rz-ed25519-public:', got 'rz-ed2%519-public:'): "
        "nothing changed",
        COPY.replace("hint: ", "hint: it may be truncated or damaged: ")
        + "; reply bundles end in .rzr",
    ]


def test_a_bundle_for_another_instance_is_refused_with_what_to_do(
    app: Flask, instance: Path, review: Review, tmp_path: Path
) -> None:
    client = app.test_client()
    submit(client, "a report", b"a file")
    bundle = tmp_path / "export.rzb"
    assert cli(instance, "export", "--out", str(bundle))[0] == 0
    manifest, _ = review.read(bundle, tmp_path / "items")
    other = review.replies(tmp_path / "other.rzr", manifest, "hi", instance_id="0" * 32)
    assert refused(instance, other) == [
        "raazdar: error: reply bundle refused: it was made for another Raazdar instance: "
        "nothing changed",
        "raazdar: hint: export the replies on the workstation set up for this server "
        "(compare `raazdar server-info` with its pins)",
    ]


def test_a_stranger_signed_bundle_is_refused_with_what_to_do(
    app: Flask, instance: Path, review: Review, tmp_path: Path
) -> None:
    client = app.test_client()
    submit(client, "a report", b"a file")
    bundle = tmp_path / "export.rzb"
    assert cli(instance, "export", "--out", str(bundle))[0] == 0
    manifest, _ = review.read(bundle, tmp_path / "items")
    forged = review.replies(
        tmp_path / "forged.rzr", manifest, "x", signer=SigningKey.generate(), acks=()
    )
    assert refused(instance, forged) == [
        "raazdar: error: reply bundle refused: it is not signed by a reviewer in the keyring "
        "in force: nothing changed",
        "raazdar: hint: export it again as a reviewer the keyring lists, or install the newer "
        "keyring first (`raazdar keyring install FILE`)",
    ]


def test_a_replay_is_refused_and_says_there_is_nothing_to_do(instance: Path, replies: Path) -> None:
    assert cli(instance, "import-replies", str(replies))[0] == 0
    assert refused(instance, replies) == [
        "raazdar: error: reply bundle refused: it was applied before: nothing changed",
        "raazdar: hint: nothing to do: its replies are already posted; "
        "send the next reply bundle instead",
    ]


def test_a_keyring_that_is_not_json_is_refused_with_what_to_do(
    instance: Path, tmp_path: Path
) -> None:
    garbage = tmp_path / "keyring-v2.json"
    garbage.write_bytes(b"{not json")
    status, output = cli(instance, "keyring", "install", str(garbage))
    assert status == 1
    lines = output.splitlines()
    assert lines[0].startswith("raazdar: error: keyring not installed: not a keyring manifest: ")
    assert lines[0].endswith(": nothing changed")
    assert lines[1] == (
        "raazdar: hint: it is damaged or not a keyring file: copy it again from the "
        "ceremony's medium"
    )


def test_an_altered_keyring_is_refused_as_altered(instance: Path, tmp_path: Path) -> None:
    current = sorted(InstancePaths(instance).manifests.glob("*.json"))[-1]
    signed = json.loads(current.read_text())
    text = json.dumps(signed).replace('"version": 1', '"version": 2', 1)
    altered = tmp_path / "keyring-v2.json"
    altered.write_text(text)
    status, output = cli(instance, "keyring", "install", str(altered))
    assert status == 1
    lines = output.splitlines()
    assert lines[0].startswith("raazdar: error: keyring not installed: ")
    assert lines[0].endswith(": nothing changed")
    assert lines[1].startswith("raazdar: hint: ")


def test_a_reply_bundle_of_a_newer_format_says_to_upgrade_the_server_first(
    instance: Path, review: Review, tmp_path: Path
) -> None:
    """A workstation upgraded before its server (servers go first) writes a format the
    server does not read: it was refused as truncated or damaged, to be copied again."""
    from crypto.bundle import write_bundle
    from crypto.exchange import ReplyManifest, new_bundle_id

    signer = review.reviewer.signing
    assert signer is not None
    manifest = ReplyManifest(new_bundle_id(), review.instance_id, dt.date.today(), (), (), ())
    newer = tmp_path / "newer.rzr"
    with newer.open("wb") as dst:
        write_bundle(dst, {**manifest.to_json(), "format": 99}, [], signer)
    lines = refused(instance, newer)
    assert any("a newer format than this server reads" in line for line in lines), lines
    assert any("upgrade this server" in line for line in lines), lines
