"""Replies opened on the device: a prekey's secret is deleted, on disk, before the text is shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crypto import (
    CryptoError,
    HybridPrivateKey,
    KdfParams,
    Metadata,
    PrivateKey,
    SigningKey,
    seal_bytes,
)
from crypto.encoding import canonical_json
from crypto.vault import Vault
from submit.connection import ensure_account
from submit.errors import ServerError, StateError
from submit.inbox import (
    AlreadyRead,
    NotHeld,
    digest,
    first_listed,
    one_time_keys,
    open_reply,
    still_listed,
)
from submit.state import _CONTEXT, FORMAT, MAX_DELETED, MAX_READ, State
from tests.submit.test_state import CODENAME, full_state

VAULT = Vault.derive(CODENAME, bytes(range(16)), KdfParams.TESTING)
REVIEWER = SigningKey.generate()
CODENAME_KEY = PrivateKey.generate()


def _reply(text: str, to: HybridPrivateKey | PrivateKey) -> bytes:
    return seal_bytes(text.encode(), [to.public_key], Metadata("reply"), signer=REVIEWER)


def _state(root: Path, prekeys: int = 4) -> State:
    state = full_state(root, VAULT)
    state.prekeys = [HybridPrivateKey.generate() for _ in range(prekeys)]
    state.save()
    return state


def test_a_reply_to_a_prekey_opens_once_and_its_secret_is_gone_from_disk(tmp_path: Path) -> None:
    state = _state(tmp_path / "s")
    used, *kept = state.prekeys
    envelope = _reply("Which checkpoint?", used)

    reply = open_reply(state, CODENAME_KEY, envelope, [REVIEWER.verify_key])
    assert (reply.text, reply.forward_secret) == ("Which checkpoint?", True)
    on_disk = State.load(tmp_path / "s", VAULT)
    assert on_disk.prekeys == kept
    with pytest.raises(AlreadyRead):
        open_reply(on_disk, CODENAME_KEY, envelope, [REVIEWER.verify_key])


@pytest.mark.parametrize("signer", [SigningKey.generate(), None], ids=["stranger", "unsigned"])
def test_a_forged_reply_to_a_prekey_not_held_is_not_called_read_before(
    tmp_path: Path, signer: SigningKey | None
) -> None:
    # A server in the wrong hands lists an envelope of its own, sealed to a one-time key
    # this device never held: the tool must not say, on its word, that a reviewer's reply
    # was read here before (someone else read your reply, or the reviewers answered).
    state = _state(tmp_path / "s")
    forged = seal_bytes(
        b"x", [HybridPrivateKey.generate().public_key], Metadata("reply"), signer=signer
    )
    with pytest.raises(CryptoError):
        open_reply(state, CODENAME_KEY, forged, [REVIEWER.verify_key])
    assert len(State.load(tmp_path / "s", VAULT).prekeys) == 4


def test_a_reviewer_reply_to_a_prekey_never_held_here_is_not_called_read_before(
    tmp_path: Path,
) -> None:
    # A genuine reviewer's reply sealed to a one-time key of another run (--no-state) or
    # another device: nothing here opens it, and it was never read here either. Called
    # "read before here", the source takes an unread request for one already answered.
    state = _state(tmp_path / "s")
    elsewhere = _reply("Which checkpoint?", HybridPrivateKey.generate())
    with pytest.raises(NotHeld, match="never held"):
        open_reply(state, CODENAME_KEY, elsewhere, [REVIEWER.verify_key])

    # One read here, and only that one, is read before here, also once the state is reloaded.
    read_here = _reply("Which night?", state.prekeys[0])
    open_reply(state, CODENAME_KEY, read_here, [REVIEWER.verify_key])
    on_disk = State.load(tmp_path / "s", VAULT)
    with pytest.raises(AlreadyRead):
        open_reply(on_disk, CODENAME_KEY, read_here, [REVIEWER.verify_key])
    with pytest.raises(NotHeld):
        open_reply(on_disk, CODENAME_KEY, elsewhere, [REVIEWER.verify_key])


def test_the_state_remembers_a_read_reply_only_while_the_server_may_list_it(
    tmp_path: Path,
) -> None:
    # A seized phone's state (with the codename) names the replies read here: it keeps
    # one only until a run sees the server no longer list it, and never more than a run lists.
    state = _state(tmp_path / "s")
    first, second = (_reply(t, k) for t, k in (("a", state.prekeys[0]), ("b", state.prekeys[1])))
    for envelope in (first, second):
        open_reply(state, CODENAME_KEY, envelope, [REVIEWER.verify_key])
    assert len(State.load(tmp_path / "s", VAULT).read) == 2
    still_listed(state, [second])
    on_disk = State.load(tmp_path / "s", VAULT)
    assert on_disk.read == [one_time_keys(second)[0]]
    # Forgotten as still listed, it is still not one "never held": listed again, it is
    # named as read here and listed again.
    with pytest.raises(AlreadyRead) as relisted:
        open_reply(on_disk, CODENAME_KEY, first, [REVIEWER.verify_key])
    assert relisted.value.relisted
    state.read = [f"{n:016x}" for n in range(MAX_READ + 5)]
    state.save()
    assert len(State.load(tmp_path / "s", VAULT).read) == MAX_READ


def test_a_reply_is_not_shown_unless_its_prekey_deletion_reached_the_disk(tmp_path: Path) -> None:
    state = _state(tmp_path / "s")
    envelope = _reply("Which checkpoint?", state.prekeys[0])
    assert state.path is not None
    # The state file can no longer be replaced: the deletion cannot be written.
    state.path.unlink()
    (state.path / "blocker").mkdir(parents=True)

    with pytest.raises(OSError, match="directory"):
        open_reply(state, CODENAME_KEY, envelope, [REVIEWER.verify_key])
    shutil.rmtree(state.path)


def test_a_reply_that_does_not_verify_deletes_no_prekey(tmp_path: Path) -> None:
    state = _state(tmp_path / "s")
    envelope = _reply("forged", state.prekeys[0])
    with pytest.raises(CryptoError):
        open_reply(state, CODENAME_KEY, envelope, [SigningKey.generate().verify_key])
    assert len(State.load(tmp_path / "s", VAULT).prekeys) == 4


def test_a_reply_to_the_codename_key_still_opens_and_is_not_forward_secret(tmp_path: Path) -> None:
    state = _state(tmp_path / "s")
    reply = open_reply(state, CODENAME_KEY, _reply("Hello", CODENAME_KEY), [REVIEWER.verify_key])
    assert (reply.text, reply.forward_secret) == ("Hello", False)
    assert len(State.load(tmp_path / "s", VAULT).prekeys) == 4


def test_an_amnesic_state_keeps_prekeys_in_memory_only(tmp_path: Path) -> None:
    state = State(tmp_path / "ram")
    state.prekeys = [HybridPrivateKey.generate()]
    reply = open_reply(state, CODENAME_KEY, _reply("Hi", state.prekeys[0]), [REVIEWER.verify_key])
    assert reply.forward_secret
    assert state.prekeys == []
    assert not (tmp_path / "ram").exists()


@pytest.mark.parametrize(
    ("version", "missing"),
    [
        (2, ("prekeys", "shown", "subkeys", "read", "deleted", "tofu")),
        (3, ("shown", "subkeys", "read", "deleted", "tofu")),
        (4, ("subkeys", "read", "deleted", "tofu")),
        (5, ("read", "deleted", "tofu")),
        (6, ("read", "deleted", "tofu")),
        (7, ("deleted", "tofu")),
    ],
)
def test_an_older_state_is_read_and_saved_in_the_current_format(
    tmp_path: Path, version: int, missing: tuple[str, ...]
) -> None:
    root = tmp_path / "s"
    state = full_state(root, VAULT)
    old = state.to_json()
    for name in missing:
        del old[name]
    old["format"] = version
    root.mkdir()
    assert state.path is not None
    state.path.write_bytes(VAULT.seal(canonical_json(old), _CONTEXT))

    loaded = State.load(root, VAULT)
    assert (loaded.prekeys, loaded.shown) == ([], {})
    assert loaded.instance == state.instance
    loaded.save()
    saved = json.loads(VAULT.open(state.path.read_bytes(), _CONTEXT))
    assert (saved["format"], saved["prekeys"], saved["shown"]) == (FORMAT, [], {})
    assert saved["read"] == []
    # Only a state that held no prekey (format 2) knows every one it deleted.
    assert saved["deleted"] == {"ids": [], "all": version == 2}


@pytest.mark.parametrize("prekeys", [None, "x", [1], ["rz-xwing-secret:AAAA"]])
def test_malformed_prekeys_in_the_state_are_refused(tmp_path: Path, prekeys: object) -> None:
    root = tmp_path / "s"
    record = full_state(root, VAULT).to_json()
    record["prekeys"] = prekeys
    root.mkdir()
    (root / f"{VAULT.name}.state").write_bytes(VAULT.seal(canonical_json(record), _CONTEXT))
    with pytest.raises(StateError, match="prekeys"):
        State.load(root, VAULT)


@pytest.mark.parametrize(
    "shown", [None, [], {"x": "2026-11-02"}, {"0" * 32: "yesterday"}, {"0" * 32: 1}]
)
def test_malformed_replies_shown_in_the_state_are_refused(tmp_path: Path, shown: object) -> None:
    root = tmp_path / "s"
    record = full_state(root, VAULT).to_json()
    record["shown"] = shown
    root.mkdir()
    (root / f"{VAULT.name}.state").write_bytes(VAULT.seal(canonical_json(record), _CONTEXT))
    with pytest.raises(StateError, match="replies shown"):
        State.load(root, VAULT)


def test_a_reply_to_the_codename_key_keeps_the_day_it_was_first_listed(tmp_path: Path) -> None:
    state = _state(tmp_path / "s")
    envelope = _reply("Hello", CODENAME_KEY)
    assert first_listed(state, envelope, "2026-11-02") == "2026-11-02"
    on_disk = State.load(tmp_path / "s", VAULT)
    assert on_disk.shown == {digest(envelope): "2026-11-02"}
    assert first_listed(on_disk, envelope, "2026-12-05") == "2026-11-02"
    assert first_listed(on_disk, _reply("Hello", CODENAME_KEY), "2026-12-05") == "2026-12-05"


def test_a_reply_to_a_key_never_held_is_said_so_for_certain_only_by_a_state_that_knows(
    tmp_path: Path,
) -> None:
    # The device signs "I cannot open it" for its reviewers only when its state knows every
    # one-time key it deleted, and the key is not one of a submission still being sent.
    state = _state(tmp_path / "s")
    elsewhere = _reply("Which checkpoint?", HybridPrivateKey.generate())
    with pytest.raises(NotHeld) as fresh:
        open_reply(state, CODENAME_KEY, elsewhere, [REVIEWER.verify_key])
    assert fresh.value.certain

    # A key of the unfinished submission's report is held, not yet usable: not "never held".
    assert state.pending is not None
    state.pending.prekeys = [HybridPrivateKey.generate()]
    unfinished = _reply("Which night?", state.pending.prekeys[0])
    with pytest.raises(NotHeld) as pending:
        open_reply(state, CODENAME_KEY, unfinished, [REVIEWER.verify_key])
    assert not pending.value.certain

    # Past MAX_DELETED the oldest are dropped, and the state no longer says it for certain.
    state.deleted = [f"{n:016x}" for n in range(MAX_DELETED)]
    open_reply(state, CODENAME_KEY, _reply("a", state.prekeys[0]), [REVIEWER.verify_key])
    on_disk = State.load(tmp_path / "s", VAULT)
    assert (len(on_disk.deleted), on_disk.deleted_all) == (MAX_DELETED, False)
    with pytest.raises(NotHeld) as outgrown:
        open_reply(on_disk, CODENAME_KEY, elsewhere, [REVIEWER.verify_key])
    assert not outgrown.value.certain


@pytest.mark.parametrize(
    "deleted",
    [None, [], {"ids": [], "all": 1}, {"ids": ["xyz"], "all": True}, {"ids": []}],
)
def test_malformed_deleted_keys_in_the_state_are_refused(tmp_path: Path, deleted: object) -> None:
    root = tmp_path / "s"
    record = full_state(root, VAULT).to_json()
    record["deleted"] = deleted
    root.mkdir()
    (root / f"{VAULT.name}.state").write_bytes(VAULT.seal(canonical_json(record), _CONTEXT))
    with pytest.raises(StateError, match="deleted"):
        State.load(root, VAULT)


def test_a_refused_account_of_a_device_that_read_forward_secret_replies_is_named(
    tmp_path: Path,
) -> None:
    # A server in the wrong hands refuses the account (409) so the source logs in on its
    # web page and hands it the codename. A device that read here its every one-time key's
    # reply, and deleted them from the server, kept no prekey, day shown or pending: the
    # hint that this device used the codename there before was left out.
    state = _state(tmp_path / "s", prekeys=1)
    state.pending = None
    open_reply(state, CODENAME_KEY, _reply("a", state.prekeys[0]), [REVIEWER.verify_key])
    still_listed(state, [])

    class Refusing:
        def ensure_account(self, keys: object) -> bool:
            raise ServerError(409, "conflict", "the server refuses this account")

    with pytest.raises(ServerError) as refused:
        ensure_account(Refusing(), object(), State.load(tmp_path / "s", VAULT))  # type: ignore[arg-type]
    assert refused.value.hint is not None, "the device's earlier use of the codename is not named"
    assert "do not type it into the instance's web page" in refused.value.hint
