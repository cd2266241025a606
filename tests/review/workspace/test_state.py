"""A report's sealed triage state: the bytes it is sealed as, and back."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from review.workspace.state import State

STATES = [
    State(),
    State(
        status="closed",
        reason="duplicate",
        assignee="amna",
        category="bonded-labour",
        agency="FIA",
        district="قصور",
        severity="high",
        danger=True,
        tags=("kiln", "رشوت"),
        links=(3, 17),
        from_source=("agency", "district"),
    ),
]


@pytest.mark.parametrize("state", STATES)
def test_a_state_is_sealed_as_its_fields_json_and_read_back(state: State) -> None:
    """The bytes every workspace holds: each field by name, sorted, tuples as lists."""
    data = state.encode()
    assert data == json.dumps(asdict(state), ensure_ascii=False, sort_keys=True).encode()
    assert State.decode(data) == state
