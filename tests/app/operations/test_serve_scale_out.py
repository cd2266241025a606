"""`raazdar serve` on one of several app hosts sharing a store: the sweep stays with one host."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main
from app.instance import InstancePaths
from app.operations import serve as serve_module
from app.operations import sweep
from tests.app.live import demo_instance


class Started(Exception):
    """gunicorn would start here."""


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return demo_instance(tmp_path / "instance")


@pytest.fixture
def no_gunicorn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def popen(*_args: Any, **_kwargs: Any) -> Any:
        raise Started

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", popen)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def marker(instance: Path) -> Path:
    return InstancePaths(instance).store / sweep.MARKER_NAME


@pytest.mark.usefixtures("no_gunicorn")
def test_serve_sweeps_at_start_by_default(instance: Path) -> None:
    assert not marker(instance).exists()
    said: list[str] = []
    with pytest.raises(Started):
        serve_module.serve(instance, port=1, tor_mode="off", say=said.append)
    assert marker(instance).exists()


@pytest.mark.usefixtures("no_gunicorn")
def test_a_host_told_not_to_sweep_leaves_the_shared_store_alone(instance: Path) -> None:
    said: list[str] = []
    with pytest.raises(Started):
        serve_module.serve(instance, port=1, tor_mode="off", say=said.append, sweep_at_start=False)
    assert not marker(instance).exists()
    assert any("--no-sweep" in line for line in said)


def test_serve_help_names_the_option() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--no-sweep" in result.output
