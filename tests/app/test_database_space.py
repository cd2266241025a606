"""The floor kept for the database holds where the database is, not only where the store is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.instance import InstancePaths
from app.models import Source, UsedChallenge
from tests.app.api.test_api import assert_error
from tests.app.api_support import API, ApiClient
from tests.app.support import row_counts

_BLOCKS = 100_000


def database_disk_at(monkeypatch: pytest.MonkeyPatch, store: Path, free: int) -> None:
    """Make the store's filesystem half free, and every other (the database's, as if on a
    disk of its own) `_BLOCKS` blocks of 4 KiB with `free` of them free."""
    real = os.statvfs
    where = store.resolve()

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        on_store = Path(path).resolve().is_relative_to(where)
        fields[0] = fields[1] = 4096
        fields[2] = _BLOCKS
        fields[3] = fields[4] = _BLOCKS // 2 if on_store else free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_signed_requests_write_nothing_into_the_last_hundredth_of_the_databases_own_disk(
    device: ApiClient, app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor watched only the store's filesystem: with the SQLite database on a disk of
    its own, a flood of signed requests (a row each, kept two days) and new accounts filled
    that disk to its last byte, where no login could be written, the store's disk half free.
    The database's directory is watched as the store is."""
    database_disk_at(monkeypatch, InstancePaths(instance).store, _BLOCKS // 100)
    before = row_counts(app, UsedChallenge, Source)
    newcomer = ApiClient(app.test_client(), device.pinned)
    registered = newcomer.register()
    assert registered.status_code == 503, (
        f"a new account was written into the database disk's last hundredth: {registered.status}"
    )
    assert_error(registered, 503, "storage-full")
    assert_error(device.send("GET", f"{API}/replies"), 503, "storage-full")
    assert row_counts(app, UsedChallenge, Source) == before
    database_disk_at(monkeypatch, InstancePaths(instance).store, _BLOCKS // 100 + 1)
    assert newcomer.register().status_code == 201
