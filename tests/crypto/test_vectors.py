"""Known-answer vectors: fixed inputs and outputs that any later version must reproduce.

The vectors were written once by vectors/generate.py (which checked them against
docs/PROTOCOL.md's examples); these tests only read them. A failure here means
the formats changed: old envelopes, key files or manifests would stop working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from crypto import (
    DecryptionError,
    Fingerprint,
    KdfParams,
    KeyFile,
    Metadata,
    PrivateKey,
    PublicKey,
    SignedManifest,
    SigningKey,
    VerificationError,
    VerifyKey,
    check_codename,
    derive_source_keys,
    normalize_codename,
    open_bytes,
    read_header,
    verify_chain,
    verify_initial,
    verify_signature,
)
from crypto.encoding import b64encode
from crypto.envelope.header import header_mac, payload_key
from crypto.padding import padded_size, padme

VECTORS_DIR = Path(__file__).parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "vectors.json").read_text("utf-8"))


def _ids(items: list[dict[str, Any]], key: str) -> list[str]:
    return [str(item[key])[:24] for item in items]


# Keys.


@pytest.mark.parametrize(
    "vector", VECTORS["keys"]["x25519"], ids=_ids(VECTORS["keys"]["x25519"], "secret_hex")
)
def test_x25519_key_vectors(vector: dict[str, Any]) -> None:
    key = PrivateKey(bytes.fromhex(vector["secret_hex"]))
    public = key.public_key

    assert key.to_text() == vector["secret_text"]
    assert PrivateKey.from_text(vector["secret_text"]) == key
    assert public.raw.hex() == vector["public_hex"]
    assert public.to_text() == vector["public_text"]
    assert PublicKey.from_text(vector["public_text"]) == public
    assert str(public.fingerprint) == vector["fingerprint"]
    assert public.fingerprint.raw.hex() == vector["fingerprint_hex"]
    assert Fingerprint.parse(vector["fingerprint"]) == public.fingerprint
    assert public.fingerprint.key_id.hex() == vector["key_id_hex"]
    assert b64encode(public.fingerprint.key_id) == vector["key_id_b64"]


@pytest.mark.parametrize(
    "vector", VECTORS["keys"]["ed25519"], ids=_ids(VECTORS["keys"]["ed25519"], "seed_hex")
)
def test_ed25519_key_and_signature_vectors(vector: dict[str, Any]) -> None:
    key = SigningKey(bytes.fromhex(vector["seed_hex"]))
    public = key.verify_key

    assert key.to_text() == vector["secret_text"]
    assert SigningKey.from_text(vector["secret_text"]) == key
    assert public.raw.hex() == vector["public_hex"]
    assert public.to_text() == vector["public_text"]
    assert VerifyKey.from_text(vector["public_text"]) == public
    assert str(public.fingerprint) == vector["fingerprint"]
    for sig in vector["signatures"]:
        context, message = sig["context"].encode(), bytes.fromhex(sig["message_hex"])
        signature = bytes.fromhex(sig["signature_hex"])
        assert key.sign(context, message) == signature
        public.verify(context, message, signature)


# Padmé.


@pytest.mark.parametrize(("length", "padded"), VECTORS["padding"]["padme"])
def test_padme_vectors(length: int, padded: int) -> None:
    assert padme(length) == padded


@pytest.mark.parametrize(("length", "floor", "padded"), VECTORS["padding"]["padded_size"])
def test_padded_size_vectors(length: int, floor: int, padded: int) -> None:
    assert padded_size(length, floor) == padded


# Codenames.


def test_wordlist_vector() -> None:
    data = (Path(__file__).parents[2] / "crypto" / "data" / "eff_large_wordlist.txt").read_bytes()

    assert hashlib.sha256(data).hexdigest() == VECTORS["codename"]["wordlist_sha256"]


@pytest.mark.parametrize(
    "vector",
    VECTORS["codename"]["checksums"],
    ids=[" ".join(v["words"][:2]) for v in VECTORS["codename"]["checksums"]],
)
def test_codename_checksum_vectors(vector: dict[str, Any]) -> None:
    codename = " ".join([*vector["words"], vector["checksum_word"]])
    digest = hashlib.blake2b(
        " ".join(vector["words"]).encode(), digest_size=8, person=b"rz-codename-chk1"
    ).hexdigest()

    assert digest == vector["digest_hex"]
    assert check_codename(codename) == codename


@pytest.mark.parametrize(
    "vector",
    VECTORS["codename"]["derivations"],
    ids=[f"{v['kdf']['mem']}-bytes" for v in VECTORS["codename"]["derivations"]],
)
def test_codename_derivation_vectors(vector: dict[str, Any]) -> None:
    params = KdfParams.from_dict(vector["kdf"])
    keys = derive_source_keys(vector["typed"], bytes.fromhex(vector["salt_hex"]), params)

    assert normalize_codename(vector["typed"]) == vector["normalized"]
    assert keys.lookup_tag.hex() == vector["lookup_tag_hex"]
    assert keys.private_key.to_text() == vector["secret_text"]
    assert keys.public_key.to_text() == vector["public_text"]


# Envelope key schedule.


def test_envelope_key_schedule_vectors() -> None:
    vector = VECTORS["envelope_keys"]
    file_key = bytes.fromhex(vector["file_key_hex"])
    mac_input = bytes.fromhex(vector["mac_input_hex"])
    stream_header = bytes.fromhex(vector["stream_header_hex"])

    assert payload_key(file_key).hex() == vector["payload_key_hex"]
    assert header_mac(file_key, mac_input, stream_header).hex() == vector["header_mac_hex"]
    assert (
        hashlib.blake2b(b"", digest_size=32, key=file_key, person=b"rz-env-hdrmac-v1").hexdigest()
        == vector["mac_key_hex"]
    )


# Manifests.


def test_single_authority_manifest_vector() -> None:
    vector = VECTORS["manifest"]["single"]
    signed = SignedManifest.from_bytes(vector["signed"].encode())
    authority = SigningKey(bytes.fromhex(vector["authority_seed_hex"]))
    pinned = [Fingerprint.parse(fp) for fp in vector["pinned"]]

    assert signed.manifest.canonical_bytes().decode() == vector["canonical"]
    assert signed.manifest.digest().hex() == vector["digest_hex"]
    assert signed.to_bytes().decode() == vector["signed"]
    assert signed.signatures[0][1].hex() == vector["signature_hex"]
    assert SignedManifest(signed.manifest).sign(authority) == signed
    assert verify_initial(signed, pinned, dt.date(2025, 6, 1)) == signed.manifest


def test_rotation_chain_vector() -> None:
    vector = VECTORS["manifest"]["rotation_chain"]
    chain = [SignedManifest.from_bytes(link["signed"].encode()) for link in vector["links"]]
    pinned = [Fingerprint.parse(fp) for fp in vector["pinned"]]

    for link, signed in zip(vector["links"], chain, strict=True):
        assert signed.manifest.digest().hex() == link["digest_hex"]
        assert signed.to_bytes().decode() == link["signed"]
    newest = verify_chain(pinned, chain, dt.date.fromisoformat(vector["today"]))
    assert newest.digest().hex() == vector["links"][-1]["digest_hex"]
    assert newest.version == 3


# Key files.


def test_key_file_vector() -> None:
    vector = VECTORS["keyfile"]
    keyfile = KeyFile.from_bytes(vector["file"].encode())

    keys = keyfile.unlock(vector["passphrase"])

    assert keys.encryption == PrivateKey(bytes.fromhex(vector["x25519_secret_hex"]))
    assert keys.signing == SigningKey(bytes.fromhex(vector["ed25519_seed_hex"]))
    assert keyfile.to_bytes().decode() == vector["file"]
    with pytest.raises(DecryptionError):
        keyfile.unlock(vector["passphrase"] + " ")


# Envelopes: fixed ciphertexts that must keep opening.


def _plaintext(described: dict[str, Any]) -> bytes:
    if "utf8" in described:
        return str(described["utf8"]).encode()
    return hashlib.shake_256(described["shake256_of"].encode()).digest(described["length"])


@pytest.mark.parametrize("vector", VECTORS["envelopes"], ids=_ids(VECTORS["envelopes"], "file"))
def test_envelope_vector_opens_for_every_recipient(vector: dict[str, Any]) -> None:
    envelope = (VECTORS_DIR / vector["file"]).read_bytes()
    expected = _plaintext(vector["plaintext"])
    signer = VerifyKey.from_text(vector["signer"]) if vector["signer"] else None

    assert hashlib.sha256(envelope).hexdigest() == vector["envelope_sha256"]
    assert len(envelope) == vector["size"]
    assert hashlib.sha256(expected).hexdigest() == vector["plaintext_sha256"]
    for identity in vector["identities"]:
        plaintext, opened = open_bytes(envelope, [PrivateKey.from_text(identity)])
        assert plaintext == expected
        assert opened.length == vector["length"]
        assert opened.metadata == Metadata(**vector["metadata"])
        assert opened.signer == signer


@pytest.mark.parametrize("vector", VECTORS["envelopes"], ids=_ids(VECTORS["envelopes"], "file"))
def test_envelope_vector_header_names_its_recipients(vector: dict[str, Any]) -> None:
    envelope = (VECTORS_DIR / vector["file"]).read_bytes()

    header = read_header(io.BytesIO(envelope))

    assert len(header.raw) == vector["header_bytes"]
    assert [s.key_id for s in header.stanzas] == [
        PrivateKey.from_text(i).public_key.fingerprint.key_id for i in vector["identities"]
    ]


@pytest.mark.parametrize("vector", VECTORS["envelopes"], ids=_ids(VECTORS["envelopes"], "file"))
def test_envelope_vector_refuses_other_keys(vector: dict[str, Any]) -> None:
    envelope = (VECTORS_DIR / vector["file"]).read_bytes()

    with pytest.raises(DecryptionError):
        open_bytes(envelope, [PrivateKey(bytes([0x66]) * 32)])


def test_signed_envelope_vector_verifies_without_a_private_key() -> None:
    (vector,) = [v for v in VECTORS["envelopes"] if v["signer"]]
    envelope = (VECTORS_DIR / vector["file"]).read_bytes()
    signer = VerifyKey.from_text(vector["signer"])

    assert verify_signature(io.BytesIO(envelope), [signer]) == signer
    assert (
        open_bytes(
            envelope, [PrivateKey.from_text(vector["identities"][1])], trusted_signers=[signer]
        )[1].signer
        == signer
    )
    with pytest.raises(VerificationError):
        verify_signature(io.BytesIO(envelope[:-1] + bytes([envelope[-1] ^ 1])), [signer])
