"""Source bindings: a reply key signed by the codename's key, inside an envelope's metadata."""

from __future__ import annotations

import pytest

from crypto import (
    KdfParams,
    Metadata,
    PrivateKey,
    SigningKey,
    derive_source_keys,
    generate_codename,
)
from crypto.binding import SourceBinding
from crypto.errors import FormatError, VerificationError

KEYS = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)


def test_a_binding_verifies_and_survives_the_metadata_record() -> None:
    binding = SourceBinding.make(KEYS.public_key, KEYS.signing_key)
    binding.verify()
    meta = Metadata("report", "application/json", source=binding)
    assert Metadata.decode(meta.encode()) == meta


def test_metadata_without_a_binding_encodes_as_before() -> None:
    assert Metadata("file", "image/jpeg", "a.jpg").encode() == (
        b'{"kind":"file","name":"a.jpg","type":"image/jpeg"}'
    )


@pytest.mark.parametrize("swap", ["reply_key", "signer"])
def test_a_binding_with_a_swapped_key_does_not_verify(swap: str) -> None:
    binding = SourceBinding.make(KEYS.public_key, KEYS.signing_key)
    if swap == "reply_key":
        binding = SourceBinding(PrivateKey.generate().public_key, binding.signer, binding.signature)
    else:
        binding = SourceBinding(
            binding.reply_key, SigningKey.generate().verify_key, binding.signature
        )
    with pytest.raises(VerificationError):
        binding.verify()


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"reply_key": "x", "signer": "y"},
        {"reply_key": 1, "signer": "y", "signature": "z"},
    ],
)
def test_a_malformed_binding_is_refused(value: object) -> None:
    with pytest.raises(FormatError):
        SourceBinding.from_json(value)


def test_a_binding_signature_is_not_an_api_request_signature() -> None:
    # Signature contexts keep the codename key's other signatures out.
    from crypto import constants as C

    message = KEYS.public_key.to_text().encode()
    other = KEYS.signing_key.sign(C.SIG_CONTEXT_API_REQUEST, message)
    with pytest.raises(VerificationError):
        SourceBinding(KEYS.public_key, KEYS.verify_key, other).verify()
