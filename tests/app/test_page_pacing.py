"""One account's pages share one budget however many circuits its cookie comes on, and each
takes its weight of its circuit's pace (app/page_pacing.py)."""

from __future__ import annotations

import pytest

from app import circuits, page_pacing
from app.page_pacing import PAGE_BURST, PAGE_SPACING_NS, PAGE_TURNS, take_page_turn

NOW = 10**15


@pytest.fixture(autouse=True)
def _tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty tables of the process's own, and a clock that stands still unless moved."""
    monkeypatch.setattr(page_pacing, "_spent", memoryview(bytearray(2 * 8 * 4096)).cast("q"))
    empty = memoryview(bytearray(circuits._circuit_requests.nbytes)).cast("q")
    monkeypatch.setattr(circuits, "_circuit_requests", empty)
    monkeypatch.setattr(circuits, "_shared", memoryview(bytearray(8)).cast("q"))
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW)
    monkeypatch.setattr(circuits, "_now", lambda: NOW)


def test_an_accounts_pages_on_forty_circuits_share_one_budget() -> None:
    waits = [take_page_turn("attacker", 1000 + n) for n in range(40)]
    assert waits[:PAGE_BURST] == [0] * PAGE_BURST
    assert all(w >= PAGE_SPACING_NS // 10**9 for w in waits[PAGE_BURST:])
    # Another account is not held back.
    assert take_page_turn("source", 1000) == 0


def test_an_account_gets_one_page_more_each_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(PAGE_BURST):
        assert take_page_turn("source", n) == 0
    assert take_page_turn("source", 99) > 0
    monkeypatch.setattr(page_pacing, "_now", lambda: NOW + PAGE_SPACING_NS)
    assert take_page_turn("source", 99) == 0
    assert take_page_turn("source", 99) > 0


def test_nothing_is_paced_where_tor_names_no_circuit() -> None:
    assert [take_page_turn("source", None) for _ in range(4 * PAGE_BURST)] == [0] * 4 * PAGE_BURST


def test_an_account_page_takes_its_weight_of_its_circuits_pace() -> None:
    # Each page a new account's (many accounts, one circuit); the head's own turn is taken
    # as it comes in, by the worker; its own turns and the shared pool's, no one else taking it.
    pages = (circuits.CIRCUIT_BURST + circuits.SHARED_BURST) // PAGE_TURNS
    built = 0
    while built <= pages and take_page_turn(f"account-{built}", 7) == 0:
        circuits.take_circuit_turn(7)
        built += 1
    assert built == pages, f"one circuit had {built} pages built at once"
    assert circuits.take_circuit_turn(7) > 0, "its cheap requests went on at once"
    assert take_page_turn("another", 8) == 0, "another circuit was held back"


def test_a_page_refused_for_its_account_spends_none_of_its_circuits_turns() -> None:
    for n in range(PAGE_BURST):
        take_page_turn("attacker", 100 + n)
    for _ in range(1000):
        assert take_page_turn("attacker", 7) > 0
    assert take_page_turn("source", 7) == 0
    # The circuit's burst and the pool, less that one page's turns, are left for its cheap
    # requests.
    left = 0
    while circuits.take_circuit_turn(7) == 0:
        left += 1
    assert left == circuits.CIRCUIT_BURST + circuits.SHARED_BURST - (PAGE_TURNS - 1)
