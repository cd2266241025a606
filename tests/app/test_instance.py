"""The instance directory: a copy of it is a separate instance, never a window on the original."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import config_for
from app.instance import InstancePaths, relative_database_url, resolve_database_url
from app.models import today
from app.operations.doctor import Status, Surroundings, diagnose


def _absolute(instance: Path) -> None:
    """Write config.json as releases before this one did: the SQLite path absolute."""
    paths = InstancePaths(instance)
    obj = json.loads(paths.config.read_text())
    obj["database_url"] = f"sqlite:///{paths.database}"
    paths.config.write_text(json.dumps(obj))


def _copy(instance: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(instance, copy)
    return copy


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_new_instance_names_its_database_relative_to_itself(instance: Path) -> None:
    paths = InstancePaths(instance)
    assert json.loads(paths.config.read_text())["database_url"] == "sqlite:///raazdar.db"
    assert f"sqlite:///{paths.database}" == config_for(instance).DATABASE_URL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_copied_instance_uses_its_own_database(instance: Path, tmp_path: Path) -> None:
    # The attack: a copy (a restore, a test copy) that writes into the original's
    # database. Before, config.json held the original's absolute path.
    copy = _copy(instance, tmp_path)
    assert f"sqlite:///{InstancePaths(copy).database}" == config_for(copy).DATABASE_URL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_doctor_fails_a_copy_that_points_at_the_originals_database(
    instance: Path, tmp_path: Path
) -> None:
    _absolute(instance)
    copy = _copy(instance, tmp_path)
    checks = diagnose(copy, today(), Surroundings(environ={}, tor_binary=None))
    (check,) = [c for c in checks if c.name == "database"]
    assert check.status is Status.FAIL
    assert "lies outside this instance" in check.message


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_old_absolute_config_still_works_warns_and_migrate_makes_it_relative(
    instance: Path,
) -> None:
    _absolute(instance)
    paths = InstancePaths(instance)
    assert f"sqlite:///{paths.database}" == config_for(instance).DATABASE_URL
    checks = diagnose(instance, today(), Surroundings(environ={}, tor_binary=None))
    (check,) = [c for c in checks if c.name == "database"]
    assert check.status is Status.WARN
    result = CliRunner().invoke(main, ["--instance", str(instance), "migrate"])
    assert result.exit_code == 0, result.output
    assert "relative to the instance" in result.output
    assert json.loads(paths.config.read_text())["database_url"] == "sqlite:///raazdar.db"
    assert paths.config.stat().st_mode & 0o077 == 0
    checks = diagnose(instance, today(), Surroundings(environ={}, tor_binary=None))
    assert [c.status for c in checks if c.name == "database"] == [Status.OK]


def test_only_sqlite_paths_inside_the_instance_become_relative(tmp_path: Path) -> None:
    root = tmp_path / "instance"
    root.mkdir()
    inside = f"sqlite:///{root / 'raazdar.db'}"
    assert relative_database_url(inside, root) == "sqlite:///raazdar.db"
    assert resolve_database_url("sqlite:///raazdar.db", root) == inside
    for url in (f"sqlite:///{tmp_path / 'other.db'}", "postgresql+psycopg://u:p@h/db", "sqlite://"):
        assert relative_database_url(url, root) == url
        assert resolve_database_url(url, root) == url
