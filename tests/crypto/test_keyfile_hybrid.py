"""Key files of format 3: an X-Wing key beside X25519 and Ed25519, bound and proven like them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto import (
    DecryptionError,
    FormatError,
    KdfParams,
    KeyFile,
    KeyPair,
    Metadata,
    PrivateKey,
    SigningKey,
    VerificationError,
    open_bytes,
    seal_bytes,
)
from crypto import constants as C
from crypto.encoding import b64encode
from crypto.hybrid import HybridPrivateKey
from crypto.possession import Challenge, answer

PASSPHRASE = "correct horse"
KEYS = KeyPair(
    encryption=PrivateKey(bytes([2]) * 32),
    signing=SigningKey(bytes([3]) * 32),
    hybrid=HybridPrivateKey(bytes([6]) * 32),
)
KEYFILE = KeyFile.create(
    KEYS, PASSPHRASE, kind="reviewer", label="Reviewer One", params=KdfParams.TESTING
)
DATA = KEYFILE.to_bytes()
# A format 2 key file as raazdar wrote them before X-Wing keys (same X25519 and
# Ed25519 keys as KEYS, passphrase "correct horse"), made by the code of that day.
FORMAT2 = (Path(__file__).parent / "data" / "keyfile-format2.key").read_bytes()


def _doc() -> dict[str, Any]:
    doc = json.loads(DATA)
    assert isinstance(doc, dict)
    return doc


def test_a_key_file_with_an_x_wing_key_is_format_three_and_round_trips() -> None:
    parsed = KeyFile.from_bytes(DATA)
    assert parsed.format == C.KEYFILE_FORMAT_HYBRID == 3
    assert parsed.hybrid_public == KEYS.hybrid_public
    assert set(_doc()["public"]) == {"x25519", "ed25519", "xwing"}
    keys = parsed.unlock(PASSPHRASE)
    assert keys == KEYS
    assert keys.decryption_keys == [KEYS.encryption, KEYS.hybrid]


def test_new_reviewer_keys_get_an_x_wing_key_and_authority_keys_do_not() -> None:
    reviewer = KeyPair.generate()
    authority = KeyPair.generate(encryption=False)
    assert reviewer.hybrid is not None
    assert reviewer.format == 3
    assert authority.hybrid is None
    assert authority.format == 2
    assert KeyPair.generate(hybrid=False).hybrid is None


def test_an_x_wing_key_needs_an_x25519_key() -> None:
    with pytest.raises(FormatError, match="X25519"):
        KeyPair(signing=SigningKey(bytes([3]) * 32), hybrid=HybridPrivateKey(bytes([6]) * 32))


def test_a_format_two_key_file_of_before_still_unlocks_unchanged() -> None:
    old = KeyFile.from_bytes(FORMAT2)
    assert old.format == 2
    assert old.bound
    assert old.hybrid_public is None
    keys = old.unlock(PASSPHRASE)
    assert (keys.encryption, keys.signing, keys.hybrid) == (KEYS.encryption, KEYS.signing, None)
    assert keys.decryption_keys == [KEYS.encryption]
    # A pair without an X-Wing key is still written as format 2, the same fields.
    again = KeyFile.create(keys, PASSPHRASE, kind="reviewer", label="Reviewer One")
    assert again.format == 2
    assert set(json.loads(again.to_bytes())) == set(json.loads(FORMAT2))


def test_an_old_key_file_gains_an_x_wing_key_only_when_asked() -> None:
    old = KeyFile.from_bytes(FORMAT2)
    assert old.upgraded(PASSPHRASE).format == 2
    upgraded = old.upgraded(PASSPHRASE, add_hybrid=True)
    assert upgraded.format == 3
    assert upgraded.hybrid_public is not None
    assert upgraded.encryption_public == old.encryption_public
    assert upgraded.signing_public == old.signing_public
    keys = upgraded.unlock(PASSPHRASE)
    assert keys.hybrid is not None
    # Upgrading again keeps the X-Wing key it has.
    assert upgraded.upgraded(PASSPHRASE, add_hybrid=True).hybrid_public == upgraded.hybrid_public


def test_an_authority_file_never_gains_an_x_wing_key() -> None:
    pair = KeyPair.generate(encryption=False)
    file = KeyFile.create(pair, PASSPHRASE, kind="authority", label="A", params=KdfParams.TESTING)
    assert file.upgraded(PASSPHRASE, add_hybrid=True).format == 2


def test_a_swapped_x_wing_key_breaks_the_binding_before_any_passphrase() -> None:
    doc = _doc()
    doc["public"]["xwing"] = HybridPrivateKey.generate().public_key.to_text()
    with pytest.raises(FormatError, match="altered"):
        KeyFile.from_bytes(json.dumps(doc).encode())


def test_stripping_the_x_wing_key_to_pass_as_format_two_breaks_the_binding() -> None:
    doc = _doc()
    del doc["public"]["xwing"]
    doc["format"] = 2
    with pytest.raises(FormatError, match="altered"):
        KeyFile.from_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize("value", [None, 7, "rz-xwing-public:AAAA"])
def test_a_format_three_file_without_a_valid_x_wing_key_is_refused(value: Any) -> None:
    doc = _doc()
    doc["public"]["xwing"] = value
    with pytest.raises(FormatError):
        KeyFile.from_bytes(json.dumps(doc).encode())


def test_a_format_two_file_with_an_x_wing_field_is_refused() -> None:
    doc = json.loads(FORMAT2)
    doc["public"]["xwing"] = KEYS.hybrid_public.to_text() if KEYS.hybrid_public else None
    with pytest.raises(FormatError, match="malformed"):
        KeyFile.from_bytes(json.dumps(doc).encode())


def test_every_byte_of_the_sealed_secret_is_authenticated() -> None:
    sealed = KEYFILE.sealed
    for i in range(0, len(sealed), 13):
        flipped = bytearray(sealed)
        flipped[i] ^= 1
        doc = _doc()
        doc["sealed"] = b64encode(bytes(flipped))
        with pytest.raises(DecryptionError):
            KeyFile.from_bytes(json.dumps(doc).encode()).unlock(PASSPHRASE)


def test_the_x_wing_key_opens_envelopes_v2_and_the_x25519_key_v1() -> None:
    keys = KeyFile.from_bytes(DATA).unlock(PASSPHRASE)
    assert KEYS.hybrid_public is not None
    assert KEYS.encryption_public is not None
    v2 = seal_bytes(b"report", [KEYS.hybrid_public], Metadata("report"))
    v1 = seal_bytes(b"report", [KEYS.encryption_public], Metadata("report"))
    assert open_bytes(v2, keys.decryption_keys)[0] == b"report"
    assert open_bytes(v1, keys.decryption_keys)[0] == b"report"


def _challenge(keys: KeyPair) -> Challenge:
    assert keys.encryption_public
    assert keys.signing_public
    return Challenge.issue(
        keys.encryption_public,
        keys.signing_public,
        instance="i1",
        holder="alice",
        hybrid=keys.hybrid_public,
    )


def test_the_holder_of_all_three_keys_answers_a_hybrid_challenge() -> None:
    challenge = _challenge(KEYS)
    assert challenge.sealed_hybrid is not None
    assert b'"xwing"' in challenge.statement
    challenge.check(answer(KEYS, challenge.sealed, challenge.statement, challenge.sealed_hybrid))


def test_a_holder_without_the_x_wing_secret_cannot_answer() -> None:
    challenge = _challenge(KEYS)
    without = KeyPair(KEYS.encryption, KEYS.signing)
    with pytest.raises(VerificationError):
        answer(without, challenge.sealed, challenge.statement, challenge.sealed_hybrid)
    # Nor by ignoring the second challenge: the answer must cover both nonces.
    with pytest.raises(VerificationError):
        challenge.check(answer(without, challenge.sealed, challenge.statement))


def test_an_x_wing_key_edited_in_transit_cannot_answer() -> None:
    mallory = HybridPrivateKey.generate()
    assert KEYS.encryption_public
    assert KEYS.signing_public
    challenge = Challenge.issue(
        KEYS.encryption_public,
        KEYS.signing_public,
        instance="i1",
        holder="alice",
        hybrid=mallory.public_key,
    )
    with pytest.raises(VerificationError):
        answer(KEYS, challenge.sealed, challenge.statement, challenge.sealed_hybrid)


def test_an_envelope_other_than_a_challenge_is_not_opened_as_the_second_nonce() -> None:
    """The enrolling side can't use the holder as an oracle for a report sealed to their key."""
    challenge = _challenge(KEYS)
    assert KEYS.hybrid_public is not None
    report = seal_bytes(bytes(C.POSSESSION_NONCE_BYTES), [KEYS.hybrid_public], Metadata("report"))
    with pytest.raises(FormatError, match="not a proof-of-possession challenge"):
        answer(KEYS, challenge.sealed, challenge.statement, report)
