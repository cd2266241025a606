"""Request proofs of the submission API, the source signing key, and envelope sizes."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    FormatError,
    KdfParams,
    Metadata,
    PrivateKey,
    SigningKey,
    VerificationError,
    derive_source_keys,
    seal_bytes,
)
from crypto.envelope.size import header_size, is_envelope_size
from crypto.request import (
    BodyHasher,
    body_digest,
    request_message,
    sign_request,
    verify_request,
)

CODENAME = "abacus tricky prism lagoon nectar dwelling sulfur outnumber"
PATH = "/api/v1/uploads/" + "0" * 32
KEY = SigningKey(bytes(range(32, 64)))


def test_the_source_signing_key_is_a_known_answer_and_changes_nothing_else() -> None:
    """PROTOCOL.md §7.3: the tag and X25519 key are as before; the Ed25519 key is new."""
    keys = derive_source_keys(CODENAME, bytes(16), KdfParams.TESTING)
    assert keys.lookup_tag.hex() == (
        "2e53b908c8b070311a117e82a1ece495b3ab03ab585dc27ece7269c650b346cc"
    )
    assert keys.public_key.to_text() == (
        "rz-x25519-public:bLnvqphCYEGHU_jMBKiUdmEg6POoNy4b97BSYzz6XQRQwpum"
    )
    assert keys.verify_key.to_text() == (
        "rz-ed25519-public:9NhmPGYJ1sKCItY4eXfqlU04FlobzJbkaVahtU7H_qEDMc7F"
    )
    assert keys.signing_key.secret_bytes().hex() == (
        "25932417a8bf16f5fcbdd4ed157dab52e6c3b44719d9501e248b73e6ec792a37"
    )
    assert keys.signing_key.secret_bytes() not in {keys.lookup_tag, keys.private_key.secret_bytes()}


def test_body_digests_match_the_specification() -> None:
    """BLAKE2b-256 with person "rz-api-body-v1", re-implemented with hashlib."""
    for body in (b"", b'{"a":1}', os.urandom(1000)):
        expected = hashlib.blake2b(body, digest_size=32, person=b"rz-api-body-v1").digest()
        assert body_digest(body) == expected
    assert body_digest(b"").hex() == (
        "8ea26965308407fc254ae4fc403d0f17f04c437885a5f52187c78dcc905f5374"
    )


@given(st.binary(max_size=5000), st.lists(st.integers(0, 5000), max_size=5))
def test_the_streaming_hasher_agrees_with_the_whole_body(body: bytes, cuts: list[int]) -> None:
    hasher = BodyHasher()
    start = 0
    for cut in sorted(c for c in cuts if c <= len(body)):
        hasher.update(body[start:cut])
        start = cut
    hasher.update(body[start:])
    assert hasher.digest() == body_digest(body)


def test_the_signed_message_is_canonical_json_as_specified() -> None:
    message = request_message("challenge-token", "PATCH", PATH, body_digest(b"chunk"), 4096)
    assert message == (
        b'{"body":"aPqx9QNyI-bXNZ5TMyW7klKsRAsJh-FKQMydDkemPcU","challenge":"challenge-token",'
        b'"method":"PATCH","offset":4096,"path":"/api/v1/uploads/00000000000000000000000000000000"}'
    )
    assert json.loads(request_message("c", "GET", "/x", body_digest(b"")))["offset"] is None


def test_a_proof_is_a_known_answer() -> None:
    """Ed25519 is deterministic: the same key and request give the same proof."""
    proof = sign_request(KEY, "challenge-token", "PATCH", PATH, body_digest(b"chunk"), 4096)
    assert proof == (
        "MyuykShRxbDCjZfEFuxVRAjd_TbfT6GCZIhLc5MHY8fPLvoXrhBZugnegkDnEkc9x_HL4VOxV1td3H1lu6f-Aw"
    )
    verify_request(
        KEY.verify_key, proof, "challenge-token", "PATCH", PATH, body_digest(b"chunk"), 4096
    )


GOOD = ("challenge-token", "PATCH", PATH, body_digest(b"chunk"), 4096)


@pytest.mark.parametrize(
    ("index", "other"),
    [
        (0, "another-challenge"),
        (1, "POST"),
        (2, "/api/v1/uploads/" + "1" * 32),
        (3, body_digest(b"chunk!")),
        (4, 4097),
        (4, None),
    ],
    ids=["challenge", "method", "path", "body", "offset", "no-offset"],
)
def test_a_proof_covers_every_part_of_the_request(index: int, other: object) -> None:
    proof = sign_request(KEY, *GOOD)
    changed = list(GOOD)
    changed[index] = other
    with pytest.raises(VerificationError) as info:
        verify_request(KEY.verify_key, proof, *changed)  # type: ignore[arg-type]
    assert info.value.rule == "signature"


def test_a_proof_by_another_key_or_context_does_not_verify() -> None:
    proof = sign_request(SigningKey.generate(), *GOOD)
    with pytest.raises(VerificationError):
        verify_request(KEY.verify_key, proof, *GOOD)
    # The same message signed for another purpose (an envelope) is not a proof.
    from crypto import constants as C
    from crypto.encoding import b64encode

    message = request_message(*GOOD)
    other_purpose = b64encode(KEY.sign(C.SIG_CONTEXT_ENVELOPE, message))
    with pytest.raises(VerificationError):
        verify_request(KEY.verify_key, other_purpose, *GOOD)


@pytest.mark.parametrize("signature", ["", "AAAA", "!" * 86, "A" * 87, "A" * 86 + "="])
def test_a_malformed_proof_is_a_verification_error(signature: str) -> None:
    with pytest.raises(VerificationError):
        verify_request(KEY.verify_key, signature, *GOOD)


@pytest.mark.parametrize(
    ("challenge", "method", "path", "digest", "offset"),
    [
        ("", "GET", "/x", bytes(32), None),
        ("c", "get", "/x", bytes(32), None),
        ("c", "GET", "x", bytes(32), None),
        ("c", "GET", "/x y", bytes(32), None),
        ("c", "GET", "/x", bytes(31), None),
        ("c", "GET", "/x", bytes(32), -1),
        ("c", "GET", "/x", bytes(32), True),
    ],
)
def test_malformed_request_parts_are_refused(
    challenge: str, method: str, path: str, digest: bytes, offset: int | None
) -> None:
    with pytest.raises(FormatError):
        sign_request(KEY, challenge, method, path, digest, offset)


# -- envelope sizes ---------------------------------------------------------------------


def test_header_sizes_match_protocol_section_5_10() -> None:
    assert header_size(1, signed=False) == 20 + 130 + 48
    assert header_size(3, signed=True) == 20 + 3 * 130 + 55 + 48


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(0, 300_000),
    recipients=st.integers(1, 3),
    signed=st.booleans(),
)
def test_every_sealed_envelope_has_a_valid_size_and_its_neighbours_do_not(
    length: int, recipients: int, signed: bool
) -> None:
    keys = [PrivateKey.generate().public_key for _ in range(recipients)]
    signer = SigningKey.generate() if signed else None
    envelope = seal_bytes(os.urandom(length), keys, Metadata("file"), signer=signer)
    size = len(envelope)
    assert is_envelope_size(size, recipients, signed=signed)
    assert not is_envelope_size(size - 1, recipients, signed=signed)
    assert not is_envelope_size(size + 1, recipients, signed=signed)
    assert not is_envelope_size(size, recipients + 1, signed=signed)


@pytest.mark.parametrize("size", [-1, 0, 1, 4334, 4336, 10**12 + 1])
def test_impossible_sizes_are_refused(size: int) -> None:
    assert not is_envelope_size(size, 1, signed=False)
    assert is_envelope_size(4335, 1, signed=False)
