"""Fixtures of the client's tests: a demo instance served over real HTTP on loopback, a device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import config_for
from submit import uploads
from tests.app.support import demo_authorities
from tests.app.templates import copy_of_demo
from tests.submit.support import Device, Recorder, loopback_server


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after a dropped connection wait for nothing here: the server is on loopback."""
    monkeypatch.setattr(uploads, "RETRY_WAIT", 0.0)


@pytest.fixture
def instance(tmp_path: Path, _close_engines: None) -> Path:
    """A demo instance (SQLite, fast key derivation); its demo keys open with "demo".

    A copy of one made once per test process (tests/app/templates.py): the copies
    share their keys.
    """
    return copy_of_demo(tmp_path / "instance")


@pytest.fixture
def app(instance: Path) -> Flask:
    """The instance's app, as configured by its mode."""
    return create_app(config_for(instance))


@pytest.fixture
def recorder(app: Flask) -> Recorder:
    """The app behind a recorder of every request it is handed."""
    return Recorder(app)


@pytest.fixture
def server(recorder: Recorder) -> Iterator[str]:
    """The recorded app over real HTTP on a loopback port."""
    with loopback_server(recorder) as url:
        yield url


@pytest.fixture
def authorities(instance: Path) -> list[str]:
    """The demo keyring's authority fingerprints, as an organisation would publish them."""
    return [str(key.verify_key.fingerprint) for key in demo_authorities(instance)]


@pytest.fixture
def device(tmp_path: Path, server: str, authorities: list[str]) -> Device:
    """A source's device that pins the demo authorities and talks to the server directly."""
    return Device(tmp_path / "state", server, authorities)


@pytest.fixture
def codename_file(device: Device, tmp_path: Path) -> Path:
    """A codename made by `new`, in a file for `--codename-file`."""
    return device.new_codename(tmp_path)
