"""Fixtures of the review tests: a demo server (SQLite) and a workspace with its reviewer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import config_for
from app.demo import DEMO_PASSPHRASE
from app.operations.setup import initialise
from crypto import KdfParams
from review import workspace as ws
from tests.review.support import Server, init_workspace


@pytest.fixture
def server(tmp_path: Path, _close_engines: None) -> Server:
    """A demo instance with fast key derivation; its demo reviewer key opens with "demo"."""
    instance = tmp_path / "instance"
    initialise(
        instance,
        signed=None,
        database_url=f"sqlite:///{instance / 'raazdar.db'}",
        kdf=KdfParams.TESTING,
        demo=True,
    )
    app: Flask = create_app(config_for(instance))
    return Server(app, instance)


@pytest.fixture
def workspace(tmp_path: Path, server: Server) -> Path:
    """A workspace pinned to the demo server, with the demo reviewer enrolled."""
    return init_workspace(server, tmp_path / "workspace")


@pytest.fixture
def unlocked(workspace: Path) -> Iterator[ws.Unlocked]:
    """The workspace, unlocked as the demo reviewer, through the library."""
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    yield u
    u.workspace.close()
