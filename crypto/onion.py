"""Tor v3 onion service keys and client-authorisation keys, in the text forms tor reads.

The staff onion is reachable only by devices holding an x25519 client key; the
server keeps just the public halves. tor wants them base32 (RFC 4648, no
padding): `descriptor:x25519:<public>` on the service side and
`<onion-id>:descriptor:x25519:<private>` in a client's `.auth_private` file, whose
private part is also what Tor Browser asks for. The service key itself is tor's
expanded Ed25519 secret (`ED25519-V3:<base64>`), and the address is derived
from it as rend-spec-v3 says, so the address is known before tor ever runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.utils

from crypto.errors import FormatError
from crypto.keys import PrivateKey, PublicKey

ONION_ID_CHARS: Final = 56
CLIENT_KEY_CHARS: Final = 52  # 32 bytes in unpadded base32
CLIENT_AUTH_PREFIX: Final = "descriptor:x25519:"
SERVICE_KEY_PREFIX: Final = "ED25519-V3:"
# The 32-byte header of tor's `hs_ed25519_secret_key` file (tor's ed25519 key files).
SERVICE_KEY_FILE_HEADER: Final = b"== ed25519v1-secret: type0 ==\0\0\0"
ONION_VERSION: Final = b"\x03"
ONION_CHECKSUM_LABEL: Final = b".onion checksum"
_EXPANDED_KEY_BYTES: Final = 64
_KEY_BYTES: Final = 32

_B32: Final = re.compile(r"[A-Z2-7]+")
_ONION_ID: Final = re.compile(rf"[a-z2-7]{{{ONION_ID_CHARS}}}")


def _b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _b32decode(text: str, length: int) -> bytes:
    """Decode unpadded base32 of exactly `length` bytes; any case, canonical only."""
    upper = text.strip().upper()
    if not _B32.fullmatch(upper):
        raise FormatError("not base32")
    try:
        raw = base64.b32decode(upper + "=" * (-len(upper) % 8))
    except (binascii.Error, ValueError) as exc:
        raise FormatError("not base32") from exc
    if len(raw) != length or _b32encode(raw) != upper:
        raise FormatError(f"expected {length} bytes of base32")
    return raw


def _address_from_public(public: bytes) -> str:
    checksum = hashlib.sha3_256(ONION_CHECKSUM_LABEL + public + ONION_VERSION).digest()[:2]
    return _b32encode(public + checksum + ONION_VERSION).lower()


def onion_id(address: str) -> str:
    """Check a v3 onion address (with or without `.onion`) and return its 56-char id."""
    service_id = address.strip().lower().removesuffix(".onion")
    if not _ONION_ID.fullmatch(service_id):
        raise FormatError("not a v3 onion address")
    raw = base64.b32decode(service_id.upper())
    if raw[-1:] != ONION_VERSION or _address_from_public(raw[:_KEY_BYTES]) != service_id:
        raise FormatError("not a v3 onion address (bad version or checksum)")
    return service_id


class OnionServiceKey:
    """An onion service's key as tor keeps it: the expanded Ed25519 secret."""

    __slots__ = ("_expanded",)

    def __init__(self, expanded: bytes) -> None:
        if len(expanded) != _EXPANDED_KEY_BYTES:
            raise FormatError("an onion service key is 64 bytes")
        self._expanded = bytes(expanded)
        self.address  # noqa: B018 - refuse, here, a key that makes no valid point

    @classmethod
    def generate(cls) -> OnionServiceKey:
        """Make a new key the way tor does: SHA-512 of a random seed, clamped."""
        digest = bytearray(hashlib.sha512(nacl.utils.random(_KEY_BYTES)).digest())
        digest[0] &= 248
        digest[31] &= 127
        digest[31] |= 64
        return cls(bytes(digest))

    @classmethod
    def from_tor(cls, text: str) -> OnionServiceKey:
        """Read `ED25519-V3:<base64>`, as ADD_ONION returns and accepts it."""
        text = text.strip()
        if not text.startswith(SERVICE_KEY_PREFIX):
            raise FormatError(f"an onion service key starts {SERVICE_KEY_PREFIX!r}")
        try:
            raw = base64.b64decode(text[len(SERVICE_KEY_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FormatError("an onion service key is base64") from exc
        return cls(raw)

    def to_tor(self) -> str:
        """Write `ED25519-V3:<base64>`. The result is secret."""
        return SERVICE_KEY_PREFIX + base64.b64encode(self._expanded).decode("ascii")

    def to_tor_file(self) -> bytes:
        """Write the `hs_ed25519_secret_key` file of a HiddenServiceDir. The result is secret."""
        return SERVICE_KEY_FILE_HEADER + self._expanded

    @property
    def address(self) -> str:
        """The service's address, `<56 chars>.onion`."""
        try:
            # The first half is the already-clamped scalar: no second clamping.
            public = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(
                self._expanded[:_KEY_BYTES]
            )
        except nacl.exceptions.CryptoError as exc:
            raise FormatError("not a usable onion service key") from exc
        return _address_from_public(public) + ".onion"

    def __repr__(self) -> str:
        return f"OnionServiceKey({self.address!r})"


class ClientAuthKey:
    """An x25519 key pair for v3 client authorisation: one per staff device."""

    __slots__ = ("_key",)

    def __init__(self, key: PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> ClientAuthKey:
        """Make a new random key pair."""
        return cls(PrivateKey.generate())

    @classmethod
    def from_private_b32(cls, text: str) -> ClientAuthKey:
        """Read a base32 private key, as Tor Browser and `.auth_private` files hold it."""
        return cls(PrivateKey(_b32decode(text, _KEY_BYTES)))

    @property
    def public_b32(self) -> str:
        """The public key in base32, as `ClientAuthV3=` takes it."""
        return _b32encode(self._key.public_key.raw)

    @property
    def public_line(self) -> str:
        """`descriptor:x25519:<public>`, an `authorized_clients/NAME.auth` line."""
        return CLIENT_AUTH_PREFIX + self.public_b32

    @property
    def private_b32(self) -> str:
        """The private key in base32, what Tor Browser asks for. The result is secret."""
        return _b32encode(self._key.secret_bytes())

    def private_line(self, address: str) -> str:
        """`<onion-id>:descriptor:x25519:<private>`, a `NAME.auth_private` line. Secret."""
        return f"{onion_id(address)}:{CLIENT_AUTH_PREFIX}{self.private_b32}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientAuthKey) and hmac.compare_digest(
            self._key.secret_bytes(), other._key.secret_bytes()
        )

    def __hash__(self) -> int:
        return hash(self.public_b32)

    def __repr__(self) -> str:
        return f"ClientAuthKey(public={self.public_b32!r})"


def parse_client_public(text: str) -> str:
    """Check a client's public key (`descriptor:x25519:<b32>` or bare) and return the base32."""
    text = text.strip()
    if ":" in text:
        if not text.startswith(CLIENT_AUTH_PREFIX):
            raise FormatError(f"a client authorisation key starts {CLIENT_AUTH_PREFIX!r}")
        text = text[len(CLIENT_AUTH_PREFIX) :]
    raw = _b32decode(text, _KEY_BYTES)
    PublicKey(raw)  # refuses low-order points, which no real client key is
    return _b32encode(raw)


def parse_private_line(line: str) -> tuple[str, ClientAuthKey]:
    """Read an `.auth_private` line; return the onion id and the client key."""
    service_id, sep, rest = line.strip().partition(":")
    # The bare 56-character id: tor's file format has no `.onion` here.
    if not sep or not _ONION_ID.fullmatch(service_id) or not rest.startswith(CLIENT_AUTH_PREFIX):
        raise FormatError("expected <onion-id>:descriptor:x25519:<private key>")
    return onion_id(service_id), ClientAuthKey.from_private_b32(rest[len(CLIENT_AUTH_PREFIX) :])
