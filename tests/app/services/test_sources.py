"""A new account draws its designation again when the one drawn is taken."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Source
from app.services import sources
from tests.app.support import Visitor, db_session


def _report(app: Flask) -> None:
    client = app.test_client()
    client.get("/lang/en")
    visitor = Visitor(client)
    assert visitor.send(visitor.start(), "the SHO").status_code == 303


def test_a_designation_already_taken_is_drawn_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(app)
    with db_session(app) as session:
        (taken,) = session.execute(select(Source.designation)).scalars()
    draws: Iterator[str] = iter([taken, "Fresh Name"])
    monkeypatch.setattr(sources, "new_designation", lambda: next(draws))
    _report(app)
    with db_session(app) as session:
        names = sorted(session.execute(select(Source.designation)).scalars())
    assert names == sorted([taken, "Fresh Name"])
