"""Source bindings of version 2: the reply key and a commitment to one-time reply prekeys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crypto import (
    HybridPrivateKey,
    HybridPublicKey,
    KdfParams,
    Metadata,
    derive_source_keys,
    generate_codename,
)
from crypto import constants as C
from crypto.binding import ReplyPrekeys, SourceBinding
from crypto.encoding import b64encode
from crypto.errors import FormatError, VerificationError

KEYS = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)


def _prekeys(count: int = C.REPLY_PREKEYS) -> tuple[HybridPublicKey, ...]:
    return tuple(HybridPrivateKey.generate().public_key for _ in range(count))


PREKEYS = ReplyPrekeys(_prekeys())
BINDING = SourceBinding.make(KEYS.public_key, KEYS.signing_key, PREKEYS)


def test_a_v2_binding_verifies_commits_to_its_prekeys_and_survives_the_metadata_record() -> None:
    BINDING.verify()
    BINDING.check(PREKEYS)
    meta = Metadata("report", "application/json", source=BINDING)
    assert Metadata.decode(meta.encode()) == meta
    assert len(meta.encode()) < C.METADATA_MAX_BYTES // 8
    assert ReplyPrekeys.from_json(PREKEYS.to_json()) == PREKEYS


def test_a_v1_binding_still_parses_and_verifies() -> None:
    v1 = SourceBinding.make(KEYS.public_key, KEYS.signing_key)
    assert set(v1.to_json()) == {"reply_key", "signer", "signature"}
    parsed = SourceBinding.from_json(v1.to_json())
    parsed.verify()
    assert parsed.prekeys is None
    with pytest.raises(VerificationError):
        parsed.check(PREKEYS)  # a v1 binding commits to no prekeys at all


def _swapped(index: int) -> ReplyPrekeys:
    keys = list(PREKEYS.keys)
    keys[index] = HybridPrivateKey.generate().public_key
    return ReplyPrekeys(tuple(keys))


@pytest.mark.parametrize(
    "prekeys",
    [
        pytest.param(lambda: _swapped(0), id="first-swapped"),
        pytest.param(lambda: _swapped(C.REPLY_PREKEYS - 1), id="last-swapped"),
        pytest.param(lambda: ReplyPrekeys(PREKEYS.keys[::-1]), id="reordered"),
        pytest.param(lambda: ReplyPrekeys(_prekeys()), id="all-replaced"),
    ],
)
def test_prekeys_other_than_the_signed_ones_are_refused(
    prekeys: Callable[[], ReplyPrekeys],
) -> None:
    with pytest.raises(VerificationError, match="prekeys"):
        BINDING.check(prekeys())


@pytest.mark.parametrize("count", [0, 1, C.REPLY_PREKEYS - 1, C.REPLY_PREKEYS + 1])
def test_a_prekey_dropped_or_added_is_refused(count: int) -> None:
    texts = PREKEYS.to_json()
    texts = (texts * 2)[:count] if count <= C.REPLY_PREKEYS else [*texts, _prekeys(1)[0].to_text()]
    with pytest.raises(FormatError):
        ReplyPrekeys.from_json(texts)


def test_a_prekey_listed_twice_is_refused() -> None:
    texts = PREKEYS.to_json()
    with pytest.raises(FormatError, match="twice"):
        ReplyPrekeys.from_json([texts[0], *texts[:-1]])


def test_a_swapped_prekey_digest_does_not_verify() -> None:
    other = ReplyPrekeys(_prekeys()).digest()
    forged = SourceBinding(BINDING.reply_key, BINDING.signer, BINDING.signature, other)
    with pytest.raises(VerificationError):
        forged.verify()


def test_a_v2_binding_does_not_pass_as_v1_nor_a_v1_as_v2() -> None:
    stripped = SourceBinding(BINDING.reply_key, BINDING.signer, BINDING.signature)
    with pytest.raises(VerificationError):
        stripped.verify()  # dropping the digest would hide that the source made prekeys
    v1 = SourceBinding.make(KEYS.public_key, KEYS.signing_key)
    grafted = SourceBinding(v1.reply_key, v1.signer, v1.signature, PREKEYS.digest())
    with pytest.raises(VerificationError):
        grafted.verify()  # nor can prekeys be attached to a source's v1 signature


@pytest.mark.parametrize(
    "value",
    [
        {**BINDING.to_json(), "reply_prekeys": "short"},
        {**BINDING.to_json(), "reply_prekeys": PREKEYS.to_json()},
        {**BINDING.to_json(), "prekeys": b64encode(bytes(32))},
    ],
)
def test_a_malformed_v2_binding_is_refused(value: object) -> None:
    with pytest.raises(FormatError):
        SourceBinding.from_json(value)


def test_known_answer() -> None:
    """Fixed codename keys and prekey seeds give this digest and this signature (§5A.9)."""
    keys = derive_source_keys(
        "cymbal sacrament drearily magnetism thinning excavate uncured stagnant",
        bytes(16),
        KdfParams.TESTING,
    )
    prekeys = ReplyPrekeys(
        tuple(HybridPrivateKey(bytes([0x60 + i]) * 32).public_key for i in range(4))
    )
    binding = SourceBinding.make(keys.public_key, keys.signing_key, prekeys)
    assert prekeys.digest().hex() == (
        "7e376e2f06d8d1639859146c754ac05ea0ad7edc091cb815890bd252eaa35f56"
    )
    assert binding.to_json()["signature"] == (
        "4TYClxYkmwrdLJNP34fzxzN3z7s9TRYqg1ySkLPgXxGHOpQPH5IrsUnS7aqKAc8l-GSE_7bppsjzlLZyhqjmAg"
    )
