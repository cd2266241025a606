"""The envelope's text header: version line, recipient stanzas, signer line, header MAC.

Both versions share this grammar; `Version` says which stanzas and labels apply.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.public

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.envelope import stanza_v2
from crypto.envelope.stream import EnvelopeReader
from crypto.envelope.version import V1, V2, VERSIONS, RecipientKey, Version, version_for
from crypto.errors import DecryptionError, FormatError, UnsupportedVersionError
from crypto.hybrid import HybridPrivateKey, HybridPublicKey
from crypto.keys import PrivateKey, VerifyKey

_KEY_ID_TEXT = len(b64encode(bytes(C.KEY_ID_BYTES)))
# The version line is read under v1's limit, before the version's own is known.
_FIRST_LINE = V1.max_line

Identity = PrivateKey | HybridPrivateKey


@dataclass(frozen=True, slots=True)
class Stanza:
    """One recipient's copy of the file key: v1 a SealedBox, v2 X-Wing ciphertext || wrap."""

    key_id: bytes
    body: bytes


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed header: `raw` is every header byte, `mac_input` what the MAC covers."""

    stanzas: tuple[Stanza, ...]
    signer: VerifyKey | None
    mac: bytes
    mac_input: bytes
    raw: bytes
    version: Version


def payload_key(file_key: bytes, version: Version = V1) -> bytes:
    """Derive the secretstream key from the file key."""
    return blake2b(b"", key=file_key, person=version.person_payload)


def header_mac(
    file_key: bytes, mac_input: bytes, stream_header: bytes, version: Version = V1
) -> bytes:
    """Compute the header MAC, bound to the payload through the stream header."""
    mac_key = blake2b(b"", key=file_key, person=version.person_mac_key)
    return blake2b(
        mac_input + stream_header, key=mac_key, person=version.person_mac, size=C.HEADER_MAC_BYTES
    )


def build_header(
    file_key: bytes, recipients: Sequence[RecipientKey], signer: VerifyKey | None
) -> tuple[Version, bytes]:
    """Return the version the recipients call for, and the header bytes through `---`."""
    if not recipients:
        raise FormatError("an envelope needs at least one recipient")
    if len(recipients) > C.ENVELOPE_MAX_RECIPIENTS:
        raise FormatError(f"at most {C.ENVELOPE_MAX_RECIPIENTS} recipients")
    version = version_for(recipients)
    key_ids = [r.fingerprint.key_id for r in recipients]
    if len(set(key_ids)) != len(key_ids):
        raise FormatError("the same recipient is named twice")
    lines = [version.line]
    for recipient, key_id in zip(recipients, key_ids, strict=True):
        lines.append(version.recipient_tag + b64encode(key_id).encode())
        lines.extend(b64encode(field).encode() for field in _wrap(file_key, recipient))
    if signer is not None:
        lines.append(C.ENVELOPE_SIGNER_TAG + b64encode(signer.raw).encode())
    return version, b"\n".join(lines) + b"\n---"


def _wrap(file_key: bytes, recipient: RecipientKey) -> tuple[bytes, ...]:
    if isinstance(recipient, HybridPublicKey):
        return stanza_v2.wrap(file_key, recipient)
    # What SealedBox.encrypt does, without a PyNaCl key and box object per recipient.
    return (nacl.bindings.crypto_box_seal(file_key, recipient.raw),)


def parse_header(reader: EnvelopeReader) -> Header:
    """Read and check the header's shape; nothing here is trusted until the MAC verifies."""
    consumed = bytearray()
    version = V1  # until the version line has been read

    def line(limit: int | None = None) -> bytes:
        text = reader.readline(version.max_line if limit is None else limit)
        consumed.extend(text + b"\n")
        if len(consumed) > version.max_header:
            raise FormatError("envelope header is too large")
        return text

    first = line(_FIRST_LINE)
    if first not in VERSIONS:
        if first.startswith(C.ENVELOPE_MAGIC_PREFIX):
            raise UnsupportedVersionError(f"unsupported envelope version {first[:40]!r}")
        raise FormatError("not a Raazdar envelope")
    version = VERSIONS[first]
    body_text = [len(b64encode(bytes(size))) for size in version.body_fields]
    stanzas: list[Stanza] = []
    signer: VerifyKey | None = None
    while True:
        text = line()
        if text.startswith(version.recipient_tag):
            if signer is not None:
                raise FormatError("recipient stanza after the signer line")
            key_id = _field(text[len(version.recipient_tag) :], _KEY_ID_TEXT)
            body = b"".join(_field(line(), size) for size in body_text)
            if any(s.key_id == key_id for s in stanzas):
                raise FormatError("duplicate recipient stanza")
            stanzas.append(Stanza(key_id, body))
            if len(stanzas) > C.ENVELOPE_MAX_RECIPIENTS:
                raise FormatError("too many recipient stanzas")
        elif text.startswith(C.ENVELOPE_SIGNER_TAG):
            if signer is not None:
                raise FormatError("more than one signer line")
            signer = VerifyKey(_field(text[len(C.ENVELOPE_SIGNER_TAG) :], 43))
        elif text.startswith(C.ENVELOPE_MAC_TAG):
            mac = _field(text[len(C.ENVELOPE_MAC_TAG) :], 43)
            if not stanzas:
                raise FormatError("envelope has no recipient stanza")
            mac_input = bytes(consumed[: -len(text) - 1]) + b"---"
            return Header(tuple(stanzas), signer, mac, mac_input, bytes(consumed), version)
        else:
            raise FormatError("unexpected line in envelope header")


def _field(text: bytes, size: int) -> bytes:
    if len(text) != size:
        raise FormatError("envelope header field has the wrong length")
    return b64decode(text)


def unwrap_file_key(header: Header, identities: Sequence[Identity]) -> bytes:
    """Find a stanza for one of `identities` and open it; otherwise DecryptionError.

    Only keys of the header's kind are tried: X25519 keys for v1, hybrid for v2.
    """
    for identity in identities:
        if isinstance(identity, HybridPrivateKey) != (header.version is V2):
            continue
        key_id = identity.public_key.fingerprint.key_id
        for stanza in header.stanzas:
            if not hmac.compare_digest(stanza.key_id, key_id):
                continue
            file_key = _unwrap(identity, stanza.body)
            if file_key is not None and len(file_key) == C.FILE_KEY_BYTES:
                return file_key
    raise DecryptionError("no recipient stanza opens with the keys given")


def _unwrap(identity: Identity, body: bytes) -> bytes | None:
    if isinstance(identity, HybridPrivateKey):
        return stanza_v2.unwrap(identity, body)
    try:
        return bytes(nacl.public.SealedBox(identity._nacl).decrypt(body))
    except nacl.exceptions.CryptoError:
        return None
