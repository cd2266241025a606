"""`raazdar` meets a database that does not answer: a message and a hint, never a traceback.

An administrator's terminal (and the journal, for the timers' runs) got fifty
lines of SQLAlchemy's and psycopg's frames when PostgreSQL was down or its
address mistyped, from `init` as from the daily purge.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.instance import InstancePaths
from tests.app.live import demo_instance

# Nothing listens on port 1 of loopback: connection refused, at once.
NOWHERE = "postgresql+psycopg://raazdar@127.0.0.1:1/raazdar"


def test_init_against_a_database_that_does_not_answer_says_so(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    result = CliRunner().invoke(
        main, ["--instance", str(instance), "init", "--demo", "--database-url", NOWHERE]
    )
    assert isinstance(result.exception, SystemExit), (
        f"a traceback: {type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 1
    assert "raazdar: error: the database" in result.output
    assert "raazdar: hint:" in result.output
    assert not (instance / "config.json").exists(), "a half-made instance was left"


@pytest.mark.parametrize("command", [["purge"], ["sweep"], ["export", "--out", "bundle.rzb"]])
def test_a_command_whose_database_is_down_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    instance = demo_instance(tmp_path / "instance")
    config = InstancePaths(instance).config
    config.write_text(json.dumps({**json.loads(config.read_text()), "database_url": NOWHERE}))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--instance", str(instance), *command])
    assert isinstance(result.exception, SystemExit), (
        f"a traceback: {type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 1
    assert "raazdar: error: the database" in result.output
    assert "Traceback" not in result.output


def test_a_database_password_on_the_command_line_is_refused(tmp_path: Path) -> None:
    """A flag's value stays in the shell's history, in `ps` while it runs, and in the
    journal's line for `sudo -u raazdar …` (sudo logs each command line, persistent on
    Debian 12): the password opens the database (the sources' keys, staff accounts)."""
    instance = tmp_path / "instance"
    secret = "s3cret-Pg-passw0rd"
    url = f"postgresql+psycopg://raazdar:{secret}@127.0.0.1:1/raazdar"
    result = CliRunner().invoke(
        main, ["--instance", str(instance), "init", "--demo", "--database-url", url]
    )
    assert result.exit_code == 1
    assert "raazdar: error: --database-url holds a password" in result.output, (
        f"the password was taken from the command line: {result.output}"
    )
    assert ".pgpass" in result.output
    assert secret not in result.output
    assert not instance.exists()


def test_migrate_is_refused_while_a_server_runs_on_the_instance(tmp_path: Path) -> None:
    """Workers loaded from the old release would write to the new schema mid-migration
    (deploy/README.md §1.8 stops the service first; a tired administrator may not)."""
    from app.config import config_for
    from app.migrate import downgrade
    from tests.app.live import live_server

    instance = demo_instance(tmp_path / "instance")
    url = config_for(instance).DATABASE_URL
    downgrade(url, "-1")
    with live_server(instance, workers=1):
        result = CliRunner().invoke(main, ["--instance", str(instance), "migrate"])
        assert result.exit_code == 1, f"migrated under a live server: {result.output}"
        assert result.stderr.splitlines() == [
            "raazdar: error: a server is running on this instance: migrating under it "
            "would change the schema its workers write to",
            "raazdar: hint: stop it first (`systemctl stop raazdar`), then run "
            "`raazdar migrate` again",
        ]
    result = CliRunner().invoke(main, ["--instance", str(instance), "migrate"])
    assert result.exit_code == 0, result.output
    assert "migrated the database from" in result.stdout
