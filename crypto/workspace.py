"""The review workspace's key: what decrypted reports are sealed under at rest.

A workspace key is a hybrid X-Wing identity (ML-KEM-768 + X25519, `crypto.hybrid`).
Files (decrypted reports and attachments) are stored as v2 envelopes sealed to its
public key, so they keep the envelope's streaming, padding and truncation checks;
small records (triage fields, notes, the search index) are sealed with
XChaCha20-Poly1305 under a key derived from its whole 32-byte seed, each bound to
a context naming the row it belongs to. The seed itself is stored only wrapped:
to each enrolled reviewer's X-Wing key (an X-Wing encapsulation, then the seed
under a key derived from its secret), so unlocking a reviewer's key file unlocks
the workspace and nothing else does. A disk seized today and a quantum computer
later (which turns every X25519 public key into its secret) open nothing: each
secret needs ML-KEM-768 broken too.

Workspaces made before (version 1 of this key) have an X25519 identity: v1 blobs,
a record key derived from the X25519 secret, SealedBox wraps. They are still
opened, and the review tool replaces such a key with a hybrid one, re-sealing
everything, as soon as every key in service has an X-Wing half.
"""

from __future__ import annotations

from typing import Final

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.utils

from crypto import constants as C
from crypto import xwing
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.errors import DecryptionError, FormatError
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.keys import PrivateKey, PublicKey, SigningKey
from crypto.padding import pad, unpad

# Labels of this format; a change of any of them is a change of format.
PERSON_RECORD_KEY: Final = b"rz-ws-record-v1"
# A hybrid key's record key: keyed by the X-Wing seed, so under another label.
PERSON_RECORD_KEY_V2: Final = b"rz-ws-record-v2"
# The key wrapping a hybrid key's seed to one reviewer's X-Wing key.
PERSON_WRAP_KEY_V2: Final = b"rz-ws-wrap-v2"
WRAP_V2_AD: Final = b"raazdar workspace key wrap v2"
# A wrap made by a tool that keeps the workspace's roster (the list of keys in service,
# tagged under `PERSON_ROSTER`) says so: under this associated data (X-Wing), or with
# `ROSTER_FLAG` after the secret (X25519). Only a holder of the workspace key makes such
# a wrap, so a roster missing beside one was removed.
WRAP_V2_ROSTER_AD: Final = b"raazdar workspace key wrap v2; roster kept"
ROSTER_FLAG: Final = b"\x01"
# The key the roster is tagged under, derived from the workspace key (`WorkspaceKey.roster_tag`).
PERSON_ROSTER: Final = b"rz-ws-roster-v1"
# The key the audit log's head is tagged under, derived from the workspace key (`head_tag`).
PERSON_HEAD: Final = b"rz-ws-head-v1"
# The X25519 key a hybrid workspace's own copy of an escalation packet is sealed to
# (a packet goes to a body's X25519 key, and one envelope holds one kind of stanza).
PERSON_PACKET_KEY: Final = b"rz-ws-packet-v1"
# The key that seals a reply bundle's acknowledgements (`WorkspaceKey.ack_key`).
PERSON_ACK_KEY: Final = b"rz-ws-acks-v1"
# A reviewer key's mark on a workspace public key it opened (`mark`).
PERSON_MARK: Final = b"rz-ws-mark-v1"
# How a hybrid key's seed is marked among earlier keys (`export_secret`).
HYBRID_SECRET_PREFIX: Final = "xwing:"  # noqa: S105 - a prefix, not a secret
# Version 2 records are padded (Padmé, at least RECORD_FLOOR bytes) so that their
# length says little about what a reviewer wrote; version 1 records (unpadded)
# are still read, and `keys rewrap` re-seals them as version 2.
RECORD_CONTEXT_PREFIX: Final = b"raazdar workspace record v2\x00"
LEGACY_CONTEXT_PREFIX: Final = b"raazdar workspace record v1\x00"
RECORD_FLOOR: Final = 256

_NONCE_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
_WRAPPED_BYTES: Final = C.KEY_BYTES + sodium.crypto_box_SEALBYTES
_WRAPPED_ROSTER_BYTES: Final = _WRAPPED_BYTES + len(ROSTER_FLAG)
_WRAPPED_V2_BYTES: Final = xwing.CIPHERTEXT_BYTES + xwing.SEED_BYTES + _TAG_BYTES
_ZERO_NONCE: Final = bytes(_NONCE_BYTES)

Identity = PrivateKey | HybridPrivateKey
Public = PublicKey | HybridPublicKey


class WorkspaceKey:
    """A workspace's secret: opens its blobs and seals and opens its records; never shown."""

    __slots__ = ("_head_key", "_identity", "_record_key", "_roster_key")

    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        person = (
            PERSON_RECORD_KEY_V2 if isinstance(identity, HybridPrivateKey) else PERSON_RECORD_KEY
        )
        self._record_key = blake2b(
            b"", key=identity.secret_bytes(), person=person, size=C.KEY_BYTES
        )
        self._roster_key = blake2b(b"", key=identity.secret_bytes(), person=PERSON_ROSTER)
        self._head_key = blake2b(b"", key=identity.secret_bytes(), person=PERSON_HEAD)

    @classmethod
    def generate(cls) -> WorkspaceKey:
        """Make a new random (hybrid) workspace key."""
        return cls(HybridPrivateKey.generate())

    @classmethod
    def generate_classical(cls) -> WorkspaceKey:
        """Make a new X25519 workspace key: only while a key in service has no X-Wing half."""
        return cls(PrivateKey.generate())

    @property
    def is_hybrid(self) -> bool:
        """Say whether this is a hybrid (X-Wing) key, safe from a later quantum computer."""
        return isinstance(self._identity, HybridPrivateKey)

    @property
    def identity(self) -> Identity:
        """The key that opens the workspace's blob envelopes (X-Wing: v2; X25519: v1)."""
        return self._identity

    @property
    def public_key(self) -> Public:
        """The key that blobs are sealed to (safe to store in the clear)."""
        return self._identity.public_key

    @property
    def packet_identity(self) -> PrivateKey:
        """The X25519 key the workspace's own copy of an escalation packet is sealed to.

        An X25519 workspace key is its own; a hybrid one derives it from its seed,
        so that its public half is stored nowhere in the clear.
        """
        if isinstance(self._identity, PrivateKey):
            return self._identity
        return PrivateKey(blake2b(b"", key=self._identity.secret_bytes(), person=PERSON_PACKET_KEY))

    def ack_key(self) -> SigningKey:
        """The key that seals this workspace's acknowledgements: only a holder of this key has it.

        A reviewer's key file alone (without the workspace) cannot make it, so the
        server deletes nothing a bundle signed elsewhere acknowledges (PROTOCOL §13.6).
        """
        return SigningKey(blake2b(b"", key=self._identity.secret_bytes(), person=PERSON_ACK_KEY))

    def export_secret(self) -> str:
        """The secret as text, to keep sealed among earlier keys. The result is secret."""
        text = b64encode(self._identity.secret_bytes())
        return HYBRID_SECRET_PREFIX + text if self.is_hybrid else text

    @classmethod
    def from_exported(cls, text: str) -> WorkspaceKey:
        """The key `export_secret` gave (a bare secret is an X25519 key, as kept before)."""
        if text.startswith(HYBRID_SECRET_PREFIX):
            return cls(HybridPrivateKey(b64decode(text[len(HYBRID_SECRET_PREFIX) :])))
        return cls(PrivateKey(b64decode(text)))

    def wrap_for(self, recipient: Public, *, roster: bool = True) -> bytes:
        """Wrap the workspace secret to one reviewer key: X-Wing for a hybrid key, else X25519.

        A hybrid key is never wrapped to an X25519 key: that wrap would open to
        whoever breaks X25519 later, and with it everything the key protects.
        The wrap says (`open_wrap`) that the workspace keeps a roster; `roster=False`
        makes the wrap of a tool from before rosters.
        """
        if isinstance(self._identity, HybridPrivateKey):
            if not isinstance(recipient, HybridPublicKey):
                raise FormatError("a hybrid workspace key is wrapped only to an X-Wing key")
            shared_secret, ciphertext = recipient._xwing.encapsulate()
            key = _wrap_key(shared_secret, ciphertext, recipient)
            box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
                self._identity.secret_bytes(),
                WRAP_V2_ROSTER_AD if roster else WRAP_V2_AD,
                _ZERO_NONCE,
                key,
            )
            return ciphertext + bytes(box)
        if not isinstance(recipient, PublicKey):
            raise FormatError("an X25519 workspace key is wrapped to an X25519 key")
        sealed = nacl.public.SealedBox(recipient._nacl)
        flag = ROSTER_FLAG if roster else b""
        return bytes(sealed.encrypt(self._identity.secret_bytes() + flag))

    @classmethod
    def unwrap(cls, wrapped: bytes, identity: Identity, expected: Public) -> WorkspaceKey:
        """Open a wrapped secret with a reviewer's key; it must be the workspace's key."""
        return cls.open_wrap(wrapped, identity, expected)[0]

    @classmethod
    def open_wrap(
        cls, wrapped: bytes, identity: Identity, expected: Public
    ) -> tuple[WorkspaceKey, bool]:
        """Open a wrapped secret as `unwrap` does; also say whether the wrap says a roster is kept.

        A hybrid workspace key opens only with an X-Wing key, an X25519 one only
        with an X25519 key; any other pairing does not open.
        """
        if isinstance(expected, HybridPublicKey):
            if not isinstance(identity, HybridPrivateKey) or len(wrapped) != _WRAPPED_V2_BYTES:
                raise DecryptionError("the wrapped workspace key does not open")
            ciphertext = wrapped[: xwing.CIPHERTEXT_BYTES]
            try:
                shared_secret = identity._xwing.decapsulate(ciphertext)
                wrap_key = _wrap_key(shared_secret, ciphertext, identity.public_key)
            except (nacl.exceptions.CryptoError, ValueError) as exc:
                raise DecryptionError("the wrapped workspace key does not open") from exc
            opened = [
                (seed, ad == WRAP_V2_ROSTER_AD)
                for ad in (WRAP_V2_ROSTER_AD, WRAP_V2_AD)
                if (seed := _open_wrap_v2(wrapped, ad, wrap_key)) is not None
            ]
            if not opened:
                raise DecryptionError("the wrapped workspace key does not open")
            seed, rostered = opened[0]
            key = cls(HybridPrivateKey(seed))
        else:
            if not isinstance(identity, PrivateKey) or len(wrapped) not in (
                _WRAPPED_BYTES,
                _WRAPPED_ROSTER_BYTES,
            ):
                raise DecryptionError("the wrapped workspace key does not open")
            try:
                secret = nacl.public.SealedBox(identity._nacl).decrypt(wrapped)
            except (nacl.exceptions.CryptoError, ValueError) as exc:
                raise DecryptionError("the wrapped workspace key does not open") from exc
            rostered = len(secret) == C.KEY_BYTES + len(ROSTER_FLAG)
            if rostered and secret[C.KEY_BYTES :] != ROSTER_FLAG:
                raise DecryptionError("the wrapped workspace key does not open")
            key = cls(PrivateKey(bytes(secret[: C.KEY_BYTES])))
        # Someone with write access could wrap a key of their own: refuse any
        # key but the one the workspace's blobs are sealed to.
        if key.public_key != expected:
            raise DecryptionError("the wrapped workspace key does not open")
        return key, rostered

    def roster_tag(self, roster: bytes) -> bytes:
        """Tag the workspace's list of keys in service: only a holder of this key makes it."""
        return blake2b(roster, key=self._roster_key, person=PERSON_ROSTER)

    def head_tag(self, head: bytes) -> bytes:
        """Tag the audit log's newest link: only a holder of this key makes it."""
        return blake2b(head, key=self._head_key, person=PERSON_HEAD)

    def seal_record(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt a small record, padded, bound to `context` (e.g. the row it is stored in)."""
        nonce = nacl.utils.random(_NONCE_BYTES)
        box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            pad(plaintext, RECORD_FLOOR), _associated(context), nonce, self._record_key
        )
        return nonce + bytes(box)

    def open_record(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt a record sealed under the same context, or raise `DecryptionError`."""
        if len(sealed) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("record does not open")
        try:
            return unpad(self._decrypt(sealed, _associated(context)))
        except DecryptionError:
            # A record written before padding (version 1) opens as it was written.
            return self._decrypt(sealed, _associated(context, LEGACY_CONTEXT_PREFIX))
        except ValueError as exc:
            raise DecryptionError("record does not open") from exc

    def _decrypt(self, sealed: bytes, associated: bytes) -> bytes:
        try:
            return bytes(
                sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    sealed[_NONCE_BYTES:], associated, sealed[:_NONCE_BYTES], self._record_key
                )
            )
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise DecryptionError("record does not open") from exc

    def __repr__(self) -> str:
        return "WorkspaceKey(<secret>)"


def public_key_from_text(text: str) -> Public:
    """A workspace's public key from its text (`meta.workspace_key`): X-Wing, or X25519 before."""
    if text.strip().startswith(C.KEY_PREFIX_XWING_PUBLIC):
        return HybridPublicKey.from_text(text)
    return PublicKey.from_text(text)


def mark(identity: Identity, public: Public) -> bytes:
    """A reviewer key's mark on a workspace public key: only that key's holder makes it.

    Kept beside the wrapped copy, it lets the next unlock tell the key this
    reviewer opened before from one someone with write access put in its place.
    """
    key = blake2b(b"", key=identity.secret_bytes(), person=PERSON_MARK)
    return blake2b(public.to_text().encode("ascii"), key=key, person=PERSON_MARK)


def _open_wrap_v2(wrapped: bytes, ad: bytes, wrap_key: bytes) -> bytes | None:
    """The seed a hybrid wrap holds under associated data `ad`, or None."""
    try:
        return bytes(
            sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                wrapped[xwing.CIPHERTEXT_BYTES :], ad, _ZERO_NONCE, wrap_key
            )
        )
    except (nacl.exceptions.CryptoError, ValueError):
        return None


def _wrap_key(shared_secret: bytes, ciphertext: bytes, public: HybridPublicKey) -> bytes:
    """The key a hybrid workspace secret is wrapped under: bound to the whole `ct` and `pk`.

    Each is used once (a fresh encapsulation per wrap), so a fixed nonce is safe.
    """
    return blake2b(ciphertext + public.raw, key=shared_secret, person=PERSON_WRAP_KEY_V2)


def _associated(context: bytes, prefix: bytes = RECORD_CONTEXT_PREFIX) -> bytes:
    if not isinstance(context, bytes):
        raise FormatError("a record context is bytes")
    return prefix + context
