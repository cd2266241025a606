"""A keyring install that fails at any step is recorded whole, or not at all, and exports go on.

The audit log's record of the newest keyring installed is what finds a rollback of the
keyring's files (`app.keyring.load_keyring`). `raazdar keyring install` appends it,
puts the manifest in place, switches to a signing key the manifest lists alone, then
commits: a step of the switch failing rolled the record back while the manifest stayed
in force, and the next install of it was refused as installed already.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.exc import OperationalError

from app import db as app_db
from app import kdf_pool
from app.cli import main
from app.instance import InstancePaths
from app.operations import keyring_admin
from app.operations.rotation import server_keys
from app.services import audit
from tests.app.faults import StepFaults
from tests.app.support import db_session
from tests.app.test_instance_keyring import in_force, listing, successor_file

# Files only: each run starts from a copy of the instance, its SQLite database within.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _remove(instance: Path) -> None:
    """Remove the last step's copy of the instance, whatever its background threads still
    write there: a WAL emptying that gave up under the faults tries again on a thread of its
    own (`app.db._Retry`), and its -wal file appearing mid-removal failed the removal (CI)."""
    for _ in range(50):
        try:
            shutil.rmtree(instance)
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise
        time.sleep(0.1)
    shutil.rmtree(instance)


def _cli(instance: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--instance", str(instance), *args])
    return result.exit_code, result.output


def test_a_keyring_install_failing_at_any_step_leaves_its_record_and_exports_right(
    instance: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _cli(instance, "rotate", "signing-key")[0] == 0

    new_key = server_keys(InstancePaths(instance))[-1]
    successor = successor_file(
        instance, tmp_path, instance=listing(instance, server_keys=(new_key,))
    )
    version = in_force(instance).version + 1
    before = tmp_path / "before"
    shutil.copytree(instance, before, symlinks=True)

    def action() -> tuple[int, str]:
        _remove(instance)
        shutil.copytree(before, instance, symlinks=True)
        return _cli(instance, "keyring", "install", str(successor))

    def failed(step: int, result: tuple[int, str]) -> None:
        status, output = result
        assert status == 0 or "raazdar: error:" in output, (step, output)
        if in_force(instance).version == version:
            # A new app: the instance is a new copy each run, its database a new file.
            with db_session(make_app()) as session:
                recorded = audit.newest_keyring(session)
            assert recorded == version, (
                f"step {step}: keyring v{version} is in force, and the audit log records "
                f"v{recorded}: {output}"
            )
        else:
            status, output = _cli(instance, "keyring", "install", str(successor))
            assert status == 0, f"step {step}: the next install failed: {output}"
        status, output = _cli(instance, "export", "--out", str(tmp_path / f"{step}.rzb"))
        assert status == 0, f"step {step}: the export failed: {output}"

    walker = StepFaults(
        monkeypatch, errno.EIO, after=(keyring_admin, "install"), outside=(kdf_pool, "prepare")
    )
    assert walker.walk(action, failed) > 3


def test_a_keyring_install_whose_commit_is_lost_is_recorded_by_the_next_install(
    instance: Path,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The manifest in place, then the database gone before the commit (or the command
    killed): in force, and unrecorded, and the same install again was refused as done."""
    successor = successor_file(instance, tmp_path)
    version = in_force(instance).version + 1
    real = app_db.transaction

    @contextlib.contextmanager
    def lost_commit() -> Iterator[Any]:
        with real() as session:
            yield session
            session.rollback()
            raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(app_db, "transaction", lost_commit)
    status, output = _cli(instance, "keyring", "install", str(successor))
    assert status == 1, output
    monkeypatch.setattr(app_db, "transaction", real)
    assert in_force(instance).version == version  # in force, unrecorded

    status, output = _cli(instance, "keyring", "install", str(successor))
    assert status == 0, f"the same install again: {output}"
    with db_session(make_app()) as session:
        assert audit.newest_keyring(session) == version
    status, output = _cli(instance, "export", "--out", str(tmp_path / "after.rzb"))
    assert status == 0, output
