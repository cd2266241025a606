"""Signature contexts: each signed kind has its own, so no signature crosses kinds (§4.4)."""

from __future__ import annotations

from crypto import constants as C
from review.workspace.audit import SIG_CONTEXT_AUDIT

# Every context a signature is made under, found by name, so a new kind is checked unasked.
CONTEXTS = {name: getattr(C, name) for name in dir(C) if name.startswith("SIG_CONTEXT_")} | {
    "review.workspace.audit.SIG_CONTEXT_AUDIT": SIG_CONTEXT_AUDIT
}


def test_every_signed_kind_has_a_context_of_its_own() -> None:
    by_value: dict[bytes, list[str]] = {}
    for name, value in CONTEXTS.items():
        by_value.setdefault(value, []).append(name)
    shared = {value: names for value, names in by_value.items() if len(names) > 1}
    assert not shared, f"kinds signed under one context: {shared}"
    assert len(CONTEXTS) >= 19


def test_no_context_holds_the_separator_so_none_is_another_with_a_message_prefix() -> None:
    for name, value in CONTEXTS.items():
        assert isinstance(value, bytes), name
        assert value, name
        assert b"\x00" not in value, name
        assert value.startswith(b"raazdar "), name
