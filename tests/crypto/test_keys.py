"""Typed keys: text encodings, type prefixes, checksums, fingerprints, validation, contexts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    DecryptionError,
    Fingerprint,
    FormatError,
    PrivateKey,
    PublicKey,
    SigningKey,
    VerificationError,
    VerifyKey,
)
from crypto import constants as C
from crypto.codename import SourceKeys
from crypto.keyfile import KeyPair
from tests.crypto.support import reference_key_text, secret_renderings

seeds = st.binary(min_size=32, max_size=32)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# X25519 points of small order, in every encoding libsodium knows of (canonical and
# with the ignored top bit set, plus p-1, p, p+1): each makes every shared secret zero.
LOW_ORDER_POINTS = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
]

# Ed25519 encodings that libsodium would never verify against: the identity, a
# point of order 2, a non-canonical encoding (y = p) and a y with no point.
BAD_ED25519_POINTS = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0200000000000000000000000000000000000000000000000000000000000000",
]


def _texts() -> dict[str, str]:
    enc = PrivateKey(bytes(range(32)))
    sig = SigningKey(bytes(range(32, 64)))
    return {
        "x25519-secret": enc.to_text(),
        "x25519-public": enc.public_key.to_text(),
        "ed25519-secret": sig.to_text(),
        "ed25519-public": sig.verify_key.to_text(),
    }


READERS: dict[str, Callable[[str], Any]] = {
    "x25519-secret": PrivateKey.from_text,
    "x25519-public": PublicKey.from_text,
    "ed25519-secret": SigningKey.from_text,
    "ed25519-public": VerifyKey.from_text,
}


@settings(max_examples=50, deadline=None)
@given(seed=seeds)
def test_every_key_kind_round_trips_through_its_text(seed: bytes) -> None:
    enc = PrivateKey(seed)
    sig = SigningKey(seed)

    assert PrivateKey.from_text(enc.to_text()) == enc
    assert PublicKey.from_text(enc.public_key.to_text()) == enc.public_key
    assert SigningKey.from_text(sig.to_text()) == sig
    assert VerifyKey.from_text(sig.verify_key.to_text()) == sig.verify_key
    assert PrivateKey(enc.secret_bytes()) == enc
    assert SigningKey(sig.secret_bytes()) == sig


@pytest.mark.parametrize("kind", sorted(READERS))
def test_key_text_has_its_prefix_and_48_characters_after_it(kind: str) -> None:
    text = _texts()[kind]

    prefix = f"rz-{kind}:"
    assert text.startswith(prefix)
    assert len(text) - len(prefix) == 48


@pytest.mark.parametrize("kind", sorted(READERS))
def test_key_text_tolerates_surrounding_whitespace(kind: str) -> None:
    text = _texts()[kind]

    assert READERS[kind](f"  {text}\n") == READERS[kind](text)


@pytest.mark.parametrize(
    ("written", "read_as"),
    [(w, r) for w in sorted(READERS) for r in sorted(READERS) if w != r],
)
def test_key_text_is_never_read_as_another_kind(written: str, read_as: str) -> None:
    text = _texts()[written]

    with pytest.raises(FormatError):
        READERS[read_as](text)


@pytest.mark.parametrize(
    ("written", "read_as"),
    [(w, r) for w in sorted(READERS) for r in sorted(READERS) if w != r],
)
def test_relabelled_key_text_fails_its_checksum(written: str, read_as: str) -> None:
    """The checksum covers the prefix: swapping the prefix by hand does not help."""
    text = _texts()[written]
    relabelled = f"rz-{read_as}:" + text.split(":", 1)[1]

    with pytest.raises(FormatError, match="checksum"):
        READERS[read_as](relabelled)


def test_signing_key_text_cannot_become_an_encryption_key() -> None:
    sig = SigningKey(bytes(range(32, 64)))

    with pytest.raises(FormatError):
        PrivateKey.from_text(sig.to_text())
    with pytest.raises(FormatError):
        PublicKey.from_text(sig.verify_key.to_text())


@pytest.mark.parametrize("kind", sorted(READERS))
def test_any_single_mistyped_character_is_refused(kind: str) -> None:
    text = _texts()[kind]
    prefix_length = text.index(":") + 1
    accepted = []
    for position in range(prefix_length, len(text)):
        for char in B64URL:
            if char == text[position]:
                continue
            mangled = text[:position] + char + text[position + 1 :]
            try:
                READERS[kind](mangled)
            except FormatError:
                continue
            accepted.append(mangled)

    assert accepted == []


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1], id="last-character-dropped"),
        pytest.param(lambda t: t + "A", id="character-added"),
        pytest.param(lambda t: t + "=", id="padding"),
        pytest.param(lambda t: t[:30] + " " + t[30:], id="inner-space"),
        pytest.param(lambda t: t.upper(), id="upper-case"),
        pytest.param(lambda t: t.split(":", 1)[1], id="no-prefix"),
        pytest.param(lambda t: t.replace("-", "+").replace("_", "/"), id="standard-alphabet"),
        pytest.param(lambda t: t.replace(":", "::", 1), id="double-colon"),
        pytest.param(lambda t: t[:25] + "é" + t[26:], id="non-ascii"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_mangled_key_text_is_refused(kind: str, mangle: Callable[[str], str]) -> None:
    text = _texts()[kind]
    mangled = mangle(text)
    if mangled == text:
        pytest.skip("this mangling leaves this text unchanged")

    with pytest.raises(FormatError):
        READERS[kind](mangled)


def test_key_text_matches_the_specification() -> None:
    """PROTOCOL.md §4.1, re-implemented with hashlib: prefix || b64url(key || checksum)."""
    enc = PrivateKey(bytes(range(32)))
    sig = SigningKey(bytes(range(32, 64)))

    assert enc.to_text() == reference_key_text("rz-x25519-secret:", bytes(range(32)))
    assert enc.public_key.to_text() == reference_key_text("rz-x25519-public:", enc.public_key.raw)
    assert sig.to_text() == reference_key_text("rz-ed25519-secret:", bytes(range(32, 64)))
    assert sig.verify_key.to_text() == reference_key_text("rz-ed25519-public:", sig.verify_key.raw)


def _secret_holders() -> list[tuple[object, bytes, str]]:
    enc = PrivateKey(bytes(range(100, 132)))
    sig = SigningKey(bytes(range(150, 182)))
    both = KeyPair(encryption=enc, signing=sig)
    source = SourceKeys(lookup_tag=bytes(32), private_key=enc, signing_key=sig)
    return [
        (enc, enc.secret_bytes(), enc.to_text()),
        (sig, sig.secret_bytes(), sig.to_text()),
        (both, enc.secret_bytes(), enc.to_text()),
        (both, sig.secret_bytes(), sig.to_text()),
        (source, enc.secret_bytes(), enc.to_text()),
        (source, sig.secret_bytes(), sig.to_text()),
    ]


@pytest.mark.parametrize(
    ("holder", "secret", "secret_text"),
    _secret_holders(),
    ids=[
        "private-key",
        "signing-key",
        "key-pair-x25519",
        "key-pair-ed25519",
        "source-keys-x25519",
        "source-keys-ed25519",
    ],
)
def test_repr_and_str_never_show_a_secret(holder: object, secret: bytes, secret_text: str) -> None:
    shown = [repr(holder), str(holder), f"{holder}", f"{holder!r}", repr([holder])]
    body = secret_text.split(":", 1)[1]

    for text in shown:
        assert secret_text not in text
        assert body[:40] not in text
        for rendering in secret_renderings(secret):
            assert rendering not in text


def test_repr_of_a_private_key_names_its_public_fingerprint() -> None:
    key = PrivateKey(bytes(range(32)))

    assert str(key.public_key.fingerprint) in repr(key)


def test_fingerprint_prints_as_eight_groups_of_four_base32_characters() -> None:
    fp = PrivateKey(bytes(range(32))).public_key.fingerprint
    groups = str(fp).split(" ")

    assert len(groups) == 8
    assert all(len(g) == 4 and g.isalnum() and g.upper() == g for g in groups)
    assert len(fp.raw) == C.FINGERPRINT_BYTES


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_fingerprint_parses_back_however_people_copy_it(seed: bytes) -> None:
    fp = SigningKey(seed).verify_key.fingerprint
    text = str(fp)

    for copied in [
        text,
        text.lower(),
        text.replace(" ", ""),
        text.replace(" ", "-"),
        f"  {text.lower()}\n",
        text.replace(" ", "\t"),
    ]:
        assert Fingerprint.parse(copied) == fp
        assert hash(Fingerprint.parse(copied)) == hash(fp)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "K7SS",
        "K7SS UKGV N733 TXVB BDXE LMOZ V7P5 6NY",
        "K7SS UKGV N733 TXVB BDXE LMOZ V7P5 6NYN AAAA AAAA",
        "K7SS UKGV N733 TXVB BDXE LMOZ V7P5 6NY1",
        "K7SS UKGV N733 TXVB BDXE LMOZ V7P5 6NYN====",
        "K7SŠ UKGV N733 TXVB BDXE LMOZ V7P5 6NYN",
    ],
    ids=["empty", "one-group", "short", "long", "digit-1", "padded", "non-ascii"],
)
def test_malformed_fingerprint_is_refused(text: str) -> None:
    with pytest.raises(FormatError):
        Fingerprint.parse(text)


def test_fingerprint_is_bound_to_the_key_type() -> None:
    """The same 32 bytes as an X25519 and as an Ed25519 key have different fingerprints."""
    # An Ed25519 key whose top bit is clear, so that it is also a canonical X25519 key.
    raw = next(
        k.raw
        for k in (SigningKey(bytes([i]) * 32).verify_key for i in range(256))
        if k.raw[31] < 0x80
    )

    assert PublicKey(raw).fingerprint != VerifyKey(raw).fingerprint
    assert PublicKey(raw) != VerifyKey(raw)


def test_key_id_is_the_fingerprint_prefix() -> None:
    fp = PrivateKey(bytes(range(32))).public_key.fingerprint

    assert fp.key_id == fp.raw[: C.KEY_ID_BYTES]
    assert len(fp.key_id) == 8


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_x25519_point_is_refused(point: str) -> None:
    raw = bytes.fromhex(point)

    with pytest.raises(FormatError, match="low-order"):
        PublicKey(raw)
    with pytest.raises(FormatError, match="low-order"):
        PublicKey.from_text(reference_key_text(C.KEY_PREFIX_X25519_PUBLIC, raw))


@pytest.mark.parametrize("point", BAD_ED25519_POINTS)
def test_invalid_ed25519_point_is_refused(point: str) -> None:
    raw = bytes.fromhex(point)

    with pytest.raises(FormatError):
        VerifyKey(raw)
    with pytest.raises(FormatError):
        VerifyKey.from_text(reference_key_text(C.KEY_PREFIX_ED25519_PUBLIC, raw))


@pytest.mark.parametrize("cls", [PrivateKey, PublicKey, SigningKey, VerifyKey])
@pytest.mark.parametrize(
    "raw",
    [b"", bytes(31), bytes(33), "a" * 32, None, 32],
    ids=["empty", "31-bytes", "33-bytes", "str", "none", "int"],
)
def test_key_of_the_wrong_size_or_type_is_refused(cls: Callable[[Any], object], raw: Any) -> None:
    with pytest.raises(FormatError):
        cls(raw)


def test_keys_compare_by_value_and_kind() -> None:
    a1, a2 = PrivateKey(bytes(range(32))), PrivateKey(bytes(range(32)))
    s1, s2 = SigningKey(bytes(range(32))), SigningKey(bytes(range(32)))

    assert a1 == a2
    assert hash(a1) == hash(a2)
    assert s1 == s2
    assert hash(s1) == hash(s2)
    assert a1 != s1
    assert a1.public_key == a2.public_key
    assert len({a1.public_key, a2.public_key}) == 1
    assert a1 != PrivateKey.generate()


def test_generated_keys_differ() -> None:
    assert PrivateKey.generate() != PrivateKey.generate()
    assert SigningKey.generate() != SigningKey.generate()


def test_signature_verifies_under_its_own_context() -> None:
    key = SigningKey(bytes(range(32, 64)))
    signature = key.sign(C.SIG_CONTEXT_ENVELOPE, b"message")

    key.verify_key.verify(C.SIG_CONTEXT_ENVELOPE, b"message", signature)
    assert len(signature) == C.SIGNATURE_BYTES


@pytest.mark.parametrize(
    ("signed_under", "checked_under"),
    [
        (C.SIG_CONTEXT_ENVELOPE, C.SIG_CONTEXT_MANIFEST),
        (C.SIG_CONTEXT_MANIFEST, C.SIG_CONTEXT_ENVELOPE),
        (C.SIG_CONTEXT_MANIFEST, C.SIG_CONTEXT_BUNDLE),
        (C.SIG_CONTEXT_ENVELOPE, b"raazdar envelope v2"),
        (b"a", b""),
    ],
)
def test_signature_for_one_context_fails_under_another(
    signed_under: bytes, checked_under: bytes
) -> None:
    key = SigningKey(bytes(range(32, 64)))
    signature = key.sign(signed_under, b"message")

    with pytest.raises(VerificationError) as caught:
        key.verify_key.verify(checked_under, b"message", signature)
    assert caught.value.rule == "signature"


def test_context_and_message_cannot_trade_bytes() -> None:
    """`context || 0x00 || message` is unambiguous because a context holds no NUL."""
    key = SigningKey(bytes(range(32, 64)))
    signature = key.sign(b"ab", b"c")

    with pytest.raises(VerificationError):
        key.verify_key.verify(b"a", b"bc", signature)
    with pytest.raises(FormatError):
        key.sign(b"a\x00b", b"c")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m, s: (m + b"!", s), id="message-changed"),
        pytest.param(lambda m, s: (m, s[:-1] + bytes([s[-1] ^ 1])), id="signature-bit-flipped"),
        pytest.param(lambda m, s: (m, s[:63]), id="signature-short"),
        pytest.param(lambda m, s: (m, s + b"\x00"), id="signature-long"),
        pytest.param(lambda m, s: (m, bytes(64)), id="signature-zero"),
    ],
)
def test_altered_signature_or_message_fails(
    change: Callable[[bytes, bytes], tuple[bytes, bytes]],
) -> None:
    key = SigningKey(bytes(range(32, 64)))
    message, signature = change(b"message", key.sign(C.SIG_CONTEXT_MANIFEST, b"message"))

    with pytest.raises(VerificationError) as caught:
        key.verify_key.verify(C.SIG_CONTEXT_MANIFEST, message, signature)
    assert caught.value.rule == "signature"


def test_signature_by_another_key_fails() -> None:
    signature = SigningKey(bytes(range(32))).sign(C.SIG_CONTEXT_MANIFEST, b"m")

    with pytest.raises(VerificationError):
        SigningKey(bytes(range(32, 64))).verify_key.verify(C.SIG_CONTEXT_MANIFEST, b"m", signature)


def test_ed25519_signatures_are_deterministic() -> None:
    key = SigningKey(bytes(range(32, 64)))

    assert key.sign(b"ctx", b"m") == key.sign(b"ctx", b"m")


def _with_top_bit(raw: bytes) -> bytes:
    return raw[:31] + bytes([raw[31] | 0x80])


def test_an_x25519_key_with_bit_255_set_is_refused_so_no_key_has_two_fingerprints() -> None:
    public = PrivateKey.generate().public_key
    twin = _with_top_bit(public.raw)

    with pytest.raises(FormatError, match="canonical"):
        PublicKey(twin)
    with pytest.raises(FormatError, match="canonical"):
        PublicKey.from_text(reference_key_text(C.KEY_PREFIX_X25519_PUBLIC, twin))


@pytest.mark.parametrize("offset", [2, 3, 9, 18])
def test_an_x25519_key_at_or_above_the_field_prime_is_refused(offset: int) -> None:
    # p + k is the same point as k; libsodium reduces it silently.
    raw = ((1 << 255) - 19 + offset).to_bytes(32, "little")

    with pytest.raises(FormatError):
        PublicKey(raw)


@given(seeds)
def test_every_generated_x25519_public_key_is_canonical(seed: bytes) -> None:
    public = PrivateKey(seed).public_key

    assert PublicKey(public.raw) == public
    assert public.raw[31] & 0x80 == 0


def test_a_private_keys_public_key_is_made_once_and_matches_a_fresh_one() -> None:
    key = PrivateKey(bytes(range(32)))

    assert key.public_key is key.public_key
    assert key.public_key == PrivateKey(bytes(range(32))).public_key
    assert key.public_key != PrivateKey(bytes([2]) * 32).public_key


# RFC 7748 section 6.1: Alice's private key and the public key it gives.
RFC7748_ALICE = (
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
)


def test_a_private_keys_public_key_is_rfc7748s() -> None:
    private, public = (bytes.fromhex(h) for h in RFC7748_ALICE)

    derived = PrivateKey(private).public_key

    assert derived.raw == public
    assert derived == PublicKey(public)
    assert derived.to_text() == PublicKey(public).to_text()


@given(seeds)
@settings(max_examples=50)
def test_a_derived_public_key_is_the_one_its_bytes_make(seed: bytes) -> None:
    derived = PrivateKey(seed).public_key

    assert derived == PublicKey(derived.raw)
    assert derived.fingerprint == PublicKey(derived.raw).fingerprint


def test_a_derived_public_key_costs_no_low_order_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # [k]B for a clamped k is never of low order: the probe (a scalar multiplication, about
    # 30 us) ran on every signed-in source's request for a key it could not refuse.
    import crypto.keys

    bindings = vars(crypto.keys)["nacl"].bindings  # the binding crypto.keys calls
    probes: list[bytes] = []
    multiply = bindings.crypto_scalarmult

    def counting(scalar: bytes, point: bytes) -> bytes:
        probes.append(point)
        result: bytes = multiply(scalar, point)
        return result

    monkeypatch.setattr(bindings, "crypto_scalarmult", counting)
    key = PrivateKey(bytes(range(32)))

    assert key.public_key.raw == key.public_key.raw
    assert probes == []
    PublicKey(key.public_key.raw)  # a key that comes from elsewhere is still probed
    assert probes == [key.public_key.raw]


def test_two_private_keys_agree_on_one_token_key_per_label() -> None:
    first, second = PrivateKey.generate(), PrivateKey.derive(bytes(32), C.PERSON_RUN_HOST)
    token = first.agree(second.public_key, C.PERSON_RUN_OFFER).seal(b"run key", b"context")
    assert second.agree(first.public_key, C.PERSON_RUN_OFFER).open(token, b"context") == b"run key"
    third = PrivateKey.generate()
    with pytest.raises(DecryptionError):
        third.agree(first.public_key, C.PERSON_RUN_OFFER).open(token, b"context")
    with pytest.raises(DecryptionError):
        second.agree(first.public_key, C.PERSON_RUN_HOST).open(token, b"context")


def test_a_derived_private_key_depends_on_its_seed_and_label_only() -> None:
    seed = bytes(range(32))
    assert PrivateKey.derive(seed, b"a") == PrivateKey.derive(seed, b"a")
    assert PrivateKey.derive(seed, b"a") != PrivateKey.derive(seed, b"b")
    assert PrivateKey.derive(seed, b"a") != PrivateKey.derive(bytes(32), b"a")
