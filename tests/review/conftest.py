"""Fixtures of the review tests: a demo server (SQLite) and a workspace with its reviewer."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import config_for
from app.demo import DEMO_KEYRING_FORMAT, DEMO_PASSPHRASE
from app.operations.setup import initialise
from crypto import KdfParams
from crypto.constants import MANIFEST_FORMAT_INSTANCE
from review import workspace as ws
from review.workspace import head
from tests.app.templates import copy_of_demo
from tests.review.support import Server
from tests.review.templates import copy_of_workspace


@pytest.fixture(autouse=True)
def _kept_digests_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every digest the head's tag keeps between actions is checked against its table's, read
    again: a write no trigger marked fails the test that made it (`head._Kept`)."""
    monkeypatch.setattr(head, "VERIFY", True)


@pytest.fixture(autouse=True)
def _memory_of_its_own(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's commands keep their drafts and notes in a memory-backed directory of the
    test's own (`$XDG_RUNTIME_DIR`, taken before /dev/shm; its commands run as processes
    inherit it): every command sweeps what killed commands left there, and a test on the
    other worker must not sweep away the leftover a test of killed commands looks for."""
    base = Path("/dev/shm")
    if not base.is_dir() or not os.access(base, os.W_OK):
        yield
        return
    own = Path(tempfile.mkdtemp(dir=base))  # "tmp…": no tool's name a test looks for
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(own))
    try:
        yield
    finally:
        shutil.rmtree(own, ignore_errors=True)


def demo_server(instance: Path, keyring_format: int = DEMO_KEYRING_FORMAT) -> Server:
    """A demo instance of its own with fast key derivation, its keyring of `keyring_format`."""
    initialise(
        instance,
        signed=None,
        database_url=f"sqlite:///{instance / 'raazdar.db'}",
        kdf=KdfParams.TESTING,
        demo=True,
        keyring_format=keyring_format,
    )
    return _serve(instance)


def _copied_server(instance: Path, keyring_format: int = DEMO_KEYRING_FORMAT) -> Server:
    """A copy of the demo instance made once per test process (tests/app/templates.py).

    The copies of one process share their keys and instance id; a test that needs a
    second, different instance calls `demo_server`.
    """
    return _serve(copy_of_demo(instance, keyring_format=keyring_format))


def _serve(instance: Path) -> Server:
    app: Flask = create_app(config_for(instance))
    return Server(app, instance)


@pytest.fixture
def server(tmp_path: Path, _close_engines: None) -> Server:
    """A demo instance (keyring format 3: reports sealed v2 to the demo reviewer's weekly
    subkeys); its demo reviewer key opens with "demo"."""
    return _copied_server(tmp_path / "instance")


@pytest.fixture
def server_format_2(tmp_path: Path, _close_engines: None) -> Server:
    """An existing instance from before envelope v2: keyring format 2, reports sealed v1."""
    return _copied_server(tmp_path / "instance", MANIFEST_FORMAT_INSTANCE)


@pytest.fixture
def workspace_format_2(tmp_path: Path, server_format_2: Server) -> Path:
    """A workspace pinned to `server_format_2`, with the demo reviewer enrolled.

    A copy of one made once per test process (tests/review/templates.py).
    """
    return copy_of_workspace(server_format_2, tmp_path / "workspace")


@pytest.fixture
def workspace(tmp_path: Path, server: Server) -> Path:
    """A workspace pinned to the demo server, with the demo reviewer enrolled.

    A copy of one made once per test process (tests/review/templates.py): the copies share
    their workspace key; a test that needs a workspace of its own calls `init_workspace`.
    """
    return copy_of_workspace(server, tmp_path / "workspace")


@pytest.fixture
def unlocked(workspace: Path) -> Iterator[ws.Unlocked]:
    """The workspace, unlocked as the demo reviewer, through the library."""
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    yield u
    u.workspace.close()
