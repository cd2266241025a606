"""Key files: private keys under a passphrase, public fields bound to the ciphertext."""

from __future__ import annotations

import dataclasses
import inspect
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
    PrivateKey,
    SigningKey,
    UnsupportedVersionError,
)
from crypto import constants as C
from crypto.encoding import b64encode
from tests.crypto.support import secret_renderings

PASSPHRASE = "correct horse battery staple"
KEYS = KeyPair(encryption=PrivateKey(bytes([2]) * 32), signing=SigningKey(bytes([3]) * 32))
OTHER_X25519 = PrivateKey(bytes([8]) * 32).public_key
OTHER_ED25519 = SigningKey(bytes([9]) * 32).verify_key
KEYFILE = KeyFile.create(
    KEYS, PASSPHRASE, kind="reviewer", label="Reviewer One", params=KdfParams.TESTING
)
DATA = KEYFILE.to_bytes()


# A format 1 key file, as raazdar wrote them before the binding (a known-answer vector).
V1 = json.loads((Path(__file__).parent / "vectors" / "vectors.json").read_text())["keyfile"]


def _edited(field: str, value: Any, *, inner: str | None = None) -> bytes:
    doc = json.loads(DATA)
    if inner is None:
        doc[field] = value
    else:
        doc[field][inner] = value
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "keys",
    [
        KEYS,
        KeyPair(encryption=PrivateKey(bytes([2]) * 32)),
        KeyPair(signing=SigningKey(bytes([3]) * 32)),
    ],
    ids=["both", "x25519-only", "ed25519-only"],
)
def test_key_file_round_trips(keys: KeyPair) -> None:
    keyfile = KeyFile.create(
        keys, PASSPHRASE, kind="authority", label="A", params=KdfParams.TESTING
    )

    unlocked = KeyFile.from_bytes(keyfile.to_bytes()).unlock(PASSPHRASE)

    assert unlocked == keys
    assert KeyFile.from_bytes(keyfile.to_bytes()) == keyfile


def test_key_file_is_canonical_json_with_one_newline() -> None:
    assert DATA.endswith(b"}\n")
    assert not DATA.endswith(b"\n\n")
    assert DATA[:-1] == json.dumps(json.loads(DATA), sort_keys=True, separators=(",", ":")).encode()


def test_a_key_pair_holds_at_least_one_key() -> None:
    with pytest.raises(FormatError):
        KeyPair()


def test_key_file_never_holds_a_secret_in_the_clear() -> None:
    text = DATA.decode()
    for key in (KEYS.encryption, KEYS.signing):
        assert key is not None
        assert key.to_text() not in text
        for rendering in secret_renderings(key.secret_bytes()):
            assert rendering not in text


@pytest.mark.parametrize(
    "wrong", ["", "correct horse battery stapl", "Correct horse battery staple", PASSPHRASE + " "]
)
def test_wrong_passphrase_is_a_decryption_error(wrong: str) -> None:
    with pytest.raises(DecryptionError):
        KEYFILE.unlock(wrong)


def test_passphrase_is_compared_after_unicode_normalisation() -> None:
    keyfile = KeyFile.create(
        KEYS, "caf\u00e9 راز", kind="reviewer", label="R", params=KdfParams.TESTING
    )

    assert keyfile.unlock("cafe\u0301 راز") == KEYS


def test_public_keys_are_readable_without_the_passphrase() -> None:
    parsed = KeyFile.from_bytes(DATA)

    assert parsed.encryption_public == KEYS.encryption_public
    assert parsed.signing_public == KEYS.signing_public
    assert (parsed.kind, parsed.label) == ("reviewer", "Reviewer One")


def test_a_missing_key_reads_as_none() -> None:
    keyfile = KeyFile.create(
        KeyPair(signing=SigningKey(bytes([3]) * 32)),
        "pw",
        kind="a",
        label="A",
        params=KdfParams.TESTING,
    )

    assert KeyFile.from_bytes(keyfile.to_bytes()).encryption_public is None


# Edits the binding catches before any passphrase: the public keys, kind and label.
UNBOUND = {
    "label": ("label", "Reviewer Two", None),
    "kind": ("kind", "authority", None),
    "x25519-public-swapped": ("public", OTHER_X25519.to_text(), "x25519"),
    "ed25519-public-swapped": ("public", OTHER_ED25519.to_text(), "ed25519"),
    "x25519-public-removed": ("public", None, "x25519"),
    "binding-removed": ("binding", None, None),
    "binding-of-another-file": ("binding", b64encode(bytes(64)), None),
}
# Edits only the passphrase can catch: the derivation's inputs.
TAMPERED = {
    "kdf-ops": ("kdf", 2, "ops"),
    "kdf-mem": ("kdf", 16 * 1024, "mem"),
    "salt": ("salt", b64encode(bytes(16)), None),
    "nonce": ("nonce", b64encode(bytes(24)), None),
}


@pytest.mark.parametrize(("field", "value", "inner"), UNBOUND.values(), ids=UNBOUND)
def test_an_edited_public_field_is_refused_before_any_passphrase(
    field: str, value: Any, inner: str | None
) -> None:
    with pytest.raises(FormatError, match=r"bound|altered|binding"):
        KeyFile.from_bytes(_edited(field, value, inner=inner))


@pytest.mark.parametrize(("field", "value", "inner"), TAMPERED.values(), ids=TAMPERED)
def test_tampered_public_field_fails_at_unlock(field: str, value: Any, inner: str | None) -> None:
    tampered = KeyFile.from_bytes(_edited(field, value, inner=inner))

    with pytest.raises(DecryptionError):
        tampered.unlock(PASSPHRASE)


def test_a_format_1_key_file_with_an_edited_public_field_fails_at_unlock() -> None:
    doc = json.loads(V1["file"])
    doc["public"]["x25519"] = OTHER_X25519.to_text()
    edited = KeyFile.from_bytes(json.dumps(doc).encode())

    assert not edited.bound
    with pytest.raises(DecryptionError):
        edited.unlock(V1["passphrase"])


def test_a_format_1_key_file_still_opens_and_upgrades_to_a_bound_one() -> None:
    old = KeyFile.from_bytes(V1["file"].encode())
    keys = old.unlock(V1["passphrase"])

    assert (old.format, old.bound) == (1, False)
    new = KeyFile.from_bytes(old.upgraded(V1["passphrase"]).to_bytes())
    assert (new.format, new.bound) == (2, True)
    assert new.unlock(V1["passphrase"]) == keys


def test_a_key_file_whose_public_and_secret_halves_differ_is_refused() -> None:
    class Lying(KeyPair):
        __slots__ = ()

        def _public(self) -> dict[str, str | None]:
            return {"x25519": OTHER_X25519.to_text(), "ed25519": KEYS._public()["ed25519"]}

    lying = Lying(encryption=KEYS.encryption, signing=KEYS.signing)
    # Made by someone with the passphrase, so the AEAD and the binding both hold.
    file = KeyFile.from_bytes(
        KeyFile.create(
            lying, PASSPHRASE, kind="reviewer", label="Liar", params=KdfParams.TESTING
        ).to_bytes()
    )

    with pytest.raises(FormatError, match="do not match"):
        file.unlock(PASSPHRASE)


@pytest.mark.parametrize(
    ("ops", "mem"),
    [(1, 4 * 1024**3), (16, 8 * 1024), (C.ARGON2_OPS_SENSITIVE, C.ARGON2_MEM_SENSITIVE * 2)],
    ids=["4-gib", "16-passes", "twice-sensitive"],
)
def test_kdf_parameters_above_what_raazdar_writes_are_refused_before_deriving(
    ops: int, mem: int
) -> None:
    doc = json.loads(DATA)
    doc["kdf"] = {"alg": "argon2id13", "ops": ops, "mem": mem}

    with pytest.raises(FormatError, match="more Argon2id work"):
        KeyFile.from_bytes(json.dumps(doc).encode())
    with pytest.raises(FormatError, match="more Argon2id work"):
        dataclasses.replace(KEYFILE, kdf=KdfParams(ops, mem))


def test_the_sensitive_parameters_are_within_the_cap() -> None:
    assert dataclasses.replace(KEYFILE, kdf=KdfParams.SENSITIVE).kdf == KdfParams.SENSITIVE


@pytest.mark.parametrize("position", [0, 10, -17, -1])
def test_tampered_ciphertext_fails_at_unlock(position: int) -> None:
    sealed = bytearray(KEYFILE.sealed)
    sealed[position] ^= 0x01

    with pytest.raises(DecryptionError):
        KeyFile.from_bytes(_edited("sealed", b64encode(bytes(sealed)))).unlock(PASSPHRASE)


def test_truncated_ciphertext_fails_at_unlock() -> None:
    for size in (0, 15, 16, len(KEYFILE.sealed) - 1):
        with pytest.raises(DecryptionError):
            KeyFile.from_bytes(_edited("sealed", b64encode(KEYFILE.sealed[:size]))).unlock(
                PASSPHRASE
            )


def test_changing_the_passphrase_retires_the_old_one() -> None:
    changed = KEYFILE.change_passphrase(PASSPHRASE, "a new passphrase")

    assert changed.unlock("a new passphrase") == KEYS
    with pytest.raises(DecryptionError):
        changed.unlock(PASSPHRASE)
    assert (changed.kind, changed.label, changed.kdf) == (KEYFILE.kind, KEYFILE.label, KEYFILE.kdf)
    assert changed.salt != KEYFILE.salt
    assert changed.nonce != KEYFILE.nonce


def test_changing_the_passphrase_needs_the_old_one() -> None:
    with pytest.raises(DecryptionError):
        KEYFILE.change_passphrase("wrong", "new")


def test_changing_the_passphrase_can_change_the_parameters() -> None:
    params = KdfParams(ops=2, mem=16 * 1024)

    changed = KEYFILE.change_passphrase(PASSPHRASE, "new", params=params)

    assert changed.kdf == params
    assert KeyFile.from_bytes(changed.to_bytes()).unlock("new") == KEYS


def test_each_key_file_gets_a_fresh_salt_and_nonce() -> None:
    again = KeyFile.create(
        KEYS, PASSPHRASE, kind="reviewer", label="Reviewer One", params=KdfParams.TESTING
    )

    assert again.salt != KEYFILE.salt
    assert again.nonce != KEYFILE.nonce
    assert again.sealed != KEYFILE.sealed


def test_key_files_default_to_the_sensitive_parameters() -> None:
    default = inspect.signature(KeyFile.create).parameters["params"].default

    assert default == KdfParams.SENSITIVE


@pytest.mark.parametrize(
    "fmt", [4, 0, "2", True, None], ids=["four", "zero", "string", "true", "null"]
)
def test_unsupported_format_version_is_refused(fmt: Any) -> None:
    with pytest.raises(UnsupportedVersionError):
        KeyFile.from_bytes(_edited("format", fmt))


def test_unsupported_format_wins_over_unknown_fields() -> None:
    data = json.dumps({"type": "raazdar-keyfile", "format": 4, "new": "field"}).encode()

    with pytest.raises(UnsupportedVersionError):
        KeyFile.from_bytes(data)


MALFORMED = {
    "wrong-type": _edited("type", "raazdar-keyring"),
    "missing-field": json.dumps(
        {k: v for k, v in json.loads(DATA).items() if k != "salt"}
    ).encode(),
    "extra-field": _edited("comment", "hi"),
    "public-extra-key": _edited("public", "x", inner="rsa"),
    "public-not-an-object": _edited("public", []),
    "public-key-mangled": _edited("public", "rz-x25519-public:AAAA", inner="x25519"),
    "public-key-wrong-kind": _edited(
        "public", SigningKey(bytes([3]) * 32).verify_key.to_text(), inner="x25519"
    ),
    "public-key-not-a-string": _edited("public", 1, inner="ed25519"),
    "kind-upper-case": _edited("kind", "Reviewer"),
    "kind-not-a-string": _edited("kind", 1),
    "label-empty": _edited("label", ""),
    "label-not-printable": _edited("label", "a\nb"),
    "kdf-unknown": _edited("kdf", "scrypt", inner="alg"),
    "kdf-float": DATA.replace(b'"ops":1', b'"ops":1.0'),
    "kdf-memory-too-small": _edited("kdf", 1024, inner="mem"),
    "salt-short": _edited("salt", b64encode(bytes(15))),
    "nonce-long": _edited("nonce", b64encode(bytes(25))),
    "sealed-not-base64": _edited("sealed", "!!!"),
    "sealed-padded": _edited("sealed", b64encode(KEYFILE.sealed) + "="),
    "duplicate-key": DATA.replace(b'"kind":"reviewer"', b'"kind":"reviewer","kind":"reviewer"'),
    "not-json": b"rz-x25519-secret:AAAA\n",
    "empty": b"",
    "list": b"[]\n",
    "oversized": b'{"type":"raazdar-keyfile","pad":"' + b"x" * 70_000 + b'"}',
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED)
def test_malformed_key_file_is_refused_before_any_passphrase(data: bytes) -> None:
    with pytest.raises(FormatError) as caught:
        KeyFile.from_bytes(data)
    assert not isinstance(caught.value, UnsupportedVersionError)


@pytest.mark.parametrize(
    ("kind", "label", "passphrase"),
    [
        ("Reviewer", "R", "pw"),
        ("reviewer", "", "pw"),
        ("reviewer", "x" * 201, "pw"),
        ("reviewer", "a\tb", "pw"),
        ("reviewer", "R", ""),
    ],
    ids=["bad-kind", "empty-label", "long-label", "label-with-tab", "empty-passphrase"],
)
def test_create_refuses_bad_fields(kind: str, label: str, passphrase: str) -> None:
    with pytest.raises(FormatError):
        KeyFile.create(KEYS, passphrase, kind=kind, label=label, params=KdfParams.TESTING)


def test_urdu_label_is_allowed() -> None:
    keyfile = KeyFile.create(
        KEYS, "pw", kind="reviewer", label="جائزہ کار", params=KdfParams.TESTING
    )

    assert KeyFile.from_bytes(keyfile.to_bytes()).unlock("pw") == KEYS
