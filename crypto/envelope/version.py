"""What differs between envelope versions: the version line, the stanza shape and the labels.

v1 seals the file key to X25519 keys (SealedBox); v2 to hybrid X-Wing keys
(ML-KEM-768 + X25519). Everything else, payload and signature included, is laid
out alike, under each version's own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crypto import constants as C
from crypto.errors import FormatError
from crypto.hybrid import HybridPublicKey
from crypto.keys import PublicKey


@dataclass(frozen=True, slots=True)
class Version:
    """One envelope version's constants (docs/PROTOCOL.md §5.2, §5A)."""

    number: int
    line: bytes
    recipient_tag: bytes
    body_fields: tuple[int, ...]  # decoded sizes of the lines after a stanza's tag line
    max_line: int
    max_header: int
    person_payload: bytes
    person_mac_key: bytes
    person_mac: bytes
    person_signed: bytes
    signature_context: bytes


V1 = Version(
    number=1,
    line=C.ENVELOPE_VERSION_LINE,
    recipient_tag=C.ENVELOPE_RECIPIENT_TAG,
    body_fields=(C.STANZA_BODY_BYTES,),
    max_line=128,
    max_header=C.ENVELOPE_MAX_HEADER_BYTES,
    person_payload=C.PERSON_PAYLOAD_KEY,
    person_mac_key=C.PERSON_HEADER_MAC_KEY,
    person_mac=C.PERSON_HEADER_MAC,
    person_signed=C.PERSON_SIGNED_DIGEST,
    signature_context=C.SIG_CONTEXT_ENVELOPE,
)
V2 = Version(
    number=2,
    line=C.ENVELOPE_V2_VERSION_LINE,
    recipient_tag=C.ENVELOPE_V2_RECIPIENT_TAG,
    body_fields=(C.XWING_CIPHERTEXT_BYTES, C.WRAPPED_FILE_KEY_BYTES),
    max_line=C.ENVELOPE_V2_MAX_LINE,
    max_header=C.ENVELOPE_V2_MAX_HEADER_BYTES,
    person_payload=C.PERSON_PAYLOAD_KEY_V2,
    person_mac_key=C.PERSON_HEADER_MAC_KEY_V2,
    person_mac=C.PERSON_HEADER_MAC_V2,
    person_signed=C.PERSON_SIGNED_DIGEST_V2,
    signature_context=C.SIG_CONTEXT_ENVELOPE_V2,
)
VERSIONS = {V1.line: V1, V2.line: V2}

RecipientKey = PublicKey | HybridPublicKey


def version_for(recipients: Sequence[RecipientKey]) -> Version:
    """v1 for X25519 keys only, v2 for hybrid keys only; a mix is refused.

    One X25519 stanza beside hybrid ones would give the file key to whoever
    breaks X25519 later, undoing the hybrid stanzas for every recipient.
    """
    if all(isinstance(r, HybridPublicKey) for r in recipients):
        return V2
    if all(isinstance(r, PublicKey) for r in recipients):
        return V1
    raise FormatError(
        "recipients mix X25519 and hybrid keys: one X25519 stanza would undo the"
        " post-quantum protection of the others, so seal to one kind only"
    )
