"""The local state: private, written whole, locked while in use, and holding no secret."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crypto import KdfParams, SigningKey
from submit.errors import StateError
from submit.state import Pending, PendingItem, State, default_root, opened


def full_state(root: Path) -> State:
    state = State(root)
    state.instance = "http://" + "a" * 56 + ".onion"
    state.authorities = frozenset(SigningKey.generate().verify_key.fingerprint for _ in range(2))
    state.codename_salt = bytes(range(16))
    state.codename_kdf = KdfParams.TESTING
    state.pending = Pending(
        "ab" * 16,
        3,
        [PendingItem("0.rze", "report", 4335, bytes(32), "cd" * 16, None)],
        owner="ef" * 16,
    )
    return state


def test_the_state_round_trips(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    state.save()
    loaded = State.load(tmp_path / "state")
    assert loaded.to_json() == state.to_json()
    assert loaded.pending is not None
    assert loaded.pending.items[0].upload == "cd" * 16


def test_the_state_is_private_to_the_user(tmp_path: Path) -> None:
    full_state(tmp_path / "state").save()
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "state.json").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["state.json"]


def test_a_missing_state_is_empty_and_the_default_is_under_the_config_dir(tmp_path: Path) -> None:
    state = State.load(tmp_path / "nothing")
    assert state.instance is None
    assert state.manifest is None
    assert "raazdar-submit" in str(default_root())


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"format": 2}',
        b"[]",
        json.dumps(
            {
                "format": 1,
                "instance": None,
                "authorities": ["nope"],
                "codename": None,
                "manifest": None,
                "pending": None,
            }
        ).encode(),
        json.dumps(
            {
                "format": 1,
                "instance": None,
                "authorities": [],
                "codename": None,
                "manifest": None,
                "pending": {"submission": "x", "keyring_version": 1, "items": []},
            }
        ).encode(),
    ],
    ids=["not-json", "other-format", "not-object", "bad-fingerprint", "bad-pending"],
)
def test_a_damaged_state_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "state.json").write_bytes(content)
    with pytest.raises(StateError):
        State.load(tmp_path)


def test_a_pending_envelope_name_cannot_point_outside_the_state(tmp_path: Path) -> None:
    state = full_state(tmp_path)
    record = state.to_json()
    record["pending"]["items"][0]["name"] = "../../etc/passwd"
    (tmp_path / "state.json").write_text(json.dumps(record))
    with pytest.raises(StateError, match="malformed"):
        State.load(tmp_path)


def test_two_runs_cannot_use_one_state_at_once(tmp_path: Path) -> None:
    with opened(tmp_path / "state") as state:
        state.save()
        with (
            pytest.raises(StateError, match="another raazdar-submit is using"),
            opened(tmp_path / "state"),
        ):
            pass
    with opened(tmp_path / "state") as again:
        assert again.instance is None


def test_the_codename_has_no_field_in_the_state() -> None:
    fields = set(State(Path("x")).to_json())
    assert fields == {"format", "instance", "authorities", "codename", "manifest", "pending"}
    # "codename" holds the instance's public salt and KDF, never the words.
    state = full_state(Path("x"))
    assert set(state.to_json()["codename"]) == {"salt", "kdf"}
