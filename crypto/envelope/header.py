"""The envelope's text header: version line, recipient stanzas, signer line, header MAC."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import nacl.exceptions
import nacl.public

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b
from crypto.envelope.stream import EnvelopeReader
from crypto.errors import DecryptionError, FormatError, UnsupportedVersionError
from crypto.keys import PrivateKey, PublicKey, VerifyKey

_KEY_ID_TEXT = len(b64encode(bytes(C.KEY_ID_BYTES)))
_BODY_TEXT = len(b64encode(bytes(C.STANZA_BODY_BYTES)))
_MAX_LINE = 128


@dataclass(frozen=True, slots=True)
class Stanza:
    """One recipient's copy of the file key, sealed to their X25519 key."""

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


def payload_key(file_key: bytes) -> bytes:
    """Derive the secretstream key from the file key."""
    return blake2b(b"", key=file_key, person=C.PERSON_PAYLOAD_KEY)


def header_mac(file_key: bytes, mac_input: bytes, stream_header: bytes) -> bytes:
    """Compute the header MAC, bound to the payload through the stream header."""
    mac_key = blake2b(b"", key=file_key, person=C.PERSON_HEADER_MAC_KEY)
    return blake2b(
        mac_input + stream_header, key=mac_key, person=C.PERSON_HEADER_MAC, size=C.HEADER_MAC_BYTES
    )


def build_header(file_key: bytes, recipients: list[PublicKey], signer: VerifyKey | None) -> bytes:
    """Return the header bytes up to and including `---` (the MAC is added by the caller)."""
    if not recipients:
        raise FormatError("an envelope needs at least one recipient")
    if len(recipients) > C.ENVELOPE_MAX_RECIPIENTS:
        raise FormatError(f"at most {C.ENVELOPE_MAX_RECIPIENTS} recipients")
    key_ids = [r.fingerprint.key_id for r in recipients]
    if len(set(key_ids)) != len(key_ids):
        raise FormatError("the same recipient is named twice")
    lines = [C.ENVELOPE_VERSION_LINE]
    for recipient, key_id in zip(recipients, key_ids, strict=True):
        body = nacl.public.SealedBox(recipient._nacl).encrypt(file_key)
        lines.append(C.ENVELOPE_RECIPIENT_TAG + b64encode(key_id).encode())
        lines.append(b64encode(body).encode())
    if signer is not None:
        lines.append(C.ENVELOPE_SIGNER_TAG + b64encode(signer.raw).encode())
    return b"\n".join(lines) + b"\n---"


def parse_header(reader: EnvelopeReader) -> Header:
    """Read and check the header's shape; nothing here is trusted until the MAC verifies."""
    consumed = bytearray()

    def line() -> bytes:
        text = reader.readline(_MAX_LINE)
        consumed.extend(text + b"\n")
        if len(consumed) > C.ENVELOPE_MAX_HEADER_BYTES:
            raise FormatError("envelope header is too large")
        return text

    version = line()
    if version != C.ENVELOPE_VERSION_LINE:
        if version.startswith(C.ENVELOPE_MAGIC_PREFIX):
            raise UnsupportedVersionError(f"unsupported envelope version {version[:40]!r}")
        raise FormatError("not a Raazdar envelope")
    stanzas: list[Stanza] = []
    signer: VerifyKey | None = None
    while True:
        text = line()
        if text.startswith(C.ENVELOPE_RECIPIENT_TAG):
            if signer is not None:
                raise FormatError("recipient stanza after the signer line")
            key_id = _field(text[len(C.ENVELOPE_RECIPIENT_TAG) :], _KEY_ID_TEXT)
            body = _field(line(), _BODY_TEXT)
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
            return Header(tuple(stanzas), signer, mac, mac_input, bytes(consumed))
        else:
            raise FormatError("unexpected line in envelope header")


def _field(text: bytes, size: int) -> bytes:
    if len(text) != size:
        raise FormatError("envelope header field has the wrong length")
    return b64decode(text)


def unwrap_file_key(header: Header, identities: list[PrivateKey]) -> bytes:
    """Find a stanza for one of `identities` and open it; otherwise DecryptionError."""
    for identity in identities:
        key_id = identity.public_key.fingerprint.key_id
        for stanza in header.stanzas:
            if not hmac.compare_digest(stanza.key_id, key_id):
                continue
            try:
                file_key = nacl.public.SealedBox(identity._nacl).decrypt(stanza.body)
            except nacl.exceptions.CryptoError:
                continue
            if len(file_key) == C.FILE_KEY_BYTES:
                return bytes(file_key)
    raise DecryptionError("no recipient stanza opens with the keys given")
