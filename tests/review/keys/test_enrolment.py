"""Enrolment: only administrators, and only keys whose holder proves possession of both halves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, KeyFile, KeyPair, SigningKey
from review import workspace as ws
from review.errors import UnlockError
from review.keys.enrolment import enrol_key
from tests.review.support import Server, review

PW = "new reviewer passphrase"


def _key_file(keys: KeyPair | None = None) -> bytes:
    return KeyFile.create(
        keys or KeyPair.generate(), PW, kind="reviewer", label="New", params=KdfParams.TESTING
    ).to_bytes()


def _old_format_with_x25519_of(data: bytes, other: bytes) -> bytes:
    """What a carrier makes of a key file: the old format, another X25519 key in it."""
    doc = {k: v for k, v in json.loads(data).items() if k != "binding"} | {"format": 1}
    doc["public"] = {"x25519": json.loads(other)["public"]["x25519"]} | {
        "ed25519": doc["public"]["ed25519"]
    }
    return json.dumps(doc).encode()


def _enrolled(workspace: Path) -> list[str]:
    opened = ws.Workspace.open(workspace)
    try:
        return opened.reviewer_ids()
    finally:
        opened.close()


def test_a_holder_who_proves_possession_is_enrolled(unlocked: ws.Unlocked, workspace: Path) -> None:
    enrol_key(unlocked, reviewer="new", name="New", key_file=_key_file(), ask=lambda _: PW)

    assert "new" in _enrolled(workspace)
    assert ws.Workspace.open(workspace).unlock("new", lambda _: PW).reviewer == "new"


def test_an_x25519_key_swapped_in_transit_cannot_prove_possession(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    edited = _old_format_with_x25519_of(_key_file(), _key_file())

    with pytest.raises(UnlockError):
        enrol_key(unlocked, reviewer="new", name="New", key_file=edited, ask=lambda _: PW)
    assert "new" not in _enrolled(workspace)


def test_a_bound_key_file_with_an_edited_x25519_key_is_refused_before_any_passphrase(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    doc = json.loads(_key_file())
    doc["public"]["x25519"] = json.loads(_key_file())["public"]["x25519"]
    asked: list[str] = []

    def ask(label: str) -> str:
        asked.append(label)
        return PW

    with pytest.raises(UnlockError, match="altered"):
        enrol_key(
            unlocked,
            reviewer="new",
            name="New",
            key_file=json.dumps(doc).encode(),
            ask=ask,
        )
    assert asked == []
    assert "new" not in _enrolled(workspace)


def test_a_wrong_passphrase_enrols_nothing(unlocked: ws.Unlocked, workspace: Path) -> None:
    with pytest.raises(UnlockError, match="does not unlock"):
        enrol_key(unlocked, reviewer="new", name="New", key_file=_key_file(), ask=lambda _: "guess")
    assert "new" not in _enrolled(workspace)


def test_a_reviewer_who_is_not_an_administrator_enrols_nothing(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    enrol_key(unlocked, reviewer="second", name="S", key_file=_key_file(), ask=lambda _: PW)
    second = ws.Workspace.open(workspace).unlock("second", lambda _: PW)

    with pytest.raises(UnlockError, match="only an administrator"):
        enrol_key(second, reviewer="stand-in", name="S", key_file=_key_file(), ask=lambda _: PW)
    assert "stand-in" not in _enrolled(workspace)
    second.workspace.close()


def test_a_workspace_that_pins_authorities_enrols_nothing_before_its_keyring(
    server: Server, tmp_path: Path
) -> None:
    root = tmp_path / "pinned"
    pin = str(SigningKey.generate().verify_key.fingerprint)
    created = review(
        root,
        "init",
        "--instance-id",
        server.instance_id,
        "--server-key",
        server.signing_key_text,
        "--authority",
        pin,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert created.exit_code == 0, created.output
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)

    with pytest.raises(UnlockError, match="no keyring is installed"):
        enrol_key(u, reviewer="new", name="New", key_file=_key_file(), ask=lambda _: PW)
    assert "new" not in u.workspace.reviewer_ids()
    u.workspace.close()
