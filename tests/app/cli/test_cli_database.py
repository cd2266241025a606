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
