"""The local state: sealed under the codename, private, written whole, locked while in use."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from crypto import HybridPrivateKey, KdfParams, SigningKey
from crypto.subkeys import ListRank
from crypto.vault import Vault
from submit.errors import StateError
from submit.state import (
    DEVICE_FILE,
    Pending,
    PendingItem,
    State,
    amnesic,
    default_root,
    device_vault,
    opened,
)
from submit.uploads import discard

CODENAME = "one two three four five six seven eight"
VAULT = Vault.derive(CODENAME, bytes(range(16)), KdfParams.TESTING)
INSTANCE = "http://" + "a" * 56 + ".onion"


def full_state(root: Path, vault: Vault | None = VAULT) -> State:
    state = State(root, vault=vault)
    state.instance = INSTANCE
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


def test_the_state_round_trips_under_its_vault(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    state.save()
    loaded = State.load(tmp_path / "state", VAULT)
    assert loaded.to_json() == state.to_json()
    assert loaded.pending is not None
    assert loaded.pending.items[0].upload == "cd" * 16


def test_without_the_codename_the_state_shows_nothing_it_holds(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    state.save()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir())
    for needle in (b"onion", b"a" * 56, b"cd" * 16, b"ef" * 16, b"ab" * 16):
        assert needle not in raw
    other = Vault.derive("another", bytes(range(16)), KdfParams.TESTING)
    assert State.load(tmp_path / "state", other).instance is None


def test_the_state_is_private_to_the_user(tmp_path: Path) -> None:
    full_state(tmp_path / "state").save()
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    (path,) = (tmp_path / "state").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.name == f"{VAULT.name}.state"


def test_an_amnesic_state_writes_nothing_and_cleans_its_scratch(tmp_path: Path) -> None:
    with amnesic() as state:
        assert state.vault is None
        full_state(state.root, vault=None).save()
        assert [p.name for p in state.root.iterdir()] == [".held"]  # the run's, while it lives
        scratch = state.root
    assert not scratch.exists()


def test_a_missing_state_is_empty_and_the_default_is_under_the_config_dir(tmp_path: Path) -> None:
    state = State.load(tmp_path / "nothing", VAULT)
    assert state.instance is None
    assert state.manifest is None
    assert "raazdar-submit" in str(default_root())


def test_the_device_salt_is_made_once_and_keeps_one_vault_per_codename(tmp_path: Path) -> None:
    first = device_vault(tmp_path, CODENAME, fast=True)
    again = device_vault(tmp_path, CODENAME)
    assert first.name == again.name
    assert device_vault(tmp_path, "x").name != first.name
    assert CODENAME.encode() not in (tmp_path / DEVICE_FILE).read_bytes()


@pytest.mark.parametrize("content", [b"not json", b"{}", b'{"format":2,"salt":1,"kdf":{}}'])
def test_a_damaged_device_file_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / DEVICE_FILE).write_bytes(content)
    with pytest.raises(StateError):
        device_vault(tmp_path, CODENAME)


def test_a_damaged_state_is_refused(tmp_path: Path) -> None:
    (tmp_path / f"{VAULT.name}.state").write_bytes(b"x" * 100)
    with pytest.raises(StateError, match="does not open"):
        State.load(tmp_path, VAULT)


def test_a_pending_envelope_name_cannot_point_outside_the_state(tmp_path: Path) -> None:
    state = full_state(tmp_path)
    record = state.to_json()
    record["pending"]["items"][0]["name"] = "../../etc/passwd"
    with pytest.raises(StateError, match="malformed"):
        State._from_json(tmp_path, record, VAULT)


def test_two_runs_cannot_use_one_state_at_once(tmp_path: Path) -> None:
    with opened(tmp_path / "state", CODENAME, fast_kdf=True) as state:
        state.save()
        with (
            pytest.raises(StateError, match="another raazdar-submit is using"),
            opened(tmp_path / "state", CODENAME),
        ):
            pass
    with opened(tmp_path / "state", CODENAME) as again:
        assert again.instance is None


def test_the_codename_has_no_field_in_the_state() -> None:
    fields = set(State(Path("x")).to_json())
    assert fields == {
        "format",
        "instance",
        "authorities",
        "codename",
        "manifest",
        "pending",
        "prekeys",
        "shown",
        "subkeys",
        "read",
        "deleted",
        "tofu",
    }
    # "codename" holds the instance's public salt and KDF, never the words.
    state = full_state(Path("x"))
    assert set(state.to_json()["codename"]) == {"salt", "kdf"}


def test_a_discarded_submission_takes_its_reply_prekeys_along(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    kept = [HybridPrivateKey.generate()]
    state.prekeys = list(kept)
    assert state.pending is not None
    state.pending.prekeys = [HybridPrivateKey.generate() for _ in range(4)]
    state.save()
    waiting = State.load(tmp_path / "state", VAULT).pending
    assert waiting is not None
    assert len(waiting.prekeys) == 4

    discard(state)
    loaded = State.load(tmp_path / "state", VAULT)
    assert (loaded.pending, loaded.prekeys) == (None, kept)


def test_a_discarded_submission_whose_report_is_stored_keeps_its_reply_prekeys(
    tmp_path: Path,
) -> None:
    # Its report reaches the reviewers: replies sealed to its prekeys must still open.
    state = full_state(tmp_path / "state")
    assert state.pending is not None
    state.pending.items[0].item = "ab" * 16
    made = [HybridPrivateKey.generate() for _ in range(4)]
    state.pending.prekeys = list(made)
    discard(state)
    assert State.load(tmp_path / "state", VAULT).prekeys == made


def test_a_pending_record_without_prekeys_is_read_as_having_none() -> None:
    record = full_state(Path("x")).to_json()["pending"]
    del record["prekeys"]
    assert Pending.from_json(record).prekeys == []


def test_a_device_file_asking_for_more_argon2id_work_than_the_client_writes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone who can write the phone's storage plants a device file asking for 4 GiB
    # and 16 passes: the source's next codename would have the client take the memory
    # (killed, or the phone unusable for minutes) before anything could be refused.
    hostile = KdfParams(16, 4 * 1024**3)
    record = {"format": 2, "salt": "AAAAAAAAAAAAAAAAAAAAAA", "kdf": hostile.to_dict()}
    (tmp_path / DEVICE_FILE).write_bytes(json.dumps(record).encode())
    asked: list[KdfParams] = []

    def derive(self: KdfParams, secret: bytes, salt: bytes, size: int) -> bytes:
        asked.append(self)
        return bytes(size)

    monkeypatch.setattr(KdfParams, "derive", derive)
    refused = None
    try:
        device_vault(tmp_path, CODENAME)
    except StateError as exc:
        refused = str(exc)
    assert asked == [], "the client ran Argon2id with the device file's 4 GiB and 16 passes"
    assert refused is not None
    assert "more Argon2id work" in refused


def test_a_forgotten_prekey_leaves_no_old_state_behind_in_place(tmp_path: Path) -> None:
    # A reply sealed to a prekey was read: the prekey's secret goes, and the state that held
    # it must not stay in the blocks of the file the new state was renamed over. Someone
    # with the device and the codename would unseal it and open that reply's every copy.
    state = full_state(tmp_path / "state")
    key = HybridPrivateKey.generate()
    state.prekeys = [key]
    state.save()
    assert state.path is not None
    before = state.path.read_bytes()
    fd = os.open(state.path, os.O_RDONLY)  # the old file's blocks, read after the rename
    try:
        state.forget_prekey(key)
        left = os.pread(fd, len(before), 0)
    finally:
        os.close(fd)
    assert State.load(tmp_path / "state", VAULT).prekeys == []
    assert left != before, "the state holding the read reply's prekey stayed whole in place"
    assert left == bytes(len(before))


def test_a_forgotten_state_is_overwritten_before_it_goes(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    state.prekeys = [HybridPrivateKey.generate()]
    state.save()
    assert state.path is not None
    before = state.path.read_bytes()
    fd = os.open(state.path, os.O_RDONLY)
    try:
        state.forget()
        left = os.pread(fd, len(before), 0)
    finally:
        os.close(fd)
    assert not state.path.exists()
    assert left == bytes(len(before)), "the forgotten state, its prekeys in it, stayed whole"


def test_the_newest_subkey_lists_seen_survive_a_reload(tmp_path: Path) -> None:
    state = full_state(tmp_path / "state")
    state.subkeys = {
        "rz-ed25519-public:x": ListRank(dt.date(2026, 12, 1), 2),
        "rz-ed25519-public:y": ListRank(dt.date(2026, 12, 1), 3, 739_000_001, bytes(range(32))),
    }
    state.save()
    assert State.load(tmp_path / "state", VAULT).subkeys == state.subkeys


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"k": "2026-12-01"},
        {"k": ["2026-12-01"]},
        {"k": ["1 Dec", 2]},
        {"k": ["2026-12-01", True]},
        {"k": ["2026-12-01", 3, 7]},
        {"k": ["2026-12-01", 3, 7, "short"]},
        {"k": ["2026-12-01", 3, "7", "A" * 43]},
    ],
)
def test_a_malformed_record_of_subkey_lists_is_refused(tmp_path: Path, bad: object) -> None:
    record = full_state(tmp_path).to_json()
    record["subkeys"] = bad
    with pytest.raises(StateError, match="subkey lists recorded"):
        State._from_json(tmp_path, record, None)


def test_a_format_4_state_is_still_read(tmp_path: Path) -> None:
    record = full_state(tmp_path).to_json()
    record["format"] = 4
    del record["subkeys"], record["read"], record["deleted"], record["tofu"]
    assert State._from_json(tmp_path, record, None).subkeys == {}


def test_a_format_8_state_is_still_read_as_pinned_from_pins(tmp_path: Path) -> None:
    record = full_state(tmp_path).to_json()
    record["format"] = 8
    del record["tofu"]
    state = State._from_json(tmp_path, record, None)
    assert state.deleted == full_state(tmp_path).deleted
    assert state.tofu is False
