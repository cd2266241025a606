"""The device vault: a codename's records open with that codename only, and are padded."""

from __future__ import annotations

import pytest

from crypto import DecryptionError, KdfParams
from crypto.vault import VAULT_FLOOR, Vault

SALT = bytes(range(16))


def test_a_record_opens_under_the_same_secret_and_context_only() -> None:
    vault = Vault.derive("one two three", SALT, KdfParams.TESTING)
    sealed = vault.seal(b"http://example.onion", b"state")
    assert Vault.derive("one two three", SALT, KdfParams.TESTING).open(sealed, b"state") == (
        b"http://example.onion"
    )
    with pytest.raises(DecryptionError):
        vault.open(sealed, b"other")
    with pytest.raises(DecryptionError):
        Vault.derive("one two four", SALT, KdfParams.TESTING).open(sealed, b"state")
    with pytest.raises(DecryptionError):
        Vault.derive("one two three", bytes(16), KdfParams.TESTING).open(sealed, b"state")


def test_lengths_are_padded_and_names_differ_per_secret() -> None:
    vault = Vault.derive("a", SALT, KdfParams.TESTING)
    assert len(vault.seal(b"x", b"c")) == len(vault.seal(b"y" * 500, b"c"))
    assert len(vault.seal(b"", b"c")) >= VAULT_FLOOR
    other = Vault.derive("b", SALT, KdfParams.TESTING)
    assert vault.name != other.name
    assert len(vault.name) == 32
    assert "a" not in repr(vault).replace("Vault", "")


def test_a_damaged_record_does_not_open() -> None:
    vault = Vault.derive("a", SALT, KdfParams.TESTING)
    sealed = bytearray(vault.seal(b"x", b"c"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        vault.open(bytes(sealed), b"c")
    with pytest.raises(DecryptionError):
        vault.open(b"short", b"c")
