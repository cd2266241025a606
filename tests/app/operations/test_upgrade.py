"""An upgrade whose `raazdar migrate` was forgotten, or failed midway: the server does not start.

deploy/README.md §1.8 checks out the release, then migrates. Started on a
database a revision behind its code (the migrate forgotten, or cut off at an
earlier revision), the server came up, and every report was answered "the
server is busy, wait a minute" for as long as nobody looked at its log: the
sources' reports refused, and nothing told the administrators.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import config_for
from app.migrate import downgrade, head
from app.models import today
from app.operations.doctor import Status, diagnose
from tests.app.support import refusal_to_serve


def test_a_server_is_not_started_on_a_database_behind_its_code(
    instance: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    url = config_for(instance).DATABASE_URL
    downgrade(url, "-1")
    refused = refusal_to_serve(instance, monkeypatch)
    assert head() in str(refused)
    assert "raazdar migrate" in (refused.hint or "")
    startup = next(c for c in diagnose(instance, today()) if c.name == "startup")
    assert startup.status is Status.FAIL, startup
    assert "raazdar migrate" in startup.message

    migrated = runner.invoke(main, ["--instance", str(instance), "migrate"])
    assert migrated.exit_code == 0, migrated.output
    startup = next(c for c in diagnose(instance, today()) if c.name == "startup")
    assert startup.status is not Status.FAIL, startup
    with pytest.raises(pytest.fail.Exception, match="the server started"):
        refusal_to_serve(instance, monkeypatch)
