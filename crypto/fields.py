"""Strict readers for fields of parsed JSON documents (manifests, bundles)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from crypto.errors import FormatError

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def exact_object(value: Any, keys: set[str], what: str) -> dict[str, Any]:
    """An object with exactly these fields."""
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be an object")
    if set(value) != keys:
        raise FormatError(f"{what} must have exactly the fields {sorted(keys)}")
    return value


def list_of(value: Any, what: str) -> list[Any]:
    """A list."""
    if not isinstance(value, list):
        raise FormatError(f"{what} must be a list")
    return value


def string(value: Any, what: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise FormatError(f"{what} must be a string")
    return value


def integer(value: Any, what: str) -> int:
    """An integer (JSON `true` is not `1`, though Python's `True == 1`)."""
    if type(value) is not int:
        raise FormatError(f"{what} must be an integer")
    return value


def is_int(value: Any, expected: int) -> bool:
    """Say whether `value` is exactly the integer `expected`, not a boolean."""
    return type(value) is int and value == expected


def matching(pattern: re.Pattern[str], value: Any, what: str) -> str:
    """A string matching `pattern` in full."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise FormatError(f"malformed {what}")
    return value


def date(value: Any, what: str) -> dt.date:
    """A real calendar date written YYYY-MM-DD with ASCII digits."""
    text = string(value, what)
    if not _DATE.fullmatch(text):
        raise FormatError(f"{what} must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise FormatError(f"{what} is not a real date") from exc
