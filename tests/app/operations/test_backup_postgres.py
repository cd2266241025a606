"""`raazdar backup` on PostgreSQL: the files and the database's dump, holding no login, no time."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.cli import main
from app.errors import AppError
from app.models import SessionRow
from app.operations import pg_backup
from tests.app.support import Visitor, db_session, login_grants

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def test_the_database_a_postgresql_backup_holds_has_no_login_and_no_time_of_day(
    instance: Path, app: Flask, client: FlaskClient, visitor: Visitor, runner: CliRunner
) -> None:
    """Logout deletes a login's row; a dump that kept it opens for a cookie copied before."""
    visitor.filed(visitor.send(visitor.start(), "a report"))
    assert login_grants(app, client) is not None
    with db_session(app) as session:
        logins = session.execute(select(SessionRow.sealed)).scalars().all()
    assert logins
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    assert "and the database" in result.stderr
    with tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)) as tar:
        member = tar.extractfile(pg_backup.DUMP_NAME)
        assert member is not None
        dump = member.read().decode()
    assert "CREATE TABLE public.sessions" in dump  # the table, for the restored server
    kept = [row for row in logins if row in dump]
    assert not kept, f"the backup's database holds {len(kept)} login row(s)"
    assert re.search(r"^-- Dumped from database version", dump, re.MULTILINE)
    assert not re.search(r"^--.*\d:\d\d:\d\d", dump, re.MULTILINE), "the dump is dated"


def test_a_dump_dated_by_pg_dumps_verbose_mode_is_refused(database_url: str) -> None:
    """pg_dump dates a dump only in its verbose mode (`-- Started on …`): never in a backup."""
    target, env = pg_backup.libpq(database_url)
    verbose = subprocess.run(  # noqa: S603 - pg_dump on the test's database
        [*pg_backup.PG_DUMP, "--verbose", "--dbname", target],
        capture_output=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    assert b"-- Started on" in verbose
    with pytest.raises(AppError, match="time of day"):
        pg_backup.checked(verbose)
