"""Malformed input of any shape raises a `CryptoError` subclass and nothing else.

No bare libsodium, `ValueError`, `TypeError`, `KeyError`, `UnicodeError` or
`RecursionError` may escape the public API, whatever bytes or text it is given.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crypto import (
    CodenameError,
    DecryptionError,
    Fingerprint,
    FormatError,
    KdfParams,
    KeyFile,
    KeyPair,
    Metadata,
    PrivateKey,
    PublicKey,
    SignedManifest,
    SigningKey,
    VerificationError,
    VerifyKey,
    check_codename,
    open_bytes,
    read_header,
    seal_bytes,
)
from crypto.encoding import b64decode
from crypto.manifest import AuthorityKey, Manifest, Recipient

ALICE = PrivateKey(bytes(range(32)))
SIGNER = SigningKey(bytes(range(32, 64)))
AUTHORITY = SigningKey(bytes(range(64, 96)))
ENVELOPES = [
    seal_bytes(b"x" * 100, [ALICE.public_key], Metadata(kind="message")),
    seal_bytes(b"y" * 70_000, [ALICE.public_key], Metadata(kind="file"), signer=SIGNER),
]
MANIFEST = SignedManifest(
    Manifest(
        version=1,
        previous=None,
        issued=dt.date(2025, 1, 6),
        expires=dt.date(2026, 1, 6),
        threshold=1,
        authorities=(AuthorityKey(name="Admin A", key=AUTHORITY.verify_key),),
        recipients=(
            Recipient(
                id="reviewer-1",
                name="Reviewer One",
                encryption_key=ALICE.public_key,
                signing_key=SIGNER.verify_key,
            ),
        ),
    )
).sign(AUTHORITY)
KEYFILE = KeyFile.create(
    KeyPair(encryption=ALICE, signing=SIGNER),
    "pw",
    kind="reviewer",
    label="R",
    params=KdfParams.TESTING,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=120)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | any_text
    | st.sampled_from(["rz-x25519-public:", "raazdar-keyring", "raazdar-keyfile", "argon2id13"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


KEY_READERS: list[Callable[[str], object]] = [
    PublicKey.from_text,
    VerifyKey.from_text,
    PrivateKey.from_text,
    SigningKey.from_text,
]
KEY_MAKERS: list[Callable[[bytes], object]] = [PublicKey, VerifyKey, PrivateKey, SigningKey]


def only_crypto_errors(call: Callable[[], object]) -> None:
    """Run `call`; a CryptoError subclass is fine, any other exception fails the test."""
    # UnsupportedVersionError is a FormatError; even a bare CryptoError is not expected here.
    with contextlib.suppress(FormatError, DecryptionError, VerificationError, CodenameError):
        call()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(document: bytes, data: st.DataObject) -> bytes:
    """Replace or delete one value somewhere in a JSON document, or add a field."""
    doc = json.loads(document)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(json_values)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=8))] = data.draw(json_values)
    else:
        parent.append(data.draw(json_values))
    return json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode("utf-8", "surrogatepass")


def _damage(envelope: bytes, data: st.DataObject) -> bytes:
    """Overwrite, insert, delete or cut bytes at random places."""
    out = bytearray(envelope)
    for _ in range(data.draw(st.integers(1, 4))):
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1))
        action = data.draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if action == "set":
            out[at] = data.draw(st.integers(0, 255))
        elif action == "insert":
            out[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del out[at : at + data.draw(st.integers(1, 8))]
        else:
            del out[at:]
    return bytes(out)


# Envelopes.


@SETTINGS
@given(data=st.binary(max_size=3000))
@example(
    data=b"raazdar-envelope/v1\n-> x25519 AAAAAAAAAAA\n"
    + b"A" * 107
    + b"\n--- "
    + b"A" * 43
    + b"\n"
)
def test_open_bytes_raises_only_crypto_errors_on_garbage(data: bytes) -> None:
    only_crypto_errors(lambda: open_bytes(data, [ALICE]))
    only_crypto_errors(lambda: read_header(io.BytesIO(data)))


@SETTINGS
@given(lines=st.lists(st.binary(max_size=130), max_size=8), tail=st.binary(max_size=200))
def test_header_shaped_garbage_raises_only_crypto_errors(lines: list[bytes], tail: bytes) -> None:
    data = b"raazdar-envelope/v1\n" + b"\n".join(lines) + b"\n" + tail

    only_crypto_errors(lambda: open_bytes(data, [ALICE]))
    only_crypto_errors(lambda: read_header(io.BytesIO(data)))


@SETTINGS
@given(data=st.data(), which=st.sampled_from([0, 1]))
def test_damaged_envelopes_raise_only_crypto_errors(data: st.DataObject, which: int) -> None:
    damaged = _damage(ENVELOPES[which], data)

    only_crypto_errors(lambda: open_bytes(damaged, [ALICE]))
    only_crypto_errors(lambda: open_bytes(damaged, [ALICE], trusted_signers=[SIGNER.verify_key]))
    only_crypto_errors(lambda: read_header(io.BytesIO(damaged)))


# Manifests.


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_signed_manifest_parser_raises_only_crypto_errors_on_bytes(data: bytes) -> None:
    only_crypto_errors(lambda: SignedManifest.from_bytes(data))


@SETTINGS
@given(value=json_values)
def test_signed_manifest_parser_raises_only_crypto_errors_on_json(value: Any) -> None:
    data = json.dumps({"manifest": value, "signatures": []}).encode("utf-8", "surrogatepass")

    only_crypto_errors(lambda: SignedManifest.from_bytes(data))


@SETTINGS
@given(data=st.data())
def test_mutated_signed_manifest_raises_only_crypto_errors(data: st.DataObject) -> None:
    mutated = _mutate(MANIFEST.to_bytes(), data)

    def parse_and_use() -> None:
        signed = SignedManifest.from_bytes(mutated)
        signed.to_bytes()
        signed.manifest.digest()
        signed.valid_signers(signed.manifest.authorities)

    only_crypto_errors(parse_and_use)


# Key files.


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_key_file_parser_raises_only_crypto_errors_on_bytes(data: bytes) -> None:
    only_crypto_errors(lambda: KeyFile.from_bytes(data))


@SETTINGS
@given(data=st.data())
def test_mutated_key_file_raises_only_crypto_errors(data: st.DataObject) -> None:
    mutated = _mutate(KEYFILE.to_bytes(), data)

    def parse_and_unlock() -> None:
        keyfile = KeyFile.from_bytes(mutated)
        keyfile.to_bytes()
        # Only unlock with cheap parameters: a mutation may ask for gigabytes.
        if keyfile.kdf == KdfParams.TESTING:
            keyfile.unlock("pw")

    only_crypto_errors(parse_and_unlock)


# Text forms.


@SETTINGS
@given(text=any_text)
@example(text="rz-x25519-public:\ud800")
@example(text="rz-x25519-public:" + "A" * 48)
def test_key_and_fingerprint_readers_raise_only_crypto_errors(text: str) -> None:
    for read in [*KEY_READERS, Fingerprint.parse, b64decode, check_codename]:
        only_crypto_errors(functools.partial(read, text))


@SETTINGS
@given(
    prefix=st.sampled_from(
        ["rz-x25519-public:", "rz-x25519-secret:", "rz-ed25519-public:", "rz-ed25519-secret:"]
    ),
    body=st.text(alphabet=st.characters(exclude_categories=()), max_size=60),
)
def test_prefixed_key_text_raises_only_crypto_errors(prefix: str, body: str) -> None:
    for read in KEY_READERS:
        only_crypto_errors(functools.partial(read, prefix + body))


@SETTINGS
@given(raw=st.binary(min_size=32, max_size=32))
def test_any_32_bytes_make_a_key_or_a_format_error(raw: bytes) -> None:
    for make in KEY_MAKERS:
        only_crypto_errors(functools.partial(make, raw))


@SETTINGS
@given(value=json_values)
def test_metadata_and_kdf_readers_raise_only_crypto_errors(value: Any) -> None:
    record = json.dumps(value).encode("utf-8", "surrogatepass")

    only_crypto_errors(lambda: Metadata.decode(record))
    only_crypto_errors(lambda: KdfParams.from_dict(value))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":' + b"9" * 5000 + b"}",
        b'{"manifest":' + b"[" * 50_000 + b"]" * 50_000 + b',"signatures":[]}',
        b'{"manifest":{"type":"raazdar-keyring","format":1,"version":' + b"1" * 4301 + b"}}",
    ],
    ids=["huge-integer", "deep-nesting", "huge-version"],
)
def test_json_that_python_cannot_convert_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        SignedManifest.from_bytes(data)
    with pytest.raises(FormatError):
        KeyFile.from_bytes(data)
    with pytest.raises(FormatError):
        Metadata.decode(data)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.sampled_from([0, 1]))
def test_many_damaged_envelopes_raise_only_crypto_errors(data: st.DataObject, which: int) -> None:
    damaged = _damage(ENVELOPES[which], data)

    only_crypto_errors(lambda: open_bytes(damaged, [ALICE]))


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), document=st.sampled_from(["manifest", "keyfile"]))
def test_many_mutated_documents_raise_only_crypto_errors(
    data: st.DataObject, document: str
) -> None:
    if document == "manifest":
        mutated = _mutate(MANIFEST.to_bytes(), data)
        only_crypto_errors(lambda: SignedManifest.from_bytes(mutated).manifest.digest())
    else:
        mutated = _mutate(KEYFILE.to_bytes(), data)
        only_crypto_errors(lambda: KeyFile.from_bytes(mutated).to_bytes())
