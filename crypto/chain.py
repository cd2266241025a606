"""Hash chains for append-only logs: each link commits to the previous one and to its record.

The server's audit log and the review tool's both use it: removing, reordering or
altering any entry changes every link after it.
"""

from __future__ import annotations

from typing import Any, Final

from crypto import constants as C
from crypto.encoding import blake2b, canonical_json

GENESIS: Final = bytes(32)


def chain_link(previous: bytes, record: Any) -> bytes:
    """Return the link after `previous` for `record` (canonical JSON values only)."""
    if len(previous) != len(GENESIS):
        raise ValueError("a chain link is 32 bytes")
    return blake2b(previous + canonical_json(record), person=C.PERSON_AUDIT_CHAIN)
