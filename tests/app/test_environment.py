"""Every environment variable the code reads is in one registry, documented, and printed safely.

The gate enumerates: it greps the source tree for variable names and for reads
of `os.environ`, so a variable read anywhere without being registered (the
server's in `app.environment`, the workstation's and the client's as their
command lines' `envvar`s) fails here, as does a registered one that
docs/configuration.md does not describe as the registry does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app import environment
from app.cli import main
from app.config import config_for
from app.instance import InstanceConfig
from app.operations.doctor import Surroundings, settings
from app.operations.setup import initialise
from app.settings import DEFAULTS
from crypto import KdfParams
from review.cli import cli as review_cli
from submit.cli import cli as submit_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"
NAME = re.compile(r"\bRAAZDAR_[A-Z0-9_]+")
# A read of one variable by name, from anything but the registry.
READ = re.compile(r"os\.environ\.get\(|os\.getenv\(|in os\.environ\b|os\.environ\[[^]]*\](?!\s*=)")
TABLE = re.compile(
    r"<!-- generated: environment -->\n(.*?)<!-- end: environment -->", flags=re.DOTALL
)


def sources(*packages: str) -> Iterator[Path]:
    """The code of `packages`: Python, shell, systemd units and config files."""
    for package in packages:
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".sh", ".service", ".timer", ""}:
                yield path


def envvars(group: click.Command) -> set[str]:
    """Every `envvar` a command line declares, in every command under it."""
    found = {p.envvar for p in group.params if isinstance(p.envvar, str)}
    if isinstance(group, click.Group):
        for command in group.commands.values():
            found |= envvars(command)
    return found


def table() -> str:
    """docs/configuration.md's table of the server's variables, as the registry says."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in environment.VARIABLES]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("packages", "registered"),
    [
        (("app", "deploy", "crypto"), set(environment.BY_NAME)),
        (("review",), envvars(review_cli)),
        (("submit",), envvars(submit_cli)),
    ],
    ids=["server", "review", "submit"],
)
def test_every_variable_named_in_the_code_is_registered(
    packages: tuple[str, ...], registered: set[str]
) -> None:
    named = {
        (name, path.relative_to(ROOT).as_posix())
        for path in sources(*packages)
        for name in NAME.findall(path.read_text("utf-8", errors="replace"))
    }
    assert named, "the grep found nothing: the gate would pass vacuously"
    assert {(n, p) for n, p in named if n not in registered} == set()


def test_the_server_reads_the_environment_only_through_the_registry() -> None:
    reads = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources("app", "deploy")
        if path.suffix == ".py" and path != ROOT / "app" / "environment.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if READ.search(line)
    ]
    assert reads == []


@pytest.mark.parametrize(
    ("line", "is_read"),
    [
        ('raw = os.environ.get("RAAZDAR_THREADS", "")', True),
        ('if "FLASK_DEBUG" in os.environ:', True),
        ("value = os.environ[ENV]", True),
        ('os.getenv("HOME")', True),
        ("os.environ[ENV] = token", False),
        ("env = dict(os.environ, RAAZDAR_BIND=bind)", False),
    ],
)
def test_the_read_pattern_tells_reads_from_writes(line: str, is_read: bool) -> None:
    assert bool(READ.search(line)) is is_read


def test_an_unregistered_variable_cannot_be_read() -> None:
    with pytest.raises(KeyError):
        environment.get("RAAZDAR_NOT_A_SETTING", environ={"RAAZDAR_NOT_A_SETTING": "1"})


def test_a_registered_variable_reads_as_the_environment_has_it() -> None:
    environ = {"RAAZDAR_THREADS": "4", "RAAZDAR_BIND": ""}
    assert environment.get("RAAZDAR_THREADS", environ=environ) == "4"
    assert environment.get("RAAZDAR_BIND", "x", environ=environ) == ""
    assert environment.get("RAAZDAR_WORKERS", "9", environ=environ) == "9"


def test_the_docs_list_every_variable_as_the_registry_does() -> None:
    text = DOC.read_text("utf-8")
    found = TABLE.search(text)
    assert found is not None, "docs/configuration.md lost its generated table markers"
    assert found.group(1) == table(), f"replace the table in {DOC.name} with:\n{table()}"
    for name in envvars(review_cli) | envvars(submit_cli):
        assert f"`{name}`" in text, name


def test_the_docs_describe_every_instance_and_admin_setting() -> None:
    text = DOC.read_text("utf-8")
    fields = {"codename_salt", "codename_kdf"} | {
        f.name for f in dataclasses.fields(InstanceConfig) if f.name not in {"salt", "kdf"}
    }
    missing = {key for key in {*fields, *DEFAULTS} if f"`{key}`" not in text}
    assert missing == set()


@pytest.mark.parametrize(
    "doc",
    [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "deploy" / "README.md"],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_no_doc_names_a_variable_nothing_reads(doc: Path) -> None:
    known = set(environment.BY_NAME) | envvars(review_cli) | envvars(submit_cli)
    assert set(NAME.findall(doc.read_text("utf-8"))) - known == set()


def test_doctor_prints_harmless_values_and_hides_secrets_and_paths() -> None:
    environ = {v.name: f"marker-{v.name}" for v in environment.VARIABLES}
    printed = dict(settings(Surroundings(environ=environ)))
    assert list(printed) == [v.name for v in environment.VARIABLES]
    for variable in environment.VARIABLES:
        visible = environ[variable.name] in printed[variable.name]
        assert visible is (variable.shown is environment.Shown.VALUE), variable.name
    for name in ("RAAZDAR_RUN_KEY", "RAAZDAR_DATABASE_URL", "RAAZDAR_INSTANCE"):
        assert environment.BY_NAME[name].shown is environment.Shown.HIDDEN


def test_doctor_says_which_variables_are_unset_and_their_defaults() -> None:
    printed = dict(settings(Surroundings(environ={})))
    assert printed["RAAZDAR_THREADS"] == "unset (default: 16)"


def test_the_doctor_command_never_prints_a_secret_or_a_path(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    initialise(instance, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
    secret = "f" * 64 + ":1700000000"
    environ = {
        "RAAZDAR_RUN_KEY": secret,
        "RAAZDAR_STAFF_BIND": "unix:/srv/ngo-name/staff.sock",
        "GUNICORN_CMD_ARGS": "--name ngo-name-server",
        "RAAZDAR_THREADS": "7",
    }
    result = CliRunner().invoke(main, ["--instance", str(instance), "doctor"], env=environ)
    assert "raazdar: doctor:" in result.output
    assert secret not in result.output
    assert "ngo-name" not in result.output
    assert "RAAZDAR_THREADS       '7'" in result.output
    assert "RAAZDAR_RUN_KEY       set (value not shown)" in result.output


def test_the_docs_describe_every_setting_the_app_is_given(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    initialise(instance, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
    config = config_for(instance)
    names = {name for name in dir(config) if name.isupper()}
    assert {"SECRET_KEY", "KDF_QUEUE", "MAX_FILES"} <= names
    text = DOC.read_text("utf-8")
    assert {name for name in names if f"`{name}`" not in text} == set()
