"""raazdar-submit under a keyring of hybrid reviewers: this week's subkeys, checked here, or none.

The attacks: the server serves no list, an expired one, a forged one, one
filed under another reviewer, or one naming a long-term key; each time the
client must refuse with error:/hint: and seal nothing, never falling back to
the reviewers' long-term keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.instance import InstancePaths
from app.services import resumable
from app.services.context import Services
from app.subkeys import install_lists, read_lists
from crypto import (
    DecryptionError,
    HybridPrivateKey,
    KdfParams,
    SignedManifest,
    SigningKey,
    derive_source_keys,
    generate_codename,
    make_timestamp,
    open_bytes,
    read_header,
)
from crypto.encoding import b64encode
from crypto.envelope.version import V2
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyList,
    generate,
    open_with_subkeys,
    sign_subkeys,
)
from crypto.vault import Vault
from submit.errors import SubmitError, TrustError
from submit.state import State
from submit.trust import NO_SUBKEYS, KeyringDocument, Verified, verify
from submit.uploads import seal_submission
from tests.app.support import envelope_files, reviewer_keys
from tests.submit.support import (
    Device,
    Recorder,
    carried_pins,
    pending_envelope,
    send_without_state,
)
from tests.submit.test_trust import (
    SALT,
    STAMPER,
    TODAY,
    VAULT,
    document,
    first,
    reviewer,
    trusting,
)

WEEK = Period.of(TODAY)
SIGNERS = [SigningKey(bytes([0x31 + i]) * 32) for i in range(2)]
LONG_TERM = [HybridPrivateKey(bytes([0x41 + i]) * 32) for i in range(2)]
SECRETS = [generate(WEEK.after(-2), 8) for _ in range(2)]


def keyring(*, hybrid: bool = True) -> SignedManifest:
    """Two reviewers; with long-term hybrid keys (format 3) unless `hybrid` is False."""
    recipients = [
        dataclasses.replace(
            reviewer(name),
            signing_key=SIGNERS[i].verify_key,
            hybrid_key=LONG_TERM[i].public_key if hybrid else None,
        )
        for i, name in enumerate(["alice", "bilal"])
    ]
    return first([SigningKey(bytes([9 + i]) * 32) for i in range(3)], recipients)


def lists(count: int = 8) -> dict[str, SignedSubkeyList]:
    """Each reviewer's list of `count` weeks from two weeks ago, signed by them."""
    found = {}
    for i, rid in enumerate(["alice", "bilal"]):
        body = SubkeyList(
            SIGNERS[i].verify_key,
            WEEK.after(-2).first_day,
            tuple((p, k.public_key) for p, k in SECRETS[i].keys[:count]),
        )
        found[rid] = sign_subkeys(body, SIGNERS[i])
    return found


def verified(served: dict[str, SignedSubkeyList], *, hybrid: bool = True) -> Verified:
    signed = keyring(hybrid=hybrid)
    return Verified(signed, (signed.manifest,), served)


def test_the_keyring_document_carries_the_served_lists_into_what_is_verified() -> None:
    signed = keyring(hybrid=False)
    doc = document([signed])
    served = lists()
    raw = {
        "instance": "0" * 32,
        "pinned_authorities": [str(fp).replace(" ", "") for fp in doc.advertised],
        "manifests": [json.loads(signed.to_bytes())],
        "in_force": 1,
        "codename": {"salt": b64encode(SALT), "kdf": KdfParams.TESTING.to_dict()},
        "timestamp": doc.timestamp.to_json() if doc.timestamp else None,
        "subkeys": {rid: json.loads(s.to_bytes()) for rid, s in served.items()},
    }
    parsed = KeyringDocument.parse(raw)
    assert parsed.subkeys == served
    assert verify(parsed, doc.advertised, None, TODAY).subkeys == served


@pytest.mark.parametrize("bad", [[], {"alice": "x"}, {"alice": {"subkeys": {}, "signature": ""}}])
def test_a_malformed_list_makes_the_document_malformed(bad: Any) -> None:
    codename = {"salt": b64encode(SALT), "kdf": KdfParams.TESTING.to_dict()}
    doc: dict[str, Any] = {"instance": "0", "pinned_authorities": [], "manifests": []}
    doc |= {"in_force": None, "codename": codename}
    with pytest.raises(TrustError, match="malformed"):
        KeyringDocument.parse({**doc, "subkeys": bad})


def test_a_keyring_of_hybrid_reviewers_is_sealed_to_this_weeks_subkeys() -> None:
    keys = verified(lists()).recipients(TODAY)
    assert keys == [k.public_key for store in SECRETS if (k := store.get(WEEK)) is not None]
    assert len(keys) == 2


def test_a_keyring_without_hybrid_reviewers_is_sealed_to_long_term_keys() -> None:
    found = verified({}, hybrid=False)
    assert found.recipients(TODAY) == [r.encryption_key for r in found.manifest.recipients]


def _forged() -> dict[str, SignedSubkeyList]:
    return {**lists(), "bilal": dataclasses.replace(lists()["bilal"], signature=bytes(64))}


def _swapped() -> dict[str, SignedSubkeyList]:
    return {"alice": lists()["bilal"], "bilal": lists()["bilal"]}


def _long_term() -> dict[str, SignedSubkeyList]:
    body = SubkeyList(SIGNERS[0].verify_key, TODAY, ((WEEK, LONG_TERM[0].public_key),))
    return {**lists(), "alice": sign_subkeys(body, SIGNERS[0])}


@pytest.mark.parametrize(
    ("served", "rule"),
    [
        (lambda: {}, "missing"),
        (lambda: {"alice": lists()["alice"]}, "missing"),
        (lambda: lists(count=2), "expired"),
        (_forged, "signature"),
        (_swapped, "signer"),
        (_long_term, "long-term"),
    ],
    ids=["none", "one-missing", "expired", "forged", "swapped", "long-term"],
)
def test_without_a_valid_subkey_for_everyone_nothing_is_sealed(served: Any, rule: str) -> None:
    with pytest.raises(TrustError) as caught:
        verified(served()).recipients(TODAY)
    assert rule in str(caught.value)
    assert caught.value.hint == NO_SUBKEYS


def test_sealing_without_subkeys_under_a_hybrid_keyring_is_refused(tmp_path: Path) -> None:
    state = State(tmp_path / "state", vault=Vault.derive("c", bytes(16), KdfParams.TESTING))
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    with pytest.raises(SubmitError, match="subkeys only"):
        seal_submission(state, keyring().manifest, b"{}", [], keys=keys)
    assert not state.pending_dir.exists() or not any(state.pending_dir.iterdir())


def test_what_is_sealed_opens_with_the_weeks_secret_and_no_long_term_key(tmp_path: Path) -> None:
    state = State(tmp_path / "state", vault=Vault.derive("c", bytes(16), KdfParams.TESTING))
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    found = verified(lists())
    pending = seal_submission(
        state, found.manifest, b"{}", [], keys=keys, recipients=found.recipients(TODAY)
    )
    (item,) = pending.items
    data = pending_envelope(state, item)
    assert read_header(io.BytesIO(data)).version is V2
    for store in SECRETS:
        week, _ = open_with_subkeys(io.BytesIO(data), io.BytesIO(), store)
        assert week == WEEK
    with pytest.raises(DecryptionError):
        open_bytes(data, LONG_TERM)


def test_the_first_day_after_the_list_ends_refuses(tmp_path: Path) -> None:
    found = verified(lists(count=3))
    assert found.recipients(WEEK.last_day)
    with pytest.raises(TrustError):
        found.recipients(WEEK.after().first_day)


# Rollback: the server serves an older list than one this device already sealed to.

REISSUED = [generate(WEEK, 8) for _ in range(2)]


def reissued() -> dict[str, SignedSubkeyList]:
    """Each reviewer's list re-issued today, with new keys (the old ones reported compromised)."""
    found = {}
    for i, rid in enumerate(["alice", "bilal"]):
        body = SubkeyList(
            SIGNERS[i].verify_key, TODAY, tuple((p, k.public_key) for p, k in REISSUED[i].keys)
        )
        found[rid] = sign_subkeys(body, SIGNERS[i])
    return found


def served(signed: SignedManifest, subkeys: dict[str, SignedSubkeyList]) -> KeyringDocument:
    """The keyring document for `signed`, serving `subkeys`."""
    doc: KeyringDocument = document([signed])
    return dataclasses.replace(doc, subkeys=subkeys)


def test_an_older_list_than_one_this_device_saw_is_refused(tmp_path: Path) -> None:
    signed = keyring()
    pins = signed.manifest.authority_fingerprints
    state = State.load(tmp_path, VAULT)
    newer = trusting(state, served(signed, reissued()), pins)
    assert newer.recipients(TODAY) == [s.get(WEEK).public_key for s in REISSUED]  # type: ignore[union-attr]
    again = State.load(tmp_path, VAULT)
    with pytest.raises(TrustError) as caught:
        trusting(again, served(signed, lists()), pins).recipients(TODAY)
    assert "older subkey list" in str(caught.value), (
        "the device sealed to the rolled-back list's keys"
    )
    assert caught.value.hint is not None
    # The newer list is still accepted, and a same-day reload changes nothing.
    assert trusting(State.load(tmp_path, VAULT), served(signed, reissued()), pins)


def test_an_unbound_list_after_a_bound_one_is_refused(tmp_path: Path) -> None:
    signed = keyring()
    pins = signed.manifest.authority_fingerprints
    bound = {
        rid: sign_subkeys(dataclasses.replace(s.subkeys, instance="0" * 32, keyring=1), SIGNERS[i])
        for i, (rid, s) in enumerate(reissued().items())
    }
    trusting(State.load(tmp_path, VAULT), served(signed, bound), pins)
    with pytest.raises(TrustError, match="older subkey list"):
        trusting(State.load(tmp_path, VAULT), served(signed, reissued()), pins)


def test_a_list_for_another_instance_is_not_sealed_to() -> None:
    other = {
        rid: sign_subkeys(dataclasses.replace(s.subkeys, instance="f" * 32, keyring=1), SIGNERS[i])
        for i, (rid, s) in enumerate(lists().items())
    }
    with pytest.raises(TrustError, match="another instance"):
        verified(other).recipients(TODAY)


# -- a --no-state device, and a format 1 list replayed to it -----------------------------


def _unbound_list_replayed(instance: Path) -> Any:
    """As a seized server: a list of the demo reviewer's that names no instance (format 1),
    for keys the reviewer has since replaced, in place of the bound one installed."""
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    replaced = generate(Period.of(today))
    unbound = sign_subkeys(replaced.public_list(signer.verify_key, today), signer)
    assert unbound.subkeys.format == 1

    def rewrite(doc: dict[str, Any]) -> dict[str, Any]:
        (rid,) = doc["subkeys"]
        return {**doc, "subkeys": {rid: json.loads(unbound.to_bytes())}}

    return rewrite


def test_pins_carried_from_a_device_that_saw_bound_lists_refuse_an_unbound_one(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    pins, carried = carried_pins(device, codename_file, tmp_path)
    recorder.keyring = _unbound_list_replayed(instance)
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], (
        f"a --no-state device with the pins of one that sealed to bound lists sealed to a "
        f"replayed unbound one and offered it: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "names no instance" in result.stderr
    assert "subkeys bound" in carried


# A device with no memory of the newer list: the keyring's timestamp names its number.

INSTANCE = "0" * 32  # the instance id of the keyrings tests.submit.test_trust makes


def numbered(stores: list[Any], sequence: int) -> dict[str, SignedSubkeyList]:
    """Each reviewer's list of `stores`' weeks from this one, issued today, numbered `sequence`."""
    found = {}
    for i, rid in enumerate(["alice", "bilal"]):
        entries = tuple((p, k.public_key) for p, k in stores[i].keys if p >= WEEK)
        body = SubkeyList(SIGNERS[i].verify_key, TODAY, entries, INSTANCE, 1, sequence)
        found[rid] = sign_subkeys(body, SIGNERS[i])
    return found


def test_a_device_with_no_state_refuses_a_list_older_than_the_timestamp_names(
    tmp_path: Path,
) -> None:
    """The reviewers re-keyed today after a leak (list 6 replaces list 5); the timestamp
    signed since names 6. A seized server serves list 5 to a device that never saw 6."""
    signed = keyring()
    pins = signed.manifest.authority_fingerprints
    leaked, rekeyed = numbered(SECRETS, 5), numbered(REISSUED, 6)
    stamp = make_timestamp(
        signed.manifest, STAMPER, issued=TODAY, days=7, subkeys={"alice": 6, "bilal": 6}
    )
    doc = dataclasses.replace(document([signed]), timestamp=stamp, subkeys=leaked)
    with pytest.raises(TrustError) as caught:
        trusting(State(tmp_path), doc, pins).recipients(TODAY)
    assert "list 6 or later is in force" in str(caught.value), (
        "a device with no state sealed to the leaked list the timestamp says was replaced"
    )
    assert caught.value.hint is not None
    honest = dataclasses.replace(doc, subkeys=rekeyed)
    assert trusting(State(tmp_path), honest, pins).recipients(TODAY) == [
        s.get(WEEK).public_key  # type: ignore[union-attr]
        for s in REISSUED
    ]


# A send resumed after the keys it was sealed to were replaced.


def _rekey_on_the_server(instance: Path) -> None:
    """The demo reviewer re-keys after a leak; the administrator installs the new list."""
    paths = InstancePaths(instance)
    newest = sorted(paths.manifests.glob("*.json"))[-1]
    manifest = SignedManifest.from_bytes(newest.read_bytes()).manifest
    assert manifest.instance is not None
    signer = reviewer_keys(instance).signing
    assert signer is not None
    today = dt.datetime.now(dt.UTC).date()
    listed = generate(Period.of(today)).public_list(
        signer.verify_key, today, manifest.instance.id, manifest.version, 1
    )
    install_lists(paths, [sign_subkeys(listed, signer).to_bytes()], manifest, today, rekeyed=True)


def test_a_send_resumed_after_a_re_key_does_not_hand_over_what_was_sealed_to_the_replaced_keys(
    device: Device,
    codename_file: Path,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A send is cut off (the server says it is busy); the reviewer's subkeys leak and she
    re-keys. The device, resuming, verifies the new list, yet uploaded the envelope sealed
    to the leaked key as it was: a seized server (holding the leaked store) takes it."""
    monkeypatch.setattr(resumable, "make_room", lambda *_args, **_kwargs: False)
    cut = device.run("send", "-m", "the names", "--codename-file", str(codename_file))
    assert cut.exit_code == 1, cut.output
    monkeypatch.undo()
    _rekey_on_the_server(instance)
    # Seized: the server takes any envelope, whatever it was sealed to.
    monkeypatch.setattr(Services, "accepts_sealed", lambda *_args: True)
    resumed = device.run("send", "--resume", "--codename-file", str(codename_file))
    assert envelope_files(instance) == [], (
        "the device uploaded a report sealed to a subkey its reviewer has since replaced"
    )
    assert resumed.exit_code == 1, resumed.output
    assert "send --discard" in resumed.stderr
    assert "Traceback" not in resumed.output
    assert device.state_of(codename_file).pending is not None, "what was sealed is kept"
    assert device.run("send", "--discard", "--codename-file", str(codename_file)).exit_code == 0
    again = device.run("send", "-m", "the names", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert len(envelope_files(instance)) == 1


def test_pins_carried_from_a_device_that_saw_a_re_keyed_list_refuse_the_leaked_one(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    """The keyring's timestamp names the re-keyed list only once one is signed, and a
    timestamp from before it holds for days: pins carried from a device that sealed to the
    re-keyed list must make a --no-state device refuse the leaked one at once."""
    leaked = read_lists(InstancePaths(instance))
    (rid,) = leaked
    _rekey_on_the_server(instance)
    pins, carried = carried_pins(device, codename_file, tmp_path)

    def replay(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "subkeys": {rid: json.loads(leaked[rid].to_bytes())}}

    recorder.keyring = replay
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], (
        "a --no-state device with the pins of one that sealed to the re-keyed list sealed "
        f"to the leaked one: {offered}"
    )
    assert f"subkeys {rid} 1" in carried
    assert result.exit_code == 1, result.output
    assert "list 1 or later is in force" in result.stderr
