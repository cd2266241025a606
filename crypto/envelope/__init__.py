"""Envelopes (`*.rze`): a file sealed to several recipients, optionally signed.

v1 seals to X25519 keys; v2 to hybrid post-quantum (X-Wing) keys.
"""

from crypto.envelope.header import Header, Stanza
from crypto.envelope.metadata import Metadata
from crypto.envelope.open import (
    HeldEnvelope,
    Opened,
    open_bytes,
    open_envelope,
    open_to_path,
    read_header,
    verify_signature,
)
from crypto.envelope.seal import SealingWriter, SealResult, seal, seal_bytes

__all__ = [
    "Header",
    "HeldEnvelope",
    "Metadata",
    "Opened",
    "SealResult",
    "SealingWriter",
    "Stanza",
    "open_bytes",
    "open_envelope",
    "open_to_path",
    "read_header",
    "seal",
    "seal_bytes",
    "verify_signature",
]
