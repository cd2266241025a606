"""Fixtures of the server tests: a demo instance on SQLite or PostgreSQL, the app, its clients.

As in Flask's tutorial: `app` is built by the factory for a fresh instance,
`client` talks to it, `runner` drives the `raazdar` command line.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app import circuits, create_app, kdf_pool, page_pacing
from app.config import config_for
from app.demo import DEMO_KEYRING_FORMAT, make_demo_keyring
from app.models import today
from app.operations.setup import initialise
from crypto import KdfParams, Metadata, SignedManifest
from tests.app.api_support import ApiClient
from tests.app.support import ClosingClient, Visitor, demo_authorities
from tests.app.templates import copy_of_demo, template_database
from tests.postgres import postgres_admin_url, throwaway_database


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    """Where the test's instance lives (created by `instance`)."""
    return tmp_path / "instance"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, instance_dir: Path) -> str:
    """The database of the test's instance: SQLite where `init` puts it, or fresh PostgreSQL.

    On PostgreSQL, for a test of the `instance` fixture, a copy of the template
    instance's database (tests/app/templates.py); otherwise an empty one.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{instance_dir / 'raazdar.db'}"
    elif "instance" in request.fixturenames:
        url = request.getfixturevalue("_postgres_copy")
    else:
        url = request.getfixturevalue("postgres_url")
    # Requested after the database, so that engines close before it is dropped.
    request.getfixturevalue("_close_engines")
    return url


@pytest.fixture
def _postgres_copy(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database copied from today's template instance's, dropped after the test."""
    admin_url = postgres_admin_url()
    template = template_database(admin_url, _keyring_format(request))
    with throwaway_database(admin_url, template=template) as url:
        yield url


@pytest.fixture
def instance(request: pytest.FixtureRequest, instance_dir: Path, database_url: str) -> Path:
    """A demo instance with fast key derivation; its demo keys open with "demo".

    Its keyring is format 3 (sealing to the demo reviewer's weekly subkeys,
    whose list is installed), or the format a `keyring_format(n)` mark names:
    2 for an instance from before envelope v2. A copy of one made once per test
    process and day (tests/app/templates.py): the copies share their keys.
    """
    postgres = None if database_url.startswith("sqlite") else database_url
    return copy_of_demo(instance_dir, keyring_format=_keyring_format(request), postgres=postgres)


def _keyring_format(request: pytest.FixtureRequest) -> int:
    mark = request.node.get_closest_marker("keyring_format")
    return mark.args[0] if mark is not None else DEMO_KEYRING_FORMAT


@pytest.fixture
def offline_manifest(tmp_path: Path) -> SignedManifest:
    """A first keyring signed by its authorities (2 of 3) away from the server.

    Their key files are in `tmp_path / "offline"`, under the demo passphrase.
    """
    return make_demo_keyring(tmp_path / "offline", today(), kdf=KdfParams.TESTING)


@pytest.fixture
def production(tmp_path: Path, offline_manifest: SignedManifest, _close_engines: None) -> Path:
    """A production instance (SQLite): a keyring signed offline, the slow key derivation."""
    root = tmp_path / "production"
    initialise(
        root, signed=offline_manifest, database_url=None, kdf=KdfParams.INTERACTIVE, demo=False
    )
    return root


@pytest.fixture
def make_app(instance: Path) -> Callable[..., Flask]:
    """Build apps for the instance, with config overrides (e.g. two, as two workers)."""

    def make(**overrides: Any) -> Flask:
        app = create_app(config_for(instance, **overrides))
        app.test_client_class = ClosingClient  # responses closed, as a server closes them
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app for the instance, as configured by its mode (CSRF on)."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser for the app."""
    return app.test_client()


@pytest.fixture
def visitor(client: FlaskClient) -> Visitor:
    """A source's browser, in English so that tests can read what pages say."""
    client.get("/lang/en")
    return Visitor(client)


@pytest.fixture
def runner() -> CliRunner:
    """Runs `raazdar` commands in-process (pass `app.cli.main` to `invoke`)."""
    return CliRunner()


@pytest.fixture
def device(client: FlaskClient, instance: Path) -> ApiClient:
    """A source's device with an account (tests/app/api/test_api.py has its own)."""
    pinned = frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))
    device = ApiClient(client, pinned)
    assert device.register().status_code == 201
    return device


@pytest.fixture
def envelope(device: ApiClient) -> bytes:
    """About a megabyte of a file, sealed on the device (what assert_one_envelope expects)."""
    content = secrets.token_bytes(900_000)
    return device.seal(content, Metadata("file", "application/octet-stream", "video.mp4"))


@pytest.fixture
def on_circuit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int | None], None]]:
    """Make the test's requests come on a Tor circuit, as `app.worker` says which.

    The circuits' table is the process's: each test gets an empty one, or a test
    run within the minute after another on the same circuit would be refused.
    """
    monkeypatch.setattr(circuits, "_made", memoryview(bytearray(circuits._made.nbytes)).cast("q"))
    empty = memoryview(bytearray(circuits._requests.nbytes)).cast("q")
    monkeypatch.setattr(circuits, "_requests", empty)
    # And the pace of any request, which each account page takes 16 turns of, and the
    # accounts' pages (`app.page_pacing`).
    empty = memoryview(bytearray(circuits._circuit_requests.nbytes)).cast("q")
    monkeypatch.setattr(circuits, "_circuit_requests", empty)
    monkeypatch.setattr(circuits, "_shared", memoryview(bytearray(8)).cast("q"))
    monkeypatch.setattr(
        page_pacing, "_spent", memoryview(bytearray(page_pacing._spent.nbytes)).cast("q")
    )
    yield kdf_pool.set_circuit
    kdf_pool.set_circuit(None)
