"""Byte-level encodings shared by every format: strict base64, canonical JSON, BLAKE2b."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from crypto.errors import FormatError


def b64encode(data: bytes) -> str:
    """Encode as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str | bytes, *, length: int | None = None) -> bytes:
    """Decode canonical base64url without padding, optionally of an exact length.

    Non-canonical input (padding, stray characters, set trailing bits) is refused,
    so that every value has exactly one encoding.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    if b"=" in raw:
        raise FormatError("base64 must not be padded")
    try:
        data = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise FormatError("invalid base64") from exc
    if base64.urlsafe_b64encode(data).rstrip(b"=") != raw:
        raise FormatError("non-canonical base64")
    if length is not None and len(data) != length:
        raise FormatError(f"expected {length} bytes, got {len(data)}")
    return data


def blake2b(data: bytes, *, person: bytes, size: int = 32, key: bytes = b"") -> bytes:
    """Hash with BLAKE2b under a personalisation label (libsodium's generichash)."""
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()


def blake2b_hasher(*, person: bytes, size: int = 32, key: bytes = b"") -> Any:
    """Return an incremental BLAKE2b hasher under a personalisation label."""
    return hashlib.blake2b(digest_size=size, key=key, person=person)


def canonical_json(value: Any) -> bytes:
    """Serialise to canonical JSON: sorted keys, no spaces, UTF-8, no floats.

    For the values Raazdar signs (strings, integers, booleans, null, lists and
    objects with ASCII keys) this is exactly RFC 8785.
    """
    _check_canonical_types(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FormatError("text is not valid Unicode (lone surrogate)") from exc


def _check_canonical_types(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise FormatError("integer out of the interoperable range")
        return
    if isinstance(value, list):
        for item in value:
            _check_canonical_types(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise FormatError("object keys must be ASCII strings")
            _check_canonical_types(item)
        return
    raise FormatError(f"{type(value).__name__} cannot be serialised canonically")


def parse_json_object(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """Parse a UTF-8 JSON object, refusing duplicate keys, floats and oversized input."""
    if len(data) > max_bytes:
        raise FormatError("document too large")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in pairs:
            if key in result:
                raise FormatError(f"duplicate key {key!r}")
            result[key] = item
        return result

    def no_floats(text: str) -> float:
        raise FormatError("floating-point numbers are not allowed")

    def no_constants(text: str) -> float:
        raise FormatError(f"{text} is not allowed")

    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=no_duplicates,
            parse_float=no_floats,
            parse_constant=no_constants,
        )
    # ValueError also covers integers longer than Python's 4300-digit conversion limit.
    except (ValueError, RecursionError) as exc:
        raise FormatError("invalid JSON") from exc
    if not isinstance(value, dict):
        raise FormatError("expected a JSON object")
    return value
