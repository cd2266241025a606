"""A report written for longer than the session lasts is filed, or given back: never lost.

With JavaScript off nothing keeps a session alive while a source writes, and a
report of what an official did may take more than half an hour on a phone.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app import sessions
from app.models import Item, Source
from tests.app.support import (
    ClockAhead,
    Visitor,
    row_counts,
    shown_codename,
    source_id,
)

_WRITTEN = "The SHO of the city station lets the agent's vans through every Thursday."


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> ClockAhead:
    """The sessions' clock, moved on by the test (minutes spent writing)."""
    clock = ClockAhead()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


@pytest.fixture
def app(make_app: Callable[..., Flask], later: ClockAhead) -> Flask:
    """The app, built once its sessions' clock is the test's."""
    return make_app()


def test_a_first_report_written_past_the_idle_deadline_is_filed(
    app: Flask, visitor: Visitor, later: ClockAhead
) -> None:
    page = visitor.start()
    later.ahead = 31 * 60  # writing, with no page loaded: the cookie's idle deadline passes
    response = visitor.send(page, _WRITTEN)
    assert response.status_code == 303, "the report written past the idle deadline was lost"
    assert response.headers["Location"] == "/submitted"
    # ... under the codename the source memorised, and no other is shown after it.
    codename = page.fields["codename"]
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    assert source_id(app, codename)
    assert shown_codename(visitor.get("/account")) is None
