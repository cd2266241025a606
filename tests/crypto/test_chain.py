"""Hash chains for append-only logs."""

from __future__ import annotations

import pytest

from crypto import GENESIS, FormatError, chain_link


def _chain(records: list[object]) -> list[bytes]:
    links, link = [], GENESIS
    for record in records:
        link = chain_link(link, record)
        links.append(link)
    return links


RECORDS: list[object] = [{"seq": 1, "a": "x"}, {"seq": 2, "b": "y"}, {"seq": 3, "c": "ز"}]


def test_links_are_deterministic_and_32_bytes() -> None:
    assert _chain(RECORDS) == _chain(RECORDS)
    assert all(len(link) == 32 for link in _chain(RECORDS))


def test_key_order_does_not_matter_but_values_do() -> None:
    assert chain_link(GENESIS, {"a": 1, "b": 2}) == chain_link(GENESIS, {"b": 2, "a": 1})
    assert chain_link(GENESIS, {"a": 1}) != chain_link(GENESIS, {"a": 2})


@pytest.mark.parametrize(
    "changed",
    [
        [RECORDS[1], RECORDS[0], RECORDS[2]],  # reordered
        [RECORDS[0], RECORDS[2]],  # one removed
        [RECORDS[0], {"seq": 2, "b": "z"}, RECORDS[2]],  # one altered
    ],
)
def test_any_change_alters_every_later_link(changed: list[object]) -> None:
    assert _chain(changed)[-1] != _chain(RECORDS)[-1]


def test_the_known_answer_holds() -> None:
    # BLAKE2b-256, personalisation "rz-audit-chain1", over 32 zero bytes || '{"a":1}'.
    expected = "8e13f1982fd3103c2bbfbdc2b451bbb26ad1198313821af80b40e2f843e63259"
    assert chain_link(GENESIS, {"a": 1}).hex() == expected


def test_a_short_previous_link_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        chain_link(b"\x00" * 31, {"a": 1})


def test_floats_are_not_canonical_and_are_refused() -> None:
    with pytest.raises(FormatError):
        chain_link(GENESIS, {"a": 1.5})
