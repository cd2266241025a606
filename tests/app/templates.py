"""Demo instances made once per test process, kind of database and day, then copied.

Making a demo instance (keys, keyring, onion key, the migrations, the seed) costs about
half a second, and on PostgreSQL a database migrated too; two thousand tests start from
one. A copy of a directory (and, on PostgreSQL, `CREATE DATABASE … TEMPLATE`) gives
each test the same fresh instance for a fraction of that. The copies of one process
share their keys, salt and secret key; a test that needs an instance of its own (two
instances compared, a production keyring) calls `initialise` itself. A template is
made again when the day changes, so a copy is never dated the day before.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import secrets
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.demo import DEMO_KEYRING_FORMAT
from app.instance import InstancePaths, load_config, relative_database_url, write_private
from app.models import today
from app.operations.setup import initialise
from crypto import KdfParams
from tests.postgres import creating_databases

# (keyring format, day, database kind) -> the template instance's directory and, on
# PostgreSQL, its database's name.
_TEMPLATES: dict[tuple[int, str, str], tuple[Path, str | None]] = {}
_PLACE: list[Path] = []
# The templates' databases, dropped when the process ends: (admin URL, name).
_DATABASES: list[tuple[str, str]] = []


def template_database(admin_url: str, keyring_format: int = DEMO_KEYRING_FORMAT) -> str:
    """The name of today's template database for `keyring_format`, for CREATE … TEMPLATE."""
    _, database = _template(keyring_format, admin_url)
    assert database is not None
    return database


def copy_of_demo(
    root: Path, *, keyring_format: int = DEMO_KEYRING_FORMAT, postgres: str | None = None
) -> Path:
    """Put a fresh demo instance with fast key derivation in the new or empty `root`.

    On PostgreSQL, `postgres` names the test's database: one made from
    `template_database` for the same keyring format that same day, which `root`'s
    config is pointed at.
    """
    if postgres is None:
        template, _ = _template(keyring_format, None)
    else:
        key = (keyring_format, today().isoformat(), "postgresql")
        if key not in _TEMPLATES:
            raise LookupError("no template database today for this format: use template_database")
        template, _ = _TEMPLATES[key]
    shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True)
    if postgres is not None:
        paths = InstancePaths(root)
        config = dataclasses.replace(
            load_config(paths), database_url=relative_database_url(postgres, root)
        )
        paths.config.unlink()
        write_private(paths.config, json.dumps(config.to_json(), indent=2).encode() + b"\n")
    return root


def _template(keyring_format: int, admin_url: str | None) -> tuple[Path, str | None]:
    key = (keyring_format, today().isoformat(), "sqlite" if admin_url is None else "postgresql")
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _make_template(keyring_format, admin_url)
    return _TEMPLATES[key]


def _make_template(keyring_format: int, admin_url: str | None) -> tuple[Path, str | None]:
    """Make one template instance (and its database), where no test writes."""
    if not _PLACE:
        _PLACE.append(Path(tempfile.mkdtemp(prefix="rz-templates-")))
        atexit.register(_clean_up)
    root = _PLACE[0] / secrets.token_hex(8)
    database = url = None
    if admin_url is not None:
        database = f"raazdar_template_{secrets.token_hex(8)}"
        with creating_databases(admin_url):
            _run(admin_url, f'CREATE DATABASE "{database}"')
        _DATABASES.append((admin_url, database))
        url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    initialise(
        root,
        signed=None,
        database_url=url,
        kdf=KdfParams.TESTING,
        demo=True,
        keyring_format=keyring_format,
    )
    return root, database


def _run(admin_url: str, statement: str) -> None:
    """Run one statement that cannot be in a transaction (CREATE or DROP DATABASE)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def _clean_up() -> None:
    for admin_url, name in _DATABASES:
        # The server may be gone by the time the process ends: then there is nothing to drop.
        with contextlib.suppress(Exception):
            _run(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for place in _PLACE:
        shutil.rmtree(place, ignore_errors=True)
