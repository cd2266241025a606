"""Opaque tokens: sealed under a server key, bound to the purpose they were made for."""

from __future__ import annotations

import pytest

from crypto import constants as C
from crypto.errors import DecryptionError, FormatError
from crypto.token import TokenKey

KEY = TokenKey(bytes([5]) * 32)
CONTEXTS = [C.TOKEN_CONTEXT_SESSION, C.TOKEN_CONTEXT_TOTP, C.TOKEN_CONTEXT_API_CHALLENGE]


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_token_opens_under_its_own_context(context: bytes) -> None:
    assert KEY.open(KEY.seal(b"session 42", context), context) == b"session 42"


@pytest.mark.parametrize(
    ("sealed_for", "opened_as"),
    [(a, b) for a in CONTEXTS for b in CONTEXTS if a != b] + [(b"purpose a", b"purpose b")],
)
def test_a_token_sealed_under_one_context_never_opens_under_another(
    sealed_for: bytes, opened_as: bytes
) -> None:
    token = KEY.seal(b"session 42", sealed_for)

    with pytest.raises(DecryptionError):
        KEY.open(token, opened_as)


def test_a_token_opens_only_under_its_own_key() -> None:
    token = KEY.seal(b"x", C.TOKEN_CONTEXT_SESSION)

    with pytest.raises(DecryptionError):
        TokenKey(bytes([6]) * 32).open(token, C.TOKEN_CONTEXT_SESSION)


def test_derived_keys_are_independent_of_each_other_and_of_their_parent() -> None:
    session, totp = KEY.derive(b"rz-session-v1"), KEY.derive(b"rz-totp-key-v1")
    token = session.seal(b"x", C.TOKEN_CONTEXT_SESSION)

    assert session.open(token, C.TOKEN_CONTEXT_SESSION) == b"x"
    for other in (totp, KEY):
        with pytest.raises(DecryptionError):
            other.open(token, C.TOKEN_CONTEXT_SESSION)


@pytest.mark.parametrize(
    "token",
    ["", "!!!", "AAAA", KEY.seal(b"x", b"c")[:-2]],
    ids=["empty", "not-base64", "too-short", "cut"],
)
def test_a_malformed_or_cut_token_is_a_decryption_error(token: str) -> None:
    with pytest.raises(DecryptionError):
        KEY.open(token, b"c")


def test_each_seal_is_fresh_and_the_key_never_shows() -> None:
    assert KEY.seal(b"x", b"c") != KEY.seal(b"x", b"c")
    assert repr(KEY) == "TokenKey(<secret>)"
    with pytest.raises(FormatError):
        TokenKey(bytes(31))
