"""Fixtures of the operations tests: an instance's database engine and its envelope store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app import db as app_db
from app.config import config_for
from app.instance import InstancePaths
from app.store import EnvelopeStore


@pytest.fixture
def engine(instance: Path) -> Iterator[Engine]:
    """The instance's database, as the timer's commands open it."""
    engine = app_db.make_engine(config_for(instance).DATABASE_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def store(instance: Path) -> EnvelopeStore:
    """The instance's envelope store, as the timer's commands open it."""
    paths = InstancePaths(instance)
    return EnvelopeStore(paths.store, paths.staging)
