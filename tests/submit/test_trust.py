"""The keyring check: pins, rollback protection, successors, and a hostile server's manifests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from app.instance import InstancePaths
from crypto import (
    AuthorityKey,
    CodenameParams,
    Fingerprint,
    InstanceListing,
    KdfParams,
    Manifest,
    Period,
    PrivateKey,
    Recipient,
    SignedManifest,
    SignedTimestamp,
    SigningKey,
    TimestampPolicy,
    make_timestamp,
)
from crypto import constants as C
from crypto.encoding import b64encode, canonical_json
from crypto.manifest import digest_text
from crypto.onion import OnionServiceKey
from crypto.subkeys import generate as generate_subkeys
from crypto.subkeys import sign_subkeys
from crypto.vault import Vault
from submit.cli import cli
from submit.errors import TrustError
from submit.state import State
from submit.trust import KeyringDocument, KeyringPin, Unvouched, establish, verify
from tests.app.support import (
    demo_authorities,
    install_subkeys,
    install_successor,
    new_reviewer,
    reply_to,
    reviewer_keys,
)
from tests.submit.support import Device, Recorder, carried_pins, send_without_state

TODAY = dt.date(2025, 6, 1)
SALT = bytes(range(16))
ONION = OnionServiceKey.generate().address
STAMPER = SigningKey.generate()
LISTING = InstanceListing("0" * 32, (ONION,), (SigningKey.generate().verify_key,))
CODENAME = CodenameParams(SALT, KdfParams.TESTING)
POLICY = TimestampPolicy(STAMPER.verify_key, 7)
VAULT = Vault.derive("a codename", SALT, KdfParams.TESTING)


def reviewer(name: str) -> Recipient:
    return Recipient(
        name, name.title(), PrivateKey.generate().public_key, SigningKey.generate().verify_key
    )


def first(keys: list[SigningKey], recipients: list[Recipient], **kw: Any) -> SignedManifest:
    manifest = Manifest(
        version=1,
        previous=None,
        issued=kw.get("issued", TODAY - dt.timedelta(days=10)),
        expires=kw.get("expires", TODAY + dt.timedelta(days=300)),
        threshold=kw.get("threshold", 2),
        authorities=tuple(AuthorityKey(f"A{i}", k.verify_key) for i, k in enumerate(keys)),
        recipients=tuple(recipients),
        instance=kw.get("instance", LISTING),
        codename=kw.get("codename", CODENAME),
        timestamp=kw.get("timestamp", POLICY),
    )
    # Every holder signs version 1, as `keys authority-init` has them do.
    return sign(SignedManifest(manifest), kw.get("signers", keys))


def sign(signed: SignedManifest, signers: list[SigningKey]) -> SignedManifest:
    for key in signers:
        signed = signed.sign(key)
    return signed


def successor(current: SignedManifest, signers: list[SigningKey], **changes: Any) -> SignedManifest:
    manifest = current.manifest.successor(
        issued=TODAY - dt.timedelta(days=1), expires=TODAY + dt.timedelta(days=300), **changes
    )
    return sign(SignedManifest(manifest), signers)


def stamp(signed: SignedManifest, on: dt.date = TODAY) -> dict[str, Any]:
    """A timestamp for `signed`, as the administrators make one on `on`."""
    return make_timestamp(signed.manifest, STAMPER, issued=on, days=7).to_json()


def document(
    chain: list[SignedManifest],
    advertised: list[Fingerprint] | None = None,
    *,
    timestamp: Any = "fresh",
    salt: bytes = SALT,
) -> Any:
    pins = advertised if advertised is not None else chain[0].manifest.authority_fingerprints
    fresh = chain and chain[-1].manifest.timestamp is not None
    return KeyringDocument.parse(
        {
            "instance": "0" * 32,
            "pinned_authorities": [str(fp).replace(" ", "") for fp in pins],
            "manifests": [json.loads(s.to_bytes()) for s in chain],
            "in_force": chain[-1].manifest.version if chain else None,
            "codename": {"salt": b64encode(salt), "kdf": KdfParams.TESTING.to_dict()},
            "timestamp": (stamp(chain[-1]) if fresh else None)
            if timestamp == "fresh"
            else timestamp,
        }
    )


def trusting(
    state: State,
    doc: Any,
    pins: frozenset[Fingerprint],
    warn: Any = None,
    host: str | None = ONION,
) -> Any:
    """`establish` as the client calls it for the listed onion, test KDF allowed."""
    return establish(state, doc, pins, TODAY, warn or no_warning, host=host, allow_test_kdf=True)


def no_warning(pinned: frozenset[Fingerprint]) -> None:
    raise AssertionError(f"no first-use warning was expected, got one for {pinned}")


@pytest.fixture
def keys() -> list[SigningKey]:
    return [SigningKey.generate() for _ in range(3)]


@pytest.fixture
def pins(keys: list[SigningKey]) -> frozenset[Fingerprint]:
    return frozenset(k.verify_key.fingerprint for k in keys)


@pytest.fixture
def v1(keys: list[SigningKey]) -> SignedManifest:
    return first(keys, [reviewer("alice")])


@pytest.fixture
def v2(v1: SignedManifest, keys: list[SigningKey]) -> SignedManifest:
    return successor(v1, keys[1:], recipients=[reviewer("alice"), reviewer("bob")])


def test_a_chain_signed_by_the_pinned_authorities_is_accepted(
    v1: SignedManifest, v2: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    verified = verify(document([v1, v2]), pins, None, TODAY)
    assert verified.manifest == v2.manifest
    assert verified.history == (v1.manifest, v2.manifest)


def test_a_manifest_signed_by_a_stranger_is_refused(
    pins: frozenset[Fingerprint],
) -> None:
    strangers = [SigningKey.generate() for _ in range(3)]
    forged = first(strangers, [reviewer("mallory")])
    with pytest.raises(TrustError, match="not signed by the authority keys this device pinned"):
        verify(document([forged]), pins, None, TODAY)


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"signers": []}, "lacks the authority signatures"),
        (
            {"expires": TODAY - dt.timedelta(days=1), "issued": TODAY - dt.timedelta(days=9)},
            "expired",
        ),
        ({"issued": TODAY + dt.timedelta(days=5)}, "dated in the future"),
    ],
    ids=["unsigned", "expired", "future"],
)
def test_an_unsigned_or_stale_first_manifest_is_refused(
    keys: list[SigningKey], pins: frozenset[Fingerprint], kw: dict[str, Any], why: str
) -> None:
    with pytest.raises(TrustError, match=why):
        verify(document([first(keys, [reviewer("alice")], **kw)]), pins, None, TODAY)


def test_one_authority_holder_cannot_forge_a_first_keyring_for_a_device_pinning_afresh(
    tmp_path: Path, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    # One holder of three (the set's threshold is 2) writes a version 1 of the pinned
    # set with a threshold of 1 and a reviewer of their own, signed by them alone.
    forged = first(keys, [reviewer("mallory")], threshold=1, signers=[keys[0]])
    state = State(tmp_path / "state", vault=VAULT)
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        trusting(state, document([forged]), pins)
    assert state.manifest is None


def test_a_pinned_threshold_admits_a_first_keyring_signed_by_that_many_and_no_fewer(
    tmp_path: Path, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    two = first(keys, [reviewer("alice")], signers=keys[:2])
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        trusting(State(tmp_path / "all", vault=VAULT), document([two]), pins)
    state = State(tmp_path / "two", vault=VAULT)
    establish(
        state,
        document([two]),
        pins,
        TODAY,
        no_warning,
        host=ONION,
        allow_test_kdf=True,
        threshold=2,
    )
    assert state.manifest == two
    forged = first(keys, [reviewer("mallory")], threshold=1, signers=[keys[0]])
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        establish(
            State(tmp_path / "one", vault=VAULT),
            document([forged]),
            pins,
            TODAY,
            no_warning,
            host=ONION,
            threshold=2,
        )
    with pytest.raises(TrustError, match="cannot be met"):
        establish(
            State(tmp_path / "four", vault=VAULT),
            document([two]),
            pins,
            TODAY,
            no_warning,
            host=ONION,
            threshold=4,
        )


def test_recipients_changed_without_the_authorities_signatures_are_refused(
    v1: SignedManifest, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    mallory = SigningKey.generate()
    # A "successor" adding the attacker's key, signed by one authority and the attacker.
    forged = successor(v1, [keys[0], mallory], recipients=[reviewer("mallory")])
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        verify(document([v1, forged]), pins, None, TODAY)
    # The same version 1 with other recipients: its signatures no longer verify.
    swapped = SignedManifest(
        dataclasses.replace(v1.manifest, recipients=(reviewer("mallory"),)), v1.signatures
    )
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        verify(document([swapped]), pins, None, TODAY)


def test_a_manifest_verified_before_cannot_be_rolled_back(
    v1: SignedManifest, v2: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    with pytest.raises(
        TrustError, match="offers version 1, but this device already verified version 2"
    ):
        verify(document([v1]), pins, v2, TODAY)


def test_another_manifest_under_the_version_verified_before_is_refused(
    v1: SignedManifest,
    v2: SignedManifest,
    keys: list[SigningKey],
    pins: frozenset[Fingerprint],
) -> None:
    fork = successor(v1, keys[:2], recipients=[reviewer("carol")])
    with pytest.raises(TrustError, match="not the one this device verified before"):
        verify(document([v1, fork]), pins, v2, TODAY)


def test_a_newer_manifest_must_chain_to_the_one_verified_before(
    v1: SignedManifest,
    v2: SignedManifest,
    keys: list[SigningKey],
    pins: frozenset[Fingerprint],
) -> None:
    # Properly signed, but chained to a version 2 this device never saw.
    other_v2 = successor(v1, keys[:2], recipients=[reviewer("carol")])
    v3 = successor(other_v2, keys[:2])
    with pytest.raises(TrustError, match="does not chain"):
        verify(document([v1, other_v2, v3]), pins, v2, TODAY)
    good_v3 = successor(v2, keys[:2])
    assert verify(document([v1, v2, good_v3]), pins, v2, TODAY).manifest == good_v3.manifest


def test_a_rotated_authority_set_is_followed_from_the_last_verified_manifest(
    v1: SignedManifest,
    v2: SignedManifest,
    keys: list[SigningKey],
    pins: frozenset[Fingerprint],
) -> None:
    new = [SigningKey.generate() for _ in range(2)]
    rotated = successor(
        v2,
        keys[:2] + new,
        authorities=[AuthorityKey(f"N{i}", k.verify_key) for i, k in enumerate(new)],
        threshold=2,
    )
    after = successor(rotated, new, recipients=[reviewer("dana")])
    verified = verify(document([v1, v2, rotated, after]), pins, v2, TODAY)
    assert verified.manifest == after.manifest
    # Replies come only from the reviewers of the keyring in force.
    trusted = verified.reviewer_signing_keys()
    assert trusted == {r.signing_key for r in after.manifest.recipients}
    assert not {r.signing_key for r in v1.manifest.recipients} & trusted


# -- issue 14, point 5: the keyring in force, and fresh -----------------------------


def test_a_reviewer_the_keyring_in_force_dropped_is_no_longer_trusted_for_replies(
    v1: SignedManifest, v2: SignedManifest, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    bob = v2.manifest.recipients[1]
    v3 = successor(v2, keys[:2], recipients=[v2.manifest.recipients[0]])
    verified = verify(document([v1, v2, v3]), pins, None, TODAY)
    assert bob.signing_key not in verified.reviewer_signing_keys()
    assert v2.manifest.recipients[0].signing_key in verified.reviewer_signing_keys()


def test_a_withheld_successor_is_noticed_when_the_last_timestamp_expires(
    v1: SignedManifest, v2: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    # The server hides v3 (which revokes a reviewer) and keeps serving v2 with the
    # last timestamp the administrators made for it, eight days ago.
    old = stamp(v2, on=TODAY - dt.timedelta(days=8))
    with pytest.raises(TrustError, match="not vouched for as the newest") as caught:
        verify(document([v1, v2], timestamp=old), pins, v1, TODAY)
    assert "withholding a newer keyring" in (caught.value.hint or "")


def test_a_keyring_served_without_a_timestamp_is_refused(
    v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    with pytest.raises(TrustError, match="serves no timestamp"):
        verify(document([v1], timestamp=None), pins, None, TODAY)


def test_a_timestamp_for_an_older_keyring_does_not_vouch_for_the_newer(
    v1: SignedManifest, v2: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    with pytest.raises(TrustError, match="another keyring version"):
        verify(document([v1, v2], timestamp=stamp(v1)), pins, None, TODAY)


def test_a_timestamp_signed_by_someone_else_is_refused(
    v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    body = make_timestamp(v1.manifest, STAMPER, issued=TODAY, days=7).timestamp
    mallory = SigningKey.generate()
    forged = SignedTimestamp(
        body, mallory.sign(C.SIG_CONTEXT_TIMESTAMP, canonical_json(body.to_body()))
    )
    with pytest.raises(TrustError, match="not vouched for"):
        verify(document([v1], timestamp=forged.to_json()), pins, None, TODAY)


def test_a_format_one_keyring_is_refused(
    keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    old = first(keys, [reviewer("alice")], instance=None, codename=None, timestamp=None)
    with pytest.raises(TrustError, match="does not list the instance"):
        verify(document([old]), pins, None, TODAY)


# -- point 11: the onion is the keyring's -------------------------------------------


def test_a_copied_keyring_served_from_another_onion_is_refused(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    phishing = OnionServiceKey.generate().address
    state = State(tmp_path / "state", vault=VAULT)
    with pytest.raises(TrustError, match="is not an address of this instance") as caught:
        trusting(state, document([v1]), pins, host=phishing)
    assert "send nothing" in (caught.value.hint or "")
    assert State.load(state.root, VAULT).manifest is None


def test_the_listed_onion_and_its_subdomains_are_accepted(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    trusting(State(tmp_path / "a"), document([v1]), pins, host=ONION)
    trusting(State(tmp_path / "b"), document([v1]), pins, host="www." + ONION)


# -- point 9: codename parameters come from the signed keyring ----------------------


def test_a_salt_swapped_by_the_server_on_first_contact_is_ignored(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    swapped = document([v1], salt=bytes(16))
    verified = trusting(State(tmp_path / "state", vault=VAULT), swapped, pins)
    assert verified.salt == SALT
    assert State.load(tmp_path / "state", VAULT).codename_salt == SALT


def test_test_strength_key_derivation_is_refused_without_the_loud_flag(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    with pytest.raises(TrustError, match="test-strength") as caught:
        establish(
            State(tmp_path / "state", vault=VAULT),
            document([v1]),
            pins,
            TODAY,
            no_warning,
            host=ONION,
        )
    assert "--insecure-test-kdf" in (caught.value.hint or "")


def test_first_use_pins_what_the_instance_publishes_and_warns(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    warned: list[frozenset[Fingerprint]] = []
    state = State(tmp_path / "state", vault=VAULT)
    trusting(state, document([v1]), frozenset(), warned.append)
    assert warned == [pins]
    saved = State.load(tmp_path / "state", VAULT)
    assert saved.authorities == pins
    assert saved.manifest == v1
    assert saved.codename_salt == SALT


def test_other_authorities_than_the_pinned_ones_are_refused(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    state = State(tmp_path / "state", vault=VAULT)
    trusting(state, document([v1]), pins)
    other = frozenset({SigningKey.generate().verify_key.fingerprint})
    with pytest.raises(TrustError, match="not the ones this device pinned"):
        trusting(State.load(state.root, VAULT), document([v1]), other)


def test_a_changed_codename_salt_is_refused(
    tmp_path: Path, v1: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    state = State(tmp_path / "state", vault=VAULT)
    trusting(state, document([v1]), pins)
    state.codename_salt = bytes(16)
    with pytest.raises(TrustError, match="changed its codename salt"):
        trusting(state, document([v1]), pins)


# -- a hostile server, end to end through the CLI ---------------------------------


def _attacker_successor(doc: dict[str, Any]) -> dict[str, Any]:
    """Append a version adding the attacker's reviewer key, signed by the attacker alone."""
    chain = [SignedManifest.from_bytes(json.dumps(m).encode()) for m in doc["manifests"]]
    current = chain[-1].manifest
    mallory = SigningKey.generate()
    forged = SignedManifest(
        current.successor(
            issued=current.issued, expires=current.expires, recipients=[reviewer("mallory")]
        )
    ).sign(mallory)
    return {
        **doc,
        "manifests": [*doc["manifests"], json.loads(forged.to_bytes())],
        "in_force": forged.manifest.version,
    }


def test_the_client_refuses_a_keyring_a_hostile_server_changed_and_sends_nothing(
    device: Device, codename_file: Path, recorder: Recorder
) -> None:
    recorder.keyring = _attacker_successor
    result = device.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert result.exit_code == 1, result.output
    assert "raazdar-submit: error: the instance's keyring was refused" in result.stderr
    assert "raazdar-submit: hint: send nothing to this instance" in result.stderr
    assert recorder.paths("POST") == []
    assert recorder.paths("PATCH") == []


def _forged_afresh(instance: Path) -> Any:
    """A keyring of the pinned set, threshold 1, written and signed by one demo holder alone."""
    holder = demo_authorities(instance)[0]
    stamper = SigningKey.generate()

    def rewrite(doc: dict[str, Any]) -> dict[str, Any]:
        real = SignedManifest.from_bytes(json.dumps(doc["manifests"][0]).encode()).manifest
        forged = SignedManifest(
            dataclasses.replace(
                real,
                threshold=1,
                recipients=(reviewer("mallory"),),
                timestamp=TimestampPolicy(stamper.verify_key, 7),
            )
        ).sign(holder)
        today = dt.datetime.now(dt.UTC).date()
        stamped = make_timestamp(forged.manifest, stamper, issued=today, days=7)
        return {
            **doc,
            "manifests": [json.loads(forged.to_bytes())],
            "in_force": 1,
            "timestamp": stamped.to_json(),
            "subkeys": {},
        }

    return rewrite


def test_one_authority_holder_and_the_server_cannot_make_a_fresh_device_seal_to_them(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path
) -> None:
    # A device pinning afresh from the organisation's pins file (as every --no-state run does).
    recorder.keyring = _forged_afresh(instance)
    result = device.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert result.exit_code == 1, result.output
    assert "lacks the authority signatures" in result.stderr
    assert recorder.paths("POST") == []
    assert recorder.paths("PATCH") == []


def test_the_client_refuses_a_stranger_pinned_in_place_of_the_authorities(
    device: Device, codename_file: Path, recorder: Recorder
) -> None:
    device.authorities = [str(SigningKey.generate().verify_key.fingerprint)]
    result = device.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert result.exit_code == 1, result.output
    assert "not signed by the authority keys this device pinned" in result.stderr
    assert recorder.paths("PATCH") == []
    assert not device.state_of(codename_file).authorities


def _first_keyring(instance: Path) -> str:
    """The `keyring` pins line's value for the instance's first keyring, as `raazdar init`
    prints it for the organisation's pins."""
    first = sorted(InstancePaths(instance).manifests.glob("*.json"))[0]
    return str(KeyringPin.of(SignedManifest.from_bytes(first.read_bytes()).manifest))


def test_the_client_refuses_a_server_that_rolls_its_keyring_back(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path
) -> None:
    device = dataclasses.replace(device, keyring=_first_keyring(instance))
    keys, recipient = new_reviewer()
    install_successor(instance, [recipient])
    install_subkeys(instance, keys)
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    assert device.state_of(codename_file).manifest is not None
    assert device.state_of(codename_file).manifest.manifest.version == 2  # type: ignore[union-attr]

    recorder.keyring = lambda doc: {**doc, "manifests": doc["manifests"][:1], "in_force": 1}
    before = len(recorder.paths("PATCH"))
    result = device.run("send", "-m", "second", "--codename-file", str(codename_file))
    assert result.exit_code == 1
    assert "already verified version 2 (a rollback)" in result.stderr
    assert len(recorder.paths("PATCH")) == before


def test_first_use_without_fingerprints_warns_loudly_and_pins(
    device: Device, codename_file: Path, instance: Path
) -> None:
    device.transport = [*device.transport, "--trust-on-first-use"]
    result = device.run("send", "-m", "hello", "--codename-file", str(codename_file), pin=False)
    assert result.exit_code == 0, result.output
    assert "WARNING: NO AUTHORITY FINGERPRINTS WERE GIVEN" in result.stderr
    published = {key.verify_key.fingerprint for key in demo_authorities(instance)}
    for fp in published:
        assert str(fp) in result.stderr
    assert device.state_of(codename_file).authorities == published
    # Once pinned, no warning again.
    again = device.run("send", "-m", "again", "--codename-file", str(codename_file), pin=False)
    assert again.exit_code == 0, again.output
    assert "NO AUTHORITY FINGERPRINTS" not in again.stderr


def test_the_client_does_not_show_a_reply_by_a_reviewer_the_keyring_in_force_dropped(
    device: Device, codename_file: Path, app: Flask, instance: Path
) -> None:
    sent = device.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    revoked = reviewer_keys(instance).signing
    assert revoked is not None
    install_successor(instance, [new_reviewer()[1]])
    reply_to(app, codename_file.read_text().strip(), "call me on 0300-1234567", revoked)
    read = device.run("replies", "--codename-file", str(codename_file))
    assert read.exit_code == 1
    assert "0300-1234567" not in read.stdout
    assert "did not verify" in read.stderr


# -- a first run, and --no-state, against a fork the pins can name ---------------------


def _rotate_authorities(instance: Path, outgoing: int = 2) -> SignedManifest:
    """The demo keyring's next version hands the authority set over to two new holders,
    signed by `outgoing` of the three demo holders (two are its threshold)."""
    current = SignedManifest.from_bytes(
        sorted(InstancePaths(instance).manifests.glob("*.json"))[-1].read_bytes()
    )
    new = [SigningKey.generate() for _ in range(2)]
    return install_successor(
        instance,
        current.manifest.recipients,
        signers=[*demo_authorities(instance)[:outgoing], *new],
        authorities=[AuthorityKey(f"New holder {i}", k.verify_key) for i, k in enumerate(new)],
    )


def _mallorys_keyring(
    holders: list[SigningKey],
    change: Callable[[Manifest], Manifest],
    *,
    after_the_real_one: bool,
    publish_holders: bool = False,
) -> Any:
    """A rewrite of the keyring document the server serves: mallory's keyring, made by
    `change` from the real first one with mallory its one reviewer and a timestamp key of
    hers, signed by `holders`; in force, with her subkey list and a fresh timestamp. Served
    after the real first keyring, or alone (and the holders published as the instance's)."""
    stamper = SigningKey.generate()
    mallory_keys, mallory = new_reviewer("mallory")
    signer = mallory_keys.signing
    assert signer is not None

    def rewrite(doc: dict[str, Any]) -> dict[str, Any]:
        real = SignedManifest.from_bytes(json.dumps(doc["manifests"][0]).encode()).manifest
        assert real.instance is not None
        made = dataclasses.replace(
            change(real), recipients=(mallory,), timestamp=TimestampPolicy(stamper.verify_key, 7)
        )
        forged = SignedManifest(made)
        for holder in holders:
            forged = forged.sign(holder)
        today = dt.datetime.now(dt.UTC).date()
        secrets = generate_subkeys(Period.of(today))
        listed = secrets.public_list(signer.verify_key, today, real.instance.id, made.version)
        before = [doc["manifests"][0]] if after_the_real_one else []
        served = {
            **doc,
            "manifests": [*before, json.loads(forged.to_bytes())],
            "in_force": made.version,
            "timestamp": make_timestamp(made, stamper, issued=today, days=7).to_json(),
            "subkeys": {"mallory": json.loads(sign_subkeys(listed, signer).to_bytes())},
        }
        if publish_holders:
            served["pinned_authorities"] = [
                str(h.verify_key.fingerprint).replace(" ", "") for h in holders
            ]
        return served

    return rewrite


def _fork_by_rotated_out_holders(instance: Path) -> Any:
    """Two holders of the demo set, rotated out since, write a version 2 of their own after
    version 1: a reviewer and a timestamp key of theirs, and mallory's subkeys."""
    return _mallorys_keyring(
        demo_authorities(instance)[:2],
        lambda real: dataclasses.replace(real, version=2, previous=real.digest()),
        after_the_real_one=True,
    )


def test_pins_carried_to_a_no_state_device_refuse_a_fork_by_authorities_rotated_out(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    device = dataclasses.replace(device, keyring=_first_keyring(instance))
    rotated = _rotate_authorities(instance)
    pins, carried = carried_pins(device, codename_file, tmp_path)
    # The server, in the hands of the two holders rotated out, serves their fork.
    recorder.keyring = _fork_by_rotated_out_holders(instance)
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], (
        f"a --no-state device with the pins carried from a device that verified version "
        f"{rotated.manifest.version} sealed to the fork and offered it: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "is not the one the pins name, so it is a fork" in result.stderr
    assert f"keyring {rotated.manifest.version} " in carried
    assert "raazdar-submit: hint: send nothing to this instance" in result.stderr


def test_a_keyring_pin_refuses_a_fork_under_a_threshold_since_raised(
    v1: SignedManifest, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    raised = successor(v1, keys, threshold=3)
    v3 = successor(raised, keys)
    # Two holders, enough before the threshold was raised, fork from version 1.
    jumped = dataclasses.replace(
        successor(v1, [], recipients=[reviewer("mallory")]).manifest, version=5
    )
    fork = sign(SignedManifest(jumped), keys[:2])
    assert verify(document([v1, fork]), pins, None, TODAY).manifest == fork.manifest
    pin = KeyringPin.of(v3.manifest)
    with pytest.raises(TrustError, match="its version 3 is not the one the pins name"):
        verify(document([v1, fork]), pins, None, TODAY, anchor=pin)
    with pytest.raises(TrustError, match="older than version 3, which the pins name"):
        verify(document([v1, raised]), pins, None, TODAY, anchor=pin)
    v4 = successor(v3, keys)
    assert verify(document([v1, raised, v3, v4]), pins, None, TODAY, anchor=pin).manifest == (
        v4.manifest
    )


def test_a_keyring_pin_holds_where_the_authorities_are_trusted_on_first_use(
    tmp_path: Path, v1: SignedManifest, v2: SignedManifest
) -> None:
    # The server advertises a set of its own, whose first keyring follows the real version 2.
    strangers = [SigningKey.generate() for _ in range(2)]
    seized = successor(
        v2,
        strangers,
        authorities=[AuthorityKey(f"S{i}", k.verify_key) for i, k in enumerate(strangers)],
        recipients=[reviewer("mallory")],
    )
    advertised = list(seized.manifest.authority_fingerprints)
    doc = document([v1, v2, seized], advertised)
    state = State(tmp_path / "state", vault=VAULT)
    with pytest.raises(TrustError, match="lacks the authority signatures"):
        establish(
            state,
            doc,
            frozenset(),
            TODAY,
            lambda pinned: None,
            host=ONION,
            allow_test_kdf=True,
            anchor=KeyringPin.of(v2.manifest),
        )
    assert state.manifest is None


@pytest.mark.parametrize(
    "line",
    [
        "keyring 2",
        "keyring two ABCD",
        "keyring 2 ABCD EFGH",
        "keyring 0 " + "A" * 52,
        "subkeys unbound",
        "subkeys bound\nsubkeys bound",
    ],
)
def test_a_pins_file_keyring_line_must_be_a_version_and_a_digest(tmp_path: Path, line: str) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text(f"{line}\n")
    result = CliRunner().invoke(
        cli, ["--state", str(tmp_path / "s"), "--pins-file", str(pins), "new"]
    )
    assert result.exit_code == 2, result.output
    assert "keyring VERSION DIGEST" in result.output


def test_a_keyring_pin_reads_as_the_review_tool_shows_the_digest(v1: SignedManifest) -> None:
    shown = f"v1 {digest_text(v1.manifest).lower()}"
    assert KeyringPin.parse(shown) == KeyringPin.of(v1.manifest)
    assert str(KeyringPin.of(v1.manifest)) == f"1 {digest_text(v1.manifest)}"


def _seized_before_first_use(instance: Path) -> Any:
    """As a server seized before the source's first run: a keyring of its own from version 1,
    its own authorities (published as the instance's), reviewer and timestamp key."""
    holders = [SigningKey.generate() for _ in range(2)]
    authorities = tuple(AuthorityKey(f"H{i}", k.verify_key) for i, k in enumerate(holders))
    return _mallorys_keyring(
        holders,
        lambda real: dataclasses.replace(real, authorities=authorities),
        after_the_real_one=False,
        publish_holders=True,
    )


def test_a_first_send_without_pins_seals_nothing_to_keys_nobody_checked(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path
) -> None:
    recorder.keyring = _seized_before_first_use(instance)
    result = device.run("send", "-m", "secret", "--codename-file", str(codename_file), pin=False)
    offered = [p for p in recorder.paths("POST") if p.endswith("/uploads")]
    assert offered == [], (
        f"a first send without pins sealed the report to the keys the server published and "
        f"offered it, the warning printed beside it: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "WARNING: NO AUTHORITY FINGERPRINTS WERE GIVEN" in result.stderr
    assert "--trust-on-first-use" in result.stderr
    assert not device.state_of(codename_file).authorities, "the unchecked keys were pinned"


def test_a_first_run_whose_pins_name_no_keyring_says_what_it_could_not_check(
    device: Device, codename_file: Path, recorder: Recorder, tmp_path: Path
) -> None:
    """A device with no state, whose pins name the authorities but no keyring, cannot tell
    the real keyring from a fork by holders since rotated out (`_fork_by_rotated_out_holders`).
    On the first keyring, which every pinned holder signed, it seals, but says so and what
    closes it; a later one it refuses
    (`test_pins_as_init_prints_them_refuse_a_fork_by_authorities_rotated_out`); a device
    that checks against its state, or a keyring pin, says nothing."""
    pins, carried = carried_pins(device, codename_file, tmp_path)
    assert "keyring " in carried
    fresh = dataclasses.replace(device, state=tmp_path / "fresh")
    first = fresh.run("send", "-m", "a report", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    assert "the pins name no keyring" in first.stderr, (
        "a first run verified the keyring from the authority pins alone and said nothing"
    )
    assert "keyring VERSION DIGEST" in first.stderr
    later = device.run("send", "-m", "again", "--codename-file", str(codename_file))
    assert later.exit_code == 0, later.output
    assert "the pins name no keyring" not in later.stderr  # checked against its state
    anchored, _ = send_without_state(device, pins, codename_file, recorder)
    assert anchored.exit_code == 0, anchored.output
    assert "the pins name no keyring" not in anchored.stderr  # the pins name one


def test_pins_as_init_prints_them_refuse_a_fork_by_authorities_rotated_out(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    """Pins as handed out before this device ever ran: the instance and the authorities
    `raazdar init` printed, no keyring line. The two holders rotated out at version 2 serve
    their own version 2 to a device that keeps nothing."""
    # Every outgoing holder signs the rotation, as the ceremony asks (docs/submit.md).
    _rotate_authorities(instance, outgoing=3)
    pins = tmp_path / "organisation-pins.txt"
    pins.write_text(
        "".join([f"instance {device.url}\n", *(f"authority {a}\n" for a in device.authorities)])
    )
    recorder.keyring = _fork_by_rotated_out_holders(instance)
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], (
        f"a --no-state device with pins naming the authorities but no keyring sealed to a fork "
        f"by holders rotated out and offered it: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "the pins name no keyring" in result.stderr
    assert "keyring VERSION DIGEST" in result.stderr
    assert "raazdar-submit: error: " in result.stderr
    assert "--accept-unpinned-keyring" in result.stderr
    # A first run with state is refused the same way, and pins nothing.
    fresh = dataclasses.replace(device, state=tmp_path / "fresh")
    first = fresh.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert first.exit_code == 1, first.output
    assert fresh.state_of(codename_file).manifest is None, "the unvouched keyring was pinned"
    # Told to, knowingly, the source may still send to the real chain, which every pinned
    # holder signed; the line is better.
    recorder.keyring = None
    told = dataclasses.replace(device, transport=[*device.transport, "--accept-unpinned-keyring"])
    result, offered = send_without_state(told, pins, codename_file, recorder)
    assert result.exit_code == 0, result.output
    assert offered == ["/api/v1/uploads"]
    assert "the pins name no keyring" in result.stderr


# -- a fork after the keyring the pins (or the state) name -------------------------------


def test_pins_naming_the_first_keyring_refuse_a_fork_after_it_by_holders_rotated_out(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    """Pins as `raazdar init` prints them (the authorities and `keyring 1 DIGEST`). Version
    2 rotates two of the three holders out; they, with the server, serve a version 2 of
    their own after version 1: it chains from the pinned keyring, signed by its threshold.
    Only the timestamp key tells it apart: theirs, as the workstation's is not theirs."""
    device = dataclasses.replace(device, keyring=_first_keyring(instance))
    # A device that verified version 1 before keeps it in its state.
    used = dataclasses.replace(device, keyring=None, state=tmp_path / "used")
    first = used.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    _rotate_authorities(instance)
    device.arguments()
    pins = tmp_path / "organisation-pins.txt"
    pins.write_text((tmp_path / "state-pins.txt").read_text())
    assert f"keyring {device.keyring}" in pins.read_text()
    recorder.keyring = _fork_by_rotated_out_holders(instance)
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], (
        f"a --no-state device with pins naming keyring 1 sealed to a fork after it by holders "
        f"rotated out and offered it: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "raazdar-submit: error: " in result.stderr
    assert "names another timestamp key than version 1" in result.stderr
    # The device with state refuses it the same way, and pins nothing.
    before = len(recorder.paths("POST"))
    later = used.run("send", "-m", "secret", "--codename-file", str(codename_file))
    assert later.exit_code == 1, later.output
    assert len(recorder.paths("POST")) == before, "a device with state sealed to the fork"
    kept = used.state_of(codename_file).manifest
    assert kept is not None
    assert kept.manifest.version == 1, "the fork was pinned"
    # The real version 2 keeps the timestamp key: taken without a question, by both.
    recorder.keyring = None
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert result.exit_code == 0, result.output
    assert offered == ["/api/v1/uploads"]
    again = used.run("send", "-m", "again", "--codename-file", str(codename_file))
    assert again.exit_code == 0, again.output
    assert "timestamp key" not in again.stderr


def test_the_escape_takes_no_fork_the_pinned_authorities_did_not_all_sign(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    """`--accept-unpinned-keyring` (or y) is for a source who cannot reach the organisation:
    it takes a keyring after the one the pins vouch for only when as many of the pinned
    authorities as signed the first keyring (all, or the pins' threshold) signed it too,
    so holders rotated out since cannot talk a source into their fork through it."""
    _rotate_authorities(instance)
    pins = tmp_path / "organisation-pins.txt"
    pins.write_text(
        "".join([f"instance {device.url}\n", *(f"authority {a}\n" for a in device.authorities)])
    )
    told = dataclasses.replace(device, transport=[*device.transport, "--accept-unpinned-keyring"])
    recorder.keyring = _fork_by_rotated_out_holders(instance)
    result, offered = send_without_state(told, pins, codename_file, recorder)
    assert offered == [], (
        f"--accept-unpinned-keyring took a fork signed by two holders rotated out of three "
        f"pinned, and the report was offered: {offered}"
    )
    assert result.exit_code == 1, result.output
    assert "raazdar-submit: error: " in result.stderr
    # A rotation only the threshold of them signed is refused too: the escape's price.
    recorder.keyring = None
    result, offered = send_without_state(told, pins, codename_file, recorder)
    assert (result.exit_code, offered) == (1, []), result.output
    assert "--accept-unpinned-keyring does not take it" in result.stderr
    recorder.keyring = _fork_by_rotated_out_holders(instance)
    # Pins naming keyring 1: the fork after it is not taken through the escape either.
    dataclasses.replace(device, keyring=_first_keyring(instance)).arguments()
    anchored = tmp_path / "anchored-pins.txt"
    anchored.write_text((tmp_path / "state-pins.txt").read_text())
    result, offered = send_without_state(told, anchored, codename_file, recorder)
    assert offered == [], f"the escape took a fork after a keyring pin: {offered}"
    assert result.exit_code == 1, result.output


def test_version_one_served_alone_to_a_fresh_device_holds_only_while_its_last_timestamp_does(
    v1: SignedManifest, v2: SignedManifest, pins: frozenset[Fingerprint]
) -> None:
    """A seized server hides version 2 from devices with neither state nor a keyring pin,
    serving version 1 alone with the last timestamp the administrators made for it: the
    bound is that timestamp's life (`max_days`, 7 here), which the pins' line closes."""
    for days_ago, taken in ((6, True), (8, False)):
        doc = document([v1], timestamp=stamp(v1, on=TODAY - dt.timedelta(days=days_ago)))
        if taken:
            assert verify(doc, pins, None, TODAY).manifest == v1.manifest
        else:
            with pytest.raises(TrustError, match="not vouched for as the newest"):
                verify(doc, pins, None, TODAY)
        with pytest.raises(TrustError, match="older than version 2, which the pins name"):
            verify(doc, pins, None, TODAY, anchor=KeyringPin.of(v2.manifest))


def test_a_timestamp_key_an_authority_holds_vouches_for_no_successor(
    tmp_path: Path, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    """An old keyring whose timestamp key is also an authority's (readers still take them,
    PROTOCOL §8.1): that holder, rotated out with another, writes a successor that keeps the
    timestamp key and signs its timestamp. Keeping the key vouches for nothing then."""
    held = TimestampPolicy(keys[0].verify_key, 7)
    v1 = first(keys, [reviewer("alice")], timestamp=held)
    fork = successor(v1, keys[:2], recipients=[reviewer("mallory")])
    stamped = make_timestamp(fork.manifest, keys[0], issued=TODAY, days=7).to_json()
    state = State(tmp_path / "state", vault=VAULT)
    told: list[Unvouched] = []

    def ask(found: Unvouched) -> None:
        told.append(found)
        raise AssertionError("asked")

    with pytest.raises(AssertionError, match="asked"):
        establish(
            state,
            document([v1, fork], timestamp=stamped),
            pins,
            TODAY,
            no_warning,
            host=ONION,
            allow_test_kdf=True,
            anchor=KeyringPin.of(v1.manifest),
            unvouched=ask,
        )
    assert told, "a successor under a timestamp key an authority holds was taken unasked"
    assert told[0].base == v1.manifest
    assert state.manifest is None


def test_a_keyring_pin_of_format_one_vouches_for_no_successor_unasked(
    tmp_path: Path, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    """Pins naming an instance's first keyring of format 1 (no timestamp key): two holders,
    rotated out since, write a format 2 successor with a timestamp key of theirs. The
    pinned keyring names no timestamp key the fork would have to keep."""
    v1 = first(keys, [reviewer("alice")], instance=None, codename=None, timestamp=None)
    assert v1.manifest.timestamp is None
    fork = successor(
        v1,
        keys[:2],
        recipients=[reviewer("mallory")],
        instance=LISTING,
        codename=CODENAME,
        timestamp=POLICY,
    )
    told: list[Unvouched] = []
    establish(
        State(tmp_path / "state", vault=VAULT),
        document([v1, fork]),
        pins,
        TODAY,
        no_warning,
        host=ONION,
        allow_test_kdf=True,
        anchor=KeyringPin.of(v1.manifest),
        unvouched=told.append,
    )
    assert told, "a successor of a pinned format 1 keyring was taken unasked"
    assert told[0].base == v1.manifest
    assert not told[0].pins_signed


def test_a_device_that_pinned_the_old_authorities_takes_current_pins_naming_the_new_ones(
    device: Device, codename_file: Path, instance: Path, tmp_path: Path
) -> None:
    """After a rotation the organisation hands out current pins: the new authorities and the
    `keyring` line of the keyring that brought them in. A device that pinned the old set
    refused them, and told the source to start afresh in another state directory (where
    the reply keys of the reports sent so far are not)."""
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    rotated = _rotate_authorities(instance)
    current = dataclasses.replace(
        device,
        authorities=[str(fp) for fp in rotated.manifest.authority_fingerprints],
        keyring=str(KeyringPin.of(rotated.manifest)),
    )
    result = current.run("send", "-m", "again", "--codename-file", str(codename_file))
    assert result.exit_code == 0, (
        f"a device refused the organisation's current pins after a rotation: {result.output}"
    )
    # The new authorities without a keyring line naming their keyring are refused as before.
    bare = dataclasses.replace(current, keyring=None)
    refused = bare.run("send", "-m", "more", "--codename-file", str(codename_file))
    assert refused.exit_code == 1, refused.output
    assert "not the ones this device pinned" in refused.stderr
    # So are they beside a keyring line naming a keyring they are not the authorities of.
    wrong = dataclasses.replace(current, keyring=_first_keyring(instance))
    refused = wrong.run("send", "-m", "more", "--codename-file", str(codename_file))
    assert refused.exit_code == 1, refused.output
    assert "not the ones this device pinned" in refused.stderr


def test_a_timestamp_key_holder_keeps_a_device_on_a_withheld_keyring_until_it_expires(
    v1: SignedManifest, v2: SignedManifest, keys: list[SigningKey], pins: frozenset[Fingerprint]
) -> None:
    """Not closed, bounded: whoever holds the timestamp key (a workstation's administrator,
    or its seizer) and the server hides version 3, which drops Bob, from one device and
    stamps version 2 afresh each day; signatures and stamps are all genuine, so the device
    seals to Bob for as long as version 2 lives (here 300 days, not the stamps' 7), unless
    its pins name version 3, which the organisation hands out with it."""
    bob = v2.manifest.recipients[1]
    v3 = successor(v2, keys[:2], recipients=[v2.manifest.recipients[0]])
    last_day = v2.manifest.expires
    for day, taken in ((last_day, True), (last_day + dt.timedelta(days=1), False)):
        fresh = make_timestamp(v2.manifest, STAMPER, issued=day, days=7).to_json()
        doc = document([v1, v2], timestamp=fresh)
        if taken:
            held = verify(doc, pins, v2, day)
            assert bob in held.manifest.recipients, "the fork was not taken: close the docs"
            with pytest.raises(TrustError, match="older than version 3, which the pins name"):
                verify(doc, pins, v2, day, anchor=KeyringPin.of(v3.manifest))
        else:
            with pytest.raises(TrustError, match="expired"):
                verify(doc, pins, v2, day)
