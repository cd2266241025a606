"""The workspace key: wrapped to reviewers, sealing records bound to their context."""

from __future__ import annotations

import pytest

from crypto import DecryptionError, PrivateKey
from crypto.workspace import WorkspaceKey


def test_a_wrapped_key_opens_with_the_reviewer_key_only(alice: PrivateKey, bob: PrivateKey) -> None:
    key = WorkspaceKey.generate()
    wrapped = key.wrap_for(alice.public_key)
    opened = WorkspaceKey.unwrap(wrapped, alice, key.public_key)
    assert opened.public_key == key.public_key
    assert opened.open_record(key.seal_record(b"x", b"ctx"), b"ctx") == b"x"
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(wrapped, bob, key.public_key)


def test_a_wrapped_key_of_another_workspace_is_refused(alice: PrivateKey) -> None:
    mine, theirs = WorkspaceKey.generate(), WorkspaceKey.generate()
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(theirs.wrap_for(alice.public_key), alice, mine.public_key)


@pytest.mark.parametrize("cut", [0, 1, 40, -1])
def test_a_damaged_wrapped_key_is_refused(alice: PrivateKey, cut: int) -> None:
    key = WorkspaceKey.generate()
    wrapped = bytearray(key.wrap_for(alice.public_key))
    if cut == -1:
        wrapped[-1] ^= 1
    else:
        del wrapped[cut:]
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(bytes(wrapped), alice, key.public_key)


def test_records_are_bound_to_their_context_and_to_every_byte() -> None:
    key = WorkspaceKey.generate()
    sealed = key.seal_record("رپورٹ".encode(), b"report:1")
    assert key.open_record(sealed, b"report:1") == "رپورٹ".encode()
    assert sealed != key.seal_record("رپورٹ".encode(), b"report:1")  # fresh nonce each time
    with pytest.raises(DecryptionError):
        key.open_record(sealed, b"report:2")
    for position in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[position] ^= 1
        with pytest.raises(DecryptionError):
            key.open_record(bytes(damaged), b"report:1")
    for short in (b"", sealed[:10], sealed[:-1]):
        with pytest.raises(DecryptionError):
            key.open_record(short, b"report:1")
    with pytest.raises(DecryptionError):
        WorkspaceKey.generate().open_record(sealed, b"report:1")


def test_the_record_key_is_derived_from_the_identity(alice: PrivateKey) -> None:
    sealed = WorkspaceKey(alice).seal_record(b"same key", b"c")
    assert WorkspaceKey(alice).open_record(sealed, b"c") == b"same key"
    assert "secret" in repr(WorkspaceKey(alice))


def test_records_are_padded_so_lengths_say_little() -> None:
    key = WorkspaceKey.generate()
    short = key.seal_record(b"ok", b"note:1:1")
    longer = key.seal_record(b"x" * 200, b"note:1:1")
    assert len(short) == len(longer)
    assert key.open_record(longer, b"note:1:1") == b"x" * 200


def test_a_record_sealed_before_padding_still_opens() -> None:
    # A known answer: b"old" sealed, unpadded, under context "c" by the record format
    # before padding (XChaCha20-Poly1305, zero nonce), for the identity 00 01 .. 1f.
    key = WorkspaceKey(PrivateKey(bytes(range(32))))
    sealed = bytes.fromhex(
        "000000000000000000000000000000000000000000000000a0c0b8653588100473fff375d0c95c879a4bda"
    )
    assert key.open_record(sealed, b"c") == b"old"
