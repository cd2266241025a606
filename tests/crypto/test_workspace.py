"""The workspace key: wrapped to reviewers, sealing records bound to their context.

A new key is hybrid (X-Wing); the X25519 keys of workspaces made before are still
opened, and kept only until the review tool re-seals them (`generate_classical`).
"""

from __future__ import annotations

import hashlib

import pytest

from crypto import DecryptionError, FormatError, HybridPrivateKey, PrivateKey
from crypto.encoding import b64encode
from crypto.workspace import WorkspaceKey, mark, public_key_from_text


def test_an_x25519_wrapped_key_opens_with_the_reviewer_key_only(
    alice: PrivateKey, bob: PrivateKey
) -> None:
    key = WorkspaceKey.generate_classical()
    wrapped = key.wrap_for(alice.public_key)
    opened = WorkspaceKey.unwrap(wrapped, alice, key.public_key)
    assert opened.public_key == key.public_key
    assert opened.open_record(key.seal_record(b"x", b"ctx"), b"ctx") == b"x"
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(wrapped, bob, key.public_key)


def test_a_wrapped_key_of_another_workspace_is_refused(alice: PrivateKey) -> None:
    mine, theirs = WorkspaceKey.generate_classical(), WorkspaceKey.generate_classical()
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(theirs.wrap_for(alice.public_key), alice, mine.public_key)


@pytest.mark.parametrize("cut", [0, 1, 40, -1])
def test_a_damaged_wrapped_key_is_refused(alice: PrivateKey, cut: int) -> None:
    key = WorkspaceKey.generate_classical()
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


@pytest.fixture(scope="module")
def xalice() -> HybridPrivateKey:
    return HybridPrivateKey.generate()


def test_a_hybrid_key_is_wrapped_to_x_wing_keys_only(
    alice: PrivateKey, xalice: HybridPrivateKey
) -> None:
    key = WorkspaceKey.generate()
    assert key.is_hybrid
    with pytest.raises(FormatError, match="only to an X-Wing key"):
        key.wrap_for(alice.public_key)
    wrapped = key.wrap_for(xalice.public_key)
    opened = WorkspaceKey.unwrap(wrapped, xalice, key.public_key)
    assert opened.public_key == key.public_key
    assert opened.open_record(key.seal_record(b"x", b"ctx"), b"ctx") == b"x"
    assert wrapped != key.wrap_for(xalice.public_key)  # a fresh encapsulation each time
    for other in (HybridPrivateKey.generate(), alice, _x25519_half(xalice)):
        with pytest.raises(DecryptionError):
            WorkspaceKey.unwrap(wrapped, other, key.public_key)
    with pytest.raises(DecryptionError):  # another workspace's key, wrapped to the same reviewer
        WorkspaceKey.unwrap(
            WorkspaceKey.generate().wrap_for(xalice.public_key), xalice, key.public_key
        )


@pytest.mark.parametrize("where", [0, 1000, 1119, 1120, 1167, -1])
def test_a_damaged_hybrid_wrap_is_refused(xalice: HybridPrivateKey, where: int) -> None:
    key = WorkspaceKey.generate()
    wrapped = bytearray(key.wrap_for(xalice.public_key))
    if where == -1:
        del wrapped[-1:]
    else:
        wrapped[where] ^= 1
    with pytest.raises(DecryptionError):
        WorkspaceKey.unwrap(bytes(wrapped), xalice, key.public_key)


def _x25519_half(key: HybridPrivateKey) -> PrivateKey:
    """What a quantum computer finds from an X-Wing key's X25519 half: its secret."""
    return PrivateKey(hashlib.shake_256(key.secret_bytes()).digest(96)[64:])


def test_a_hybrid_keys_records_need_its_whole_seed() -> None:
    key = WorkspaceKey.generate()
    assert isinstance(key.identity, HybridPrivateKey)
    sealed = key.seal_record(b"a note", b"note:1:1")
    assert (
        WorkspaceKey(HybridPrivateKey(key.identity.secret_bytes())).open_record(sealed, b"note:1:1")
        == b"a note"
    )
    for guess in (_x25519_half(key.identity), PrivateKey(key.identity.secret_bytes())):
        with pytest.raises(DecryptionError):
            WorkspaceKey(guess).open_record(sealed, b"note:1:1")


def test_keys_are_kept_as_text_with_their_kind(alice: PrivateKey) -> None:
    hybrid, classical = WorkspaceKey.generate(), WorkspaceKey(alice)
    assert hybrid.export_secret().startswith("xwing:")
    for key in (hybrid, classical):
        assert WorkspaceKey.from_exported(key.export_secret()).public_key == key.public_key
        assert public_key_from_text(key.public_key.to_text()) == key.public_key
    # A bare secret is an X25519 key, as `workspace_key_history` kept them before.
    assert (
        WorkspaceKey.from_exported(b64encode(alice.secret_bytes())).public_key == alice.public_key
    )


def test_a_hybrid_keys_packet_key_is_derived_from_its_seed_and_shown_nowhere(
    alice: PrivateKey,
) -> None:
    assert WorkspaceKey(alice).packet_identity == alice
    key = WorkspaceKey.generate()
    packet = key.packet_identity
    assert packet == WorkspaceKey.from_exported(key.export_secret()).packet_identity
    assert packet.public_key.raw not in key.public_key.raw
    assert packet != _x25519_half(key.identity)  # type: ignore[arg-type]


def test_a_hybrid_keys_derivations_are_as_protocol_5a10_writes_them() -> None:
    seed = bytes(range(32))
    key = WorkspaceKey(HybridPrivateKey(seed))

    def blake(person: bytes) -> bytes:
        return hashlib.blake2b(b"", digest_size=32, key=seed, person=person).digest()

    sealed = key.seal_record(b"pinned", b"c")
    assert WorkspaceKey(HybridPrivateKey(seed)).open_record(sealed, b"c") == b"pinned"
    assert key._record_key == blake(b"rz-ws-record-v2")
    assert key.packet_identity == PrivateKey(blake(b"rz-ws-packet-v1"))
    assert key.public_key == HybridPrivateKey(seed).public_key
    assert len(key.wrap_for(HybridPrivateKey.generate().public_key)) == 1120 + 32 + 16


def test_a_mark_is_as_protocol_5a10_writes_it_and_only_its_key_makes_it(
    alice: PrivateKey, xalice: HybridPrivateKey
) -> None:
    public = WorkspaceKey.generate().public_key
    for identity in (alice, xalice):
        key = hashlib.blake2b(
            b"", digest_size=32, key=identity.secret_bytes(), person=b"rz-ws-mark-v1"
        ).digest()
        expected = hashlib.blake2b(
            public.to_text().encode("ascii"), digest_size=32, key=key, person=b"rz-ws-mark-v1"
        ).digest()
        assert mark(identity, public) == expected
    assert mark(alice, public) != mark(xalice, public)
    assert mark(alice, public) != mark(alice, WorkspaceKey.generate().public_key)
    assert mark(alice, public) != mark(PrivateKey.generate(), public)


def test_a_wrap_says_whether_the_workspace_keeps_a_roster(
    alice: PrivateKey, xalice: HybridPrivateKey
) -> None:
    """Only a holder of the workspace key makes a wrap saying so: a roster deleted beside one
    was deleted, not left out by an older tool (PROTOCOL §5A.10)."""
    for key, to, me in (
        (WorkspaceKey.generate(), xalice.public_key, xalice),
        (WorkspaceKey.generate_classical(), alice.public_key, alice),
    ):
        new, old = key.wrap_for(to), key.wrap_for(to, roster=False)
        assert WorkspaceKey.open_wrap(new, me, key.public_key)[1] is True
        assert WorkspaceKey.open_wrap(old, me, key.public_key)[1] is False
        assert WorkspaceKey.unwrap(old, me, key.public_key).public_key == key.public_key


def test_a_roster_tag_is_the_workspace_keys_own() -> None:
    key, other = WorkspaceKey.generate(), WorkspaceKey.generate()
    assert key.roster_tag(b"[1]") == WorkspaceKey(key.identity).roster_tag(b"[1]")
    assert key.roster_tag(b"[1]") not in (key.roster_tag(b"[2]"), other.roster_tag(b"[1]"))


def test_a_head_tag_is_the_workspace_keys_own_and_not_its_roster_tag() -> None:
    key, other = WorkspaceKey.generate(), WorkspaceKey.generate()
    assert key.head_tag(b"3:ab") == WorkspaceKey(key.identity).head_tag(b"3:ab")
    assert key.head_tag(b"3:ab") not in (
        key.head_tag(b"2:ab"),
        other.head_tag(b"3:ab"),
        key.roster_tag(b"3:ab"),
    )
