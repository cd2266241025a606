"""`raazdar backup` on PostgreSQL: the files, and the `pg_dump` its hint names, holding no login."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.cli import main
from app.config import config_for
from app.models import SessionRow
from tests.app.support import Visitor, db_session, login_grants

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def test_the_pg_dump_a_postgresql_backup_names_holds_no_login(
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
    hint = next(line for line in result.stderr.splitlines() if "pg_dump" in line)
    named = re.search(r"`(pg_dump[^`]*)`", hint)
    command = shlex.split(named.group(1) if named else "pg_dump")
    url = make_url(config_for(instance).DATABASE_URL).set(drivername="postgresql")
    dump = subprocess.run(  # noqa: S603 - the command the hint names, on the test's database
        [*command, "--dbname", url.render_as_string(hide_password=False)],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    assert "sessions" in dump  # the table, for the restored server
    kept = [row for row in logins if row in dump]
    assert not kept, f"the pg_dump the backup names holds {len(kept)} login row(s): {hint}"
