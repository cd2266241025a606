"""Envelope v1 (`*.rze`): a file sealed to several X25519 recipients, optionally signed."""

from crypto.envelope.header import Header, Stanza
from crypto.envelope.metadata import Metadata
from crypto.envelope.open import (
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
