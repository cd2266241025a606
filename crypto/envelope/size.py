"""Envelope sizes: which byte counts a well-formed envelope can have (docs/PROTOCOL.md §5.10).

The size is fixed by the header (recipients, signed or not) and the Padmé class
of the inner plaintext, so a server that takes ciphertext it cannot open can
still refuse, before a byte arrives, an upload that cannot be one envelope.
"""

from __future__ import annotations

from typing import Final

from crypto import constants as C
from crypto.padding import padme

_VERSION_LINE: Final = len(C.ENVELOPE_VERSION_LINE) + 1
# "-> x25519 " key-id(11) LF, then the 80-byte body in base64url (107) LF.
_STANZA: Final = len(C.ENVELOPE_RECIPIENT_TAG) + 11 + 1 + 107 + 1
# v2: "-> xwing " key-id(11) LF, the X-Wing ciphertext (1494) LF, the wrapped key (64) LF.
_STANZA_V2: Final = len(C.ENVELOPE_V2_RECIPIENT_TAG) + 11 + 1 + 1494 + 1 + 64 + 1
# "-> ed25519 " key(43) LF.
_SIGNER: Final = len(C.ENVELOPE_SIGNER_TAG) + 43 + 1
# "--- " mac(43) LF.
_MAC_LINE: Final = len(C.ENVELOPE_MAC_TAG) + 43 + 1
_BLOCK: Final = C.CHUNK_BYTES + C.STREAM_ABYTES


def header_size(recipients: int, *, signed: bool, hybrid: bool = False) -> int:
    """The size of a header of `recipients` stanzas (v2 if `hybrid`), signer line if `signed`."""
    if not 1 <= recipients <= C.ENVELOPE_MAX_RECIPIENTS:
        raise ValueError("recipient count out of range")
    stanza = _STANZA_V2 if hybrid else _STANZA
    return _VERSION_LINE + stanza * recipients + (_SIGNER if signed else 0) + _MAC_LINE


def is_envelope_size(size: int, recipients: int, *, signed: bool, hybrid: bool = False) -> bool:
    """Say whether an envelope to `recipients` keys can be exactly `size` bytes long."""
    fixed = header_size(recipients, signed=signed, hybrid=hybrid) + C.STREAM_HEADER_BYTES
    fixed += C.SIGNATURE_BYTES if signed else 0
    payload = size - fixed  # = T + 17 * ceil(T / 65536)
    if payload < C.MIN_PADDED_BYTES + C.STREAM_ABYTES:
        return False
    chunks = -(-payload // _BLOCK)
    inner = payload - C.STREAM_ABYTES * chunks
    return (
        inner >= C.MIN_PADDED_BYTES
        and -(-inner // C.CHUNK_BYTES) == chunks
        and padme(inner) == inner
    )
