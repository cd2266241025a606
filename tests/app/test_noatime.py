"""Starting the server and signing an export leave no access time on the keys and the config.

The files' times are set to the epoch first: under `relatime` (most mounts'
default) the next read would then record its time, as it would the first read
after the files were written.
"""

from __future__ import annotations

import os
from pathlib import Path

from app import create_app
from app.config import config_for
from app.db import Database
from app.instance import InstancePaths
from app.operations.exchange import server_signing_key
from app.services.context import services


def test_starting_and_signing_leave_no_access_time_on_keys_and_config(instance: Path) -> None:
    paths = InstancePaths(instance)
    quiet = [paths.config, paths.secret_key, paths.signing_key, paths.pinned]
    quiet += sorted(paths.manifests.glob("*.json"))
    for path in quiet:
        os.utime(path, (0, 0))
    app = create_app(config_for(instance))
    try:
        with app.app_context():
            server_signing_key()
            assert services().keyring().manifest is not None
    finally:
        database: Database = app.extensions["raazdar.db"]
        if database.engine is not None:
            database.engine.dispose()
    assert {p.name: p.stat().st_atime for p in quiet} == {p.name: 0 for p in quiet}
