"""Fixed keys for the crypto tests: fixed bytes, so that failures reproduce."""

from __future__ import annotations

import pytest

from crypto import Metadata, PrivateKey, SigningKey


@pytest.fixture(scope="session")
def alice() -> PrivateKey:
    """The X25519 key of PROTOCOL.md §4.5 (secret bytes 00 01 … 1f)."""
    return PrivateKey(bytes(range(32)))


@pytest.fixture(scope="session")
def bob() -> PrivateKey:
    """A second recipient."""
    return PrivateKey(bytes([2]) * 32)


@pytest.fixture(scope="session")
def carol() -> PrivateKey:
    """A third recipient."""
    return PrivateKey(bytes([4]) * 32)


@pytest.fixture(scope="session")
def mallory() -> PrivateKey:
    """A key that nothing is sealed to."""
    return PrivateKey(bytes([0x66]) * 32)


@pytest.fixture(scope="session")
def signer() -> SigningKey:
    """The Ed25519 key of PROTOCOL.md §4.5 (seed 20 21 … 3f)."""
    return SigningKey(bytes(range(32, 64)))


@pytest.fixture(scope="session")
def other_signer() -> SigningKey:
    """A signing key that no one trusts."""
    return SigningKey(bytes([0x77]) * 32)


@pytest.fixture(scope="session")
def message_meta() -> Metadata:
    """The metadata of a plain text report."""
    return Metadata(kind="message", content_type="text/plain; charset=utf-8")
