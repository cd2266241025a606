"""A server put back from `raazdar backup`: it serves no one until the restore is finished.

A backup is the server on its day. Put back later, it holds the accounts that
expired and were purged since, and their codenames open them again, until a
purge takes them once more. deploy/README.md §1.7 says to purge before the
service starts; nothing made an operator who skipped it wait.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, update

from app.cli import main
from app.errors import ConfigError
from app.instance import InstancePaths
from app.models import Item, Source, today
from app.operations.doctor import Status, diagnose
from tests.app.support import Visitor, db_session, refusal_to_serve, source_id

# Files only: PostgreSQL is pg_dump's to back up.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_restored_server_lets_no_purged_codename_in_before_its_purge(
    instance: Path,
    app: Flask,
    visitor: Visitor,
    runner: CliRunner,
    make_app: Callable[..., Flask],
) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    assert visitor.send(page, "the SHO took the money").status_code == 303
    # The reviewers acknowledged the report, and the source stayed away past expiry.
    with db_session(app) as session:
        account = source_id(app, codename)
        session.execute(delete(Item).where(Item.source_id == account))
        gone = today() - dt.timedelta(days=3 * 365)
        session.execute(
            update(Source).where(Source.id == account).values(created_day=gone, active_day=gone)
        )
        session.commit()
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    purged = runner.invoke(main, ["--instance", str(instance), "purge"])
    assert purged.exit_code == 0, purged.output
    assert not Visitor(app.test_client()).logs_in(codename)

    # The disk is lost; the instance is put back from the backup.
    shutil.rmtree(instance)
    instance.mkdir(mode=0o700)
    with tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)) as tar:
        tar.extractall(instance, filter="data")
    try:
        restored = make_app()
    except ConfigError as refused:
        said = str(refused)
        hint = refused.hint
    else:
        opened = Visitor(restored.test_client()).logs_in(codename)
        pytest.fail(
            "a server put back from a backup started before its purge"
            + (": the codename of an account purged since logs in again" if opened else "")
        )
    assert "put back from a backup" in said
    assert "raazdar purge" in said
    assert "deploy/README.md §1.7" in (hint or "")
    doctor = {check.name: check for check in diagnose(instance, today())}
    assert doctor["startup"].status is Status.FAIL, doctor["startup"]
    assert doctor["strays"].status is Status.OK, doctor["strays"]

    purged = runner.invoke(main, ["--instance", str(instance), "purge"])
    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output
    assert not InstancePaths(instance).restored.exists()
    assert not Visitor(make_app().test_client()).logs_in(codename)


def test_raazdar_serve_refuses_an_instance_put_back_and_not_purged(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    InstancePaths(instance).restored.write_bytes(b"")
    refused = refusal_to_serve(instance, monkeypatch)
    assert "put back from a backup" in str(refused)
    assert "raazdar purge" in (refused.hint or "")
